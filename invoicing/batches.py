"""Batch issuing for merchants and agencies: one invoice per party for a month's payments.

A batch takes the project's payments received in the month (the project's time zone) that have no
invoice yet and were not reversed, groups them by the party that paid (the payer recorded with the
payment, else the party its bills are addressed to) and requests one invoice per party, made out to the
party's default title. Payments of no known party, and parties no invoice of the kind can go to (a
special invoice for a person), are left out and counted. The request is one short transaction; the
invoices are issued in the background by the worker's rounds, each on its own with its own status, so
one that fails (a fee kind without a mapping) stops no other, and asking for a failed one again retries
it. A batch's summary counts its invoices by status. Running the month again requests invoices only for
payments that came in since.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Bill,
    Invoice,
    InvoiceBatch,
    InvoicedPayment,
    Payment,
    PaymentAllocation,
    PaymentReversal,
    Project,
    ReversalKind,
)
from db.unit_of_work import unit_of_work
from invoicing.issuing import buyers_of_parties
from invoicing.policy import may_issue_invoices
from kernel.errors import BadInput, DomainError, NotFound
from kernel.principal import Principal
from kernel.vocabulary import InvoiceColour, InvoiceStatus, InvoiceType
from register.projects import get_project_for

__all__ = ["BatchSummary", "batch_summaries", "get_invoice_batch", "issue_invoice_batch", "list_invoice_batches"]

_PERIOD = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")
_DENIED = "Requires one of the roles ADMIN, FINANCE in this project."


@dataclass(frozen=True)
class BatchSummary:
    """A batch's invoices by status, and the total of those issued."""

    total: int = 0
    pending: int = 0
    issued: int = 0
    failed: int = 0
    cancelled: int = 0
    issued_amount: Decimal = Decimal("0.00")


def _month(project: Project, period: str) -> tuple[dt.datetime, dt.datetime]:
    found = _PERIOD.fullmatch(period.strip())
    if found is None:
        raise BadInput("period is a month such as 2026-11.", field="period")
    year, month = int(found.group(1)), int(found.group(2))
    zone = ZoneInfo(project.timezone)
    start = dt.datetime(year, month, 1, tzinfo=zone)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


async def issue_invoice_batch(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    project_id: int,
    period: str,
    invoice_type: InvoiceType = InvoiceType.NORMAL,
) -> tuple[InvoiceBatch, BatchSummary]:
    """Request one invoice per party for the month's payments not invoiced yet (see the module docstring);
    the batch and its summary (all pending)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        project = await get_project_for(
            session, principal, project_id, allowed=lambda caller, project: may_issue_invoices(caller, project_id=project), refusal=_DENIED
        )
        start, end = _month(project, period)
        payments = await _uninvoiced_payments(session, project_id, start, end)
        parties = await _paying_parties(session, payments)
        batch = InvoiceBatch(project_id=project_id, period=period.strip(), invoice_type=invoice_type, created_by=principal.user_id)
        session.add(batch)
        await session.flush()
        groups: dict[int, list[Payment]] = defaultdict(list)
        skipped = [payment for payment in payments if parties.get(payment.id) is None]
        for payment in payments:
            if (party_id := parties.get(payment.id)) is not None:
                groups[party_id].append(payment)
        reasons = [f"{len(skipped)} payment(s) of no known party"] if skipped else []
        buyers = await buyers_of_parties(
            session, {party_id: group[0].payer_name for party_id, group in groups.items()}, invoice_type=invoice_type
        )
        requested: list[tuple[Invoice, list[Payment]]] = []
        for party_id, group in groups.items():
            made_out = buyers[party_id]
            if isinstance(made_out, DomainError):
                skipped.extend(group)
                reasons.append(f"party {party_id}: {made_out.message}")
                continue
            units = {payment.unit_id for payment in group}
            invoice = Invoice(
                project_id=project_id,
                colour=InvoiceColour.BLUE,
                invoice_type=invoice_type,
                status=InvoiceStatus.PENDING,
                unit_id=units.pop() if len(units) == 1 else None,
                party_id=party_id,
                title_id=made_out.title_id,
                buyer_kind=made_out.buyer.kind,
                buyer_name=made_out.buyer.name,
                buyer_tax_code=made_out.buyer.tax_code,
                buyer_address=made_out.buyer.address,
                buyer_phone=made_out.buyer.phone,
                buyer_bank_name=made_out.buyer.bank_name,
                buyer_bank_account=made_out.buyer.bank_account,
                remark=f"{project.name} {batch.period}：{len(group)} 笔收款",
                batch_id=batch.id,
                requested_by=principal.user_id,
                requested_at=now,
            )
            requested.append((invoice, group))
        session.add_all(invoice for invoice, _ in requested)
        await session.flush()
        if requested:
            await session.execute(
                insert(InvoicedPayment),
                [{"payment_id": payment.id, "invoice_id": invoice.id} for invoice, group in requested for payment in group],
            )
        batch.skipped_payments = len(skipped)
        batch.skipped_reason = "; ".join(reasons)[:500] or None
        await session.flush()
        return batch, (await batch_summaries(session, [batch.id]))[batch.id]


async def _uninvoiced_payments(session: AsyncSession, project_id: int, start: dt.datetime, end: dt.datetime) -> list[Payment]:
    invoiced = exists().where(InvoicedPayment.payment_id == Payment.id)
    reversed_ = exists().where(and_(PaymentReversal.payment_id == Payment.id, PaymentReversal.kind == ReversalKind.REVERSAL))
    rows = await session.scalars(
        select(Payment)
        .where(Payment.project_id == project_id, Payment.paid_at >= start, Payment.paid_at < end, ~invoiced, ~reversed_)
        .order_by(Payment.paid_at, Payment.id)
    )
    return list(rows)


async def _paying_parties(session: AsyncSession, payments: Sequence[Payment]) -> dict[int, int | None]:
    """The party each payment is for: the payer recorded with it, else the party of the bills it paid."""
    billed = {
        payment_id: party_id
        for payment_id, party_id in await session.execute(
            select(PaymentAllocation.payment_id, func.min(Bill.party_id))
            .join(Bill, Bill.id == PaymentAllocation.bill_id)
            .where(PaymentAllocation.payment_id.in_([payment.id for payment in payments]), Bill.party_id.is_not(None))
            .group_by(PaymentAllocation.payment_id)
        )
    }
    return {payment.id: payment.payer_party_id or billed.get(payment.id) for payment in payments}


async def batch_summaries(session: AsyncSession, batch_ids: Sequence[int]) -> dict[int, BatchSummary]:
    """Each batch's invoices counted by status, with the total of those issued."""
    counted: dict[int, dict[InvoiceStatus, int]] = {batch_id: defaultdict(int) for batch_id in batch_ids}
    issued_amounts: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    rows = await session.execute(select(Invoice.batch_id, Invoice.status, Invoice.gross_total).where(Invoice.batch_id.in_(batch_ids)))
    for batch_id, status, gross in rows:
        counted[batch_id][status] += 1
        if status is InvoiceStatus.ISSUED:
            issued_amounts[batch_id] += gross
    return {
        batch_id: BatchSummary(
            total=sum(by_status.values()),
            pending=by_status[InvoiceStatus.PENDING],
            issued=by_status[InvoiceStatus.ISSUED],
            failed=by_status[InvoiceStatus.FAILED],
            cancelled=by_status[InvoiceStatus.CANCELLED],
            issued_amount=issued_amounts[batch_id],
        )
        for batch_id, by_status in counted.items()
    }


async def list_invoice_batches(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> list[tuple[InvoiceBatch, BatchSummary]]:
    """The project's batches, newest first, each with its summary."""
    async with session_factory() as session:
        await get_project_for(
            session, principal, project_id, allowed=lambda caller, project: may_issue_invoices(caller, project_id=project), refusal=_DENIED
        )
        batches = list(
            await session.scalars(select(InvoiceBatch).where(InvoiceBatch.project_id == project_id).order_by(InvoiceBatch.id.desc()))
        )
        summaries = await batch_summaries(session, [batch.id for batch in batches])
    return [(batch, summaries[batch.id]) for batch in batches]


async def get_invoice_batch(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, batch_id: int
) -> tuple[InvoiceBatch, BatchSummary]:
    async with session_factory() as session:
        batch = await session.get(InvoiceBatch, batch_id)
        if batch is None or not may_issue_invoices(principal, project_id=batch.project_id):
            raise NotFound("No such invoice batch.", field="id")
        summaries = await batch_summaries(session, [batch.id])
    return batch, summaries[batch.id]
