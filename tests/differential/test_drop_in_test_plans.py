"""
The test-plan toolkit's public API, run under PySOA 1.4.9 (with its ``test_plans`` extra) and under this project:
the results must be the same.
"""

import pytest

from tests.differential.conftest import RunBoth


pytestmark = pytest.mark.interop

IMPORT_QUIETLY = """
import json
import warnings

warnings.simplefilter('ignore')  # 1.4.9 warns about pkg_resources on import
"""


def test_built_in_directives_keep_their_1_4_9_module_paths_names_and_order(run_both: RunBoth) -> None:
    snippet = (
        IMPORT_QUIETLY
        + """
import importlib

from pysoa.test.plan.grammar.directive import get_all_directives

defined, available = {}, {}
for name in ('time', 'expects_values', 'expects_errors', 'plans'):
    module = importlib.import_module('pysoa.test.plan.grammar.directives.' + name)
    classes = {n: value for n, value in vars(module).items() if isinstance(value, type) and n.endswith('Directive')}
    defined[name] = sorted(n for n, value in classes.items() if value.__module__ == module.__name__)
    available[name] = sorted(classes)
print(json.dumps({'defined': defined, 'available': available, 'names': [d.name() for d in get_all_directives()]}))
"""
    )
    original, ours = run_both(snippet)

    assert ours['names'] == original['names']
    for module, class_names in original['defined'].items():
        assert set(class_names) <= set(ours['available'][module]), module


GET_TYPED_VALUE = (
    IMPORT_QUIETLY
    + """
from pysoa.test.plan.grammar.data_types import AnyValue, RegexValue, get_all_data_type_names, get_typed_value


def outcome(type_name, value):
    try:
        result = get_typed_value(type_name, value)
    except Exception as error:
        return 'raises ' + type(error).__name__
    if isinstance(result, (AnyValue, RegexValue)):
        return 'passes through' if result is value else 'a copy'
    return repr(result)
"""
)


def test_get_typed_value_gives_the_empty_value_of_each_type_for_none(run_both: RunBoth) -> None:
    original, ours = run_both(
        GET_TYPED_VALUE
        + """
# 1.4.9 knows no `regex` types here (only in plans): this project returns a RegexValue for them.
print(json.dumps({name: outcome(name, None) for name in get_all_data_type_names() if 'regex' not in name}))
"""
    )

    assert ours == original


@pytest.mark.parametrize(
    'case',
    [
        "('int', b'5')",
        "('str', b'abc')",
        "('bytes', b'abc')",
        "('float', b'1.5')",
        "('null', 'anything')",
        "('date', 5)",
        "('datetime', 5)",
        "('time', 5)",
        "('int', AnyValue('int'))",
        "('str', RegexValue('^a'))",
    ],
)
def test_get_typed_value_accepts_what_1_4_9_accepts(run_both: RunBoth, case: str) -> None:
    original, ours = run_both(
        GET_TYPED_VALUE
        + f"""
print(json.dumps(outcome(*{case})))
"""
    )

    assert ours == original


@pytest.mark.parametrize('value', ['7', '7,30', '7,30,15', '7,30,15,500'])
def test_times_take_one_to_four_numbers(run_both: RunBoth, value: str) -> None:
    original, ours = run_both(
        GET_TYPED_VALUE
        + f"""
print(json.dumps(outcome('time', {value!r})))
"""
    )

    assert ours == original


ASSERTIONS = (
    IMPORT_QUIETLY
    + """
from pysoa.test.plan.grammar import assertions


def fails(function, *args, **kwargs):
    try:
        function(*args, **kwargs)
    except AssertionError:
        return True
    return False
"""
)


@pytest.mark.parametrize(
    ('expected', 'actual'),
    [
        ({'a': [1]}, {'a': [2, 1]}),
        ({'a': [{'b': 1}]}, {'a': [{'b': 2}, {'b': 1, 'c': 3}]}),
        ({'a': [3]}, {'a': [1, 2]}),
        ({'a': [1, 2]}, {'a': [1, 2, 3]}),
        ({'a': [2, 1]}, {'a': [1, 2]}),
        ({'a': [{'b': 1}, 5]}, {'a': [{'b': 1}, 7, 5]}),
        ({'a': [[1], 3]}, {'a': [[2], [1], 3]}),
        ({'a': [5, 5]}, {'a': [5]}),
        ({'a': ['x']}, {'a': []}),
    ],
)
def test_assert_subset_structure_with_and_without_subset_lists(
    run_both: RunBoth,
    expected: object,
    actual: object,
) -> None:
    original, ours = run_both(
        ASSERTIONS
        + f"""
print(json.dumps([
    fails(assertions.assert_subset_structure, {expected!r}, {actual!r}),
    fails(assertions.assert_subset_structure, {expected!r}, {actual!r}, subset_lists=False),
    fails(assertions.assert_subset_structure, {expected!r}, {actual!r}, subset_lists=True),
]))
"""
    )

    assert ours == original


# Only lists: for a dict key, 1.4.9's function fails whenever the key is present, whatever its value, while the
# `expect not: attribute value` directive lets other values pass (as its documentation says); this project's function
# does what the directive needs.
@pytest.mark.parametrize(
    ('not_expected', 'actual'),
    [
        ({'tags': ['b']}, {'tags': ['a', 'b']}),
        ({'tags': ['c']}, {'tags': ['a', 'b']}),
        ({'tags': ['a']}, {'tags': ['a', 'b']}),
        ({'deep': {'tags': ['b']}}, {'deep': {'tags': ['b', 'a']}}),
    ],
)
def test_assert_not_expected_fails_on_a_list_item_found_anywhere_in_the_list(
    run_both: RunBoth,
    not_expected: object,
    actual: object,
) -> None:
    original, ours = run_both(
        ASSERTIONS
        + f"""
print(json.dumps(fails(assertions.assert_not_expected, {not_expected!r}, {actual!r})))
"""
    )

    assert ours == original
