"""Serializers turn message dicts into bytes and back; transports pick one by MIME type."""

from pysoa.common.serializer.base import Serializer
from pysoa.common.serializer.json_serializer import JSONSerializer
from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer


__all__ = (
    'JSONSerializer',
    'MsgpackSerializer',
    'Serializer',
)
