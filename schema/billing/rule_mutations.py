"""Mutations of the rule book: fee rules and their versions, discounts, waivers, the billing policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from billing import rule_admin
from billing.model import ApportionBasis, TierPeriod
from billing.rule_book import (
    DEFAULT_CYCLE_MONTHS,
    DEFAULT_DUE_DAYS,
    RuleDefinition,
    ScopeDefinition,
    TierDefinition,
)
from schema.billing.common import FINANCE_ONLY, decode_ids, mutation_result
from schema.billing.enums import ApportionBasisEnum, FeeRuleKindEnum, TierPeriodEnum
from schema.billing.rule_types import (
    BillingPolicyType,
    DiscountRuleType,
    FeeRuleType,
    WaiverType,
)
from schema.context import Info
from schema.ids import decode_id
from schema.scalars import PartyTypeEnum, UnitKindEnum
from schema.use_cases import run_for_caller

__all__ = ["RuleMutations"]


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
    due_days: int = DEFAULT_DUE_DAYS
    cycle_months: int = DEFAULT_CYCLE_MONTHS
    late_fee_daily_rate: Decimal = Decimal(0)
    late_fee_grace_days: int = 0
    late_fee_cap_ratio: Decimal | None = None
    late_fee_effective_from: dt.date | None = strawberry.field(
        default=None,
        description=(
            "The first day the late-fee settings apply (today when empty, never earlier): earlier days, and"
            " bills overdue on them, keep the policy they had."
        ),
    )


CreateFeeRuleResult = mutation_result(FeeRuleType, "CreateFeeRuleResult")
ReviseFeeRuleResult = mutation_result(FeeRuleType, "ReviseFeeRuleResult")
RetireFeeRuleResult = mutation_result(FeeRuleType, "RetireFeeRuleResult")
CreateDiscountRuleResult = mutation_result(DiscountRuleType, "CreateDiscountRuleResult")
CreateWaiverResult = mutation_result(WaiverType, "CreateWaiverResult")
SetBillingPolicyResult = mutation_result(BillingPolicyType, "SetBillingPolicyResult")


def _definition(input: FeeRuleVersionInput) -> RuleDefinition:
    scope = input.scope or RuleScopeInput()
    return RuleDefinition(
        name=input.name,
        effective_from=input.effective_from,
        effective_to=input.effective_to,
        scope=ScopeDefinition(
            unit_kinds=tuple(scope.unit_kinds),
            building_ids=decode_ids(scope.building_ids, "Building", "scope.buildingIds"),
            unit_ids=decode_ids(scope.unit_ids, "Unit", "scope.unitIds"),
        ),
        rate_per_square_metre=input.rate_per_square_metre,
        amount_per_cycle=input.amount_per_cycle,
        meter_type=input.meter_type,
        tiers=tuple(TierDefinition(t.starts_at, t.up_to, t.unit_price) for t in input.tiers or []),
        tier_period=TierPeriod(input.tier_period.value) if input.tier_period else None,
        apportion_total=input.apportion_total,
        apportion_basis=ApportionBasis(input.apportion_basis.value) if input.apportion_basis else None,
    )


@strawberry.type
class RuleMutations:
    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="A new fee rule with its first version.")
    async def create_fee_rule(self, info: Info, input: CreateFeeRuleInput) -> CreateFeeRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rule_admin.create_fee_rule(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: rule_admin.revise_fee_rule(
                info.context.session_factory,
                principal,
                rule_id=decode_id(input.rule_id, "FeeRule", field="ruleId"),
                definition=_definition(input),
            ),
            FeeRuleType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="End a rule: it charges no period starting after `effectiveTo`.")
    async def retire_fee_rule(self, info: Info, rule_id: strawberry.ID, effective_to: dt.date) -> RetireFeeRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rule_admin.retire_fee_rule(
                info.context.session_factory,
                principal,
                rule_id=decode_id(rule_id, "FeeRule", field="ruleId"),
                effective_to=effective_to,
            ),
            FeeRuleType.from_row,
        )

    @strawberry.mutation(permission_classes=FINANCE_ONLY)
    async def create_discount_rule(self, info: Info, input: CreateDiscountRuleInput) -> CreateDiscountRuleResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: rule_admin.create_discount_rule(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: rule_admin.create_waiver(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: rule_admin.set_billing_policy(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                due_days=input.due_days,
                cycle_months=input.cycle_months,
                late_fee_daily_rate=input.late_fee_daily_rate,
                late_fee_grace_days=input.late_fee_grace_days,
                late_fee_cap_ratio=input.late_fee_cap_ratio,
                late_fee_effective_from=input.late_fee_effective_from,
            ),
            BillingPolicyType.from_policies,
        )
