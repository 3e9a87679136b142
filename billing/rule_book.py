"""The rule book as stored: what a fee rule's version says (its definition), how it is kept in rows, how
the rule engine sees it, how it is checked before it is stored, and a project's billing policy.

Rules are data: each rule is a series (code and kind) of effective-dated versions. Every definition is
checked by the engine's own validation, so a rule that is stored can always be priced.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing import model as engine
from billing.rules import RuleValidationError, validate_rule
from db.models import (
    BillingPolicy,
    DiscountRule,
    FeeRule,
    FeeRuleVersion,
    LateFeePolicyVersion,
    Waiver,
)
from kernel.errors import BadInput
from kernel.vocabulary import FeeRuleKind, UnitKind

__all__ = [
    "CODE",
    "DEFAULT_CYCLE_MONTHS",
    "DEFAULT_DUE_DAYS",
    "PERCENT_PLACES",
    "Policies",
    "RuleDefinition",
    "ScopeDefinition",
    "TierDefinition",
    "check_places",
    "definition_of",
    "engine_discount",
    "engine_rule",
    "engine_waiver",
    "insert_fee_rule",
    "late_fee_versions",
    "load_policies",
    "validate_definition",
    "version_row",
]

DEFAULT_DUE_DAYS = 15
DEFAULT_CYCLE_MONTHS = 1

CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_METER_TYPE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PRICE_PLACES = 6
_QUANTITY_PLACES = 3
PERCENT_PLACES = 4


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
    """A project's billing cycle, due days and late-fee policy versions (defaults when none was set).

    `late_fee` is the latest version (possibly starting in the future); fees are computed with every
    version in `late_fee_versions`, oldest first.
    """

    due_days: int
    cycle_months: int
    late_fee_versions: tuple[engine.LateFeePolicy, ...]

    @property
    def late_fee(self) -> engine.LateFeePolicy:
        return self.late_fee_versions[-1] if self.late_fee_versions else engine.LateFeePolicy(daily_rate=Decimal(0))


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


def check_places(value: Decimal | None, places: int, field_name: str) -> None:
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
    check_places(definition.rate_per_square_metre, _PRICE_PLACES, "ratePerSquareMetre")
    for index, tier in enumerate(definition.tiers):
        check_places(tier.starts_at, _QUANTITY_PLACES, f"tiers[{index}].startsAt")
        check_places(tier.up_to, _QUANTITY_PLACES, f"tiers[{index}].upTo")
        check_places(tier.unit_price, _PRICE_PLACES, f"tiers[{index}].unitPrice")


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
    session.add(version_row(rule.id, 1, definition, created_by))
    await session.flush()
    return rule


def version_row(rule_id: int, number: int, definition: RuleDefinition, user_id: int | None) -> FeeRuleVersion:
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


# --- policies -------------------------------------------------------------------------------------


async def load_policies(session: AsyncSession, project_id: int) -> Policies:
    """The project's billing cycle, due days and late-fee policy, defaults where none was set."""
    billing = await session.get(BillingPolicy, project_id)
    versions = await session.scalars(
        select(LateFeePolicyVersion)
        .where(LateFeePolicyVersion.project_id == project_id)
        .order_by(LateFeePolicyVersion.effective_from)
    )
    return Policies(
        due_days=billing.due_days if billing else DEFAULT_DUE_DAYS,
        cycle_months=billing.cycle_months if billing else DEFAULT_CYCLE_MONTHS,
        late_fee_versions=tuple(late_fee_policy_of(version) for version in versions),
    )


_VERSION = LateFeePolicyVersion.__table__
# Built once: building a statement costs more than running it (payments read the versions).
_LATE_FEE_VERSIONS = (
    select(_VERSION.c.daily_rate, _VERSION.c.grace_days, _VERSION.c.cap_ratio, _VERSION.c.effective_from)
    .where(_VERSION.c.project_id == bindparam("project_id"))
    .order_by(_VERSION.c.effective_from)
)


async def late_fee_versions(session: AsyncSession, project_id: int) -> tuple[engine.LateFeePolicy, ...]:
    """The project's late-fee policy versions as the engine takes them, oldest first: `load_policies`'s
    late fee alone, read as plain rows in one statement."""
    rows = await (await session.connection()).execute(_LATE_FEE_VERSIONS, {"project_id": project_id})
    return tuple(
        engine.LateFeePolicy(daily_rate=rate, grace_days=grace, cap_ratio=cap, effective_from=start)
        for rate, grace, cap, start in rows
    )


def late_fee_policy_of(version: LateFeePolicyVersion) -> engine.LateFeePolicy:
    """A stored late-fee policy version as the engine takes it."""
    return engine.LateFeePolicy(
        daily_rate=version.daily_rate,
        grace_days=version.grace_days,
        cap_ratio=version.cap_ratio,
        effective_from=version.effective_from,
    )
