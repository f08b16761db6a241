"""
Expectations about the response body:

* ``action: expect [type]: attribute value: path: value`` (the expected values must be found in the body; extra keys
  and list items in the body are fine);
* ``action: expect [type]: not attribute value: path: value`` (the path must not hold that value);
* ``action: expect any [type]: attribute value: path`` (any value of the type);
* ``action: expect NONE: attribute value: path`` (the value must be None);
* ``action: expect not present: attribute value: path`` (the path must not exist).
"""

from typing import (
    Any,
    Optional,
)

from pyparsing import (
    CaselessKeyword,
    Opt,
    ParserElement,
    ParseResults,
)

from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.plan.errors import set_fixture_line
from pysoa.test.plan.grammar.assertions import (
    assert_not_expected,
    assert_not_present,
    assert_subset_structure,
)
from pysoa.test.plan.grammar.data_types import (
    AnyValue,
    get_parsed_data_type_value,
)
from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    ChecksNothingAfterActions,
    TestCase,
    TestFixture,
    VarNameGrammar,
    VarValueGrammar,
    colon,
    get_result,
    keyword,
    optional_data_type,
)
from pysoa.test.plan.grammar.directives.expect_errors import (
    format_errors,
    server_error_details,
)
from pysoa.test.plan.grammar.tools import (
    normalize_path,
    path_put,
)


__all__ = (
    'ExpectAnyValueDirective',
    'ExpectNoneDirective',
    'ExpectNotPresentDirective',
    'ExpectValueDirective',
)


def _attribute_value() -> ParserElement:
    return keyword('attribute') + keyword('value') + colon()


def _record_line(action_case: ActionCase, key: str, path: str, line_number: int) -> None:
    """Remember the (last) line of each expected path, so a failure points at the first line of a failing path."""
    action_case.setdefault('expect_value_lines', {}).setdefault(key, {})[normalize_path(path)] = line_number


def _raise_at_failing_line(error: AssertionError, action_case: ActionCase, key: str) -> None:
    lines = action_case.get('expect_value_lines', {}).get(key, {})
    failing_lines = [
        line_number
        for failed in getattr(error, 'failed_paths', [])
        for path, line_number in lines.items()
        if path == failed or path.startswith(failed + '.') or failed.startswith(path + '.')
    ]
    if failing_lines:
        set_fixture_line(error, min(failing_lines))
    raise error


def _errors_note(action_response: Optional[ActionResponse], job_response: JobResponse) -> Optional[str]:
    """Why the body may be missing: the job or action errors, if any."""
    errors = list(job_response.errors) or (list(action_response.errors) if action_response else [])
    if not errors:
        return None
    scope = 'job' if job_response.errors else 'action'
    return f'The {scope} failed with:\n{format_errors(errors)}{server_error_details(errors)}\n'


class _ValueDirective(ChecksNothingAfterActions, ActionDirective):
    """The base of the value expectation directives; :class:`ExpectValueDirective` checks them all after an action."""


class ExpectValueDirective(_ValueDirective):
    """
    ``action: expect [type]: [not] attribute value: path: value``. Also checks the values of ``expect any`` and
    ``expect NONE`` once the action has run.
    """

    @classmethod
    def name(cls) -> str:
        return 'expect_value'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + keyword('expect')
            + optional_data_type()
            + Opt(keyword('not')('not'))
            + _attribute_value()
            + VarNameGrammar('variable_name')
            + colon()
            + VarValueGrammar('value')
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        key = 'not_expects' if get_result(parse_results, 'not') else 'expects'
        value = get_parsed_data_type_value(parse_results, parse_results['value'])
        path_put(action_case.setdefault(key, {}), parse_results['variable_name'], value, pad_with_unspecified=True)
        _record_line(action_case, key, parse_results['variable_name'], line_number)

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
        body = action_response.body if action_response is not None else {}
        note = _errors_note(action_response, job_response)
        for key, check in (('expects', assert_subset_structure), ('not_expects', assert_not_expected)):
            if key in action_case:
                try:
                    check(action_case[key], body, msg=note)
                except AssertionError as e:
                    _raise_at_failing_line(e, action_case, key)


class ExpectAnyValueDirective(_ValueDirective):
    """``action: expect any [type]: attribute value: path``: the path must hold a value of the type (``str``)."""

    @classmethod
    def name(cls) -> str:
        return 'expect_any_value'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + keyword('expect')
            + keyword('any')
            + optional_data_type()
            + _attribute_value()
            + VarNameGrammar('variable_name')
            + Opt(colon())
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        value = AnyValue(get_result(parse_results, 'data_type') or 'str')
        path_put(
            action_case.setdefault('expects', {}), parse_results['variable_name'], value, pad_with_unspecified=True
        )
        _record_line(action_case, 'expects', parse_results['variable_name'], line_number)


class ExpectNoneDirective(_ValueDirective):
    """``action: expect NONE: attribute value: path``: the path must hold None (``NONE`` in any case)."""

    @classmethod
    def name(cls) -> str:
        return 'expect_none'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + keyword('expect')
            + CaselessKeyword('NONE').set_name("'NONE'")
            + colon()
            + _attribute_value()
            + VarNameGrammar('variable_name')
            + Opt(colon())
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        path_put(action_case.setdefault('expects', {}), parse_results['variable_name'], None, pad_with_unspecified=True)
        _record_line(action_case, 'expects', parse_results['variable_name'], line_number)


class ExpectNotPresentDirective(_ValueDirective):
    """``action: expect not present: attribute value: path``: the path must not exist in the response body."""

    @classmethod
    def name(cls) -> str:
        return 'expect_not_present'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + keyword('expect')
            + keyword('not')
            + keyword('present')
            + colon()
            + _attribute_value()
            + VarNameGrammar('variable_name')
            + Opt(colon())
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        paths = action_case.setdefault('expects_not_present', [])
        if parse_results['variable_name'] not in paths:
            paths.append(parse_results['variable_name'])
        _record_line(action_case, 'expects_not_present', parse_results['variable_name'], line_number)

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
        if 'expects_not_present' in action_case:
            body = action_response.body if action_response is not None else {}
            try:
                assert_not_present(action_case['expects_not_present'], body)
            except AssertionError as e:
                _raise_at_failing_line(e, action_case, 'expects_not_present')
