"""
Reads a test fixture file (``.pysoa``) into its test cases.

The file is line oriented: each non-blank line is one directive, and blank lines separate test cases. A line that
ends with a backslash continues on the next line if that line is indented: the backslash, the line break and the
indentation are removed (``message: Hello, \\`` + ``    world`` reads ``message: Hello, world``). A backslash at the
end of a line followed by an unindented line (or a blank line, or the end of the file) is kept as it is, and comments
never continue.
"""

import re
from typing import (
    Any,
    Dict,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Type,
)

from pyparsing import (
    ParseBaseException,
    ParserElement,
    ParseResults,
)

from pysoa.test.plan.errors import (
    DataTypeConversionError,
    FixtureLoadError,
    FixtureSyntaxError,
)
from pysoa.test.plan.grammar.directive import (
    ActionDirective,
    Directive,
    TestCase,
    TestFixture,
    get_all_directives,
    get_result,
)


__all__ = ('ServiceTestPlanFixtureParser',)


class _Line(NamedTuple):
    """A logical line: its text and, for each physical line it spans, ``(offset in text, line number, column)``."""

    text: str
    pieces: Tuple[Tuple[int, int, int], ...]

    @property
    def number(self) -> int:
        return self.pieces[0][1]

    def locate(self, offset: int) -> Tuple[int, int]:
        """The physical line number and 0-based column of an offset into the text."""
        start, number, column = self.pieces[0]
        for piece in self.pieces:
            if piece[0] <= offset:
                start, number, column = piece
        return number, column + offset - start


class _Event(NamedTuple):
    """A parsed line: the directive that matched it and its parse results."""

    directive: Type[Directive]
    results: ParseResults
    line: _Line

    @property
    def is_global(self) -> bool:
        return bool(get_result(self.results, 'is_global'))

    @property
    def action_path(self) -> Optional[str]:
        if not issubclass(self.directive, ActionDirective):
            return None
        return f'{self.results["action"]}.{get_result(self.results, "action_index") or 0}'


def _continues(text: str) -> bool:
    stripped = text.rstrip(' \t')
    backslashes = len(stripped) - len(stripped.rstrip('\\'))
    return backslashes % 2 == 1 and not stripped.lstrip().startswith('#')


def _logical_lines(physical_lines: Sequence[str]) -> List[Optional[_Line]]:
    """The logical lines (``None`` for blank ones), joining continued lines."""
    result: List[Optional[_Line]] = []
    index = 0
    while index < len(physical_lines):
        text = physical_lines[index]
        if not text.strip():
            result.append(None)
            index += 1
            continue
        pieces = [(0, index + 1, 0)]
        while (
            _continues(text)
            and index + 1 < len(physical_lines)
            and physical_lines[index + 1][:1] in (' ', '\t')
            and physical_lines[index + 1].strip()
        ):
            index += 1
            following = physical_lines[index]
            text = text.rstrip(' \t')[:-1]
            indentation = len(following) - len(following.lstrip(' \t'))
            pieces.append((len(text), index + 1, indentation))
            text += following[indentation:]
        result.append(_Line(text, tuple(pieces)))
        index += 1
    return result


_grammar_cache: Dict[Tuple[Type[Directive], ...], List[Tuple[Type[Directive], ParserElement]]] = {}


def _directive_grammars() -> List[Tuple[Type[Directive], ParserElement]]:
    directives = tuple(get_all_directives())
    if directives not in _grammar_cache:
        grammars = []
        for directive in directives:
            grammar = directive.get_full_grammar()
            grammar.streamline()
            grammars.append((directive, grammar))
        _grammar_cache[directives] = grammars
    return _grammar_cache[directives]


def _expected(message: str) -> str:
    message = message[len('Expected ') :] if message.startswith('Expected ') else message
    return {'end of text': 'end of line', 'StringEnd': 'end of line'}.get(message, message)


def _found(text: str, offset: int) -> str:
    rest = text[offset:].strip()
    if not rest:
        return 'found end of line'
    word = re.split(r'[\s:,=]', rest, maxsplit=1)[0] or rest[0]
    return f"found '{word if len(word) <= 30 else word[:30] + '...'}'"


class ServiceTestPlanFixtureParser:
    """Parses one fixture file into a list of test cases (see :mod:`pysoa.test.plan` for the format)."""

    def __init__(self, fixture_file_name: str, fixture_name: str) -> None:
        self.fixture_file_name = fixture_file_name
        self.fixture_name = fixture_name
        self._global_events: List[_Event] = []
        self._physical_lines: List[str] = []

    # Errors ----------------------------------------------------------------------------------------------------------

    def _error(self, message: str, line: _Line, offset: Optional[int] = None) -> FixtureSyntaxError:
        number, column = line.locate(offset) if offset is not None else (line.number, 0)
        physical = self._physical_lines[number - 1]
        where = (
            f'{self.fixture_file_name}:{number}:{column + 1}'
            if offset is not None
            else f'{self.fixture_file_name}:{number}'
        )
        return FixtureSyntaxError(f'{where}: {message}', self.fixture_file_name, number, column + 1, physical)

    def _match(self, line: _Line) -> _Event:
        best_offset = -1
        expected: List[str] = []
        for directive, grammar in _directive_grammars():
            try:
                return _Event(directive, grammar.parse_string(line.text, parse_all=True), line)
            except ParseBaseException as e:
                if e.loc > best_offset:
                    best_offset, expected = e.loc, []
                if e.loc == best_offset and _expected(e.msg) not in expected:
                    expected.append(_expected(e.msg))
        what = expected[0] if len(expected) == 1 else 'one of ' + ', '.join(expected)
        raise self._error(f'Invalid line: expected {what}, {_found(line.text, best_offset)}', line, best_offset)

    def _value_offset(self, event: _Event) -> int:
        """Where the value (or the path) of a line starts, to point errors at it."""
        for name in ('value', 'error_message', 'variable_name'):
            value = get_result(event.results, name)
            if isinstance(value, str) and value and event.line.text.rfind(value) >= 0:
                return event.line.text.rfind(value)
        return len(event.line.text.rstrip())

    # Ingestion -------------------------------------------------------------------------------------------------------

    def _ingest(self, event: _Event, test_case: TestCase, record_line: bool = True) -> None:
        action_path = event.action_path
        case: Dict[str, Any] = test_case if action_path is None else test_case[action_path]
        try:
            event.directive().ingest_from_parsed_test_fixture(
                case,
                test_case,
                event.results,
                self.fixture_file_name,
                event.line.number,
            )
        except FixtureSyntaxError as e:
            if getattr(e, 'needs_column', False) and e.lineno == event.line.number:
                message = getattr(e, 'directive_message', e.msg)
                raise self._error(message, event.line, self._value_offset(event)) from None
            raise
        except DataTypeConversionError as e:
            raise self._error(f'Data type conversion error: {e}', event.line, self._value_offset(event)) from e
        except ValueError as e:
            raise self._error(str(e), event.line, self._value_offset(event)) from e
        if record_line:
            self._record_line(event, test_case)

    @staticmethod
    def _record_line(event: _Event, test_case: TestCase) -> None:
        """Remember the first line of each directive of a case (runtime failures point at it)."""
        path = event.action_path
        case: Dict[str, Any] = test_case if path is None else test_case[path]
        case.setdefault('directive_lines', {}).setdefault(event.directive.name(), event.line.number)

    def _new_test_case(self, first_line: _Line) -> TestCase:
        return {
            'fixture_name': self.fixture_name,
            'fixture_file_name': self.fixture_file_name,
            'first_line': first_line.number,
            'line_number': first_line.number,
            'actions': [],
        }

    def _build_test_case(self, events: List[_Event], first_line: _Line) -> TestCase:
        test_case = self._new_test_case(first_line)
        for event in events:
            path = event.action_path
            if path is not None and path not in test_case:
                test_case['actions'].append(path)
                test_case[path] = {
                    'action_name': event.results['action'],
                    'action_index': int(get_result(event.results, 'action_index') or 0),
                    'line_number': event.line.number,
                }
        global_events = [e for e in self._global_events if e.action_path is None or e.action_path in test_case]
        for event in global_events:
            self._ingest(event, test_case, record_line=False)
        for event in events:
            self._ingest(event, test_case)
        for event in global_events:
            self._record_line(event, test_case)

        if 'name' not in test_case:
            raise self._error('Test case without name', first_line)
        if 'description' not in test_case:
            raise self._error('Test case without description', first_line)
        if not test_case['actions'] and not self._global_events:
            raise self._error('Empty test case', first_line)

        for directive in get_all_directives():
            instance = directive()
            instance.post_parse_test_case(test_case)
            for path in test_case['actions']:
                instance.post_parse_test_case_action(test_case[path], test_case)
        return test_case

    def _add_global(self, event: _Event) -> None:
        # Ingest into a scratch test case right away, so that errors in global lines show even if nothing uses them.
        scratch = self._new_test_case(event.line)
        path = event.action_path
        if path is not None:
            scratch[path] = {'action_name': event.results['action'], 'line_number': event.line.number}
        self._ingest(event, scratch)
        self._global_events.append(event)

    # Parsing ---------------------------------------------------------------------------------------------------------

    def _blocks(self) -> List[List[_Line]]:
        blocks: List[List[_Line]] = [[]]
        for line in _logical_lines(self._physical_lines):
            if line is None:
                if blocks[-1]:
                    blocks.append([])
            else:
                blocks[-1].append(line)
        return [block for block in blocks if block]

    def parse_test_fixture(self) -> TestFixture:
        """
        Parse the file into its test cases.

        :raises FixtureLoadError: If the file cannot be read or contains no test cases.
        :raises FixtureSyntaxError: If a line is not a valid directive, or a test case is incomplete.
        """
        try:
            with open(self.fixture_file_name, encoding='utf-8') as f:
                self._physical_lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise FixtureLoadError(f'Could not read the test fixture file {self.fixture_file_name}: {e}') from e

        test_fixture: TestFixture = []
        names: Dict[str, int] = {}
        for block in self._blocks():
            events = []
            for line in block:
                event = self._match(line)
                if event.directive.name() == 'fixture_comment':
                    continue
                if event.is_global:
                    self._add_global(event)
                else:
                    events.append(event)
            if not events:
                continue  # a block of comments and global directives
            test_case = self._build_test_case(events, block[0])
            if test_case['name'] in names:
                raise self._error(
                    f'Duplicate test name `{test_case["name"]}` (already used on line {names[test_case["name"]]})',
                    next(e.line for e in events if e.directive.name() == 'test_name'),
                )
            names[test_case['name']] = test_case['line_number']
            test_fixture.append(test_case)

        if not test_fixture:
            raise FixtureLoadError(f'Failed to find any test cases in file: {self.fixture_file_name}')
        return test_fixture
