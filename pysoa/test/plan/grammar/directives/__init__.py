"""
The built-in directives, registered when this package is imported, in the order they are tried: the test case header
and comments, inputs, error expectations, value expectations, mocks, stub actions, freeze time.
"""

from pysoa.test.plan.grammar.directive import register_directive
from pysoa.test.plan.grammar.directives import (
    expect_errors,
    expect_values,
    freeze_time,
    inputs,
    meta,
    mock,
    stub_action,
)


__all__ = ()

for _directive in (
    meta.FixtureCommentDirective,
    meta.TestNameDirective,
    meta.TestDescriptionDirective,
    meta.TestSkipDirective,
    inputs.ActionInputDirective,
    expect_errors.ExpectErrorFieldMessageDirective,
    expect_errors.ExpectErrorMessageDirective,
    expect_errors.ExpectErrorFieldDirective,
    expect_errors.ExpectErrorDirective,
    expect_errors.ExpectNoErrorsDirective,
    expect_values.ExpectValueDirective,
    expect_values.ExpectAnyValueDirective,
    expect_values.ExpectNoneDirective,
    expect_values.ExpectNotPresentDirective,
    mock.MockAssertCalledForTestDirective,
    mock.MockAssertCalledForActionDirective,
    mock.MockResultForTestDirective,
    mock.MockResultForActionDirective,
    stub_action.StubActionBodyForTestDirective,
    stub_action.StubActionBodyForActionDirective,
    stub_action.StubActionErrorForTestDirective,
    stub_action.StubActionErrorForActionDirective,
    stub_action.StubActionCalledForTestDirective,
    stub_action.StubActionCalledForActionDirective,
    freeze_time.FreezeTimeTestDirective,
    freeze_time.FreezeTimeActionDirective,
):
    register_directive(_directive)
