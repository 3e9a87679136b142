"""Reconciliation (对账): statement files into plain lines, and the pure matching core.

`statement` is the line model, `wechat`, `alipay`, `bank` and `interbank` the parsers, `matching` the
core that pairs lines with Courtyard's payments and refunds. Everything here is pure; the use cases that
import, store, resolve and close days build on it (ARCHITECTURE.md).
"""
