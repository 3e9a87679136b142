"""Use cases of the finance desk's rule book: fee rules and their versions, discounts, waivers and the
billing policy, each in one transaction.

Changing a rule issues a new version from a date, which ends the version before it; retiring ends the
latest version. What a definition is and how it is checked is `billing.rule_book`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import model as engine
from billing.guards import get_fee_rule, get_project, get_project_unit, queue_behind_bill_runs
from billing.model import BillingPeriod
from billing.policy import may_manage_charges
from billing.rule_book import (
    CODE,
    PERCENT_PLACES,
    Policies,
    RuleDefinition,
    ScopeDefinition,
    check_places,
    insert_fee_rule,
    load_policies,
    validate_definition,
    version_row,
)
from billing.rules import (
    RuleValidationError,
    late_fee_policy_on,
    validate_discount,
    validate_late_fee_policy,
    validate_waiver,
)
from db.models import (
    Bill,
    BillingPolicy,
    Building,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    LateFeePolicyVersion,
    Unit,
    Waiver,
)
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.vocabulary import FeeRuleKind, PartyType

__all__ = [
    "create_discount_rule",
    "create_fee_rule",
    "create_waiver",
    "get_billing_policy",
    "list_discount_rules",
    "list_fee_rules",
    "list_waivers",
    "retire_fee_rule",
    "revise_fee_rule",
    "set_billing_policy",
]

Listed = TypeVar("Listed", DiscountRule, Waiver)


async def _check_scope(
    session: AsyncSession, project_id: int, kind: FeeRuleKind, scope: ScopeDefinition
) -> None:
    """Named buildings and units must belong to the project; an apportionment must reach some unit."""
    if scope.building_ids:
        found = set(
            await session.scalars(
                select(Building.id).where(Building.project_id == project_id, Building.id.in_(scope.building_ids))
            )
        )
        if missing := sorted(set(scope.building_ids) - found):
            raise NotFound(f"No building {missing[0]} in this project.", field="scope.buildingIds")
    if scope.unit_ids:
        found = set(await session.scalars(select(Unit.id).where(Unit.project_id == project_id, Unit.id.in_(scope.unit_ids))))
        if missing := sorted(set(scope.unit_ids) - found):
            raise NotFound(f"No unit {missing[0]} in this project.", field="scope.unitIds")
    if kind == FeeRuleKind.APPORTIONED:
        conditions = [Unit.project_id == project_id]
        if scope.unit_kinds:
            conditions.append(Unit.kind.in_(scope.unit_kinds))
        if scope.building_ids:
            conditions.append(Unit.building_id.in_(scope.building_ids))
        if scope.unit_ids:
            conditions.append(Unit.id.in_(scope.unit_ids))
        if not await session.scalar(select(func.count()).select_from(Unit).where(*conditions)):
            raise BadInput("No unit is in the scope of this apportioned rule: nothing to share the total among.", field="scope")


# --- fee rules ------------------------------------------------------------------------------------


async def _versions(session: AsyncSession, rule_id: int, *, lock: bool = False) -> list[FeeRuleVersion]:
    query = select(FeeRuleVersion).where(FeeRuleVersion.rule_id == rule_id).order_by(FeeRuleVersion.version)
    if lock:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


async def create_fee_rule(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    code: str,
    kind: FeeRuleKind,
    definition: RuleDefinition,
) -> FeeRule:
    """A new rule series with its first version."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        code = code.strip().upper()
        if not CODE.fullmatch(code):
            raise BadInput("code must be 1–40 capital letters, digits or _ and start with a letter.", field="code")
        validate_definition(code, kind, definition)
        await _check_scope(session, project_id, kind, definition.scope)
        if await session.scalar(select(FeeRule.id).where(FeeRule.project_id == project_id, FeeRule.code == code)):
            raise Conflict(f"A fee rule with the code {code} already exists; issue a new version of it instead.", field="code")
        return await insert_fee_rule(
            session, project_id=project_id, code=code, kind=kind, definition=definition, created_by=principal.user_id
        )


async def revise_fee_rule(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, rule_id: int, definition: RuleDefinition
) -> FeeRule:
    """Change a rule from `definition.effective_from` on: a new version, which ends the one before it."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        rule = await get_fee_rule(session, principal, rule_id, allowed=may_manage_charges)
        validate_definition(rule.code, rule.kind, definition)
        await _check_scope(session, rule.project_id, rule.kind, definition.scope)
        versions = await _versions(session, rule.id, lock=True)
        latest = versions[-1]
        if definition.effective_from <= latest.effective_from:
            raise BadInput(
                f"A new version must start after the current one, which starts on {latest.effective_from}.",
                field="effectiveFrom",
            )
        if latest.effective_to is None or latest.effective_to >= definition.effective_from:
            latest.effective_to = definition.effective_from - dt.timedelta(days=1)
        session.add(version_row(rule.id, latest.version + 1, definition, principal.user_id))
        await session.flush()
        return rule


async def retire_fee_rule(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, rule_id: int, effective_to: dt.date
) -> FeeRule:
    """End the rule: its latest version charges no period that starts after `effective_to`."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        rule = await get_fee_rule(session, principal, rule_id, allowed=may_manage_charges)
        latest = (await _versions(session, rule.id, lock=True))[-1]
        if effective_to < latest.effective_from:
            raise BadInput(
                f"The rule cannot end before its current version starts ({latest.effective_from}).", field="effectiveTo"
            )
        if latest.effective_to is not None and latest.effective_to < effective_to:
            raise BadInput(f"The rule already ends on {latest.effective_to}.", field="effectiveTo")
        latest.effective_to = effective_to
        await session.flush()
        return rule


async def list_fee_rules(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> list[tuple[FeeRule, list[FeeRuleVersion]]]:
    """Every rule of the project with its versions, oldest version first."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        rules = list((await session.scalars(select(FeeRule).where(FeeRule.project_id == project_id).order_by(FeeRule.code))).all())
        versions: dict[int, list[FeeRuleVersion]] = {rule.id: [] for rule in rules}
        if rules:
            for version in await session.scalars(
                select(FeeRuleVersion).where(FeeRuleVersion.rule_id.in_(versions)).order_by(FeeRuleVersion.version)
            ):
                versions[version.rule_id].append(version)
        return [(rule, versions[rule.id]) for rule in rules]


# --- discounts and waivers ------------------------------------------------------------------------


async def create_discount_rule(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    name: str,
    percent: Decimal,
    rule_codes: Sequence[str],
    vacant_only: bool = False,
    party_type: PartyType | None = None,
    effective_from: dt.date | None = None,
    effective_to: dt.date | None = None,
) -> DiscountRule:
    async with unit_of_work(session_factory) as work:
        session = work.session
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        codes = frozenset(code.strip().upper() for code in rule_codes if code.strip())
        candidate = engine.DiscountRule(
            id=0,
            name=name,
            percent=percent,
            rule_codes=codes,
            vacant_only=vacant_only,
            party_type=PartyType(party_type) if party_type else None,
            effective_from=effective_from,
            effective_to=effective_to,
        )
        try:
            validate_discount(candidate)
        except RuleValidationError as error:
            raise BadInput(error.message, field=error.field) from None
        check_places(percent, PERCENT_PLACES, "percent")
        known = set(await session.scalars(select(FeeRule.code).where(FeeRule.project_id == project_id, FeeRule.code.in_(codes))))
        if unknown := sorted(codes - known):
            raise NotFound(f"No fee rule with the code {unknown[0]} in this project.", field="ruleCodes")
        row = DiscountRule(
            project_id=project_id,
            name=name.strip(),
            percent=percent,
            rule_codes=sorted(codes),
            vacant_only=vacant_only,
            party_type=party_type,
            effective_from=effective_from,
            effective_to=effective_to,
            created_by=principal.user_id,
        )
        session.add(row)
        await session.flush()
        return row


async def list_discount_rules(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> list[DiscountRule]:
    return await _list_of_project(session_factory, principal, project_id, DiscountRule)


async def create_waiver(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    unit_id: int,
    rule_code: str,
    period: str,
    amount: Decimal | None,
    reason: str,
) -> Waiver:
    """A one-off reduction of one unit's charge under `rule_code` in `period`, approved by the caller."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        unit = await get_project_unit(session, principal, unit_id, allowed=may_manage_charges)
        try:
            label = BillingPeriod.parse(period).label
        except ValueError as error:
            raise BadInput(str(error), field="period") from None
        await queue_behind_bill_runs(session, unit.project_id)
        if await session.scalar(select(Bill.id).where(Bill.unit_id == unit.id, Bill.period == label)):
            raise Conflict(
                f"The unit's bill for {label} is already issued and a waiver would not change it; adjust the bill instead.",
                field="period",
            )
        code = rule_code.strip().upper()
        if not await session.scalar(select(FeeRule.id).where(FeeRule.project_id == unit.project_id, FeeRule.code == code)):
            raise NotFound(f"No fee rule with the code {code} in this project.", field="ruleCode")
        try:
            validate_waiver(
                engine.Waiver(id=0, unit_id=unit.id, rule_code=code, amount=amount, reason=reason, approved_by=principal.user_id)
            )
        except RuleValidationError as error:
            raise BadInput(error.message, field=error.field) from None
        if len(reason.strip()) > 500:
            raise BadInput("reason must be at most 500 characters.", field="reason")
        row = Waiver(
            project_id=unit.project_id,
            unit_id=unit.id,
            rule_code=code,
            period=label,
            amount=amount,
            reason=reason.strip(),
            approved_by=principal.user_id,
        )
        session.add(row)
        await session.flush()
        return row


async def list_waivers(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> list[Waiver]:
    return await _list_of_project(session_factory, principal, project_id, Waiver)


async def _list_of_project(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, project_id: int, model: type[Listed]
) -> list[Listed]:
    """The project's rows of `model` in the order they were made."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        return list((await session.scalars(select(model).where(model.project_id == project_id).order_by(model.id))).all())


# --- policies -------------------------------------------------------------------------------------


async def set_billing_policy(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    project_id: int,
    due_days: int,
    cycle_months: int,
    late_fee_daily_rate: Decimal,
    late_fee_grace_days: int,
    late_fee_cap_ratio: Decimal | None,
    late_fee_effective_from: dt.date | None = None,
) -> Policies:
    """Replace the project's billing cycle and due days, and put a late-fee policy in force from
    `late_fee_effective_from` (today in the project's time zone when not given) on.

    The late-fee policy is a new version unless it equals the one then in force; a version starting on
    the same day, today or later, is replaced. Days already past keep the version they had, so a start
    before today is refused.
    """
    async with unit_of_work(session_factory) as work:
        session = work.session
        project = await get_project(session, principal, project_id, allowed=may_manage_charges)
        if not 0 <= due_days <= 365:
            raise BadInput("dueDays must be between 0 and 365.", field="dueDays")
        if not 1 <= cycle_months <= 12:
            raise BadInput("cycleMonths must be between 1 and 12.", field="cycleMonths")
        today = now.astimezone(ZoneInfo(project.timezone)).date()
        effective_from = late_fee_effective_from or today
        if effective_from < today:
            raise BadInput(
                f"lateFeeEffectiveFrom must be today ({today}) or later: days already past keep the policy they had.",
                field="lateFeeEffectiveFrom",
            )
        policy = engine.LateFeePolicy(late_fee_daily_rate, late_fee_grace_days, late_fee_cap_ratio, effective_from)
        try:
            validate_late_fee_policy(policy)
        except RuleValidationError as error:
            raise BadInput(error.message, field=f"lateFee{error.field[0].upper()}{error.field[1:]}") from None
        check_places(late_fee_daily_rate, 6, "lateFeeDailyRate")
        check_places(late_fee_cap_ratio, 4, "lateFeeCapRatio")
        billing = await session.get(BillingPolicy, project_id)
        if billing is None:
            session.add(BillingPolicy(project_id=project_id, due_days=due_days, cycle_months=cycle_months))
        else:
            billing.due_days, billing.cycle_months = due_days, cycle_months
        await _put_late_fee_version(session, project_id, policy, principal.user_id)
        await session.flush()
        return await load_policies(session, project_id)


async def _put_late_fee_version(
    session: AsyncSession, project_id: int, policy: engine.LateFeePolicy, user_id: int | None
) -> None:
    """Add `policy` as the version from its first day; replace a version starting that same day."""
    in_force = late_fee_policy_on((await load_policies(session, project_id)).late_fee_versions, policy.effective_from)
    if in_force is not None and (in_force.daily_rate, in_force.grace_days, in_force.cap_ratio) == (
        policy.daily_rate,
        policy.grace_days,
        policy.cap_ratio,
    ):
        return
    same_day = await session.scalar(
        select(LateFeePolicyVersion).where(
            LateFeePolicyVersion.project_id == project_id, LateFeePolicyVersion.effective_from == policy.effective_from
        )
    )
    if same_day is None:
        session.add(
            LateFeePolicyVersion(
                project_id=project_id,
                effective_from=policy.effective_from,
                daily_rate=policy.daily_rate,
                grace_days=policy.grace_days,
                cap_ratio=policy.cap_ratio,
                created_by=user_id,
            )
        )
    else:
        same_day.daily_rate, same_day.grace_days, same_day.cap_ratio = policy.daily_rate, policy.grace_days, policy.cap_ratio
        same_day.created_by = user_id


async def get_billing_policy(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> Policies:
    """The project's billing cycle, due days and late-fee policy."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        return await load_policies(session, project_id)
