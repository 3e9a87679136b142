"""Reading invoices: one by ID, a searched page, and an issued one's XML and PDF, each only as the caller
may see it (`invoicing.policy`): someone else's answers NOT_FOUND, or is left out of a list.

A delivered link's download key stands in for the caller: it opens that one issued invoice's documents.

Staff search their projects' invoices by number, buyer (name or credit code), day of issue (Beijing
time, the tax platform's), status and colour; owners search the same way among their own.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Invoice, Message
from db.pages import KeysetPage, keyset_page
from invoicing.delivery import delivery_key
from invoicing.document import EInvoice, parse_einvoice
from invoicing.pdf import render_invoice_pdf
from invoicing.policy import may_see_invoice, visible_invoices
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import InvoiceColour, InvoiceStatus

__all__ = [
    "InvoiceSearch",
    "deliveries_of",
    "get_invoice",
    "get_invoice_pdf",
    "get_invoice_xml",
    "get_linked_invoice_pdf",
    "get_linked_invoice_xml",
    "list_invoices",
]

_BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class InvoiceSearch:
    project_id: int | None = None
    number: str | None = None
    buyer: str | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    statuses: tuple[InvoiceStatus, ...] = ()
    colour: InvoiceColour | None = None
    unit_id: int | None = None
    batch_id: int | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), _BEIJING)


async def list_invoices(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    search: InvoiceSearch,
    limit: int,
    after_id: int | None,
) -> KeysetPage[Invoice]:
    """One page of the invoices the caller may see that match `search`, newest first."""
    conditions: list[ColumnElement[bool]] = [
        visible_invoices(principal, project_column=Invoice.project_id, unit_column=Invoice.unit_id, party_column=Invoice.party_id)
    ]
    if search.project_id is not None:
        conditions.append(Invoice.project_id == search.project_id)
    if search.unit_id is not None:
        conditions.append(Invoice.unit_id == search.unit_id)
    if search.batch_id is not None:
        conditions.append(Invoice.batch_id == search.batch_id)
    if search.number:
        conditions.append(Invoice.number == search.number.strip())
    if search.buyer and search.buyer.strip():
        wanted = search.buyer.strip()
        conditions.append(or_(Invoice.buyer_name.like(_like(wanted), escape="\\"), Invoice.buyer_tax_code == wanted.upper()))
    if search.issued_from is not None:
        conditions.append(Invoice.issued_at >= _start_of(search.issued_from))
    if search.issued_to is not None and search.issued_to < dt.date.max:
        conditions.append(Invoice.issued_at < _start_of(search.issued_to + dt.timedelta(days=1)))
    if search.statuses:
        conditions.append(Invoice.status.in_(search.statuses))
    if search.colour is not None:
        conditions.append(Invoice.colour == search.colour)
    return await keyset_page(session_factory, Invoice, conditions, limit=limit, beyond_id=after_id, newest_first=True)


async def get_invoice(session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, invoice_id: int) -> Invoice:
    async with session_factory() as session:
        invoice = await session.get(Invoice, invoice_id)
    if invoice is None or not may_see_invoice(
        principal, project_id=invoice.project_id, unit_id=invoice.unit_id, party_id=invoice.party_id
    ):
        raise NotFound("No such invoice.", field="id")
    return invoice


async def get_invoice_xml(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, invoice_id: int
) -> tuple[Invoice, bytes]:
    """An issued invoice the caller may see and its EInvoice XML exactly as issued; one not issued (yet)
    has none and answers NOT_FOUND."""
    invoice = await get_invoice(session_factory, principal, invoice_id=invoice_id)
    if invoice.xml is None:
        raise NotFound("This invoice is not issued: it has no document.", field="id")
    return invoice, invoice.xml.encode("utf-8")


async def get_invoice_pdf(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, invoice_id: int
) -> tuple[Invoice, bytes]:
    """An issued invoice the caller may see and its PDF, drawn from the issued XML."""
    invoice, xml = await get_invoice_xml(session_factory, principal, invoice_id=invoice_id)
    document: EInvoice = parse_einvoice(xml)
    return invoice, await asyncio.to_thread(render_invoice_pdf, document)


async def get_linked_invoice_xml(session_factory: async_sessionmaker[AsyncSession], *, download_key: str) -> tuple[Invoice, bytes]:
    """The issued invoice a delivered link names by its download key, and its XML; NOT_FOUND otherwise."""
    async with session_factory() as session:
        invoice = await session.scalar(
            select(Invoice).where(Invoice.download_key == download_key, Invoice.status == InvoiceStatus.ISSUED)
        )
    if invoice is None or invoice.xml is None:
        raise NotFound("No such invoice.", field="key")
    return invoice, invoice.xml.encode("utf-8")


async def get_linked_invoice_pdf(session_factory: async_sessionmaker[AsyncSession], *, download_key: str) -> tuple[Invoice, bytes]:
    invoice, xml = await get_linked_invoice_xml(session_factory, download_key=download_key)
    return invoice, await asyncio.to_thread(render_invoice_pdf, parse_einvoice(xml))


async def deliveries_of(session_factory: async_sessionmaker[AsyncSession], invoice_ids: list[int]) -> list[Message | None]:
    """The delivery message of each invoice (None: none was queued), in one statement; for invoices the
    caller was already allowed to see."""
    keys = {delivery_key(invoice_id): invoice_id for invoice_id in invoice_ids}
    async with session_factory() as session:
        found = {
            keys[message.idempotency_key]: message
            for message in await session.scalars(select(Message).where(Message.idempotency_key.in_(sorted(keys))))
        }
    return [found.get(invoice_id) for invoice_id in invoice_ids]
