"""GraphQL types of money received: payments and their allocations, refunds, receipts, online orders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from billing import balance
from billing.policy import may_see_unit_billing
from billing.receipts import receipt_number
from db.models import (
    Payment,
    PaymentAllocation,
    PaymentIntent,
    PaymentReversal,
    Receipt,
)
from schema.billing.bill_types import BillType
from schema.billing.common import nodes_of_unit_billing
from schema.billing.enums import (
    AllocationSourceEnum,
    PaymentChannelEnum,
    PaymentIntentStatusEnum,
    ReversalKindEnum,
)
from schema.batching import answer, prime_joined, read_into, read_value
from schema.context import Info
from schema.ids import database_id
from schema.pagination import selected_under
from schema.units.types import UnitType

if TYPE_CHECKING:
    from schema.invoicing.types import InvoiceType

__all__ = ["AllocationType", "PaymentIntentType", "PaymentType", "ReceiptType", "RefundType"]


async def _allocations_with_bills(info: Info, payment_ids: list[int]) -> None:
    """The page's allocations with their bills, read by one statement into the allocations' and the
    bills' loaders."""
    loaders = info.context.loaders.billing
    await read_into(loaders.allocations_with_bills_by_payment, payment_ids)
    allocations = {payment_id: read_value(loaders.allocations_with_bills_by_payment, payment_id) for payment_id in payment_ids}
    loaders.allocations_by_payment.prime_many(allocations)
    prime_joined(loaders.bill, (row for rows in allocations.values() for row in rows), "bill")


@strawberry.type(name="Allocation", description="Part of a payment settling one bill: late fee first, then principal.")
class AllocationType:
    principal: Decimal = strawberry.field(description="Yuan towards the bill's lines.")
    late_fee: Decimal = strawberry.field(description="Yuan towards its late fee.")
    source: AllocationSourceEnum = strawberry.field(description="Where the money came from.")
    created_at: dt.datetime = strawberry.field(description="When (UTC).")
    bill_id: strawberry.Private[int]
    payment_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: PaymentAllocation) -> AllocationType:
        return cls(
            principal=row.principal,
            late_fee=row.late_fee,
            source=row.source,
            created_at=row.created_at,
            bill_id=row.bill_id,
            payment_id=row.payment_id,
        )

    @strawberry.field(description="principal + lateFee, yuan.")
    def amount(self) -> Decimal:
        return self.principal + self.late_fee

    @strawberry.field(description="The bill.")
    def bill(self, info: Info) -> BillType:
        return answer(info.context.loaders.billing.bill, self.bill_id, BillType.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The payment.")
    async def payment(self, info: Info) -> PaymentType:
        return PaymentType.from_row(await info.context.loaders.billing.payment.load(self.payment_id))


@strawberry.type(name="Refund", description="Money given back: unallocated credit refunded, or a whole payment reversed.")
class RefundType:
    kind: ReversalKindEnum = strawberry.field(description="Refund of credit, or reversal of the whole payment.")
    amount: Decimal = strawberry.field(description="Yuan given back.")
    reason: str = strawberry.field(description="Why.")
    created_at: dt.datetime = strawberry.field(description="When (UTC).")

    @classmethod
    def from_row(cls, row: PaymentReversal) -> RefundType:
        return cls(kind=row.kind, amount=row.amount, reason=row.reason, created_at=row.created_at)


@strawberry.type(
    name="Payment",
    description=(
        "Money received for a unit. Owners see their units' payments; FINANCE and ADMIN their project's. Money is a "
        "decimal string in yuan."
    ),
)
class PaymentType(relay.Node):
    id: relay.NodeID[int]
    channel: PaymentChannelEnum = strawberry.field(description="How it came in.")
    external_reference: str | None = strawberry.field(
        description="The channel's reference (bank or gateway transaction number)."
    )
    payer_name: str = strawberry.field(description="Who paid.")
    amount: Decimal = strawberry.field(description="Yuan received.")
    paid_at: dt.datetime = strawberry.field(description="When it was paid (UTC).")
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Payment) -> PaymentType:
        return cls(
            id=row.id,
            channel=row.channel,
            external_reference=row.external_reference,
            payer_name=row.payer_name,
            amount=row.amount,
            paid_at=row.paid_at,
            unit_id=row.unit_id,
            project_id=row.project_id,
        )

    @staticmethod
    async def read_for_page(info: Info, rows: Sequence[Payment], selected: Mapping[str, Any]) -> None:
        """Read what the `selected` fields (`selected_on_nodes`) need for a whole page of payments at once
        (the statements the fields would run anyway), so that each field then answers without waiting.
        The receipts came with the payments, and the units too when they were asked for
        (`list_payments(with_units=…)`)."""
        loaders = info.context.loaders
        loaders.billing.receipts_by_payment.prime_many(
            {payment.id: [payment.receipt] if payment.receipt else [] for payment in rows}
        )
        ids = [payment.id for payment in rows]
        reads: list[Awaitable[Any]] = []
        if "unit" in selected:
            prime_joined(loaders.unit, rows, "unit")
            reads.append(read_into(loaders.unit, sorted({payment.unit_id for payment in rows})))
        if "refunds" in selected or "creditLeft" in selected:
            reads.append(read_into(loaders.billing.reversals_by_payment, ids))
        if "allocations" in selected or "creditLeft" in selected:
            if "bill" in selected_under(selected.get("allocations", [])):
                reads.append(_allocations_with_bills(info, ids))
            else:
                reads.append(read_into(loaders.billing.allocations_by_payment, ids))
        await asyncio.gather(*reads)

    @strawberry.field(description="The unit it was for.")
    def unit(self, info: Info) -> UnitType:
        return answer(info.context.loaders.unit, self.unit_id, UnitType.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The bills it settled.")
    def allocations(self, info: Info) -> list[AllocationType]:
        return answer(  # type: ignore[return-value]
            info.context.loaders.billing.allocations_by_payment,
            self.id,
            lambda rows: [AllocationType.from_row(row) for row in rows],
        )

    @strawberry.field(description="Money given back from it.")
    def refunds(self, info: Info) -> list[RefundType]:
        return answer(  # type: ignore[return-value]
            info.context.loaders.billing.reversals_by_payment,
            self.id,
            lambda rows: [RefundType.from_row(row) for row in rows],
        )

    @strawberry.field(description="What no bill has taken and nothing gave back: the unit's prepaid credit from it.")
    def credit_left(self, info: Info) -> Decimal:
        loaders = info.context.loaders.billing

        def left(allocations: Sequence[PaymentAllocation], refunds: Sequence[PaymentReversal]) -> Decimal:
            return balance.credit_left(
                amount=self.amount,
                allocated=sum((a.principal + a.late_fee for a in allocations), Decimal("0.00")),
                given_back=sum((r.amount for r in refunds), Decimal("0.00")),
            )

        return answer(  # type: ignore[return-value]
            loaders.allocations_by_payment,
            self.id,
            lambda allocations: answer(loaders.reversals_by_payment, self.id, lambda refunds: left(allocations, refunds)),
        )

    @strawberry.field(description="Its invoice (发票), once one was asked for or issued by itself; null if none or not yours to see.")
    async def invoice(self, info: Info) -> Annotated[InvoiceType, strawberry.lazy("schema.invoicing.types")] | None:
        # Imported on use: invoicing's types import this module (an invoice names its payments).
        from schema.invoicing.types import InvoiceType

        links = await info.context.loaders.invoicing.invoices_by_payment.load(self.id)
        if not links:
            return None
        (invoice,) = await InvoiceType.resolve_nodes(info=info, node_ids=[str(links[0].invoice_id)])
        return invoice

    @strawberry.field(description="Its receipt.")
    def receipt(self, info: Info) -> ReceiptType | None:
        return answer(  # type: ignore[return-value]
            info.context.loaders.billing.receipts_by_payment,
            self.id,
            lambda rows: ReceiptType.from_row(rows[0]) if rows else None,
        )

    resolve_nodes = nodes_of_unit_billing(lambda info: info.context.loaders.billing.payment)


@strawberry.type(name="Receipt", description="A payment's receipt, signed with Ed25519 over its canonical content.")
class ReceiptType(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Per-project sequential number, e.g. R-000042.")
    content: str = strawberry.field(description="The canonical JSON the signature covers.")
    signature: str = strawberry.field(description="Base64 Ed25519 signature of `content`.")
    issued_at: dt.datetime = strawberry.field(description="When it was issued (UTC).")
    payment_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Receipt) -> ReceiptType:
        return cls(
            id=row.id,
            number=receipt_number(row.number),
            content=row.content,
            signature=row.signature,
            issued_at=row.issued_at,
            payment_id=row.payment_id,
            project_id=row.project_id,
        )

    @strawberry.field(description="Where the printable receipt is served (send the same bearer token).")
    def pdf_url(self) -> str:
        return f"/receipts/{self.id}.pdf"

    @strawberry.field(description="The payment.")
    async def payment(self, info: Info) -> PaymentType:
        return PaymentType.from_row(await info.context.loaders.billing.payment.load(self.payment_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ReceiptType | None]:
        principal = await info.context.principal()
        ids = [pk for pk in map(database_id, node_ids) if pk is not None]
        receipts = {r.id: r for r in await info.context.loaders.billing.receipt.load_many(ids) if r is not None}
        payments = {
            p.id: p
            for p in await info.context.loaders.billing.payment.load_many([r.payment_id for r in receipts.values()])
            if p is not None
        }
        result: list[ReceiptType | None] = []
        for node_id in node_ids:
            pk = database_id(node_id)
            receipt = receipts.get(pk) if pk is not None else None
            payment = payments.get(receipt.payment_id) if receipt is not None else None
            visible = (
                receipt is not None
                and payment is not None
                and principal is not None
                and may_see_unit_billing(principal, project_id=payment.project_id, unit_id=payment.unit_id)
            )
            result.append(cls.from_row(receipt) if visible and receipt is not None else None)
        return result


@strawberry.type(name="PaymentIntent", description="An online order for a gateway: what to collect and how.")
class PaymentIntentType(relay.Node):
    id: relay.NodeID[int]
    out_trade_no: str = strawberry.field(description="Our order number, as the gateway knows it.")
    provider: str = strawberry.field(description="The gateway.")
    channel: PaymentChannelEnum = strawberry.field(description="WECHAT or ALIPAY.")
    amount: Decimal = strawberry.field(description="Yuan to collect (decimal string).")
    amount_fen: int = strawberry.field(description="The same amount in fen (1 yuan = 100 fen), as gateways want it.")
    status: PaymentIntentStatusEnum = strawberry.field(description="Pending or paid.")
    expires_at: dt.datetime = strawberry.field(
        description="The order expires then (UTC); a notification after it is refused."
    )
    payload: strawberry.scalars.JSON = strawberry.field(
        description="What a front end turns into a QR code or redirect (gateway-specific)."
    )
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]
    payment_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: PaymentIntent, payload: dict[str, Any] | None = None) -> PaymentIntentType:
        return cls(
            id=row.id,
            out_trade_no=row.out_trade_no,
            provider=row.provider,
            channel=row.channel,
            amount=row.amount,
            amount_fen=int(row.amount.scaleb(2)),
            status=row.status,
            expires_at=row.expires_at,
            payload=payload or {},
            unit_id=row.unit_id,
            project_id=row.project_id,
            payment_id=row.payment_id,
        )

    @strawberry.field(description="The payment, once the gateway confirmed it.")
    async def payment(self, info: Info) -> PaymentType | None:
        if self.payment_id is None:
            return None
        return PaymentType.from_row(await info.context.loaders.billing.payment.load(self.payment_id))

    resolve_nodes = nodes_of_unit_billing(lambda info: info.context.loaders.billing.payment_intent)
