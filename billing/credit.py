"""Prepaid credit: money a unit paid that no bill has taken yet. What each unit holds, which of its
payments hold it, and applying it to the bills a run issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance import credit_left
from billing.balance_sql import fen
from billing.journal import posted_balance_fen, sum_fen, write_journal
from billing.ledger import PREPAID_CREDIT, AllocationPart, post_allocations
from billing.money import from_fen
from billing.reports.facts import BillMoved, record_bill_changes
from db.models import (
    AllocationSource,
    JournalLine,
    Payment,
    PaymentAllocation,
    PaymentReversal,
)

__all__ = ["apply_credits", "credit_balances", "unapplied_credit_by_payment"]

_ZERO = Decimal("0.00")


async def credit_balances(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, Decimal]:
    """Each unit's prepaid credit (only units that have some), from its PREPAID_CREDIT postings."""
    if not unit_ids:
        return {}
    wanted = set(unit_ids)
    # A range over the (unit, account) index rather than thousands of bound parameters.
    rows = await session.execute(
        select(JournalLine.unit_id, posted_balance_fen(credit_normal=True))
        .where(JournalLine.unit_id.between(min(wanted), max(wanted)), JournalLine.account == PREPAID_CREDIT)
        .group_by(JournalLine.unit_id)
    )
    return {unit_id: from_fen(total) for unit_id, total in rows if total > 0 and unit_id in wanted}


async def unapplied_credit_by_payment(session: AsyncSession, unit_id: int) -> list[tuple[Payment, Decimal]]:
    """The unit's payments that still hold credit, oldest first, with how much each holds."""
    allocated = (
        select(sum_fen(fen(PaymentAllocation.principal) + fen(PaymentAllocation.late_fee)))
        .where(PaymentAllocation.payment_id == Payment.id)
        .scalar_subquery()
    )
    given_back = (
        select(sum_fen(fen(PaymentReversal.amount)))
        .where(PaymentReversal.payment_id == Payment.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Payment, allocated, given_back)
        .where(Payment.unit_id == unit_id)
        .order_by(Payment.paid_at, Payment.id)
    )
    result: list[tuple[Payment, Decimal]] = []
    for payment, allocated_fen, given_back_fen in rows:
        left = credit_left(amount=payment.amount, allocated=from_fen(allocated_fen), given_back=from_fen(given_back_fen))
        if left > 0:
            result.append((payment, left))
    return result


async def apply_credits(
    session: AsyncSession,
    *,
    project_id: int,
    applications: Sequence[tuple[int, int, Decimal]],
    now: dt.datetime,
    user_id: int | None,
) -> None:
    """Allocate the prepaid credit the new bills were priced with, from the unit's oldest payments on."""
    drafts = []
    for unit_id, bill_id, applied in applications:
        left = applied
        for payment, available in await unapplied_credit_by_payment(session, unit_id):
            if left == 0:
                break
            take = min(available, left)
            session.add(
                PaymentAllocation(
                    payment_id=payment.id, bill_id=bill_id, principal=take, late_fee=_ZERO, source=AllocationSource.CREDIT
                )
            )
            drafts.append(
                post_allocations(
                    payment_id=payment.id,
                    unit_id=unit_id,
                    parts=[AllocationPart(bill_id=bill_id, principal=take, late_fee=_ZERO)],
                    kind="CREDIT_APPLIED",
                    description=f"prepaid credit of payment {payment.id} applied to bill {bill_id}",
                )
            )
            left -= take
        if left != 0:
            raise RuntimeError(f"unit {unit_id}: the journal shows more credit than its payments hold")
    await write_journal(session, project_id=project_id, drafts=drafts, occurred_at=now, created_by=user_id)
    await record_bill_changes(
        session, project_id=project_id, moved=[BillMoved(bill_id, now, applied) for _, bill_id, applied in applications]
    )
