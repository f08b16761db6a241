"""
Error expectations: ``action: expect: [not] [exact] [job] error: code=C[, field=F][, message=text]`` and
``action: expect: no errors``.

Each ``error`` line is a template (the code, and the field and message when given; anything else matches).
Plain templates must each match an error of the action (or, with ``job``, of the job); ``exact`` templates must also
account for every error; ``not`` templates must match none.
"""

from typing import (
    Any,
    Dict,
    List,
    Optional,
    Sequence,
)

from pyparsing import (
    Opt,
    ParserElement,
    ParseResults,
    Regex,
    Suppress,
)

from pysoa.common.constants import ERROR_CODE_SERVER_ERROR
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.plan.errors import set_fixture_line
from pysoa.test.plan.grammar.data_types import get_typed_value
from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    ChecksNothingAfterActions,
    TestCase,
    TestFixture,
    VarValueGrammar,
    colon,
    get_result,
    keyword,
)


__all__ = (
    'ExpectErrorDirective',
    'ExpectErrorFieldDirective',
    'ExpectErrorFieldMessageDirective',
    'ExpectErrorMessageDirective',
    'ExpectNoErrorsDirective',
    'format_errors',
    'server_error_details',
)

ErrorCodeGrammar = Regex(r'[A-Za-z0-9_-]+').set_name('error code')
FieldNameGrammar = Regex(r'[A-Za-z0-9_.{}\[\]-]+').set_name('field name')


def _code() -> ParserElement:
    return keyword('code') + Suppress('=') + ErrorCodeGrammar('error_code')


def _field() -> ParserElement:
    return Suppress(',') + keyword('field') + Suppress('=') + FieldNameGrammar('field_name')


def _message() -> ParserElement:
    return Suppress(',') + keyword('message') + Suppress('=') + VarValueGrammar('error_message')


def server_error_details(errors: Sequence[Error]) -> str:
    """``\\n\\nSERVER_ERROR: message`` (and its traceback) for each server error, to explain unexpected failures."""
    details = ''
    for error in errors:
        if error.code == ERROR_CODE_SERVER_ERROR:
            details += f'\n\nSERVER_ERROR: {error.message}'
            if error.traceback:
                details += f'\n{error.traceback}'
    return details


def format_errors(errors: Sequence[Any]) -> str:
    """One error (or template) per line: ``code=X, field=Y, message='...'``."""
    lines = []
    for error in errors:
        values = (
            error if isinstance(error, dict) else {'code': error.code, 'field': error.field, 'message': error.message}
        )
        values = {key: value for key, value in values.items() if not key.startswith('_')}
        parts = [f'code={values["code"]}']
        if values.get('field') is not None:
            parts.append(f'field={values["field"]}')
        if values.get('message') is not None:
            parts.append(f'message={values["message"]!r}')
        lines.append('    ' + ', '.join(parts))
    return '\n'.join(lines) if lines else '    (none)'


class _ErrorExpectationDirective(ChecksNothingAfterActions, ActionDirective):
    """Shared by the ``expect: ... error:`` directives: they build error templates."""

    @classmethod
    def _error_details_grammar(cls) -> ParserElement:
        raise NotImplementedError

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + keyword('expect')
            + colon()
            + Opt(keyword('not')('not'))
            + Opt(keyword('exact')('exact'))
            + Opt(keyword('job')('job'))
            + keyword('error')
            + colon()
            + cls._error_details_grammar()
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        template: Dict[str, Any] = {'code': parse_results['error_code'], '_line': line_number}
        if get_result(parse_results, 'field_name'):
            template['field'] = parse_results['field_name']
        if 'error_message' in parse_results:
            template['message'] = get_typed_value('str', parse_results['error_message'])
        scope = 'job' if get_result(parse_results, 'job') else 'action'
        kind = 'expected'
        if get_result(parse_results, 'not'):
            kind = 'not'
        elif get_result(parse_results, 'exact'):
            kind = 'exact'
        expectations = action_case.setdefault('error_expectations', {}).setdefault(scope, {})
        expectations.setdefault(kind, []).append(template)


class ExpectErrorFieldMessageDirective(_ErrorExpectationDirective):
    """``action: expect: [not] [exact] [job] error: code=CODE, field=field.path, message=The message``."""

    @classmethod
    def name(cls) -> str:
        return 'expect_error_field_message'

    @classmethod
    def _error_details_grammar(cls) -> ParserElement:
        return _code() + _field() + _message()


class ExpectErrorMessageDirective(_ErrorExpectationDirective):
    """``action: expect: [not] [exact] [job] error: code=CODE, message=The message``."""

    @classmethod
    def name(cls) -> str:
        return 'expect_error_message'

    @classmethod
    def _error_details_grammar(cls) -> ParserElement:
        return _code() + _message()


class ExpectErrorFieldDirective(_ErrorExpectationDirective):
    """``action: expect: [not] [exact] [job] error: code=CODE, field=field.path``."""

    @classmethod
    def name(cls) -> str:
        return 'expect_error_field'

    @classmethod
    def _error_details_grammar(cls) -> ParserElement:
        return _code() + _field()


def _matches(template: Dict[str, Any], error: Error) -> bool:
    return all(getattr(error, key) == value for key, value in template.items() if not key.startswith('_'))


def _check(scope: str, expectations: Dict[str, List[Dict[str, Any]]], errors: List[Error]) -> None:
    problems = []
    failed_templates: List[Dict[str, Any]] = []
    missing = [t for t in expectations.get('expected', []) if not any(_matches(t, e) for e in errors)]
    failed_templates += missing
    if missing:
        problems.append(f'Expected {scope} errors not found:\n{format_errors(missing)}')
    exact = expectations.get('exact', [])
    if exact:
        exact_missing = [t for t in exact if not any(_matches(t, e) for e in errors)]
        unmatched = [e for e in errors if not any(_matches(t, e) for t in exact)]
        if exact_missing or len(exact) != len(errors) or unmatched:
            failed_templates += exact_missing or exact
            problems.append(f'Expected exactly these {scope} errors:\n{format_errors(exact)}')
    found = [t for t in expectations.get('not', []) if any(_matches(t, e) for e in errors)]
    failed_templates += found
    if found:
        problems.append(f'Found {scope} errors that were expected not to be there:\n{format_errors(found)}')
    if problems:
        message = '\n'.join(problems) + f'\nActual {scope} errors:\n{format_errors(errors)}'
        error = AssertionError(message + server_error_details(errors))
        raise set_fixture_line(error, min(t['_line'] for t in failed_templates))


class ExpectErrorDirective(_ErrorExpectationDirective):
    """
    ``action: expect: [not] [exact] [job] error: code=CODE``. Also checks the templates of the other error
    directives once the action has run.
    """

    @classmethod
    def name(cls) -> str:
        return 'expect_error'

    @classmethod
    def _error_details_grammar(cls) -> ParserElement:
        return _code()

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
        expectations = action_case.get('error_expectations') or {}
        if 'action' in expectations:
            _check('action', expectations['action'], list(action_response.errors) if action_response else [])
        if 'job' in expectations:
            _check('job', expectations['job'], list(job_response.errors))


class ExpectNoErrorsDirective(ActionDirective):
    """``action: expect: no errors``: neither the job nor the action may fail."""

    @classmethod
    def name(cls) -> str:
        return 'expect_no_errors'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + keyword('expect') + colon() + keyword('no') + keyword('errors')

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        action_case['expect_no_errors'] = True

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
        if not action_case.get('expect_no_errors'):
            return
        if job_response.errors:
            raise AssertionError(
                f'Expected no errors, got job errors:\n{format_errors(job_response.errors)}'
                + server_error_details(job_response.errors)
            )
        if action_response is not None and action_response.errors:
            raise AssertionError(
                f'Expected no errors, got action errors:\n{format_errors(action_response.errors)}'
                + server_error_details(action_response.errors)
            )
