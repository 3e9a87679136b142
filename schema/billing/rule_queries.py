"""Queries of the rule book: a project's fee rules, discounts, waivers and billing policy."""

from __future__ import annotations

import strawberry

from billing import rule_admin
from kernel.errors import NotFound
from schema.billing.common import FINANCE_ONLY
from schema.billing.rule_types import (
    BillingPolicyType,
    DiscountRuleType,
    FeeRuleType,
    WaiverType,
)
from schema.context import Info
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["RuleQueries"]


@strawberry.type
class RuleQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="A project's fee rules with their version history.")
    async def fee_rules(self, info: Info, project_id: strawberry.ID) -> list[FeeRuleType]:
        principal = await require_principal(info)
        try:
            rules = await rule_admin.list_fee_rules(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return []
        for rule, versions in rules:
            info.context.loaders.billing.versions_by_rule.prime(rule.id, versions)
        return [FeeRuleType.from_row(rule) for rule, _ in rules]

    @strawberry.field(permission_classes=FINANCE_ONLY)
    async def discount_rules(self, info: Info, project_id: strawberry.ID) -> list[DiscountRuleType]:
        principal = await require_principal(info)
        try:
            rows = await rule_admin.list_discount_rules(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return []
        return [DiscountRuleType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=FINANCE_ONLY)
    async def waivers(self, info: Info, project_id: strawberry.ID) -> list[WaiverType]:
        principal = await require_principal(info)
        try:
            rows = await rule_admin.list_waivers(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return []
        return [WaiverType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="Billing cycle, due days and late-fee policy.")
    async def billing_policy(self, info: Info, project_id: strawberry.ID) -> BillingPolicyType | None:
        principal = await require_principal(info)
        try:
            policies = await rule_admin.get_billing_policy(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return None
        return BillingPolicyType.from_policies(policies)
