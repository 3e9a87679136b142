"""Use cases of the finance desk's rule book: fee rules and their versions, discounts, waivers, policies.

Rules are data: each rule is a series (code and kind) of effective-dated versions. Changing a rule
issues a new version from a date, which ends the version before it; retiring ends the latest version.
Every input is checked by the engine's own validation, so a rule that is stored can always be priced.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import model as engine
from billing.guards import get_fee_rule, get_project, get_project_unit
from billing.model import BillingPeriod
from billing.policy import may_manage_charges
from billing.rules import (
    RuleValidationError,
    validate_discount,
    validate_late_fee_policy,
    validate_rule,
    validate_waiver,
)
from db.models import (
    BillingPolicy,
    Building,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    LateFeePolicyRow,
    Unit,
    Waiver,
)
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.vocabulary import FeeRuleKind, PartyType, UnitKind

__all__ = [
    "DEFAULT_CYCLE_MONTHS",
    "DEFAULT_DUE_DAYS",
    "Policies",
    "RuleDefinition",
    "ScopeDefinition",
    "TierDefinition",
    "add_fee_rule_version",
    "create_discount_rule",
    "create_fee_rule",
    "create_waiver",
    "definition_of",
    "engine_discount",
    "engine_rule",
    "engine_waiver",
    "insert_fee_rule",
    "list_discount_rules",
    "list_fee_rules",
    "list_waivers",
    "load_policies",
    "retire_fee_rule",
    "set_billing_policy",
    "validate_definition",
]

DEFAULT_DUE_DAYS = 15
DEFAULT_CYCLE_MONTHS = 1

_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_METER_TYPE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PRICE_PLACES = 6
_QUANTITY_PLACES = 3
_PERCENT_PLACES = 4


@dataclass(frozen=True)
class TierDefinition:
    starts_at: Decimal
    up_to: Decimal | None
    unit_price: Decimal


@dataclass(frozen=True)
class ScopeDefinition:
    unit_kinds: tuple[UnitKind, ...] = ()
    building_ids: tuple[int, ...] = ()
    unit_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class RuleDefinition:
    """Everything one version of a rule says; only the parameters of the rule's kind are set."""

    name: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    scope: ScopeDefinition = field(default_factory=ScopeDefinition)
    rate_per_square_metre: Decimal | None = None
    amount_per_cycle: Decimal | None = None
    meter_type: str | None = None
    tiers: tuple[TierDefinition, ...] = ()
    tier_period: engine.TierPeriod | None = None
    apportion_total: Decimal | None = None
    apportion_basis: engine.ApportionBasis | None = None


@dataclass(frozen=True)
class Policies:
    """A project's billing cycle, due days and late-fee policy (defaults when none was set)."""

    due_days: int
    cycle_months: int
    late_fee: engine.LateFeePolicy


# --- conversion between rows and the engine -------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _params(definition: RuleDefinition) -> dict[str, object]:
    params: dict[str, object] = {
        "rate_per_square_metre": _decimal_text(definition.rate_per_square_metre),
        "amount_per_cycle": _decimal_text(definition.amount_per_cycle),
        "meter_type": definition.meter_type,
        "tier_period": definition.tier_period.value if definition.tier_period else None,
        "apportion_total": _decimal_text(definition.apportion_total),
        "apportion_basis": definition.apportion_basis.value if definition.apportion_basis else None,
    }
    params = {key: value for key, value in params.items() if value is not None}
    if definition.tiers:
        params["tiers"] = [
            {"starts_at": str(t.starts_at), "up_to": _decimal_text(t.up_to), "unit_price": str(t.unit_price)}
            for t in definition.tiers
        ]
    return params


def _scope_json(scope: ScopeDefinition) -> dict[str, list[object]]:
    return {
        "unit_kinds": sorted(kind.value for kind in scope.unit_kinds),
        "building_ids": sorted(scope.building_ids),
        "unit_ids": sorted(scope.unit_ids),
    }


def scope_definition(version: FeeRuleVersion) -> ScopeDefinition:
    scope = version.scope or {}
    return ScopeDefinition(
        unit_kinds=tuple(UnitKind(kind) for kind in scope.get("unit_kinds", [])),
        building_ids=tuple(scope.get("building_ids", [])),
        unit_ids=tuple(scope.get("unit_ids", [])),
    )


def definition_of(version: FeeRuleVersion) -> RuleDefinition:
    """A stored version as the definition it was created from."""
    params = version.params or {}
    return RuleDefinition(
        name=version.name,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        scope=scope_definition(version),
        rate_per_square_metre=_decimal(params.get("rate_per_square_metre")),
        amount_per_cycle=_decimal(params.get("amount_per_cycle")),
        meter_type=params.get("meter_type"),
        tiers=tuple(
            TierDefinition(
                starts_at=Decimal(tier["starts_at"]),
                up_to=_decimal(tier["up_to"]),
                unit_price=Decimal(tier["unit_price"]),
            )
            for tier in params.get("tiers", [])
        ),
        tier_period=engine.TierPeriod(params["tier_period"]) if params.get("tier_period") else None,
        apportion_total=_decimal(params.get("apportion_total")),
        apportion_basis=engine.ApportionBasis(params["apportion_basis"]) if params.get("apportion_basis") else None,
    )


def _engine_rule(rule_id: int, code: str, kind: FeeRuleKind, definition: RuleDefinition) -> engine.FeeRule:
    scope = definition.scope
    return engine.FeeRule(
        id=rule_id,
        code=code,
        name=definition.name,
        kind=kind,
        effective_from=definition.effective_from,
        effective_to=definition.effective_to,
        scope=engine.RuleScope(
            unit_kinds=frozenset(UnitKind(kind) for kind in scope.unit_kinds),
            building_ids=frozenset(scope.building_ids),
            unit_ids=frozenset(scope.unit_ids),
        ),
        rate_per_square_metre=definition.rate_per_square_metre,
        amount_per_cycle=definition.amount_per_cycle,
        meter_type=definition.meter_type,
        tiers=tuple(engine.Tier(t.starts_at, t.up_to, t.unit_price) for t in definition.tiers),
        tier_period=definition.tier_period,
        apportion_total=definition.apportion_total,
        apportion_basis=definition.apportion_basis,
    )


def engine_rule(rule: FeeRule, version: FeeRuleVersion) -> engine.FeeRule:
    """A stored version as the engine's rule; its id is the version's id, which bill lines record."""
    return _engine_rule(version.id, rule.code, rule.kind, definition_of(version))


def engine_discount(row: DiscountRule) -> engine.DiscountRule:
    return engine.DiscountRule(
        id=row.id,
        name=row.name,
        percent=row.percent,
        rule_codes=frozenset(row.rule_codes),
        vacant_only=row.vacant_only,
        party_type=row.party_type,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
    )


def engine_waiver(row: Waiver) -> engine.Waiver:
    return engine.Waiver(
        id=row.id,
        unit_id=row.unit_id,
        rule_code=row.rule_code,
        amount=row.amount,
        reason=row.reason,
        approved_by=row.approved_by,
    )


# --- validation -----------------------------------------------------------------------------------


def _places(value: Decimal | None, places: int, field_name: str) -> None:
    if value is None:
        return
    if not value.is_finite():
        raise BadInput(f"{field_name} must be a finite number.", field=field_name)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places:
        raise BadInput(f"{field_name} may have at most {places} decimal places.", field=field_name)


def _check_precision(definition: RuleDefinition) -> None:
    # The database keeps prices and quantities as scaled integers; refuse what they could not hold.
    _places(definition.rate_per_square_metre, _PRICE_PLACES, "ratePerSquareMetre")
    for index, tier in enumerate(definition.tiers):
        _places(tier.starts_at, _QUANTITY_PLACES, f"tiers[{index}].startsAt")
        _places(tier.up_to, _QUANTITY_PLACES, f"tiers[{index}].upTo")
        _places(tier.unit_price, _PRICE_PLACES, f"tiers[{index}].unitPrice")


def validate_definition(code: str, kind: FeeRuleKind, definition: RuleDefinition) -> None:
    """Raise BadInput naming the first field that makes this version of a rule unusable."""
    if len(definition.name.strip()) > 200:
        raise BadInput("name must be at most 200 characters.", field="name")
    if definition.meter_type is not None and not _METER_TYPE.fullmatch(definition.meter_type):
        raise BadInput(
            "meterType must be a lower-case word such as electricity or water (letters, digits, _).",
            field="meterType",
        )
    try:
        validate_rule(_engine_rule(0, code, kind, definition))
    except RuleValidationError as error:
        raise BadInput(error.message, field=error.field) from None
    _check_precision(definition)


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
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    code: str,
    kind: FeeRuleKind,
    definition: RuleDefinition,
) -> FeeRule:
    """A new rule series with its first version."""
    await get_project(session, principal, project_id, allowed=may_manage_charges)
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        raise BadInput("code must be 1–40 capital letters, digits or _ and start with a letter.", field="code")
    validate_definition(code, kind, definition)
    await _check_scope(session, project_id, kind, definition.scope)
    if await session.scalar(select(FeeRule.id).where(FeeRule.project_id == project_id, FeeRule.code == code)):
        raise Conflict(f"A fee rule with the code {code} already exists; issue a new version of it instead.", field="code")
    return await insert_fee_rule(
        session, project_id=project_id, code=code, kind=kind, definition=definition, created_by=principal.user_id
    )


async def insert_fee_rule(
    session: AsyncSession,
    *,
    project_id: int,
    code: str,
    kind: FeeRuleKind,
    definition: RuleDefinition,
    created_by: int | None,
) -> FeeRule:
    """Store a validated rule series with its first version (no permission check: seeding, imports)."""
    rule = FeeRule(project_id=project_id, code=code, kind=kind, created_by=created_by)
    session.add(rule)
    await session.flush()
    session.add(_version_row(rule.id, 1, definition, created_by))
    await session.flush()
    return rule


def _version_row(rule_id: int, number: int, definition: RuleDefinition, user_id: int | None) -> FeeRuleVersion:
    return FeeRuleVersion(
        rule_id=rule_id,
        version=number,
        name=definition.name.strip(),
        effective_from=definition.effective_from,
        effective_to=definition.effective_to,
        scope=_scope_json(definition.scope),
        params=_params(definition),
        created_by=user_id,
    )


async def add_fee_rule_version(
    session: AsyncSession, principal: Principal, *, rule_id: int, definition: RuleDefinition
) -> FeeRule:
    """Change a rule from `definition.effective_from` on: a new version, which ends the one before it."""
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
    session.add(_version_row(rule.id, latest.version + 1, definition, principal.user_id))
    await session.flush()
    return rule


async def retire_fee_rule(
    session: AsyncSession, principal: Principal, *, rule_id: int, effective_to: dt.date
) -> FeeRule:
    """End the rule: its latest version charges no period that starts after `effective_to`."""
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
    session: AsyncSession, principal: Principal, *, project_id: int
) -> list[tuple[FeeRule, list[FeeRuleVersion]]]:
    """Every rule of the project with its versions, oldest version first."""
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
    session: AsyncSession,
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
    _places(percent, _PERCENT_PLACES, "percent")
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


async def list_discount_rules(session: AsyncSession, principal: Principal, *, project_id: int) -> list[DiscountRule]:
    await get_project(session, principal, project_id, allowed=may_manage_charges)
    return list(
        (await session.scalars(select(DiscountRule).where(DiscountRule.project_id == project_id).order_by(DiscountRule.id))).all()
    )


async def create_waiver(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: int,
    rule_code: str,
    period: str,
    amount: Decimal | None,
    reason: str,
) -> Waiver:
    """A one-off reduction of one unit's charge under `rule_code` in `period`, approved by the caller."""
    unit = await get_project_unit(session, principal, unit_id, allowed=may_manage_charges)
    try:
        label = BillingPeriod.parse(period).label
    except ValueError as error:
        raise BadInput(str(error), field="period") from None
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


async def list_waivers(session: AsyncSession, principal: Principal, *, project_id: int) -> list[Waiver]:
    await get_project(session, principal, project_id, allowed=may_manage_charges)
    return list((await session.scalars(select(Waiver).where(Waiver.project_id == project_id).order_by(Waiver.id))).all())


# --- policies -------------------------------------------------------------------------------------


async def load_policies(session: AsyncSession, project_id: int) -> Policies:
    billing = await session.get(BillingPolicy, project_id)
    late = await session.get(LateFeePolicyRow, project_id)
    return Policies(
        due_days=billing.due_days if billing else DEFAULT_DUE_DAYS,
        cycle_months=billing.cycle_months if billing else DEFAULT_CYCLE_MONTHS,
        late_fee=engine.LateFeePolicy(
            daily_rate=late.daily_rate if late else Decimal(0),
            grace_days=late.grace_days if late else 0,
            cap_ratio=late.cap_ratio if late else None,
        ),
    )


async def set_billing_policy(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    due_days: int,
    cycle_months: int,
    late_fee_daily_rate: Decimal,
    late_fee_grace_days: int,
    late_fee_cap_ratio: Decimal | None,
) -> Policies:
    """Replace the project's billing cycle, due days and late-fee policy."""
    await get_project(session, principal, project_id, allowed=may_manage_charges)
    if not 0 <= due_days <= 365:
        raise BadInput("dueDays must be between 0 and 365.", field="dueDays")
    if not 1 <= cycle_months <= 12:
        raise BadInput("cycleMonths must be between 1 and 12.", field="cycleMonths")
    policy = engine.LateFeePolicy(late_fee_daily_rate, late_fee_grace_days, late_fee_cap_ratio)
    try:
        validate_late_fee_policy(policy)
    except RuleValidationError as error:
        raise BadInput(error.message, field=f"lateFee{error.field[0].upper()}{error.field[1:]}") from None
    _places(late_fee_daily_rate, 6, "lateFeeDailyRate")
    _places(late_fee_cap_ratio, 4, "lateFeeCapRatio")
    billing = await session.get(BillingPolicy, project_id)
    if billing is None:
        session.add(BillingPolicy(project_id=project_id, due_days=due_days, cycle_months=cycle_months))
    else:
        billing.due_days, billing.cycle_months = due_days, cycle_months
    late = await session.get(LateFeePolicyRow, project_id)
    if late is None:
        session.add(
            LateFeePolicyRow(
                project_id=project_id,
                daily_rate=late_fee_daily_rate,
                grace_days=late_fee_grace_days,
                cap_ratio=late_fee_cap_ratio,
            )
        )
    else:
        late.daily_rate, late.grace_days, late.cap_ratio = late_fee_daily_rate, late_fee_grace_days, late_fee_cap_ratio
    await session.flush()
    return await load_policies(session, project_id)
