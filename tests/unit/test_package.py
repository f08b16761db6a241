"""The package installs as the drop-in: every foundation module imports from its PySOA 1.x path."""

import importlib
from typing import List

import pytest

import pysoa
from pysoa import version


FOUNDATION_MODULES = {
    'pysoa': ['__version__', '__version_info__'],
    'pysoa.version': ['__version__', '__version_info__'],
    'pysoa.utils': ['dict_to_hashable', 'get_python_interpreter_arguments'],
    'pysoa.common.compatibility': ['ContextVar', 'set_running_loop'],
    'pysoa.common.constants': ['ERROR_CODE_SERVER_ERROR'],
    'pysoa.common.errors': ['Error', 'PySOAError'],
    'pysoa.common.types': [
        'ActionRequest',
        'ActionResponse',
        'JobRequest',
        'JobResponse',
        'UnicodeKeysDict',
        'Body',
        'Context',
        'Control',
    ],
    'pysoa.common.settings': ['SOASettings'],
    'pysoa.common.logging': ['PySOALogContextFilter', 'RecursivelyCensoredDictWrapper', 'SyslogHandler'],
    'pysoa.common.serializer': ['JSONSerializer', 'MsgpackSerializer'],
    'pysoa.common.serializer.base': ['Serializer'],
    'pysoa.common.serializer.errors': ['SerializationError', 'InvalidMessage', 'InvalidField'],
    'pysoa.common.serializer.json_serializer': ['JSONSerializer'],
    'pysoa.common.serializer.msgpack_serializer': ['MsgpackSerializer'],
    'pysoa.common.transport.base': [
        'Transport',
        'ClientTransport',
        'ServerTransport',
        'ReceivedMessage',
        'get_hex_thread_id',
    ],
    'pysoa.common.transport.errors': [
        'PySOATransportError',
        'MessageTooLarge',
        'InvalidMessageError',
        'TransientPySOATransportError',
        'MessageReceiveTimeout',
        'MessageSendTimeout',
        'MessageReceiveError',
        'MessageSendError',
        'ConnectionError',
    ],
}


@pytest.mark.parametrize(('module_name', 'names'), sorted(FOUNDATION_MODULES.items()))
def test_module_exports_its_public_names(module_name: str, names: List[str]) -> None:
    module = importlib.import_module(module_name)
    for name in names:
        assert hasattr(module, name), f'{module_name} is missing {name}'


def test_version_is_two_point_oh() -> None:
    assert pysoa.__version__ == version.__version__ == '2.0.0'
    assert pysoa.__version_info__ == version.__version_info__ == (2, 0, 0)


def test_version_info_announces_is_caller_error_support_to_servers() -> None:
    # Servers send Error.is_caller_error only to clients whose client_version is at least 0.70.0.
    assert pysoa.__version_info__ >= (0, 70, 0)


def test_package_ships_its_type_marker() -> None:
    from importlib import resources

    assert resources.files('pysoa').joinpath('py.typed').is_file()
