from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.common.serializer import (
    JSONSerializer,
    MsgpackSerializer,
    Serializer,
)


def test_builtin_serializers_are_registered_by_mime_type() -> None:
    assert {'application/json', 'application/msgpack'} <= Serializer.all_supported_mime_types
    assert isinstance(Serializer.all_supported_mime_types, frozenset)


@pytest.mark.parametrize(
    ('mime_type', 'serializer_class'),
    [('application/msgpack', MsgpackSerializer), ('application/json', JSONSerializer)],
)
def test_resolve_serializer_returns_a_new_instance_each_time(mime_type: str, serializer_class: type) -> None:
    first = Serializer.resolve_serializer(mime_type)
    second = Serializer.resolve_serializer(mime_type)
    assert type(first) is serializer_class
    assert first is not second


def test_resolve_unknown_mime_type_is_value_error() -> None:
    with pytest.raises(ValueError, match='Mime type application/yaml is not supported'):
        Serializer.resolve_serializer('application/yaml')


def test_defining_a_subclass_registers_it() -> None:
    class PlainTextSerializer(Serializer):
        mime_type = 'text/x-pysoa-test-registration'

        def dict_to_blob(self, message_dict: Dict[Any, Any]) -> bytes:
            return repr(message_dict).encode()

        def blob_to_dict(self, blob: bytes) -> Dict[Any, Any]:
            return {'text': blob.decode()}

    assert 'text/x-pysoa-test-registration' in Serializer.all_supported_mime_types
    assert type(Serializer.resolve_serializer('text/x-pysoa-test-registration')) is PlainTextSerializer


@pytest.mark.parametrize('mime_type', [None, '', '   '])
def test_subclass_without_mime_type_is_refused(mime_type: Any) -> None:
    with pytest.raises(ValueError, match='must define a non-blank mime_type'):

        class NoMimeType(Serializer):
            locals()['mime_type'] = mime_type


def test_subclass_with_a_registered_mime_type_is_refused_naming_the_owner() -> None:
    with pytest.raises(ValueError, match=r'already registered to serializer .*MsgpackSerializer'):

        class AnotherMsgpack(Serializer):
            mime_type = 'application/msgpack'


def test_subclass_with_two_bases_is_refused() -> None:
    class Mixin:
        pass

    with pytest.raises(ValueError, match='exactly one base class'):

        class Mixed(Serializer, Mixin):
            mime_type = 'text/x-pysoa-test-mixed'


def test_base_class_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        Serializer()  # type: ignore[abstract]
