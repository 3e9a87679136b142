"""GraphQL types of invoicing: invoices and their lines, owners' titles, the project's tax configuration."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
import strawberry
from strawberry import relay

from billing.policy import may_see_unit_billing
from db.models import (
    Invoice,
    InvoiceBatch,
    InvoiceLine,
    InvoiceSellerVersion,
    InvoiceTitle,
    InvoicingProfile,
    Message,
    TaxMappingVersion,
)
from invoicing.batches import BatchSummary, get_invoice_batch
from invoicing.capitals import amount_in_capitals
from invoicing.configuration import InvoicingConfiguration
from invoicing.policy import may_see_invoice, owns_invoice_title
from kernel.errors import NotFound
from kernel.vocabulary import InvoiceStatus
from schema.billing.payment_types import PaymentType
from schema.context import Info
from schema.notifications.types import MessageStatusEnum, NotificationChannelEnum
from schema.invoicing.enums import InvoiceColourEnum, InvoiceKindEnum, InvoiceStatusEnum, TaxTreatmentEnum
from schema.ids import database_id
from schema.nodes import resolve_visible_nodes
from schema.pagination import CountedConnection
from schema.scalars import PartyTypeEnum
from schema.units.types import UnitType

__all__ = [
    "InvoiceBatchSummaryType",
    "InvoiceBatchType",
    "InvoiceBuyerType",
    "InvoiceConnection",
    "InvoiceDeliveryType",
    "InvoiceLineType",
    "InvoiceSellerType",
    "InvoiceTitleType",
    "InvoiceType",
    "InvoicingConfigurationType",
    "InvoicingProfileType",
    "TaxMappingType",
]


@strawberry.type(name="InvoiceBuyer", description="Whom an invoice is made out to (购买方), as printed on it.")
class InvoiceBuyerType:
    kind: PartyTypeEnum = strawberry.field(description="PERSON (a name only) or COMPANY (with its credit code).")
    name: str = strawberry.field(description="名称.")
    tax_code: str | None = strawberry.field(description="统一社会信用代码 of a company.")
    address: str | None = strawberry.field(description="Address, as the company wants it printed.")
    phone: str | None = strawberry.field(description="Telephone, as the company wants it printed.")
    bank_name: str | None = strawberry.field(description="Bank (开户行), as the company wants it printed.")
    bank_account: str | None = strawberry.field(description="Bank account, as the company wants it printed.")


@strawberry.type(name="InvoiceDelivery", description="How an issued invoice is reaching its buyer (e-mail, SMS or the inbox).")
class InvoiceDeliveryType:
    status: MessageStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="QUEUED, SENT, DELIVERED, THROTTLED (held by quiet hours), FAILED, DISABLED_BY_USER or CANCELLED."
    )
    channel: NotificationChannelEnum | None = strawberry.field(description="The channel that took it.")  # type: ignore[valid-type]
    attempts: int = strawberry.field(description="Rounds of channels tried.")
    queued_at: dt.datetime = strawberry.field(description="When it was queued, with the issuing (UTC).")
    sent_at: dt.datetime | None = strawberry.field(description="When a channel took it (UTC).")
    delivered_at: dt.datetime | None = strawberry.field(description="When it was known to have arrived (UTC).")
    last_error: str | None = strawberry.field(description="The last failure, if any (English).")

    @classmethod
    def from_row(cls, row: Message) -> InvoiceDeliveryType:
        return cls(
            status=row.status, channel=row.channel, attempts=row.attempts, queued_at=row.created_at, sent_at=row.sent_at,
            delivered_at=row.delivered_at, last_error=row.last_error,
        )


@strawberry.type(name="InvoiceSeller", description="The seller (销售方) a project's invoices name from a day on.")
class InvoiceSellerType:
    effective_from: dt.date = strawberry.field(description="First day it is in force (until the next version).")
    name: str = strawberry.field(description="名称.")
    tax_code: str = strawberry.field(description="统一社会信用代码.")
    address: str | None = strawberry.field(description="Address.")
    phone: str | None = strawberry.field(description="Telephone.")
    bank_name: str | None = strawberry.field(description="Bank (开户行).")
    bank_account: str | None = strawberry.field(description="Bank account.")

    @classmethod
    def from_row(cls, row: InvoiceSellerVersion) -> InvoiceSellerType:
        return cls(
            effective_from=row.effective_from, name=row.name, tax_code=row.tax_code, address=row.address, phone=row.phone,
            bank_name=row.bank_name, bank_account=row.bank_account,
        )


@strawberry.type(name="TaxMapping", description="How one fee kind is invoiced from a day on.")
class TaxMappingType:
    fee_kind: str = strawberry.field(description="A fee rule's code, or LATE_FEE (滞纳金) or PREPAYMENT (money kept as credit).")
    effective_from: dt.date = strawberry.field(description="First day it is in force (until the next version).")
    category: str = strawberry.field(description="The classification's short name, printed *category*item (e.g. 物业管理服务).")
    item_name: str = strawberry.field(description="The item as printed after the category (e.g. 物业费).")
    classification_code: str = strawberry.field(description="The 19-digit 税收分类编码.")
    rate: Decimal = strawberry.field(description="VAT or levy rate, a decimal (0.06 is 6%).")
    treatment: TaxTreatmentEnum = strawberry.field(description="General, simplified or exempt.")
    unit: str | None = strawberry.field(description="计量单位 printed on the line, if any.")

    @classmethod
    def from_row(cls, row: TaxMappingVersion) -> TaxMappingType:
        return cls(
            fee_kind=row.fee_kind, effective_from=row.effective_from, category=row.category, item_name=row.item_name,
            classification_code=row.classification_code, rate=row.rate, treatment=row.treatment, unit=row.unit,
        )


@strawberry.type(name="InvoicingProfile", description="How a project invoices.")
class InvoicingProfileType:
    auto_issue: bool = strawberry.field(description="True: every payment gets its invoice by itself, moments after it is recorded.")
    provider: str = strawberry.field(description="Who issues: SANDBOX (development only) or the tax platform's service.")
    drawer: str = strawberry.field(description="The drawer (开票人) printed on invoices.")
    public_url: str | None = strawberry.field(description="Where delivered download links start; null: the message points to the owner app.")

    @classmethod
    def from_row(cls, row: InvoicingProfile) -> InvoicingProfileType:
        return cls(auto_issue=row.auto_issue, provider=row.provider, drawer=row.drawer, public_url=row.public_url)


@strawberry.type(name="InvoicingConfiguration", description="A project's tax configuration, every version of it.")
class InvoicingConfigurationType:
    profile: InvoicingProfileType | None = strawberry.field(description="How it invoices; null until set (nothing is issued by itself).")
    sellers: list[InvoiceSellerType] = strawberry.field(description="Every version of the seller, oldest first.")
    tax_mappings: list[TaxMappingType] = strawberry.field(description="Every version of every fee kind's mapping, by fee kind, oldest first.")

    @classmethod
    def from_configuration(cls, configuration: InvoicingConfiguration) -> InvoicingConfigurationType:
        return cls(
            profile=InvoicingProfileType.from_row(configuration.profile) if configuration.profile else None,
            sellers=[InvoiceSellerType.from_row(row) for row in configuration.sellers],
            tax_mappings=[TaxMappingType.from_row(row) for row in configuration.mappings],
        )


@strawberry.type(name="InvoiceLine", description="One item of an invoice: a payment's share of one fee kind, tax included.")
class InvoiceLineType:
    position: int = strawberry.field(description="1, 2, … in the order printed.")
    fee_kind: str = strawberry.field(description="The fee kind it invoices (a rule's code, LATE_FEE or PREPAYMENT).")
    item_name: str = strawberry.field(description="As printed: *category*item (e.g. *物业管理服务*物业费).")
    classification_code: str = strawberry.field(description="税收分类编码.")
    unit: str | None = strawberry.field(description="计量单位.")
    quantity: Decimal = strawberry.field(description="1, or −1 on a red-letter invoice.")
    unit_price: Decimal = strawberry.field(description="Net unit price (tax excluded), yuan.")
    rate: Decimal = strawberry.field(description="VAT or levy rate (0.06 is 6%).")
    treatment: TaxTreatmentEnum = strawberry.field(description="General, simplified or exempt.")
    amount: Decimal = strawberry.field(description="Yuan, tax included (net + tax); negative on a red-letter invoice.")
    net: Decimal = strawberry.field(description="金额: yuan without tax.")
    tax: Decimal = strawberry.field(description="税额: yuan, amount ÷ (1 + rate) × rate to the fen.")
    original_position: int | None = strawberry.field(description="On a red-letter line: the blue invoice's line it takes back.")

    @classmethod
    def from_row(cls, row: InvoiceLine) -> InvoiceLineType:
        return cls(
            position=row.position, fee_kind=row.fee_kind, item_name=f"*{row.category}*{row.item_name}",
            classification_code=row.classification_code, unit=row.unit, quantity=row.quantity, unit_price=row.unit_price,
            rate=row.rate, treatment=row.treatment, amount=row.amount, net=row.net, tax=row.tax,
            original_position=row.original_position,
        )


@strawberry.type(
    name="Invoice",
    description=(
        "An invoice (数电发票): issued once with the tax platform's 20-digit number, never edited; a refund or reversal "
        "is taken back by a red-letter invoice. Owners see their own units' and those made out to them; FINANCE and "
        "ADMIN their project's. Money is a decimal string in yuan."
    ),
)
class InvoiceType(relay.Node):
    id: relay.NodeID[int]
    number: str | None = strawberry.field(description="发票号码: 20 digits, once issued.")
    kind: InvoiceKindEnum = strawberry.field(description="普票 or 专票.")
    colour: InvoiceColourEnum = strawberry.field(description="Blue, or red (taking back part of `corrects`).")
    status: InvoiceStatusEnum = strawberry.field(description="Pending, issued, failed (see failureReason) or cancelled.")
    buyer: InvoiceBuyerType = strawberry.field(description="Whom it is made out to.")
    net_total: Decimal = strawberry.field(description="合计金额: yuan without tax (once issued; red: negative).")
    tax_total: Decimal = strawberry.field(description="合计税额: yuan of tax.")
    gross_total: Decimal = strawberry.field(description="价税合计: netTotal + taxTotal, what was paid.")
    remark: str | None = strawberry.field(description="备注: the unit and the payments, or on a red invoice the blue one's number and why.")
    failure_reason: str | None = strawberry.field(description="Why it is FAILED or CANCELLED (English).")
    requested_at: dt.datetime = strawberry.field(description="When it was asked for (UTC).")
    issued_at: dt.datetime | None = strawberry.field(description="When it was issued (UTC).")
    project_id: strawberry.Private[int]
    unit_id: strawberry.Private[int | None]
    seller_version_id: strawberry.Private[int | None]
    corrects_invoice_id: strawberry.Private[int | None]
    issued: strawberry.Private[bool]

    @classmethod
    def from_row(cls, row: Invoice) -> InvoiceType:
        return cls(
            id=row.id,
            number=row.number,
            kind=row.invoice_type,
            colour=row.colour,
            status=row.status,
            buyer=InvoiceBuyerType(
                kind=row.buyer_kind, name=row.buyer_name, tax_code=row.buyer_tax_code, address=row.buyer_address,
                phone=row.buyer_phone, bank_name=row.buyer_bank_name, bank_account=row.buyer_bank_account,
            ),
            net_total=row.net_total,
            tax_total=row.tax_total,
            gross_total=row.gross_total,
            remark=row.remark,
            failure_reason=row.failure_reason,
            requested_at=row.requested_at,
            issued_at=row.issued_at,
            project_id=row.project_id,
            unit_id=row.unit_id,
            seller_version_id=row.seller_version_id,
            corrects_invoice_id=row.corrects_invoice_id,
            issued=row.status is InvoiceStatus.ISSUED,
        )

    @strawberry.field(description="价税合计(大写): the total in Chinese capitals, once issued.")
    def gross_in_capitals(self) -> str | None:
        return amount_in_capitals(self.gross_total) if self.issued else None

    @strawberry.field(description="Its delivery to the buyer once issued; null when none was queued (no party to reach, not issued).")
    async def delivery(self, info: Info) -> InvoiceDeliveryType | None:
        row = await info.context.loaders.invoicing.delivery.load(self.id)
        return InvoiceDeliveryType.from_row(row) if row is not None else None

    @strawberry.field(description="Its items, once issued (a red-letter invoice's from when it was made).")
    async def lines(self, info: Info) -> list[InvoiceLineType]:
        return [InvoiceLineType.from_row(row) for row in await info.context.loaders.invoicing.lines_by_invoice.load(self.id)]

    @strawberry.field(description="The seller it names, once issued.")
    async def seller(self, info: Info) -> InvoiceSellerType | None:
        if self.seller_version_id is None:
            return None
        return InvoiceSellerType.from_row(await info.context.loaders.invoicing.seller.load(self.seller_version_id))

    @strawberry.field(description="The unit it is for (null when it covers several).")
    async def unit(self, info: Info) -> UnitType | None:
        return UnitType.from_row(await info.context.loaders.unit.load(self.unit_id)) if self.unit_id is not None else None

    @strawberry.field(description="The payments it invoices (of a red-letter invoice: the one given back), those you may see.")
    async def payments(self, info: Info) -> list[PaymentType]:
        loaders = info.context.loaders
        if self.corrects_invoice_id is None:
            payment_ids = [link.payment_id for link in await loaders.invoicing.payments_by_invoice.load(self.id)]
        else:
            payment_ids = sorted({line.payment_id for line in await loaders.invoicing.lines_by_invoice.load(self.id)})
        principal = await info.context.principal()
        rows = [row for row in await loaders.billing.payment.load_many(payment_ids) if row is not None]
        return [
            PaymentType.from_row(row)
            for row in rows
            if principal is not None and may_see_unit_billing(principal, project_id=row.project_id, unit_id=row.unit_id)
        ]

    @strawberry.field(description="On a red-letter invoice: the blue invoice it takes back.")
    async def corrects(self, info: Info) -> InvoiceType | None:
        if self.corrects_invoice_id is None:
            return None
        return InvoiceType.from_row(await info.context.loaders.invoicing.invoice.load(self.corrects_invoice_id))

    @strawberry.field(description="On a blue invoice: the red-letter invoices that take back part of it, oldest first.")
    async def corrections(self, info: Info) -> list[InvoiceType]:
        return [InvoiceType.from_row(row) for row in await info.context.loaders.invoicing.corrections_by_invoice.load(self.id)]

    @strawberry.field(description="Where its PDF is served once issued (send the same bearer token).")
    def pdf_url(self) -> str | None:
        return f"/invoices/{self.id}.pdf" if self.issued else None

    @strawberry.field(description="Where its EInvoice XML, exactly as issued, is served once issued (send the same bearer token).")
    def xml_url(self) -> str | None:
        return f"/invoices/{self.id}.xml" if self.issued else None

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[InvoiceType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.invoicing.invoice,
            lambda principal, row: may_see_invoice(principal, project_id=row.project_id, unit_id=row.unit_id, party_id=row.party_id),
            cls.from_row,
        )


@strawberry.type(name="InvoiceConnection", description="A page of invoices, newest first.")
class InvoiceConnection(CountedConnection[InvoiceType]):
    pass


@strawberry.type(name="InvoiceTitle", description="An invoice title (发票抬头) an owner keeps: whom their invoices are made out to.")
class InvoiceTitleType(relay.Node):
    id: relay.NodeID[int]
    kind: PartyTypeEnum = strawberry.field(description="PERSON (a name only) or COMPANY (with its credit code).")
    name: str = strawberry.field(description="名称.")
    tax_code: str | None = strawberry.field(description="统一社会信用代码 of a company.")
    address: str | None = strawberry.field(description="Address to print (companies).")
    phone: str | None = strawberry.field(description="Telephone to print (companies).")
    bank_name: str | None = strawberry.field(description="Bank (开户行) to print (companies).")
    bank_account: str | None = strawberry.field(description="Bank account to print (companies).")
    is_default: bool = strawberry.field(description="The title invoices are made out to when none is chosen.")

    @classmethod
    def from_row(cls, row: InvoiceTitle) -> InvoiceTitleType:
        return cls(
            id=row.id, kind=row.kind, name=row.name, tax_code=row.tax_code, address=row.address, phone=row.phone,
            bank_name=row.bank_name, bank_account=row.bank_account, is_default=row.is_default,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[InvoiceTitleType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.invoicing.title,
            lambda principal, row: owns_invoice_title(principal, party_id=row.party_id),
            cls.from_row,
        )



@strawberry.type(name="InvoiceBatchSummary", description="A batch's invoices counted by status.")
class InvoiceBatchSummaryType:
    total: int = strawberry.field(description="Invoices the batch requested.")
    pending: int = strawberry.field(description="Not issued yet: the worker issues them in its next rounds.")
    issued: int = strawberry.field(description="Issued.")
    failed: int = strawberry.field(description="Not issued, each with its failureReason; asking for one again retries it.")
    cancelled: int = strawberry.field(description="Never issued: their payments were reversed first.")
    issued_amount: Decimal = strawberry.field(description="价税合计 of the issued ones, yuan.")


@strawberry.type(
    name="InvoiceBatch",
    description="One run of batch issuing: an invoice per party for a month's payments not invoiced yet, issued in the background.",
)
class InvoiceBatchType(relay.Node):
    id: relay.NodeID[int]
    period: str = strawberry.field(description="The month, e.g. 2026-11 (the project's time zone).")
    kind: InvoiceKindEnum = strawberry.field(description="普票 or 专票.")
    skipped_payments: int = strawberry.field(description="Payments left out: of no known party, or of a party the kind cannot go to.")
    skipped_reason: str | None = strawberry.field(description="Why they were left out (English).")
    created_at: dt.datetime = strawberry.field(description="When it was run (UTC).")
    summary: InvoiceBatchSummaryType = strawberry.field(description="Its invoices by status, as of this answer.")
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: InvoiceBatch, summary: BatchSummary) -> InvoiceBatchType:
        return cls(
            id=row.id,
            period=row.period,
            kind=row.invoice_type,
            skipped_payments=row.skipped_payments,
            skipped_reason=row.skipped_reason,
            created_at=row.created_at,
            summary=InvoiceBatchSummaryType(
                total=summary.total, pending=summary.pending, issued=summary.issued, failed=summary.failed,
                cancelled=summary.cancelled, issued_amount=summary.issued_amount,
            ),
            project_id=row.project_id,
        )

    @classmethod
    async def resolve_nodes(cls, *, info: Info, node_ids: Iterable[str], required: bool = False) -> list[InvoiceBatchType | None]:
        principal = await info.context.principal()
        result: list[InvoiceBatchType | None] = []
        for node_id in node_ids:
            batch_id = database_id(node_id)
            found = None
            if batch_id is not None and principal is not None:
                try:
                    found = cls.from_row(*await get_invoice_batch(info.context.session_factory, principal, batch_id=batch_id))
                except NotFound:
                    found = None
            result.append(found)
        return result
