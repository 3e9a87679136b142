"""Queries of the rule book: a project's fee rules, discounts, waivers and billing policy."""

from __future__ import annotations

from typing import Annotated

import strawberry

from billing import rule_admin
from schema.billing.common import FINANCE_ONLY, read_of_project
from schema.billing.rule_types import (
    BillingPolicyType,
    DiscountRuleType,
    FeeRuleType,
    WaiverType,
)
from schema.context import Info

__all__ = ["RuleQueries"]


@strawberry.type
class RuleQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: A project's fee rules with their version history.")
    async def fee_rules(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> list[FeeRuleType]:
        sessions = info.context.session_factory
        rules = await read_of_project(
            info, project_id, lambda principal, project: rule_admin.list_fee_rules(sessions, principal, project_id=project)
        )
        for rule, versions in rules or []:
            info.context.loaders.billing.versions_by_rule.prime(rule.id, versions)
        return [FeeRuleType.from_row(rule) for rule, _ in rules or []]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE or ADMIN: a project's discount rules.")
    async def discount_rules(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> list[DiscountRuleType]:
        sessions = info.context.session_factory
        rows = await read_of_project(
            info,
            project_id,
            lambda principal, project: rule_admin.list_discount_rules(sessions, principal, project_id=project),
        )
        return [DiscountRuleType.from_row(row) for row in rows or []]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE or ADMIN: a project's one-off waivers.")
    async def waivers(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> list[WaiverType]:
        sessions = info.context.session_factory
        rows = await read_of_project(
            info, project_id, lambda principal, project: rule_admin.list_waivers(sessions, principal, project_id=project)
        )
        return [WaiverType.from_row(row) for row in rows or []]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: Billing cycle, due days and late-fee policy.")
    async def billing_policy(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> BillingPolicyType | None:
        sessions = info.context.session_factory
        policies = await read_of_project(
            info,
            project_id,
            lambda principal, project: rule_admin.get_billing_policy(sessions, principal, project_id=project),
        )
        return None if policies is None else BillingPolicyType.from_policies(policies)
