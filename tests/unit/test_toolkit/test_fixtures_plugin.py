"""
The pytest fixtures plugin (:mod:`pysoa.test.plugins.pytest.fixtures`). Each test generates a small project, as a
PySOA user writes one: a ``conftest.py`` with a module-scoped ``server_class`` fixture returning ``ToolkitServer`` (see
this directory's ``conftest.py``), and test modules using the plugin's fixtures, which need no ``pytest_plugins``:
the plugin is loaded through its ``pytest11`` entry point.
"""

import sys
from importlib import metadata
from types import ModuleType

import pytest


SERVER_CLASS_CONFTEST = """
import pytest

from toolkit_service import ToolkitServer


@pytest.fixture(scope='module')
def server_class():
    return ToolkitServer
"""


SERVER_SETTINGS_FIXTURE = """

@pytest.fixture(scope='module')
def server_settings():
    return {}
"""


@pytest.fixture
def project(pytester: pytest.Pytester, toolkit_service: ModuleType) -> pytest.Pytester:
    """A project testing ``ToolkitServer``: the service modules and a conftest with the ``server_class`` fixture."""
    pytester.makeconftest(SERVER_CLASS_CONFTEST)
    return pytester


@pytest.fixture
def configured_project(project: pytest.Pytester) -> pytest.Pytester:
    """The project with a ``server_settings`` fixture too (empty settings) in its conftest."""
    project.makeconftest(SERVER_CLASS_CONFTEST + SERVER_SETTINGS_FIXTURE)
    return project


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    if sys.version_info >= (3, 10):
        entry_points = metadata.entry_points(group='pytest11')
    else:
        entry_points = metadata.entry_points().get('pytest11', [])

    assert {(e.name, e.value) for e in entry_points} >= {
        ('pysoa_test_fixtures', 'pysoa.test.plugins.pytest.fixtures'),
    }


def test_service_client_calls_the_server_class_with_the_server_settings_fixture(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest


        @pytest.fixture(scope='module')
        def server_settings():
            return {'extra_fields_to_redact': {'from_fixture'}}


        def test_square(service_client):
            assert service_client.call_action('square', {'number': 3}).body == {'square': 9}


        def test_settings(service_client):
            assert service_client.call_action('settings').body == {'extra_fields_to_redact': ['from_fixture']}
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(passed=2)


def test_server_settings_come_from_soa_server_settings_of_the_pysoa_settings_module(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'toolkit_settings')
    project.makepyfile(
        """
        def test_settings(server_settings, service_client):
            assert server_settings == {'extra_fields_to_redact': {'from_soa_server_settings'}}
            assert service_client.call_action('settings').body == {
                'extra_fields_to_redact': ['from_soa_server_settings'],
            }
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(passed=1)


def test_server_settings_come_from_the_settings_variable_of_the_pysoa_settings_module(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'plain_settings')
    project.makepyfile(
        plain_settings="settings = {'extra_fields_to_redact': {'from_settings'}}",
        test_settings="""
        def test_settings(service_client):
            assert service_client.call_action('settings').body == {'extra_fields_to_redact': ['from_settings']}
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(passed=1)


def test_server_settings_fail_when_the_settings_module_has_no_settings(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'empty_settings')
    project.makepyfile(
        empty_settings='DEBUG = True',
        test_settings="""
        def test_square(service_client):
            pass
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            'E * AssertionError: Settings module `empty_settings` has neither SOA_SERVER_SETTINGS nor settings',
        ]
    )


def test_server_settings_fail_without_the_pysoa_settings_module(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv('PYSOA_SETTINGS_MODULE', raising=False)
    project.makepyfile(
        """
        def test_square(service_client):
            pass
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            'E * AssertionError: Provide a `server_settings` fixture or set the PYSOA_SETTINGS_MODULE environment '
            'variable',
        ]
    )


def test_server_settings_of_a_django_service_come_from_django(
    project: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In a subprocess: Django's settings are configured once per process.
    monkeypatch.setenv('DJANGO_SETTINGS_MODULE', 'django_settings')
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'toolkit_settings')
    project.makepyfile(
        django_settings="""
        SECRET_KEY = 'not a secret'
        SOA_SERVER_SETTINGS = {'extra_fields_to_redact': {'from_django'}}
        """,
        test_django="""
        import pytest

        from toolkit_service import ToolkitServer


        class DjangoToolkitServer(ToolkitServer):
            use_django = True


        @pytest.fixture(scope='module')
        def server_class():
            return DjangoToolkitServer


        def test_settings(service_client):
            assert service_client.call_action('settings').body == {'extra_fields_to_redact': ['from_django']}
        """,
    )

    result = project.runpytest_subprocess('-p', 'no:cacheprovider')

    result.assert_outcomes(passed=1)


def test_service_client_settings_run_the_server_class_with_the_local_transport(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest

        from toolkit_service import ToolkitServer


        @pytest.fixture(scope='module')
        def server_settings():
            return {'extra_fields_to_redact': {'secret'}}


        def test_settings(service_client_settings):
            assert service_client_settings == {
                'toolkit': {
                    'transport': {
                        'path': 'pysoa.common.transport.local:LocalClientTransport',
                        'kwargs': {
                            'server_class': ToolkitServer,
                            'server_settings': {'extra_fields_to_redact': {'secret'}},
                        },
                    },
                },
            }
        """,
    )

    result = project.runpytest()

    result.assert_outcomes(passed=1)


def test_service_client_class_calls_the_service_under_test_unless_given_a_service_name(
    configured_project: pytest.Pytester,
) -> None:
    configured_project.makepyfile(
        """
        import pytest

        from pysoa.client.client import Client


        def test_default_service(service_client_class, service_client_settings):
            client = service_client_class(service_client_settings)

            assert issubclass(service_client_class, Client)
            assert client.call_action('square', {'number': 2}).body == {'square': 4}


        def test_other_service(service_client_class, service_client_settings):
            client = service_client_class(service_client_settings)

            with pytest.raises(Client.ImproperlyConfigured, match='Unrecognized service name "users"'):
                client.call_action('get_user', {'id': 1}, service_name='users')
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=2)


def test_service_client_is_shared_by_the_tests_of_a_module(configured_project: pytest.Pytester) -> None:
    configured_project.makepyfile(
        test_first_module="""
        CLIENTS = []


        def test_one(service_client):
            CLIENTS.append(service_client)


        def test_two(service_client):
            assert service_client is CLIENTS[0]
        """,
        test_second_module="""
        import test_first_module


        def test_other_module(service_client):
            assert service_client is not test_first_module.CLIENTS[0]
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=3)


def test_service_client_turns_off_the_django_database_cleanup_of_its_server(
    configured_project: pytest.Pytester,
) -> None:
    configured_project.makepyfile(
        """
        def test_cleanup(service_client):
            server = service_client._get_handler('toolkit').transport.server
            assert server._skip_django_database_cleanup is True
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=1)


# action_stubber -------------------------------------------------------------------------------------------------------


def test_action_stubber_stubs_an_action_for_the_test_and_returns_its_mock(configured_project: pytest.Pytester) -> None:
    configured_project.makepyfile(
        """
        def test_greet(service_client, action_stubber):
            get_user = action_stubber('users', 'get_user', body={'name': 'Ann'})

            response = service_client.call_action('greet', {'user_id': 5})

            assert response.body == {'greeting': 'Hello, Ann!'}
            assert get_user.call_body == {'id': 5}
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=1)


def test_action_stubber_passes_side_effect_to_the_mock(configured_project: pytest.Pytester) -> None:
    configured_project.makepyfile(
        """
        def test_greet(service_client, action_stubber):
            action_stubber('users', 'get_user', side_effect=lambda body: {'name': 'User {}'.format(body['id'])})

            assert service_client.call_action('greet', {'user_id': 7}).body == {'greeting': 'Hello, User 7!'}
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=1)


def test_action_stubber_undoes_every_stub_after_the_test(configured_project: pytest.Pytester) -> None:
    configured_project.makepyfile(
        """
        from pysoa.test.assertions import raises_error_codes


        def test_stubbed_twice(service_client, action_stubber):
            action_stubber('users', 'get_user', body={'name': 'Ann'})
            action_stubber('users', 'get_user', body={'name': 'Bob'})

            assert service_client.call_action('greet', {'user_id': 1}).body == {'greeting': 'Hello, Bob!'}


        def test_not_stubbed(service_client):
            with raises_error_codes('SERVER_ERROR'):  # the service has no client routing for `users`
                service_client.call_action('greet', {'user_id': 1})
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=2)


def test_action_stubber_undoes_the_stubs_of_a_failed_test(configured_project: pytest.Pytester) -> None:
    configured_project.makepyfile(
        """
        from pysoa.test.assertions import raises_error_codes


        def test_fails(service_client, action_stubber):
            action_stubber('users', 'get_user', body={'name': 'Ann'})

            assert service_client.call_action('greet', {'user_id': 1}).body == {'greeting': 'Hi, Ann!'}


        def test_not_stubbed(service_client):
            with raises_error_codes('SERVER_ERROR'):
                service_client.call_action('greet', {'user_id': 1})
        """,
    )

    result = configured_project.runpytest()

    result.assert_outcomes(passed=1, failed=1)
