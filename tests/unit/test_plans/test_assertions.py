"""The comparisons behind test plan expectations (``pysoa.test.plan.grammar.assertions``)."""

from unittest import mock

import pytest

from pysoa.test.plan.grammar.assertions import (
    assert_actual_list_not_subset,
    assert_exact_structure,
    assert_expected_list_subset_of_actual,
    assert_lists_match_any_order,
    assert_not_expected,
    assert_not_present,
    assert_subset_structure,
)
from pysoa.test.plan.grammar.data_types import (
    AnyValue,
    RegexValue,
)
from pysoa.test.plan.grammar.tools import UNSPECIFIED


ACTUAL = {'name': 'Ada', 'count': 3, 'tags': ['a', 'b'], 'nested': {'x': 1, 'y': 2}, 'empty': {}, 'none': None}


@pytest.mark.parametrize(
    'expected',
    [
        {'name': 'Ada'},
        {'tags': ['a']},  # extra list items are fine
        {'tags': [UNSPECIFIED, 'b']},
        {'nested': {'x': 1}},
        {'empty': {}},
        {'none': None},
        {'name': RegexValue('^A'), 'count': AnyValue('int'), 'nested': mock.ANY},
    ],
)
def test_subset_structure_passes(expected: dict) -> None:  # type: ignore[type-arg]
    assert_subset_structure(expected, ACTUAL)


def test_subset_structure_failure_message() -> None:
    with pytest.raises(AssertionError) as info:
        assert_subset_structure(
            {'name': 'Grace', 'count': '3', 'missing': 1, 'tags': ['a', 'b', 'c'], 'nested': {}, 'none': False},
            ACTUAL,
            msg='Context first',
        )
    message = str(info.value)
    assert message.startswith('Context first\nMissing values:\n    missing\n    tags.2\nMismatch values:\n')
    assert "    name: expected 'Grace' (str), actual 'Ada' (str)" in message
    assert "    count: expected '3' (str), actual 3 (int)" in message
    assert '    nested: expected {} (dict), actual {' in message  # an empty dict only matches an empty one
    assert '    none: expected False (bool), actual None (NoneType)' in message
    assert "\nExpected: {'count': '3'," in message
    assert "\nActual: {'count': 3," in message
    assert info.value.failed_paths == ['missing', 'tags.2', 'name', 'count', 'nested', 'none']  # type: ignore


def test_subset_structure_keeps_bools_and_ints_apart() -> None:
    with pytest.raises(AssertionError, match=r'expected 1 \(int\), actual True \(bool\)'):
        assert_subset_structure({'flag': 1}, {'flag': True})


def test_without_subset_lists_lists_are_compared_index_by_index() -> None:
    assert_subset_structure({'tags': ['a']}, ACTUAL, subset_lists=False)  # extra list items are fine
    assert_subset_structure({'tags': ['a']}, ACTUAL)  # the default
    with pytest.raises(AssertionError, match=r"tags\.0: expected 'b' \(str\), actual 'a' \(str\)"):
        assert_subset_structure({'tags': ['b']}, ACTUAL, subset_lists=False)


@pytest.mark.parametrize(
    'expected',
    [
        {'tags': ['b']},
        {'tags': ['b', 'a']},
        {'tags': ['b', 'b']},
        {'items': [{'id': 1, 'tags': ['y']}]},
    ],
)
def test_subset_lists_match_plain_values_anywhere_in_the_actual_list(expected: dict) -> None:  # type: ignore[type-arg]
    actual = dict(ACTUAL, items=[{'id': 1, 'tags': ['x', 'y']}, {'id': 2, 'tags': []}])
    assert_subset_structure(expected, actual, subset_lists=True)


def test_subset_lists_compare_dicts_and_lists_in_a_list_index_by_index() -> None:
    actual = dict(ACTUAL, items=[{'id': 1, 'tags': ['x', 'y']}, {'id': 2, 'tags': []}])
    with pytest.raises(AssertionError, match=r'items\.0\.id: expected 2 \(int\), actual 1 \(int\)'):
        assert_subset_structure({'items': [{'id': 2}]}, actual, subset_lists=True)


def test_subset_lists_fail_on_plain_values_not_found_in_the_actual_list() -> None:
    with pytest.raises(AssertionError) as info:
        assert_subset_structure({'tags': ['a', 'c'], 'count': 3}, ACTUAL, subset_lists=True)
    assert str(info.value).startswith("Not found in the list:\n    tags.1: 'c' (str)\nExpected: ")
    assert info.value.failed_paths == ['tags.1']  # type: ignore[attr-defined]


def test_exact_structure() -> None:
    assert_exact_structure({'a': [1, {'b': 2}]}, {'a': [1, {'b': 2}]})
    with pytest.raises(AssertionError) as info:
        assert_exact_structure({'a': [1], 'b': {'c': 1}}, {'a': [1, 2], 'b': {'c': 1, 'd': 2}, 'e': 3})
    assert 'Extra values:\n    a.1\n    b.d\n    e' in str(info.value)


def test_not_expected() -> None:
    assert_not_expected({'name': 'Grace', 'missing': 1, 'tags': [UNSPECIFIED, 'c']}, ACTUAL)
    with pytest.raises(AssertionError) as info:
        assert_not_expected({'name': 'Ada', 'count': 4, 'nested': {'y': 2}}, ACTUAL)
    assert str(info.value).startswith("Unexpected values:\n    name: 'Ada' (str)\n    nested.y: 2 (int)\nActual: ")
    assert info.value.failed_paths == ['name', 'nested.y']  # type: ignore[attr-defined]


def test_not_expected_list_items_fail_wherever_they_are_in_the_list() -> None:
    actual = dict(ACTUAL, items=[{'id': 1}, {'id': 2}])
    with pytest.raises(AssertionError) as info:
        assert_not_expected({'tags': ['b'], 'items': [UNSPECIFIED, {'id': 1}]}, actual)
    assert str(info.value).startswith(
        "Unexpected values:\n    tags.0: 'b' (str) (found at tags.1)\n    items.1.id: 1 (int) (found at items.0.id)\n"
    )
    assert info.value.failed_paths == ['tags.0', 'items.1.id']  # type: ignore[attr-defined]


def test_not_present() -> None:
    assert_not_present(['missing', 'tags.5', 'nested.z', 'name.x'], ACTUAL)
    assert_not_present({'missing': None}, ACTUAL)
    with pytest.raises(AssertionError) as info:
        assert_not_present(['missing', 'tags.1', 'none'], ACTUAL)
    assert str(info.value).startswith(
        "Values present that should not be:\n    tags.1: 'b' (str)\n    none: None (NoneType)\nActual: "
    )


def test_list_assertions() -> None:
    actual = [{'code': 'A'}, {'code': 'B'}, {'code': 'B'}]
    assert_expected_list_subset_of_actual([{'code': 'B'}, {'code': mock.ANY}], actual)
    with pytest.raises(AssertionError, match=r"Expected but not found:\n    \{'code': 'C'\}\nActual:"):
        assert_expected_list_subset_of_actual([{'code': 'C'}], actual)

    assert_lists_match_any_order([{'code': 'B'}, {'code': 'A'}, {'code': 'B'}], actual)
    with pytest.raises(AssertionError, match=r"Found but not expected:\n    \{'code': 'B'\}"):
        assert_lists_match_any_order([{'code': 'B'}, {'code': 'A'}], actual)
    with pytest.raises(AssertionError, match=r"Expected but not found:\n    \{'code': 'C'\}"):
        assert_lists_match_any_order([{'code': 'C'}, {'code': 'A'}, {'code': 'B'}, {'code': 'B'}], actual)

    assert_actual_list_not_subset([{'code': 'C'}], actual)
    with pytest.raises(AssertionError, match=r"Found but expected not to be:\n    \{'code': 'A'\}"):
        assert_actual_list_not_subset([{'code': 'A'}, {'code': 'C'}], actual, msg=None)
