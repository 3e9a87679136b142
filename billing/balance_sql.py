"""The SQL twins of `billing.balance`, over the `bill` table, for queries that sum or filter many bills.

Amounts come out as integer fen (the columns' storage), so that sums and differences skip the Decimal
conversion; a test on both databases holds each twin to its Python formula.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ColumnElement, and_, type_coerce

from db.models import Bill, BillStatus

__all__ = ["amount_billed_fen", "amount_due_fen", "amount_paid_fen", "fen", "is_overdue_sql"]


def fen(column: object) -> ColumnElement[int]:
    """A money column as its stored integer fen."""
    return type_coerce(column, BigInteger)


def amount_billed_fen() -> ColumnElement[int]:
    """`balance.amount_billed`: lines, adjustments and late fees charged."""
    return fen(Bill.total_amount) + fen(Bill.adjustment_amount) + fen(Bill.late_fee_amount)


def amount_paid_fen() -> ColumnElement[int]:
    """`balance.amount_paid`."""
    return fen(Bill.principal_paid) + fen(Bill.late_fee_paid)


def amount_due_fen() -> ColumnElement[int]:
    """`balance.amount_due`: billed less paid."""
    return amount_billed_fen() - amount_paid_fen()


def is_overdue_sql(today: dt.date | ColumnElement[dt.date]) -> ColumnElement[bool]:
    """`balance.is_overdue` on `today` (a date, or a parameter that gives it)."""
    return and_(Bill.status != BillStatus.PAID, Bill.due_date < today)
