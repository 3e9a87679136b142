"""Prepaid credit: money a unit paid that no bill has taken yet. What each unit holds, which of its
payments hold it, and applying it to the bills a run issues."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance import credit_left
from billing.balance_sql import fen
from billing.journal import posted_balance_fen, sum_fen, write_journal
from billing.ledger import PREPAID_CREDIT, AllocationPart, post_allocations
from billing.money import from_fen
from billing.reports.facts import BillMoved, record_bill_changes
from db.batch_reads import dialect_of, plain_reader
from db.conditions import among_parameter
from db.driver import DriverStatement, connection_for_reads
from db.models import (
    AllocationSource,
    JournalLine,
    Payment,
    PaymentAllocation,
    PaymentReversal,
)

__all__ = ["AllocatedAndGivenBack", "allocated_and_given_back", "apply_credits", "credit_balances", "unapplied_credit_by_payment"]

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


@dataclass(frozen=True)
class AllocatedAndGivenBack:
    """What became of each of some payments: its allocations (plain rows of every column, oldest first,
    with their bills in `bill` when asked for) and what refunds and reversals gave back from it."""

    allocations: dict[int, list[Any]]
    given_back: dict[int, Decimal]

    def credit_left_of(self, payment: Payment) -> Decimal:
        """`credit_left` of one of the payments (a row with its `id` and `amount`)."""
        allocated = _ZERO
        for allocation in self.allocations[payment.id]:
            allocated += allocation.principal + allocation.late_fee
        return credit_left(amount=payment.amount, allocated=allocated, given_back=self.given_back[payment.id])


def _given_back_fen(payment_id: Any) -> Any:
    return (
        select(sum_fen(fen(PaymentReversal.amount))).where(PaymentReversal.payment_id == payment_id).scalar_subquery()
    )


# A bill's columns but those that name it (id, project, unit, period and its days): a list of payments
# that shows each allocation's bill by its period reads no more of it.
_BILL_BEYOND_ITS_LABEL = frozenset(
    f"bill.{column}"
    for column in (
        "run_id", "party_id", "issued_on", "due_date", "status", "total_amount", "adjustment_amount", "late_fee_amount",
        "late_fee_through", "principal_paid", "late_fee_paid", "created_at",
    )
)


# Built once per dialect and shape: a page of payments reads them on every request.
@cache
def _allocations_with_given_back(
    dialect: str, with_bills: bool, bill_labels_only: bool
) -> tuple[DriverStatement, Callable[[Sequence[Any]], Any]]:
    """Every allocation of the payments among the parameter `keys`, as `plain_reader` reads it, with what
    was given back from its payment in one more column (the last)."""
    left_out = _BILL_BEYOND_ITS_LABEL if with_bills and bill_labels_only else frozenset()
    selected, make = plain_reader(PaymentAllocation, (PaymentAllocation.bill,) if with_bills else (), left_out)
    statement = (
        selected.add_columns(_given_back_fen(PaymentAllocation.payment_id))
        .where(among_parameter(dialect, PaymentAllocation.payment_id, "keys"))
        .order_by(PaymentAllocation.id)
    )
    return DriverStatement(statement), make


@cache
def _given_back(dialect: str) -> DriverStatement:
    """What was given back from each payment among the parameter `keys` that gave any back."""
    return DriverStatement(
        select(PaymentReversal.payment_id, sum_fen(fen(PaymentReversal.amount)))
        .where(among_parameter(dialect, PaymentReversal.payment_id, "keys"))
        .group_by(PaymentReversal.payment_id)
    )


async def allocated_and_given_back(
    session_factory: async_sessionmaker[AsyncSession],
    payment_ids: Sequence[int],
    *,
    with_bills: bool,
    bill_labels_only: bool = False,
) -> AllocatedAndGivenBack:
    """The allocations of each payment (with their bills, when `with_bills`) and what was given back from
    it, read together: one statement when every payment has an allocation (what a page of payments
    showing their credit left reads), and a second one for what was given back from those that have
    none. The caller may see the payments: their allocations and bills are theirs. With
    `bill_labels_only` the bills' columns but their ids, project, unit, period and its first and last
    days hold None: for a reader that names each bill and shows nothing else of it."""
    dialect = dialect_of(session_factory)
    statement, make = _allocations_with_given_back(dialect, with_bills, bill_labels_only)
    allocations: dict[int, list[Any]] = defaultdict(list)
    given_back: dict[int, Decimal] = {}
    async with connection_for_reads(session_factory) as connection:
        for row in await statement.rows(connection, {"keys": list(payment_ids)}):
            allocation = make(row[:-1])
            allocations[allocation.payment_id].append(allocation)
            given_back[allocation.payment_id] = from_fen(row[-1])
        unallocated = [payment_id for payment_id in payment_ids if payment_id not in given_back]
        if unallocated:
            refunded = dict(await _given_back(dialect).rows(connection, {"keys": unallocated}))
            for payment_id in unallocated:
                allocations[payment_id] = []
                given_back[payment_id] = from_fen(refunded.get(payment_id, 0))
    return AllocatedAndGivenBack(dict(allocations), given_back)


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
