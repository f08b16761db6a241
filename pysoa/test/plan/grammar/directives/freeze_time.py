"""
``[action:] freeze time: value`` freezes the clock (with freezegun) for the whole test case or one action. The value
is ``now`` (the time the test case or action starts) or ``YYYY-MM-DDTHH:MM:SSZ`` (UTC).
"""

import datetime
import re
from typing import (
    Any,
    Dict,
)

from pyparsing import (
    ParserElement,
    ParseResults,
)

from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    ChecksNothingAfterActions,
    Directive,
    TestCase,
    TestFixture,
    VarValueGrammar,
    colon,
    keyword,
    syntax_error,
)


__all__ = ()

_TIMESTAMP = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')
RUNTIME_KEY = '_freezer_started'


def _grammar() -> ParserElement:
    return keyword('freeze') + keyword('time') + colon() + VarValueGrammar('value')


def _ingest(case: Dict[str, Any], parse_results: ParseResults, file_name: str, line_number: int) -> None:
    value = parse_results['value']
    if value != 'now':
        valid = bool(_TIMESTAMP.match(value))
        if valid:
            try:
                datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ')
            except ValueError:
                valid = False
        if not valid:
            raise syntax_error(f'Expected `now` or a time like 2020-01-31T13:45:00Z to freeze time at, got `{value}`',
                               file_name, line_number)
    try:
        import freezegun  # noqa: F401
    except ImportError:
        raise syntax_error('The `freeze time` directive needs freezegun: pip install freezegun', file_name,
                           line_number) from None
    case['freeze_time'] = value


def _start(case: Dict[str, Any]) -> None:
    if 'freeze_time' not in case:
        return
    import freezegun

    value = case['freeze_time']
    freezer = freezegun.freeze_time(None if value == 'now' else datetime.datetime.strptime(value, '%Y-%m-%dT%H:%M:%SZ'))
    freezer.start()
    case[RUNTIME_KEY] = freezer


def _stop(case: Dict[str, Any]) -> None:
    freezer = case.pop(RUNTIME_KEY, None)
    if freezer is not None:
        freezer.stop()


class FreezeTimeTestDirective(ChecksNothingAfterActions, Directive):
    """``freeze time: now | YYYY-MM-DDTHH:MM:SSZ`` for the whole test case."""

    @classmethod
    def name(cls) -> str:
        return 'freeze_time_test'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return _grammar()

    def ingest_from_parsed_test_fixture(self, action_case: ActionCase, test_case: TestCase,
                                        parse_results: ParseResults, file_name: str, line_number: int) -> None:
        _ingest(test_case, parse_results, file_name, line_number)

    def set_up_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:
        _start(test_case)

    def tear_down_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:
        _stop(test_case)


class FreezeTimeActionDirective(ChecksNothingAfterActions, ActionDirective):
    """``action: freeze time: now | YYYY-MM-DDTHH:MM:SSZ`` for this action only."""

    @classmethod
    def name(cls) -> str:
        return 'freeze_time_action'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return super().get_full_grammar() + _grammar()

    def ingest_from_parsed_test_fixture(self, action_case: ActionCase, test_case: TestCase,
                                        parse_results: ParseResults, file_name: str, line_number: int) -> None:
        _ingest(action_case, parse_results, file_name, line_number)

    def set_up_test_case_action(self, action_name: str, action_case: ActionCase, test_case: TestCase,
                                test_fixture: TestFixture, **kwargs: Any) -> None:
        _start(action_case)

    def tear_down_test_case_action(self, action_name: str, action_case: ActionCase, test_case: TestCase,
                                   test_fixture: TestFixture, **kwargs: Any) -> None:
        _stop(action_case)
