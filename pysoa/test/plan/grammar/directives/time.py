"""
The ``freeze time`` directives under their PySOA 1.4.9 module path and names, for code that imports or subclasses them
(they live in :mod:`.freeze_time`).
"""

from pysoa.test.plan.grammar.directives import freeze_time


__all__ = (
    'FreezeTimeActionDirective',
    'FreezeTimeTestPlanDirective',
)

FreezeTimeActionDirective = freeze_time.FreezeTimeActionDirective
FreezeTimeTestPlanDirective = freeze_time.FreezeTimeTestDirective
