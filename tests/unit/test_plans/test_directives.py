"""
What the built-in directives do when a plan runs, checked on generated projects with ``pytester``: time freezing and
the date and time values it applies to, and value expectations on list items.
"""

from typing import Callable

import pytest

from tests.unit.test_plans.conftest import PYTEST_ARGUMENTS


ProjectFactory = Callable[..., pytest.Pytester]


def _run(project: pytest.Pytester) -> pytest.RunResult:
    return project.runpytest_inprocess(*PYTEST_ARGUMENTS, '-rf')


def _assert_fails_on_an_unexpected_value(project: pytest.Pytester, failing_line: str, unexpected_value: str) -> None:
    """The plan's one test case fails at ``failing_line``, reporting ``unexpected_value`` (an fnmatch pattern)."""
    result = _run(project)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>   ' + failing_line,
            'E   AssertionError: Unexpected values:',
            'E       ' + unexpected_value,
        ]
    )


def test_freeze_time_applies_to_the_date_and_time_values_of_its_test_case(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {
            'frozen.pysoa': (
                'test name: frozen_values\n'
                'test description: Values written in a frozen test case are taken at the frozen time\n'
                'freeze time: 2020-01-31T13:45:00Z\n'
                'stub action: users: get_user: body datetime: seen: now\n'
                'echo: input datetime: now: now\n'
                'echo: input datetime: utc_tomorrow: utc_now +1\n'
                'echo: input datetime: midnight: midnight\n'
                'echo: input date: today: today\n'
                'echo: input time: time: now\n'
                'echo: input datetime: tomorrow: 2020,2,1,13,45,0\n'
                'echo: expect datetime: attribute value: now: 2020,1,31,13,45,0\n'
                'echo: expect datetime: attribute value: utc_tomorrow: utc_midnight 1,13,45\n'
                'echo: expect datetime: attribute value: midnight: 2020,1,31\n'
                'echo: expect date: attribute value: today: 2020,1,31\n'
                'echo: expect time: attribute value: time: 13,45,0\n'
                'echo: expect datetime: attribute value: tomorrow: now 1\n'
                'call_users: expect datetime: attribute value: user.seen: 2020,1,31,13,45,0\n'
            )
        }
    )
    _run(project).assert_outcomes(passed=1)


def test_freeze_time_applies_to_the_date_and_time_values_of_its_action(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {
            'frozen.pysoa': (
                'test name: frozen_action\n'
                'test description: Values written for a frozen action are its frozen time\n'
                'now: freeze time: 2019-05-06T07:08:09Z\n'
                'now: expect datetime: attribute value: now: now\n'
                'now: expect date: attribute value: today: today\n'
                'now.1: expect date: not attribute value: today: 2019,5,6\n'
                'now.1: expect date: not attribute value: today: today\n'  # the real today: fails
            )
        }
    )
    _assert_fails_on_an_unexpected_value(
        project,
        'now.1: expect date: not attribute value: today: today',
        'today: datetime.date(*) (date)',
    )


def test_freeze_time_now_freezes_the_instant_that_now_values_are(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {
            'frozen.pysoa': (
                'test name: frozen_now\n'
                'test description: The clock stops when the test case starts, on a whole second\n'
                'freeze time: now\n'
                'echo: input datetime: sent: now\n'
                'now: expect datetime: attribute value: now: now\n'
                'now.1: expect datetime: attribute value: now: [[ECHO.sent]]\n'
            )
        }
    )
    _run(project).assert_outcomes(passed=1)


def test_not_attribute_value_fails_on_a_value_anywhere_in_the_list(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {
            'lists.pysoa': (
                'test name: not_in_list\n'
                'test description: A value expected not to be a list item\n'
                'echo: input: tags.0: a\n'
                'echo: input: tags.1: b\n'
                'echo: expect: not attribute value: tags.0: c\n'
                'echo: expect: not attribute value: tags.0: b\n'
            )
        }
    )
    _assert_fails_on_an_unexpected_value(
        project,
        'echo: expect: not attribute value: tags.0: b',
        "tags.0: 'b' (str) (found at tags.1)",
    )
