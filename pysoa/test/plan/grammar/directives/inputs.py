"""``action: [job control | job context] input [type]: path: value``: the request body and job headers of a call."""

from pyparsing import (
    Opt,
    ParserElement,
    ParseResults,
)

from pysoa.test.plan.grammar.data_types import (
    get_parsed_data_type_value,
)
from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ActionDirective,
    ChecksNothingAfterActions,
    TestCase,
    VarNameGrammar,
    VarValueGrammar,
    colon,
    get_result,
    keyword,
    optional_data_type,
)
from pysoa.test.plan.grammar.tools import path_put


__all__ = ('ActionInputDirective',)

INPUT_KEYS = {'': 'inputs', 'control': 'job_control_inputs', 'context': 'job_context_inputs'}
"""Where the inputs go in the action case: the action body, the job control header, the job context header."""


class ActionInputDirective(ChecksNothingAfterActions, ActionDirective):
    """
    ``action: input [type]: path: value`` puts a value into the action's request body; with ``job control`` or
    ``job context`` before ``input``, into the job's control or context header instead.
    """

    @classmethod
    def name(cls) -> str:
        return 'input'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            super().get_full_grammar()
            + Opt(keyword('job') + (keyword('control') | keyword('context'))('job_slot'))
            + keyword('input')
            + optional_data_type()
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
        key = INPUT_KEYS[get_result(parse_results, 'job_slot') or '']
        value = get_parsed_data_type_value(parse_results, parse_results['value'])
        path_put(action_case.setdefault(key, {}), parse_results['variable_name'], value)
