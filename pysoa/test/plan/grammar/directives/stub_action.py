"""
Stubbed actions of other services (see :class:`pysoa.test.stub_service.stub_action`):

* ``[action:] stub action: service: action: body [type]: path: value`` builds the stub's response body;
* ``[action:] stub action: service: action: error: code=C, field=F, message=text`` adds an error to its response
  (``field=none`` or an empty field for none);
* ``[action:] stub action: service: action: expect [not] called:`` checks it was called with an empty body (or not
  at all); ``... expect called [type]: path: value`` lines build the body it must have been called with.

Without the ``action:`` prefix the stub covers the whole test case; with it only that action.
"""

from typing import (
    Any,
    Dict,
    List,
    Optional,
)
from unittest import mock

from pyparsing import (
    Opt,
    ParserElement,
    ParseResults,
    Regex,
    Suppress,
)

from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.plan.errors import set_fixture_line
from pysoa.test.plan.grammar.data_types import (
    get_parsed_data_type_value,
)
from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    ActionResults,
    ChecksNothingAfterActions,
    Directive,
    TestCase,
    TestFixture,
    VarNameGrammar,
    VarValueGrammar,
    colon,
    get_result,
    keyword,
    optional_data_type,
    syntax_error,
)
from pysoa.test.plan.grammar.directives.expect_errors import (
    ErrorCodeGrammar,
    FieldNameGrammar,
)
from pysoa.test.plan.grammar.tools import path_put


__all__ = (
    'StubActionBodyForActionDirective',
    'StubActionBodyForTestDirective',
    'StubActionCalledForActionDirective',
    'StubActionCalledForTestDirective',
    'StubActionErrorForActionDirective',
    'StubActionErrorForTestDirective',
)

StubServiceGrammar = Regex(r'[A-Za-z0-9_]+').set_name('service name')
StubActionGrammar = Regex(r'[A-Za-z0-9_.]+').set_name('action name')

RUNTIME_KEY = '_stub_actions_started'


def _stub_grammar() -> ParserElement:
    return (
        keyword('stub')
        + keyword('action')
        + colon()
        + StubServiceGrammar('stub_service')
        + colon()
        + StubActionGrammar('stub_action')
        + colon()
    )


def _body_grammar() -> ParserElement:
    return (
        _stub_grammar()
        + keyword('body')
        + optional_data_type()
        + VarNameGrammar('variable_name')
        + colon()
        + VarValueGrammar('value')
    )


def _error_grammar() -> ParserElement:
    return (
        _stub_grammar()
        + keyword('error')
        + colon()
        + keyword('code')
        + Suppress('=')
        + ErrorCodeGrammar('error_code')
        + Suppress(',')
        + keyword('field')
        + Suppress('=')
        + Opt(FieldNameGrammar('field_name'))
        + Suppress(',')
        + keyword('message')
        + Suppress('=')
        + VarValueGrammar('error_message')
    )


def _called_grammar() -> ParserElement:
    return (
        _stub_grammar()
        + keyword('expect')
        + Opt(keyword('not')('not'))
        + keyword('called')('called')
        + optional_data_type()
        + Opt(VarNameGrammar('variable_name') + colon() + VarValueGrammar('value'))
    )


def _stub_data(case: Dict[str, Any], parse_results: ParseResults) -> Dict[str, Any]:
    service = case.setdefault('stub_actions', {}).setdefault(parse_results['stub_service'], {})
    return service.setdefault(parse_results['stub_action'], {})  # type: ignore[no-any-return]


def _ingest_body(data: Dict[str, Any], parse_results: ParseResults, file_name: str, line_number: int) -> None:
    if 'errors' in data:
        raise syntax_error('A stub action cannot have both a body and errors', file_name, line_number)
    value = get_parsed_data_type_value(parse_results, parse_results['value'])
    path_put(data.setdefault('body', {}), parse_results['variable_name'], value)


def _ingest_error(data: Dict[str, Any], parse_results: ParseResults, file_name: str, line_number: int) -> None:
    if 'body' in data:
        raise syntax_error('A stub action cannot have both a body and errors', file_name, line_number)
    field = get_result(parse_results, 'field_name') or None
    message = parse_results['error_message'] or None
    data.setdefault('errors', []).append(
        {
            'code': parse_results['error_code'],
            'field': None if field in (None, 'none', 'None') else field,
            'message': None if message in (None, 'none', 'None') else message,
        }
    )


def _ingest_called(data: Dict[str, Any], parse_results: ParseResults, file_name: str, line_number: int) -> None:
    not_called = bool(get_result(parse_results, 'not'))
    data.setdefault('expect_line', line_number)
    if (not_called and 'expect_called' in data) or (not not_called and data.get('expect_not_called')):
        raise syntax_error('Cannot expect a stub action to be both called and not called', file_name, line_number)
    if not_called:
        if get_result(parse_results, 'variable_name'):
            raise syntax_error('`expect not called` takes no body', file_name, line_number)
        data['expect_not_called'] = True
        return
    body = data.setdefault('expect_called', {})
    if get_result(parse_results, 'variable_name'):
        value = get_parsed_data_type_value(parse_results, parse_results['value'])
        path_put(body, parse_results['variable_name'], value)


def _ingest(case: Dict[str, Any], parse_results: ParseResults, file_name: str, line_number: int) -> None:
    data = _stub_data(case, parse_results)
    if 'called' in parse_results:
        _ingest_called(data, parse_results, file_name, line_number)
    elif 'error_code' in parse_results:
        _ingest_error(data, parse_results, file_name, line_number)
    else:
        _ingest_body(data, parse_results, file_name, line_number)


def _start_stubs(case: Dict[str, Any]) -> None:
    from pysoa.test.stub_service import stub_action

    started: List[Any] = case.setdefault(RUNTIME_KEY, [])
    for service, actions in sorted(case.get('stub_actions', {}).items()):
        for action, data in sorted(actions.items()):
            errors = [Error(**error) for error in data['errors']] if 'errors' in data else None
            stub = stub_action(service, action, body=data.get('body'), errors=errors)
            started.append((service, action, stub, stub.start()))


def _stop_stubs(case: Dict[str, Any]) -> None:
    for _service, _action, stub, _mock in reversed(case.pop(RUNTIME_KEY, [])):
        stub.stop()


def _check_stubs(case: Dict[str, Any]) -> None:
    for service, action, _stub, stub_mock in case.get(RUNTIME_KEY, []):
        data = case['stub_actions'][service][action]
        try:
            _check_stub(service, action, stub_mock, data)
        except AssertionError as e:
            raise set_fixture_line(e, data.get('expect_line')) from None


def _check_stub(service: str, action: str, stub_mock: Any, data: Dict[str, Any]) -> None:
    if data.get('expect_not_called') and stub_mock.call_count:
        raise AssertionError(
            f'Expected stub action {service}.{action} not to be called, but it was called '
            f'{stub_mock.call_count} time(s) with bodies: {list(stub_mock.call_bodies)}'
        )
    if 'expect_called' in data:
        try:
            stub_mock.assert_has_calls([mock.call(data['expect_called'])])
        except AssertionError:
            raise AssertionError(
                f'Expected stub action {service}.{action} to be called with body {data["expect_called"]!r}; '
                f'it was called with: {list(stub_mock.call_bodies) or "(never called)"}'
            ) from None


class _StubMixin(ChecksNothingAfterActions):
    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        _ingest(action_case, parse_results, file_name, line_number)


class _TestStubMixin(_StubMixin):
    """Test-level stubs: one of the three directives starts, checks and stops all of them."""

    runs_stubs = False

    def set_up_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:
        if self.runs_stubs:
            _start_stubs(test_case)

    def assert_test_case_results(
        self,
        test_case_results: ActionResults,
        test_case: TestCase,
        test_fixture: TestFixture,
        msg: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        if self.runs_stubs:
            _check_stubs(test_case)

    def tear_down_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:
        if self.runs_stubs:
            _stop_stubs(test_case)


class _ActionStubMixin(_StubMixin):
    """Action-level stubs: one of the three directives starts, checks and stops all of them."""

    runs_stubs = False

    def set_up_test_case_action(
        self, action_name: str, action_case: ActionCase, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any
    ) -> None:
        if self.runs_stubs:
            _start_stubs(action_case)

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
        if self.runs_stubs:
            _check_stubs(action_case)

    def tear_down_test_case_action(
        self, action_name: str, action_case: ActionCase, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any
    ) -> None:
        if self.runs_stubs:
            _stop_stubs(action_case)


class StubActionBodyForTestDirective(_TestStubMixin, Directive):
    """``stub action: service: action: body [type]: path: value``. Runs the test case's stubs."""

    runs_stubs = True

    @classmethod
    def name(cls) -> str:
        return 'stub_action_body_for_test'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return _body_grammar()


class StubActionBodyForActionDirective(_ActionStubMixin, ActionDirective):
    """``action: stub action: service: action: body [type]: path: value``. Runs the action case's stubs."""

    runs_stubs = True

    @classmethod
    def name(cls) -> str:
        return 'stub_action_body_for_action'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + _body_grammar()


class StubActionErrorForTestDirective(_TestStubMixin, Directive):
    """``stub action: service: action: error: code=CODE, field=field_or_none, message=text``."""

    @classmethod
    def name(cls) -> str:
        return 'stub_action_error_for_test'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return _error_grammar()


class StubActionErrorForActionDirective(_ActionStubMixin, ActionDirective):
    """``action: stub action: service: action: error: code=CODE, field=field_or_none, message=text``."""

    @classmethod
    def name(cls) -> str:
        return 'stub_action_error_for_action'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + _error_grammar()


class StubActionCalledForTestDirective(_TestStubMixin, Directive):
    """``stub action: service: action: expect [not] called[: | [type]: path: value]``."""

    @classmethod
    def name(cls) -> str:
        return 'stub_action_called_for_test'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return _called_grammar()


class StubActionCalledForActionDirective(_ActionStubMixin, ActionDirective):
    """``action: stub action: service: action: expect [not] called[: | [type]: path: value]``."""

    @classmethod
    def name(cls) -> str:
        return 'stub_action_called_for_action'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + _called_grammar()
