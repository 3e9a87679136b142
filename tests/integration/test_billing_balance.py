"""The bill balance is one formula: `billing.balance` in Python and `billing.balance_sql` in SQL agree on
every kind of bill, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from api.state import AppState
from billing import balance
from billing.balance_sql import (
    amount_billed_fen,
    amount_due_fen,
    amount_paid_fen,
    is_overdue_sql,
)
from db.models import Bill, BillRun, BillStatus
from tests.integration.world import build_world

TODAY = dt.date(2026, 12, 10)

# (what the bill shows, total, adjustment, late fee charged, principal paid, late fee paid, due date)
BILLS = [
    ("open", "300.00", "0", "0", "0", "0", "2026-12-15"),
    ("open and overdue", "300.00", "0", "0", "0", "0", "2026-11-15"),
    ("partly paid", "300.00", "0", "0", "120.50", "0", "2026-11-15"),
    ("lowered by a credit adjustment, then paid", "300.00", "-45.00", "0", "255.00", "0", "2026-11-15"),
    ("raised by a debit adjustment, paid as first billed", "300.00", "18.20", "0", "300.00", "0", "2026-11-15"),
    ("late fee charged, principal paid, fee not", "300.00", "0", "4.86", "300.00", "0", "2026-10-15"),
    ("late fee charged and paid in part", "300.00", "0", "4.86", "300.00", "2.00", "2026-10-15"),
    ("paid in full with its late fee", "300.00", "0", "4.86", "300.00", "4.86", "2026-10-15"),
    ("paid from prepaid credit when issued", "300.00", "0", "0", "300.00", "0", "2026-12-15"),
    ("nothing to charge", "0.00", "0", "0", "0", "0", "2026-11-15"),
]


def _bill(run: BillRun, unit_id: int, month: int, figures: tuple[str, ...]) -> Bill:
    _, total, adjustment, late_fee, principal_paid, late_fee_paid, due = figures
    bill = Bill(
        project_id=run.project_id,
        run_id=run.id,
        unit_id=unit_id,
        period=f"2025-{month:02d}",
        period_start=dt.date(2025, month, 1),
        period_end=dt.date(2025, month, 28),
        issued_on=dt.date(2025, month, 28),
        due_date=dt.date.fromisoformat(due),
        total_amount=Decimal(total),
        adjustment_amount=Decimal(adjustment),
        late_fee_amount=Decimal(late_fee),
        principal_paid=Decimal(principal_paid),
        late_fee_paid=Decimal(late_fee_paid),
    )
    bill.status = balance.bill_status(bill)
    return bill


async def test_the_python_and_sql_balances_agree_on_every_kind_of_bill(state: AppState) -> None:
    # given one bill of each kind, its status set by the Python rule
    world = await build_world(state)
    async with state.session_factory() as session, session.begin():
        run = BillRun(
            project_id=world.ids["Project:lakeside"], period="2025-01", period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2025, 1, 31),
        )
        session.add(run)
        await session.flush()
        session.add_all(
            _bill(run, world.ids["Unit:alice"], month, figures) for month, figures in enumerate(BILLS, start=1)
        )

    # when both sides compute each bill's figures
    async with state.session_factory() as session:
        rows = (
            await session.execute(
                select(Bill, amount_billed_fen(), amount_paid_fen(), amount_due_fen(), is_overdue_sql(TODAY)).order_by(
                    Bill.period
                )
            )
        ).all()

    # then they agree to the fen, and the statuses are the ones each bill should show
    assert len(rows) == len(BILLS)
    for bill, billed, paid, due, overdue in rows:
        assert Decimal(billed).scaleb(-2) == balance.amount_billed(bill), bill.period
        assert Decimal(paid).scaleb(-2) == balance.amount_paid(bill), bill.period
        assert Decimal(due).scaleb(-2) == balance.amount_due(bill), bill.period
        assert bool(overdue) == balance.is_overdue(bill.status, bill.due_date, TODAY), bill.period
    shown = {BILLS[int(bill.period[-2:]) - 1][0]: (bill.status, balance.amount_due(bill)) for bill, *_ in rows}
    assert shown == {
        "open": (BillStatus.OPEN, Decimal("300.00")),
        "open and overdue": (BillStatus.OPEN, Decimal("300.00")),
        "partly paid": (BillStatus.PARTIALLY_PAID, Decimal("179.50")),
        "lowered by a credit adjustment, then paid": (BillStatus.PAID, Decimal("0.00")),
        "raised by a debit adjustment, paid as first billed": (BillStatus.PARTIALLY_PAID, Decimal("18.20")),
        "late fee charged, principal paid, fee not": (BillStatus.PARTIALLY_PAID, Decimal("4.86")),
        "late fee charged and paid in part": (BillStatus.PARTIALLY_PAID, Decimal("2.86")),
        "paid in full with its late fee": (BillStatus.PAID, Decimal("0.00")),
        "paid from prepaid credit when issued": (BillStatus.PAID, Decimal("0.00")),
        "nothing to charge": (BillStatus.PAID, Decimal("0.00")),
    }
    overdue_ones = sorted(BILLS[int(bill.period[-2:]) - 1][0] for bill, *_, overdue in rows if overdue)
    assert overdue_ones == [
        "late fee charged and paid in part",
        "late fee charged, principal paid, fee not",
        "open and overdue",
        "partly paid",
        "raised by a debit adjustment, paid as first billed",
    ]


def test_a_payment_holds_as_credit_what_no_bill_took_and_nothing_gave_back() -> None:
    left = balance.credit_left(amount=Decimal("500.00"), allocated=Decimal("363.67"), given_back=Decimal("36.33"))
    assert left == Decimal("100.00")
