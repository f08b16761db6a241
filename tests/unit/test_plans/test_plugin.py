"""
The test plan pytest plugin (:mod:`pysoa.test.plugins.pytest.plans`), run on generated projects with ``pytester``:
collection and naming, the plan files of ``plans/``, command line options, hooks and their order, class marks,
tracebacks, and staying out of the way of ordinary tests.
"""

import os
import sys
from importlib import metadata
from typing import (
    Callable,
    List,
)

import pytest

from tests.unit.test_plans.conftest import (
    PYTEST_ARGUMENTS,
    TEST_MODULE,
)


PLANS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'plans')
ProjectFactory = Callable[..., pytest.Pytester]

SIMPLE_PLANS = {
    'first.pysoa': (
        'test name: one\ntest description: The first one\necho: input: x: 1\necho: expect: attribute value: x: 1\n\n'
        'test name: two\ntest description: The second one\necho: input: x: 2\necho: expect: attribute value: x: 2\n'
    ),
    'second.pysoa': 'test name: three\ntest description: A third\necho: expect: no errors\n',
}


def _run(project: pytest.Pytester, *arguments: str) -> pytest.RunResult:
    return project.runpytest_inprocess(*PYTEST_ARGUMENTS, *arguments)


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    if sys.version_info >= (3, 10):
        entry_points = metadata.entry_points(group='pytest11')
    else:  # pragma: no cover
        entry_points = metadata.entry_points().get('pytest11', [])
    assert ('pysoa_test_plan', 'pysoa.test.plugins.pytest.plans') in {(e.name, e.value) for e in entry_points}


def test_the_plans_of_this_directory_run_green(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {},
        test_module=TEST_MODULE
        + """
    model_constants = {'COLOR': 'blue', 'limits': {'max': 10}, 'USER': {'name': 'Grace'}}

    def _process_stub_action_compute(self, body):
        return {'doubled': body['x'] * 2}
""",
        copy_from=PLANS,
    )
    result = _run(project, '-v', '-rs')
    result.assert_outcomes(passed=35, skipped=3)
    result.stdout.fnmatch_lines_random(
        [
            'test_plans.py::TestPlans::data_types::scalar_types PASSED*',
            'test_plans.py::TestPlans::paths::escaped_keys PASSED*',
            'test_plans.py::TestPlans::mocks::side_effects PASSED*',
            'test_plans.py::TestPlans::stubs::stub_errors PASSED*',
            'test_plans.py::TestPlans::skip::skipped SKIPPED*',
            'SKIPPED [1] plans/skip.pysoa: Not today',
            'SKIPPED [2] plans/skip.pysoa: Skipping the rest of the file',
        ]
    )


def test_collection_naming_and_order(plan_project: ProjectFactory) -> None:
    project = plan_project(
        SIMPLE_PLANS,
        test_module=TEST_MODULE
        + """
    def test_regular(self):
        pass


class NotATestPlan:
    pass
""",
    )
    result = _run(project, '--collect-only', '-q')
    result.stdout.fnmatch_lines(
        [
            'test_plans.py::TestPlans::test_regular',
            'test_plans.py::TestPlans::first::one',
            'test_plans.py::TestPlans::first::two',
            'test_plans.py::TestPlans::second::three',
            '4 tests collected*',
        ]
    )
    result = _run(project, '--collect-only')
    result.stdout.fnmatch_lines(
        [
            '*<ServicePlanClass TestPlans>',
            '*<Function test_regular>',
            '*<PlanFixture first>',
            '*<PlanTestItem one>',
            '*<PlanTestItem two>',
            '*<PlanFixture second>',
            '*<PlanTestItem three>',
        ]
    )
    result = _run(project, 'test_plans.py::TestPlans::first::two', '-v')
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(['test_plans.py::TestPlans::first::two PASSED*'])


def test_the_test_case_functions_are_bound_on_the_class(plan_project: ProjectFactory) -> None:
    project = plan_project(
        SIMPLE_PLANS,
        test_module=TEST_MODULE
        + """

def test_bound(request):
    assert TestPlans.plan__first__one._pysoa_plan_test_data.name == 'one'
    data = TestPlans.plan__second__three._pysoa_plan_test_data
    assert (data.fixture_name, data.line_number, data.is_first_fixture_case, data.is_last_fixture_case) == (
        'second', 1, True, True,
    )
    assert data.description == 'A third\\n' + data.fixture_file
""",
    )
    _run(project).assert_outcomes(passed=4)


def test_classes_named_otherwise_and_subclasses(plan_project: ProjectFactory) -> None:
    project = plan_project(
        SIMPLE_PLANS,
        test_module=TEST_MODULE.replace('class TestPlans', 'class ServicePlans')
        + '''

class TestSubclass(ServicePlans):
    custom_fixtures = (os.path.join(os.path.dirname(__file__), 'plans', 'second.pysoa'),)


class NoPlans(ServicePlanTestCase):
    """Without fixture_path or custom_fixtures: no plan tests, and the base class collects nothing."""
    server_class = PlansServer
    server_settings = {}

    def test_regular(self):
        pass
''',
    )
    result = _run(project, '-v')
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines_random(
        [
            'test_plans.py::ServicePlans::first::one PASSED*',
            'test_plans.py::TestSubclass::second::three PASSED*',
            'test_plans.py::NoPlans::test_regular PASSED*',
        ]
    )


@pytest.mark.parametrize(
    ('attributes', 'message'),
    [
        ("fixture_path = '/no/such/directory'", 'Fixture path `/no/such/directory` (of TestPlans) is not a directory'),
        (
            "fixture_regex = r'\\.yaml$'",
            r'Could not find any fixture files matching `\.yaml$` in `*plans` (of TestPlans)',
        ),
        (
            'def plan__first__one(self): pass',
            'Duplicate test name plan__first__one in TestPlans: test case `one` of *first.pysoa clashes with an '
            'existing attribute',
        ),
    ],
)
def test_collection_errors(plan_project: ProjectFactory, attributes: str, message: str) -> None:
    project = plan_project(SIMPLE_PLANS, test_module=TEST_MODULE + f'    {attributes}\n')
    result = _run(project)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(['*ERROR collecting test_plans.py*', message])


def test_duplicate_fixture_names(plan_project: ProjectFactory) -> None:
    project = plan_project(SIMPLE_PLANS)
    (project.path / 'plans' / 'more').mkdir()
    (project.path / 'plans' / 'more' / 'first.pysoa').write_text(SIMPLE_PLANS['first.pysoa'], encoding='utf-8')
    result = _run(project)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            'Duplicate test name plan__first__one in TestPlans: test case `one` of *plans/more/first.pysoa clashes '
            'with the one in *plans/first.pysoa',
        ]
    )


FILTER_MODULE = (
    TEST_MODULE
    + """
    def test_regular(self):
        pass


def test_function():
    pass
"""
)


@pytest.mark.parametrize(
    ('arguments', 'selected'),
    [
        ((), ['test_regular', 'first::one', 'first::two', 'second::three', 'test_function']),
        (('--pysoa-fixture', 'first'), ['first::one', 'first::two']),
        (('--pysoa-fixture', 'first', '--pysoa-fixture', 'second'), ['first::one', 'first::two', 'second::three']),
        (('--pysoa-test-case', 'two'), ['first::two']),
        (('--pysoa-test-case', 'A third', '--pysoa-test-case', 'one'), ['first::one', 'second::three']),
        (('--pysoa-test-case-regex', 't'), ['first::two', 'second::three']),
        (('--pysoa-test-case-regex', 'The (first|second)'), ['first::one', 'first::two']),
        (('--pysoa-test-case-regex', 'o', '--pysoa-test-case-regex', 'A'), ['first::one', 'second::three']),
        (('--pysoa-fixture', 'first', '--pysoa-test-case-regex', 't'), ['first::two']),
        (('--pysoa-fixture', 'nothing'), []),
    ],
)
def test_filters(plan_project: ProjectFactory, arguments: List[str], selected: List[str]) -> None:
    project = plan_project(SIMPLE_PLANS, test_module=FILTER_MODULE)
    result = _run(project, '--collect-only', '-q', *arguments)
    ids = [line.split('::', 1)[1].replace('TestPlans::', '') for line in result.outlines if '::' in line]
    assert ids == selected
    if not selected:
        result.stdout.fnmatch_lines(['no tests collected (5 deselected)*'])
    elif len(selected) != 5:
        result.stdout.fnmatch_lines([f'{len(selected)}/5 tests collected ({5 - len(selected)} deselected)*'])


def test_mutually_exclusive_filters(plan_project: ProjectFactory) -> None:
    project = plan_project(SIMPLE_PLANS)
    result = _run(project, '--pysoa-test-case', 'one', '--pysoa-test-case-regex', 'o')
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ['ERROR: use of mutually exclusive arguments: --pysoa-test-case, --pysoa-test-case-regex']
    )
    result = _run(project, '--pysoa-test-case-regex', '(')
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(['ERROR: --pysoa-test-case-regex: invalid regular expression `(`: *'])


def test_help_lists_the_options(plan_project: ProjectFactory) -> None:
    result = _run(plan_project(SIMPLE_PLANS), '--help')
    result.stdout.fnmatch_lines(
        [
            'pysoa test plans:',
            '  --pysoa-fixture=NAME*',
            '  --pysoa-test-case=NAME*',
            '  --pysoa-test-case-regex=PATTERN*',
            '  --pysoa-disable-tb-prune*',
        ]
    )


FAILING_PLAN = {
    'failing.pysoa': (
        '# comment\n'
        'test name: fails\n'
        'test description: Fails on its last line\n'
        'echo: input: x: 1\n'
        'echo: expect: attribute value: x: 1\n'
        'echo: expect: attribute value: x: 2\n'
        'echo: expect: attribute value: y: 3\n'
    ),
}


def test_failures_show_the_fixture_lines(plan_project: ProjectFactory) -> None:
    result = _run(plan_project(FAILING_PLAN))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '*_ failing::fails _*',
            '',
            '    # comment',
            '    test name: fails',
            '    test description: Fails on its last line',
            '    echo: input: x: 1',
            '    echo: expect: attribute value: x: 1',
            '>   echo: expect: attribute value: x: 2',
            'E   AssertionError: Missing values:',
            'E       y',
            'E   Mismatch values:',
            "E       x: expected '2' (str), actual '1' (str)",
            "E   Expected: {'x': '2', 'y': '3'}",
            "E   Actual: {'x': '1'}",
            '',
            'plans/failing.pysoa:6: AssertionError',
            '*short test summary info*',
            'FAILED test_plans.py::TestPlans::failing::fails - AssertionError: Missing val*',
        ]
    )
    assert 'pysoa/test/plan' not in result.stdout.str()
    assert 'pysoa/test/plan' not in result.stdout.str()

    result = _run(plan_project(FAILING_PLAN), '--tb=native')
    result.stdout.fnmatch_lines(
        [
            'Traceback (most recent call last):',
            '  File "*plans/failing.pysoa", line 6, in fails',
            '    echo: expect: attribute value: x: 2',
            'AssertionError: Missing values:',
        ]
    )
    assert 'site-packages' not in result.stdout.str()


def test_disabling_the_traceback_pruning(plan_project: ProjectFactory) -> None:
    result = _run(plan_project(FAILING_PLAN), '--pysoa-disable-tb-prune', '--tb=short')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '*pysoa/test/plan/__init__.py:*',
            'plans/failing.pysoa:6: in fails',
            '    echo: expect: attribute value: x: 2',
            '*pysoa/test/plan/grammar/assertions.py:*',
        ]
    )


def test_failures_in_the_test_class_keep_its_frames(plan_project: ProjectFactory) -> None:
    project = plan_project(
        SIMPLE_PLANS,
        test_module=TEST_MODULE
        + """
    def set_up_test_case_action(self, action_name, action_case, test_case, test_fixture, **kwargs):
        super().set_up_test_case_action(action_name, action_case, test_case, test_fixture, **kwargs)
        if test_case['name'] == 'two':
            raise ValueError('Hook failed')
""",
    )
    result = _run(project, '--tb=short')
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            'plans/first.pysoa:8: in two',
            '    echo: input: x: 2',
            'test_plans.py:*: in set_up_test_case_action',
            "    raise ValueError('Hook failed')",
            'E   ValueError: Hook failed',
        ]
    )


HOOKS_MODULE = (
    TEST_MODULE
    + """
    log = []

    @classmethod
    def setup_class(cls):
        super().setup_class()
        cls.log.append('setup_class')

    @classmethod
    def teardown_class(cls):
        super().teardown_class()
        cls.log.append('teardown_class')
        with open(os.path.join(os.path.dirname(__file__), 'hooks.log'), 'w') as f:
            f.write('\\n'.join(cls.log))

    def setup_method(self, method=None):
        self.log.append('setup_method')
        super().setup_method(method)

    def teardown_method(self, method=None):
        super().teardown_method(method)
        self.log.append('teardown_method')

    def set_up_test_fixture(self, test_fixture, **kwargs):
        super().set_up_test_fixture(test_fixture, **kwargs)
        self.log.append('set_up_test_fixture ' + test_fixture[0]['fixture_name'])

    def tear_down_test_fixture(self, test_fixture, **kwargs):
        super().tear_down_test_fixture(test_fixture, **kwargs)
        self.log.append('tear_down_test_fixture ' + test_fixture[0]['fixture_name'])

    def set_up_test_case(self, test_case, test_fixture, **kwargs):
        super().set_up_test_case(test_case, test_fixture, **kwargs)
        self.log.append('set_up_test_case ' + test_case['name'])

    def tear_down_test_case(self, test_case, test_fixture, **kwargs):
        super().tear_down_test_case(test_case, test_fixture, **kwargs)
        self.log.append('tear_down_test_case ' + test_case['name'])

    def set_up_test_case_action(self, action_name, action_case, test_case, test_fixture, **kwargs):
        super().set_up_test_case_action(action_name, action_case, test_case, test_fixture, **kwargs)
        self.log.append('set_up_test_case_action ' + action_name)

    def tear_down_test_case_action(self, action_name, action_case, test_case, test_fixture, **kwargs):
        super().tear_down_test_case_action(action_name, action_case, test_case, test_fixture, **kwargs)
        self.log.append('tear_down_test_case_action ' + action_name)
"""
)


def _hooks(project: pytest.Pytester, *arguments: str, passed: int = 3) -> List[str]:
    _run(project, *arguments).assert_outcomes(passed=passed)
    return (project.path / 'hooks.log').read_text().splitlines()


def test_hook_order(plan_project: ProjectFactory) -> None:
    project = plan_project(SIMPLE_PLANS, test_module=HOOKS_MODULE)
    case = [
        'setup_method',
        'set_up_test_case {}',
        'set_up_test_case_action echo',
        'tear_down_test_case_action echo',
        'tear_down_test_case {}',
    ]
    one, two, three = ([line.format(name) for line in case] for name in ('one', 'two', 'three'))
    assert _hooks(project) == [
        'setup_class',
        one[0],
        'set_up_test_fixture first',
        *one[1:],
        'teardown_method',
        *two,
        'tear_down_test_fixture first',
        'teardown_method',
        three[0],
        'set_up_test_fixture second',
        *three[1:],
        'tear_down_test_fixture second',
        'teardown_method',
        'teardown_class',
    ]


def test_fixtures_whose_last_case_did_not_run_are_torn_down_with_the_class(plan_project: ProjectFactory) -> None:
    project = plan_project(SIMPLE_PLANS, test_module=HOOKS_MODULE)
    log = _hooks(project, '--pysoa-test-case', 'one', passed=1)
    assert log[-3:] == ['teardown_method', 'tear_down_test_fixture first', 'teardown_class']
    assert log.count('tear_down_test_fixture first') == 1


def test_a_fixture_whose_last_case_is_skipped_is_torn_down_before_the_next_fixture(
    plan_project: ProjectFactory,
) -> None:
    plans = dict(
        SIMPLE_PLANS,
        **{
            'first.pysoa': SIMPLE_PLANS['first.pysoa'].replace(
                'test name: two\n',
                'test name: two\ntest skip: Not now\n',
            )
        },
    )
    project = plan_project(plans, test_module=HOOKS_MODULE)
    _run(project).assert_outcomes(passed=2, skipped=1)
    log = (project.path / 'hooks.log').read_text().splitlines()
    assert log.index('tear_down_test_fixture first') < log.index('set_up_test_fixture second')
    assert log.count('tear_down_test_fixture first') == 1


def test_a_fixture_must_be_set_up(plan_project: ProjectFactory) -> None:
    project = plan_project(
        SIMPLE_PLANS,
        test_module=TEST_MODULE
        + """
    def setup_method(self, method=None):
        pass  # forgets to call super()
""",
    )
    result = _run(project)
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        ['E   pysoa.test.plan.errors.StatusError: Test fixture first not set up (does setup_method call super()?)']
    )


def test_tear_down_errors(plan_project: ProjectFactory) -> None:
    project = plan_project(
        SIMPLE_PLANS,
        test_module=TEST_MODULE
        + """
    def set_up_test_case(self, test_case, test_fixture, **kwargs):
        if test_case['name'] == 'two':
            raise ValueError('The test failed')

    def tear_down_test_case(self, test_case, test_fixture, **kwargs):
        if test_case['name'] != 'one':
            raise KeyError('Tear-down failed')
""",
    )
    result = _run(project, '-rA')
    result.assert_outcomes(passed=1, failed=2)
    # After a failure, a tear-down error is reported on stderr instead of hiding the failure.
    result.stdout.fnmatch_lines(
        [
            '*_ first::two _*',
            '>   test name: two',
            '*ValueError: The test failed',
            '*Captured stderr call*',
            'Another error happened while tearing down the failed test:',
            'Traceback (most recent call last):',
            "*raise KeyError('Tear-down failed')",
            "KeyError: 'Tear-down failed'",
            '*_ second::three _*',
        ]
    )
    assert 'During handling of the above exception' not in result.stdout.str()
    # Without an earlier failure, the tear-down error fails the test.
    result.stdout.fnmatch_lines(['*_ second::three _*', '>   test name: three', "*KeyError: 'Tear-down failed'"])


def test_tear_down_stops_only_the_plans_own_patches(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {
            'mocked.pysoa': (
                'test name: mocked\ntest description: A test-level mock\n'
                'mock: tests.unit.test_plans.service.lookup: return_value: "plan mock"\n'
                'use_helpers: expect: attribute value: lookup: plan mock\n'
                'use_helpers: expect: attribute value: catalog: user patch\n'
            )
        },
        test_module=TEST_MODULE
        + """
    def set_up_test_case(self, test_case, test_fixture, **kwargs):
        super().set_up_test_case(test_case, test_fixture, **kwargs)
        from unittest import mock
        self.user_patch = mock.patch('tests.unit.test_plans.service.Catalog.get', return_value='user patch')
        self.user_patch.start()

    def tear_down_test_case(self, test_case, test_fixture, **kwargs):
        super().tear_down_test_case(test_case, test_fixture, **kwargs)
        from tests.unit.test_plans import service
        assert service.lookup('x') == 'real x'  # the plan's mock is stopped
        assert service.Catalog().get('x') == 'user patch'  # the user's patch is not
        self.user_patch.stop()
""",
    )
    _run(project).assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ('decorator', 'outcome'),
    [
        ("@pytest.mark.skip(reason='Not now')", 'skipped'),
        ("@pytest.mark.skipif(True, reason='Not now')", 'skipped'),
        ("@pytest.mark.skipif(False, reason='Not now')", 'passed'),
        ("@unittest.skip('Not now')", 'skipped'),
        ('@pytest.mark.xfail(strict=True)', 'xpassed'),
    ],
)
def test_class_marks_apply_to_the_test_cases(plan_project: ProjectFactory, decorator: str, outcome: str) -> None:
    decorated = TEST_MODULE.replace('class TestPlans', f'{decorator}\nclass TestPlans')
    module = 'import unittest\n\nimport pytest\n' + decorated
    result = _run(plan_project(SIMPLE_PLANS, test_module=module))
    if outcome == 'xpassed':
        result.assert_outcomes(failed=3)  # strict xfail: passing is a failure
    else:
        result.assert_outcomes(**{outcome: 3})


def test_unittest_skip_skips_the_whole_class_without_running_its_hooks(plan_project: ProjectFactory) -> None:
    decorated = TEST_MODULE.replace('class TestPlans', "@unittest.skip('Not now')\nclass TestPlans")
    module = (
        'import unittest\n'
        + decorated
        + """
    @classmethod
    def setup_class(cls):
        raise AssertionError('setup_class ran')

    @classmethod
    def teardown_class(cls):
        raise AssertionError('teardown_class ran')

    def setup_method(self, method=None):
        raise AssertionError('setup_method ran')

    def test_regular(self):
        raise AssertionError('test_regular ran')
"""
    )
    result = _run(plan_project(SIMPLE_PLANS, test_module=module), '-rs')
    result.assert_outcomes(skipped=4)
    result.stdout.fnmatch_lines_random(
        [
            'SKIPPED [1] test_plans.py: Not now',
            'SKIPPED [2] plans/first.pysoa: Not now',
            'SKIPPED [1] plans/second.pysoa: Not now',
        ]
    )


def test_custom_marks_select_test_cases(plan_project: ProjectFactory) -> None:
    module = (
        'import pytest\n'
        + TEST_MODULE.replace('class TestPlans', '@pytest.mark.plans\nclass TestPlans')
        + """

def test_other():
    pass
"""
    )
    project = plan_project(SIMPLE_PLANS, test_module=module)
    project.makeini('[pytest]\nmarkers =\n    plans: test plans\n')
    result = _run(project, '-m', 'plans', '-v')
    result.assert_outcomes(passed=3, deselected=1)


def test_plugin_statistics(plan_project: ProjectFactory) -> None:
    project = plan_project(
        {
            **SIMPLE_PLANS,
            'skipped.pysoa': ('test name: skipped\ntest description: Skipped\ntest skip: No\necho: input: x: 1\n'),
        },
        test_module=TEST_MODULE
        + """

def test_statistics():
    from pysoa.test.plugins.pytest.plans import PLUGIN_STATISTICS
    assert PLUGIN_STATISTICS['fixture_tests_collected'] - START['fixture_tests_collected'] == 4
    assert PLUGIN_STATISTICS['fixture_tests_skipped'] - START['fixture_tests_skipped'] == 1
    assert PLUGIN_STATISTICS['fixture_tests_executed'] - START['fixture_tests_executed'] == 3
""",
    )
    project.makeconftest("""
from pysoa.test.plugins.pytest.plans import PLUGIN_STATISTICS

def pytest_sessionstart(session):
    import test_plans  # noqa
    test_plans.START = dict(PLUGIN_STATISTICS)
""")
    project.makepyfile(test_zz='from test_plans import test_statistics  # noqa')
    result = _run(project, '-p', 'no:randomly')
    result.assert_outcomes(passed=5, skipped=1)


def test_ordinary_tests_do_not_load_the_test_plans(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
import sys


class TestPlain:
    def test_one(self):
        assert 'pysoa.test.plan' not in sys.modules
        assert 'pyparsing' not in sys.modules
        assert 'pysoa.test.plugins.pytest.plans' in sys.modules
"""
    )
    result = pytester.runpytest_subprocess(*PYTEST_ARGUMENTS, '--pysoa-fixture', 'x', '-p', 'no:pysoa_test_fixtures')
    result.assert_outcomes(deselected=1)  # filters deselect ordinary tests
    result = pytester.runpytest_subprocess(*PYTEST_ARGUMENTS, '-p', 'no:pysoa_test_fixtures')
    result.assert_outcomes(passed=1)
