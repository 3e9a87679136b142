"""Invoice titles (发票抬头): whom an owner's invoices are made out to, kept by the owner for their party.

A person's title is a name; a company's carries its credit code (validated) and may add the address,
telephone and bank account it wants printed. One title is the default: the first one kept, or the one
last marked so. Titles are the owner's own: anyone else's ID answers NOT_FOUND. Deleting a title leaves
the invoices made out to it as they were issued.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import InvoiceTitle, Party
from db.unit_of_work import unit_of_work
from invoicing.buyers import Buyer, checked_buyer
from invoicing.policy import keeps_invoice_titles, may_issue_invoices
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import InvoiceType

__all__ = [
    "MAX_TITLES",
    "buyer_of",
    "create_invoice_title",
    "default_title",
    "delete_invoice_title",
    "list_invoice_titles",
    "pick_payment_title",
    "update_invoice_title",
]

MAX_TITLES = 20
_DENIED = "Requires the OWNER role and a party of your own: titles are kept by owners."


def buyer_of(title: InvoiceTitle) -> Buyer:
    return Buyer(title.kind, title.name, title.tax_code, title.address, title.phone, title.bank_name, title.bank_account)


def _own_party(principal: Principal) -> int:
    if not keeps_invoice_titles(principal) or principal.party_id is None:
        raise AccessDenied(_DENIED)
    return principal.party_id


async def _own_title(session: AsyncSession, principal: Principal, title_id: int) -> InvoiceTitle:
    party_id = _own_party(principal)
    title = await session.get(InvoiceTitle, title_id)
    if title is None or title.party_id != party_id:
        raise NotFound("No such invoice title.", field="id")
    return title


def _fill(title: InvoiceTitle, buyer: Buyer) -> None:
    checked = checked_buyer(buyer, invoice_type=InvoiceType.NORMAL)
    title.kind, title.name, title.tax_code = checked.kind, checked.name, checked.tax_code
    title.address, title.phone = checked.address, checked.phone
    title.bank_name, title.bank_account = checked.bank_name, checked.bank_account


async def _make_default(session: AsyncSession, title: InvoiceTitle) -> None:
    await session.execute(
        update(InvoiceTitle).where(InvoiceTitle.party_id == title.party_id, InvoiceTitle.id != title.id).values(is_default=False)
    )
    title.is_default = True


async def create_invoice_title(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, buyer: Buyer, is_default: bool = False
) -> InvoiceTitle:
    """Keep a title for the caller's party; the first one is the default."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        party_id = _own_party(principal)
        party = await session.get(Party, party_id)
        assert party is not None, "a login's party is never deleted"
        kept = int(await session.scalar(select(func.count()).where(InvoiceTitle.party_id == party_id)) or 0)
        if kept >= MAX_TITLES:
            raise BadInput(f"You keep at most {MAX_TITLES} invoice titles; delete one first.", field="name")
        title = InvoiceTitle(project_id=party.project_id, party_id=party_id, is_default=False)
        _fill(title, buyer)
        session.add(title)
        await session.flush()
        if is_default or kept == 0:
            await _make_default(session, title)
        await session.flush()
        return title


async def update_invoice_title(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    title_id: int,
    buyer: Buyer,
    is_default: bool = False,
) -> InvoiceTitle:
    async with unit_of_work(session_factory) as work:
        session = work.session
        title = await _own_title(session, principal, title_id)
        _fill(title, buyer)
        if is_default:
            await _make_default(session, title)
        await session.flush()
        return title


async def delete_invoice_title(session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, title_id: int) -> int:
    """Forget a title; when it was the default, the oldest title left becomes the default."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        title = await _own_title(session, principal, title_id)
        await session.delete(title)
        await session.flush()
        if title.is_default:
            oldest = await session.scalar(
                select(InvoiceTitle).where(InvoiceTitle.party_id == title.party_id).order_by(InvoiceTitle.id).limit(1)
            )
            if oldest is not None:
                oldest.is_default = True
        return title_id


async def list_invoice_titles(session_factory: async_sessionmaker[AsyncSession], principal: Principal) -> Sequence[InvoiceTitle]:
    """The caller's titles, the default first; none for a caller without a party."""
    if principal.party_id is None or not keeps_invoice_titles(principal):
        return []
    async with session_factory() as session:
        rows = await session.scalars(
            select(InvoiceTitle)
            .where(InvoiceTitle.party_id == principal.party_id)
            .order_by(InvoiceTitle.is_default.desc(), InvoiceTitle.id)
        )
        return rows.all()


async def default_title(session: AsyncSession, party_id: int | None) -> InvoiceTitle | None:
    """The party's default title, if it keeps any."""
    if party_id is None:
        return None
    return await session.scalar(
        select(InvoiceTitle).where(InvoiceTitle.party_id == party_id, InvoiceTitle.is_default.is_(True)).limit(1)
    )


async def pick_payment_title(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    title_id: int | None,
    buyer: Buyer | None,
) -> int | None:
    """The title an online payment's invoice is to be made out to, in the order's transaction: one the
    owner keeps (`title_id`; staff any of the project's), or a new one (`buyer`), checked as any title and
    kept among the owner's. BAD_USER_INPUT names the field at fault (`invoiceTitle.taxCode`, …); someone
    else's title answers NOT_FOUND on `invoiceTitleId`. None when neither is given (the default title)."""
    if title_id is not None and buyer is not None:
        raise BadInput("Pick one of your titles or give a new one, not both.", field="invoiceTitle")
    if title_id is not None:
        title = await session.get(InvoiceTitle, title_id)
        staff = may_issue_invoices(principal, project_id=project_id)
        if title is None or title.project_id != project_id or (not staff and title.party_id != principal.party_id):
            raise NotFound("No such invoice title of yours.", field="invoiceTitleId")
        return title.id
    if buyer is None:
        return None
    if not keeps_invoice_titles(principal) or principal.party_id is None:
        raise BadInput("Only an owner keeps invoice titles: pick one with invoiceTitleId.", field="invoiceTitle")
    checked = checked_buyer(buyer, invoice_type=InvoiceType.NORMAL, prefix="invoiceTitle.")
    kept = list(await session.scalars(select(InvoiceTitle).where(InvoiceTitle.party_id == principal.party_id)))
    for title in kept:
        if buyer_of(title) == checked:
            return title.id
    if len(kept) >= MAX_TITLES:
        raise BadInput(f"You keep at most {MAX_TITLES} invoice titles; pick one of them.", field="invoiceTitle")
    title = InvoiceTitle(project_id=project_id, party_id=principal.party_id, is_default=not kept)
    _fill(title, checked)
    session.add(title)
    await session.flush()
    return title.id
