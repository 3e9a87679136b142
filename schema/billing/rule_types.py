"""GraphQL types of the rule book: fee rules with their versions, discounts, waivers, the billing policy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry import relay

from billing.rule_book import Policies, definition_of
from db.models import DiscountRule, FeeRule, FeeRuleVersion, Waiver
from schema.billing.common import gid, nodes_of_managed_charges, unit_of
from schema.billing.enums import ApportionBasisEnum, FeeRuleKindEnum, TierPeriodEnum
from schema.context import Info
from schema.scalars import PartyTypeEnum, UnitKindEnum
from schema.units.types import UnitType

__all__ = [
    "BillingPolicyType",
    "DiscountRuleType",
    "FeeRuleType",
    "FeeRuleVersionType",
    "RuleScopeType",
    "TierType",
    "WaiverType",
]


@strawberry.type(name="Tier", description="One price tier of a metered rule.")
class TierType:
    starts_at: Decimal = strawberry.field(
        description="Usage where it starts (exclusive, in the meter's unit, e.g. kWh)."
    )
    up_to: Decimal | None = strawberry.field(description="Usage where it ends (inclusive); null for the top tier.")
    unit_price: Decimal = strawberry.field(description="Yuan per unit of usage (decimal string).")


@strawberry.type(name="RuleScope", description="Empty lists admit every unit; set lists must all match.")
class RuleScopeType:
    unit_kinds: list[UnitKindEnum] = strawberry.field(description="Only these kinds; empty: every kind.")
    building_ids: list[strawberry.ID] = strawberry.field(description="Only these buildings; empty: every building.")
    unit_ids: list[strawberry.ID] = strawberry.field(description="Only these units; empty: every unit.")


@strawberry.type(
    name="FeeRuleVersion",
    description=(
        "A fee rule's parameters from one day on. Money as decimal string in yuan; only the parameters of the rule's "
        "kind are set."
    ),
)
class FeeRuleVersionType:
    version: int = strawberry.field(description="1 for the first, counting up.")
    name: str = strawberry.field(description="The name bill lines show.")
    effective_from: dt.date = strawberry.field(description="First day it applies (project time zone).")
    effective_to: dt.date | None = strawberry.field(description="Last day it applies; null while open-ended.")
    scope: RuleScopeType = strawberry.field(description="Which units it charges.")
    rate_per_square_metre: Decimal | None = strawberry.field(
        description="PER_AREA: yuan per m² of floor area per month."
    )
    amount_per_cycle: Decimal | None = strawberry.field(description="FIXED: yuan per unit per billing cycle.")
    meter_type: str | None = strawberry.field(
        description="METERED_TIERED, or APPORTIONED by USAGE: the meter it reads (e.g. electricity, water)."
    )
    tiers: list[TierType] = strawberry.field(description="METERED_TIERED: price tiers, lowest first.")
    tier_period: TierPeriodEnum | None = strawberry.field(description="METERED_TIERED: what the tier bounds count.")
    apportion_total: Decimal | None = strawberry.field(description="APPORTIONED: the total (yuan) shared per cycle.")
    apportion_basis: ApportionBasisEnum | None = strawberry.field(description="APPORTIONED: how it is shared.")
    created_at: dt.datetime = strawberry.field(description="When this version was entered (UTC).")

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
                building_ids=[gid("Building", pk) for pk in scope.building_ids],
                unit_ids=[gid("Unit", pk) for pk in scope.unit_ids],
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
    # Not `code`: a mutation result selecting `... on FeeRule { code } ... on Error { code }` would ask
    # for two types under one name, which GraphQL validation refuses.
    rule_code: str = strawberry.field(description="The code bill lines name the rule by (`BillLine.ruleCode`).")
    kind: FeeRuleKindEnum = strawberry.field(description="How it computes the charge.")
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: FeeRule) -> FeeRuleType:
        return cls(id=row.id, rule_code=row.code, kind=row.kind, project_id=row.project_id)

    @strawberry.field(
        description="Every version, oldest first; a bill uses the version in force on its period's first day."
    )
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

    resolve_nodes = nodes_of_managed_charges(lambda info: info.context.loaders.billing.fee_rule)


@strawberry.type(
    name="DiscountRule",
    description="A percentage off the charges of named fee rules, for units or parties that qualify.",
)
class DiscountRuleType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name the discount line shows.")
    percent: Decimal = strawberry.field(description="Percent off (0 to 100, decimal string).")
    rule_codes: list[str] = strawberry.field(description="The fee rules (codes) it reduces.")
    vacant_only: bool = strawberry.field(description="Only for VACANT units.")
    party_type: PartyTypeEnum | None = strawberry.field(description="Only when the bill's party is of this type.")
    effective_from: dt.date | None = strawberry.field(description="First day it applies; null: always.")
    effective_to: dt.date | None = strawberry.field(description="Last day it applies; null: open-ended.")

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

    resolve_nodes = nodes_of_managed_charges(lambda info: info.context.loaders.billing.discount_rule)


@strawberry.type(
    name="Waiver",
    description=(
        "One unit's charge of one rule in one period, waived in part or in full, with the reason and the approver."
    ),
)
class WaiverType(relay.Node):
    id: relay.NodeID[int]
    rule_code: str = strawberry.field(description="The fee rule it waives.")
    period: str = strawberry.field(description="The billing period, YYYY-MM.")
    amount: Decimal | None = strawberry.field(description="Empty: the charge is waived in full.")
    reason: str = strawberry.field(description="Why.")
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

    @strawberry.field(description="The unit.")
    async def unit(self, info: Info) -> UnitType:
        return await unit_of(info, self.unit_id)

    resolve_nodes = nodes_of_managed_charges(lambda info: info.context.loaders.billing.waiver)


@strawberry.type(
    name="BillingPolicy",
    description="A project's billing cycle, payment terms and late-fee policy (FINANCE and ADMIN).",
)
class BillingPolicyType:
    due_days: int = strawberry.field(description="Days from issue to the due date.")
    cycle_months: int = strawberry.field(description="Months one bill covers.")
    late_fee_daily_rate: Decimal = strawberry.field(
        description=(
            "The latest late-fee rate per day overdue, a fraction of the unpaid principal (e.g. 0.0005 = 0.05 % a "
            "day)."
        ),
    )
    late_fee_grace_days: int = strawberry.field(description="Days after the due date before the late fee runs.")
    late_fee_cap_ratio: Decimal | None = strawberry.field(
        description="The late fee never exceeds this fraction of the principal; null: no cap."
    )
    late_fee_effective_from: dt.date | None = strawberry.field(
        description="The first day the latest late-fee settings apply; empty when none was ever set."
    )
    late_fee_versions: list[LateFeePolicyVersionType] = strawberry.field(
        description="Every late-fee policy version, oldest first: a bill overdue across a change pays each day under the version in force that day."
    )

    @classmethod
    def from_policies(cls, policies: Policies) -> BillingPolicyType:
        return cls(
            due_days=policies.due_days,
            cycle_months=policies.cycle_months,
            late_fee_daily_rate=policies.late_fee.daily_rate,
            late_fee_grace_days=policies.late_fee.grace_days,
            late_fee_cap_ratio=policies.late_fee.cap_ratio,
            late_fee_effective_from=policies.late_fee_versions[-1].effective_from if policies.late_fee_versions else None,
            late_fee_versions=[
                LateFeePolicyVersionType(
                    effective_from=version.effective_from,
                    daily_rate=version.daily_rate,
                    grace_days=version.grace_days,
                    cap_ratio=version.cap_ratio,
                )
                for version in policies.late_fee_versions
            ],
        )


@strawberry.type(name="LateFeePolicyVersion", description="The late-fee policy from one day on, until the next version.")
class LateFeePolicyVersionType:
    effective_from: dt.date = strawberry.field(description="First day it applies (project time zone).")
    daily_rate: Decimal = strawberry.field(description="Fraction of the unpaid principal charged per day overdue.")
    grace_days: int = strawberry.field(description="Days after the due date before it runs.")
    cap_ratio: Decimal | None = strawberry.field(description="Cap as a fraction of the principal; null: none.")
