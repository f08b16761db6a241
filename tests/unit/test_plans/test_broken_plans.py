"""
The deliberately broken plans of ``broken_plans/``: each fails with a readable message naming the file, line and
column and saying what was expected, both from the parser and in pytest's output (a collection error showing the
line with a caret). ``failing_expectations.pysoa`` parses, but each of its test cases fails, pointing at its line.
"""

import os
import re
import shutil
from typing import (
    Callable,
    Dict,
    List,
)

import pytest

from pysoa.test.plan.errors import (
    FixtureLoadError,
    FixtureSyntaxError,
)
from pysoa.test.plan.parser import ServiceTestPlanFixtureParser
from tests.unit.test_plans.conftest import PYTEST_ARGUMENTS


BROKEN_PLANS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'broken_plans')

# file name → (message after `<file>:`, line, column)
SYNTAX_ERRORS = {
    'bad_datetime': (
        '4:31: Data type conversion error: Cannot convert `2020,13,1` to datetime: month must be in 1..12',
        4,
        31,
    ),
    'bad_error_expectation': ("3:30: Invalid line: expected one of 'field', 'message', found 'messag'", 3, 30),
    'bad_freeze_time': (
        '3:14: Expected `now` or a time like 2020-01-31T13:45:00Z to freeze time at, got `tomorrow`',
        3,
        14,
    ),
    'bad_int': (
        "3:25: Data type conversion error: Cannot convert `abc` to int: invalid literal for int() with base 10: 'abc'",
        3,
        25,
    ),
    'bad_mock_call_arguments': (
        '3:44: Expected the call arguments as a JSON array [[positional...], {keyword...}], got `{"a": 1}`',
        3,
        44,
    ),
    'bad_mock_json': (
        '3:43: Expected a value as JSON, got `{not json` (Expecting property name enclosed in double '
        'quotes: line 1 column 2 (char 1))',
        3,
        43,
    ),
    'bad_regex': (
        '3:41: Data type conversion error: Invalid regular expression `[unclosed`: unterminated character '
        'set at position 0',
        3,
        41,
    ),
    'continued_line_error': ("4:15: Invalid line: expected 'value', found 'valeu'", 4, 15),
    'delete_return_value': ('3:49: Cannot delete `return_value`: only other attributes can be deleted', 3, 49),
    'duplicate_name': ('6: Duplicate test name `broken` (already used on line 1)', 6, 1),
    'empty_test_case': ('1: Empty test case', 1, 1),
    'global_line_error': (
        "1:32: Data type conversion error: Cannot convert `abc` to int: invalid literal for int() with base 10: 'abc'",
        1,
        32,
    ),
    'missing_blank_line': (
        '4:18: Duplicate test name: this test case is already named `broken` (a blank line must separate test cases)',
        4,
        18,
    ),
    'missing_description': ('1: Test case without description', 1, 1),
    'missing_name': ('1: Test case without name', 1, 1),
    'misspelled_test_name': (
        "1:6: Invalid line: expected one of 'name', 'description', 'skip', ':', found 'nme'",
        1,
        6,
    ),
    'mock_called_and_not_called': (
        '4:47: Cannot expect `some.module.function` to be both called and not called',
        4,
        47,
    ),
    'stub_body_and_error': ('4:72: A stub action cannot have both a body and errors', 4, 72),
    'unbalanced_braces': ('3:20: Unbalanced braces in path `a.{b`', 3, 20),
    'unknown_data_type': ("3:13: Invalid line: expected data type or ':', found 'integer'", 3, 13),
    'unknown_directive': (
        "3:7: Invalid line: expected one of 'input', 'expect', 'mock', 'stub', 'freeze', found 'inptu'",
        3,
        7,
    ),
}

LOAD_ERRORS = ('empty_file', 'no_test_cases')


def _path(name: str) -> str:
    return os.path.join(BROKEN_PLANS, name + '.pysoa')


def test_every_broken_plan_is_checked() -> None:
    names = {file_name[: -len('.pysoa')] for file_name in os.listdir(BROKEN_PLANS)}
    assert names == set(SYNTAX_ERRORS) | set(LOAD_ERRORS) | {'failing_expectations'}


@pytest.mark.parametrize('name', sorted(SYNTAX_ERRORS))
def test_parser_error(name: str) -> None:
    message, line, column = SYNTAX_ERRORS[name]
    with pytest.raises(FixtureSyntaxError) as info:
        ServiceTestPlanFixtureParser(_path(name), name).parse_test_fixture()
    error = info.value
    assert error.msg == f'{_path(name)}:{message}'
    assert (error.filename, error.lineno, error.offset) == (_path(name), line, column)
    with open(_path(name), encoding='utf-8') as f:
        assert error.text == f.read().splitlines()[line - 1]


@pytest.mark.parametrize('name', LOAD_ERRORS)
def test_parser_load_error(name: str) -> None:
    with pytest.raises(FixtureLoadError) as info:
        ServiceTestPlanFixtureParser(_path(name), name).parse_test_fixture()
    assert str(info.value) == f'Failed to find any test cases in file: {_path(name)}'


@pytest.mark.parametrize('name', ['unknown_directive', 'continued_line_error', 'missing_name', 'bad_int'])
def test_pytest_shows_the_line_with_a_caret(name: str, plan_project: Callable[..., pytest.Pytester]) -> None:
    message, line, column = SYNTAX_ERRORS[name]
    project = plan_project({})
    shutil.copy(_path(name), project.path / 'plans' / f'{name}.pysoa')
    result = project.runpytest_inprocess(*PYTEST_ARGUMENTS)
    result.assert_outcomes(errors=1)
    with open(_path(name), encoding='utf-8') as f:
        text = f.read().splitlines()[line - 1]
    result.stdout.fnmatch_lines(
        [
            '*ERROR collecting test_plans.py*',
            f'*plans/{name}.pysoa:{message}',
            f'    {text}',
            '    ' + ' ' * (column - 1) + '^',
        ]
    )


def test_pytest_shows_load_errors(plan_project: Callable[..., pytest.Pytester]) -> None:
    project = plan_project({'empty.pysoa': '# nothing here\n'})
    result = project.runpytest_inprocess(*PYTEST_ARGUMENTS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(['*ERROR collecting*', '*Failed to find any test cases in file: *plans/empty.pysoa'])


# name → (fixture line, the lines of the failure message that follow)
FAILURES = {
    'value_mismatch': (
        9,
        [
            '>   echo: expect: attribute value: name: Grace',
            'E   AssertionError: Mismatch values:',
            "E       name: expected 'Grace' (str), actual 'Ada' (str)",
            "E   Expected: {'count': 3, 'name': 'Grace'}",
            "E   Actual: {'count': 3, 'name': 'Ada'}",
        ],
    ),
    'value_missing': (
        14,
        [
            '>   echo: expect int: attribute value: total: 3',
            'E   AssertionError: Missing values:',
            'E       total',
        ],
    ),
    'unexpected_server_error': (
        18,
        [
            '>   crash: expect: no errors',
            'E   AssertionError: Expected no errors, got action errors:',
            "E       code=SERVER_ERROR, message='Internal server error: Something broke'",
            'E   ',
            'E   SERVER_ERROR: Internal server error: Something broke',
            'E   Traceback (most recent call last):',
        ],
    ),
    'expected_error_missing': (
        25,
        [
            '>   fail: expect: error: code=MISSING, field=name',
            'E   AssertionError: Expected action errors not found:',
            'E       code=MISSING, field=name',
            'E   Actual action errors:',
            "E       code=INVALID, field=name, message='It failed'",
        ],
    ),
    'exact_errors': (
        31,
        [
            '>   fail: expect: exact error: code=INVALID',
            'E   AssertionError: Expected exactly these action errors:',
            'E       code=INVALID',
            'E   Actual action errors:',
            "E       code=INVALID, message='It failed'",
            "E       code=OTHER, message='It failed'",
        ],
    ),
    'error_not_expected': (
        36,
        [
            '>   fail: expect: not error: code=INVALID',
            'E   AssertionError: Found action errors that were expected not to be there:',
            'E       code=INVALID',
        ],
    ),
    'present_but_should_not_be': (
        41,
        [
            '>   echo: expect not present: attribute value: secret',
            'E   AssertionError: Values present that should not be:',
            "E       secret: 'hunter2' (str)",
        ],
    ),
    'value_on_job_error': (
        45,
        [
            '>   fail_job: expect: attribute value: done: yes',
            'E   AssertionError: The job failed with:',
            "E       code=JOB_FAILED, message='The job failed'",
            'E   ',
            'E   Missing values:',
            'E       done',
        ],
    ),
    'mock_called_differently': (
        51,
        [
            '>   mock: tests.unit.test_plans.service.lookup: expect called: [["xyz"], {}]',
            'E   AssertionError: Mock tests.unit.test_plans.service.lookup was not called as expected.',
            "E   Expected calls: [call('xyz')]",
            "E   Actual calls: [call('abc')]",
        ],
    ),
    'stub_not_called': (
        55,
        [
            '>   stub action: users: get_user: expect called int: id: 1',
            "E   AssertionError: Expected stub action users.get_user to be called with body {'id': 1}; it was called "
            'with: (never called)',
        ],
    ),
    'unknown_substitution': (
        60,
        [
            '>   echo: input: x: [[NOWHERE.value]]',
            'E   pysoa.test.plan.errors.StatusError: Could not find value for substitution [[NOWHERE.0.value]]: '
            'no earlier response of the test case or model constant has it',
        ],
    ),
}


def _sections(lines: List[str]) -> Dict[str, List[str]]:
    """The failure sections of pytest's output, by test name (``____ fixture::name ____``)."""
    sections: Dict[str, List[str]] = {}
    current: List[str] = []
    for line in lines:
        match = re.match(r'^_{3,} failing_expectations::(\w+) _{3,}$', line)
        if match:
            current = sections.setdefault(match.group(1), [])
        elif line.startswith('=' * 10):
            current = []
        else:
            current.append(line)
    return sections


def test_failing_expectations_point_at_their_lines(plan_project: Callable[..., pytest.Pytester]) -> None:
    project = plan_project({})
    shutil.copy(_path('failing_expectations'), project.path / 'plans' / 'failing_expectations.pysoa')
    result = project.runpytest_inprocess(*PYTEST_ARGUMENTS)
    result.assert_outcomes(failed=len(FAILURES))
    with open(_path('failing_expectations'), encoding='utf-8') as f:
        lines = f.read().splitlines()
    sections = _sections(result.outlines)
    assert set(sections) == set(FAILURES)
    for name, (line, message) in FAILURES.items():
        section = sections[name]
        assert message[0] == '>   ' + lines[line - 1]
        # The fixture lines of the test case up to the failing one, then the failure.
        start = section.index('    test name: ' + name)
        failing = section.index(message[0])
        assert section[start:failing] == ['    ' + text for text in lines[start_line(lines, name) : line - 1]]
        assert section[failing : failing + len(message)] == message, name
        assert f'plans/failing_expectations.pysoa:{line}: ' in '\n'.join(section)


def start_line(lines: List[str], name: str) -> int:
    return lines.index('test name: ' + name)
