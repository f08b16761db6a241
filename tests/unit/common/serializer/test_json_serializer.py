from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.common.serializer import JSONSerializer
from pysoa.common.serializer.errors import (
    InvalidField,
    InvalidInput,
    InvalidMessage,
)


def test_output_is_standard_json_with_default_separators_and_ascii_escapes() -> None:
    blob = JSONSerializer().dict_to_blob({'a': [1, 2.5, None, True], 'b': 'caf\u00e9'})
    assert blob == b'{"a": [1, 2.5, null, true], "b": "caf\\u00e9"}'


def test_tuples_come_back_as_lists() -> None:
    serializer = JSONSerializer()
    assert serializer.blob_to_dict(serializer.dict_to_blob({'t': (1, 2)})) == {'t': [1, 2]}


def test_str_blob_is_accepted() -> None:
    assert JSONSerializer().blob_to_dict('{"a": 1}') == {'a': 1}


def test_non_dict_input_is_invalid_input_and_a_value_error() -> None:
    with pytest.raises(InvalidInput, match='Input must be a dict') as info:
        JSONSerializer().dict_to_blob([1])  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_unsupported_value_is_invalid_field_naming_the_type_error() -> None:
    with pytest.raises(InvalidField, match=r"Can't serialize message due to TypeError: .*set"):
        JSONSerializer().dict_to_blob({'v': {1}})


def test_circular_reference_is_invalid_field() -> None:
    message: Dict[str, Any] = {}
    message['self'] = message
    with pytest.raises(InvalidField, match="Can't serialize message due to ValueError"):
        JSONSerializer().dict_to_blob(message)


@pytest.mark.parametrize('blob', [b'', b'{"a": ', b'not json', b'\xff\xfe', b'{"a": 1} trailing'])
def test_malformed_blob_is_invalid_message(blob: bytes) -> None:
    with pytest.raises(InvalidMessage, match="Can't deserialize message due to"):
        JSONSerializer().blob_to_dict(blob)


@pytest.mark.parametrize('blob', [b'[1, 2]', b'"text"', b'3', b'null'])
def test_blob_that_is_not_an_object_is_invalid_message(blob: bytes) -> None:
    with pytest.raises(InvalidMessage, match='expected a JSON object'):
        JSONSerializer().blob_to_dict(blob)
