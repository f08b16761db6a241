"""
Tests of the compiled Conformity checks: targeted ones for each subtlety, and differential ones that run Conformity and
the compiled check side by side on generated values, valid and invalid, for PySOA's job request schema, the example
service's action schemas and a hand-made schema for every field type and option.
"""

import collections
import contextlib
import decimal
import math
from typing import (
    Any,
    Callable,
    Dict,
    Hashable,
    Iterator,
    List,
    Tuple,
)
from unittest import mock

import pytest
from conformity import fields
from conformity.error import Error
from hypothesis import (
    HealthCheck,
    given,
    settings,
)
from hypothesis import (
    strategies as st,
)

from example_service.server import ExampleServer
from pysoa.common import _fast_validation
from pysoa.common._fast_validation import (
    FastSchema,
    compile_check,
)
from pysoa.common.errors import Error as PySOAError
from pysoa.server.schemas import JobRequestSchema
from pysoa.test.stub_service import StubClientTransportSchema


# Hand-made schemas: every field type and option the module compiles, and some it hands to Conformity.


class AscendingPair(fields.AdditionalCollectionValidator[Any]):
    """Requires ``low <= high`` in a dictionary, or the first element <= the second in a tuple."""

    def errors(self, value: Any) -> List[Error]:
        low, high = (value['low'], value['high']) if isinstance(value, dict) else value
        return [Error('low is above high')] if low > high else []


class NoDuplicates(fields.AdditionalCollectionValidator[Any]):
    def errors(self, value: Any) -> List[Error]:
        return [Error('Duplicate elements')] if len(set(value)) != len(value) else []


class EvenSize(fields.AdditionalCollectionValidator[Any]):
    def errors(self, value: Any) -> List[Error]:
        return [Error('Odd number of keys')] if len(value) % 2 else []


class PointSchema(fields.Dictionary):
    """A ``Dictionary`` subclass whose contents, optional keys and extra keys policy are class attributes."""

    contents = {'x': fields.Float(), 'y': fields.Float(), 'label': fields.UnicodeString(allow_blank=False)}
    optional_keys = ('label',)
    allow_extra_keys = True


class ShoutedString(fields.UnicodeString):
    """A subclass that overrides ``errors``, so the module must ask it."""

    def errors(self, value: Any) -> List[Error]:
        return super().errors(value) or ([] if value.isupper() else [Error('Not shouted')])


def unchecked_integer() -> fields.Integer:
    """An ``Integer`` whose instance overrides ``errors`` to accept anything."""
    field = fields.Integer()
    field.errors = lambda value: []  # type: ignore[method-assign]
    return field


HAND_MADE_SCHEMAS: Dict[str, fields.Base] = {
    'dictionary': fields.Dictionary(
        {'a': fields.Integer(), 'b': fields.UnicodeString(), 1: fields.Boolean()},
        optional_keys=('b',),
    ),
    'dictionary_extra_keys': fields.Dictionary({'a': fields.Nullable(fields.Integer())}, allow_extra_keys=True),
    'dictionary_ordered': fields.Dictionary(collections.OrderedDict([('z', fields.Float()), ('y', fields.Anything())])),
    'dictionary_empty': fields.Dictionary({}),
    'dictionary_subclass': PointSchema(),
    'dictionary_extended': PointSchema().extend({'z': fields.Float()}, allow_extra_keys=False),
    'dictionary_additional_validator': fields.Dictionary(
        {'low': fields.Integer(), 'high': fields.Integer()},
        additional_validator=AscendingPair(),
    ),
    'schemaless_dictionary': fields.SchemalessDictionary(),
    'schemaless_dictionary_typed': fields.SchemalessDictionary(
        key_type=fields.UnicodeString(min_length=1),
        value_type=fields.Integer(gte=0),
        min_length=1,
        max_length=2,
    ),
    'schemaless_dictionary_additional_validator': fields.SchemalessDictionary(additional_validator=EvenSize()),
    'list': fields.List(fields.Integer(gt=-2, lt=3), min_length=1, max_length=3),
    'list_additional_validator': fields.List(fields.UnicodeString(), additional_validator=NoDuplicates()),
    'list_nested': fields.List(fields.Nullable(fields.Any(fields.Boolean(), fields.Tuple(fields.Integer())))),
    'sequence': fields.Sequence(fields.UnicodeString(max_length=1)),
    'set': fields.Set(fields.Integer(), max_length=2),
    'tuple': fields.Tuple(fields.Integer(), fields.UnicodeString(allow_blank=False)),
    'tuple_empty': fields.Tuple(),
    'tuple_additional_validator': fields.Tuple(fields.Float(), fields.Float(), additional_validator=AscendingPair()),
    'unicode_string': fields.UnicodeString(),
    'unicode_string_lengths': fields.UnicodeString(min_length=2, max_length=4),
    'unicode_string_not_blank': fields.UnicodeString(allow_blank=False),
    'unicode_string_not_blank_min_length': fields.UnicodeString(min_length=2, allow_blank=False),
    'byte_string': fields.ByteString(),
    'byte_string_not_blank': fields.ByteString(min_length=1, max_length=3, allow_blank=False),
    'integer': fields.Integer(),
    'integer_bounds': fields.Integer(gt=-3, lte=3),
    'integer_float_bounds': fields.Integer(gte=-1.5, lt=2.5),
    'float': fields.Float(),
    'float_bounds': fields.Float(gte=0, lte=5),
    'float_strict_bounds': fields.Float(gt=-1, lt=1),
    'decimal': fields.Decimal(),
    'decimal_bounds': fields.Decimal(gt=decimal.Decimal('-1.5'), lte=2),
    'latitude': fields.Latitude(),
    'boolean': fields.Boolean(),
    'constant': fields.Constant(1, 'a', None),
    'constant_single': fields.Constant('en'),
    'nullable': fields.Nullable(fields.UnicodeString(min_length=1)),
    'nullable_anything': fields.Nullable(fields.Anything()),
    'null': fields.Null(),
    'any': fields.Any(fields.Integer(gt=0), fields.UnicodeString(), fields.Dictionary({'a': fields.Integer()})),
    'any_none': fields.Any(),
    'all': fields.All(fields.Integer(gte=0), fields.Float(lte=5)),
    'anything': fields.Anything(),
    'hashable': fields.Hashable(),
    'object_instance': fields.ObjectInstance((int, bytes)),
    'type_reference': fields.TypeReference(base_classes=int),
    'type_path': fields.TypePath(base_classes=decimal.Decimal),
    'polymorph': fields.Polymorph(
        'kind',
        {
            'int': fields.Dictionary({'kind': fields.UnicodeString(), 'value': fields.Integer()}),
            '__default__': fields.Dictionary({'kind': fields.UnicodeString()}),
        },
    ),
    'deprecated': fields.Deprecated(fields.Integer()),
    'boolean_validator': fields.BooleanValidator(lambda value: value > 0, 'value > 0', 'Not positive'),
    'unicode_decimal': fields.UnicodeDecimal(),
    'subclass_overriding_errors': ShoutedString(),
    'instance_overriding_errors': unchecked_integer(),
}

PYSOA_SCHEMAS: Dict[str, fields.Base] = {
    'job_request': JobRequestSchema,
    'stub_client_transport': StubClientTransportSchema(),
    **{
        f'{name}_{kind}': schema
        for name, action_class in ExampleServer.action_class_map.items()
        for kind in ('request', 'response')
        if (schema := getattr(action_class, f'{kind}_schema', None)) is not None
    },
}

ALL_SCHEMAS = {**PYSOA_SCHEMAS, **HAND_MADE_SCHEMAS}


# Generated values: arbitrary ones, and ones shaped after a schema, most of them valid.

WHITESPACE = ' \t\n\xa0\u2003\x1c'
KEY_NAMES = ['a', 'b', 'x', 'y', 'z', 'label', 'low', 'high', 'kind', 'value', 'action', 'body', 'control', 'context']
# No '.' or ':': a TypePath given such a string could import a module of that name.
texts = st.text(alphabet='aAbZé_ ' + WHITESPACE, max_size=5)
byte_strings = st.binary(max_size=3) | st.lists(st.sampled_from([b' ', b'\t', b'a', b'\xa0']), max_size=3).map(b''.join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-4, 4),
    st.integers(),
    st.floats(),
    st.decimals(),
    texts,
    byte_strings,
    st.sampled_from([int, bool, decimal.Decimal, str]),
)
dictionary_keys = st.one_of(st.sampled_from(KEY_NAMES), texts, st.integers(-1, 2), st.none())
arbitrary_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(dictionary_keys, children, max_size=3),
        st.frozensets(st.integers(-2, 2) | texts, max_size=3),
    ),
    max_leaves=8,
)


def is_hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def rarely(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``common``, except about once in twenty draws. Hypothesis favours small choices, so 0 picks ``common``."""
    return st.integers(0, 19).flatmap(lambda choice: rare if choice == 19 else common)


def values_for(field: fields.Base) -> st.SearchStrategy[Any]:
    """Values shaped after ``field``, and rarely arbitrary ones."""
    return rarely(shaped_values(field), arbitrary_values)


def dictionaries_for(field: fields.Dictionary) -> st.SearchStrategy[Dict[Any, Any]]:
    """Dictionaries with the field's keys, and rarely with extra keys or without their first key."""
    contents = field.contents.items()
    complete = st.fixed_dictionaries(
        {key: values_for(value) for key, value in contents if key not in field.optional_keys},
        optional={key: values_for(value) for key, value in contents if key in field.optional_keys},
    )
    extras = st.dictionaries(dictionary_keys, arbitrary_values, min_size=1, max_size=2)
    first_key = next(iter(field.contents), None)
    mutated = st.one_of(
        st.tuples(complete, extras).map(lambda dictionaries: {**dictionaries[0], **dictionaries[1]}),
        complete.map(lambda dictionary: {key: value for key, value in dictionary.items() if key != first_key}),
    )
    return rarely(complete, mutated)


def collection_size(field: Any) -> Dict[str, Any]:
    """Sizes within the field's bounds and one more: arbitrary values have the empty ones."""
    min_size = field.min_length or 0
    return {'min_size': min_size, 'max_size': (field.max_length or min_size + 2) + 1}


def shaped_values(field: fields.Base) -> st.SearchStrategy[Any]:
    if isinstance(field, fields.Dictionary):
        return dictionaries_for(field)
    if isinstance(field, fields.SchemalessDictionary):
        return st.dictionaries(
            values_for(field.key_type).filter(is_hashable),
            values_for(field.value_type),
            **collection_size(field),
        )
    if isinstance(field, fields.Set):
        return st.frozensets(values_for(field.contents).filter(is_hashable), **collection_size(field))
    if isinstance(field, (fields.List, fields.Sequence)):
        return st.lists(values_for(field.contents), **collection_size(field))
    if isinstance(field, fields.Tuple):
        return st.tuples(*(values_for(element) for element in field.contents))
    if isinstance(field, fields.ByteString):
        return byte_strings
    if isinstance(field, fields.UnicodeString):
        return texts
    # Wrong types come from the arbitrary values, booleans included.
    if isinstance(field, (fields.Float, fields.Decimal)):
        return st.one_of(st.floats(), st.decimals(), st.integers(-6, 6))
    if isinstance(field, fields.Integer):
        return st.integers(-6, 6) | st.integers()
    if isinstance(field, fields.Boolean):
        return st.booleans()
    if isinstance(field, fields.Null):
        return st.none()
    if isinstance(field, fields.Constant):
        return st.sampled_from(sorted(field.values, key=repr)) | st.sampled_from([True, 1.0, 'A'])
    if isinstance(field, fields.Nullable):
        return st.none() | values_for(field.field)
    if isinstance(field, fields.Any):
        return st.one_of([values_for(option) for option in field.options] or [arbitrary_values])
    if isinstance(field, fields.All):
        return st.one_of([values_for(requirement) for requirement in field.requirements])
    if isinstance(field, fields.ObjectInstance):
        return st.builds(PySOAError, code=texts, message=texts) | scalars
    if isinstance(field, fields.Polymorph):
        return st.one_of([values_for(option) for option in field.contents_map.values()])
    if isinstance(field, fields.TypeReference):
        return st.sampled_from([int, bool, str, 1])
    if isinstance(field, fields.UnicodeDecimal):
        return st.sampled_from(['1.5', '-0', 'NaN', 'x', '1e3', ' 2'])
    if isinstance(field, fields.TypePath):
        return st.sampled_from(['decimal.Decimal', 'decimal:Decimal', 'decimal.Context', 'decimal.Nope', 'decimal'])
    return arbitrary_values


# Comparing with Conformity.


def outcome(validate: Callable[[Any], List[Error]], value: Any) -> Tuple[Any, ...]:
    """What validating ``value`` gives: the errors (code, message, pointer), or the exception raised."""
    try:
        return ('errors', [(error.code, error.message, error.pointer) for error in validate(value)])
    except Exception as exception:
        return ('raised', type(exception), str(exception))


def conformity_accepts(field: fields.Base, value: Any) -> bool:
    return outcome(field.errors, value) == ('errors', [])


VALUES = {name: values_for(field) for name, field in ALL_SCHEMAS.items()}
DIFFERENTIAL_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # data_too_large: the Hypothesis of Python 3.9 (attrs < 22 keeps it at 6.91) finds some drawn values too large
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
schema_names = pytest.mark.parametrize('name', sorted(ALL_SCHEMAS))


def schema_and_value(name: str, data: st.DataObject) -> Tuple[fields.Base, Any]:
    """The schema named ``name`` and a value drawn for it."""
    return ALL_SCHEMAS[name], data.draw(VALUES[name])


@schema_names
@DIFFERENTIAL_SETTINGS
@given(data=st.data())
def test_check_passes_only_values_conformity_finds_no_errors_with(name: str, data: st.DataObject) -> None:
    field, value = schema_and_value(name, data)
    if compile_check(field)(value):
        assert outcome(field.errors, value) == ('errors', [])


@schema_names
@DIFFERENTIAL_SETTINGS
@given(data=st.data())
def test_fast_schema_gives_exactly_the_errors_conformity_gives(name: str, data: st.DataObject) -> None:
    field, value = schema_and_value(name, data)
    assert outcome(FastSchema(field).errors, value) == outcome(field.errors, value)


@schema_names
@DIFFERENTIAL_SETTINGS
@given(data=st.data())
def test_check_passes_every_generated_value_conformity_finds_no_errors_with(name: str, data: st.DataObject) -> None:
    # Not a promise of the module (a check may be conservative), but none of these schemas needs to be: a check that
    # wrongly rejected valid values would make every validation take the slow path unnoticed.
    field, value = schema_and_value(name, data)
    assert compile_check(field)(value) == conformity_accepts(field, value)


# The fast path is taken for what PySOA validates.

TYPICAL_JOB_REQUESTS = {
    'one_action': {
        'control': {'continue_on_error': False, 'suppress_response': False},
        'context': {'switches': [1, 5], 'correlation_id': 'a2c4e6f8a2c4e6f8'},
        'actions': [{'action': 'square', 'body': {'number': 42}}],
    },
    'minimal': {
        'control': {'continue_on_error': True},
        'context': {'switches': [], 'correlation_id': ''},
        'actions': [{'action': 'status'}],
    },
    'nested_call_with_extra_headers': {
        'control': {'continue_on_error': False, 'suppress_response': True, 'timeout': 5},
        'context': {
            'switches': [3],
            'correlation_id': 'abc',
            'caller': 'example.sum_of_squares',
            'calling_service': 'example',
            'request_id': 7,
        },
        'actions': [
            {'action': 'square', 'body': {'number': 1}},
            {'action': 'greet', 'body': {'name': 'Ada', 'language': 'fr', 'extra': [None, {'deep': b'x'}]}},
        ],
    },
}

TYPICAL_BODIES = [
    ('square', 'request', {'number': 42}),
    ('square', 'response', {'square': 1764}),
    ('greet', 'request', {'name': 'Ada', 'language': 'fr'}),
    ('greet', 'request', {'name': 'Ada'}),
    ('greet', 'response', {'greeting': 'Bonjour, Ada!'}),
    ('sum_of_squares', 'request', {'numbers': [1, 2, 3]}),
    ('sum_of_squares', 'response', {'sum': 14, 'correlation_id': 'abc'}),
    ('slow_echo', 'request', {'message': 'hello', 'delay_seconds': 0.5}),
    ('slow_echo', 'request', {'message': 'hello', 'delay_seconds': 1}),
]


@contextlib.contextmanager
def conformity_validation_forbidden() -> Iterator[None]:
    """Makes every ``errors`` of the fields PySOA's schemas use raise; compile the checks before entering."""
    with contextlib.ExitStack() as stack:
        for field_class in (
            fields.Dictionary,
            fields.SchemalessDictionary,
            fields.List,
            fields.UnicodeString,
            fields.Integer,
            fields.Boolean,
            fields.Constant,
            fields.Anything,
            fields.Hashable,
        ):
            stack.enter_context(mock.patch.object(field_class, 'errors', side_effect=AssertionError('Conformity ran')))
        yield


@pytest.mark.parametrize('request_name', sorted(TYPICAL_JOB_REQUESTS))
def test_typical_job_requests_pass_the_check_without_running_conformity(request_name: str) -> None:
    check = compile_check(JobRequestSchema)
    with conformity_validation_forbidden():
        assert check(TYPICAL_JOB_REQUESTS[request_name]) is True


@pytest.mark.parametrize(('action', 'kind', 'body'), TYPICAL_BODIES)
def test_typical_example_service_bodies_pass_the_check_without_running_conformity(
    action: str,
    kind: str,
    body: Dict[str, Any],
) -> None:
    check = compile_check(getattr(ExampleServer.action_class_map[action], f'{kind}_schema'))
    with conformity_validation_forbidden():
        assert check(body) is True


def test_fast_schema_returns_an_empty_list_for_a_valid_value_without_running_conformity() -> None:
    schema = FastSchema(JobRequestSchema)
    with conformity_validation_forbidden():
        assert schema.errors(TYPICAL_JOB_REQUESTS['one_action']) == []


def test_fast_schema_returns_conformitys_errors_for_an_invalid_value() -> None:
    invalid = {**TYPICAL_JOB_REQUESTS['one_action'], 'actions': [{'action': 1}]}
    assert FastSchema(JobRequestSchema).errors(invalid) == JobRequestSchema.errors(invalid) != []


def test_dictionary_subclass_with_class_attribute_contents_is_compiled() -> None:
    check = compile_check(PointSchema())
    with conformity_validation_forbidden():
        assert check({'x': 1.5, 'y': 2, 'label': 'A', 'extra': None}) is True


# Caching and compiling.


def test_a_field_is_compiled_once() -> None:
    field = fields.Dictionary({'a': fields.Integer()})
    assert compile_check(field) is compile_check(field)


def test_equal_fields_are_compiled_separately() -> None:
    first, second = fields.Integer(gt=0), fields.Integer(gt=0)
    assert first == second
    assert compile_check(first) is not compile_check(second)


def test_the_cache_starts_over_past_its_limit() -> None:
    with mock.patch.object(_fast_validation, '_CACHE_LIMIT', 1), mock.patch.object(_fast_validation, '_entries', {}):
        compile_check(fields.Integer())
        compile_check(fields.Float())
        assert len(_fast_validation._entries) == 1


def test_anything_compiles_to_a_check_that_accepts_everything() -> None:
    check = compile_check(fields.Nullable(fields.Anything()))
    assert check(object()) is True
    assert check is compile_check(fields.Anything())


def test_a_schema_containing_itself_is_checked() -> None:
    contents: Dict[Hashable, fields.Base] = {'value': fields.Integer()}
    tree = fields.Dictionary(contents, optional_keys=('child',))
    contents['child'] = tree
    check = compile_check(tree)
    assert check({'value': 1, 'child': {'value': 2, 'child': {'value': 3}}}) is True
    assert check({'value': 1, 'child': {'value': 2, 'child': {'value': '3'}}}) is False


def test_a_deeply_nested_schema_is_checked() -> None:
    field: fields.Base = fields.Integer()
    value: Any = 1
    for _ in range(60):
        field, value = fields.List(fields.Dictionary({'a': field})), [{'a': value}]
    assert compile_check(field)(value) is True


# Conformity's subtleties.


def test_booleans_are_not_integers_floats_or_decimals() -> None:
    for field in (fields.Integer(), fields.Float(), fields.Decimal()):
        assert compile_check(field)(True) is False
        assert field.errors(True) != []


def test_floats_accept_integers() -> None:
    assert compile_check(fields.Float(gt=0))(3) is True


def test_nan_passes_every_float_bound() -> None:
    field = fields.Float(gt=0, lt=1)
    assert field.errors(math.nan) == []
    assert compile_check(field)(math.nan) is True


def test_decimal_nan_with_a_bound_makes_conformity_raise_and_the_check_fail() -> None:
    field = fields.Decimal(gt=0)
    assert compile_check(field)(decimal.Decimal('NaN')) is False
    with pytest.raises(decimal.InvalidOperation):
        FastSchema(field).errors(decimal.Decimal('NaN'))


def test_a_constant_accepts_values_equal_to_it() -> None:
    check = compile_check(fields.Constant(1))
    assert check(True) is True
    assert check(1.0) is True


def test_an_unhashable_value_is_not_a_constant() -> None:
    assert compile_check(fields.Constant(1))([1]) is False


def test_whitespace_only_strings_are_blank() -> None:
    check = compile_check(fields.UnicodeString(allow_blank=False))
    assert check(' \t\xa0\u2003') is False
    assert check(' a ') is True


def test_blank_strings_are_accepted_by_default() -> None:
    assert compile_check(fields.UnicodeString())('') is True


def test_only_ascii_whitespace_is_blank_in_byte_strings() -> None:
    check = compile_check(fields.ByteString(allow_blank=False))
    assert check(b' \t') is False
    assert check(b'\xa0') is True


def test_string_lengths_count_whitespace() -> None:
    assert compile_check(fields.UnicodeString(min_length=2))('  ') is True


def test_a_string_is_a_sequence_of_characters() -> None:
    assert compile_check(fields.Sequence(fields.UnicodeString(max_length=1)))('abc') is True


def test_dictionary_keys_match_by_equality() -> None:
    assert compile_check(fields.Dictionary({1: fields.UnicodeString()}))({True: 'x'}) is True


def test_extra_keys_of_mixed_types_make_conformity_raise_and_the_check_fail() -> None:
    field = fields.Dictionary({'a': fields.Integer()})
    value = {'a': 1, 'b': 2, 3: 4}
    assert compile_check(field)(value) is False
    with pytest.raises(TypeError):
        FastSchema(field).errors(value)


def test_a_failing_additional_validator_fails_the_check() -> None:
    assert compile_check(HAND_MADE_SCHEMAS['dictionary_additional_validator'])({'low': 2, 'high': 1}) is False


def test_a_passing_additional_validator_passes_the_check() -> None:
    assert compile_check(HAND_MADE_SCHEMAS['dictionary_additional_validator'])({'low': 1, 'high': 2}) is True


def test_a_deprecated_field_rejects_every_value() -> None:
    field = fields.Deprecated(fields.Integer())
    assert field.errors(1) != []
    assert compile_check(field)(1) is False


def test_any_does_not_pass_a_value_an_earlier_option_raises_for() -> None:
    field = fields.Any(HAND_MADE_SCHEMAS['polymorph'], fields.Anything())
    assert compile_check(field)({}) is False
    with pytest.raises(KeyError):
        FastSchema(field).errors({})


def test_a_subclass_overriding_errors_is_asked() -> None:
    check = compile_check(ShoutedString())
    assert check('QUIET') is True
    assert check('quiet') is False


def test_an_instance_overriding_errors_is_asked() -> None:
    assert compile_check(unchecked_integer())('not an integer') is True


def test_a_sequence_subclass_changing_which_elements_are_validated_is_asked() -> None:
    class FirstElementOnly(fields.List):
        @classmethod
        def _enumerate(cls, values: Any) -> Any:
            return super()._enumerate(values[:1])

    assert compile_check(FirstElementOnly(fields.Integer()))([1, 'two']) is True
