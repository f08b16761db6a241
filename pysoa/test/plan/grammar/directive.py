"""
The directive API: each kind of line in a test fixture file is a :class:`Directive` with a pyparsing grammar, a way to
store what it parsed into the test case, and hooks that run while the test case runs.

Writing your own::

    from pyparsing import Suppress

    from pysoa.test.plan.grammar.directive import ActionDirective, VarNameGrammar, keyword, register_directive


    class ExpectLoggedDirective(ActionDirective):
        '''`action: expect logged: message name`'''

        @classmethod
        def name(cls):
            return 'expect_logged'

        @classmethod
        def get_full_grammar(cls):
            return super().get_full_grammar() + keyword('expect') + keyword('logged') + Suppress(':') + \\
                VarNameGrammar('message_name')

        def ingest_from_parsed_test_fixture(self, action_case, test_case, parse_results, file_name, line_number):
            action_case.setdefault('expect_logged', []).append(parse_results.message_name)

        def assert_test_case_action_results(self, action_name, action_case, test_case, test_fixture,
                                            action_response, job_response, action_path, **kwargs):
            ...

    register_directive(ExpectLoggedDirective)

or register it through the setuptools entry point group ``pysoa.test.plan.grammar.directives`` (``name =
my_package.module:ExpectLoggedDirective``). Directive instances must keep no state: a new instance is made for every
hook call, so keep whatever the hooks need in the ``test_case`` / ``action_case`` dicts.
"""

import abc
import sys
import warnings
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Type,
    TypeVar,
)

from pyparsing import (
    Keyword,
    Literal,
    Opt,
    ParserElement,
    ParseResults,
    Regex,
    Suppress,
    Word,
    alphanums,
    nums,
)

from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.plan.errors import (
    DirectiveError,
    FixtureSyntaxError,
)
from pysoa.test.plan.grammar.data_types import DataTypeGrammar
from pysoa.test.plan.grammar.tools import recursive_parse_expr_repr


__all__ = (
    'ENTRY_POINT_GROUP',
    'ActionCase',
    'ActionDirective',
    'ActionResults',
    'ChecksNothingAfterActions',
    'Directive',
    'TestCase',
    'TestFixture',
    'TestFixtureResults',
    'VarNameGrammar',
    'VarValueGrammar',
    'colon',
    'get_all_directives',
    'get_result',
    'keyword',
    'optional_data_type',
    'register_directive',
    'syntax_error',
)

ENTRY_POINT_GROUP = 'pysoa.test.plan.grammar.directives'

ActionCase = Dict[str, Any]
"""One call of an action in a test case, with everything the directives stored about it."""
ActionResults = Dict[str, ActionResponse]
"""The action responses of one test case run, by action path (``action.index``)."""
TestCase = Dict[str, Any]
"""A test case: ``name``, ``description``, ``actions`` (the action paths in order), each action case under its action
path, and whatever test-level directives stored."""
TestFixture = List[TestCase]
"""The test cases of one fixture file, in file order."""
TestFixtureResults = List[ActionResults]
"""The results of the test cases of a fixture that have run."""

# Shared tokens ------------------------------------------------------------------------------------------------------

VarNameGrammar = Regex(r'[A-Za-z0-9_.{}-]+').set_name('path')
"""A path into the request or response (``a.b.0.{c.d}``)."""


def _strip(tokens: ParseResults) -> str:
    return str(tokens[0]).strip(' \t')


VarValueGrammar = Regex(r'.*').leave_whitespace().add_parse_action(_strip).set_name('value')
"""A value: the rest of the line, stripped of spaces and tabs."""


def keyword(word: str) -> ParserElement:
    """A keyword whose error messages read ``Expected 'word'``."""
    return Keyword(word).set_name(f"'{word}'")


def get_result(parse_results: ParseResults, name: str, default: Any = None) -> Any:
    """The parse result named ``name``, or ``default`` if the line did not have it."""
    return parse_results[name] if name in parse_results else default


def colon() -> Suppress:
    """A suppressed ``:`` whose error messages read ``Expected ':'``."""
    return Suppress(Literal(':').set_name("':'"))


def syntax_error(message: str, file_name: str, line_number: int, offset: int = 0) -> FixtureSyntaxError:
    """
    A :class:`FixtureSyntaxError` for a line, for directives to raise from ``ingest_from_parsed_test_fixture``. Its
    message is prefixed with ``file:line:``; the parser adds the column (of the line's value) if no ``offset`` is given.
    """
    error = FixtureSyntaxError(f'{file_name}:{line_number}: {message}', file_name, line_number, offset)
    error.directive_message = message  # type: ignore[attr-defined]
    error.needs_column = not offset  # type: ignore[attr-defined]
    return error


def optional_data_type() -> ParserElement:
    """``[type]:``: an optional data type (results name ``data_type``) followed by a colon."""
    element = ((DataTypeGrammar('data_type') + colon()) | colon()).set_name("data type or ':'")
    element.plan_repr = '[<data type>]:'  # type: ignore[attr-defined]  # rendered this way by the documentation
    return element


ActionNameGrammar = Word(alphanums + '_').set_name('action name')
ActionIndexGrammar = Word(nums).set_name('action index')

_D = TypeVar('_D', bound=Type['Directive'])


class Directive(abc.ABC):
    """A kind of line in test fixture files: its grammar, how it is stored, and what it does when a plan runs."""

    @classmethod
    @abc.abstractmethod
    def name(cls) -> str:
        """The directive's name, lowercase letters and underscores (``expect_value``)."""

    @classmethod
    @abc.abstractmethod
    def get_full_grammar(cls) -> ParserElement:
        """The pyparsing expression that a whole line must match."""

    @classmethod
    def supplies_additional_grammar_types(cls) -> Dict[str, ParserElement]:
        """Extra named tokens the grammar uses, for the documentation (``{'token name': expression}``)."""
        return {}

    @abc.abstractmethod
    def ingest_from_parsed_test_fixture(
        self,
        action_case: ActionCase,
        test_case: TestCase,
        parse_results: ParseResults,
        file_name: str,
        line_number: int,
    ) -> None:
        """
        Store what a line parsed into the test case. ``action_case`` is the action case for action directives; for
        other directives it is the test case itself.

        :raises pysoa.test.plan.errors.FixtureSyntaxError: If the line is well-formed but cannot be used.
        """

    def post_parse_test_case(self, test_case: TestCase) -> None:  # noqa: B027
        """Called once a test case is fully parsed (for checks across lines)."""

    def post_parse_test_case_action(self, action_case: ActionCase, test_case: TestCase) -> None:  # noqa: B027
        """Called for each action case once its test case is fully parsed."""

    def set_up_test_fixture(self, test_fixture: TestFixture, **kwargs: Any) -> None:  # noqa: B027
        """Before the first test case of a fixture runs."""

    def tear_down_test_fixture(self, test_fixture: TestFixture, **kwargs: Any) -> None:  # noqa: B027
        """After the last test case of a fixture ran."""

    def set_up_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:  # noqa: B027
        """Before a test case runs."""

    def tear_down_test_case(self, test_case: TestCase, test_fixture: TestFixture, **kwargs: Any) -> None:  # noqa: B027
        """After a test case ran (also when it failed)."""

    def set_up_test_case_action(  # noqa: B027
        self,
        action_name: str,
        action_case: ActionCase,
        test_case: TestCase,
        test_fixture: TestFixture,
        **kwargs: Any,
    ) -> None:
        """Before an action case is called."""

    def tear_down_test_case_action(  # noqa: B027
        self,
        action_name: str,
        action_case: ActionCase,
        test_case: TestCase,
        test_fixture: TestFixture,
        **kwargs: Any,
    ) -> None:
        """After an action case was called (also when it failed)."""

    @abc.abstractmethod
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
        """Check the results of an action case (raise ``AssertionError`` if they are not as expected)."""

    def assert_test_case_results(  # noqa: B027
        self,
        test_case_results: ActionResults,
        test_case: TestCase,
        test_fixture: TestFixture,
        msg: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        """Check the results of a whole test case, after all its action cases ran."""

    def assert_test_fixture_results(  # noqa: B027
        self,
        test_fixture_results: TestFixtureResults,
        test_fixture: TestFixture,
        msg: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        """Check the results of a whole fixture, after its last test case ran."""

    def __repr__(self) -> str:
        return f'{self.name()}: {recursive_parse_expr_repr(self.get_full_grammar())}'


class ChecksNothingAfterActions:
    """
    For directives whose work is done before or around an action (inputs, set-up, mocks, ...): implements
    :meth:`Directive.assert_test_case_action_results` as a no-op. Put it first among the bases.
    """

    def assert_test_case_action_results(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to check after each action."""


class ActionDirective(Directive, abc.ABC):
    """
    A directive about one action case: its grammar starts with ``action[.index]: [global]`` (results names
    ``action``, ``action_index`` and ``is_global``). Subclasses extend :meth:`get_full_grammar`::

        return super().get_full_grammar() + keyword('input') + ...
    """

    @classmethod
    def get_full_grammar(cls) -> ParserElement:
        return (
            ActionNameGrammar('action')
            + Opt(Suppress('.') + ActionIndexGrammar('action_index'))
            + colon()
            + Opt(keyword('global')('is_global'))
        )


# Registry ------------------------------------------------------------------------------------------------------------

_BUILT_IN_PREFIX = 'pysoa.test.plan.grammar.directives.'
_registered_directives: List[Type[Directive]] = []
_entry_point_directives: Optional[List[Type[Directive]]] = None


def register_directive(directive: _D) -> _D:
    """Register a directive class (also usable as a class decorator). Directives are tried in registration order."""
    if not (isinstance(directive, type) and issubclass(directive, Directive)):
        raise DirectiveError(f'Directives must be subclasses of Directive, not {directive!r}')
    for index, registered in enumerate(_registered_directives):
        if (registered.__module__, registered.__qualname__) == (directive.__module__, directive.__qualname__):
            _registered_directives[index] = directive  # the same class again, from a reloaded module
            return directive
    _registered_directives.append(directive)
    return directive


def _load_entry_point_directives() -> List[Type[Directive]]:
    from importlib import metadata

    if sys.version_info >= (3, 10):
        entry_points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    else:  # pragma: no cover
        entry_points = list(metadata.entry_points().get(ENTRY_POINT_GROUP, []))
    directives: List[Type[Directive]] = []
    for entry_point in entry_points:
        try:
            directive = entry_point.load()
        except Exception as e:
            warnings.warn(
                f'Could not load test plan directive entry point `{entry_point.value}`: {e!r}',
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        if not (isinstance(directive, type) and issubclass(directive, Directive)):
            warnings.warn(
                f'Test plan directive entry point `{entry_point.value}` is not a Directive subclass',
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        directives.append(directive)
    return directives


def get_all_directives() -> List[Type[Directive]]:
    """All directive classes in the order they are tried: the built-ins, others registered, then entry points."""
    global _entry_point_directives

    import pysoa.test.plan.grammar.directives  # noqa: F401  (registers the built-in directives)

    if _entry_point_directives is None:
        _entry_point_directives = _load_entry_point_directives()
    built_in = [d for d in _registered_directives if d.__module__.startswith(_BUILT_IN_PREFIX)]
    others = [d for d in _registered_directives if d not in built_in]
    return built_in + others + [d for d in _entry_point_directives if d not in _registered_directives]
