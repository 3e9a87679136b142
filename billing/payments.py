"""Recording payments: money received for one unit, or one payer's transfer for many units.

A payment is recorded once per idempotency key: the same key with the same payload answers the payment
recorded first, with another payload CONFLICT. The key's unique index settles concurrent submissions:
the second INSERT waits for the first transaction and then finds its row. How a recorded payment is
spread over bills, journalled and receipted is `billing.booking`'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, Integer, any_, bindparam, inspect, literal_column, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.booking import (
    BookedPayment,
    PayableBill,
    PaymentBooking,
    add_payments,
    book_payments,
    lock_payable_bills,
    payable_bills_select,
)
from billing.guards import UnitAccount, get_project, get_unit_account, read_unit_accounts, unit_account_of, unit_accounts_select
from billing.policy import knows_unit_account, may_take_payments
from billing.receipts import ReceiptSigner
from db.base import utcnow
from db.driver import DriverStatement, flush_pending, session_connection
from db.models import (
    Bill,
    BillStatus,
    JournalEntry,
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
    "RecordedPayment",
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
class RecordedPayment:
    """A payment as recorded; `booked` holds its receipt and allocations when this call booked it, None
    when the idempotency key answered a payment recorded before."""

    payment: Payment
    booked: BookedPayment | None = None


@dataclass(frozen=True)
class RecordedBatch:
    batch: PaymentBatch
    payments: Sequence[RecordedPayment]


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


def _claim_insert(dialect: str, model: type[Payment] | type[PaymentBatch], *, required: bool = True) -> Any:
    """`_claim_key`'s INSERT … ON CONFLICT DO NOTHING RETURNING id, every column but the id given by name."""
    table = model.__table__
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .values(
            {
                column.key: bindparam(column.key, type_=column.type, required=required)
                for column in table.columns
                if column.key != "id"
            }
        )
        .on_conflict_do_nothing(index_elements=["project_id", "idempotency_key"])
        .returning(table.c.id)
    )


@functools.cache
def _claim_statement(dialect: str, model: type[Payment] | type[PaymentBatch]) -> DriverStatement:
    """`_claim_insert`, built once per dialect and table, because building a statement costs more than
    running it."""
    return DriverStatement(_claim_insert(dialect, model))


@functools.cache
def _claim_and_lock_statement(*, named: bool) -> DriverStatement:
    """PostgreSQL: `_claim_key`'s INSERT and `lock_payable_bills`' SELECT … FOR UPDATE as one statement, one
    round trip: each bill beside the payment's new id (None: the key was claimed before), one row of
    nulls when there is no bill. The claim comes first, as when they are two: the one-row side of the
    join (its scalar subquery runs the INSERT) is the outer side of the only join that ON true allows."""
    # Its parameters are not marked required: the expanding lists beside them are rendered when the
    # statement is compiled, which would ask a value of every required one.
    claimed = _claim_insert("postgresql", Payment, required=False).cte("claimed")
    head = select(select(claimed.c.id).scalar_subquery().label("claimed_id")).subquery("head")
    bills = (
        payable_bills_select(named=named)
        .add_columns(Bill.__table__.c.period_start.label("bill_period_start"))
        .order_by(None)
        .subquery("payable")
    )
    statement = (
        select(head.c.claimed_id, *(column for column in bills.c if column.key != "bill_period_start"))
        .select_from(head.outerjoin(bills, true()))
        .order_by(bills.c.bill_period_start, bills.c.id)
    )
    return DriverStatement(statement)


_ACCOUNT_COLUMNS = len(unit_accounts_select().selected_columns)


@functools.cache
def _claim_with_account_statement(*, named: bool) -> DriverStatement:
    """PostgreSQL: `_claim_and_lock_statement` for a caller that has not read the unit: one round trip fewer.
    The unit's account (`unit_accounts_select`) comes on the one-row side, beside the claimed id, and
    the payment takes its project from it. Only a unit of the projects `admitted_projects` lists counts:
    for any other unit the statement answers no row, inserts nothing and locks no bill. Beside them, ids
    for the booking's journal entries, as many as it can draft (the payment's, one late fee per bill and
    the allocation's): with its ids in hand, booking writes the journal before the receipt counter."""
    unit, table = Unit.__table__, Payment.__table__
    admitted = unit.c.project_id == any_(bindparam("admitted_projects", type_=ARRAY(Integer), required=False))
    # Its parameters are not marked required, as in `_claim_and_lock_statement`.
    account = unit_accounts_select().where(unit.c.id == bindparam("unit_id", type_=Integer, required=False), admitted).cte("account")
    columns = [column for column in table.columns if column.key != "id"]
    from_account = {"project_id": account.c.project_id, "unit_id": account.c.id}
    given = select(
        *(from_account.get(column.key, bindparam(column.key, type_=column.type, required=False)) for column in columns)
    )
    claimed = (
        postgresql.insert(table)
        .from_select([column.key for column in columns], given)
        .on_conflict_do_nothing(index_elements=["project_id", "idempotency_key"])
        .returning(table.c.id)
        .cte("claimed")
    )
    bills = (
        payable_bills_select(named=named)
        .where(admitted)
        .add_columns(Bill.__table__.c.period_start.label("bill_period_start"))
        .order_by(None)
        .cte("payable")
    )
    entries = literal_column(
        f"ARRAY(SELECT nextval(pg_get_serial_sequence('{JournalEntry.__table__.name}', 'id'))"
        " FROM generate_series(1, 2 + (SELECT count(*) FROM payable)))",
        ARRAY(Integer),
    )
    # In this order: the claim, then the bills locked (counted for the ids).
    head = select(select(claimed.c.id).scalar_subquery().label("claimed_id"), *account.c, entries.label("entry_ids")).subquery(
        "head"
    )
    statement = (
        select(*head.c, *(column for column in bills.c if column.key != "bill_period_start"))
        .select_from(head.outerjoin(bills, true()))
        .order_by(bills.c.bill_period_start, bills.c.id)
    )
    return DriverStatement(statement)


def _claim_values(row: Payment | PaymentBatch) -> dict[str, object]:
    """The values of `_claim_statement`: the attributes set on the row (every column the caller gives a
    value), all but the id."""
    given = inspect(row).dict
    return {column.key: given.get(column.key) for column in type(row).__table__.columns if column.key != "id"}


async def _claim_key(session: AsyncSession, row: Payment | PaymentBatch) -> Payment | PaymentBatch | None:
    """Insert `row`, which claims its idempotency key, and give it its id: None. When the key was claimed
    before, the row recorded first (a different payload: CONFLICT); a concurrent claim of the same key
    makes the INSERT wait for it, then do nothing."""
    connection = await session_connection(session)
    created = await _claim_statement(connection.dialect.name, type(row)).scalar(connection, _claim_values(row))
    return await _claimed(session, row, created)


async def _claim_and_lock(
    session: AsyncSession, payment: Payment, wanted: tuple[int, Sequence[int], str]
) -> tuple[Payment | PaymentBatch | None, list[PayableBill]]:
    """`_claim_key` of a payment and, when it claimed the key, `_bills_to_pay` of its unit. On PostgreSQL
    in one statement (`_claim_and_lock_statement`), which locks the bills whether or not it claimed."""
    unit_id, bill_ids, _ = wanted
    connection = await session_connection(session)
    if connection.dialect.name != "postgresql":
        if (existing := await _claim_key(session, payment)) is not None:
            return existing, []
        return None, (await _bills_to_pay(session, [wanted]))[unit_id]
    values: dict[str, object] = {**_claim_values(payment), "unit_ids": [unit_id]}
    if bill_ids:
        values["bill_ids"] = sorted(set(bill_ids))
    rows = await _claim_and_lock_statement(named=bool(bill_ids)).rows(connection, values)
    if (existing := await _claimed(session, payment, rows[0][0])) is not None:
        return existing, []
    bills = [PayableBill(*row[1:]) for row in rows if row[1] is not None]
    return None, _bills_by_unit(bills, [wanted])[unit_id]


@dataclass(frozen=True)
class _Claim:
    """What `_claim_with_account` found: the unit's account, the payment recorded before under the key
    (None: this call claimed it), the bills to pay and journal entry ids reserved for their booking."""

    account: UnitAccount
    existing: Payment | None
    bills: list[PayableBill]
    entry_ids: list[int]


async def _claim_with_account(
    session: AsyncSession, principal: Principal, payment: Payment, bill_ids: Sequence[int]
) -> _Claim | None:
    """`_claim_and_lock` of a payment whose project is not known yet, with its unit's account, on
    PostgreSQL in one statement (`_claim_with_account_statement`); when it claimed the key, `payment`
    holds its project and id. None when the unit is none the caller may take payments for (nothing
    written, nothing locked): `get_unit_account` tells why."""
    connection = await session_connection(session)
    unit_id = payment.unit_id
    admitted = [
        project_id
        for project_id in sorted(principal.project_ids)
        if may_take_payments(principal, project_id=project_id)
        and knows_unit_account(principal, project_id=project_id, unit_id=unit_id)
    ]
    values: dict[str, object] = {**_claim_values(payment), "unit_ids": [unit_id], "admitted_projects": admitted}
    if bill_ids:
        values["bill_ids"] = sorted(set(bill_ids))
    rows = await _claim_with_account_statement(named=bool(bill_ids)).rows(connection, values)
    if not rows:
        return None
    head_width = 2 + _ACCOUNT_COLUMNS
    claimed_id, *account_row, entry_ids = rows[0][:head_width]
    account = unit_account_of(account_row)
    payment.project_id = account.project_id
    if (existing := await _claimed(session, payment, claimed_id)) is not None:
        assert isinstance(existing, Payment)
        return _Claim(account, existing, [], [])
    bills = [PayableBill(*row[head_width:]) for row in rows if row[head_width] is not None]
    return _Claim(account, None, _bills_by_unit(bills, [(unit_id, bill_ids, "billIds")])[unit_id], list(entry_ids))


async def _claimed(session: AsyncSession, row: Payment | PaymentBatch, created: int | None) -> Payment | PaymentBatch | None:
    """What claiming `row`'s key came to (see `_claim_key`), the INSERT having given `created`."""
    model = type(row)
    if created is not None:
        row.id = created
        return None
    existing = await session.scalar(
        select(model).where(model.project_id == row.project_id, model.idempotency_key == row.idempotency_key)
    )
    assert existing is not None
    if existing.payload_hash != row.payload_hash:
        raise Conflict("This idempotency key was already used for a different payment.", field="idempotencyKey")
    return existing


def _bills_by_unit(
    bills: Sequence[PayableBill], wanted: Sequence[tuple[int, Sequence[int], str]]
) -> dict[int, list[PayableBill]]:
    """Each unit's bills to pay, oldest first: the explicit ones (which must be the unit's and unpaid), or
    every unpaid bill of the unit. `wanted` holds (unit id, explicit bill ids, the field that named
    them); `bills` the units' unpaid and explicitly named bills, locked."""
    of_unit: dict[int, list[PayableBill]] = {unit_id: [] for unit_id, _, _ in wanted}
    for bill in bills:
        of_unit[bill.unit_id].append(bill)
    paying: dict[int, list[PayableBill]] = {}
    for unit_id, bill_ids, field in wanted:
        unit_bills = of_unit[unit_id]
        if not bill_ids:
            paying[unit_id] = [bill for bill in unit_bills if bill.status != BillStatus.PAID]
            continue
        named = set(bill_ids)
        paying[unit_id] = [bill for bill in unit_bills if bill.id in named]
        found = {bill.id for bill in paying[unit_id]}
        if missing := [bill_id for bill_id in bill_ids if bill_id not in found]:
            raise NotFound(f"No bill {missing[0]} of this unit.", field=field)
        if paid := [bill.id for bill in paying[unit_id] if bill.status == BillStatus.PAID]:
            raise BadInput(f"Bill {paid[0]} is already paid.", field=field)
    return paying


async def _bills_to_pay(
    session: AsyncSession, wanted: Sequence[tuple[int, Sequence[int], str]]
) -> dict[int, list[PayableBill]]:
    """`_bills_by_unit` of the bills read and locked in one statement."""
    bills = await lock_payable_bills(
        session,
        unit_ids=[unit_id for unit_id, _, _ in wanted],
        bill_ids=[bill_id for _, bill_ids, _ in wanted for bill_id in bill_ids],
    )
    return _bills_by_unit(bills, wanted)


def _new_payment(
    request: PaymentRequest,
    idempotency_key: str,
    *,
    now: dt.datetime,
    project_id: int | None,
    payer_party_id: int | None,
    recorded_by: int | None,
) -> Payment:
    """The payment `request` asks for, its input checked (BAD_USER_INPUT), not stored yet."""
    amount = checked_amount(request.amount, "amount")
    payer = required_text(request.payer_name, "payerName", max_length=200)
    reference = optional_text(request.external_reference, "externalReference", max_length=100)
    key = _key(idempotency_key)
    paid_at = checked_paid_at(request.paid_at or now, now=now)
    digest = _payload_hash(
        {
            "unit": request.unit_id,
            "channel": request.channel.value,
            "amount": str(amount),
            "payer": payer,
            "reference": reference,
            "bills": sorted(request.bill_ids),
            "paidAt": request.paid_at.isoformat() if request.paid_at else None,
            "payerParty": request.payer_party_id,
        }
    )
    return Payment(
        project_id=project_id,
        unit_id=request.unit_id,
        payer_party_id=payer_party_id,
        payer_name=payer,
        channel=request.channel,
        external_reference=reference,
        amount=amount,
        paid_at=paid_at,
        idempotency_key=key,
        payload_hash=digest,
        recorded_by=recorded_by,
        created_at=utcnow(),
    )


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
) -> RecordedPayment:
    """Record money received for a unit at the finance desk (see the module docstring on idempotency)."""
    async with unit_of_work(session_factory) as work:
        return await _take_payment(
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
    recorded = await _take_payment(
        session, principal, now=now, signer=signer, request=request, idempotency_key=idempotency_key
    )
    return recorded.payment


async def _take_payment(
    session: AsyncSession,
    principal: Principal | None,
    *,
    now: dt.datetime,
    signer: ReceiptSigner,
    request: PaymentRequest,
    idempotency_key: str,
) -> RecordedPayment:
    # What the caller changed through the session is written before the plain statements below read.
    await flush_pending(session)
    recorded_by = principal.user_id if principal else None
    claimed = None
    entry_ids: list[int] = []
    desk_payment = request.allocate and request.payer_party_id is None
    if principal is not None and desk_payment and (await session_connection(session)).dialect.name == "postgresql":
        # The common desk payment on PostgreSQL: the unit is read with the claim (one round trip fewer).
        # Someone else's unit still answers NOT_FOUND before anything about the input is said.
        try:
            payment = _new_payment(request, idempotency_key, now=now, project_id=None, payer_party_id=None, recorded_by=recorded_by)
        except BadInput:
            await get_unit_account(session, principal, request.unit_id, allowed=may_take_payments)
            raise
        claimed = await _claim_with_account(session, principal, payment, request.bill_ids)
    if claimed is not None:
        account, existing, bills, entry_ids = claimed.account, claimed.existing, claimed.bills, claimed.entry_ids
    else:
        account = await get_unit_account(session, principal, request.unit_id, allowed=may_take_payments)
        payment = _new_payment(request, idempotency_key, now=now, project_id=account.project_id, payer_party_id=None, recorded_by=recorded_by)
        payment.payer_party_id = await _payer_party(session, account.project_id, request.payer_party_id)
        if request.allocate:
            existing, bills = await _claim_and_lock(session, payment, (account.unit_id, request.bill_ids, "billIds"))
        else:
            existing, bills = await _claim_key(session, payment), []
    if existing is not None:
        assert isinstance(existing, Payment)
        return RecordedPayment(existing)
    [booked] = await book_payments(
        session,
        signer,
        bookings=[PaymentBooking(payment, bills, booked_at=now, place=account.place)],
        zone=ZoneInfo(account.timezone),
        user_id=payment.recorded_by,
        issues_invoices=account.issues_invoices,
        entry_ids=entry_ids,
    )
    return RecordedPayment(payment, booked)


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
        batch = PaymentBatch(
            project_id=project_id,
            payer_name=payer,
            channel=channel,
            external_reference=reference,
            total_amount=sum(amounts, _ZERO),
            idempotency_key=key,
            payload_hash=digest,
            recorded_by=principal.user_id,
            created_at=utcnow(),
        )
        if (existing := await _claim_key(session, batch)) is not None:
            assert isinstance(existing, PaymentBatch)
            recorded = await session.scalars(select(Payment).where(Payment.batch_id == existing.id).order_by(Payment.id))
            return RecordedBatch(existing, [RecordedPayment(payment) for payment in recorded])
        payments = await _book_batch(
            session, principal, signer, project=project, batch=batch, items=items, amounts=amounts, paid_at=when, now=now
        )
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
) -> list[RecordedPayment]:
    """Book one payment per item, reading every unit and every bill in one statement each and writing each
    table's rows in one more."""
    accounts = await read_unit_accounts(session, [item.unit_id for item in items])
    seen: set[int] = set()
    for index, item in enumerate(items):
        account = accounts.get(item.unit_id)
        if account is None or account.project_id != project.id:
            raise NotFound("No such unit in this project.", field=f"items[{index}].unitId")
        if item.unit_id in seen:
            raise BadInput("Each unit may appear once in a batch.", field=f"items[{index}].unitId")
        seen.add(item.unit_id)
    bills = await _bills_to_pay(
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
            place=accounts[item.unit_id].place,
        )
        for item, amount in zip(items, amounts, strict=True)
    ]
    await add_payments(session, [booking.payment for booking in bookings])
    booked = await book_payments(
        session, signer, bookings=bookings, zone=ZoneInfo(project.timezone), user_id=principal.user_id
    )
    return [RecordedPayment(booking.payment, result) for booking, result in zip(bookings, booked, strict=True)]
