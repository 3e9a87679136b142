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

from sqlalchemy import or_, select
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
    "CLOCK_SKEW_TOLERANCE",
    "MAX_BATCH_ITEMS",
    "MAX_PAYMENT",
    "BatchItem",
    "PaymentRequest",
    "RecordedBatch",
    "checked_amount",
    "checked_paid_at",
    "record_batch_payment",
    "record_payment",
    "take_payment",
]

_ZERO = Decimal("0.00")
_FEN = Decimal("0.01")
MAX_PAYMENT = Decimal("100000000.00")
# Items one recordBatchPayment may carry. A batch is one transaction that locks every bill it pays until
# it commits; 500 items book in well under a second, and a payer's transfer for more units is split into
# several batches (each with its own idempotency key).
MAX_BATCH_ITEMS = 500
# How far ahead of our clock a payment time may be. A cashier's terminal, a bank's statement or a
# gateway's server keep their own clocks, a few seconds to a minute or two off ours; a time further ahead
# is a typing or date mistake, and booking it would charge late fees up to a day that has not come.
CLOCK_SKEW_TOLERANCE = dt.timedelta(minutes=5)


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
    allocate: bool = True
    """False keeps the whole payment as the unit's credit (a duplicate charge recorded to be refunded)."""


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


def checked_paid_at(paid_at: dt.datetime, *, now: dt.datetime, field: str = "paidAt") -> dt.datetime:
    """When money was received: a time with a zone, not later than now (give or take the clock skew)."""
    if paid_at.tzinfo is None:
        raise BadInput(f"{field} must carry a time zone.", field=field)
    if paid_at > now + CLOCK_SKEW_TOLERANCE:
        raise BadInput(f"{field} {paid_at.isoformat()} is in the future; a payment can only be recorded once received.", field=field)
    return paid_at


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
    return (await _bills_to_pay_by_unit(session, [(unit_id, tuple(bill_ids), field)]))[unit_id]


async def _bills_to_pay_by_unit(
    session: AsyncSession, wanted: Sequence[tuple[int, Sequence[int], str]]
) -> dict[int, list[Bill]]:
    """`_bills_to_pay` for many units at once, in one statement: (unit id, explicit bill ids, the field
    that named them) in, each unit's bills out."""
    unit_ids = sorted({unit_id for unit_id, _, _ in wanted})
    explicit = sorted({bill_id for _, bill_ids, _ in wanted for bill_id in bill_ids})
    chosen = Bill.status != BillStatus.PAID
    if explicit:
        chosen = or_(chosen, Bill.id.in_(explicit))
    rows = await session.scalars(
        select(Bill)
        .where(Bill.unit_id.in_(unit_ids), chosen)
        .order_by(Bill.period_start, Bill.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    of_unit: dict[int, list[Bill]] = {unit_id: [] for unit_id in unit_ids}
    for bill in rows:
        of_unit[bill.unit_id].append(bill)
    paying: dict[int, list[Bill]] = {}
    for unit_id, bill_ids, field in wanted:
        bills = of_unit[unit_id]
        if not bill_ids:
            paying[unit_id] = [bill for bill in bills if bill.status != BillStatus.PAID]
            continue
        named = set(bill_ids)
        paying[unit_id] = [bill for bill in bills if bill.id in named]
        found = {bill.id for bill in paying[unit_id]}
        if missing := [bill_id for bill_id in bill_ids if bill_id not in found]:
            raise NotFound(f"No bill {missing[0]} of this unit.", field=field)
        if paid := [bill.id for bill in paying[unit_id] if bill.status == BillStatus.PAID]:
            raise BadInput(f"Bill {paid[0]} is already paid.", field=field)
    return paying


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
    paid_at = checked_paid_at(request.paid_at or now, now=now)
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
    bills = await _bills_to_pay(session, unit.id, request.bill_ids, field="billIds") if request.allocate else []
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
        if len(items) > MAX_BATCH_ITEMS:
            raise BadInput(
                f"A batch payment carries at most {MAX_BATCH_ITEMS} items, not {len(items)}; split it into several batches.",
                field="items",
            )
        amounts = [checked_amount(item.amount, f"items[{index}].amount") for index, item in enumerate(items)]
        when = checked_paid_at(paid_at or now, now=now)
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
    units = {
        unit.id: unit
        for unit in await session.scalars(select(Unit).where(Unit.id.in_(sorted({item.unit_id for item in items}))))
    }
    seen: set[int] = set()
    for index, item in enumerate(items):
        unit = units.get(item.unit_id)
        if unit is None or unit.project_id != project.id:
            raise NotFound("No such unit in this project.", field=f"items[{index}].unitId")
        if unit.id in seen:
            raise BadInput("Each unit may appear once in a batch.", field=f"items[{index}].unitId")
        seen.add(unit.id)
    bills = await _bills_to_pay_by_unit(
        session, [(item.unit_id, item.bill_ids, f"items[{index}].billIds") for index, item in enumerate(items)]
    )
    bookings = [
        PaymentBooking(
            Payment(
                project_id=project.id,
                unit_id=item.unit_id,
                payer_name=batch.payer_name,
                channel=batch.channel,
                external_reference=batch.external_reference,
                amount=amount,
                paid_at=paid_at,
                batch_id=batch.id,
                recorded_by=principal.user_id,
            ),
            bills[item.unit_id],
            booked_at=now,
        )
        for item, amount in zip(items, amounts, strict=True)
    ]
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
