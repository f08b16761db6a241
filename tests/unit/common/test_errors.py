"""The exception taxonomy: every library exception is a PySOAError, transient transport errors are retryable."""

import pickle

import pytest

from pysoa.common.errors import PySOAError
from pysoa.common.serializer.errors import (
    InvalidField,
    InvalidMessage,
    SerializationError,
)
from pysoa.common.transport import errors as transport_errors


@pytest.mark.parametrize(
    ('error_class', 'parent'),
    [
        (SerializationError, PySOAError),
        (InvalidMessage, SerializationError),
        (InvalidField, SerializationError),
        (transport_errors.PySOATransportError, PySOAError),
        (transport_errors.MessageTooLarge, transport_errors.PySOATransportError),
        (transport_errors.InvalidMessageError, transport_errors.PySOATransportError),
        (transport_errors.TransientPySOATransportError, transport_errors.PySOATransportError),
        (transport_errors.MessageReceiveTimeout, transport_errors.TransientPySOATransportError),
        (transport_errors.MessageSendTimeout, transport_errors.TransientPySOATransportError),
        (transport_errors.MessageReceiveError, transport_errors.TransientPySOATransportError),
        (transport_errors.MessageSendError, transport_errors.TransientPySOATransportError),
        (transport_errors.ConnectionError, transport_errors.TransientPySOATransportError),
    ],
)
def test_exception_sits_under_its_parent(error_class: type, parent: type) -> None:
    assert error_class.__bases__ == (parent,)


def test_pysoa_error_is_an_exception() -> None:
    assert PySOAError.__bases__ == (Exception,)


def test_transport_connection_error_is_not_the_builtin() -> None:
    assert not issubclass(transport_errors.ConnectionError, ConnectionError)


def test_message_too_large_carries_the_size() -> None:
    error = transport_errors.MessageTooLarge(300000, 'Message exceeds maximum message size')
    assert error.message_size_in_bytes == 300000
    assert error.args == ('Message exceeds maximum message size',)
    assert str(error) == 'Message exceeds maximum message size'


def test_message_too_large_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(transport_errors.MessageTooLarge(12, 'too big')))
    assert (error.message_size_in_bytes, error.args) == (12, ('too big',))
