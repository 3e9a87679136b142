"""What a bill still asks for and the status that follows from it, when it is overdue, and what a payment
still holds as prepaid credit: one formula each, for every caller.

`billing.queries` mirrors the bill's formulas in SQL (`amount_billed_fen`, `amount_paid_fen`,
`amount_due_fen`, `is_overdue_sql`), and a test on both databases holds each pair together.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Protocol

from kernel.vocabulary import BillStatus

__all__ = [
    "BillFigures",
    "amount_billed",
    "amount_due",
    "amount_paid",
    "bill_status",
    "credit_left",
    "is_overdue",
    "late_fee_due",
    "principal_due",
    "status_for",
]


class BillFigures(Protocol):
    """The amounts a bill carries (a `db.models.Bill` row has them)."""

    @property
    def total_amount(self) -> Decimal: ...
    @property
    def adjustment_amount(self) -> Decimal: ...
    @property
    def late_fee_amount(self) -> Decimal: ...
    @property
    def principal_paid(self) -> Decimal: ...
    @property
    def late_fee_paid(self) -> Decimal: ...


def principal_due(bill: BillFigures) -> Decimal:
    """The bill's lines, corrected by its adjustments, less what was paid on them."""
    return bill.total_amount + bill.adjustment_amount - bill.principal_paid


def late_fee_due(bill: BillFigures) -> Decimal:
    """Late fee charged on the bill and not paid yet."""
    return bill.late_fee_amount - bill.late_fee_paid


def amount_billed(bill: BillFigures) -> Decimal:
    """Everything the bill has asked for: its lines, its adjustments and the late fees charged on it."""
    return bill.total_amount + bill.adjustment_amount + bill.late_fee_amount


def amount_paid(bill: BillFigures) -> Decimal:
    return bill.principal_paid + bill.late_fee_paid


def amount_due(bill: BillFigures) -> Decimal:
    """What is still owed, late fees charged so far included (negative: paid beyond what it asks)."""
    return amount_billed(bill) - amount_paid(bill)


def status_for(*, due: Decimal, paid: Decimal) -> BillStatus:
    """PAID once nothing is due, PARTIALLY_PAID while something was paid, else OPEN."""
    if due <= 0:
        return BillStatus.PAID
    return BillStatus.PARTIALLY_PAID if paid > 0 else BillStatus.OPEN


def bill_status(bill: BillFigures) -> BillStatus:
    return status_for(due=amount_due(bill), paid=amount_paid(bill))


def is_overdue(status: BillStatus, due_date: dt.date, today: dt.date) -> bool:
    """Unpaid and past its due date: not a stored status, a question asked on a given day."""
    return status != BillStatus.PAID and due_date < today


def credit_left(*, amount: Decimal, allocated: Decimal, given_back: Decimal) -> Decimal:
    """What of a payment no bill has taken and no refund or reversal gave back: the unit's prepaid credit."""
    return amount - allocated - given_back
