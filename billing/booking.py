"""Booking payments: what each payment pays on its bills and what stays with the unit as prepaid credit,
the bills' late fees, balances and statuses that follow, the journal entries, and the signed receipt.

A payment reaches its bills oldest first. On each bill the late fee accrued up to the day of payment is
charged, then the payment settles the late fee before the principal (`billing.allocation`), and the
bill's status follows from what it still asks for (`billing.balance`). What is left stays as the unit's
prepaid credit. This one core books a payment taken at the desk or from a gateway, a payer's batch for
many units, and the demo's months of history.

Bills are read (with what the reports' facts need of them) and written back as plain rows, and every
other row is written in bulk (`BulkConnection.write_together`: on PostgreSQL one statement for the bills,
the allocations and the bills' own reports' facts, which `billing.reports.facts.bill_changes` computes
from the figures booking leaves the bills with), so one payment and a batch of hundreds cost the same
handful of statements. Then, for a project that issues invoices by itself, each payment's invoice request
(`invoicing.automatic`, which reads the booking). The receipt counter, the one row every payment of a
project waits for, is taken last, together with the receipts' and the journal entries' ids, just before
the receipts, the journal and the facts' daily and monthly sums (which every payment of the day adds to)
are written in one statement and the transaction commits: payments of one project queue on those rows
for one statement and the commit, not for the whole booking. A caller that reserved the journal entries'
ids already (a desk payment on PostgreSQL, with its claim) has the journal written with the bills, and
leaves only the receipts and the sums for that statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.allocation import (
    BillBalance,
    PlannedAllocation,
    late_fee_now,
    plan_allocation,
)
from billing.balance import amount_due, bill_status, late_fee_due, principal_due
from billing.bulk import TableRows, bulk_connection
from billing.journal import (
    JOURNAL_ENTRY_COLUMNS,
    JOURNAL_LINE_COLUMNS,
    journal_entry_record,
    journal_line_record,
)
from billing.ledger import (
    AllocationPart,
    JournalDraft,
    post_allocations,
    post_late_fee,
    post_payment,
)
from billing.money import to_fen
from billing.reports.facts import AgeingBill, BillMoved, BillNow, bill_changes
from billing.receipts import (
    RECEIPT_COUNTER,
    ReceiptLine,
    ReceiptPlace,
    ReceiptSigner,
    next_counter_value_reserving,
    receipt_content,
)
from billing.rule_book import late_fee_versions
from billing.rules import LateFeePolicies, late_fee_policy_on
from db.base import utcnow
from db.driver import DriverStatement, flush_pending, session_connection
from db.models import (
    AllocationSource,
    Bill,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentAllocation,
    Receipt,
    Unit,
)
from kernel.vocabulary import BillStatus
from invoicing.automatic import queue_automatic_invoices

__all__ = [
    "BookedAllocation",
    "BookedPayment",
    "PayableBill",
    "PaymentBooking",
    "add_payments",
    "book_payments",
    "lock_payable_bills",
    "payable_bills_select",
]

_PAYMENT_COLUMNS = (
    "id",
    "project_id",
    "unit_id",
    "payer_party_id",
    "payer_name",
    "channel",
    "external_reference",
    "amount",
    "paid_at",
    "batch_id",
    "recorded_by",
    "created_at",
)
_ALLOCATION_COLUMNS = ("payment_id", "bill_id", "principal", "late_fee", "source", "created_at")
_RECEIPT_COLUMNS = ("id", "project_id", "payment_id", "number", "content", "signature", "issued_at")
_PAID = AllocationSource.PAYMENT.value
_BILL: Table = Bill.__table__  # type: ignore[assignment]
_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
_ALLOCATIONS: Table = PaymentAllocation.__table__  # type: ignore[assignment]
_ENTRIES: Table = JournalEntry.__table__  # type: ignore[assignment]
_LINES: Table = JournalLine.__table__  # type: ignore[assignment]
_RECEIPTS: Table = Receipt.__table__  # type: ignore[assignment]
_UNIT: Table = Unit.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class PayableBill:
    """A bill as a payment finds it, locked until commit; booking changes its figures in place and writes
    them back."""

    id: int
    unit_id: int
    period: str
    due_date: dt.date
    status: BillStatus
    total_amount: Decimal
    adjustment_amount: Decimal
    late_fee_amount: Decimal
    late_fee_through: dt.date | None
    principal_paid: Decimal
    late_fee_paid: Decimal
    issued_on: dt.date
    party_id: int | None
    building_id: int


# What the reports' facts need of a bill besides its figures comes with it: its unit's building.
_PAYABLE_COLUMNS = (*(_BILL.c[column.name] for column in fields(PayableBill) if column.name != "building_id"), _UNIT.c.building_id)
# The figures booking changes on a bill, written back by id.
_BILL_FIGURES = ("id", "status", "late_fee_amount", "late_fee_through", "principal_paid", "late_fee_paid")


def payable_bills_select(*, named: bool) -> Select[Any]:
    """`lock_payable_bills`' statement, its values `unit_ids` and (`named`) `bill_ids`: the columns of
    `PayableBill`, for a caller that sends it within a statement of its own."""
    chosen = _BILL.c.status != BillStatus.PAID
    if named:
        chosen = or_(chosen, _BILL.c.id.in_(bindparam("bill_ids", expanding=True)))
    return (
        select(*_PAYABLE_COLUMNS)
        .join(_UNIT, _UNIT.c.id == _BILL.c.unit_id)
        .where(_BILL.c.unit_id.in_(bindparam("unit_ids", expanding=True)), chosen)
        .order_by(_BILL.c.period_start, _BILL.c.id)
        .with_for_update(of=_BILL)
    )


def _payable_bills_statement(*, named: bool) -> DriverStatement:
    return DriverStatement(payable_bills_select(named=named))


# Built once: building a statement costs more than running it.
_UNPAID_BILLS = _payable_bills_statement(named=False)
_UNPAID_AND_NAMED_BILLS = _payable_bills_statement(named=True)


async def lock_payable_bills(
    session: AsyncSession, *, unit_ids: Collection[int], bill_ids: Collection[int] = ()
) -> list[PayableBill]:
    """The unpaid bills of `unit_ids`, and those of their bills `bill_ids` names even when paid (for the
    caller to refuse), oldest first and locked until commit, in one statement for any number of units."""
    connection = await session_connection(session)
    units = sorted(set(unit_ids))
    if bill_ids:
        rows = await _UNPAID_AND_NAMED_BILLS.rows(connection, {"unit_ids": units, "bill_ids": sorted(set(bill_ids))})
    else:
        rows = await _UNPAID_BILLS.rows(connection, {"unit_ids": units})
    return [PayableBill(*row) for row in rows]


@dataclass(frozen=True)
class PaymentBooking:
    """A stored payment, the bills it goes to (locked, oldest first), when it is booked (the time its
    journal entries and receipt carry), and the place its receipt names."""

    payment: Payment
    bills: Sequence[PayableBill]
    booked_at: dt.datetime
    place: ReceiptPlace


@dataclass(frozen=True)
class BookedPayment:
    """What booking wrote for one payment, as stored: its receipt and its allocations."""

    receipt: Receipt
    allocations: Sequence[BookedAllocation]


@dataclass(frozen=True, slots=True)
class BookedAllocation:
    """An allocation as stored, by the names of `PaymentAllocation`'s columns (a plain record: its
    readers read columns only, as they do the plain rows of `allocations_by_payment`)."""

    payment_id: int
    bill_id: int
    principal: Decimal
    late_fee: Decimal
    source: AllocationSource
    created_at: dt.datetime


@dataclass
class _Booked:
    drafts: list[JournalDraft] = field(default_factory=list)
    allocations: list[PlannedAllocation] = field(default_factory=list)
    receipt_lines: list[ReceiptLine] = field(default_factory=list)
    reached: list[PayableBill] = field(default_factory=list)


def _allocate(payment: Payment, bills: Sequence[PayableBill], policy: LateFeePolicies, zone: ZoneInfo) -> _Booked:
    """Spread one payment over its bills, changing the bills' figures, and draft its journal entries."""
    as_of = payment.paid_at.astimezone(zone).date()
    booked = _Booked()
    booked.drafts.append(
        post_payment(
            payment_id=payment.id,
            unit_id=payment.unit_id,
            channel=payment.channel.value,
            amount=payment.amount,
            description=f"{payment.channel.value} payment from {payment.payer_name}",
        )
    )
    left = payment.amount
    parts: list[AllocationPart] = []
    for bill in bills:
        if left == 0:
            break
        booked.reached.append(bill)
        fee = late_fee_now(bill, policy, as_of)
        if fee > 0:
            bill.late_fee_amount += fee
            booked.drafts.append(
                post_late_fee(
                    bill_id=bill.id, unit_id=bill.unit_id, amount=fee, description=f"late fee on the {bill.period} bill to {as_of}"
                )
            )
        # From here on fees accrue on the principal this payment leaves, so they count from today.
        in_force = late_fee_policy_on(policy, as_of)
        accruing = in_force is not None and as_of > bill.due_date + dt.timedelta(days=in_force.grace_days)
        if accruing and (bill.late_fee_through is None or as_of > bill.late_fee_through):
            bill.late_fee_through = as_of
        planned, left = plan_allocation(left, [BillBalance(bill.id, late_fee_due(bill), principal_due(bill))])
        for allocation in planned:
            bill.late_fee_paid += allocation.late_fee
            bill.principal_paid += allocation.principal
            bill.status = bill_status(bill)
            booked.allocations.append(allocation)
            parts.append(AllocationPart(bill.id, allocation.principal, allocation.late_fee))
            booked.receipt_lines.append(ReceiptLine(bill.id, bill.period, allocation.late_fee, allocation.principal))
    allocated = post_allocations(
        payment_id=payment.id,
        unit_id=payment.unit_id,
        parts=parts,
        kind="ALLOCATION",
        description=f"payment {payment.id} allocated to {len(parts)} bill(s)",
    )
    if allocated is not None:
        booked.drafts.append(allocated)
    return booked


async def add_payments(session: AsyncSession, payments: Sequence[Payment]) -> None:
    """Store new payments in one bulk write, giving each its id (no idempotency key: a batch's own key,
    or none, covers them)."""
    if not payments:
        return
    writer = await bulk_connection(session)
    ids = await writer.reserve_ids(_PAYMENTS, len(payments))
    created_at = utcnow()
    for payment, payment_id in zip(payments, ids, strict=True):
        payment.id, payment.created_at = payment_id, created_at
    await writer.write(
        _PAYMENTS,
        _PAYMENT_COLUMNS,
        [
            (
                payment.id,
                payment.project_id,
                payment.unit_id,
                payment.payer_party_id,
                payment.payer_name,
                payment.channel.value,
                payment.external_reference,
                to_fen(payment.amount),
                payment.paid_at.astimezone(dt.UTC),
                payment.batch_id,
                payment.recorded_by,
                created_at,
            )
            for payment in payments
        ],
    )


async def book_payments(
    session: AsyncSession,
    signer: ReceiptSigner,
    *,
    bookings: Sequence[PaymentBooking],
    zone: ZoneInfo,
    user_id: int | None,
    issues_invoices: bool | None = None,
    entry_ids: Sequence[int] = (),
) -> list[BookedPayment]:
    """Book stored payments of one project on their bills (see the module docstring), in the caller's
    transaction: allocations, the bills' new figures, journal entries and one numbered, signed receipt
    each. Answers what was written for each booking, in order. `issues_invoices` is whether the project
    issues invoices by itself, when the caller read it already (None: `invoicing.automatic` reads it).
    `entry_ids` are journal entry ids the caller reserved already: when there are enough for the entries
    drafted, the journal is written with the bills, before the receipt counter (the rest stay unused)."""
    if not bookings:
        return []
    project_id = bookings[0].payment.project_id
    if any(booking.payment.project_id != project_id for booking in bookings):
        raise ValueError("a booking covers the payments of one project")
    # What the caller changed through the session is written before the plain statements below read.
    await flush_pending(session)
    policy = await _late_fee_policy(session, project_id, bookings, zone)
    booked = [_allocate(booking.payment, booking.bills, policy, zone) for booking in bookings]
    writer = await bulk_connection(session)
    created_at = utcnow()
    entry_count = sum(len(result.drafts) for result in booked)
    journal_first = entry_count <= len(entry_ids)
    payments = [booking.payment for booking in bookings]
    count = len(bookings)
    # The reports' facts of the bills reached are written with the booking, from the figures it leaves
    # them with (a late fee charged moves a bill's balance: its allocation names the bill too): the bills'
    # own with the bills, the running sums after the counter.
    facts = await bill_changes(
        session,
        zone=zone,
        moved=[
            BillMoved(allocation.bill_id, booking.booked_at, allocation.principal)
            for booking, result in zip(bookings, booked, strict=True)
            for allocation in result.allocations
        ],
        bills={bill.id: _bill_now(project_id, bill) for result in booked for bill in result.reached},
    )
    journal = _journal(bookings, booked, entry_ids, project_id=project_id, user_id=user_id) if journal_first else []
    await writer.write_together([*_changes(bookings, booked, created_at=created_at), *facts.of_bills, *journal])
    if issues_invoices is not False:
        # Invoicing reads what the payments paid, so it is asked after the rows are written.
        await queue_automatic_invoices(session, payments, now=bookings[0].booked_at)
    # The answer's allocations are made ready here, so that after the counter only the receipts are.
    allocations = [
        [
            BookedAllocation(booking.payment.id, part.bill_id, part.principal, part.late_fee, AllocationSource.PAYMENT, created_at)
            for part in result.allocations
        ]
        for booking, result in zip(bookings, booked, strict=True)
    ]
    # Last: every payment of the project waits for the counter's row lock until this transaction commits,
    # so the counter is taken only when nothing but the receipts, the journal and the facts' running sums
    # is left to write. Unless the caller reserved them, the journal entries' ids come with the receipts'
    # in the counter's statement (no round trip of their own), and the entries and their lines are
    # written with the receipts (reserved, they went with the bills, out of the queue). So are the
    # collection flows, running sums that every payment of a day adds to (one row per project, period,
    # building, fee kind and day, and one per month), each locked until commit once written; written
    # after the counter, they are held as briefly as it is, rather than from the first write on. Every
    # payment takes the counter before them, so payments wait for one another in one order. The bills'
    # own facts (residuals, spans) went with the bills, before the counter: nobody else waits for them.
    last, ids = await next_counter_value_reserving(
        session,
        writer,
        project_id,
        RECEIPT_COUNTER,
        count=count,
        ids={_RECEIPTS: count, _ENTRIES: 0 if journal_first else entry_count},
    )
    numbers = range(last - count + 1, last + 1)
    receipts = [
        _receipt(receipt_id, number, booking, result, signer)
        for receipt_id, number, booking, result in zip(ids[_RECEIPTS], numbers, bookings, booked, strict=True)
    ]
    records = [(r.id, r.project_id, r.payment_id, r.number, r.content, r.signature, r.issued_at) for r in receipts]
    await writer.write_together(
        [
            *([] if journal_first else _journal(bookings, booked, ids[_ENTRIES], project_id=project_id, user_id=user_id)),
            *facts.running_sums,
            TableRows(_RECEIPTS, _RECEIPT_COLUMNS, records),
        ]
    )
    return [BookedPayment(receipt, written) for receipt, written in zip(receipts, allocations, strict=True)]


async def _late_fee_policy(
    session: AsyncSession, project_id: int, bookings: Sequence[PaymentBooking], zone: ZoneInfo
) -> LateFeePolicies:
    """The project's late-fee versions, read only when a payment reaches a bill after its due date: on or
    before it no version charges anything (grace is never negative), so the policy does not matter."""
    for booking in bookings:
        as_of = booking.payment.paid_at.astimezone(zone).date()
        if any(bill.due_date < as_of for bill in booking.bills):
            return await late_fee_versions(session, project_id)
    return ()


def _changes(bookings: Sequence[PaymentBooking], booked: Sequence[_Booked], *, created_at: dt.datetime) -> list[TableRows]:
    """What booking writes before the receipt counter is taken: the bills' new figures and the allocations."""
    allocations = [
        (booking.payment.id, part.bill_id, to_fen(part.principal), to_fen(part.late_fee), _PAID, created_at)
        for booking, result in zip(bookings, booked, strict=True)
        for part in result.allocations
    ]
    return [
        TableRows(_BILL, _BILL_FIGURES, [_figures(bill) for result in booked for bill in result.reached], key="id"),
        TableRows(_ALLOCATIONS, _ALLOCATION_COLUMNS, allocations),
    ]


def _journal(
    bookings: Sequence[PaymentBooking],
    booked: Sequence[_Booked],
    entry_ids: Sequence[int],
    *,
    project_id: int,
    user_id: int | None,
) -> list[TableRows]:
    """The journal entries (numbered from `entry_ids`) and their lines, entries before their lines."""
    next_entry_id = iter(entry_ids)
    entries: list[tuple[object, ...]] = []
    lines: list[tuple[object, ...]] = []
    for booking, result in zip(bookings, booked, strict=True):
        booked_at = booking.booked_at.astimezone(dt.UTC)
        for draft in result.drafts:
            entry_id = next(next_entry_id)
            entries.append(
                journal_entry_record(entry_id, project_id=project_id, draft=draft, occurred_at=booked_at, created_by=user_id)
            )
            lines.extend(
                journal_line_record(entry_id, line_no, posting) for line_no, posting in enumerate(draft.postings, start=1)
            )
    return [TableRows(_ENTRIES, JOURNAL_ENTRY_COLUMNS, entries), TableRows(_LINES, JOURNAL_LINE_COLUMNS, lines)]


def _figures(bill: PayableBill) -> tuple[object, ...]:
    """A bill's figures booking changed, as a bulk-writer record in `_BILL_FIGURES` order."""
    return (
        bill.id,
        bill.status.value,
        to_fen(bill.late_fee_amount),
        bill.late_fee_through,
        to_fen(bill.principal_paid),
        to_fen(bill.late_fee_paid),
    )


def _bill_now(project_id: int, bill: PayableBill) -> BillNow:
    """A booked bill as the reports' facts see it."""
    return BillNow(
        bill.id,
        bill.period,
        bill.issued_on,
        AgeingBill(project_id, bill.unit_id, bill.building_id, bill.party_id, bill.due_date),
        paid=to_fen(bill.principal_paid),
        adjusted=to_fen(bill.adjustment_amount),
        due=to_fen(amount_due(bill)),
    )


def _receipt(receipt_id: int, number: int, booking: PaymentBooking, result: _Booked, signer: ReceiptSigner) -> Receipt:
    issued_at = booking.booked_at.astimezone(dt.UTC)
    content = receipt_content(
        number=number, payment=booking.payment, place=booking.place, lines=result.receipt_lines, issued_at=issued_at
    )
    return Receipt(
        id=receipt_id,
        project_id=booking.payment.project_id,
        payment_id=booking.payment.id,
        number=number,
        content=content,
        signature=signer.sign(content),
        issued_at=issued_at,
    )
