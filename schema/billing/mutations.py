"""Mutations of billing: thin calls into the billing services, one transaction each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry
from strawberry.file_uploads import Upload

from billing import online, payments, readings, rule_admin, runs
from billing.model import ApportionBasis, TierPeriod
from billing.policy import manages_billing
from kernel.errors import BadInput
from schema.billing.types import (
    AdjustmentKindEnum,
    AdjustmentType,
    ApportionBasisEnum,
    BillingPolicyType,
    BillLineType,
    BillRunType,
    DiscountRuleType,
    FeeRuleKindEnum,
    FeeRuleType,
    MeterReadingType,
    PaymentChannelEnum,
    PaymentIntentType,
    PaymentType,
    RefundType,
    TierPeriodEnum,
    WaiverType,
)
from schema.context import Info
from schema.errors import (
    BadUserInputError,
    ConflictError,
    ImportRejectedError,
    NotFoundError,
    error_result,
    run_in_transaction,
    run_mutation,
)
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, allowed_if, require_principal
from schema.scalars import PartyTypeEnum, UnitKindEnum
from schema.units.types import UnitType

__all__ = ["BillingMutations"]

FINANCE_ONLY = [IsAuthenticated, allowed_if(manages_billing, "Requires one of the roles ADMIN, FINANCE.")]
MAX_IMPORT_BYTES = 10 * 1024 * 1024
Row = TypeVar("Row")


def _result(payload: type, name: str) -> object:
    return Annotated[payload | BadUserInputError | NotFoundError | ConflictError, strawberry.union(name)]


# --- inputs ---------------------------------------------------------------------------------------


@strawberry.input
class TierInput:
    starts_at: Decimal
    up_to: Decimal | None = None
    unit_price: Decimal


@strawberry.input
class RuleScopeInput:
    unit_kinds: list[UnitKindEnum] = strawberry.field(default_factory=list)
    building_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    unit_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="One version of a fee rule: set only the parameters of the rule's kind.")
class FeeRuleVersionInput:
    name: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    scope: RuleScopeInput | None = None
    rate_per_square_metre: Decimal | None = strawberry.field(default=None, description="PER_AREA: yuan per m² per month.")
    amount_per_cycle: Decimal | None = strawberry.field(default=None, description="FIXED: yuan per billing cycle.")
    meter_type: str | None = strawberry.field(default=None, description="METERED_TIERED, or APPORTIONED by USAGE.")
    tiers: list[TierInput] | None = None
    tier_period: TierPeriodEnum | None = None
    apportion_total: Decimal | None = strawberry.field(default=None, description="APPORTIONED: total shared per cycle.")
    apportion_basis: ApportionBasisEnum | None = None


@strawberry.input
class CreateFeeRuleInput(FeeRuleVersionInput):
    project_id: strawberry.ID
    code: str
    kind: FeeRuleKindEnum


@strawberry.input(description="A new version of a rule from `effectiveFrom` on; it ends the version before it.")
class ReviseFeeRuleInput(FeeRuleVersionInput):
    rule_id: strawberry.ID


@strawberry.input
class CreateDiscountRuleInput:
    project_id: strawberry.ID
    name: str
    percent: Decimal
    rule_codes: list[str]
    vacant_only: bool = False
    party_type: PartyTypeEnum | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None


@strawberry.input
class CreateWaiverInput:
    unit_id: strawberry.ID
    rule_code: str
    period: str
    amount: Decimal | None = strawberry.field(default=None, description="Empty waives the charge in full.")
    reason: str


@strawberry.input
class SetBillingPolicyInput:
    project_id: strawberry.ID
    due_days: int = rule_admin.DEFAULT_DUE_DAYS
    cycle_months: int = rule_admin.DEFAULT_CYCLE_MONTHS
    late_fee_daily_rate: Decimal = Decimal(0)
    late_fee_grace_days: int = 0
    late_fee_cap_ratio: Decimal | None = None


@strawberry.input
class RecordMeterReadingInput:
    unit_id: strawberry.ID
    meter_type: str
    reading: Decimal
    read_at: dt.datetime
    is_replacement: bool = False
    replacement_start_value: Decimal | None = strawberry.field(default=None, description="The new meter's start value.")


@strawberry.input
class RecordPaymentInput:
    unit_id: strawberry.ID
    amount: Decimal
    channel: PaymentChannelEnum
    payer_name: str
    idempotency_key: str = strawberry.field(description="Retries with the same key and payload answer the first result.")
    external_reference: str | None = None
    bill_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Bills to pay; empty: the unit's unpaid bills, oldest first."
    )
    paid_at: dt.datetime | None = None
    payer_party_id: strawberry.ID | None = None


@strawberry.input
class BatchPaymentItemInput:
    unit_id: strawberry.ID
    amount: Decimal
    bill_ids: list[strawberry.ID] | None = None


@strawberry.input
class RecordBatchPaymentInput:
    project_id: strawberry.ID
    channel: PaymentChannelEnum
    payer_name: str
    items: list[BatchPaymentItemInput]
    idempotency_key: str
    external_reference: str | None = None
    paid_at: dt.datetime | None = None


@strawberry.input
class RefundPaymentInput:
    payment_id: strawberry.ID
    amount: Decimal
    reason: str


@strawberry.input
class ReversePaymentInput:
    payment_id: strawberry.ID
    reason: str


@strawberry.input
class CreateAdjustmentInput:
    bill_id: strawberry.ID
    kind: AdjustmentKindEnum
    amount: Decimal
    reason: str


# --- payloads -------------------------------------------------------------------------------------


@strawberry.type(name="BillPreview")
class BillPreviewType:
    total_amount: Decimal
    lines: list[BillLineType]
    unit_id: strawberry.Private[int]

    @strawberry.field
    async def unit(self, info: Info) -> UnitType:
        return UnitType.from_row(await info.context.loaders.unit.load(self.unit_id))


@strawberry.type(name="BillRunPreview", description="What a dry run would bill; nothing was written.")
class BillRunPreviewType:
    period: str
    bill_count: int
    total_amount: Decimal
    units_without_charges: int
    sample: list[BillPreviewType]


@strawberry.type
class ImportMeterReadingsPayload:
    imported: int
    flagged: int


@strawberry.type(name="PaymentBatch")
class PaymentBatchType:
    total_amount: Decimal
    payments: list[PaymentType]


CreateFeeRuleResult = _result(FeeRuleType, "CreateFeeRuleResult")
ReviseFeeRuleResult = _result(FeeRuleType, "ReviseFeeRuleResult")
RetireFeeRuleResult = _result(FeeRuleType, "RetireFeeRuleResult")
CreateDiscountRuleResult = _result(DiscountRuleType, "CreateDiscountRuleResult")
CreateWaiverResult = _result(WaiverType, "CreateWaiverResult")
SetBillingPolicyResult = _result(BillingPolicyType, "SetBillingPolicyResult")
RecordMeterReadingResult = _result(MeterReadingType, "RecordMeterReadingResult")
RecordPaymentResult = _result(PaymentType, "RecordPaymentResult")
RecordBatchPaymentResult = _result(PaymentBatchType, "RecordBatchPaymentResult")
RefundPaymentResult = _result(RefundType, "RefundPaymentResult")
ReversePaymentResult = _result(RefundType, "ReversePaymentResult")
CreateAdjustmentResult = _result(AdjustmentType, "CreateAdjustmentResult")
CreatePaymentIntentResult = _result(PaymentIntentType, "CreatePaymentIntentResult")
RunBillingResult = Annotated[
    BillRunType | BillRunPreviewType | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union("RunBillingResult"),
]
ImportMeterReadingsResult = Annotated[
    ImportMeterReadingsPayload | ImportRejectedError | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union("ImportMeterReadingsResult"),
]


async def deferred(call: Callable[[], Awaitable[Row]]) -> Row:
    """`call()` awaited only when this is: decoding the use case's arguments (a malformed ID answers
    NOT_FOUND) then fails inside `run_mutation`, which answers the typed error."""
    return await call()


def _ids(values: list[strawberry.ID] | None, type_name: str, field: str) -> tuple[int, ...]:
    return tuple(decode_id(value, type_name, field=field) for value in values or [])


def _definition(input: FeeRuleVersionInput) -> rule_admin.RuleDefinition:
    scope = input.scope or RuleScopeInput()
    return rule_admin.RuleDefinition(
        name=input.name,
        effective_from=input.effective_from,
        effective_to=input.effective_to,
        scope=rule_admin.ScopeDefinition(
            unit_kinds=tuple(scope.unit_kinds),
            building_ids=_ids(scope.building_ids, "Building", "scope.buildingIds"),
            unit_ids=_ids(scope.unit_ids, "Unit", "scope.unitIds"),
        ),
        rate_per_square_metre=input.rate_per_square_metre,
        amount_per_cycle=input.amount_per_cycle,
        meter_type=input.meter_type,
        tiers=tuple(rule_admin.TierDefinition(t.starts_at, t.up_to, t.unit_price) for t in input.tiers or []),
        tier_period=TierPeriod(input.tier_period.value) if input.tier_period else None,
        apportion_total=input.apportion_total,
        apportion_basis=ApportionBasis(input.apportion_basis.value) if input.apportion_basis else None,
    )


def _present_run(outcome: runs.BillRunOutcome) -> BillRunType | BillRunPreviewType:
    if not outcome.dry_run:
        assert outcome.run is not None
        return BillRunType.from_row(outcome.run)
    return BillRunPreviewType(
        period=outcome.period,
        bill_count=outcome.bills_created,
        total_amount=outcome.amount_created,
        units_without_charges=outcome.units_without_charges,
        sample=[
            BillPreviewType(
                unit_id=preview.unit_id,
                total_amount=preview.total,
                lines=[BillLineType.from_draft(index, line) for index, line in enumerate(preview.lines, start=1)],
            )
            for preview in outcome.sample
        ],
    )


@strawberry.type
class BillingMutations:
    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="A new fee rule with its first version.")
    async def create_fee_rule(self, info: Info, input: CreateFeeRuleInput) -> CreateFeeRuleResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: rule_admin.create_fee_rule(
                s,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                code=input.code,
                kind=input.kind,
                definition=_definition(input),
            ),
            FeeRuleType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="Change a rule by issuing a new effective-dated version.")
    async def revise_fee_rule(self, info: Info, input: ReviseFeeRuleInput) -> ReviseFeeRuleResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: rule_admin.add_fee_rule_version(
                s, principal, rule_id=decode_id(input.rule_id, "FeeRule", field="ruleId"), definition=_definition(input)
            ),
            FeeRuleType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="End a rule: it charges no period starting after `effectiveTo`.")
    async def retire_fee_rule(self, info: Info, rule_id: strawberry.ID, effective_to: dt.date) -> RetireFeeRuleResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: rule_admin.retire_fee_rule(
                s, principal, rule_id=decode_id(rule_id, "FeeRule", field="ruleId"), effective_to=effective_to
            ),
            FeeRuleType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY)
    async def create_discount_rule(self, info: Info, input: CreateDiscountRuleInput) -> CreateDiscountRuleResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: rule_admin.create_discount_rule(
                s,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                percent=input.percent,
                rule_codes=input.rule_codes,
                vacant_only=input.vacant_only,
                party_type=input.party_type,
                effective_from=input.effective_from,
                effective_to=input.effective_to,
            ),
            DiscountRuleType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="A one-off waiver, approved by you.")
    async def create_waiver(self, info: Info, input: CreateWaiverInput) -> CreateWaiverResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: rule_admin.create_waiver(
                s,
                principal,
                unit_id=decode_id(input.unit_id, "Unit", field="unitId"),
                rule_code=input.rule_code,
                period=input.period,
                amount=input.amount,
                reason=input.reason,
            ),
            WaiverType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY)
    async def set_billing_policy(self, info: Info, input: SetBillingPolicyInput) -> SetBillingPolicyResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: rule_admin.set_billing_policy(
                s,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                due_days=input.due_days,
                cycle_months=input.cycle_months,
                late_fee_daily_rate=input.late_fee_daily_rate,
                late_fee_grace_days=input.late_fee_grace_days,
                late_fee_cap_ratio=input.late_fee_cap_ratio,
            ),
            BillingPolicyType.from_policies,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY)
    async def record_meter_reading(self, info: Info, input: RecordMeterReadingInput) -> RecordMeterReadingResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: readings.record_reading(
                s,
                principal,
                reading=readings.ReadingInput(
                    unit_id=decode_id(input.unit_id, "Unit", field="unitId"),
                    meter_type=input.meter_type,
                    reading=input.reading,
                    read_at=input.read_at,
                    is_replacement=input.is_replacement,
                    replacement_start_value=input.replacement_start_value,
                ),
            ),
            MeterReadingType.from_row,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="Import readings from CSV (building, unit, meter_type, reading, read_at[, replacement_start_value]): all rows or none.",
    )
    async def import_meter_readings(self, info: Info, project_id: strawberry.ID, file: Upload) -> ImportMeterReadingsResult:
        principal = await require_principal(info)
        content = await file.read()  # type: ignore[attr-defined]
        if len(content) > MAX_IMPORT_BYTES:
            return error_result(BadInput(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MiB.", field="file"))
        return await run_in_transaction(
            info,
            lambda s: readings.import_readings(
                s, principal, project_id=decode_id(project_id, "Project", field="projectId"), content=content
            ),
            lambda summary: ImportMeterReadingsPayload(imported=summary.imported, flagged=summary.flagged),
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="Bill every unit without a bill for the period; again: the same run, new units only. dryRun writes nothing.",
    )
    async def run_billing(
        self, info: Info, project_id: strawberry.ID, period: str, dry_run: bool = False
    ) -> RunBillingResult:
        principal = await require_principal(info)
        return await run_mutation(
            deferred(
                lambda: runs.run_billing(
                    info.context.session_factory,
                    principal,
                    now=info.context.now(),
                    project_id=decode_id(project_id, "Project", field="projectId"),
                    period=period,
                    dry_run=dry_run,
                )
            ),
            _present_run,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="Correct an issued bill: CREDIT lowers it, DEBIT raises it.")
    async def create_adjustment(self, info: Info, input: CreateAdjustmentInput) -> CreateAdjustmentResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: payments.create_adjustment(
                s,
                principal,
                bill_id=decode_id(input.bill_id, "Bill", field="billId"),
                kind=input.kind,
                amount=input.amount,
                reason=input.reason,
                now=info.context.now(),
            ),
            AdjustmentType.from_row,
        )

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="Record money received for a unit: explicit bills or oldest first, late fee before principal.",
    )
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> RecordPaymentResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        signer = info.context.services.receipt_signer
        return await run_in_transaction(
            info,
            lambda s: payments.record_payment(
                s,
                principal,
                signer,
                request=payments.PaymentRequest(
                    unit_id=decode_id(input.unit_id, "Unit", field="unitId"),
                    channel=input.channel,
                    amount=input.amount,
                    payer_name=input.payer_name,
                    external_reference=input.external_reference,
                    bill_ids=_ids(input.bill_ids, "Bill", "billIds"),
                    paid_at=input.paid_at,
                    payer_party_id=decode_id(input.payer_party_id, "Party", field="payerPartyId")
                    if input.payer_party_id
                    else None,
                ),
                idempotency_key=input.idempotency_key,
                now=info.context.now(),
            ),
            PaymentType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="One payer paying many units' bills, in one transaction.")
    async def record_batch_payment(self, info: Info, input: RecordBatchPaymentInput) -> RecordBatchPaymentResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        signer = info.context.services.receipt_signer

        async def work(session: object) -> PaymentBatchType:
            batch = await payments.record_batch_payment(
                session,  # type: ignore[arg-type]
                principal,
                signer,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                channel=input.channel,
                payer_name=input.payer_name,
                external_reference=input.external_reference,
                items=[
                    payments.BatchItem(
                        unit_id=decode_id(item.unit_id, "Unit", field=f"items[{index}].unitId"),
                        amount=item.amount,
                        bill_ids=_ids(item.bill_ids, "Bill", f"items[{index}].billIds"),
                    )
                    for index, item in enumerate(input.items)
                ],
                idempotency_key=input.idempotency_key,
                paid_at=input.paid_at,
                now=info.context.now(),
            )
            rows = await payments.batch_payments(session, batch.id)  # type: ignore[arg-type]
            return PaymentBatchType(total_amount=batch.total_amount, payments=[PaymentType.from_row(row) for row in rows])

        return await run_in_transaction(info, work, lambda payload: payload)

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="Give back unallocated credit of a payment.")
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> RefundPaymentResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: payments.refund_payment(
                s,
                principal,
                payment_id=decode_id(input.payment_id, "Payment", field="paymentId"),
                amount=input.amount,
                reason=input.reason,
                now=info.context.now(),
            ),
            RefundType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="Undo a whole payment: its bills owe again.")
    async def reverse_payment(self, info: Info, input: ReversePaymentInput) -> ReversePaymentResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: payments.reverse_payment(
                s,
                principal,
                payment_id=decode_id(input.payment_id, "Payment", field="paymentId"),
                reason=input.reason,
                now=info.context.now(),
            ),
            RefundType.from_row,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="An online order for your bills (owners: your own units'); pay it through the returned payload.",
    )
    async def create_payment_intent(
        self,
        info: Info,
        bill_ids: list[strawberry.ID],
        channel: PaymentChannelEnum,
        provider: str = "sandbox",
    ) -> CreatePaymentIntentResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        providers = info.context.services.payment_providers
        return await run_in_transaction(
            info,
            lambda s: online.create_payment_intent(
                s,
                principal,
                providers,
                bill_ids=_ids(bill_ids, "Bill", "billIds"),
                channel=channel,
                provider_name=provider,
                now=info.context.now(),
            ),
            lambda created: PaymentIntentType.from_row(created[0], created[1]),
        )
