"""Booking payments: what each payment pays on its bills and what stays with the unit as prepaid credit,
the bills' late fees, balances and statuses that follow, the journal entries, and the signed receipt.

A payment reaches its bills oldest first. On each bill the late fee accrued up to the day of payment is
charged, then the payment settles the late fee before the principal (`billing.allocation`), and the
bill's status follows from what it still asks for (`billing.balance`). What is left stays as the unit's
prepaid credit. This one core books a payment taken at the desk or from a gateway, a payer's batch for
many units, and the demo's months of history; its rows are written in bulk, so a batch of any size
costs a handful of statements. It is also where invoicing hears of every payment: a project that issues
invoices by itself gets each payment's invoice requested in the same transaction
(`invoicing.automatic`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.allocation import (
    BillBalance,
    PlannedAllocation,
    late_fee_now,
    plan_allocation,
)
from billing.balance import bill_status, late_fee_due, principal_due
from billing.bulk import bulk_connection
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
from billing.receipts import (
    RECEIPT_COUNTER,
    ReceiptLine,
    ReceiptSigner,
    next_counter_value,
    receipt_content,
)
from billing.rules import LateFeePolicies, late_fee_policy_on
from db.base import utcnow
from db.models import (
    AllocationSource,
    Bill,
    Building,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentAllocation,
    Project,
    Receipt,
    Unit,
)
from invoicing.automatic import queue_automatic_invoices

__all__ = ["PaymentBooking", "add_payments", "book_payments"]

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
_RECEIPT_COLUMNS = ("project_id", "payment_id", "number", "content", "signature", "issued_at")
_PAID = AllocationSource.PAYMENT.value


@dataclass(frozen=True)
class PaymentBooking:
    """A stored payment, the bills it goes to (locked, oldest first), and when it is booked: the time its
    journal entries and receipt carry."""

    payment: Payment
    bills: Sequence[Bill]
    booked_at: dt.datetime


@dataclass
class _Booked:
    drafts: list[JournalDraft] = field(default_factory=list)
    allocations: list[PlannedAllocation] = field(default_factory=list)
    receipt_lines: list[ReceiptLine] = field(default_factory=list)


def _allocate(payment: Payment, bills: Sequence[Bill], policy: LateFeePolicies, zone: ZoneInfo) -> _Booked:
    """Spread one payment over its bills, changing the bills' rows, and draft its journal entries."""
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
    ids = await writer.reserve_ids(Payment.__table__, len(payments))  # type: ignore[arg-type]
    created_at = utcnow()
    for payment, payment_id in zip(payments, ids, strict=True):
        payment.id = payment_id
    await writer.write(
        Payment.__table__,  # type: ignore[arg-type]
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
    policy: LateFeePolicies,
    zone: ZoneInfo,
    user_id: int | None,
) -> None:
    """Book stored payments of one project on their bills (see the module docstring), in the caller's
    transaction: allocations, the bills' new figures, journal entries and one numbered, signed receipt each."""
    if not bookings:
        return
    project_id = bookings[0].payment.project_id
    if any(booking.payment.project_id != project_id for booking in bookings):
        raise ValueError("a booking covers the payments of one project")
    booked = [_allocate(booking.payment, booking.bills, policy, zone) for booking in bookings]
    await session.flush()
    writer = await bulk_connection(session)
    entry_ids = iter(
        await writer.reserve_ids(JournalEntry.__table__, sum(len(b.drafts) for b in booked))  # type: ignore[arg-type]
    )
    first_number = await next_counter_value(session, project_id, RECEIPT_COUNTER, count=len(bookings)) - len(bookings) + 1
    places = {
        unit_id: (project_name, building, number)
        for unit_id, project_name, building, number in await session.execute(
            select(Unit.id, Project.name, Building.name, Unit.number)
            .join(Building, Unit.building_id == Building.id)
            .join(Project, Unit.project_id == Project.id)
            .where(Unit.id.in_(sorted({booking.payment.unit_id for booking in bookings})))
        )
    }
    created_at = utcnow()
    allocations: list[tuple[object, ...]] = []
    entries: list[tuple[object, ...]] = []
    lines: list[tuple[object, ...]] = []
    receipts: list[tuple[object, ...]] = []
    for number, (booking, result) in enumerate(zip(bookings, booked, strict=True), start=first_number):
        payment, booked_at = booking.payment, booking.booked_at.astimezone(dt.UTC)
        allocations.extend(
            (payment.id, part.bill_id, to_fen(part.principal), to_fen(part.late_fee), _PAID, created_at)
            for part in result.allocations
        )
        for draft in result.drafts:
            entry_id = next(entry_ids)
            entries.append(
                journal_entry_record(entry_id, project_id=project_id, draft=draft, occurred_at=booked_at, created_by=user_id)
            )
            lines.extend(
                journal_line_record(entry_id, line_no, posting) for line_no, posting in enumerate(draft.postings, start=1)
            )
        project_name, building, unit_number = places[payment.unit_id]
        content = receipt_content(
            number=number,
            payment=payment,
            project_name=project_name,
            building=building,
            unit_number=unit_number,
            lines=result.receipt_lines,
            issued_at=booked_at,
        )
        receipts.append((project_id, payment.id, number, content, signer.sign(content), booked_at))
    # Foreign keys are checked per statement: entries before their lines.
    await writer.write(PaymentAllocation.__table__, _ALLOCATION_COLUMNS, allocations)  # type: ignore[arg-type]
    await writer.write(JournalEntry.__table__, JOURNAL_ENTRY_COLUMNS, entries)  # type: ignore[arg-type]
    await writer.write(JournalLine.__table__, JOURNAL_LINE_COLUMNS, lines)  # type: ignore[arg-type]
    await writer.write(Receipt.__table__, _RECEIPT_COLUMNS, receipts)  # type: ignore[arg-type]
    await queue_automatic_invoices(session, [booking.payment for booking in bookings], now=bookings[0].booked_at)
