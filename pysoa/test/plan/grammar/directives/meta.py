"""Comments and the test case header: ``test name:``, ``test description:`` and ``test skip:``."""

from pyparsing import (
    Opt,
    ParserElement,
    ParseResults,
    Regex,
    Word,
    alphanums,
)

from pysoa.test.plan.grammar.directive import (
    ActionCase,
    ChecksNothingAfterActions,
    Directive,
    TestCase,
    VarValueGrammar,
    colon,
    keyword,
    syntax_error,
)


__all__ = (
    'FixtureCommentDirective',
    'TestDescriptionDirective',
    'TestNameDirective',
    'TestSkipDirective',
)


class _HeaderDirective(ChecksNothingAfterActions, Directive):
    """A directive that only stores something at parse time."""


class FixtureCommentDirective(_HeaderDirective):
    """``# anything``: a comment, ignored."""

    @classmethod
    def name(cls) -> str:
        return 'fixture_comment'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return Regex(r'#.*').set_name('comment')

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        pass


class TestNameDirective(_HeaderDirective):
    """``test name: name_of_the_test``: starts a test case (letters, digits and underscores)."""

    __test__ = False  # not a pytest test class

    @classmethod
    def name(cls) -> str:
        return 'test_name'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return keyword('test') + keyword('name') + colon() + Word(alphanums + '_').set_name('test name')('name')

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        if 'name' in test_case:
            raise syntax_error(
                f'Duplicate test name: this test case is already named `{test_case["name"]}` (a blank line must '
                f'separate test cases)',
                file_name,
                line_number,
            )
        test_case['name'] = parse_results['name']
        test_case['line_number'] = line_number


class TestDescriptionDirective(_HeaderDirective):
    """``test description: what the test case checks``."""

    __test__ = False

    @classmethod
    def name(cls) -> str:
        return 'test_description'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return keyword('test') + keyword('description') + colon() + VarValueGrammar('description')

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        if 'description' in test_case:
            raise syntax_error(
                'Duplicate test description: this test case already has a description', file_name, line_number
            )
        test_case['description'] = f'{parse_results["description"]}\n{file_name}'


class TestSkipDirective(_HeaderDirective):
    """``test skip: reason`` skips the test case; ``test skip global: reason`` also every later one in the file."""

    __test__ = False

    @classmethod
    def name(cls) -> str:
        return 'test_skip'

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            keyword('test')
            + keyword('skip')
            + Opt(keyword('global')('is_global'))
            + colon()
            + VarValueGrammar('reason')
        )

    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        test_case['skip'] = parse_results['reason'] or 'Skipped by the test plan'
