"""The demo community's invoices (数电发票): its tax configuration, the latest month's payments invoiced
automatically, the month before by the finance desk's batch, and one red-letter correction.

The story the books tell: the desk set up invoicing early in the previous month's collection and ran its
first batch on the first of this month, one invoice per paying party for the payments received last
month (a shop investor gets one invoice for all their shops, made out to their company's title). From
then on every payment gets its own invoice moments after it is booked. One bank transfer of this month
was entered twice by mistake and reversed: its invoice is corrected by a red-letter invoice.

The configuration rows are written in the community's own transaction, effective from the rule book's
first day: the configuration use cases only put versions in force from today on, and the demo's history
starts months ago. Everything after that goes through the use cases the desk, the booking and the
worker use: automatic invoices are requested by `billing.booking` and issued by `invoicing.issuing`,
the batch by `issue_invoice_batch`, the correction by `reverse_payment`. Issuing queues each invoice's
delivery in the outbox, which the running service's relay sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.refunds import reverse_payment
from db.models import (
    Invoice,
    InvoicedPayment,
    InvoiceSellerVersion,
    InvoiceTitle,
    InvoicingProfile,
    Occupancy,
    OccupancyRelation,
    Party,
    Payment,
    PaymentChannel,
    TaxMappingVersion,
    Unit,
    User,
)
from invoicing.batches import issue_invoice_batch
from invoicing.credit_code import check_character
from invoicing.issuing import issue_invoices, issue_pending_invoices
from invoicing.providers import SANDBOX
from kernel.vocabulary import InvoiceColour, InvoiceStatus, PartyType, TaxTreatment, UnitKind
from register.accounts import load_principal

__all__ = ["DEMO_REVERSAL_REASON", "DEMO_SELLER_NAME", "add_invoicing_configuration", "seed_invoicing", "start_automatic_issuing"]

DEMO_SELLER_NAME = "杭州翠湖物业服务有限公司"
DEMO_REVERSAL_REASON = "同一笔银行转账重复登记，冲正"
_DRAWER = "财务 陈静"
_ZONE = ZoneInfo("Asia/Shanghai")
_SERVICE = ("物业管理服务", "3040802010000000000", Decimal("0.06"))
_POWER = ("电力", "1100101000000000000", Decimal("0.13"))
_WATER = ("水冰雪", "1100301010000000000", Decimal("0.09"))
_LEASE = ("经营租赁", "3040502020200000000", Decimal("0.09"))
# fee kind: (category, 税收分类编码 (sample values), rate, item as printed, 计量单位)
_MAPPINGS = {
    "PROPERTY": (*_SERVICE, "物业费", "月"),
    "PROPERTY_SHOP": (*_SERVICE, "商铺物业费", "月"),
    "COMMON_ELECTRICITY": (*_POWER, "公摊电费", None),
    "ELECTRICITY": (*_POWER, "电费", "度"),
    "WATER": (*_WATER, "水费", "吨"),
    "PARKING": (*_LEASE, "车位租赁费", "月"),
    "LATE_FEE": (*_SERVICE, "滞纳金", None),
    "PREPAYMENT": (*_SERVICE, "预收物业费", None),
}


def _credit_code(serial: int) -> str:
    """A well-formed 统一社会信用代码 of a Hangzhou (330106) company: 9 (registered by market regulation),
    1 (a company), the area, a 9-character organisation code and the check character."""
    prefix = f"91330106{serial:09d}"
    return prefix + check_character(prefix)


async def add_invoicing_configuration(session: AsyncSession, *, project_id: int, effective_from: dt.date) -> None:
    """Seller, a tax mapping for every fee kind, the profile (automatic issuing still off) and a company
    title for each shop investor, in the community's transaction."""
    session.add(
        InvoiceSellerVersion(
            project_id=project_id,
            effective_from=effective_from,
            name=DEMO_SELLER_NAME,
            tax_code=_credit_code(1),
            address="杭州市西湖区翠湖路88号",
            phone="0571-87650000",
            bank_name="中国工商银行杭州西湖支行",
            bank_account="1202021109900088888",
        )
    )
    session.add_all(
        TaxMappingVersion(
            project_id=project_id,
            fee_kind=fee_kind,
            effective_from=effective_from,
            category=category,
            item_name=item,
            classification_code=code,
            rate=rate,
            treatment=TaxTreatment.GENERAL,
            unit=unit,
        )
        for fee_kind, (category, code, rate, item, unit) in _MAPPINGS.items()
    )
    session.add(InvoicingProfile(project_id=project_id, auto_issue=False, provider=SANDBOX, drawer=_DRAWER))
    investors = await session.execute(
        select(Party.id, Party.name)
        .join(Occupancy, Occupancy.party_id == Party.id)
        .join(Unit, Unit.id == Occupancy.unit_id)
        .where(Unit.project_id == project_id, Unit.kind == UnitKind.SHOP, Occupancy.relation == OccupancyRelation.OWNER)
        .group_by(Party.id, Party.name)
        .order_by(Party.id)
    )
    session.add_all(
        InvoiceTitle(
            project_id=project_id,
            party_id=party_id,
            kind=PartyType.COMPANY,
            name=f"杭州{name}商贸有限公司",
            tax_code=_credit_code(100 + index),
            address="杭州市西湖区翠湖路88号翠湖商业街",
            is_default=True,
        )
        for index, (party_id, name) in enumerate(investors)
    )
    await session.flush()


async def start_automatic_issuing(session: AsyncSession, *, project_id: int) -> None:
    """From here on every payment booked gets its invoice by itself."""
    profile = await session.get(InvoicingProfile, project_id)
    assert profile is not None
    profile.auto_issue = True
    await session.flush()


async def seed_invoicing(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    project_id: int,
    finance_email: str,
    today: dt.date,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """After the community's transaction: issue what automatic issuing requested, each group at the time
    it was requested (as the worker's rounds would have), run last month's batch on the first of this
    month, and reverse one bank transfer of this month entered twice (see the module docstring)."""
    async with session_factory() as session:
        pending = (
            await session.execute(
                select(Invoice.requested_at, Invoice.id)
                .where(Invoice.project_id == project_id, Invoice.status == InvoiceStatus.PENDING)
                .order_by(Invoice.requested_at, Invoice.id)
            )
        ).all()
        finance_id = await session.scalar(select(User.id).where(User.email == finance_email))
        assert finance_id is not None
        desk = await load_principal(session, finance_id, today=today)
    assert desk is not None
    by_time: dict[dt.datetime, list[int]] = {}
    for requested_at, invoice_id in pending:
        by_time.setdefault(requested_at, []).append(invoice_id)
    for requested_at, invoice_ids in by_time.items():
        await issue_invoices(session_factory, now=requested_at, invoice_ids=invoice_ids)

    first_of_month = dt.datetime.combine(today.replace(day=1), dt.time(10), _ZONE)
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    _, summary = await issue_invoice_batch(session_factory, desk, now=first_of_month, project_id=project_id, period=last_month)
    while await issue_pending_invoices(session_factory, now=first_of_month):
        pass

    reversed_payment = await _twice_entered_transfer(session_factory, project_id, since=first_of_month)
    await reverse_payment(
        session_factory, desk, now=dt.datetime.combine(today, dt.time(11), _ZONE), payment_id=reversed_payment, reason=DEMO_REVERSAL_REASON
    )
    async with session_factory() as session:
        counts = dict(
            (
                await session.execute(
                    select(Invoice.colour, func.count()).where(Invoice.project_id == project_id).group_by(Invoice.colour)
                )
            ).all()
        )
    progress(
        f"invoices: {counts.get(InvoiceColour.BLUE, 0)} issued ({summary.total} by the batch of {last_month}, one per "
        f"paying party; the rest automatically after each payment), {counts.get(InvoiceColour.RED, 0)} red-letter "
        f"correction of a reversed transfer; seller {DEMO_SELLER_NAME}"
    )


async def _twice_entered_transfer(session_factory: async_sessionmaker[AsyncSession], project_id: int, *, since: dt.datetime) -> int:
    """The bank transfer of this month, invoiced automatically, that the story reverses: the latest one."""
    async with session_factory() as session:
        payment_id = await session.scalar(
            select(Payment.id)
            .join(InvoicedPayment, InvoicedPayment.payment_id == Payment.id)
            .join(Invoice, Invoice.id == InvoicedPayment.invoice_id)
            .where(
                Payment.project_id == project_id,
                Payment.channel == PaymentChannel.BANK_TRANSFER,
                Payment.paid_at >= since,
                Invoice.status == InvoiceStatus.ISSUED,
                Invoice.batch_id.is_(None),
            )
            .order_by(Payment.paid_at.desc(), Payment.id.desc())
            .limit(1)
        )
    assert payment_id is not None, "the demo books bank transfers every month"
    return payment_id
