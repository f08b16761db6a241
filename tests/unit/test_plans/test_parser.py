"""The fixture file parser: test cases, directives, globals, continued lines, errors and the directive registry."""

import datetime
import importlib
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import (
    Any,
    Callable,
    List,
    Optional,
)
from unittest import mock

import pytest
from pyparsing import (
    ParserElement,
    ParseResults,
    Suppress,
)

from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.plan.errors import (
    DirectiveError,
    FixtureSyntaxError,
)
from pysoa.test.plan.grammar import directive as directive_module
from pysoa.test.plan.grammar.data_types import AnyValue
from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    TestCase,
    TestFixture,
    VarNameGrammar,
    get_all_directives,
    keyword,
    register_directive,
)
from pysoa.test.plan.grammar.tools import UNSPECIFIED
from pysoa.test.plan.parser import ServiceTestPlanFixtureParser


PLANS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'plans')


@pytest.fixture
def parse(tmp_path: Path) -> Callable[[str], TestFixture]:
    def parse(text: str) -> TestFixture:
        path = tmp_path / 'plan.pysoa'
        path.write_text(text, encoding='utf-8')
        return ServiceTestPlanFixtureParser(str(path), 'plan').parse_test_fixture()

    return parse


def _names(test_fixture: TestFixture) -> List[str]:
    return [test_case['name'] for test_case in test_fixture]


def test_the_built_in_directives_in_order() -> None:
    assert [d.name() for d in get_all_directives()] == [
        'fixture_comment',
        'test_name',
        'test_description',
        'test_skip',
        'input',
        'expect_error_field_message',
        'expect_error_message',
        'expect_error_field',
        'expect_error',
        'expect_no_errors',
        'expect_value',
        'expect_any_value',
        'expect_none',
        'expect_not_present',
        'mock_assert_called_for_test',
        'mock_assert_called_for_action',
        'mock_result_for_test',
        'mock_result_for_action',
        'stub_action_body_for_test',
        'stub_action_body_for_action',
        'stub_action_error_for_test',
        'stub_action_error_for_action',
        'stub_action_called_for_test',
        'stub_action_called_for_action',
        'freeze_time_test',
        'freeze_time_action',
    ]


@pytest.mark.parametrize(
    ('module_name', 'class_name', 'directive_name'),
    [
        ('pysoa.test.plan.grammar.directives.plans', 'TestCaseCommentDirective', 'fixture_comment'),
        ('pysoa.test.plan.grammar.directives.plans', 'TestCaseNameDirective', 'test_name'),
        ('pysoa.test.plan.grammar.directives.plans', 'TestCaseDescriptionDirective', 'test_description'),
        ('pysoa.test.plan.grammar.directives.plans', 'TestCaseSkipDirective', 'test_skip'),
        ('pysoa.test.plan.grammar.directives.expects_errors', 'ActionExpectsErrorsDirective', 'expect_error'),
        (
            'pysoa.test.plan.grammar.directives.expects_errors',
            'ActionExpectsFieldErrorsDirective',
            'expect_error_field',
        ),
        (
            'pysoa.test.plan.grammar.directives.expects_errors',
            'ActionExpectsMessageErrorsDirective',
            'expect_error_message',
        ),
        (
            'pysoa.test.plan.grammar.directives.expects_errors',
            'ActionExpectsFieldMessageErrorsDirective',
            'expect_error_field_message',
        ),
        ('pysoa.test.plan.grammar.directives.expects_errors', 'ActionExpectsNoErrorsDirective', 'expect_no_errors'),
        ('pysoa.test.plan.grammar.directives.expects_values', 'ActionExpectsFieldValueDirective', 'expect_value'),
        ('pysoa.test.plan.grammar.directives.expects_values', 'ActionExpectsAnyDirective', 'expect_any_value'),
        ('pysoa.test.plan.grammar.directives.expects_values', 'ActionExpectsNoneDirective', 'expect_none'),
        ('pysoa.test.plan.grammar.directives.expects_values', 'ActionExpectsNotPresentDirective', 'expect_not_present'),
        ('pysoa.test.plan.grammar.directives.time', 'FreezeTimeTestPlanDirective', 'freeze_time_test'),
        ('pysoa.test.plan.grammar.directives.time', 'FreezeTimeActionDirective', 'freeze_time_action'),
    ],
)
def test_the_built_in_directives_keep_their_1_4_9_module_paths_and_names(
    module_name: str,
    class_name: str,
    directive_name: str,
) -> None:
    module = importlib.import_module(module_name)
    assert class_name in module.__all__
    directive = getattr(module, class_name)
    assert directive in get_all_directives()  # the same class, not a copy
    assert directive.name() == directive_name


@pytest.mark.parametrize('file_name', sorted(os.listdir(PLANS)))
def test_the_plans_of_this_directory_parse(file_name: str) -> None:
    test_fixture = ServiceTestPlanFixtureParser(os.path.join(PLANS, file_name), file_name).parse_test_fixture()
    assert test_fixture
    for test_case in test_fixture:
        assert test_case['description'].endswith('\n' + os.path.join(PLANS, file_name))


def test_a_test_case(parse: Callable[[str], TestFixture], tmp_path: Path) -> None:
    (test_case,) = parse(
        '# A comment before\n'
        'test name: my_test\n'
        'test description:   What it does  \n'
        'get_user: input int: id: 5\n'
        'get_user: job control input: timeout: 3\n'
        'get_user: job context input int: switches.0: 7\n'
        'get_user: expect: no errors\n'
        'get_user.1: input: id: [[GET_USER.id]]\n'
        'get_user.1: expect any int: attribute value: id\n'
        'get_user.1: expect: attribute value: tags.1: b\n'
        'get_user.1: expect: error: code=INVALID, field=id\n'
        'get_user.1: expect: not job error: code=X, message=Some message\n'
        'mock: my.module.Client: return_value.get.return_value: {"id": 1}\n'
    )
    assert test_case['name'] == 'my_test'
    assert test_case['description'] == f'What it does\n{tmp_path / "plan.pysoa"}'
    assert (test_case['fixture_name'], test_case['line_number'], test_case['first_line']) == ('plan', 2, 1)
    assert test_case['actions'] == ['get_user.0', 'get_user.1']
    first, second = test_case['get_user.0'], test_case['get_user.1']
    assert first['inputs'] == {'id': 5}
    assert first['job_control_inputs'] == {'timeout': '3'}
    assert first['job_context_inputs'] == {'switches': [7]}
    assert first['expect_no_errors'] is True
    assert (first['action_name'], first['action_index'], first['line_number']) == ('get_user', 0, 4)
    assert second['inputs'] == {'id': '[[GET_USER.0.id]]'}
    assert second['expects'] == {'id': AnyValue('int'), 'tags': [UNSPECIFIED, 'b']}
    assert second['error_expectations'] == {
        'action': {'expected': [{'code': 'INVALID', 'field': 'id', '_line': 11}]},
        'job': {'not': [{'code': 'X', 'message': 'Some message', '_line': 12}]},
    }
    assert second['directive_lines'] == {
        'input': 8,
        'expect_any_value': 9,
        'expect_value': 10,
        'expect_error_field': 11,
        'expect_error_message': 12,
    }
    assert test_case['mock_patches'] == {
        'my.module.Client': {'configure': [['return_value.get.return_value', 'value', {'id': 1}]]},
    }


def test_test_cases_are_separated_by_blank_lines(parse: Callable[[str], TestFixture]) -> None:
    test_fixture = parse(
        '\n\ntest name: one\ntest description: One\na: input: x: 1\n'
        '  \t \n'
        '# comment block\n# more\n\n'
        'test name: two\ntest description: Two\n# inside\nb: input: x: 2\n\n\n'
    )
    assert _names(test_fixture) == ['one', 'two']
    assert test_fixture[1]['actions'] == ['b.0']


def test_actions_named_like_keywords(parse: Callable[[str], TestFixture]) -> None:
    (test_case,) = parse(
        'test name: keywords\ntest description: Actions starting with input and expect\n'
        'input: input: x: 1\ninputs: expect: no errors\nexpect_thing.2: input: y: 2\nexpect: expect: attribute value: '
        'z: 3\ntest: input: t: 4\nmock: input: m: 5\n'
    )
    assert test_case['actions'] == ['input.0', 'inputs.0', 'expect_thing.2', 'expect.0', 'test.0', 'mock.0']
    assert test_case['input.0']['inputs'] == {'x': '1'}
    assert test_case['mock.0']['inputs'] == {'m': '5'}


def test_upper_case_mock_targets_and_paths(parse: Callable[[str], TestFixture]) -> None:
    (test_case,) = parse(
        'test name: mocks\ntest description: Upper case\n'
        'mock: my_pkg.Module.MyClass: return_value.GetThing.side_effect: exception my_pkg.errors:NotFound\n'
        'a: mock: my_pkg.Module.MyClass: expect called SomeMethod: [[1], {"k": 2}]\n'
    )
    assert test_case['mock_patches'] == {
        'my_pkg.Module.MyClass': {
            'configure': [['return_value.GetThing.side_effect', 'exception', 'my_pkg.errors:NotFound']],
        }
    }
    assert test_case['a.0']['mock_patches'] == {
        'my_pkg.Module.MyClass': {
            'expects': {'SomeMethod': {'calls': [[[1], {'k': 2}]], 'line': 4}},
        }
    }


def test_stub_actions(parse: Callable[[str], TestFixture]) -> None:
    (test_case,) = parse(
        'test name: stubs\ntest description: Stubs\n'
        'stub action: users: get.user: body int: id: 1\n'
        'stub action: users: get.user: expect called: id: 1\n'
        'stub action: other: act: error: code=X, field=f, message=M\n'
        'stub action: other: act: error: code=Y, field=None, message=\n'
        'a: stub action: users: nope: expect not called:\n'
    )
    assert test_case['stub_actions'] == {
        'users': {'get.user': {'body': {'id': 1}, 'expect_called': {'id': '1'}, 'expect_line': 4}},
        'other': {
            'act': {
                'errors': [
                    {'code': 'X', 'field': 'f', 'message': 'M'},
                    {'code': 'Y', 'field': None, 'message': None},
                ]
            }
        },
    }
    assert test_case['a.0']['stub_actions'] == {'users': {'nope': {'expect_not_called': True, 'expect_line': 7}}}


def test_input_time_accepts_the_hour_alone_or_with_minutes(parse: Callable[[str], TestFixture]) -> None:
    (test_case,) = parse(
        'test name: times\ntest description: Short times\n'
        'a: input time: hour: 13\n'
        'a: input time: hour_and_minutes: 13,14\n'
    )
    assert test_case['a.0']['inputs'] == {'hour': datetime.time(13), 'hour_and_minutes': datetime.time(13, 14)}


def test_whitespace_around_separators_is_ignored(parse: Callable[[str], TestFixture]) -> None:
    (test_case,) = parse(
        'test name :  spaced\ntest description:x\n'
        'a . 1 :global  input  int :  x.y  :  5  \n'
        'a.1: expect :  error : code = X ,  field = f ,  message =  The message \n'
    )
    assert test_case['a.1']['inputs'] == {'x': {'y': 5}}
    assert test_case['a.1']['error_expectations']['action']['expected'] == [
        {'code': 'X', 'field': 'f', 'message': 'The message', '_line': 4},
    ]


def test_globals(parse: Callable[[str], TestFixture]) -> None:
    test_fixture = parse(
        'a: global input: shared: yes\n'
        'a: global input: over.x: global x\n'
        'a: global input: over.y: global y\n'
        'b.1: global expect: no errors\n'
        '\n'
        'test name: first\ntest description: Gets the globals, overridden path by path\n'
        'a: input: over.x: local x\n'
        '\n'
        'test name: second\ntest description: Does not use a.0 or b.1\n'
        'a.1: input: x: 1\n'
        'b: input: x: 1\n'
        '\n'
        'a: global input: later: yes\n'
        '\n'
        'test name: third\ntest description: Gets the later global too\n'
        'a: input: x: 1\n'
        'b.1: input: x: 1\n'
    )
    first, second, third = test_fixture
    assert first['a.0']['inputs'] == {'shared': 'yes', 'over': {'x': 'local x', 'y': 'global y'}}
    assert first['actions'] == ['a.0']
    assert first['a.0']['directive_lines'] == {'input': 8}  # the test case's own line comes first
    assert second['actions'] == ['a.1', 'b.0']
    assert 'shared' not in second['a.1']['inputs']
    assert 'expect_no_errors' not in second['b.0']
    assert third['a.0']['inputs'] == {
        'shared': 'yes',
        'over': {'x': 'global x', 'y': 'global y'},
        'later': 'yes',
        'x': '1',
    }
    assert third['b.1']['expect_no_errors'] is True
    assert 'later' not in first['a.0']['inputs']


def test_global_skip(parse: Callable[[str], TestFixture]) -> None:
    test_fixture = parse(
        'test name: one\ntest description: Runs\na: input: x: 1\n\n'
        'test name: two\ntest description: Skipped\ntest skip: Not now\na: input: x: 1\n\n'
        'test name: three\ntest description: Skips the rest\na: input: x: 1\ntest skip global: Broken\n\n'
        'test name: four\ntest description: Skipped too\na: input: x: 1\n'
    )
    assert [test_case.get('skip') for test_case in test_fixture] == [None, 'Not now', 'Broken', 'Broken']


def test_a_test_case_without_actions_is_allowed_when_there_are_globals(parse: Callable[[str], TestFixture]) -> None:
    test_fixture = parse('a: global input: x: 1\n\ntest name: t\ntest description: Nothing of its own\n')
    assert test_fixture[0]['actions'] == []


def test_continued_lines(parse: Callable[[str], TestFixture]) -> None:
    (test_case,) = parse(
        'test name: continued\ntest description: A description \\\n    over two lines\n'
        'a: input: joined: one \\\n    two \\\n\tthree\n'
        'a: input: no_space: one\\\n  two\n'
        'a: input: literal_backslash: C:\\\n'
        'a: input: escaped_backslash: C:\\\\\n    b: input: x: 1\n'
        '# a comment \\\n    a: input: after_comment: yes\n'
        'a: input: trailing_spaces: x \\   \n    y\n'
        'a: \\\n    input: \\\n      split: over three lines\n'
    )
    assert test_case['description'].startswith('A description over two lines\n')
    assert test_case['a.0']['inputs'] == {
        'joined': 'one two three',
        'no_space': 'onetwo',
        'literal_backslash': 'C:\\',
        'escaped_backslash': 'C:\\\\',
        'after_comment': 'yes',
        'trailing_spaces': 'x y',
        'split': 'over three lines',
    }
    assert test_case['b.0']['inputs'] == {'x': '1'}


def test_a_trailing_backslash_before_a_blank_line_or_the_end_is_kept(parse: Callable[[str], TestFixture]) -> None:
    test_fixture = parse(
        'test name: one\ntest description: One\na: input: x: end\\\n\n'
        'test name: two\ntest description: Two\na: input: x: last\\'
    )
    assert [test_case['a.0']['inputs']['x'] for test_case in test_fixture] == ['end\\', 'last\\']


def test_errors_on_continued_lines_point_at_the_physical_line(parse: Callable[[str], TestFixture]) -> None:
    with pytest.raises(FixtureSyntaxError) as info:
        parse('test name: t\ntest description: d\na: input: \\\n      x 1\n')
    assert (info.value.lineno, info.value.offset, info.value.text) == (4, 9, '      x 1')
    assert info.value.msg.endswith(":4:9: Invalid line: expected ':', found '1'")
    with pytest.raises(FixtureSyntaxError) as info:
        parse('test name: t\ntest description: d\na: input int: \\\n      x: \\\n   nope\n')
    assert (info.value.lineno, info.value.offset, info.value.text) == (5, 4, '   nope')
    assert 'Data type conversion error: Cannot convert `nope` to int' in info.value.msg


def test_fixture_syntax_error() -> None:
    error = FixtureSyntaxError('Bad', 'some/file.pysoa', 3, 5, 'the line')
    assert isinstance(error, SyntaxError)
    assert (error.msg, error.filename, error.lineno, error.offset, error.text) == (
        'Bad',
        'some/file.pysoa',
        3,
        5,
        'the line',
    )


def test_fixture_syntax_error_reads_the_line(tmp_path: Path) -> None:
    path = tmp_path / 'plan.pysoa'
    path.write_text('first\n   second line  \nthird\n', encoding='utf-8')
    error = FixtureSyntaxError('Bad', str(path), 2)
    assert (error.text, error.offset) == ('second line', 11)
    assert FixtureSyntaxError('Bad', str(path), 2, 3).offset == 3
    assert FixtureSyntaxError('Bad', str(tmp_path / 'missing.pysoa'), 2).text == ''


class ExpectLoggedDirective(ActionDirective):
    """``action: expect logged: name``, a directive of the kind users write."""

    @classmethod
    def name(cls) -> str:
        return 'expect_logged'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + keyword('expect')
            + keyword('logged')
            + Suppress(':')
            + VarNameGrammar('message_name')
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        action_case.setdefault('expect_logged', []).append(parse_results['message_name'])

    def assert_test_case_action_results(
        self,
        action_name: str,
        action_case: ActionCase,
        test_case: TestCase,
        test_fixture: TestFixture,
        action_response: Optional[ActionResponse],
        job_response: JobResponse,
        action_path: str,
        **kwargs: Any,
    ) -> None:
        pass


@pytest.fixture
def entry_points() -> Any:
    """
    Replace the entry points of the directive group (and forget the ones loaded): the test sets the return value, the
    entry points of the group, of the mock it gets; Python 3.9's ``entry_points()`` takes no group and returns a dict
    of every group's, which the mock is wrapped to return.
    """
    group_entry_points = mock.Mock()
    group = directive_module.ENTRY_POINT_GROUP

    def all_entry_points(**kwargs: Any) -> Any:
        if sys.version_info >= (3, 10):
            return group_entry_points(**kwargs)
        return {group: group_entry_points(group=group)}

    with (
        mock.patch.object(directive_module, '_entry_point_directives', None),
        mock.patch.object(metadata, 'entry_points', all_entry_points),
    ):
        yield group_entry_points


def test_directives_from_entry_points(entry_points: Any, parse: Callable[[str], TestFixture]) -> None:
    entry_points.return_value = [
        metadata.EntryPoint('logged', f'{__name__}:ExpectLoggedDirective', 'pysoa.test.plan.grammar.directives'),
    ]
    assert get_all_directives()[-1] is ExpectLoggedDirective
    entry_points.assert_called_once_with(group='pysoa.test.plan.grammar.directives')
    get_all_directives()
    assert entry_points.call_count == 1  # loaded once
    (test_case,) = parse('test name: t\ntest description: d\na: expect logged: started\na: expect logged: done\n')
    assert test_case['a.0']['expect_logged'] == ['started', 'done']
    assert repr(ExpectLoggedDirective()) == (
        'expect_logged: <action name>[.<action index>]: [global] expect logged: <path>'
    )


def test_unresolvable_entry_points_warn(entry_points: Any) -> None:
    entry_points.return_value = [
        metadata.EntryPoint('missing', 'no_such_module:Directive', 'pysoa.test.plan.grammar.directives'),
        metadata.EntryPoint('not_one', 'os.path:join', 'pysoa.test.plan.grammar.directives'),
    ]
    with pytest.warns(RuntimeWarning) as warnings:
        directives = get_all_directives()
    assert len(directives) == 26
    assert 'Could not load test plan directive entry point `no_such_module:Directive`' in str(warnings[0].message)
    assert 'Test plan directive entry point `os.path:join` is not a Directive subclass' in str(warnings[1].message)


def test_register_directive(parse: Callable[[str], TestFixture]) -> None:
    with pytest.raises(DirectiveError):
        register_directive(object)  # type: ignore[type-var]

    class LaterDirective(ExpectLoggedDirective):
        @classmethod
        def name(cls) -> str:
            return 'later'

    try:
        assert register_directive(LaterDirective) is LaterDirective
        register_directive(LaterDirective)
        directives = get_all_directives()
        assert directives.count(LaterDirective) == 1
        assert directives.index(LaterDirective) > [d.name() for d in directives].index('freeze_time_action')
        (test_case,) = parse('test name: t\ntest description: d\na: expect logged: x\n')
        assert test_case['a.0']['directive_lines'] == {'later': 3}

        # The same class again (its module reloaded) replaces the one registered.
        reloaded = type(
            'LaterDirective',
            (LaterDirective,),
            {
                '__qualname__': LaterDirective.__qualname__,
                '__module__': LaterDirective.__module__,
            },
        )
        register_directive(reloaded)
        assert reloaded in get_all_directives()
        assert LaterDirective not in get_all_directives()
    finally:
        directive_module._registered_directives[:] = [
            d for d in directive_module._registered_directives if d.__name__ != 'LaterDirective'
        ]
