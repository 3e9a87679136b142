"""Issuing invoices: on request for chosen payments, automatically after a payment, and the red-letter
corrections that refunds and reversals call for; each once, through the project's provider.

An invoice is first a request (PENDING), written in a transaction of its own or in the payment's. Issuing
completes it in another: it locks the invoice row (another issuer skips it), then its payments for share
(a refund or reversal of them waits, and one that committed first is seen), drafts the lines from what the
payments paid and kept, sends the content to the provider and reads the answered XML back with our
parser, which must give exactly what was sent. Then the invoice is ISSUED with its number, lines, totals
and XML, and never changes again. What stops issuing is written down, not raised: FAILED with the reason
(a fee kind without a tax mapping, no seller, the provider's refusal), retried by the next request for
the payment; CANCELLED when the payment was reversed, or refunded in full, before the invoice was issued.

On request, the same drafting runs first in the request's own transaction, so a request that cannot be
issued is refused with the reason (the fee kinds named) and writes nothing. Once per payment is the
`invoiced_payment` primary key: a second request for the same payments answers the first invoice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Bill,
    BillLine,
    Building,
    Invoice,
    InvoicedPayment,
    InvoiceLine,
    InvoiceSellerVersion,
    InvoiceTitle,
    Party,
    Payment,
    PaymentAllocation,
    PaymentReversal,
    Project,
    ReversalKind,
    Unit,
)
from db.unit_of_work import unit_of_work
from invoicing.buyers import Buyer, checked_buyer
from invoicing.configuration import mappings_on, profile_of, seller_on
from invoicing.document import DocumentRejected, InvoiceContent, ItemLine, SellerDetails, parse_einvoice
from invoicing.drafting import (
    AllocationRow,
    BillPayments,
    DraftLine,
    LineTerms,
    PaymentFacts,
    blue_lines,
    payment_shares,
)
from invoicing.policy import may_issue_invoices, may_request_invoice
from invoicing.providers import SANDBOX, ProviderRefused, provider_named
from invoicing.tax import TaxSplit, invoice_totals
from invoicing.titles import buyer_of, default_title
from kernel.errors import BadInput, Conflict, DomainError, NotFound
from kernel.principal import Principal
from kernel.vocabulary import InvoiceColour, InvoiceStatus, InvoiceType, PartyType

__all__ = [
    "MAX_REQUEST_PAYMENTS",
    "InvoiceBuyer",
    "blue_remark",
    "buyer_for_payments",
    "draft_blue",
    "issue_invoices",
    "issue_pending_invoices",
    "request_invoice",
    "write_lines",
]

log = logging.getLogger("courtyard.invoicing")

MAX_REQUEST_PAYMENTS = 50
_DEFAULT_DRAWER = "系统"
_FIELD = "paymentIds"


@dataclass(frozen=True)
class InvoiceBuyer:
    """Whom an invoice is made out to, the party it belongs to (for who may see it) and the title used."""

    buyer: Buyer
    party_id: int | None
    title_id: int | None


# --- requesting ---------------------------------------------------------------------------------------


async def request_invoice(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    payment_ids: Sequence[int],
    invoice_type: InvoiceType = InvoiceType.NORMAL,
    title_id: int | None = None,
    buyer: Buyer | None = None,
) -> Invoice:
    """One invoice for the chosen payments of one project, made out to `buyer`, the title `title_id`, or
    by default the payer's default title (an owner's own), else the payer by name. Owners may ask only for
    their own units' payments; anyone else's answer NOT_FOUND. The invoice answered is issued, or FAILED
    with the reason when the provider refused it."""
    async with unit_of_work(session_factory) as work:
        invoice_id = await _take_request(
            work.session, principal, now=now, payment_ids=payment_ids, invoice_type=invoice_type, title_id=title_id, buyer=buyer
        )
    await issue_invoices(session_factory, now=now, invoice_ids=[invoice_id])
    async with session_factory() as session:
        invoice = await session.get(Invoice, invoice_id)
    assert invoice is not None
    return invoice


async def _take_request(
    session: AsyncSession,
    principal: Principal,
    *,
    now: dt.datetime,
    payment_ids: Sequence[int],
    invoice_type: InvoiceType,
    title_id: int | None,
    buyer: Buyer | None,
) -> int:
    wanted = list(dict.fromkeys(payment_ids))
    if not wanted:
        raise BadInput("Name at least one payment.", field=_FIELD)
    if len(wanted) > MAX_REQUEST_PAYMENTS:
        raise BadInput(f"One invoice covers at most {MAX_REQUEST_PAYMENTS} payments.", field=_FIELD)
    payments = await _lock_payments(session, wanted)
    for payment_id in wanted:
        payment = payments.get(payment_id)
        if payment is None or not may_request_invoice(principal, project_id=payment.project_id, unit_id=payment.unit_id):
            raise NotFound(f"No payment {payment_id} of yours.", field=_FIELD)
    chosen = [payments[payment_id] for payment_id in wanted]
    project_ids = {payment.project_id for payment in chosen}
    if len(project_ids) > 1:
        raise BadInput("An invoice covers payments of one project.", field=_FIELD)
    (project_id,) = project_ids
    project = await session.get(Project, project_id)
    assert project is not None
    existing = await _invoiced_already(session, wanted)
    if existing is not None:
        return await _retry_or_answer(session, principal, existing, chosen, now, invoice_type, title_id, buyer)
    if reversed_ids := await _reversed(session, wanted):
        raise BadInput(f"Payment {reversed_ids[0]} was reversed: there is nothing of it to invoice.", field=_FIELD)
    made_out = await buyer_for_payments(session, principal, chosen, invoice_type=invoice_type, title_id=title_id, buyer=buyer)
    lines, _ = await draft_blue(session, project, chosen, _day(project, now), field=_FIELD)
    if not lines:
        raise BadInput("These payments were refunded in full: there is nothing left to invoice.", field=_FIELD)
    invoice = _new_request(project_id, chosen, made_out, invoice_type, now, principal.user_id)
    invoice.remark = await blue_remark(session, project, invoice.unit_id, chosen)
    session.add(invoice)
    await session.flush()
    session.add_all(InvoicedPayment(payment_id=payment.id, invoice_id=invoice.id) for payment in chosen)
    await session.flush()
    return invoice.id


async def _invoiced_already(session: AsyncSession, payment_ids: Sequence[int]) -> Invoice | None:
    """The invoice that covers exactly these payments; CONFLICT when some are covered otherwise."""
    links = (await session.execute(select(InvoicedPayment.payment_id, InvoicedPayment.invoice_id).where(InvoicedPayment.payment_id.in_(payment_ids)))).all()
    if not links:
        return None
    invoice_ids = {invoice_id for _, invoice_id in links}
    covered = (
        set(await session.scalars(select(InvoicedPayment.payment_id).where(InvoicedPayment.invoice_id.in_(invoice_ids))))
        if len(invoice_ids) == 1
        else set()
    )
    if covered != set(payment_ids):
        payment_id, invoice_id = sorted(links)[0]
        invoice = await session.get(Invoice, invoice_id)
        assert invoice is not None
        raise Conflict(
            f"Payment {payment_id} is already on invoice {invoice.number or invoice.id} ({invoice.status.value}) with other payments.",
            field=_FIELD,
        )
    return await session.get(Invoice, invoice_ids.pop())


async def _retry_or_answer(
    session: AsyncSession,
    principal: Principal,
    invoice: Invoice,
    payments: Sequence[Payment],
    now: dt.datetime,
    invoice_type: InvoiceType,
    title_id: int | None,
    buyer: Buyer | None,
) -> int:
    """A request for payments already invoiced answers that invoice; a FAILED one is tried again, made
    out as this request asks when it names a buyer or title."""
    if invoice.status is not InvoiceStatus.FAILED:
        return invoice.id
    locked = await session.scalar(select(Invoice).where(Invoice.id == invoice.id).with_for_update(key_share=True))
    assert locked is not None
    if buyer is not None or title_id is not None or invoice_type is not locked.invoice_type:
        made_out = await buyer_for_payments(session, principal, payments, invoice_type=invoice_type, title_id=title_id, buyer=buyer)
        _make_out(locked, made_out)
        locked.invoice_type = invoice_type
    project = await session.get(Project, locked.project_id)
    assert project is not None
    await draft_blue(session, project, payments, _day(project, now), field=_FIELD)
    locked.status, locked.failure_reason = InvoiceStatus.PENDING, None
    locked.requested_by, locked.requested_at = principal.user_id, now
    await session.flush()
    return locked.id


def _new_request(
    project_id: int, payments: Sequence[Payment], made_out: InvoiceBuyer, invoice_type: InvoiceType, now: dt.datetime, user_id: int | None
) -> Invoice:
    units = {payment.unit_id for payment in payments}
    invoice = Invoice(
        project_id=project_id,
        colour=InvoiceColour.BLUE,
        invoice_type=invoice_type,
        status=InvoiceStatus.PENDING,
        unit_id=units.pop() if len(units) == 1 else None,
        requested_by=user_id,
        requested_at=now,
    )
    _make_out(invoice, made_out)
    return invoice


def _make_out(invoice: Invoice, made_out: InvoiceBuyer) -> None:
    buyer = made_out.buyer
    invoice.party_id, invoice.title_id = made_out.party_id, made_out.title_id
    invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code = buyer.kind, buyer.name, buyer.tax_code
    invoice.buyer_address, invoice.buyer_phone = buyer.address, buyer.phone
    invoice.buyer_bank_name, invoice.buyer_bank_account = buyer.bank_name, buyer.bank_account


async def buyer_for_payments(
    session: AsyncSession,
    principal: Principal | None,
    payments: Sequence[Payment],
    *,
    invoice_type: InvoiceType,
    title_id: int | None = None,
    buyer: Buyer | None = None,
) -> InvoiceBuyer:
    """Whom an invoice of `payments` is made out to: `buyer` as given, the title `title_id` (an owner's
    own; staff any of the project's), or by default the default title of the owner asking, else of the
    payer (the party recorded with the payment, else the one its bills are addressed to), else the payer
    by name as a person. `principal` None is Courtyard itself (automatic issuing)."""
    first = payments[0]
    asker_party = principal.party_id if principal is not None and not may_issue_invoices(principal, project_id=first.project_id) else None
    if buyer is not None:
        return InvoiceBuyer(checked_buyer(buyer, invoice_type=invoice_type, prefix="buyer."), asker_party, None)
    if title_id is not None:
        title = await session.get(InvoiceTitle, title_id)
        if title is None or title.project_id != first.project_id or (asker_party is not None and title.party_id != asker_party):
            raise NotFound("No such invoice title of yours.", field="titleId")
        return InvoiceBuyer(checked_buyer(buyer_of(title), invoice_type=invoice_type, prefix="title."), title.party_id, title.id)
    party_id = asker_party or first.payer_party_id or await _billed_party(session, first.id)
    title = await default_title(session, party_id)
    if title is not None:
        return InvoiceBuyer(checked_buyer(buyer_of(title), invoice_type=invoice_type, prefix="title."), title.party_id, title.id)
    party = await session.get(Party, party_id) if party_id is not None else None
    name = party.name if party is not None and party.party_type is PartyType.PERSON else first.payer_name
    return InvoiceBuyer(checked_buyer(Buyer(PartyType.PERSON, name), invoice_type=invoice_type, prefix="buyer."), party_id, None)


async def _billed_party(session: AsyncSession, payment_id: int) -> int | None:
    return await session.scalar(
        select(Bill.party_id)
        .join(PaymentAllocation, PaymentAllocation.bill_id == Bill.id)
        .where(PaymentAllocation.payment_id == payment_id, Bill.party_id.is_not(None))
        .order_by(PaymentAllocation.id)
        .limit(1)
    )


# --- drafting from what the payments paid -----------------------------------------------------------


def _day(project: Project, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(project.timezone)).date()


async def _lock_payments(session: AsyncSession, payment_ids: Sequence[int]) -> dict[int, Payment]:
    """The payments, locked for share until commit: a refund or reversal of them waits for this
    transaction, and one that committed before is seen by every read after this one."""
    rows = await session.scalars(
        select(Payment).where(Payment.id.in_(sorted(payment_ids))).order_by(Payment.id).with_for_update(read=True)
    )
    return {payment.id: payment for payment in rows}


async def _reversed(session: AsyncSession, payment_ids: Sequence[int]) -> list[int]:
    return sorted(
        await session.scalars(
            select(PaymentReversal.payment_id).where(
                PaymentReversal.payment_id.in_(payment_ids), PaymentReversal.kind == ReversalKind.REVERSAL
            )
        )
    )


async def draft_blue(
    session: AsyncSession, project: Project, payments: Sequence[Payment], day: dt.date, *, field: str | None
) -> tuple[list[DraftLine], InvoiceSellerVersion]:
    """The lines of a blue invoice of `payments` as of `day`, and the seller in force; BAD_USER_INPUT
    (on `field`) naming the fee kinds without a tax mapping, or the missing seller."""
    payment_ids = [payment.id for payment in payments]
    refunded: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for payment_id, amount in await session.execute(
        select(PaymentReversal.payment_id, PaymentReversal.amount).where(
            PaymentReversal.payment_id.in_(payment_ids), PaymentReversal.kind == ReversalKind.REFUND
        )
    ):
        refunded[payment_id] += amount
    bills = await _paid_bills(session, payment_ids)
    shares = []
    for payment in payments:
        facts = PaymentFacts(payment.id, payment.amount, refunded[payment.id])
        try:
            shares.append((payment.id, payment_shares(facts, bills)))
        except ValueError as error:
            raise BadInput(f"Payment {payment.id} cannot be invoiced: {error}.", field=field) from None
    mappings = await mappings_on(session, project.id, day)
    terms = {
        kind: LineTerms(row.category, row.item_name, row.classification_code, row.unit, row.rate, row.treatment, row.id)
        for kind, row in mappings.items()
    }
    lines = blue_lines(shares, terms, field=field)
    seller = await seller_on(session, project.id, day)
    return lines, seller


async def _paid_bills(session: AsyncSession, payment_ids: Sequence[int]) -> list[BillPayments]:
    """Every bill the payments paid, oldest first: its charges per fee kind and all its allocations."""
    bill_ids = sorted(set(await session.scalars(select(PaymentAllocation.bill_id).where(PaymentAllocation.payment_id.in_(payment_ids)))))
    if not bill_ids:
        return []
    charges: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for line in await session.scalars(select(BillLine).where(BillLine.bill_id.in_(bill_ids)).order_by(BillLine.bill_id, BillLine.position)):
        charges[line.bill_id][line.rule_code] = charges[line.bill_id].get(line.rule_code, Decimal("0.00")) + line.amount
    allocations: dict[int, list[AllocationRow]] = defaultdict(list)
    for allocation in await session.scalars(
        select(PaymentAllocation).where(PaymentAllocation.bill_id.in_(bill_ids)).order_by(PaymentAllocation.id)
    ):
        allocations[allocation.bill_id].append(AllocationRow(allocation.payment_id, allocation.principal, allocation.late_fee))
    bills = (await session.execute(select(Bill.id, Bill.period).where(Bill.id.in_(bill_ids)).order_by(Bill.period_start, Bill.id))).all()
    return [BillPayments(bill_id, period, charges[bill_id], allocations[bill_id]) for bill_id, period in bills]


# --- issuing ------------------------------------------------------------------------------------------


async def issue_invoices(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, invoice_ids: Sequence[int]
) -> None:
    """Issue each PENDING invoice of `invoice_ids`, each in a transaction of its own; one another
    issuer holds is skipped, one already issued is left as it is."""
    for invoice_id in invoice_ids:
        async with unit_of_work(session_factory) as work:
            await _issue(work.session, invoice_id, now=now)


async def issue_pending_invoices(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, limit: int = 500
) -> int:
    """Issue the oldest PENDING invoices (those whose payment's process did not get to them): the
    worker's round. Answers how many it took up."""
    async with session_factory() as session:
        pending = list(
            await session.scalars(
                select(Invoice.id).where(Invoice.status == InvoiceStatus.PENDING).order_by(Invoice.id).limit(limit)
            )
        )
    await issue_invoices(session_factory, now=now, invoice_ids=pending)
    return len(pending)


async def _issue(session: AsyncSession, invoice_id: int, *, now: dt.datetime) -> None:
    invoice = await session.scalar(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update(key_share=True, skip_locked=True)
    )
    if invoice is None or invoice.status is not InvoiceStatus.PENDING:
        return
    project = await session.get(Project, invoice.project_id)
    assert project is not None
    try:
        if invoice.colour is InvoiceColour.BLUE:
            prepared = await _prepare_blue(session, invoice, project, now)
        else:
            prepared = await _prepare_red(session, invoice)
        if prepared is None:
            return
        lines, seller, original_number = prepared
        profile = await profile_of(session, project.id)
        content = _content(invoice, lines, seller, original_number, drawer=profile.drawer if profile else _DEFAULT_DRAWER, now=now)
        provider = provider_named(profile.provider if profile else SANDBOX)
        issued = await provider.issue(serial=invoice.id, content=content, now=now)
        read_back = parse_einvoice(issued.xml)
        if read_back != issued.document or read_back.content != content:
            raise DocumentRejected("the provider's XML does not read back as the invoice that was sent")
    except (DomainError, DocumentRejected, ProviderRefused) as refusal:
        invoice.status, invoice.failure_reason = InvoiceStatus.FAILED, _reason(refusal)
        log.warning("invoice %s not issued: %s", invoice.id, invoice.failure_reason)
        await session.flush()
        return
    if invoice.colour is InvoiceColour.BLUE:
        await write_lines(session, invoice.id, lines)
    totals = invoice_totals(line.split for line in lines)
    invoice.net_total, invoice.tax_total, invoice.gross_total = totals.net, totals.tax, totals.amount
    invoice.seller_version_id = seller.id
    invoice.remark = content.remark
    invoice.number, invoice.issued_at = issued.document.number, issued.document.issued_at
    invoice.xml = issued.xml.decode("utf-8")
    invoice.status, invoice.failure_reason = InvoiceStatus.ISSUED, None
    await session.flush()


def _reason(refusal: Exception) -> str:
    message = refusal.message if isinstance(refusal, DomainError) else str(refusal)
    return message[:500]


async def _prepare_blue(
    session: AsyncSession, invoice: Invoice, project: Project, now: dt.datetime
) -> tuple[list[DraftLine], InvoiceSellerVersion, None] | None:
    payment_ids = sorted(await session.scalars(select(InvoicedPayment.payment_id).where(InvoicedPayment.invoice_id == invoice.id)))
    payments = await _lock_payments(session, payment_ids)
    if reversed_ids := await _reversed(session, payment_ids):
        _cancel(invoice, f"Payment {reversed_ids[0]} was reversed before its invoice was issued.")
        return None
    lines, seller = await draft_blue(session, project, [payments[pid] for pid in payment_ids], _day(project, now), field=None)
    if not lines:
        _cancel(invoice, "The payments were refunded in full before the invoice was issued.")
        return None
    return lines, seller, None


def _cancel(invoice: Invoice, reason: str) -> None:
    invoice.status, invoice.failure_reason = InvoiceStatus.CANCELLED, reason


async def _prepare_red(session: AsyncSession, invoice: Invoice) -> tuple[list[DraftLine], InvoiceSellerVersion, str]:
    """A red invoice was drafted when its refund or reversal was made; it names the blue one's seller."""
    original = await session.get(Invoice, invoice.corrects_invoice_id)
    assert original is not None and original.number is not None and original.seller_version_id is not None
    seller = await session.get(InvoiceSellerVersion, original.seller_version_id)
    assert seller is not None
    rows = await session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.position))
    return [_draft_of(row) for row in rows], seller, original.number


def _draft_of(row: InvoiceLine) -> DraftLine:
    terms = LineTerms(row.category, row.item_name, row.classification_code, row.unit, row.rate, row.treatment, row.mapping_id)
    return DraftLine(
        row.payment_id, row.fee_kind, terms, row.quantity, row.unit_price, TaxSplit(row.amount, row.net, row.tax), row.original_position
    )


async def write_lines(session: AsyncSession, invoice_id: int, lines: Sequence[DraftLine]) -> None:
    session.add_all(
        InvoiceLine(
            invoice_id=invoice_id,
            position=position,
            payment_id=line.payment_id,
            fee_kind=line.fee_kind,
            category=line.terms.category,
            item_name=line.terms.item_name,
            classification_code=line.terms.classification_code,
            unit=line.terms.unit,
            quantity=line.quantity,
            unit_price=line.unit_price,
            rate=line.terms.rate,
            treatment=line.terms.treatment,
            amount=line.split.amount,
            net=line.split.net,
            tax=line.split.tax,
            mapping_id=line.terms.mapping_id,
            original_position=line.original_position,
        )
        for position, line in enumerate(lines, start=1)
    )
    await session.flush()


def _content(
    invoice: Invoice,
    lines: Sequence[DraftLine],
    seller: InvoiceSellerVersion,
    original_number: str | None,
    *,
    drawer: str,
    now: dt.datetime,
) -> InvoiceContent:
    totals = invoice_totals(line.split for line in lines)
    return InvoiceContent(
        invoice_type=invoice.invoice_type,
        colour=invoice.colour,
        original_number=original_number,
        seller=SellerDetails(seller.name, seller.tax_code, seller.address, seller.phone, seller.bank_name, seller.bank_account),
        buyer=Buyer(
            invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code, invoice.buyer_address, invoice.buyer_phone,
            invoice.buyer_bank_name, invoice.buyer_bank_account,
        ),
        items=tuple(
            ItemLine(
                name=f"*{line.terms.category}*{line.terms.item_name}",
                classification_code=line.terms.classification_code,
                unit=line.terms.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                rate=line.terms.rate,
                treatment=line.terms.treatment,
                net=line.split.net,
                tax=line.split.tax,
                amount=line.split.amount,
            )
            for line in lines
        ),
        net_total=totals.net,
        tax_total=totals.tax,
        amount_total=totals.amount,
        drawer=drawer,
        requested_at=invoice.requested_at.replace(microsecond=0),
        remark=invoice.remark,
    )


async def blue_remark(session: AsyncSession, project: Project, unit_id: int | None, payments: Sequence[Payment]) -> str:
    """备注 of a blue invoice: the unit, and each payment's day and amount (收款 2026-11-02 ¥300.00)."""
    zone = ZoneInfo(project.timezone)
    parts = []
    if unit_id is not None:
        row = (
            await session.execute(
                select(Building.name, Unit.number).join(Unit, Unit.building_id == Building.id).where(Unit.id == unit_id)
            )
        ).first()
        if row is not None:
            parts.append(f"{project.name} {row[0]}-{row[1]}")
    parts.extend(f"收款 {payment.paid_at.astimezone(zone):%Y-%m-%d} ¥{payment.amount:.2f}" for payment in payments)
    remark = "；".join(parts)
    return remark if len(remark) <= 200 else remark[:199] + "…"
