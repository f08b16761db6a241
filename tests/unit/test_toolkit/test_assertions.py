"""
The assertion helpers of :mod:`pysoa.test.assertions`. Each test raises a ``CallActionError`` built by hand inside the
helper's block, so what is checked is exactly the helper's judgement of those errors and its failure message.
"""

import re
from typing import (
    ContextManager,
    Optional,
)

import pytest

from pysoa.client.errors import CallActionError
from pysoa.common.errors import Error
from pysoa.common.types import ActionResponse
from pysoa.test.assertions import (
    raises_call_action_error,
    raises_error_codes,
    raises_field_errors,
    raises_only_error_codes,
    raises_only_field_errors,
)


def action_error(*errors: Error) -> CallActionError:
    """The exception a client raises when the action ``get_user`` fails with ``errors``."""
    return CallActionError([ActionResponse('get_user', errors=list(errors))])


def error(code: str, field: Optional[str] = None, message: str = 'It failed') -> Error:
    return Error(code=code, message=message, field=field)


def fails_with(message: str) -> ContextManager[pytest.ExceptionInfo[BaseException]]:
    """Expects the block to fail the test (``pytest.fail``) with exactly ``message``."""
    return pytest.raises(pytest.fail.Exception, match=f'^{re.escape(message)}$')


def error_line(text: str) -> str:
    """A pattern for the line of a pytest failure report that shows the exception text ``text``."""
    return r'E\s+' + re.escape(text) + '$'


# raises_call_action_error ---------------------------------------------------------------------------------------------


def test_raises_call_action_error_yields_the_exception_info_of_the_call_action_error() -> None:
    raised = action_error(error('NOT_FOUND'))

    with raises_call_action_error() as info:
        raise raised

    assert info.value is raised


def test_raises_call_action_error_sets_soa_errors_to_the_errors_of_the_first_failed_action() -> None:
    first_errors = [error('NOT_FOUND'), error('INVALID', field='id')]

    with raises_call_action_error() as info:
        raise CallActionError(
            [
                ActionResponse('get_user', errors=first_errors),
                ActionResponse('get_group', errors=[error('FORBIDDEN')]),
            ]
        )

    assert info.soa_errors == first_errors


def test_raises_call_action_error_fails_when_the_block_raises_nothing() -> None:
    with pytest.raises(pytest.fail.Exception, match=r'DID NOT RAISE .*CallActionError'):
        with raises_call_action_error():
            pass


def test_raises_call_action_error_lets_other_exceptions_through() -> None:
    with pytest.raises(ValueError, match='not an action error'):
        with raises_call_action_error():
            raise ValueError('not an action error')


def test_raises_call_action_error_passes_keyword_arguments_to_pytest_raises() -> None:
    with raises_call_action_error(match='NOT_FOUND'):
        raise action_error(error('NOT_FOUND'))


def test_raises_call_action_error_fails_when_the_match_keyword_does_not_match() -> None:
    with pytest.raises(AssertionError, match='Regex pattern did not match'):
        with raises_call_action_error(match='FORBIDDEN'):
            raise action_error(error('NOT_FOUND'))


# raises_error_codes ---------------------------------------------------------------------------------------------------


def test_raises_error_codes_passes_when_the_error_code_string_is_found() -> None:
    with raises_error_codes('NOT_FOUND'):
        raise action_error(error('NOT_FOUND'))


@pytest.mark.parametrize('codes', [['NOT_FOUND', 'FORBIDDEN'], ('FORBIDDEN', 'NOT_FOUND'), {'NOT_FOUND', 'FORBIDDEN'}])
def test_raises_error_codes_passes_when_every_code_of_an_iterable_is_found(codes: object) -> None:
    with raises_error_codes(codes):  # type: ignore[arg-type]
        raise action_error(error('NOT_FOUND'), error('FORBIDDEN'))


def test_raises_error_codes_ignores_other_errors() -> None:
    with raises_error_codes('NOT_FOUND'):
        raise action_error(error('INVALID', field='id'), error('NOT_FOUND'), error('FORBIDDEN'))


def test_raises_error_codes_yields_the_exception_info_with_soa_errors() -> None:
    errors = [error('NOT_FOUND'), error('FORBIDDEN')]

    with raises_error_codes('NOT_FOUND') as info:
        raise action_error(*errors)

    assert info.soa_errors == errors


def test_raises_error_codes_fails_when_the_code_is_missing() -> None:
    with fails_with("Expected errors not found in response: ['NOT_FOUND']"):
        with raises_error_codes('NOT_FOUND'):
            raise action_error(error('FORBIDDEN'))


def test_raises_error_codes_treats_a_string_as_one_code_not_as_its_characters() -> None:
    with fails_with("Expected errors not found in response: ['AB']"):
        with raises_error_codes('AB'):
            raise action_error(error('A'), error('B'))


def test_raises_error_codes_lists_every_missing_code_in_the_order_given() -> None:
    with fails_with("Expected errors not found in response: ['NOT_FOUND', 'EXPIRED']"):
        with raises_error_codes(['NOT_FOUND', 'FORBIDDEN', 'EXPIRED']):
            raise action_error(error('FORBIDDEN'))


def test_raises_error_codes_does_not_accept_a_field_error_as_the_expected_code() -> None:
    with fails_with("Expected errors not found in response: ['INVALID']"):
        with raises_error_codes('INVALID'):
            raise action_error(error('INVALID', field='id'))


def test_raises_error_codes_needs_one_error_per_repetition_of_a_code() -> None:
    with fails_with("Expected errors not found in response: ['NOT_FOUND']"):
        with raises_error_codes(['NOT_FOUND', 'NOT_FOUND']):
            raise action_error(error('NOT_FOUND'))


def test_raises_error_codes_fails_when_the_block_raises_nothing() -> None:
    with pytest.raises(pytest.fail.Exception, match=r'DID NOT RAISE .*CallActionError'):
        with raises_error_codes('NOT_FOUND'):
            pass


def test_raises_error_codes_with_only_passes_when_the_errors_are_exactly_the_codes() -> None:
    with raises_error_codes(['NOT_FOUND', 'FORBIDDEN'], only=True):
        raise action_error(error('FORBIDDEN'), error('NOT_FOUND'))


def test_raises_error_codes_with_only_lists_unexpected_errors_as_code_and_message() -> None:
    with fails_with("Unexpected errors found in response: [('FORBIDDEN', 'Not yours')]"):
        with raises_error_codes('NOT_FOUND', only=True):
            raise action_error(error('NOT_FOUND'), error('FORBIDDEN', message='Not yours'))


def test_raises_error_codes_with_only_lists_unexpected_field_errors_by_field() -> None:
    with fails_with("Unexpected errors found in response: [{'id': ('INVALID', 'Not an integer')}]"):
        with raises_error_codes('NOT_FOUND', only=True):
            raise action_error(error('NOT_FOUND'), error('INVALID', field='id', message='Not an integer'))


def test_raises_error_codes_with_only_reports_missing_and_unexpected_errors_on_two_lines() -> None:
    with fails_with(
        "Expected errors not found in response: ['NOT_FOUND']\n"
        "Unexpected errors found in response: [('FORBIDDEN', 'Not yours')]"
    ):
        with raises_error_codes('NOT_FOUND', only=True):
            raise action_error(error('FORBIDDEN', message='Not yours'))


def test_raises_only_error_codes_passes_when_the_errors_are_exactly_the_codes() -> None:
    with raises_only_error_codes('NOT_FOUND'):
        raise action_error(error('NOT_FOUND'))


def test_raises_only_error_codes_fails_on_unexpected_errors() -> None:
    with fails_with("Unexpected errors found in response: [('FORBIDDEN', 'Not yours')]"):
        with raises_only_error_codes('NOT_FOUND'):
            raise action_error(error('NOT_FOUND'), error('FORBIDDEN', message='Not yours'))


def test_raises_only_error_codes_passes_keyword_arguments_to_pytest_raises() -> None:
    with pytest.raises(AssertionError, match='Regex pattern did not match'):
        with raises_only_error_codes('NOT_FOUND', match='get_group'):
            raise action_error(error('NOT_FOUND'))


# raises_field_errors --------------------------------------------------------------------------------------------------


def test_raises_field_errors_passes_when_the_field_has_the_code() -> None:
    with raises_field_errors({'id': 'INVALID'}):
        raise action_error(error('INVALID', field='id'))


def test_raises_field_errors_passes_when_a_field_has_every_code_of_an_iterable() -> None:
    with raises_field_errors({'id': ['INVALID', 'TOO_LONG'], 'name': 'MISSING'}):
        raise action_error(error('TOO_LONG', field='id'), error('MISSING', field='name'), error('INVALID', field='id'))


def test_raises_field_errors_ignores_other_errors() -> None:
    with raises_field_errors({'id': 'INVALID'}):
        raise action_error(error('NOT_FOUND'), error('INVALID', field='id'), error('MISSING', field='name'))


def test_raises_field_errors_yields_the_exception_info_with_soa_errors() -> None:
    errors = [error('INVALID', field='id')]

    with raises_field_errors({'id': 'INVALID'}) as info:
        raise action_error(*errors)

    assert info.soa_errors == errors


def test_raises_field_errors_fails_when_the_field_error_is_missing() -> None:
    with fails_with("Expected field errors not found in response: [{'name': 'MISSING'}]"):
        with raises_field_errors({'name': 'MISSING'}):
            raise action_error(error('INVALID', field='id'))


def test_raises_field_errors_treats_a_string_as_one_code_not_as_its_characters() -> None:
    with fails_with("Expected field errors not found in response: [{'id': 'AB'}]"):
        with raises_field_errors({'id': 'AB'}):
            raise action_error(error('A', field='id'), error('B', field='id'))


def test_raises_field_errors_lists_each_missing_field_and_code() -> None:
    with fails_with("Expected field errors not found in response: [{'id': 'TOO_LONG'}, {'name': 'MISSING'}]"):
        with raises_field_errors({'id': ['INVALID', 'TOO_LONG'], 'name': 'MISSING'}):
            raise action_error(error('INVALID', field='id'))


def test_raises_field_errors_does_not_accept_the_code_on_another_field() -> None:
    with fails_with("Expected field errors not found in response: [{'id': 'INVALID'}]"):
        with raises_field_errors({'id': 'INVALID'}):
            raise action_error(error('INVALID', field='name'))


def test_raises_field_errors_does_not_accept_a_non_field_error_with_the_code() -> None:
    with fails_with("Expected field errors not found in response: [{'id': 'INVALID'}]"):
        with raises_field_errors({'id': 'INVALID'}):
            raise action_error(error('INVALID'))


def test_raises_field_errors_fails_when_the_block_raises_nothing() -> None:
    with pytest.raises(pytest.fail.Exception, match=r'DID NOT RAISE .*CallActionError'):
        with raises_field_errors({'id': 'INVALID'}):
            pass


def test_raises_field_errors_with_only_passes_when_the_errors_are_exactly_the_field_errors() -> None:
    with raises_field_errors({'id': 'INVALID', 'name': 'MISSING'}, only=True):
        raise action_error(error('MISSING', field='name'), error('INVALID', field='id'))


def test_raises_field_errors_with_only_lists_unexpected_field_and_non_field_errors() -> None:
    with fails_with(
        "Unexpected errors found in response: [{'name': ('MISSING', 'Missing key: name')}, "
        "('UNKNOWN', 'Extra keys present: age')]"
    ):
        with raises_field_errors({'id': 'INVALID'}, only=True):
            raise action_error(
                error('INVALID', field='id'),
                error('MISSING', field='name', message='Missing key: name'),
                error('UNKNOWN', message='Extra keys present: age'),
            )


def test_raises_field_errors_with_only_reports_missing_and_unexpected_errors_on_two_lines() -> None:
    with fails_with(
        "Expected field errors not found in response: [{'id': 'INVALID'}]\n"
        "Unexpected errors found in response: [{'name': ('INVALID', 'Not an integer')}]"
    ):
        with raises_field_errors({'id': 'INVALID'}, only=True):
            raise action_error(error('INVALID', field='name', message='Not an integer'))


def test_raises_only_field_errors_passes_when_the_errors_are_exactly_the_field_errors() -> None:
    with raises_only_field_errors({'id': 'INVALID'}):
        raise action_error(error('INVALID', field='id'))


def test_raises_only_field_errors_fails_on_unexpected_errors() -> None:
    with fails_with("Unexpected errors found in response: [('NOT_FOUND', 'No such user')]"):
        with raises_only_field_errors({'id': 'INVALID'}):
            raise action_error(error('INVALID', field='id'), error('NOT_FOUND', message='No such user'))


# In a real test run -----------------------------------------------------------------------------------------------


def test_a_failed_expectation_is_reported_as_a_test_failure_with_its_message(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from pysoa.client.errors import CallActionError
        from pysoa.common.errors import Error
        from pysoa.common.types import ActionResponse
        from pysoa.test.assertions import raises_only_error_codes, raises_field_errors


        def fail_with(*errors):
            raise CallActionError([ActionResponse('get_user', errors=list(errors))])


        def test_missing_code():
            with raises_only_error_codes('NOT_FOUND'):
                fail_with(Error('FORBIDDEN', 'Not yours'))


        def test_missing_field_error():
            with raises_field_errors({'id': 'INVALID'}):
                fail_with(Error('MISSING', 'Missing key: name', field='name'))


        def test_no_error_at_all():
            with raises_field_errors({'id': 'INVALID'}):
                pass
        """,
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=3)
    result.stdout.re_match_lines(
        [
            '_+ test_missing_code _+',
            error_line("Failed: Expected errors not found in response: ['NOT_FOUND']"),
            error_line("Unexpected errors found in response: [('FORBIDDEN', 'Not yours')]"),
            '_+ test_missing_field_error _+',
            error_line("Failed: Expected field errors not found in response: [{'id': 'INVALID'}]"),
            '_+ test_no_error_at_all _+',
            r'E\s+Failed: DID NOT RAISE .*CallActionError',
        ]
    )
