"""
``[action:] freeze time: value`` freezes the clock (with freezegun) for the whole test case or one action. The value
is ``now`` (the time the test case or action starts, to the second) or ``YYYY-MM-DDTHH:MM:SSZ`` (UTC). The dates and
times relative to the clock written in the test case or action (``now``, ``utc_now 1``, ``today``...) are taken at the
frozen time too.
"""

import datetime
import re
from typing import (
    Any,
    Dict,
    Iterable,
    Optional,
)

from pyparsing import (
    ParserElement,
    ParseResults,
)

from pysoa.test.plan.grammar.data_types import freeze_clock_values
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


__all__ = (
    'FreezeTimeActionDirective',
    'FreezeTimeTestDirective',
)

_TIMESTAMP = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')
_TIMESTAMP_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
RUNTIME_KEY = '_freezer_started'
CLOCK_KEY = '_freeze_time_clock'


class _FrozenClock:
    """The time a ``freeze time`` line freezes the clock at (naive UTC); for ``now``, when it is first asked."""

    def __init__(self, value: str) -> None:
        self.instant: Optional[datetime.datetime] = (
            None if value == 'now' else datetime.datetime.strptime(value, _TIMESTAMP_FORMAT)
        )

    def __call__(self) -> datetime.datetime:
        if self.instant is None:
            self.instant = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)
        return self.instant


def _grammar() -> ParserElement:
    return keyword('freeze') + keyword('time') + colon() + VarValueGrammar('value')


def _ingest(case: Dict[str, Any], parse_results: ParseResults, file_name: str, line_number: int) -> None:
    value = parse_results['value']
    if value != 'now':
        valid = bool(_TIMESTAMP.match(value))
        if valid:
            try:
                datetime.datetime.strptime(value, _TIMESTAMP_FORMAT)
            except ValueError:
                valid = False
        if not valid:
            raise syntax_error(
                f'Expected `now` or a time like 2020-01-31T13:45:00Z to freeze time at, got `{value}`',
                file_name,
                line_number,
            )
    try:
        import freezegun  # noqa: F401
    except ImportError:
        raise syntax_error(
            "The `freeze time` directive needs freezegun, which comes with PySOA's testing extra: "
            "pip install 'pysoa[testing]'",
            file_name,
            line_number,
        ) from None
    case['freeze_time'] = value
    case[CLOCK_KEY] = _FrozenClock(value)


def _freeze_values(case: Dict[str, Any], skip: Iterable[str] = ()) -> None:
    """Make the clock values of the case (except under the keys to skip) take their value at its frozen time."""
    if CLOCK_KEY in case:
        for key, value in case.items():
            if key not in skip:
                freeze_clock_values(value, case[CLOCK_KEY])


def _start(case: Dict[str, Any]) -> None:
    if CLOCK_KEY not in case:
        return
    import freezegun

    freezer = freezegun.freeze_time(case[CLOCK_KEY]())
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

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        _ingest(test_case, parse_results, file_name, line_number)

    def post_parse_test_case(self, test_case: TestCase) -> None:
        # Action cases with a freeze time of their own take their values at that time.
        _freeze_values(test_case, skip=[path for path in test_case['actions'] if CLOCK_KEY in test_case[path]])

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

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        _ingest(action_case, parse_results, file_name, line_number)

    def post_parse_test_case_action(self, action_case: ActionCase, test_case: TestCase) -> None:
        _freeze_values(action_case)

    def set_up_test_case_action(
        self, action_name: str, action_case: ActionCase, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any
    ) -> None:
        _start(action_case)

    def tear_down_test_case_action(
        self, action_name: str, action_case: ActionCase, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any
    ) -> None:
        _stop(action_case)
