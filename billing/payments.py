"""Payments, allocations, adjustments, refunds and reversals, each with its journal entries and receipt.

A payment is recorded once per idempotency key: the same key with the same payload answers the payment
recorded first, with another payload CONFLICT. The key's unique index settles concurrent submissions:
the second INSERT waits for the first transaction and then finds its row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.allocation import BillBalance, accrue_late_fee, plan_allocation
from billing.balance import bill_status, late_fee_due, principal_due
from billing.bulk import dialect_insert
from billing.credit import unapplied_credit_by_payment
from billing.guards import get_project, get_unit_account, lock_bill, lock_payment
from billing.journal import write_journal
from billing.ledger import (
    AllocationPart,
    post_adjustment,
    post_allocations,
    post_late_fee,
    post_payment,
    post_refund,
    post_reversal,
)
from billing.model import LateFeePolicy
from billing.policy import may_adjust_bills, may_refund_payments, may_take_payments
from billing.receipts import ReceiptLine, ReceiptSigner, issue_receipt
from billing.rule_admin import load_policies
from db.models import (
    Adjustment,
    AdjustmentKind,
    AllocationSource,
    Bill,
    BillStatus,
    Party,
    Payment,
    PaymentAllocation,
    PaymentBatch,
    PaymentChannel,
    PaymentReversal,
    Project,
    ReversalKind,
    Unit,
)
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal

__all__ = [
    "BatchItem",
    "PaymentRequest",
    "accrued_late_fee_for",
    "batch_payments",
    "book_payment",
    "create_adjustment",
    "record_batch_payment",
    "record_payment",
    "refund_payment",
    "reverse_payment",
]

_ZERO = Decimal("0.00")
_FEN = Decimal("0.01")
MAX_PAYMENT = Decimal("100000000.00")


@dataclass(frozen=True)
class PaymentRequest:
    """A payment for one unit; empty `bill_ids` allocates automatically, oldest bill first."""

    unit_id: int
    channel: PaymentChannel
    amount: Decimal
    payer_name: str
    external_reference: str | None = None
    bill_ids: tuple[int, ...] = ()
    paid_at: dt.datetime | None = None
    payer_party_id: int | None = None


@dataclass(frozen=True)
class BatchItem:
    unit_id: int
    amount: Decimal
    bill_ids: tuple[int, ...] = ()


def _amount(value: Decimal, field: str) -> Decimal:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        raise BadInput(f"{field} must be an amount in yuan.", field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise BadInput(f"{field} must be greater than 0.", field=field)
    if amount != amount.quantize(_FEN):
        raise BadInput(f"{field} must be a whole number of fen (at most two decimal places).", field=field)
    if amount > MAX_PAYMENT:
        raise BadInput(f"{field} is larger than any payment Courtyard accepts.", field=field)
    return amount.quantize(_FEN)


def _text(value: str | None, field: str, max_length: int, *, required: bool) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise BadInput(f"{field} must not be empty.", field=field)
        return None
    if len(cleaned) > max_length:
        raise BadInput(f"{field} must be at most {max_length} characters.", field=field)
    return cleaned


def payload_hash(payload: object) -> str:
    """SHA-256 of the canonical JSON of a request, to tell a retry from a different request."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _new_late_fee(bill: Bill, policy: LateFeePolicy, as_of: dt.date) -> Decimal:
    return accrue_late_fee(
        principal_outstanding=principal_due(bill),
        original_principal=bill.total_amount + bill.adjustment_amount,
        due_date=bill.due_date,
        charged_through=bill.late_fee_through,
        charged_so_far=bill.late_fee_amount,
        as_of=as_of,
        policy=policy,
    )


async def accrued_late_fee_for(session: AsyncSession, bill_id: int, as_of: dt.date) -> Decimal:
    """Late fee a bill would be charged if paid on `as_of`, on top of what it was charged already."""
    bill = await session.get(Bill, bill_id)
    if bill is None:
        return _ZERO
    policies = await load_policies(session, bill.project_id)
    return _new_late_fee(bill, policies.late_fee, as_of)


async def _bills_to_pay(
    session: AsyncSession, unit_id: int, bill_ids: Sequence[int], *, field: str
) -> list[Bill]:
    """The bills a payment goes to, oldest first, locked until commit: the explicit ones (which must be
    the unit's and unpaid), or every unpaid bill of the unit."""
    query = select(Bill).where(Bill.unit_id == unit_id)
    if bill_ids:
        query = query.where(Bill.id.in_(sorted(set(bill_ids))))
    else:
        query = query.where(Bill.status != BillStatus.PAID)
    bills = list(
        (
            await session.scalars(
                query.order_by(Bill.period_start, Bill.id).with_for_update().execution_options(populate_existing=True)
            )
        ).all()
    )
    if bill_ids:
        found = {bill.id for bill in bills}
        if missing := [bill_id for bill_id in bill_ids if bill_id not in found]:
            raise NotFound(f"No bill {missing[0]} of this unit.", field=field)
        if paid := [bill.id for bill in bills if bill.status == BillStatus.PAID]:
            raise BadInput(f"Bill {paid[0]} is already paid.", field=field)
    return bills


async def book_payment(
    session: AsyncSession,
    signer: ReceiptSigner,
    *,
    payment: Payment,
    bills: Sequence[Bill],
    policy: LateFeePolicy,
    zone: ZoneInfo,
    now: dt.datetime,
    user_id: int | None,
) -> Payment:
    """Allocate an inserted payment to `bills` (late fee first, then principal, oldest bill first),
    keep what is left as the unit's prepaid credit, journal it all and issue the receipt."""
    as_of = payment.paid_at.astimezone(zone).date()
    drafts = [
        post_payment(
            payment_id=payment.id,
            unit_id=payment.unit_id,
            channel=payment.channel.value,
            amount=payment.amount,
            description=f"{payment.channel.value} payment from {payment.payer_name}",
        )
    ]
    left = payment.amount
    parts: list[AllocationPart] = []
    lines: list[ReceiptLine] = []
    for bill in bills:
        if left == 0:
            break
        fee = _new_late_fee(bill, policy, as_of)
        if fee > 0:
            bill.late_fee_amount += fee
            drafts.append(
                post_late_fee(
                    bill_id=bill.id, unit_id=bill.unit_id, amount=fee, description=f"late fee on bill {bill.id} to {as_of}"
                )
            )
        # From here on fees accrue on the principal this payment leaves, so they count from today.
        accruing = as_of > bill.due_date + dt.timedelta(days=policy.grace_days)
        if accruing and (bill.late_fee_through is None or as_of > bill.late_fee_through):
            bill.late_fee_through = as_of
        planned, left = plan_allocation(
            left,
            [BillBalance(bill.id, late_fee_due(bill), principal_due(bill))],
        )
        for allocation in planned:
            bill.late_fee_paid += allocation.late_fee
            bill.principal_paid += allocation.principal
            bill.status = bill_status(bill)
            session.add(
                PaymentAllocation(
                    payment_id=payment.id,
                    bill_id=bill.id,
                    principal=allocation.principal,
                    late_fee=allocation.late_fee,
                    source=AllocationSource.PAYMENT,
                )
            )
            parts.append(AllocationPart(bill.id, allocation.principal, allocation.late_fee))
            lines.append(ReceiptLine(bill.id, bill.period, allocation.late_fee, allocation.principal))
    drafts.append(
        post_allocations(
            payment_id=payment.id,
            unit_id=payment.unit_id,
            parts=parts,
            kind="ALLOCATION",
            description=f"payment {payment.id} allocated to {len(parts)} bill(s)",
        )
    )
    await session.flush()
    await write_journal(session, project_id=payment.project_id, drafts=drafts, occurred_at=now, created_by=user_id)
    await issue_receipt(session, signer, payment=payment, lines=lines, issued_at=now)
    return payment


async def _claim_key(
    session: AsyncSession,
    model: type[Payment] | type[PaymentBatch],
    *,
    project_id: int,
    key: str,
    digest: str,
    values: dict[str, object],
) -> tuple[Payment | PaymentBatch | None, Payment | PaymentBatch | None]:
    """Insert the row that claims an idempotency key: (the new row, None), or (None, the row recorded
    first). A concurrent claim of the same key makes the INSERT wait for it, then do nothing."""
    created = await session.scalar(
        dialect_insert(session, model)
        .values(project_id=project_id, idempotency_key=key, payload_hash=digest, **values)
        .on_conflict_do_nothing(index_elements=["project_id", "idempotency_key"])
        .returning(model)
    )
    if created is not None:
        return created, None
    existing = await session.scalar(select(model).where(model.project_id == project_id, model.idempotency_key == key))
    assert existing is not None
    if existing.payload_hash != digest:
        raise Conflict("This idempotency key was already used for a different payment.", field="idempotencyKey")
    return None, existing


def _key(value: str) -> str:
    key = value.strip()
    if not key or len(key) > 100:
        raise BadInput("idempotencyKey must be 1–100 characters.", field="idempotencyKey")
    return key


async def _payer_party(session: AsyncSession, project_id: int, party_id: int | None) -> int | None:
    if party_id is None:
        return None
    party = await session.get(Party, party_id)
    if party is None or party.project_id != project_id:
        raise NotFound("No such party in this project.", field="payerPartyId")
    return party.id


async def record_payment(
    session: AsyncSession,
    principal: Principal | None,
    signer: ReceiptSigner,
    *,
    request: PaymentRequest,
    idempotency_key: str,
    now: dt.datetime,
) -> Payment:
    """Record money received for a unit (see the module docstring on idempotency).

    `principal` None records on the system's own authority (a verified gateway notification).
    """
    if principal is None:
        unit = await session.get(Unit, request.unit_id)
        if unit is None:
            raise NotFound("No such unit.", field="unitId")
    else:
        unit = await get_unit_account(session, principal, request.unit_id, allowed=may_take_payments)
    amount = _amount(request.amount, "amount")
    payer = _text(request.payer_name, "payerName", 200, required=True)
    reference = _text(request.external_reference, "externalReference", 100, required=False)
    key = _key(idempotency_key)
    paid_at = request.paid_at or now
    if paid_at.tzinfo is None:
        raise BadInput("paidAt must carry a time zone.", field="paidAt")
    digest = payload_hash(
        {
            "unit": unit.id,
            "channel": request.channel.value,
            "amount": str(amount),
            "payer": payer,
            "reference": reference,
            "bills": sorted(request.bill_ids),
            "paidAt": request.paid_at.isoformat() if request.paid_at else None,
            "payerParty": request.payer_party_id,
        }
    )
    payer_party_id = await _payer_party(session, unit.project_id, request.payer_party_id)
    created, existing = await _claim_key(
        session,
        Payment,
        project_id=unit.project_id,
        key=key,
        digest=digest,
        values={
            "unit_id": unit.id,
            "payer_party_id": payer_party_id,
            "payer_name": payer,
            "channel": request.channel,
            "external_reference": reference,
            "amount": amount,
            "paid_at": paid_at,
            "recorded_by": principal.user_id if principal else None,
        },
    )
    if existing is not None:
        return existing  # type: ignore[return-value]
    payment = created
    assert isinstance(payment, Payment)
    bills = await _bills_to_pay(session, unit.id, request.bill_ids, field="billIds")
    project = await session.get(Project, unit.project_id)
    policies = await load_policies(session, unit.project_id)
    return await book_payment(
        session,
        signer,
        payment=payment,
        bills=bills,
        policy=policies.late_fee,
        zone=ZoneInfo(project.timezone if project else "Asia/Shanghai"),
        now=now,
        user_id=principal.user_id if principal else None,
    )


async def record_batch_payment(
    session: AsyncSession,
    principal: Principal,
    signer: ReceiptSigner,
    *,
    project_id: int,
    channel: PaymentChannel,
    payer_name: str,
    external_reference: str | None,
    items: Sequence[BatchItem],
    idempotency_key: str,
    paid_at: dt.datetime | None,
    now: dt.datetime,
) -> PaymentBatch:
    """One payer's transfer for many units: one payment per unit, all in this one transaction."""
    project = await get_project(session, principal, project_id, allowed=may_take_payments)
    payer = _text(payer_name, "payerName", 200, required=True)
    reference = _text(external_reference, "externalReference", 100, required=False)
    key = _key(idempotency_key)
    if not items:
        raise BadInput("A batch payment needs at least one unit.", field="items")
    amounts = [_amount(item.amount, f"items[{index}].amount") for index, item in enumerate(items)]
    when = paid_at or now
    if when.tzinfo is None:
        raise BadInput("paidAt must carry a time zone.", field="paidAt")
    digest = payload_hash(
        {
            "channel": channel.value,
            "payer": payer,
            "reference": reference,
            "paidAt": paid_at.isoformat() if paid_at else None,
            "items": [[item.unit_id, str(amount), sorted(item.bill_ids)] for item, amount in zip(items, amounts, strict=True)],
        }
    )
    created, existing = await _claim_key(
        session,
        PaymentBatch,
        project_id=project_id,
        key=key,
        digest=digest,
        values={
            "payer_name": payer,
            "channel": channel,
            "external_reference": reference,
            "total_amount": sum(amounts, _ZERO),
            "recorded_by": principal.user_id,
        },
    )
    if existing is not None:
        return existing  # type: ignore[return-value]
    batch = created
    assert isinstance(batch, PaymentBatch)
    policies = await load_policies(session, project_id)
    zone = ZoneInfo(project.timezone)
    seen: set[int] = set()
    for index, (item, amount) in enumerate(zip(items, amounts, strict=True)):
        unit = await session.get(Unit, item.unit_id)
        if unit is None or unit.project_id != project_id:
            raise NotFound("No such unit in this project.", field=f"items[{index}].unitId")
        if unit.id in seen:
            raise BadInput("Each unit may appear once in a batch.", field=f"items[{index}].unitId")
        seen.add(unit.id)
        payment = Payment(
            project_id=project_id,
            unit_id=unit.id,
            payer_name=payer,
            channel=channel,
            external_reference=reference,
            amount=amount,
            paid_at=when,
            batch_id=batch.id,
            recorded_by=principal.user_id,
        )
        session.add(payment)
        await session.flush()
        bills = await _bills_to_pay(session, unit.id, item.bill_ids, field=f"items[{index}].billIds")
        await book_payment(
            session, signer, payment=payment, bills=bills, policy=policies.late_fee, zone=zone, now=now, user_id=principal.user_id
        )
    return batch


async def batch_payments(session: AsyncSession, batch_id: int) -> Sequence[Payment]:
    return (await session.scalars(select(Payment).where(Payment.batch_id == batch_id).order_by(Payment.id))).all()


async def _credit_left(session: AsyncSession, payment: Payment) -> Decimal:
    for candidate, left in await unapplied_credit_by_payment(session, payment.unit_id):
        if candidate.id == payment.id:
            return left
    return _ZERO


async def refund_payment(
    session: AsyncSession, principal: Principal, *, payment_id: int, amount: Decimal, reason: str, now: dt.datetime
) -> PaymentReversal:
    """Give back part of a payment that no bill has taken (its prepaid credit), on its channel."""
    payment = await lock_payment(session, principal, payment_id, allowed=may_refund_payments)
    amount = _amount(amount, "amount")
    why = _text(reason, "reason", 500, required=True)
    available = await _credit_left(session, payment)
    if amount > available:
        raise BadInput(f"Only {available} of this payment is unallocated credit that can be refunded.", field="amount")
    refund = PaymentReversal(
        payment_id=payment.id, kind=ReversalKind.REFUND, amount=amount, reason=why, created_by=principal.user_id
    )
    session.add(refund)
    await session.flush()
    await write_journal(
        session,
        project_id=payment.project_id,
        drafts=[
            post_refund(
                payment_id=payment.id,
                unit_id=payment.unit_id,
                channel=payment.channel.value,
                amount=amount,
                description=f"refund of payment {payment.id}: {why}",
            )
        ],
        occurred_at=now,
        created_by=principal.user_id,
    )
    return refund


async def reverse_payment(
    session: AsyncSession, principal: Principal, *, payment_id: int, reason: str, now: dt.datetime
) -> PaymentReversal:
    """Undo a payment (a bounced transfer, a mistaken entry): its bills owe again, its credit goes."""
    payment = await lock_payment(session, principal, payment_id, allowed=may_refund_payments)
    why = _text(reason, "reason", 500, required=True)
    if await session.scalar(
        select(PaymentReversal.id).where(PaymentReversal.payment_id == payment.id, PaymentReversal.kind == ReversalKind.REVERSAL)
    ):
        raise Conflict("This payment has already been reversed.", field="paymentId")
    allocations = (await session.scalars(select(PaymentAllocation).where(PaymentAllocation.payment_id == payment.id))).all()
    by_bill: dict[int, tuple[Decimal, Decimal]] = {}
    for allocation in allocations:
        principal_sum, fee_sum = by_bill.get(allocation.bill_id, (_ZERO, _ZERO))
        by_bill[allocation.bill_id] = (principal_sum + allocation.principal, fee_sum + allocation.late_fee)
    credit_left = await _credit_left(session, payment)
    taken_back: list[AllocationPart] = []
    bills = {
        bill.id: bill
        for bill in await session.scalars(
            select(Bill).where(Bill.id.in_(sorted(by_bill))).with_for_update().execution_options(populate_existing=True)
        )
    }
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
    total = sum((part.amount for part in taken_back), _ZERO) + credit_left
    reversal = PaymentReversal(
        payment_id=payment.id, kind=ReversalKind.REVERSAL, amount=total, reason=why, created_by=principal.user_id
    )
    if total == 0:
        raise BadInput("Nothing of this payment is left to reverse: it was refunded in full.", field="paymentId")
    session.add(reversal)
    await session.flush()
    await write_journal(
        session,
        project_id=payment.project_id,
        drafts=[
            post_reversal(
                payment_id=payment.id,
                unit_id=payment.unit_id,
                channel=payment.channel.value,
                taken_back=taken_back,
                credit_left=credit_left,
                description=f"reversal of payment {payment.id}: {why}",
            )
        ],
        occurred_at=now,
        created_by=principal.user_id,
    )
    return reversal


async def create_adjustment(
    session: AsyncSession,
    principal: Principal,
    *,
    bill_id: int,
    kind: AdjustmentKind,
    amount: Decimal,
    reason: str,
    now: dt.datetime,
) -> Adjustment:
    """Correct an issued bill without touching it: a CREDIT lowers what it asks, a DEBIT raises it."""
    bill = await lock_bill(session, principal, bill_id, allowed=may_adjust_bills)
    amount = _amount(amount, "amount")
    why = _text(reason, "reason", 500, required=True)
    if kind == AdjustmentKind.CREDIT and amount > principal_due(bill):
        raise BadInput(f"A credit may take off at most the {principal_due(bill)} the bill still asks for.", field="amount")
    bill.adjustment_amount += amount if kind == AdjustmentKind.DEBIT else -amount
    bill.status = bill_status(bill)
    adjustment = Adjustment(
        project_id=bill.project_id,
        bill_id=bill.id,
        unit_id=bill.unit_id,
        kind=kind,
        amount=amount,
        reason=why,
        created_by=principal.user_id,
    )
    session.add(adjustment)
    await session.flush()
    await write_journal(
        session,
        project_id=bill.project_id,
        drafts=[
            post_adjustment(
                bill_id=bill.id,
                unit_id=bill.unit_id,
                amount=amount,
                raises_bill=kind == AdjustmentKind.DEBIT,
                description=f"{kind.value.lower()} adjustment of bill {bill.id}: {why}",
            )
        ],
        occurred_at=now,
        created_by=principal.user_id,
    )
    return adjustment
