"""
A fresh clone installs into a clean virtualenv with ``pip install .`` and every public module that needs no extra
(Django, the test utilities) imports from the installed copy. This test builds that virtualenv, so it takes a little
while and needs PyPI for the dependencies.
"""

import json
import os
import pathlib
import shutil
import subprocess
import venv

import pytest


REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

MODULES = [
    'pysoa',
    'pysoa.version',
    'pysoa.utils',
    'pysoa.common.compatibility',
    'pysoa.common.constants',
    'pysoa.common.errors',
    'pysoa.common.logging',
    'pysoa.common.serializer',
    'pysoa.common.serializer.base',
    'pysoa.common.serializer.errors',
    'pysoa.common.serializer.json_serializer',
    'pysoa.common.serializer.msgpack_serializer',
    'pysoa.common.settings',
    'pysoa.common.transport.base',
    'pysoa.common.transport.errors',
    'pysoa.common.types',
    'pysoa.common.transport.local',
    'pysoa.common.transport.redis_gateway.client',
    'pysoa.common.transport.redis_gateway.server',
    'pysoa.common.transport.redis_gateway.core',
    'pysoa.common.transport.redis_gateway.backend.standard',
    'pysoa.common.transport.redis_gateway.backend.sentinel',
    'pysoa.client.client',
    'pysoa.client.expander',
    'pysoa.client.middleware',
    'pysoa.client.settings',
    'pysoa.server.server',
    'pysoa.server.standalone',
    'pysoa.server.autoreload',
    'pysoa.server.action',
    'pysoa.server.action.status',
    'pysoa.server.action.switched',
    'pysoa.server.action.introspection',
    'pysoa.server.middleware',
    'pysoa.server.coroutine',
    'pysoa.server.settings',
    'pysoa.server.schemas',
    'pysoa.server.types',
    'pysoa.cli',
    'pysoa.common.transport.redis_gateway.url_settings',
]

CHECK_SCRIPT = """
import importlib, json, sys
from importlib import resources
for name in sys.argv[1:]:
    importlib.import_module(name)
import pysoa
print(json.dumps({'file': pysoa.__file__, 'version': pysoa.__version__,
                  'typed': resources.files('pysoa').joinpath('py.typed').is_file()}))
"""


@pytest.mark.packaging
def test_clean_virtualenv_installs_a_fresh_clone_and_imports_every_module(tmp_path: pathlib.Path) -> None:
    if not (REPO_ROOT / '.git').exists() or shutil.which('git') is None:
        pytest.skip('needs a git checkout of the project to clone')
    clone = tmp_path / 'clone'
    subprocess.run(['git', 'clone', '--quiet', str(REPO_ROOT), str(clone)], check=True)

    environment = tmp_path / 'venv'
    venv.create(environment, with_pip=True)
    python = environment / 'bin' / 'python'
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    # The dependencies and the build backend at the versions the test command pins, not whatever is newest today.
    env['PIP_CONSTRAINT'] = str(REPO_ROOT / 'requirements' / 'lock.txt')
    install = subprocess.run(
        [str(python), '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '.'],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    check = subprocess.run(
        [str(python), '-c', CHECK_SCRIPT, *MODULES],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    report = json.loads(check.stdout)
    assert 'site-packages' in report['file'], report
    assert report['version'] == '2.0.0'
    assert report['typed'] is True

    command = subprocess.run([str(environment / 'bin' / 'pysoa'), '--version'], env=env, capture_output=True, text=True)
    assert (command.returncode, command.stdout) == (0, 'PySOA 2.0.0\n'), command.stderr
