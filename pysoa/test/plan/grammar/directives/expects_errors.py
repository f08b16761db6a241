"""
The error expectation directives under their PySOA 1.4.9 module path and names, for code that imports or subclasses them
(they live in :mod:`.expect_errors`).
"""

from pysoa.test.plan.grammar.directives import expect_errors


__all__ = (
    'ActionExpectsErrorsDirective',
    'ActionExpectsFieldErrorsDirective',
    'ActionExpectsFieldMessageErrorsDirective',
    'ActionExpectsMessageErrorsDirective',
    'ActionExpectsNoErrorsDirective',
)

ActionExpectsErrorsDirective = expect_errors.ExpectErrorDirective
ActionExpectsFieldErrorsDirective = expect_errors.ExpectErrorFieldDirective
ActionExpectsFieldMessageErrorsDirective = expect_errors.ExpectErrorFieldMessageDirective
ActionExpectsMessageErrorsDirective = expect_errors.ExpectErrorMessageDirective
ActionExpectsNoErrorsDirective = expect_errors.ExpectNoErrorsDirective
