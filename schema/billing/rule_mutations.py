"""Mutations of the rule book: fee rules and their versions, discounts, waivers, the billing policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from typing import Annotated

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


@strawberry.input(description="One price tier.")
class TierInput:
    starts_at: Decimal = strawberry.field(
        description="Usage where it starts (exclusive): 0 for the first, the previous tier's upTo after."
    )
    up_to: Decimal | None = strawberry.field(
        default=None, description="Usage where it ends (inclusive); leave out for the top tier."
    )
    unit_price: Decimal = strawberry.field(description="Yuan per unit of usage (decimal string).")


@strawberry.input(description="Which units a rule charges: set lists must all match; empty lists admit every unit.")
class RuleScopeInput:
    unit_kinds: list[UnitKindEnum] = strawberry.field(default_factory=list, description="Only these kinds.")
    building_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Only these buildings.")
    unit_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Only these units.")


@strawberry.input(description="One version of a fee rule: set only the parameters of the rule's kind.")
class FeeRuleVersionInput:
    name: str = strawberry.field(description="The name bill lines show.")
    effective_from: dt.date = strawberry.field(
        description="First day this version applies (project time zone); a revision ends the version before it."
    )
    effective_to: dt.date | None = strawberry.field(default=None, description="Last day; leave out for open-ended.")
    scope: RuleScopeInput | None = strawberry.field(
        default=None, description="Which units it charges; left out: every unit."
    )
    rate_per_square_metre: Decimal | None = strawberry.field(default=None, description="PER_AREA: yuan per m² per month.")
    amount_per_cycle: Decimal | None = strawberry.field(default=None, description="FIXED: yuan per billing cycle.")
    meter_type: str | None = strawberry.field(default=None, description="METERED_TIERED, or APPORTIONED by USAGE.")
    tiers: list[TierInput] | None = strawberry.field(
        default=None,
        description="METERED_TIERED: tiers, lowest first, as published (e.g. 0–240, 240–400, 400 and above).",
    )
    tier_period: TierPeriodEnum | None = strawberry.field(
        default=None, description="METERED_TIERED: what the tier bounds count."
    )
    apportion_total: Decimal | None = strawberry.field(default=None, description="APPORTIONED: total shared per cycle.")
    apportion_basis: ApportionBasisEnum | None = strawberry.field(
        default=None, description="APPORTIONED: how the total is shared."
    )


@strawberry.input(description="A new fee rule and its first version.")
class CreateFeeRuleInput(FeeRuleVersionInput):
    project_id: strawberry.ID = strawberry.field(description="The project.")
    code: str = strawberry.field(
        description="Its code, unique in the project (e.g. PROPERTY_FEE); bill lines and discounts name it."
    )
    kind: FeeRuleKindEnum = strawberry.field(description="How it computes the charge.")


@strawberry.input(description="A new version of a rule from `effectiveFrom` on; it ends the version before it.")
class ReviseFeeRuleInput(FeeRuleVersionInput):
    rule_id: strawberry.ID = strawberry.field(description="The rule.")


@strawberry.input(description="A new discount rule.")
class CreateDiscountRuleInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    name: str = strawberry.field(description="The name the discount line shows.")
    percent: Decimal = strawberry.field(description="Percent off, more than 0 and at most 100 (decimal string).")
    rule_codes: list[str] = strawberry.field(description="The fee rules (codes) it reduces.")
    vacant_only: bool = strawberry.field(default=False, description="Only VACANT units; false unless given.")
    party_type: PartyTypeEnum | None = strawberry.field(
        default=None, description="Only when the bill's party is of this type."
    )
    effective_from: dt.date | None = strawberry.field(default=None, description="First day; leave out: always.")
    effective_to: dt.date | None = strawberry.field(default=None, description="Last day; leave out: open-ended.")


@strawberry.input(description="A one-off waiver of one unit's charge of one rule in one period.")
class CreateWaiverInput:
    unit_id: strawberry.ID = strawberry.field(description="The unit.")
    rule_code: str = strawberry.field(description="The fee rule.")
    period: str = strawberry.field(description="The billing period, YYYY-MM, not billed yet.")
    amount: Decimal | None = strawberry.field(default=None, description="Empty waives the charge in full.")
    reason: str = strawberry.field(description="Why (kept with you as approver).")


@strawberry.input(description="A project's billing policy; fields left out take the defaults shown.")
class SetBillingPolicyInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    due_days: int = strawberry.field(default=DEFAULT_DUE_DAYS, description="Days from issue to the due date.")
    cycle_months: int = strawberry.field(default=DEFAULT_CYCLE_MONTHS, description="Months one bill covers.")
    late_fee_daily_rate: Decimal = strawberry.field(
        default=Decimal(0),
        description="Fraction of the unpaid principal per day overdue (0: no late fee), decimal string.",
    )
    late_fee_grace_days: int = strawberry.field(
        default=0, description="Days after the due date before the late fee runs."
    )
    late_fee_cap_ratio: Decimal | None = strawberry.field(
        default=None, description="Cap as a fraction of the principal; leave out for none."
    )
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
    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: A new fee rule with its first version.")
    async def create_fee_rule(
        self,
        info: Info,
        input: Annotated[CreateFeeRuleInput, strawberry.argument(description="The rule and its first version.")],
    ) -> CreateFeeRuleResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Change a rule by issuing a new effective-dated version.")
    async def revise_fee_rule(
        self,
        info: Info,
        input: Annotated[ReviseFeeRuleInput, strawberry.argument(description="The new version.")],
    ) -> ReviseFeeRuleResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: End a rule: it charges no period starting after `effectiveTo`.")
    async def retire_fee_rule(
        self,
        info: Info,
        rule_id: Annotated[strawberry.ID, strawberry.argument(description="The rule.")],
        effective_to: Annotated[
            dt.date,
            strawberry.argument(description="The last day it charges for (project time zone)."),
        ],
    ) -> RetireFeeRuleResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description="FINANCE or ADMIN: a percentage off named fee rules, from the next bill run on.",
    )
    async def create_discount_rule(
        self,
        info: Info,
        input: Annotated[CreateDiscountRuleInput, strawberry.argument(description="The discount.")],
    ) -> CreateDiscountRuleResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: A one-off waiver, approved by you.")
    async def create_waiver(
        self,
        info: Info,
        input: Annotated[CreateWaiverInput, strawberry.argument(description="The waiver.")],
    ) -> CreateWaiverResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE or ADMIN: a project's billing cycle, due days and late-fee policy (a new late-fee version from "
            "its effective date; bills already overdue keep the old rate for the days before)."
        ),
    )
    async def set_billing_policy(
        self,
        info: Info,
        input: Annotated[SetBillingPolicyInput, strawberry.argument(description="The policy.")],
    ) -> SetBillingPolicyResult:  # type: ignore[valid-type]
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
