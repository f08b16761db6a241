"""The exceptions raised while loading, parsing and running test plans."""

from typing import Optional


__all__ = (
    'DataTypeConversionError',
    'DirectiveError',
    'FixtureLoadError',
    'FixtureSyntaxError',
    'StatusError',
    'set_fixture_line',
)


class DataTypeConversionError(Exception):
    """A value in a test fixture could not be converted to the data type the directive named."""


class DirectiveError(Exception):
    """A directive is defined or registered incorrectly."""


class FixtureLoadError(Exception):
    """A test fixture file (or the directory of fixtures) could not be found or contains no test cases."""


class StatusError(Exception):
    """A test plan is in an unexpected state while it runs (a missing substitution value, an un-set-up fixture...)."""


class FixtureSyntaxError(SyntaxError):
    """
    A test fixture file is malformed. Behaves like Python's own :class:`SyntaxError`: ``filename``, ``lineno``,
    ``offset`` (1-based column) and ``text`` tell where, so tracebacks show the offending line with a caret.

    When given a file name and line number but no ``line_text``, the line is read from the file (stripped) and,
    lacking an ``offset``, the caret goes at its end.
    """

    def __init__(
        self,
        message: str,
        file_name: Optional[str],
        line_number: int = 0,
        offset: int = 0,
        line_text: str = '',
    ) -> None:
        if file_name and line_number and not line_text:
            line_text = _read_line(file_name, line_number)
            if not offset:
                offset = len(line_text)
        super().__init__(message, (file_name, line_number, offset, line_text))


def _read_line(file_name: str, line_number: int) -> str:
    try:
        with open(file_name, encoding='utf-8') as f:
            for number, line in enumerate(f, start=1):
                if number == line_number:
                    return line.strip()
    except (OSError, UnicodeDecodeError):
        pass
    return ''


FIXTURE_LINE_ATTRIBUTE = '_pysoa_fixture_line'
"""The attribute of an exception raised while a test case runs that holds the fixture line responsible for it."""


def set_fixture_line(exception: BaseException, line_number: Optional[int]) -> BaseException:
    """
    Record which fixture line an exception raised while a test case runs is about (unless one is recorded already),
    so that its traceback points at that line. Directives may call it to be more precise than the default (the first
    line of the directive in the action case). Returns the exception.
    """
    if line_number and not hasattr(exception, FIXTURE_LINE_ATTRIBUTE):
        try:
            setattr(exception, FIXTURE_LINE_ATTRIBUTE, line_number)
        except (AttributeError, TypeError):
            pass
    return exception
