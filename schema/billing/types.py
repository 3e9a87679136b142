"""GraphQL types of billing: rules, readings, runs, bills, payments, receipts, statements, the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from billing import balance
from billing import model as engine
from billing.payments import accrued_late_fee_for
from billing.policy import may_manage_charges, may_see_unit_billing
from billing.queries import run_summary
from billing.receipts import receipt_number
from billing.rule_admin import Policies, definition_of
from db.models import (
    AdjustmentKind,
    AllocationSource,
    Bill,
    BillRun,
    BillStatus,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    MeterReading,
    Payment,
    PaymentAllocation,
    PaymentChannel,
    PaymentIntent,
    PaymentIntentStatus,
    PaymentReversal,
    Receipt,
    ReversalKind,
    Waiver,
)
from kernel.vocabulary import BillLineKind, FeeRuleKind
from schema.context import Info
from schema.nodes import resolve_visible_nodes
from schema.scalars import PartyTypeEnum, UnitKindEnum
from schema.units.types import BuildingType, PartyType, ProjectType, UnitType

__all__ = [
    "AdjustmentKindEnum",
    "AdjustmentType",
    "AllocationType",
    "ApportionBasisEnum",
    "BillLineKindEnum",
    "BillLineType",
    "BillRunType",
    "BillStatusEnum",
    "BillType",
    "BillingPolicyType",
    "DiscountRuleType",
    "FeeRuleKindEnum",
    "FeeRuleType",
    "FeeRuleVersionType",
    "MeterReadingType",
    "PaymentChannelEnum",
    "PaymentIntentType",
    "PaymentType",
    "ReceiptType",
    "RefundType",
    "RuleScopeType",
    "TierPeriodEnum",
    "TierType",
    "WaiverType",
]

FeeRuleKindEnum = strawberry.enum(FeeRuleKind, name="FeeRuleKind")
TierPeriodEnum = strawberry.enum(engine.TierPeriod, name="TierPeriod")
ApportionBasisEnum = strawberry.enum(engine.ApportionBasis, name="ApportionBasis")
BillStatusEnum = strawberry.enum(BillStatus, name="BillStatus")
BillLineKindEnum = strawberry.enum(BillLineKind, name="BillLineKind")
PaymentChannelEnum = strawberry.enum(PaymentChannel, name="PaymentChannel")
AdjustmentKindEnum = strawberry.enum(AdjustmentKind, name="AdjustmentKind")
AllocationSourceEnum = strawberry.enum(AllocationSource, name="AllocationSource")
ReversalKindEnum = strawberry.enum(ReversalKind, name="ReversalKind")
PaymentIntentStatusEnum = strawberry.enum(PaymentIntentStatus, name="PaymentIntentStatus")


def _gid(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(type_name, str(pk))))


async def _unit(info: Info, unit_id: int) -> UnitType:
    return UnitType.from_row(await info.context.loaders.unit.load(unit_id))


# --- rules ----------------------------------------------------------------------------------------


@strawberry.type(name="Tier")
class TierType:
    starts_at: Decimal
    up_to: Decimal | None
    unit_price: Decimal


@strawberry.type(name="RuleScope", description="Empty lists admit every unit; set lists must all match.")
class RuleScopeType:
    unit_kinds: list[UnitKindEnum]
    building_ids: list[strawberry.ID]
    unit_ids: list[strawberry.ID]


@strawberry.type(name="FeeRuleVersion")
class FeeRuleVersionType:
    version: int
    name: str
    effective_from: dt.date
    effective_to: dt.date | None
    scope: RuleScopeType
    rate_per_square_metre: Decimal | None
    amount_per_cycle: Decimal | None
    meter_type: str | None
    tiers: list[TierType]
    tier_period: TierPeriodEnum | None
    apportion_total: Decimal | None
    apportion_basis: ApportionBasisEnum | None
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: FeeRuleVersion) -> FeeRuleVersionType:
        definition = definition_of(row)
        scope = definition.scope
        return cls(
            version=row.version,
            name=row.name,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            scope=RuleScopeType(
                unit_kinds=list(scope.unit_kinds),
                building_ids=[_gid("Building", pk) for pk in scope.building_ids],
                unit_ids=[_gid("Unit", pk) for pk in scope.unit_ids],
            ),
            rate_per_square_metre=definition.rate_per_square_metre,
            amount_per_cycle=definition.amount_per_cycle,
            meter_type=definition.meter_type,
            tiers=[TierType(starts_at=t.starts_at, up_to=t.up_to, unit_price=t.unit_price) for t in definition.tiers],
            tier_period=definition.tier_period,
            apportion_total=definition.apportion_total,
            apportion_basis=definition.apportion_basis,
            created_at=row.created_at,
        )


@strawberry.type(name="FeeRule", description="A fee rule and its effective-dated versions, oldest first.")
class FeeRuleType(relay.Node):
    id: relay.NodeID[int]
    code: str
    kind: FeeRuleKindEnum
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: FeeRule) -> FeeRuleType:
        return cls(id=row.id, code=row.code, kind=row.kind, project_id=row.project_id)

    @strawberry.field
    async def versions(self, info: Info) -> list[FeeRuleVersionType]:
        rows = await info.context.loaders.billing.versions_by_rule.load(self.id)
        return [FeeRuleVersionType.from_row(row) for row in rows]

    @strawberry.field(description="The newest version.")
    async def current(self, info: Info) -> FeeRuleVersionType:
        rows = await info.context.loaders.billing.versions_by_rule.load(self.id)
        return FeeRuleVersionType.from_row(rows[-1])

    @strawberry.field(description="The last day the rule charges for, when it has been retired.")
    async def ends_on(self, info: Info) -> dt.date | None:
        rows = await info.context.loaders.billing.versions_by_rule.load(self.id)
        return rows[-1].effective_to

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[FeeRuleType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.fee_rule,
            lambda p, row: may_manage_charges(p, project_id=row.project_id),
            cls.from_row,
        )


@strawberry.type(name="DiscountRule")
class DiscountRuleType(relay.Node):
    id: relay.NodeID[int]
    name: str
    percent: Decimal
    rule_codes: list[str]
    vacant_only: bool
    party_type: PartyTypeEnum | None
    effective_from: dt.date | None
    effective_to: dt.date | None

    @classmethod
    def from_row(cls, row: DiscountRule) -> DiscountRuleType:
        return cls(
            id=row.id,
            name=row.name,
            percent=row.percent,
            rule_codes=list(row.rule_codes),
            vacant_only=row.vacant_only,
            party_type=row.party_type,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[DiscountRuleType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.discount_rule,
            lambda p, row: may_manage_charges(p, project_id=row.project_id),
            cls.from_row,
        )


@strawberry.type(name="Waiver")
class WaiverType(relay.Node):
    id: relay.NodeID[int]
    rule_code: str
    period: str
    amount: Decimal | None = strawberry.field(description="Empty: the charge is waived in full.")
    reason: str
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Waiver) -> WaiverType:
        return cls(
            id=row.id,
            rule_code=row.rule_code,
            period=row.period,
            amount=row.amount,
            reason=row.reason,
            unit_id=row.unit_id,
            project_id=row.project_id,
        )

    @strawberry.field
    async def unit(self, info: Info) -> UnitType:
        return await _unit(info, self.unit_id)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[WaiverType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.waiver,
            lambda p, row: may_manage_charges(p, project_id=row.project_id),
            cls.from_row,
        )


@strawberry.type(name="BillingPolicy")
class BillingPolicyType:
    due_days: int
    cycle_months: int
    late_fee_daily_rate: Decimal
    late_fee_grace_days: int
    late_fee_cap_ratio: Decimal | None

    @classmethod
    def from_policies(cls, policies: Policies) -> BillingPolicyType:
        return cls(
            due_days=policies.due_days,
            cycle_months=policies.cycle_months,
            late_fee_daily_rate=policies.late_fee.daily_rate,
            late_fee_grace_days=policies.late_fee.grace_days,
            late_fee_cap_ratio=policies.late_fee.cap_ratio,
        )


# --- readings -------------------------------------------------------------------------------------


@strawberry.type(name="MeterReading")
class MeterReadingType(relay.Node):
    id: relay.NodeID[int]
    meter_type: str
    reading: Decimal
    read_at: dt.datetime
    usage: Decimal = strawberry.field(description="This reading minus the previous one (0 for a meter's first).")
    is_replacement: bool
    replacement_start_value: Decimal | None
    flagged_for_review: bool = strawberry.field(description="Usage above three times the trailing average.")
    trailing_average: Decimal | None
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: MeterReading) -> MeterReadingType:
        return cls(
            id=row.id,
            meter_type=row.meter_type,
            reading=row.reading,
            read_at=row.read_at,
            usage=row.usage,
            is_replacement=row.is_replacement,
            replacement_start_value=row.replacement_start_value,
            flagged_for_review=row.flagged_for_review,
            trailing_average=row.trailing_average,
            unit_id=row.unit_id,
            project_id=row.project_id,
        )

    @strawberry.field
    async def unit(self, info: Info) -> UnitType:
        return await _unit(info, self.unit_id)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MeterReadingType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.meter_reading,
            lambda p, row: may_manage_charges(p, project_id=row.project_id),
            cls.from_row,
        )


# --- runs and bills -------------------------------------------------------------------------------


@strawberry.type(name="BillRun")
class BillRunType(relay.Node):
    id: relay.NodeID[int]
    period: str
    period_start: dt.date
    period_end: dt.date
    bill_count: int
    total_amount: Decimal
    times_run: int
    last_run_bill_count: int = strawberry.field(description="Bills the latest invocation created (0 when it found nothing new).")
    created_at: dt.datetime
    last_run_at: dt.datetime | None
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: BillRun) -> BillRunType:
        return cls(
            id=row.id,
            period=row.period,
            period_start=row.period_start,
            period_end=row.period_end,
            bill_count=row.bill_count,
            total_amount=row.total_amount,
            times_run=row.times_run,
            last_run_bill_count=row.last_run_bill_count,
            created_at=row.created_at,
            last_run_at=row.last_run_at,
            project_id=row.project_id,
        )

    @strawberry.field
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))

    @strawberry.field(description="Bills of the run per status, with what they ask for and what was paid.")
    async def summary(self, info: Info) -> BillRunSummaryType:
        async with info.context.session_factory() as session:
            summary = await run_summary(session, self.id, today=info.context.now().date())
        return BillRunSummaryType(**summary)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[BillRunType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.bill_run,
            lambda p, row: may_manage_charges(p, project_id=row.project_id),
            cls.from_row,
        )


@strawberry.type(name="BillRunSummary")
class BillRunSummaryType:
    open_count: int
    partially_paid_count: int
    paid_count: int
    overdue_count: int
    amount_billed: Decimal
    amount_paid: Decimal
    amount_outstanding: Decimal


@strawberry.type(name="BillLine")
class BillLineType:
    position: int
    rule_code: str
    kind: BillLineKindEnum
    description: str
    quantity: Decimal
    unit_price: Decimal | None = strawberry.field(description="Empty when no single price produced the amount.")
    amount: Decimal
    explanation: str = strawberry.field(description="How the amount was computed, e.g. the tier breakdown.")

    @classmethod
    def from_row(cls, row: Any) -> BillLineType:
        return cls(
            position=row.position,
            rule_code=row.rule_code,
            kind=row.kind,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            amount=row.amount,
            explanation=row.explanation,
        )

    @classmethod
    def from_draft(cls, position: int, draft: engine.BillLineDraft) -> BillLineType:
        return cls(
            position=position,
            rule_code=draft.rule_code,
            kind=BillLineKind(draft.kind.value),
            description=draft.description,
            quantity=draft.quantity,
            unit_price=draft.unit_price,
            amount=draft.amount,
            explanation=draft.explanation,
        )


@strawberry.type(name="Bill")
class BillType(relay.Node):
    id: relay.NodeID[int]
    period: str
    period_start: dt.date
    period_end: dt.date
    issued_on: dt.date
    due_date: dt.date
    status: BillStatusEnum
    total_amount: Decimal = strawberry.field(description="Sum of the lines; never changes once issued.")
    adjustment_amount: Decimal = strawberry.field(description="Net of debit (+) and credit (−) adjustments.")
    late_fee_amount: Decimal = strawberry.field(name="lateFeeCharged")
    principal_paid: Decimal
    late_fee_paid: Decimal
    unit_id: strawberry.Private[int]
    party_id: strawberry.Private[int | None]
    project_id: strawberry.Private[int]
    run_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Bill) -> BillType:
        return cls(
            id=row.id,
            period=row.period,
            period_start=row.period_start,
            period_end=row.period_end,
            issued_on=row.issued_on,
            due_date=row.due_date,
            status=row.status,
            total_amount=row.total_amount,
            adjustment_amount=row.adjustment_amount,
            late_fee_amount=row.late_fee_amount,
            principal_paid=row.principal_paid,
            late_fee_paid=row.late_fee_paid,
            unit_id=row.unit_id,
            party_id=row.party_id,
            project_id=row.project_id,
            run_id=row.run_id,
        )

    @strawberry.field
    def paid_amount(self) -> Decimal:
        return balance.amount_paid(self)

    @strawberry.field(description="What is still owed, late fees charged so far included.")
    def amount_due(self) -> Decimal:
        return balance.amount_due(self)

    @strawberry.field(description="Unpaid and past its due date (as of today in the service's clock).")
    def is_overdue(self, info: Info) -> bool:
        return balance.is_overdue(self.status, self.due_date, info.context.now().date())

    @strawberry.field(description="Late fee owed if the bill were paid on `asOf` (default today), not yet charged.")
    async def late_fee(self, info: Info, as_of: dt.date | None = None) -> Decimal:
        async with info.context.session_factory() as session:
            return await accrued_late_fee_for(session, self.id, as_of or info.context.now().date())

    @strawberry.field
    async def lines(self, info: Info) -> list[BillLineType]:
        rows = await info.context.loaders.billing.lines_by_bill.load(self.id)
        return [BillLineType.from_row(row) for row in rows]

    @strawberry.field
    async def unit(self, info: Info) -> UnitType:
        return await _unit(info, self.unit_id)

    @strawberry.field
    async def building(self, info: Info) -> BuildingType:
        unit = await info.context.loaders.unit.load(self.unit_id)
        return BuildingType.from_row(await info.context.loaders.building.load(unit.building_id))

    @strawberry.field(description="Who the bill is addressed to (the owner, else the tenant).")
    async def party(self, info: Info) -> PartyType | None:
        if self.party_id is None:
            return None
        return PartyType.from_row(await info.context.loaders.party.load(self.party_id))

    @strawberry.field
    async def run(self, info: Info) -> BillRunType | None:
        principal = await info.context.principal()
        if principal is None or not may_manage_charges(principal, project_id=self.project_id):
            return None
        return BillRunType.from_row(await info.context.loaders.billing.bill_run.load(self.run_id))

    @strawberry.field
    async def allocations(self, info: Info) -> list[AllocationType]:
        rows = await info.context.loaders.billing.allocations_by_bill.load(self.id)
        return [AllocationType.from_row(row) for row in rows]

    @strawberry.field
    async def adjustments(self, info: Info) -> list[AdjustmentType]:
        rows = await info.context.loaders.billing.adjustments_by_bill.load(self.id)
        return [AdjustmentType.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[BillType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.bill,
            lambda p, row: may_see_unit_billing(p, project_id=row.project_id, unit_id=row.unit_id),
            cls.from_row,
        )


@strawberry.type(name="Adjustment", description="A correction of an issued bill; CREDIT lowers it, DEBIT raises it.")
class AdjustmentType(relay.Node):
    id: relay.NodeID[int]
    kind: AdjustmentKindEnum
    amount: Decimal
    reason: str
    created_at: dt.datetime
    bill_id: strawberry.Private[int]
    unit_id: strawberry.Private[int]
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> AdjustmentType:
        return cls(
            id=row.id,
            kind=row.kind,
            amount=row.amount,
            reason=row.reason,
            created_at=row.created_at,
            bill_id=row.bill_id,
            unit_id=row.unit_id,
            project_id=row.project_id,
        )

    @strawberry.field
    async def bill(self, info: Info) -> BillType:
        return BillType.from_row(await info.context.loaders.billing.bill.load(self.bill_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AdjustmentType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.adjustment,
            lambda p, row: may_see_unit_billing(p, project_id=row.project_id, unit_id=row.unit_id),
            cls.from_row,
        )


# --- payments -------------------------------------------------------------------------------------


@strawberry.type(name="Allocation", description="Part of a payment settling one bill: late fee first, then principal.")
class AllocationType:
    principal: Decimal
    late_fee: Decimal
    source: AllocationSourceEnum
    created_at: dt.datetime
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

    @strawberry.field
    def amount(self) -> Decimal:
        return self.principal + self.late_fee

    @strawberry.field
    async def bill(self, info: Info) -> BillType:
        return BillType.from_row(await info.context.loaders.billing.bill.load(self.bill_id))

    @strawberry.field
    async def payment(self, info: Info) -> PaymentType:
        return PaymentType.from_row(await info.context.loaders.billing.payment.load(self.payment_id))


@strawberry.type(name="Refund", description="Money given back: unallocated credit refunded, or a whole payment reversed.")
class RefundType:
    kind: ReversalKindEnum
    amount: Decimal
    reason: str
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: PaymentReversal) -> RefundType:
        return cls(kind=row.kind, amount=row.amount, reason=row.reason, created_at=row.created_at)


@strawberry.type(name="Payment")
class PaymentType(relay.Node):
    id: relay.NodeID[int]
    channel: PaymentChannelEnum
    external_reference: str | None
    payer_name: str
    amount: Decimal
    paid_at: dt.datetime
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

    @strawberry.field
    async def unit(self, info: Info) -> UnitType:
        return await _unit(info, self.unit_id)

    @strawberry.field
    async def allocations(self, info: Info) -> list[AllocationType]:
        rows = await info.context.loaders.billing.allocations_by_payment.load(self.id)
        return [AllocationType.from_row(row) for row in rows]

    @strawberry.field
    async def refunds(self, info: Info) -> list[RefundType]:
        rows = await info.context.loaders.billing.reversals_by_payment.load(self.id)
        return [RefundType.from_row(row) for row in rows]

    @strawberry.field(description="What no bill has taken and nothing gave back: the unit's prepaid credit from it.")
    async def credit_left(self, info: Info) -> Decimal:
        allocations = await info.context.loaders.billing.allocations_by_payment.load(self.id)
        refunds = await info.context.loaders.billing.reversals_by_payment.load(self.id)
        return balance.credit_left(
            amount=self.amount,
            allocated=sum((a.principal + a.late_fee for a in allocations), Decimal("0.00")),
            given_back=sum((r.amount for r in refunds), Decimal("0.00")),
        )

    @strawberry.field
    async def receipt(self, info: Info) -> ReceiptType | None:
        rows = await info.context.loaders.billing.receipts_by_payment.load(self.id)
        return ReceiptType.from_row(rows[0]) if rows else None

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PaymentType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.payment,
            lambda p, row: may_see_unit_billing(p, project_id=row.project_id, unit_id=row.unit_id),
            cls.from_row,
        )


@strawberry.type(name="Receipt", description="A payment's receipt, signed with Ed25519 over its canonical content.")
class ReceiptType(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Per-project sequential number, e.g. R-000042.")
    content: str = strawberry.field(description="The canonical JSON the signature covers.")
    signature: str = strawberry.field(description="Base64 Ed25519 signature of `content`.")
    issued_at: dt.datetime
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

    @strawberry.field
    async def payment(self, info: Info) -> PaymentType:
        return PaymentType.from_row(await info.context.loaders.billing.payment.load(self.payment_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ReceiptType | None]:
        principal = await info.context.principal()
        ids = [int(i) for i in node_ids if i.isdigit()]
        receipts = {r.id: r for r in await info.context.loaders.billing.receipt.load_many(ids) if r is not None}
        payments = {
            p.id: p
            for p in await info.context.loaders.billing.payment.load_many([r.payment_id for r in receipts.values()])
            if p is not None
        }
        result: list[ReceiptType | None] = []
        for node_id in node_ids:
            receipt = receipts.get(int(node_id)) if node_id.isdigit() else None
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
    provider: str
    channel: PaymentChannelEnum
    amount: Decimal
    amount_fen: int
    status: PaymentIntentStatusEnum
    expires_at: dt.datetime
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

    @strawberry.field
    async def payment(self, info: Info) -> PaymentType | None:
        if self.payment_id is None:
            return None
        return PaymentType.from_row(await info.context.loaders.billing.payment.load(self.payment_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PaymentIntentType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.billing.payment_intent,
            lambda p, row: may_see_unit_billing(p, project_id=row.project_id, unit_id=row.unit_id),
            cls.from_row,
        )
