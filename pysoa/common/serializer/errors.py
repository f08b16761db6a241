"""The exceptions serializers raise."""

from pysoa.common.errors import PySOAError


__all__ = (
    'InvalidField',
    'InvalidInput',
    'InvalidMessage',
    'SerializationError',
    'cannot_deserialize',
    'cannot_serialize',
)


class SerializationError(PySOAError):
    """The base class of serialization and deserialization errors."""


class InvalidField(SerializationError):
    """Raised when a message cannot be serialized because a value in it has a type or value the format cannot hold."""


class InvalidInput(InvalidField, ValueError):
    """
    Raised when the message handed to a serializer is not a ``dict``. It is also a ``ValueError``, which is what
    PySOA 1.x raised in this case.
    """


class InvalidMessage(SerializationError):
    """Raised when bytes cannot be deserialized into a message: they are truncated, corrupt, or not a dict."""


def cannot_serialize(cause: Exception, detail: str = '') -> InvalidField:
    """Build the :class:`InvalidField` that reports ``cause``; raise it ``from cause``."""
    return InvalidField(f"Can't serialize message due to {type(cause).__name__}: {detail or cause}", *cause.args)


def cannot_deserialize(cause: Exception) -> InvalidMessage:
    """Build the :class:`InvalidMessage` that reports ``cause``; raise it ``from cause``."""
    return InvalidMessage(f"Can't deserialize message due to {type(cause).__name__}: {cause}", *cause.args)
