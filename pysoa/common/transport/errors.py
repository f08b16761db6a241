"""
The exceptions transports raise.

:class:`TransientPySOATransportError` and its subclasses describe conditions that may clear up by themselves (a
timeout, a lost connection), so callers may retry; the other :class:`PySOATransportError` subclasses describe a
message that can never be delivered as it is.
"""

from typing import (
    Any,
    Tuple,
)

from pysoa.common.errors import PySOAError


__all__ = (
    'ConnectionError',
    'InvalidMessageError',
    'MessageReceiveError',
    'MessageReceiveTimeout',
    'MessageSendError',
    'MessageSendTimeout',
    'MessageTooLarge',
    'PySOATransportError',
    'TransientPySOATransportError',
)


class PySOATransportError(PySOAError):
    """The base class of every transport error."""


class MessageTooLarge(PySOATransportError):
    """
    Raised when a message is larger than the transport allows. Shrink the message, or raise the transport's
    ``maximum_message_size_in_bytes`` setting on both sides.

    :param message_size_in_bytes: The size of the message that was refused, available as an attribute.
    """

    def __init__(self, message_size_in_bytes: int, *args: Any) -> None:
        super().__init__(*args)
        self.message_size_in_bytes = message_size_in_bytes

    def __reduce__(self) -> Tuple[Any, ...]:
        return type(self), (self.message_size_in_bytes, *self.args)


class InvalidMessageError(PySOATransportError):
    """
    Raised when a message cannot be sent or received because of its content or structure (not its serialization):
    a programming error on whichever side raised it, or garbage on the queue.
    """


class TransientPySOATransportError(PySOATransportError):
    """The base class of transport errors that may clear up by themselves; the operation can be retried."""


class MessageReceiveTimeout(TransientPySOATransportError):
    """Raised when no message arrived within the receive timeout, or the message that arrived had expired."""


class MessageSendTimeout(TransientPySOATransportError):
    """Raised when sending a message took longer than the transport allows."""


class MessageReceiveError(TransientPySOATransportError):
    """Raised when the transport failed while receiving a message; what that means depends on the transport."""


class MessageSendError(TransientPySOATransportError):
    """Raised when the transport failed while sending a message (a full queue, a backend error, ...)."""


# Shadows the builtin ConnectionError inside this module on purpose: the name is part of the public API.
class ConnectionError(TransientPySOATransportError):
    """Raised when the transport cannot get the connection it needs to send or receive a message."""
