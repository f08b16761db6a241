"""
Mocks: ``[action:] mock: target: attr.path: value`` patches ``target`` (``package.module.Name``) with a
``MagicMock`` and configures it; ``[action:] mock: target: expect [not] called [attr.path]: [[args...], {kwargs}]``
checks how it was called. Without the ``action:`` prefix the patch covers the whole test case (checked after its last
action), with it only that action (checked right after it).

Values are JSON (``{"mock.ANY": true}`` is ``mock.ANY``, other objects allow attribute access), ``exception Name``
(a builtin, or ``package.module:Name``) or ``delete`` (removes the attribute). Several ``side_effect`` lines for one
path make a list of successive results.
"""

import json
from typing import (
    Any,
    Dict,
    Optional,
)

from pyparsing import (
    Opt,
    ParserElement,
    ParseResults,
    Regex,
)

from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    ActionResults,
    ChecksNothingAfterActions,
    Directive,
    TestCase,
    TestFixture,
    VarValueGrammar,
    colon,
    get_result,
    keyword,
    syntax_error,
)
from pysoa.test.plan.grammar.directives._mocking import (
    check_mock_expectations,
    start_mock_patches,
    stop_mock_patches,
)


__all__ = (
    'MockAssertCalledForActionDirective',
    'MockAssertCalledForTestDirective',
    'MockResultForActionDirective',
    'MockResultForTestDirective',
)

_IDENTIFIER = r'[A-Za-z_][A-Za-z0-9_]*'
MockTargetGrammar = Regex(rf'{_IDENTIFIER}(\.{_IDENTIFIER})*').set_name('mock target (package.module.Name)')
MockPathGrammar = Regex(rf'{_IDENTIFIER}(\.{_IDENTIFIER})*').set_name('mock attribute path')
_EXCEPTION_NAME = Regex(rf'{_IDENTIFIER}(\.{_IDENTIFIER})*(:{_IDENTIFIER})?').set_name('exception name')


def _target_grammar() -> ParserElement:
    return keyword('mock') + colon() + MockTargetGrammar('mock_target') + colon()


def _called_grammar() -> ParserElement:
    return (
        _target_grammar()
        + keyword('expect')
        + Opt(keyword('not')('not'))
        + keyword('called')
        + Opt(MockPathGrammar('mock_path'))
        + colon()
        + VarValueGrammar('value')
    )


def _result_grammar() -> ParserElement:
    return (
        _target_grammar()
        + MockPathGrammar('mock_path')
        + colon()
        + (
            (keyword('exception')('exception') + _EXCEPTION_NAME('value'))
            | keyword('delete')('delete')
            | VarValueGrammar('value')
        )
    )


def _parse_json(text: str, what: str, file_name: str, line_number: int) -> Any:
    try:
        return json.loads(text)
    except ValueError as e:
        raise syntax_error(f'Expected {what} as JSON, got `{text}` ({e})', file_name, line_number) from None


def _mock_data(case: Dict[str, Any], parse_results: ParseResults) -> Dict[str, Any]:
    data: Dict[str, Any] = case.setdefault('mock_patches', {}).setdefault(parse_results['mock_target'], {})
    return data


class _MockCalledMixin:
    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        path = get_result(parse_results, 'mock_path') or ''
        expectation = _mock_data(action_case, parse_results).setdefault('expects', {}).setdefault(path, {})
        not_called = bool(get_result(parse_results, 'not'))
        expectation.setdefault('line', line_number)
        if ('calls' in expectation and not_called) or (expectation.get('not_called') and not not_called):
            raise syntax_error(
                f'Cannot expect `{parse_results["mock_target"]}{"." + path if path else ""}` to be both called and not '
                f'called',
                file_name,
                line_number,
            )
        if not_called:
            expectation['not_called'] = True
            return
        text = parse_results['value'] or '[[], {}]'
        arguments = _parse_json(text, 'the call arguments [[positional...], {keyword...}]', file_name, line_number)
        if not (
            isinstance(arguments, list)
            and len(arguments) == 2
            and isinstance(arguments[0], list)
            and isinstance(arguments[1], dict)
        ):
            raise syntax_error(
                f'Expected the call arguments as a JSON array [[positional...], {{keyword...}}], got `{text}`',
                file_name,
                line_number,
            )
        expectation.setdefault('calls', []).append(arguments)


class _MockResultMixin:
    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        path = parse_results['mock_path']
        if get_result(parse_results, 'delete'):
            if path.split('.')[-1] in ('return_value', 'side_effect'):
                raise syntax_error(
                    f'Cannot delete `{path}`: only other attributes can be deleted', file_name, line_number
                )
            entry = [path, 'delete', None]
        elif get_result(parse_results, 'exception'):
            entry = [path, 'exception', parse_results['value']]
        else:
            entry = [path, 'value', _parse_json(parse_results['value'], 'a value', file_name, line_number)]
        _mock_data(action_case, parse_results).setdefault('configure', []).append(entry)


class MockAssertCalledForTestDirective(_MockCalledMixin, ChecksNothingAfterActions, Directive):
    """``mock: target: expect [not] called [attr.path]: [[args...], {kwargs}]`` (checked after the test case)."""

    @classmethod
    def name(cls) -> str:
        return 'mock_assert_called_for_test'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return _called_grammar()

    def assert_test_case_results(
        self,
        test_case_results: ActionResults,
        test_case: TestCase,
        test_fixture: TestFixture,
        msg: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        check_mock_expectations(test_case)


class MockAssertCalledForActionDirective(_MockCalledMixin, ActionDirective):
    """``action: mock: target: expect [not] called [attr.path]: [[args...], {kwargs}]`` (checked after the action)."""

    @classmethod
    def name(cls) -> str:
        return 'mock_assert_called_for_action'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + _called_grammar()

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
        check_mock_expectations(action_case)


class MockResultForTestDirective(_MockResultMixin, ChecksNothingAfterActions, Directive):
    """``mock: target: attr.path: [exception | delete] value``; patches the target for the whole test case."""

    @classmethod
    def name(cls) -> str:
        return 'mock_result_for_test'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return _result_grammar()

    def set_up_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:
        start_mock_patches(test_case)

    def tear_down_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:
        stop_mock_patches(test_case)


class MockResultForActionDirective(ChecksNothingAfterActions, _MockResultMixin, ActionDirective):
    """``action: mock: target: attr.path: [exception | delete] value``; patches the target for this action only."""

    @classmethod
    def name(cls) -> str:
        return 'mock_result_for_action'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + _result_grammar()

    def set_up_test_case_action(
        self, action_name: str, action_case: ActionCase, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any
    ) -> None:
        start_mock_patches(action_case)

    def tear_down_test_case_action(
        self, action_name: str, action_case: ActionCase, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any
    ) -> None:
        stop_mock_patches(action_case)
