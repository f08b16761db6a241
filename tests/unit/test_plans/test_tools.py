"""Paths into nested data, ``[[...]]`` substitution and the grammar renderer (``pysoa.test.plan.grammar.tools``)."""

from typing import Any

import pytest

from pysoa.test.plan.errors import StatusError
from pysoa.test.plan.grammar.data_types import get_typed_value
from pysoa.test.plan.grammar.directive import get_all_directives
from pysoa.test.plan.grammar.tools import (
    UNSPECIFIED,
    get_all_paths,
    normalize_path,
    path_get,
    path_put,
    recursive_parse_expr_repr,
    split_path,
    substitute_variables,
)


@pytest.mark.parametrize(
    ('path', 'segments'),
    [
        ('a', ['a']),
        ('a.b.0.c', ['a', 'b', 0, 'c']),
        ('a.{b.c}', ['a', 'b.c']),
        ('a.{0}', ['a', '0']),
        ('{a.{b}.c}.d', ['a.{b}.c', 'd']),
        ('with-dash_1', ['with-dash_1']),
        ('a{b}c', ['a{b}c']),
    ],
)
def test_split_path(path: str, segments: list) -> None:  # type: ignore[type-arg]
    assert split_path(path) == segments


@pytest.mark.parametrize('path', ['a.{b', 'a.b}', '{a}}.b'])
def test_split_path_rejects_unbalanced_braces(path: str) -> None:
    with pytest.raises(ValueError, match='Unbalanced braces'):
        split_path(path)


@pytest.mark.parametrize(
    ('path', 'expected'),
    [
        ('a.b.0.c', {'a': {'b': [{'c': 'v'}]}}),
        ('a.{b.c}', {'a': {'b.c': 'v'}}),
        ('a.{0}', {'a': {'0': 'v'}}),
        ('list.2', {'list': [{}, {}, 'v']}),  # lists grow, padded with empty containers
        ('matrix.1.0', {'matrix': [[], ['v']]}),
    ],
)
def test_path_put(path: str, expected: Any) -> None:
    target: dict = {}  # type: ignore[type-arg]
    path_put(target, path, 'v')
    assert target == expected


def test_path_put_builds_up_and_overrides() -> None:
    target: dict = {}  # type: ignore[type-arg]
    path_put(target, 'a.b', 1)
    path_put(target, 'a.c', 2)
    path_put(target, 'list.0.x', 1)
    path_put(target, 'list.1.x', 2)
    path_put(target, 'list.0.y', 3)
    path_put(target, 'a.b', 4)
    assert target == {'a': {'b': 4, 'c': 2}, 'list': [{'x': 1, 'y': 3}, {'x': 2}]}


def test_path_put_pads_expectations_with_unspecified() -> None:
    target: dict = {}  # type: ignore[type-arg]
    path_put(target, 'list.2', 'v', pad_with_unspecified=True)
    assert target == {'list': [UNSPECIFIED, UNSPECIFIED, 'v']}
    assert target['list'][0] is UNSPECIFIED
    assert UNSPECIFIED == 'anything' and UNSPECIFIED == {}
    path_put(target, 'list.0.x', 1, pad_with_unspecified=True)
    assert target['list'][0] == {'x': 1}


def test_path_put_errors() -> None:
    with pytest.raises(ValueError, match='cannot put a value inside'):
        path_put({'a': 'text'}, 'a.b', 1)
    with pytest.raises(ValueError, match='cannot put a value inside'):
        path_put({'a': [1]}, 'a.b', 1)
    with pytest.raises(ValueError, match='`b` is not a list index'):
        path_put([], 'b', 1)


def test_path_get() -> None:
    data = {'a': {'b': [{'c': 1}], 'b.c': 2, '0': 3, 1: 4}, 's': {3, 1, 2}, 't': (5, 6)}
    assert path_get(data, 'a.b.0.c') == 1
    assert path_get(data, 'a.{b.c}') == 2
    assert path_get(data, 'a.{0}') == 3
    assert path_get(data, 'a.1') == 4  # digits are integer keys of dicts
    assert path_get(data, 's.0') == 1  # sets in sorted order
    assert path_get(data, 't.1') == 6
    with pytest.raises(KeyError):
        path_get(data, 'a.missing')
    with pytest.raises(KeyError):
        path_get(data, 'a.0')  # only `{0}` is the string key '0'
    with pytest.raises(IndexError):
        path_get(data, 'a.b.1')
    with pytest.raises(KeyError):
        path_get(data, 'a.b.0.c.d')


def test_get_all_paths() -> None:
    data = {'a': {'b': [{'c': 1}, 2], 'b.c': 2, '0': 3, 'e': {}, 'l': []}, 'x': None}
    assert get_all_paths(data) == ['a.b.0.c', 'a.b.1', 'a.{b.c}', 'a.{0}', 'a.e', 'a.l', 'x']
    assert get_all_paths(5) == []
    assert get_all_paths(5, allow_blank=True) == ['']
    assert get_all_paths({'list': [UNSPECIFIED, 1]}) == ['list.1']
    for path in get_all_paths(data):
        assert path_get(data, path) is not None or path == 'x'


def test_normalize_path() -> None:
    assert normalize_path('a.{b}.0.{c.d}.{1}') == 'a.b.0.{c.d}.{1}'


def _sources() -> Any:
    responses = {'get_user': {0: {'id': 5, 'name': 'Ada', 'tags': ['x', 'y']}, 1: {'id': 6}}}
    constants = {'COLOR': 'blue', 'limits': {'max': 10}, 'USER': {'name': 'Grace'}, 'Mixed': 'm'}
    return responses, constants


@pytest.mark.parametrize(
    ('value', 'expected'),
    [
        ('[[get_user.0.id]]', 5),
        ('[[GET_USER.0.id]]', 5),
        ('[[get_user.1.id]]', 6),
        ('[[GET_USER.tags.1]]', 'y'),
        ('[[get_user.id]]', 5),
        ('[[GET_USER.tags]]', ['x', 'y']),
        ('Hello, [[GET_USER.name]] ([[get_user.1.id]])!', 'Hello, Ada (6)!'),
        ('[[COLOR]]', 'blue'),
        ('[[limits.max]]', 10),
        ('[[USER.name]]', 'Grace'),
        ('[[Mixed]]', 'm'),
        ('no tokens [here]', 'no tokens [here]'),
    ],
)
def test_substitute_variables(value: str, expected: Any) -> None:
    assert substitute_variables(get_typed_value('str', value), *_sources()) == expected


def test_substitute_variables_converts_to_the_data_type_and_works_in_place() -> None:
    data = {
        'count': get_typed_value('int', '[[GET_USER.id]]'),
        'spliced': get_typed_value('int', '1[[GET_USER.id]]'),
        'flag': get_typed_value('bool', '[[GET_USER.name]]'),
        'list': [get_typed_value('str', 'id [[GET_USER.id]]'), 7],
        'untouched': 3,
    }
    result = substitute_variables(data, *_sources())
    assert result is data
    assert data == {'count': 5, 'spliced': 15, 'flag': False, 'list': ['id 5', 7], 'untouched': 3}


def test_substitute_variables_unknown_name() -> None:
    with pytest.raises(StatusError) as info:
        substitute_variables('x [[NOWHERE.value]]', *_sources())
    assert str(info.value) == (
        'Could not find value for substitution [[NOWHERE.value]]: no earlier response of the test case or model '
        'constant has it (names available: COLOR, Mixed, USER, get_user, limits)'
    )
    with pytest.raises(StatusError, match=r'has it$'):
        substitute_variables('[[x]]', {}, {})


def test_recursive_parse_expr_repr() -> None:
    renderings = {d.name(): recursive_parse_expr_repr(d.get_full_grammar()) for d in get_all_directives()}
    assert renderings['input'] == (
        '<action name>[.<action index>]: [global] [job (control | context)] input [<data type>]: <path>: <value>'
    )
    assert renderings['expect_error_field_message'] == (
        '<action name>[.<action index>]: [global] expect: [not] [exact] [job] error: code=<error code>, '
        'field=<field name>, message=<value>'
    )
    assert renderings['expect_none'].endswith('expect NONE: attribute value: <path> [:]')
    assert renderings['test_skip'] == 'test skip [global]: <value>'
    assert renderings['mock_result_for_test'] == (
        'mock: <mock target (package.module.Name)>: <mock attribute path>: '
        '((exception <exception name> | delete) | <value>)'
    )
