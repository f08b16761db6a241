"""
Context managers asserting that a block raises :class:`pysoa.client.errors.CallActionError` with particular errors::

    with raises_error_codes('NOT_FOUND'):
        client.call_action('users', 'get_user', {'id': 0})

    with raises_only_field_errors({'id': 'INVALID'}):
        client.call_action('users', 'get_user', {'id': 'x'})

They are built on ``pytest.raises`` (extra keyword arguments go to it) and yield its ``ExceptionInfo``.
"""

import contextlib
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Tuple,
    Union,
)

from pysoa.test._testing_extra import missing_testing_extra


try:
    import pytest
    from pytest import ExceptionInfo
except ImportError as e:
    raise missing_testing_extra(e, __name__) from e

from pysoa.client.errors import CallActionError
from pysoa.common.errors import Error


__all__ = (
    'raises_call_action_error',
    'raises_error_codes',
    'raises_field_errors',
    'raises_only_error_codes',
    'raises_only_field_errors',
)

Codes = Union[str, Iterable[str]]


def _codes(codes: Codes) -> List[str]:
    return [codes] if isinstance(codes, str) else list(codes)


def _describe(error: Error) -> Any:
    return {error.field: (error.code, error.message)} if error.field else (error.code, error.message)


@contextlib.contextmanager
def raises_call_action_error(**kwargs: Any) -> Iterator['ExceptionInfo[CallActionError]']:
    """Expect a :class:`CallActionError`; afterwards the yielded info's ``soa_errors`` holds the first failed
    action's errors."""
    with pytest.raises(CallActionError, **kwargs) as info:
        yield info
    info.soa_errors = info.value.actions[0].errors


@contextlib.contextmanager
def raises_error_codes(
    error_codes: Codes, only: bool = False, **kwargs: Any
) -> Iterator['ExceptionInfo[CallActionError]']:
    """
    Expect a :class:`CallActionError` whose first failed action has (non-field) errors with each of ``error_codes``;
    with ``only``, no other errors. Field errors never count as one of the expected codes.
    """
    with raises_call_action_error(**kwargs) as info:
        yield info
    missing = _codes(error_codes)
    unexpected = []
    for error in info.soa_errors:  # type: ignore[attr-defined]
        if not error.field and error.code in missing:
            missing.remove(error.code)
        else:
            unexpected.append(_describe(error))
    _report(
        missing and f'Expected errors not found in response: {missing}',
        only and unexpected and f'Unexpected errors found in response: {unexpected}',
    )


def raises_only_error_codes(error_codes: Codes, **kwargs: Any) -> Any:
    """Like :func:`raises_error_codes` with ``only=True``."""
    return raises_error_codes(error_codes, only=True, **kwargs)


@contextlib.contextmanager
def raises_field_errors(
    field_errors: Dict[str, Codes], only: bool = False, **kwargs: Any
) -> Iterator['ExceptionInfo[CallActionError]']:
    """
    Expect a :class:`CallActionError` whose first failed action has, for each field of ``field_errors``, an error
    with each of its codes; with ``only``, no other errors.
    """
    with raises_call_action_error(**kwargs) as info:
        yield info
    missing: List[Tuple[str, str]] = [(field, code) for field, codes in field_errors.items() for code in _codes(codes)]
    unexpected = []
    for error in info.soa_errors:  # type: ignore[attr-defined]
        if error.field and (error.field, error.code) in missing:
            missing.remove((error.field, error.code))
        else:
            unexpected.append(_describe(error))
    _report(
        missing and f'Expected field errors not found in response: {[{field: code} for field, code in missing]}',
        only and unexpected and f'Unexpected errors found in response: {unexpected}',
    )


def raises_only_field_errors(field_errors: Dict[str, Codes], **kwargs: Any) -> Any:
    """Like :func:`raises_field_errors` with ``only=True``."""
    return raises_field_errors(field_errors, only=True, **kwargs)


def _report(*messages: Any) -> None:
    failures = [m for m in messages if m]
    if failures:
        pytest.fail('\n'.join(failures))
