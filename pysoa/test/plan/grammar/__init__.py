"""
The test plan grammar: the directives (:mod:`.directive`, :mod:`.directives`), data types (:mod:`.data_types`),
paths and substitution (:mod:`.tools`) and the comparisons behind expectations (:mod:`.assertions`).
"""
