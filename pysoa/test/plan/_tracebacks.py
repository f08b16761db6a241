"""
Makes a failing test case's traceback point into its fixture file: the exception is re-raised from a function whose
code claims to live in the fixture file, starting at the test case's first line and raising at the failing line. Any
traceback printer (pytest's included) then shows those fixture lines as the source of that frame.
"""

import functools
import types
from typing import NoReturn


__all__ = ('raise_at_fixture_line',)

_ERROR_NAME = '__pysoa_plan_error__'
# The `raise` starts the line (explicit line joining keeps it in the function) and spans more than any fixture line,
# so that tracebacks do not underline a part of the fixture line with carets.
_RAISE = f'raise ({_ERROR_NAME}{" " * 4096})'


@functools.lru_cache(maxsize=1024)
def _raiser_code(file_name: str, first_line: int, line: int, name: str) -> types.CodeType:
    first_line = max(1, min(first_line, line))
    source = '\n' * (first_line - 1) + 'def _raiser():\\\n' + '\\\n' * (line - first_line - 1)
    if line == first_line:
        source = '\n' * (first_line - 1) + 'def _raiser(): '
    module_code = compile(source + _RAISE + '\n', file_name, 'exec')
    code: types.CodeType = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    code = code.replace(co_name=name)
    if hasattr(code, 'co_qualname'):
        code = code.replace(co_qualname=name)
    return code


def raise_at_fixture_line(exception: BaseException, file_name: str, first_line: int, line: int, name: str) -> NoReturn:
    """Re-raise ``exception`` from a frame at ``file_name:line`` (in a function ``name`` starting at ``first_line``)."""
    raiser = types.FunctionType(_raiser_code(file_name, first_line, line, name), {_ERROR_NAME: exception}, name)
    raiser()
    raise AssertionError('unreachable')  # pragma: no cover
