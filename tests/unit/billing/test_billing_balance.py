"""Specification of what a bill still asks for, its status, when it is overdue, and a payment's credit left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest

from billing.balance import (
    amount_billed,
    amount_due,
    amount_paid,
    bill_status,
    credit_left,
    is_overdue,
    late_fee_due,
    principal_due,
    status_for,
)
from kernel.vocabulary import BillStatus


@dataclass(frozen=True)
class Bill:
    total_amount: D
    adjustment_amount: D = D("0.00")
    late_fee_amount: D = D("0.00")
    principal_paid: D = D("0.00")
    late_fee_paid: D = D("0.00")


# 268.20 billed, 20.00 credited back by an adjustment, 3.10 of late fee charged; 100.00 and 1.00 of it paid.
PARTLY_PAID = Bill(
    total_amount=D("268.20"),
    adjustment_amount=D("-20.00"),
    late_fee_amount=D("3.10"),
    principal_paid=D("100.00"),
    late_fee_paid=D("1.00"),
)


def test_each_figure_of_a_partly_paid_bill_to_the_fen() -> None:
    assert principal_due(PARTLY_PAID) == D("148.20")
    assert late_fee_due(PARTLY_PAID) == D("2.10")
    assert amount_billed(PARTLY_PAID) == D("251.30")
    assert amount_paid(PARTLY_PAID) == D("101.00")
    assert amount_due(PARTLY_PAID) == D("150.30")
    assert bill_status(PARTLY_PAID) == BillStatus.PARTIALLY_PAID


def test_a_bill_paid_beyond_what_it_asks_is_paid_with_a_negative_amount_due() -> None:
    overpaid = Bill(total_amount=D("100.00"), principal_paid=D("100.50"))

    assert amount_due(overpaid) == D("-0.50")
    assert bill_status(overpaid) == BillStatus.PAID


@pytest.mark.parametrize(
    ("due", "paid", "status"),
    [
        ("0.00", "0.00", BillStatus.PAID),  # a bill waived in full asks nothing
        ("0.00", "10.00", BillStatus.PAID),
        ("-0.01", "10.01", BillStatus.PAID),
        ("0.01", "9.99", BillStatus.PARTIALLY_PAID),
        ("0.01", "0.01", BillStatus.PARTIALLY_PAID),
        ("10.00", "0.00", BillStatus.OPEN),
        ("1.00", "0.00", BillStatus.OPEN),
    ],
)
def test_the_status_follows_from_what_is_due_and_what_was_paid(due: str, paid: str, status: BillStatus) -> None:
    assert status_for(due=D(due), paid=D(paid)) is status


def test_an_unpaid_bill_is_overdue_from_the_day_after_its_due_date() -> None:
    due_date = date(2026, 11, 17)

    assert not is_overdue(BillStatus.OPEN, due_date, date(2026, 11, 17))
    assert is_overdue(BillStatus.OPEN, due_date, date(2026, 11, 18))
    assert is_overdue(BillStatus.PARTIALLY_PAID, due_date, date(2026, 11, 18))
    assert not is_overdue(BillStatus.PAID, due_date, date(2026, 12, 18))


def test_credit_left_is_what_no_bill_took_and_nothing_gave_back() -> None:
    assert credit_left(amount=D("500.00"), allocated=D("268.20"), given_back=D("31.80")) == D("200.00")
    assert credit_left(amount=D("500.00"), allocated=D("500.00"), given_back=D("0.00")) == D("0.00")
