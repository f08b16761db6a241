"""
The value expectation directives under their PySOA 1.4.9 module path and names, for code that imports or subclasses them
(they live in :mod:`.expect_values`).
"""

from pysoa.test.plan.grammar.directives import expect_values


__all__ = (
    'ActionExpectsAnyDirective',
    'ActionExpectsFieldValueDirective',
    'ActionExpectsNoneDirective',
    'ActionExpectsNotPresentDirective',
)

ActionExpectsAnyDirective = expect_values.ExpectAnyValueDirective
ActionExpectsFieldValueDirective = expect_values.ExpectValueDirective
ActionExpectsNoneDirective = expect_values.ExpectNoneDirective
ActionExpectsNotPresentDirective = expect_values.ExpectNotPresentDirective
