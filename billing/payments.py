"""Recording payments: money received for one unit, or one payer's transfer for many units.

A payment is recorded once per idempotency key: the same key with the same payload answers the payment
recorded first, with another payload CONFLICT. The key's unique index settles concurrent submissions:
the second INSERT waits for the first transaction and then finds its row. How a recorded payment is
spread over bills, journalled and receipted is `billing.booking`'s.
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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.booking import PaymentBooking, add_payments, book_payments
from billing.bulk import dialect_insert
from billing.guards import get_project, get_unit_account
from billing.policy import may_take_payments
from billing.receipts import ReceiptSigner
from billing.rule_book import load_policies
from db.models import (
    Bill,
    BillStatus,
    Party,
    Payment,
    PaymentBatch,
    PaymentChannel,
    Project,
    Unit,
)
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.validation import optional_text, required_text

__all__ = [
    "MAX_PAYMENT",
    "BatchItem",
    "PaymentRequest",
    "RecordedBatch",
    "checked_amount",
    "record_batch_payment",
    "record_payment",
    "take_payment",
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


@dataclass(frozen=True)
class RecordedBatch:
    batch: PaymentBatch
    payments: Sequence[Payment]


def checked_amount(value: Decimal, field: str) -> Decimal:
    """A positive amount of whole fen that Courtyard accepts, else BAD_USER_INPUT on `field`."""
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


def _payload_hash(payload: object) -> str:
    """SHA-256 of the canonical JSON of a request, to tell a retry from a different request."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key(value: str) -> str:
    key = value.strip()
    if not key or len(key) > 100:
        raise BadInput("idempotencyKey must be 1–100 characters.", field="idempotencyKey")
    return key


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


async def _payer_party(session: AsyncSession, project_id: int, party_id: int | None) -> int | None:
    if party_id is None:
        return None
    party = await session.get(Party, party_id)
    if party is None or party.project_id != project_id:
        raise NotFound("No such party in this project.", field="payerPartyId")
    return party.id


async def record_payment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    signer: ReceiptSigner,
    request: PaymentRequest,
    idempotency_key: str,
) -> Payment:
    """Record money received for a unit at the finance desk (see the module docstring on idempotency)."""
    async with unit_of_work(session_factory) as work:
        return await take_payment(
            work.session, principal, now=now, signer=signer, request=request, idempotency_key=idempotency_key
        )


async def take_payment(
    session: AsyncSession,
    principal: Principal | None,
    *,
    now: dt.datetime,
    signer: ReceiptSigner,
    request: PaymentRequest,
    idempotency_key: str,
) -> Payment:
    """`record_payment` inside the caller's transaction; `principal` None records on the system's own
    authority (a verified gateway notification)."""
    if principal is None:
        unit = await session.get(Unit, request.unit_id)
        if unit is None:
            raise NotFound("No such unit.", field="unitId")
    else:
        unit = await get_unit_account(session, principal, request.unit_id, allowed=may_take_payments)
    amount = checked_amount(request.amount, "amount")
    payer = required_text(request.payer_name, "payerName", max_length=200)
    reference = optional_text(request.external_reference, "externalReference", max_length=100)
    key = _key(idempotency_key)
    paid_at = request.paid_at or now
    if paid_at.tzinfo is None:
        raise BadInput("paidAt must carry a time zone.", field="paidAt")
    digest = _payload_hash(
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
    user_id = principal.user_id if principal else None
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
            "recorded_by": user_id,
        },
    )
    if existing is not None:
        return existing  # type: ignore[return-value]
    payment = created
    assert isinstance(payment, Payment)
    bills = await _bills_to_pay(session, unit.id, request.bill_ids, field="billIds")
    project = await session.get(Project, unit.project_id)
    policies = await load_policies(session, unit.project_id)
    await book_payments(
        session,
        signer,
        bookings=[PaymentBooking(payment, bills, booked_at=now)],
        policy=policies.late_fee_versions,
        zone=ZoneInfo(project.timezone if project else "Asia/Shanghai"),
        user_id=user_id,
    )
    return payment


async def record_batch_payment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    signer: ReceiptSigner,
    project_id: int,
    channel: PaymentChannel,
    payer_name: str,
    external_reference: str | None,
    items: Sequence[BatchItem],
    idempotency_key: str,
    paid_at: dt.datetime | None,
) -> RecordedBatch:
    """One payer's transfer for many units: one payment per unit, all in one transaction."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        project = await get_project(session, principal, project_id, allowed=may_take_payments)
        payer = required_text(payer_name, "payerName", max_length=200)
        reference = optional_text(external_reference, "externalReference", max_length=100)
        key = _key(idempotency_key)
        if not items:
            raise BadInput("A batch payment needs at least one unit.", field="items")
        amounts = [checked_amount(item.amount, f"items[{index}].amount") for index, item in enumerate(items)]
        when = paid_at or now
        if when.tzinfo is None:
            raise BadInput("paidAt must carry a time zone.", field="paidAt")
        digest = _payload_hash(
            {
                "channel": channel.value,
                "payer": payer,
                "reference": reference,
                "paidAt": paid_at.isoformat() if paid_at else None,
                "items": [
                    [item.unit_id, str(amount), sorted(item.bill_ids)] for item, amount in zip(items, amounts, strict=True)
                ],
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
        batch = created or existing
        assert isinstance(batch, PaymentBatch)
        if created is not None:
            await _book_batch(
                session, principal, signer, project=project, batch=batch, items=items, amounts=amounts, paid_at=when, now=now
            )
        payments = (await session.scalars(select(Payment).where(Payment.batch_id == batch.id).order_by(Payment.id))).all()
        return RecordedBatch(batch, payments)


async def _book_batch(
    session: AsyncSession,
    principal: Principal,
    signer: ReceiptSigner,
    *,
    project: Project,
    batch: PaymentBatch,
    items: Sequence[BatchItem],
    amounts: Sequence[Decimal],
    paid_at: dt.datetime,
    now: dt.datetime,
) -> None:
    bookings: list[PaymentBooking] = []
    seen: set[int] = set()
    for index, (item, amount) in enumerate(zip(items, amounts, strict=True)):
        unit = await session.get(Unit, item.unit_id)
        if unit is None or unit.project_id != project.id:
            raise NotFound("No such unit in this project.", field=f"items[{index}].unitId")
        if unit.id in seen:
            raise BadInput("Each unit may appear once in a batch.", field=f"items[{index}].unitId")
        seen.add(unit.id)
        bills = await _bills_to_pay(session, unit.id, item.bill_ids, field=f"items[{index}].billIds")
        payment = Payment(
            project_id=project.id,
            unit_id=unit.id,
            payer_name=batch.payer_name,
            channel=batch.channel,
            external_reference=batch.external_reference,
            amount=amount,
            paid_at=paid_at,
            batch_id=batch.id,
            recorded_by=principal.user_id,
        )
        bookings.append(PaymentBooking(payment, bills, booked_at=now))
    await add_payments(session, [booking.payment for booking in bookings])
    policies = await load_policies(session, project.id)
    await book_payments(
        session,
        signer,
        bookings=bookings,
        policy=policies.late_fee_versions,
        zone=ZoneInfo(project.timezone),
        user_id=principal.user_id,
    )
