"""Giving money back: refunding what of a payment no bill has taken, or reversing a whole payment (a bounced
transfer, a mistaken entry) so that its bills owe again. Neither edits the payment: each is a new
reversal row with its journal entry, the reason and the acting user. When the payment's invoice is
issued, either brings a red-letter invoice taking back what was given back (`invoicing.automatic`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance import bill_status
from billing.credit import unapplied_credit_by_payment
from billing.guards import lock_payment, queue_behind_bill_runs
from billing.journal import write_journal
from billing.ledger import AllocationPart, JournalDraft, post_refund, post_reversal
from billing.payments import checked_amount
from billing.policy import may_refund_payments
from billing.reports.facts import BillMoved, record_bill_changes
from db.models import (
    AllocationSource,
    Bill,
    Payment,
    PaymentAllocation,
    PaymentReversal,
    ReversalKind,
)
from db.unit_of_work import unit_of_work
from invoicing.automatic import queue_red_letter
from kernel.errors import BadInput, Conflict
from kernel.principal import Principal
from kernel.validation import required_text

__all__ = ["give_refund", "refund_payment", "reverse_payment"]

_ZERO = Decimal("0.00")


async def _credit_left(session: AsyncSession, payment: Payment) -> Decimal:
    for candidate, left in await unapplied_credit_by_payment(session, payment.unit_id):
        if candidate.id == payment.id:
            return left
    return _ZERO


async def refund_payment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    payment_id: int,
    amount: Decimal,
    reason: str,
) -> PaymentReversal:
    """Give back part of a payment that no bill has taken (its prepaid credit), on its channel."""
    async with unit_of_work(session_factory) as work:
        return await give_refund(work.session, principal, now=now, payment_id=payment_id, amount=amount, reason=reason)


async def give_refund(
    session: AsyncSession, principal: Principal, *, now: dt.datetime, payment_id: int, amount: Decimal, reason: str
) -> PaymentReversal:
    """`refund_payment` inside the caller's transaction (reconciliation refunds a duplicate charge with it)."""
    payment = await _lock_for_giving_back(session, principal, payment_id)
    amount = checked_amount(amount, "amount")
    why = required_text(reason, "reason", max_length=500)
    available = await _credit_left(session, payment)
    if amount > available:
        raise BadInput(f"Only {available} of this payment is unallocated credit that can be refunded.", field="amount")
    refund = PaymentReversal(
        payment_id=payment.id, kind=ReversalKind.REFUND, amount=amount, reason=why, created_by=principal.user_id
    )
    journal = post_refund(
        payment_id=payment.id,
        unit_id=payment.unit_id,
        channel=payment.channel.value,
        amount=amount,
        description=f"refund of payment {payment.id}: {why}",
    )
    return await _give_back(session, payment, refund, journal, now=now)


async def reverse_payment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    payment_id: int,
    reason: str,
) -> PaymentReversal:
    """Undo a payment: what it paid on each bill is taken back, and what it held as credit goes."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        payment = await _lock_for_giving_back(session, principal, payment_id)
        why = required_text(reason, "reason", max_length=500)
        if await session.scalar(
            select(PaymentReversal.id).where(
                PaymentReversal.payment_id == payment.id, PaymentReversal.kind == ReversalKind.REVERSAL
            )
        ):
            raise Conflict("This payment has already been reversed.", field="paymentId")
        # Read before the allocations are taken back, which would count as credit again.
        credit_left = await _credit_left(session, payment)
        taken_back = await _take_back_allocations(session, payment)
        total = sum((part.amount for part in taken_back), _ZERO) + credit_left
        if total == 0:
            raise BadInput("Nothing of this payment is left to reverse: it was refunded in full.", field="paymentId")
        reversal = PaymentReversal(
            payment_id=payment.id, kind=ReversalKind.REVERSAL, amount=total, reason=why, created_by=principal.user_id
        )
        journal = post_reversal(
            payment_id=payment.id,
            unit_id=payment.unit_id,
            channel=payment.channel.value,
            taken_back=taken_back,
            credit_left=credit_left,
            description=f"reversal of payment {payment.id}: {why}",
        )
        given_back = await _give_back(session, payment, reversal, journal, now=now)
        await record_bill_changes(
            session,
            project_id=payment.project_id,
            moved=[BillMoved(part.bill_id, now, -part.principal) for part in taken_back],
        )
        return given_back


async def _lock_for_giving_back(session: AsyncSession, principal: Principal, payment_id: int) -> Payment:
    """The payment, locked until commit, after any bill run of its project: a run applies the payment's
    credit to new bills, which a refund or reversal must see."""
    project_id = await session.scalar(select(Payment.project_id).where(Payment.id == payment_id))
    if project_id is not None:
        await queue_behind_bill_runs(session, project_id)
    return await lock_payment(session, principal, payment_id, allowed=may_refund_payments)


async def _give_back(
    session: AsyncSession, payment: Payment, given_back: PaymentReversal, journal: JournalDraft, *, now: dt.datetime
) -> PaymentReversal:
    """Store a refund or reversal of `payment` with its journal entry, both dated `now`: reconciliation and
    the sandbox gateway's statement put a refund on the day it was given; and its red-letter invoice."""
    given_back.created_at = now
    session.add(given_back)
    await session.flush()
    await write_journal(
        session, project_id=payment.project_id, drafts=[journal], occurred_at=now, created_by=given_back.created_by
    )
    await queue_red_letter(session, given_back=given_back, payment=payment, now=now)
    return given_back


async def _take_back_allocations(session: AsyncSession, payment: Payment) -> list[AllocationPart]:
    """Negative allocations that undo what the payment paid on each bill; the bills owe it again."""
    allocations = (await session.scalars(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id))).all()
    by_bill: dict[int, tuple[Decimal, Decimal]] = {}
    for allocation in allocations:
        principal_sum, fee_sum = by_bill.get(allocation.bill_id, (_ZERO, _ZERO))
        by_bill[allocation.bill_id] = (principal_sum + allocation.principal, fee_sum + allocation.late_fee)
    bills = {
        bill.id: bill
        for bill in await session.scalars(
            select(Bill).where(Bill.id.in_(sorted(by_bill))).with_for_update().execution_options(populate_existing=True)
        )
    }
    taken_back: list[AllocationPart] = []
    for bill_id, (principal_sum, fee_sum) in sorted(by_bill.items()):
        if principal_sum == 0 and fee_sum == 0:
            continue
        bill = bills[bill_id]
        bill.principal_paid -= principal_sum
        bill.late_fee_paid -= fee_sum
        bill.status = bill_status(bill)
        session.add(
            PaymentAllocation(
                payment_id=payment.id, bill_id=bill_id, principal=-principal_sum, late_fee=-fee_sum, source=AllocationSource.REVERSAL
            )
        )
        taken_back.append(AllocationPart(bill_id, principal_sum, fee_sum))
    return taken_back
