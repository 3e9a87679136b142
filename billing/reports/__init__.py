"""The reports a property manager reads every morning: collection rate (收缴率), arrears ageing (欠费账龄) and
income (收入), each also an XLSX export and a chart of the /finance page.

A sub-package of `billing`, not a sibling domain: every figure is read from billing's journal and
allocations, and who may read them is billing's rule (`billing.policy.may_see_reports`: FINANCE and ADMIN).
The cores (`collection`, `ageing`, `income`, `texts`, `workbook`, `charts`) are pure: plain dataclasses
in, plain dataclasses (or bytes, or SVG text) out; `reading` holds the use cases and their SQL.
"""
