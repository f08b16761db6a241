"""The serializer contract and the registry that finds a serializer by MIME type."""

import abc
from typing import (
    Any,
    Dict,
    FrozenSet,
    Tuple,
    Type,
)

from conformity import fields


__all__ = ('Serializer',)


class _SerializerMeta(abc.ABCMeta):
    """Registers every subclass of :class:`Serializer` under its ``mime_type`` as the class is defined."""

    _registry: Dict[str, Type['Serializer']] = {}

    def __new__(mcs, name: str, bases: Tuple[type, ...], namespace: Dict[str, Any], **kwargs: Any) -> '_SerializerMeta':
        cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        if bases:  # everything but the Serializer base class itself
            if len(bases) > 1:
                raise ValueError(f'Serializer {name} must have exactly one base class, not {len(bases)}')
            mime_type = namespace.get('mime_type')
            if not isinstance(mime_type, str) or not mime_type.strip():
                raise ValueError(f'Serializer {name} must define a non-blank mime_type string')
            existing = mcs._registry.get(mime_type)
            if existing is not None:
                raise ValueError(
                    f'Mime type {mime_type} is already registered to serializer '
                    f'{existing.__module__}.{existing.__name__}; serializer {name} cannot register it again',
                )
            mcs._registry[mime_type] = cls  # type: ignore[assignment]
        return cls

    @property
    def all_supported_mime_types(cls) -> FrozenSet[str]:
        """The MIME types of every registered serializer."""
        return frozenset(_SerializerMeta._registry)


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}, description='Serializers take no arguments'))
class Serializer(metaclass=_SerializerMeta):
    """
    The base class of serializers, which turn message dicts into bytes and back.

    Defining a subclass registers it under its ``mime_type`` class attribute, which must be unique; transports put
    the MIME type on the wire (the Redis gateway's ``content-type`` header) so the receiver uses the same format.
    Serializers take no configuration arguments.
    """

    mime_type: str = ''
    """The MIME type of the format this serializer reads and writes."""

    @classmethod
    def resolve_serializer(cls, mime_type: str) -> 'Serializer':
        """
        Return a new instance of the serializer registered for ``mime_type``.

        :raises ValueError: If no serializer is registered for that MIME type.
        """
        serializer_class = _SerializerMeta._registry.get(mime_type)
        if serializer_class is None:
            raise ValueError(f'Mime type {mime_type} is not supported')
        return serializer_class()

    @abc.abstractmethod
    def dict_to_blob(self, message_dict: Dict[Any, Any]) -> bytes:
        """
        Serialize a message.

        :raises pysoa.common.serializer.errors.InvalidField: If the message cannot be serialized (``InvalidInput``,
                                                             a subclass, if it is not a dict).
        """

    @abc.abstractmethod
    def blob_to_dict(self, blob: bytes) -> Dict[Any, Any]:
        """
        Deserialize a message.

        :raises pysoa.common.serializer.errors.InvalidMessage: If the bytes are not a valid serialized dict.
        """
