"""GraphQL types of money received: payments and their allocations, refunds, receipts, online orders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry import relay

from billing import balance
from billing.credit import allocated_and_given_back
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
from schema.batching import answer, read_into, read_value
from schema.context import Info
from schema.ids import database_id
from schema.pagination import selected_under
from schema.units.types import UnitType

if TYPE_CHECKING:
    from schema.invoicing.types import InvoiceType

T = TypeVar("T")

__all__ = ["AllocationType", "PaymentIntentType", "PaymentType", "ReceiptType", "RefundType"]


@strawberry.type(name="Allocation", description="Part of a payment settling one bill: late fee first, then principal.")
class AllocationType:
    principal: Decimal = strawberry.field(description="Yuan towards the bill's lines.")
    late_fee: Decimal = strawberry.field(description="Yuan towards its late fee.")
    source: AllocationSourceEnum = strawberry.field(description="Where the money came from.")
    created_at: dt.datetime = strawberry.field(description="When (UTC).")
    bill_id: strawberry.Private[int]
    payment_id: strawberry.Private[int]
    # The bill as the page of payments read it with the allocation (`PaymentType.read_for_page`); None
    # elsewhere, where the field answers through the bill loader.
    bill_on_page: strawberry.Private[BillType | None] = None

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
        if self.bill_on_page is not None:
            return self.bill_on_page
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
    # What the page the payment came in read for the fields it selects (`read_for_page`), made ready in
    # one pass over the page; None elsewhere (a payment a mutation or a node look-up answers), where the
    # field answers through the operation's loaders.
    unit_on_page: strawberry.Private[UnitType | None] = None
    allocations_on_page: strawberry.Private[list[AllocationType] | None] = None
    credit_left_on_page: strawberry.Private[Decimal | None] = None
    # The receipt the page read with the payment as the receipts loader holds it: a list of one, or empty.
    receipts_on_page: strawberry.Private[list[ReceiptType] | None] = None

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
    async def read_for_page(
        info: Info, rows: Sequence[Payment], selected: Mapping[str, Any]
    ) -> Callable[[Payment], PaymentType]:
        """Read what the `selected` fields (`selected_on_nodes`) need for a whole page of payments at once
        (the statements the fields would run anyway), and answer how a row of the page is presented: as a
        `PaymentType` holding those fields' values, so that each field answers with an attribute read.
        The receipts came with the payments, and the units too when they were asked for
        (`list_payments(with_units=…)`); every row joined to a payment is the payment's own, which the
        caller may see with it."""
        ids = [payment.id for payment in rows]
        bill_selected = selected_under(selected.get("allocations", [])).get("bill")
        with_bills = bill_selected is not None
        if "creditLeft" in selected and "refunds" not in selected:
            # What was given back comes with the allocations: one statement instead of two. A bill shown
            # by its period is read no further.
            money = await allocated_and_given_back(
                info.context.session_factory, ids, with_bills=with_bills,
                bill_labels_only=with_bills and selected_under(bill_selected or []).keys() <= _BILL_LABEL_FIELDS,
            )
            allocations, credit_left = money.allocations.__getitem__, money.credit_left_of
        else:
            allocations, credit_left = await _read_into_loaders(info, ids, selected, with_bills=with_bills)
        return _PaymentPage(
            selected, allocations=allocations if "allocations" in selected else None, with_bills=with_bills, credit_left=credit_left
        ).present

    @strawberry.field(description="The unit it was for.")
    def unit(self, info: Info) -> UnitType:
        if self.unit_on_page is not None:
            return self.unit_on_page
        return answer(info.context.loaders.unit, self.unit_id, UnitType.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The bills it settled.")
    def allocations(self, info: Info) -> list[AllocationType]:
        if self.allocations_on_page is not None:
            return self.allocations_on_page
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
        if self.credit_left_on_page is not None:
            return self.credit_left_on_page
        loaders = info.context.loaders.billing
        return answer(  # type: ignore[return-value]
            loaders.allocations_by_payment,
            self.id,
            lambda allocations: answer(
                loaders.reversals_by_payment, self.id, lambda refunds: _credit_left(self.amount, allocations, refunds)
            ),
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
        receipts = self.receipts_on_page
        if receipts is None:
            return answer(  # type: ignore[return-value]
                info.context.loaders.billing.receipts_by_payment, self.id, _first_receipt
            )
        return receipts[0] if receipts else None

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


_ZERO = Decimal("0.00")


def _credit_left(amount: Decimal, allocations: Iterable[PaymentAllocation], refunds: Iterable[PaymentReversal]) -> Decimal:
    return balance.credit_left(
        amount=amount,
        allocated=sum((a.principal + a.late_fee for a in allocations), _ZERO),
        given_back=sum((r.amount for r in refunds), _ZERO),
    )


async def _read_into_loaders(
    info: Info, ids: list[int], selected: Mapping[str, Any], *, with_bills: bool
) -> tuple[Callable[[int], list[PaymentAllocation]], Callable[[Payment], Decimal] | None]:
    """Read the allocations (with their bills when `with_bills`) and the refunds of the payments `ids`
    into their loaders, each when a `selected` field wants it; answer each payment's allocations, and its
    credit left when it is selected, from what was read."""
    loaders = info.context.loaders.billing
    allocation_loader = loaders.allocations_with_bills_by_payment if with_bills else loaders.allocations_by_payment
    reversals = loaders.reversals_by_payment
    reads = []
    if "allocations" in selected or "creditLeft" in selected:
        reads.append(read_into(allocation_loader, ids))
    if "refunds" in selected or "creditLeft" in selected:
        reads.append(read_into(reversals, ids))
    await asyncio.gather(*reads)
    allocations = partial(read_value, allocation_loader)
    if "creditLeft" not in selected:
        return allocations, None

    def credit_left(row: Payment) -> Decimal:
        return _credit_left(row.amount, allocations(row.id), read_value(reversals, row.id))

    return allocations, credit_left


# The fields of a bill that `allocated_and_given_back(bill_labels_only=True)` reads enough for.
_BILL_LABEL_FIELDS = frozenset({"__typename", "id", "period", "periodStart", "periodEnd"})


def _first_receipt(rows: Sequence[Receipt]) -> ReceiptType | None:
    return ReceiptType.from_row(rows[0]) if rows else None


class _PaymentPage:
    """How a page of payments presents each of its rows: a `PaymentType` holding the values of the fields
    the page selects, made from what `PaymentType.read_for_page` read, in one pass per row. A unit or a
    bill that several payments of the page name is made once."""

    def __init__(
        self,
        selected: Mapping[str, Any],
        *,
        allocations: Callable[[int], list[PaymentAllocation]] | None,
        with_bills: bool,
        credit_left: Callable[[Payment], Decimal] | None,
    ) -> None:
        self.units: dict[int, UnitType] | None = {} if "unit" in selected else None
        self.receipts = "receipt" in selected
        # Each payment's allocation rows, when the page shows them.
        self.allocations = allocations
        # Each of the allocations' bills, when they were read with them.
        self.bills: dict[int, BillType] | None = {} if with_bills else None
        self.credit_left = credit_left

    def present(self, row: Payment) -> PaymentType:
        # The rows are plain rows (`list_payments`', the allocations' and their bills'): their joined rows
        # are fields of theirs.
        payment = PaymentType.from_row(row)
        if self.units is not None and (unit_row := row.unit) is not None:
            payment.unit_on_page = _made_once(self.units, unit_row, UnitType.from_row)
        if self.receipts:
            receipt_row = row.receipt
            payment.receipts_on_page = [ReceiptType.from_row(receipt_row)] if receipt_row is not None else []
        if self.allocations is not None:
            payment.allocations_on_page = [self._allocation(allocation) for allocation in self.allocations(row.id)]
        if self.credit_left is not None:
            payment.credit_left_on_page = self.credit_left(row)
        return payment

    def _allocation(self, row: PaymentAllocation) -> AllocationType:
        allocation = AllocationType.from_row(row)
        if self.bills is not None and (bill_row := row.bill) is not None:
            allocation.bill_on_page = _made_once(self.bills, bill_row, BillType.from_row)
        return allocation


def _made_once(made: dict[int, T], row: Any, make: Callable[[Any], T]) -> T:
    """What `make` makes of `row`, made once for all the page's rows that name it (kept in `made` by id)."""
    found = made.get(row.id)
    if found is None:
        found = made[row.id] = make(row)
    return found


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
