import ast
import copy
import logging
from typing import (
    Any,
    Dict,
    List,
)

import pytest

from pysoa.common.logging import RecursivelyCensoredDictWrapper


CENSORED = '**********'


def _censored(value: Dict[Any, Any]) -> str:
    return repr(RecursivelyCensoredDictWrapper(value))


def test_sensitive_fields_has_exactly_the_242_specified_names() -> None:
    fields = RecursivelyCensoredDictWrapper.SENSITIVE_FIELDS

    assert isinstance(fields, frozenset)
    assert len(fields) == 242


@pytest.mark.parametrize(
    'name',
    (
        # Names that the specification's text wraps across lines.
        'bank-account-numbers',
        'card-identification-codes',
        'card-identification-values',
        'card-security-values',
        'card-validation-numbers',
        'card-verification-code',
        'card-verification-value',
        # Ordinary names of each spelling.
        'password',
        'cvv2',
        'authToken',
        'credit_card_number',
        'personal-identification-numbers',
        'token',
    ),
)
def test_sensitive_fields_contains_name(name: str) -> None:
    assert name in RecursivelyCensoredDictWrapper.SENSITIVE_FIELDS


def test_sensitive_fields_are_case_sensitive_and_exact() -> None:
    fields = RecursivelyCensoredDictWrapper.SENSITIVE_FIELDS

    assert 'Password' not in fields
    assert 'bank-' not in fields
    assert 'account-' not in fields
    assert 'username' not in fields


def test_non_empty_string_under_sensitive_key_is_censored() -> None:
    assert _censored({'password': 'hunter2', 'username': 'nick'}) == repr({'password': CENSORED, 'username': 'nick'})


def test_non_zero_integers_under_sensitive_key_are_censored() -> None:
    assert _censored({'pin': 1234, 'cvv': -7}) == repr({'pin': CENSORED, 'cvv': CENSORED})


@pytest.mark.parametrize('value', ('', 0, True, False, None, 12.5, 0.0, b'secret bytes'))
def test_values_that_are_never_censored(value: Any) -> None:
    assert _censored({'password': value}) == repr({'password': value})


def test_values_under_non_sensitive_keys_are_untouched() -> None:
    value = {'name': 'Nick', 'count': 3, 'tags': ['a', 'b'], 'nested': {'id': 1}}

    assert _censored(value) == repr(value)


def test_list_elements_under_sensitive_key_are_censored() -> None:
    value = {'card_numbers': ['4111111111111111', '', 0, 5, True, None, 1.5]}

    assert _censored(value) == repr({'card_numbers': [CENSORED, '', 0, CENSORED, True, None, 1.5]})


def test_tuple_under_sensitive_key_stays_a_tuple_with_elements_censored() -> None:
    assert _censored({'cvvs': ('123', 0)}) == repr({'cvvs': (CENSORED, 0)})


def test_set_under_sensitive_key_stays_a_set_with_elements_censored() -> None:
    # Parsed back, because a set's repr order may differ between two sets with the same elements.
    assert ast.literal_eval(_censored({'pins': {'1234', '', 0}})) == {'pins': {CENSORED, '', 0}}


def test_frozenset_under_sensitive_key_stays_a_frozenset_with_elements_censored() -> None:
    assert _censored({'secrets': frozenset({'abc'})}) == repr({'secrets': frozenset({CENSORED})})


def test_nested_containers_under_sensitive_key_are_censored() -> None:
    value = {'passwords': [('a', ['b', 0]), {'c'}]}

    assert _censored(value) == repr({'passwords': [(CENSORED, [CENSORED, 0]), {CENSORED}]})


def test_containers_under_non_sensitive_key_are_not_censored() -> None:
    value = {'names': ['a', 1], 'pairs': (('x', 2),), 'ids': {3}}

    assert _censored(value) == repr(value)


def test_dict_under_sensitive_key_is_not_blanked_but_its_own_keys_decide() -> None:
    value = {'token': {'value': 'abc', 'secret': 'xyz'}}

    assert _censored(value) == repr({'token': {'value': 'abc', 'secret': CENSORED}})


def test_nested_dicts_are_censored_at_every_depth() -> None:
    value = {'request': {'body': {'user': {'password': 'p', 'name': 'n'}}}}

    assert _censored(value) == repr({'request': {'body': {'user': {'password': CENSORED, 'name': 'n'}}}})


def test_dicts_inside_lists_are_censored() -> None:
    value = {'users': [{'password': 'p1'}, {'password': 'p2', 'id': 2}]}

    assert _censored(value) == repr({'users': [{'password': CENSORED}, {'password': CENSORED, 'id': 2}]})


def test_dict_in_list_under_sensitive_key_uses_its_own_keys() -> None:
    value = {'secrets': ['s', {'label': 'l', 'pin': '9'}]}

    assert _censored(value) == repr({'secrets': [CENSORED, {'label': 'l', 'pin': CENSORED}]})


def test_non_string_keys_are_never_sensitive() -> None:
    value = {1: 'one', ('password',): 'tuple key'}

    assert _censored(value) == repr(value)


def test_self_referencing_dict_is_shown_like_repr_does() -> None:
    value: Dict[str, Any] = {'password': 'p'}
    value['self'] = value

    assert _censored(value) == "{'password': '**********', 'self': {...}}"


def test_subclass_can_extend_sensitive_fields() -> None:
    class _Wrapper(RecursivelyCensoredDictWrapper):
        SENSITIVE_FIELDS = RecursivelyCensoredDictWrapper.SENSITIVE_FIELDS | frozenset({'ssn'})

    value = {'ssn': '123-45-6789', 'password': 'p', 'name': 'n'}

    assert repr(_Wrapper(value)) == repr({'ssn': CENSORED, 'password': CENSORED, 'name': 'n'})
    assert _censored(value) == repr({'ssn': '123-45-6789', 'password': CENSORED, 'name': 'n'})


def test_str_equals_repr() -> None:
    wrapper = RecursivelyCensoredDictWrapper({'password': 'p', 'id': 1})

    assert str(wrapper) == repr(wrapper) == repr({'password': CENSORED, 'id': 1})


def test_bytes_is_utf8_of_str() -> None:
    wrapper = RecursivelyCensoredDictWrapper({'name': 'Zoë €', 'secret': 'ß'})

    assert bytes(wrapper) == str(wrapper).encode('utf-8')
    assert bytes(wrapper) == repr({'name': 'Zoë €', 'secret': CENSORED}).encode('utf-8')


def test_wrapped_dict_is_not_modified() -> None:
    value = {'password': 'p', 'cards': {'card_numbers': ['4111', '4222']}, 'pins': ('1', '2')}
    original = copy.deepcopy(value)

    repr(RecursivelyCensoredDictWrapper(value))

    assert value == original


def test_nothing_is_computed_before_repr() -> None:
    value: Dict[str, Any] = {'name': 'before'}
    wrapper = RecursivelyCensoredDictWrapper(value)

    value['name'] = 'after'
    value['password'] = 'added later'

    assert repr(wrapper) == repr({'name': 'after', 'password': CENSORED})


def test_repr_is_computed_once_and_cached() -> None:
    value: Dict[str, Any] = {'name': 'first'}
    wrapper = RecursivelyCensoredDictWrapper(value)

    first = repr(wrapper)
    value['name'] = 'second'

    assert repr(wrapper) is first
    assert str(wrapper) is first


def test_lazy_logging_argument_is_censored_in_formatted_message() -> None:
    messages: List[str] = []

    class _ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger('tests.unit.common.logging.censoring')
    handler = _ListHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning('Request: %s', RecursivelyCensoredDictWrapper({'password': 'p'}))
    finally:
        logger.removeHandler(handler)

    assert messages == ["Request: {'password': '**********'}"]


@pytest.mark.parametrize('value', (None, [], 'a string', (('password', 'p'),)))
def test_non_dict_raises_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match=r'^wrapped_dict must be a dict$'):
        RecursivelyCensoredDictWrapper(value)
