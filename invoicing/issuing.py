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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
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
    InvoicingProfile,
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
from invoicing.delivery import new_download_key, queue_deliveries
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
    "billed_parties",
    "blue_remark",
    "buyer_for_payments",
    "buyers_of_parties",
    "draft_blue",
    "issue_invoices",
    "issue_pending_invoices",
    "remark_of",
    "request_invoice",
    "unit_labels",
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
    party = await session.get(Party, party_id) if party_id is not None else None
    return _made_out(await default_title(session, party_id), party, first.payer_name, invoice_type)


def _made_out(title: InvoiceTitle | None, party: Party | None, payer_name: str, invoice_type: InvoiceType) -> InvoiceBuyer:
    """The party's default title, else the party (a person) or the payer by name as a person."""
    if title is not None:
        return InvoiceBuyer(checked_buyer(buyer_of(title), invoice_type=invoice_type, prefix="title."), title.party_id, title.id)
    name = party.name if party is not None and party.party_type is PartyType.PERSON else payer_name
    party_id = party.id if party is not None else None
    return InvoiceBuyer(checked_buyer(Buyer(PartyType.PERSON, name), invoice_type=invoice_type, prefix="buyer."), party_id, None)


async def buyers_of_parties(
    session: AsyncSession, payer_names: Mapping[int, str], *, invoice_type: InvoiceType
) -> dict[int, InvoiceBuyer | DomainError]:
    """For each party of `payer_names` (party id → the payer's name to fall back on), whom its invoice is
    made out to, or why it cannot have one; two statements for any number of parties."""
    party_ids = sorted(payer_names)
    titles = {
        title.party_id: title
        for title in await session.scalars(
            select(InvoiceTitle).where(InvoiceTitle.party_id.in_(party_ids), InvoiceTitle.is_default.is_(True))
        )
    }
    parties = {party.id: party for party in await session.scalars(select(Party).where(Party.id.in_(party_ids)))}
    made_out: dict[int, InvoiceBuyer | DomainError] = {}
    for party_id in party_ids:
        try:
            made_out[party_id] = _made_out(titles.get(party_id), parties.get(party_id), payer_names[party_id], invoice_type)
        except DomainError as refusal:
            made_out[party_id] = refusal
    return made_out


async def billed_parties(session: AsyncSession, payment_ids: Sequence[int]) -> dict[int, int]:
    """The party each payment's bills are addressed to (the first bill it paid), in one statement."""
    first_allocation = (
        select(PaymentAllocation.payment_id, func.min(PaymentAllocation.id).label("first"))
        .where(PaymentAllocation.payment_id.in_(payment_ids))
        .group_by(PaymentAllocation.payment_id)
        .subquery()
    )
    rows = await session.execute(
        select(PaymentAllocation.payment_id, Bill.party_id)
        .join(first_allocation, PaymentAllocation.id == first_allocation.c.first)
        .join(Bill, Bill.id == PaymentAllocation.bill_id)
        .where(Bill.party_id.is_not(None))
    )
    return {payment_id: party_id for payment_id, party_id in rows}


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


@dataclass(frozen=True)
class _PaymentFacts:
    """What invoicing payments needs to know of them: what was refunded of each, the bills each paid."""

    refunded: dict[int, Decimal]
    bills: dict[int, list[BillPayments]]


@dataclass(frozen=True)
class _Terms:
    """The tax mappings and the seller in force on a day."""

    lines: dict[str, LineTerms]
    seller: InvoiceSellerVersion


async def draft_blue(
    session: AsyncSession, project: Project, payments: Sequence[Payment], day: dt.date, *, field: str | None
) -> tuple[list[DraftLine], InvoiceSellerVersion]:
    """The lines of a blue invoice of `payments` as of `day`, and the seller in force; BAD_USER_INPUT
    (on `field`) naming the fee kinds without a tax mapping, or the missing seller."""
    facts = await _payment_facts(session, [payment.id for payment in payments])
    terms = await _terms_on(session, project.id, day)
    return _blue_lines(payments, facts, terms, field=field), terms.seller


def _blue_lines(payments: Sequence[Payment], facts: _PaymentFacts, terms: _Terms, *, field: str | None) -> list[DraftLine]:
    shares = []
    for payment in payments:
        paid = PaymentFacts(payment.id, payment.amount, facts.refunded.get(payment.id, Decimal("0.00")))
        try:
            shares.append((payment.id, payment_shares(paid, facts.bills.get(payment.id, []))))
        except ValueError as error:
            raise BadInput(f"Payment {payment.id} cannot be invoiced: {error}.", field=field) from None
    return blue_lines(shares, terms.lines, field=field)


async def _terms_on(session: AsyncSession, project_id: int, day: dt.date) -> _Terms:
    mappings = await mappings_on(session, project_id, day)
    lines = {
        kind: LineTerms(row.category, row.item_name, row.classification_code, row.unit, row.rate, row.treatment, row.id)
        for kind, row in mappings.items()
    }
    return _Terms(lines, await seller_on(session, project_id, day))


async def _payment_facts(session: AsyncSession, payment_ids: Sequence[int]) -> _PaymentFacts:
    """Refunds, and every bill the payments paid (oldest first, with its charges per fee kind and all its
    allocations), in four statements whatever the number of payments."""
    refunded: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for payment_id, amount in await session.execute(
        select(PaymentReversal.payment_id, PaymentReversal.amount).where(
            PaymentReversal.payment_id.in_(payment_ids), PaymentReversal.kind == ReversalKind.REFUND
        )
    ):
        refunded[payment_id] += amount
    paid_bills: dict[int, set[int]] = defaultdict(set)
    for payment_id, bill_id in await session.execute(
        select(PaymentAllocation.payment_id, PaymentAllocation.bill_id).where(PaymentAllocation.payment_id.in_(payment_ids))
    ):
        paid_bills[payment_id].add(bill_id)
    bill_ids = sorted({bill_id for bills in paid_bills.values() for bill_id in bills})
    if not bill_ids:
        return _PaymentFacts(dict(refunded), {})
    charges: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for bill_id, rule_code, amount in await session.execute(
        select(BillLine.bill_id, BillLine.rule_code, BillLine.amount).where(BillLine.bill_id.in_(bill_ids)).order_by(BillLine.bill_id, BillLine.position)
    ):
        charges[bill_id][rule_code] = charges[bill_id].get(rule_code, Decimal("0.00")) + amount
    allocations: dict[int, list[AllocationRow]] = defaultdict(list)
    for bill_id, payment_id, principal, late_fee in await session.execute(
        select(PaymentAllocation.bill_id, PaymentAllocation.payment_id, PaymentAllocation.principal, PaymentAllocation.late_fee)
        .where(PaymentAllocation.bill_id.in_(bill_ids))
        .order_by(PaymentAllocation.id)
    ):
        allocations[bill_id].append(AllocationRow(payment_id, principal, late_fee))
    ordered = (await session.execute(select(Bill.id, Bill.period).where(Bill.id.in_(bill_ids)).order_by(Bill.period_start, Bill.id))).all()
    bills = [BillPayments(bill_id, period, charges[bill_id], allocations[bill_id]) for bill_id, period in ordered]
    return _PaymentFacts(dict(refunded), {payment_id: [bill for bill in bills if bill.bill_id in ids] for payment_id, ids in paid_bills.items()})


# --- issuing ------------------------------------------------------------------------------------------

ISSUED_PER_TRANSACTION = 200
"""Invoices one issuing transaction takes up: its reads are a handful of statements for all of them."""


async def issue_invoices(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, invoice_ids: Sequence[int]
) -> None:
    """Issue the PENDING invoices of `invoice_ids`, up to ISSUED_PER_TRANSACTION in a transaction; one
    another issuer holds is skipped, one already issued is left as it is, and each that cannot be issued
    is FAILED or CANCELLED on its own."""
    for start in range(0, len(invoice_ids), ISSUED_PER_TRANSACTION):
        async with unit_of_work(session_factory) as work:
            await _issue(work.session, invoice_ids[start : start + ISSUED_PER_TRANSACTION], now=now)


async def issue_pending_invoices(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, limit: int = 2_000
) -> int:
    """Issue the oldest PENDING invoices (those whose payment's process did not get to them, a batch's):
    the worker's round. Answers how many it took up."""
    async with session_factory() as session:
        pending = list(
            await session.scalars(
                select(Invoice.id).where(Invoice.status == InvoiceStatus.PENDING).order_by(Invoice.id).limit(limit)
            )
        )
    await issue_invoices(session_factory, now=now, invoice_ids=pending)
    return len(pending)


async def _issue(session: AsyncSession, invoice_ids: Sequence[int], *, now: dt.datetime) -> None:
    invoices = list(
        await session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(invoice_ids), Invoice.status == InvoiceStatus.PENDING)
            .order_by(Invoice.id)
            .with_for_update(key_share=True, skip_locked=True)
        )
    )
    if not invoices:
        return
    blue = [invoice for invoice in invoices if invoice.colour is InvoiceColour.BLUE]
    covered: dict[int, list[int]] = defaultdict(list)
    for payment_id, invoice_id in await session.execute(
        select(InvoicedPayment.payment_id, InvoicedPayment.invoice_id)
        .where(InvoicedPayment.invoice_id.in_([invoice.id for invoice in blue]))
        .order_by(InvoicedPayment.payment_id)
    ):
        covered[invoice_id].append(payment_id)
    payment_ids = [payment_id for ids in covered.values() for payment_id in ids]
    payments = await _lock_payments(session, payment_ids)
    reversed_ids = set(await _reversed(session, payment_ids))
    facts = await _payment_facts(session, payment_ids)
    reds = await _red_drafts(session, [invoice for invoice in invoices if invoice.colour is InvoiceColour.RED])
    context = _IssuingContext(session, now)
    lines_to_write: list[tuple[int, Sequence[DraftLine]]] = []
    issued_now: list[Invoice] = []
    for invoice in invoices:
        try:
            if invoice.colour is InvoiceColour.BLUE:
                chosen = covered[invoice.id]
                if reversed_here := sorted(reversed_ids.intersection(chosen)):
                    _cancel(invoice, f"Payment {reversed_here[0]} was reversed before its invoice was issued.")
                    continue
                project = await context.project(invoice.project_id)
                terms = await context.terms(project)
                lines = _blue_lines([payments[pid] for pid in chosen], facts, terms, field=None)
                if not lines:
                    _cancel(invoice, "The payments were refunded in full before the invoice was issued.")
                    continue
                seller, original_number = terms.seller, None
            else:
                lines, seller, original_number = reds[invoice.id]
            profile = await context.profile(invoice.project_id)
            content = _content(invoice, lines, seller, original_number, drawer=profile.drawer if profile else _DEFAULT_DRAWER, now=now)
            provider = provider_named(profile.provider if profile else SANDBOX)
            issued = await provider.issue(serial=invoice.id, content=content, now=now)
            read_back = parse_einvoice(issued.xml)
            if read_back != issued.document or read_back.content != content:
                raise DocumentRejected("the provider's XML does not read back as the invoice that was sent")
        except (DomainError, DocumentRejected, ProviderRefused) as refusal:
            invoice.status, invoice.failure_reason = InvoiceStatus.FAILED, _reason(refusal)
            log.warning("invoice %s not issued: %s", invoice.id, invoice.failure_reason)
            continue
        if invoice.colour is InvoiceColour.BLUE:
            lines_to_write.append((invoice.id, lines))
        totals = invoice_totals(line.split for line in lines)
        invoice.net_total, invoice.tax_total, invoice.gross_total = totals.net, totals.tax, totals.amount
        invoice.seller_version_id = seller.id
        invoice.number, invoice.issued_at = issued.document.number, issued.document.issued_at
        invoice.xml = issued.xml.decode("utf-8")
        invoice.download_key = new_download_key()
        invoice.status, invoice.failure_reason = InvoiceStatus.ISSUED, None
        issued_now.append(invoice)
    await write_lines_of(session, lines_to_write)
    await session.flush()
    await queue_deliveries(session, issued_now, context.profiles_read, now=now)


class _IssuingContext:
    """What a transaction's invoices share, each read once: projects, profiles, the terms of each day."""

    def __init__(self, session: AsyncSession, now: dt.datetime) -> None:
        self._session, self._now = session, now
        self._projects: dict[int, Project] = {}
        self._profiles: dict[int, InvoicingProfile | None] = {}
        self._terms: dict[tuple[int, dt.date], _Terms | DomainError] = {}

    async def project(self, project_id: int) -> Project:
        if project_id not in self._projects:
            project = await self._session.get(Project, project_id)
            assert project is not None
            self._projects[project_id] = project
        return self._projects[project_id]

    @property
    def profiles_read(self) -> dict[int, InvoicingProfile | None]:
        return self._profiles

    async def profile(self, project_id: int) -> InvoicingProfile | None:
        if project_id not in self._profiles:
            self._profiles[project_id] = await profile_of(self._session, project_id)
        return self._profiles[project_id]

    async def terms(self, project: Project) -> _Terms:
        key = (project.id, _day(project, self._now))
        if key not in self._terms:
            try:
                self._terms[key] = await _terms_on(self._session, *key)
            except DomainError as missing:
                self._terms[key] = missing
        found = self._terms[key]
        if isinstance(found, DomainError):
            raise found
        return found


def _reason(refusal: Exception) -> str:
    message = refusal.message if isinstance(refusal, DomainError) else str(refusal)
    return message[:500]


def _cancel(invoice: Invoice, reason: str) -> None:
    invoice.status, invoice.failure_reason = InvoiceStatus.CANCELLED, reason


async def _red_drafts(
    session: AsyncSession, reds: Sequence[Invoice]
) -> dict[int, tuple[list[DraftLine], InvoiceSellerVersion, str]]:
    """Red invoices were drafted when their refund or reversal was made; each names its blue one's seller."""
    if not reds:
        return {}
    originals = {
        invoice.id: invoice
        for invoice in await session.scalars(select(Invoice).where(Invoice.id.in_({red.corrects_invoice_id for red in reds})))
    }
    sellers = {
        seller.id: seller
        for seller in await session.scalars(
            select(InvoiceSellerVersion).where(InvoiceSellerVersion.id.in_({invoice.seller_version_id for invoice in originals.values()}))
        )
    }
    lines: dict[int, list[DraftLine]] = defaultdict(list)
    for row in await session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id.in_([red.id for red in reds])).order_by(InvoiceLine.invoice_id, InvoiceLine.position)
    ):
        lines[row.invoice_id].append(_draft_of(row))
    drafts = {}
    for red in reds:
        original = originals[red.corrects_invoice_id or 0]
        assert original.number is not None and original.seller_version_id is not None
        drafts[red.id] = (lines[red.id], sellers[original.seller_version_id], original.number)
    return drafts


def _draft_of(row: InvoiceLine) -> DraftLine:
    terms = LineTerms(row.category, row.item_name, row.classification_code, row.unit, row.rate, row.treatment, row.mapping_id)
    return DraftLine(
        row.payment_id, row.fee_kind, terms, row.quantity, row.unit_price, TaxSplit(row.amount, row.net, row.tax), row.original_position
    )


async def write_lines_of(session: AsyncSession, invoices: Sequence[tuple[int, Sequence[DraftLine]]]) -> None:
    """The lines of several invoices, in one statement."""
    if not invoices:
        return
    await session.execute(
        insert(InvoiceLine),
        [_line_values(invoice_id, position, line) for invoice_id, lines in invoices for position, line in enumerate(lines, start=1)],
    )


def _line_values(invoice_id: int, position: int, line: DraftLine) -> dict[str, object]:
    return {
        "invoice_id": invoice_id,
        "position": position,
        "payment_id": line.payment_id,
        "fee_kind": line.fee_kind,
        "category": line.terms.category,
        "item_name": line.terms.item_name,
        "classification_code": line.terms.classification_code,
        "unit": line.terms.unit,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "rate": line.terms.rate,
        "treatment": line.terms.treatment,
        "amount": line.split.amount,
        "net": line.split.net,
        "tax": line.split.tax,
        "mapping_id": line.terms.mapping_id,
        "original_position": line.original_position,
    }


async def write_lines(session: AsyncSession, invoice_id: int, lines: Sequence[DraftLine]) -> None:
    await write_lines_of(session, [(invoice_id, lines)])


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
    labels = await unit_labels(session, [unit_id] if unit_id is not None else [])
    return remark_of(project, labels.get(unit_id) if unit_id is not None else None, payments)


async def unit_labels(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, str]:
    """Building-number of each unit (A1-101), in one statement."""
    if not unit_ids:
        return {}
    rows = await session.execute(
        select(Unit.id, Building.name, Unit.number).join(Building, Unit.building_id == Building.id).where(Unit.id.in_(sorted(set(unit_ids))))
    )
    return {unit_id: f"{building}-{number}" for unit_id, building, number in rows}


def remark_of(project: Project, unit_label: str | None, payments: Sequence[Payment]) -> str:
    zone = ZoneInfo(project.timezone)
    parts = [f"{project.name} {unit_label}"] if unit_label else []
    parts.extend(f"收款 {payment.paid_at.astimezone(zone):%Y-%m-%d} ¥{payment.amount:.2f}" for payment in payments)
    remark = "；".join(parts)
    return remark if len(remark) <= 200 else remark[:199] + "…"
