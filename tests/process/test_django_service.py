"""
A Django-backed service (``use_django = True``, started with ``standalone.django_main``) answering from its SQLite
database. The Django project is written into the test's directory.
"""

import pathlib
import sqlite3
import subprocess
import sys
import textwrap
from typing import (
    Dict,
    List,
    Optional,
    Tuple,
)

import pytest

from pysoa.client.client import Client
from tests.process.helpers import (
    ServiceProcess,
    StartService,
    call,
    make_client,
    process_environment,
    write_files,
)
from tests.support.redis_processes import RedisServer


PROJECT_FILES = {
    'notes_service/__init__.py': "__version__ = '4.5.6'\n",
    'notes_service/__main__.py': textwrap.dedent("""
        from pysoa.server import standalone


        def get_server():
            from notes_service.server import NotesServer

            return NotesServer


        if __name__ == '__main__':
            standalone.django_main(get_server)
    """),
    'notes_service/models.py': textwrap.dedent("""
        from django.db import models


        class Note(models.Model):
            text = models.CharField(max_length=200)
    """),
    'notes_service/server.py': textwrap.dedent("""
        from django.core.cache import caches

        from pysoa.server.action.base import Action
        from pysoa.server.server import Server

        from notes_service.models import Note


        class AddNoteAction(Action):
            def run(self, request):
                return {'id': Note.objects.create(text=request.body['text']).id}


        class ListNotesAction(Action):
            def run(self, request):
                return {'notes': list(Note.objects.order_by('id').values_list('text', flat=True))}


        class CountVisitsAction(Action):
            def run(self, request):
                counts = {}
                for name in ('request', 'process'):
                    counts[name] = caches[name].get('visits', 0) + 1
                    caches[name].set('visits', counts[name])
                return counts


        class NotesServer(Server):
            service_name = 'notes'
            use_django = True
            action_class_map = {
                'add_note': AddNoteAction,
                'list_notes': ListNotesAction,
                'count_visits': CountVisitsAction,
            }
    """),
    'notes_service/settings.py': textwrap.dedent("""
        import os

        SECRET_KEY = 'only-for-tests'
        INSTALLED_APPS = ['notes_service']
        DATABASES = {
            'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': os.environ['NOTES_DATABASE']},
        }
        DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
        USE_TZ = True
        CACHES = {
            'default': {'BACKEND': 'pysoa.server.django.cache.PySOAProcessScopedMemoryCache'},
            'process': {'BACKEND': 'pysoa.server.django.cache.PySOAProcessScopedMemoryCache', 'LOCATION': 'p'},
            'request': {'BACKEND': 'pysoa.server.django.cache.PySOARequestScopedMemoryCache', 'LOCATION': 'r'},
        }
        SOA_SERVER_SETTINGS = {
            'transport': {
                'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
                'kwargs': {
                    'backend_type': 'redis.standard',
                    'backend_layer_kwargs': {'hosts': [('127.0.0.1', int(os.environ['NOTES_REDIS_PORT']))]},
                    'receive_timeout_in_seconds': 1,
                },
            },
        }
    """),
}


@pytest.fixture
def project(tmp_path: pathlib.Path, redis_server: RedisServer) -> Dict[str, str]:
    """Write the project, create its database tables, and return the environment its processes need."""
    write_files(tmp_path / 'project', PROJECT_FILES)
    env = {'NOTES_DATABASE': str(tmp_path / 'notes.sqlite3'), 'NOTES_REDIS_PORT': str(redis_server.port)}
    migrate = subprocess.run(
        [sys.executable, '-m', 'django', 'migrate', '--run-syncdb', '--settings', 'notes_service.settings'],
        env=process_environment(env, [tmp_path / 'project']),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    return env


@pytest.fixture
def start_notes_service(start_service: StartService, project: Dict[str, str], tmp_path: pathlib.Path) -> StartService:
    def start(*arguments: str, env: Optional[Dict[str, str]] = None) -> ServiceProcess:
        return start_service(
            '-m',
            'notes_service',
            *arguments,
            env={**project, **(env or {})},
            python_path=[tmp_path / 'project'],
            cwd=tmp_path,
        )

    return start


@pytest.fixture
def notes_client(redis_server: RedisServer) -> Client:
    return make_client(redis_server.port, 'notes')


def database_rows(project: Dict[str, str]) -> List[Tuple[int, str]]:
    with sqlite3.connect(project['NOTES_DATABASE']) as connection:
        return connection.execute('SELECT id, text FROM notes_service_note ORDER BY id').fetchall()


def test_django_service_answers_from_rows_already_in_its_database(
    start_notes_service: StartService,
    notes_client: Client,
    project: Dict[str, str],
) -> None:
    with sqlite3.connect(project['NOTES_DATABASE']) as connection:
        connection.executemany('INSERT INTO notes_service_note (text) VALUES (?)', [('first',), ('second',)])
    start_notes_service('-s', 'notes_service.settings').wait_until_serving()

    response = call(notes_client, 'notes', 'list_notes')

    assert response.errors == []
    assert response.body == {'notes': ['first', 'second']}


def test_django_service_writes_rows_to_its_database(
    start_notes_service: StartService,
    notes_client: Client,
    project: Dict[str, str],
) -> None:
    start_notes_service('-s', 'notes_service.settings').wait_until_serving()

    first = call(notes_client, 'notes', 'add_note', {'text': 'hello'})
    second = call(notes_client, 'notes', 'add_note', {'text': 'world'})

    assert database_rows(project) == [(first.body['id'], 'hello'), (second.body['id'], 'world')]
    assert call(notes_client, 'notes', 'list_notes').body == {'notes': ['hello', 'world']}


def test_django_settings_module_can_come_from_the_environment(
    start_notes_service: StartService,
    notes_client: Client,
) -> None:
    start_notes_service(env={'DJANGO_SETTINGS_MODULE': 'notes_service.settings'}).wait_until_serving()

    assert call(notes_client, 'notes', 'list_notes').body == {'notes': []}


def test_django_service_without_settings_fails_to_start(start_notes_service: StartService) -> None:
    service = start_notes_service()

    assert service.wait(30) == 2
    assert 'the following arguments are required: -s/--settings' in service.output()


def test_request_scoped_cache_is_cleared_after_each_request_and_process_scoped_cache_is_not(
    start_notes_service: StartService,
    notes_client: Client,
) -> None:
    start_notes_service('-s', 'notes_service.settings').wait_until_serving()

    call(notes_client, 'notes', 'count_visits')
    response = call(notes_client, 'notes', 'count_visits')

    assert response.body == {'request': 1, 'process': 2}


def test_django_service_status_reports_its_package_version(
    start_notes_service: StartService,
    notes_client: Client,
) -> None:
    start_notes_service('-s', 'notes_service.settings').wait_until_serving()

    assert call(notes_client, 'notes', 'status', {'verbose': False}).body['version'] == '4.5.6'
