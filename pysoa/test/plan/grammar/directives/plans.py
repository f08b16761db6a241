"""
The comment and test case header directives under their PySOA 1.4.9 module path and names, for code that imports or
subclasses them (they live in :mod:`.meta`).
"""

from pysoa.test.plan.grammar.directives import meta


__all__ = (
    'TestCaseCommentDirective',
    'TestCaseDescriptionDirective',
    'TestCaseNameDirective',
    'TestCaseSkipDirective',
)

TestCaseCommentDirective = meta.FixtureCommentDirective
TestCaseDescriptionDirective = meta.TestDescriptionDirective
TestCaseNameDirective = meta.TestNameDirective
TestCaseSkipDirective = meta.TestSkipDirective
