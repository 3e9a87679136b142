"""What billing tells invoicing, inside billing's own transactions: a payment was booked, a payment was
refunded in part or reversed.

Billing calls these two steps where every payment is booked (`billing.booking.book_payments`: the desk,
a payer's batch, gateway notifications, reconciliation) and where every refund and reversal is written
(`billing.refunds`). Each writes only the invoice request, in the same transaction: it commits exactly
when the payment or refund does, and never without it. The invoice is issued after that commit, in a
transaction of its own (`invoicing.issuing`): issuing may call the tax platform, whose answer must not
hold the payment's locks, and whatever stops it (a fee kind without a tax mapping, the platform's
refusal) must never undo money received. It is issued at once, by the same request once it has
committed; what is left PENDING (a process that stopped in between, more than a handful at once) is
issued by the worker's next round.

A refund or reversal of a payment whose blue invoice is issued writes a red-letter invoice taking back
what was given back, never touching the blue one. If the blue invoice is not issued yet, issuing it
later sees the refund (and leaves a reversed payment's invoice CANCELLED), so nothing needs correcting.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from functools import partial

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Invoice,
    InvoicedPayment,
    InvoiceLine,
    InvoiceTitle,
    InvoicingProfile,
    Payment,
    PaymentReversal,
    Project,
    ReversalKind,
)
from db.unit_of_work import current_unit_of_work
from invoicing.buyers import checked_buyer
from invoicing.drafting import IssuedLine, LineTerms, red_lines
from invoicing.issuing import (
    InvoiceBuyer,
    billed_parties,
    buyers_of_parties,
    issue_invoices,
    remark_of,
    unit_labels,
    write_lines,
)
from invoicing.tax import invoice_totals
from invoicing.titles import buyer_of
from kernel.errors import DomainError
from kernel.vocabulary import InvoiceColour, InvoiceStatus, InvoiceType, PartyType

__all__ = ["ISSUED_AT_ONCE", "lines_left", "make_out_to_title", "queue_automatic_invoices", "queue_red_letter"]

ISSUED_AT_ONCE = 20
"""Invoices a request issues itself once it committed; more (a batch payment of hundreds of units) are
left to the worker, so the request answers in time."""

_RED_REASONS = {ReversalKind.REFUND: "服务中止（退款）", ReversalKind.REVERSAL: "开票有误（冲正）"}


async def queue_automatic_invoices(session: AsyncSession, payments: Sequence[Payment], *, now: dt.datetime) -> None:
    """When the payments' project issues by itself, request an invoice of each (made out to the payer's
    default title, else the payer by name), to be issued after this transaction commits."""
    if not payments:
        return
    project_id = payments[0].project_id
    profile = await session.get(InvoicingProfile, project_id)
    if profile is None or not profile.auto_issue:
        return
    project = await session.get(Project, project_id)
    assert project is not None
    billed = await billed_parties(session, [payment.id for payment in payments])
    parties = {payment.id: payment.payer_party_id or billed.get(payment.id) for payment in payments}
    names = {party_id: payment.payer_name for payment in payments if (party_id := parties[payment.id]) is not None}
    buyers = await buyers_of_parties(session, names, invoice_type=InvoiceType.NORMAL)
    labels = await unit_labels(session, [payment.unit_id for payment in payments])
    invoices = []
    for payment in payments:
        party_id = parties[payment.id]
        made_out = buyers.get(party_id) if party_id is not None else None
        invoice = Invoice(
            project_id=project_id,
            colour=InvoiceColour.BLUE,
            invoice_type=InvoiceType.NORMAL,
            status=InvoiceStatus.PENDING,
            unit_id=payment.unit_id,
            requested_at=now,
            remark=remark_of(project, labels.get(payment.unit_id), [payment]),
        )
        if isinstance(made_out, InvoiceBuyer):
            invoice.party_id, invoice.title_id = made_out.party_id, made_out.title_id
            buyer = made_out.buyer
            invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code = buyer.kind, buyer.name, buyer.tax_code
            invoice.buyer_address, invoice.buyer_phone = buyer.address, buyer.phone
            invoice.buyer_bank_name, invoice.buyer_bank_account = buyer.bank_name, buyer.bank_account
        else:
            # No party, or a title that no longer passes the rules: the payer by name, never a stopped payment.
            invoice.party_id, invoice.buyer_kind, invoice.buyer_name = party_id, PartyType.PERSON, payment.payer_name[:100]
        invoices.append(invoice)
    session.add_all(invoices)
    await session.flush()
    await session.execute(
        insert(InvoicedPayment),
        [{"payment_id": payment.id, "invoice_id": invoice.id} for payment, invoice in zip(payments, invoices, strict=True)],
    )
    _issue_after_commit(session, [invoice.id for invoice in invoices[:ISSUED_AT_ONCE]], now)


async def make_out_to_title(session: AsyncSession, *, payment_id: int, title_id: int) -> None:
    """The owner picked `title_id` when paying online: the payment's automatic invoice, still PENDING in
    this transaction, is made out to it. A title that no longer passes the rules leaves the default
    buyer (never a stopped payment); without automatic issuing there is no invoice to change."""
    invoice = await session.scalar(
        select(Invoice)
        .join(InvoicedPayment, InvoicedPayment.invoice_id == Invoice.id)
        .where(InvoicedPayment.payment_id == payment_id, Invoice.status == InvoiceStatus.PENDING)
    )
    title = await session.get(InvoiceTitle, title_id)
    if invoice is None or title is None:
        return
    try:
        buyer = checked_buyer(buyer_of(title), invoice_type=invoice.invoice_type)
    except DomainError:
        return
    invoice.party_id, invoice.title_id = title.party_id, title.id
    invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code = buyer.kind, buyer.name, buyer.tax_code
    invoice.buyer_address, invoice.buyer_phone = buyer.address, buyer.phone
    invoice.buyer_bank_name, invoice.buyer_bank_account = buyer.bank_name, buyer.bank_account
    await session.flush()


async def queue_red_letter(session: AsyncSession, *, given_back: PaymentReversal, payment: Payment, now: dt.datetime) -> None:
    """A refund or reversal of `payment`: when its blue invoice is issued, a red-letter invoice taking
    back what was given back (a reversal: everything left of the payment on it), issued after commit."""
    blue = await session.scalar(
        select(Invoice)
        .join(InvoicedPayment, InvoicedPayment.invoice_id == Invoice.id)
        .where(InvoicedPayment.payment_id == payment.id)
    )
    if blue is None or blue.status is not InvoiceStatus.ISSUED:
        return
    amount = given_back.amount if given_back.kind is ReversalKind.REFUND else None
    lines = red_lines(await lines_left(session, blue.id), payment_id=payment.id, amount=amount)
    if not lines:
        return
    totals = invoice_totals(line.split for line in lines)
    red = Invoice(
        project_id=blue.project_id,
        colour=InvoiceColour.RED,
        invoice_type=blue.invoice_type,
        status=InvoiceStatus.PENDING,
        unit_id=blue.unit_id,
        party_id=blue.party_id,
        title_id=blue.title_id,
        buyer_kind=blue.buyer_kind,
        buyer_name=blue.buyer_name,
        buyer_tax_code=blue.buyer_tax_code,
        buyer_address=blue.buyer_address,
        buyer_phone=blue.buyer_phone,
        buyer_bank_name=blue.buyer_bank_name,
        buyer_bank_account=blue.buyer_bank_account,
        corrects_invoice_id=blue.id,
        reversal_id=given_back.id,
        net_total=totals.net,
        tax_total=totals.tax,
        gross_total=totals.amount,
        remark=f"被红冲蓝字发票号码：{blue.number}；红冲原因：{_RED_REASONS[given_back.kind]}",
        requested_by=given_back.created_by,
        requested_at=now,
    )
    session.add(red)
    await session.flush()
    await write_lines(session, red.id, lines)
    _issue_after_commit(session, [red.id], now)


async def lines_left(session: AsyncSession, invoice_id: int) -> list[IssuedLine]:
    """What is left of a blue invoice's lines: each less every red line against it (but a cancelled
    red invoice's)."""
    taken: dict[int, tuple[Decimal, Decimal]] = defaultdict(lambda: (Decimal("0.00"), Decimal("0.00")))
    reds = (
        select(InvoiceLine.original_position, InvoiceLine.amount, InvoiceLine.tax)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.corrects_invoice_id == invoice_id, Invoice.status != InvoiceStatus.CANCELLED)
    )
    for position, amount, tax in await session.execute(reds):
        before_amount, before_tax = taken[position]
        taken[position] = (before_amount - amount, before_tax - tax)
    left = []
    for line in await session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position)):
        amount, tax = taken[line.position]
        terms = LineTerms(line.category, line.item_name, line.classification_code, line.unit, line.rate, line.treatment, line.mapping_id)
        left.append(IssuedLine(line.position, line.payment_id, line.fee_kind, terms, line.amount - amount, line.tax - tax))
    return left


def _issue_after_commit(session: AsyncSession, invoice_ids: Sequence[int], now: dt.datetime) -> None:
    work = current_unit_of_work(session)
    if work is None or work.sessions is None or not invoice_ids:
        return
    work.after_commit(partial(issue_invoices, work.sessions, now=now, invoice_ids=list(invoice_ids)))
