"""The billing rule engine: validates fee rules and turns units, usages and rules into bill lines.

A bill run over a large project uses it in three steps, so each step can stream:

1. `prepare_rules` validates the rules and discounts once and keeps those in effect for the period;
2. `apportion_all` makes one pass over every unit (and usage) to share out the apportioned totals;
3. `compute_unit_lines` prices one unit at a time, batch by batch.

`compute_bill_lines` does all three for a whole project held in memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import TypeVar

from billing.model import (
    ApportionBasis,
    Apportionment,
    BillingPeriod,
    BillLineDraft,
    DiscountRule,
    Explanation,
    FeeRule,
    LateFeeBreakdown,
    LateFeePolicy,
    LateFeeStretch,
    MeterUsage,
    Phrase,
    ReadingTally,
    RuleScope,
    Tier,
    TierCharge,
    TierPeriod,
    UnitSnapshot,
    Waiver,
    phrase,
)
from billing.money import round_money, split_by_largest_remainder
from kernel.vocabulary import BillLineKind, FeeRuleKind

__all__ = [
    "ApportionmentError",
    "LateFeePolicies",
    "PreparedRules",
    "RuleValidationError",
    "apportion",
    "apportion_all",
    "charge_tiers",
    "compute_bill_lines",
    "compute_unit_lines",
    "late_fee",
    "late_fee_breakdown",
    "late_fee_explanation",
    "late_fee_policy_on",
    "prepare_rules",
    "rule_applies",
    "usages_to_bill",
    "validate_discount",
    "validate_late_fee_policy",
    "validate_rule",
    "validate_waiver",
]

_ZERO = Decimal(0)
_NO_MONEY = Decimal("0.00")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)

_BASIS_WORDS = {
    ApportionBasis.AREA: "floor area",
    ApportionBasis.EQUAL: "units",
    ApportionBasis.USAGE: "usage",
}

# Explanations name the quantity's unit for the meter types every project has; others show bare numbers.
_USAGE_UNITS = {"electricity": "kWh", "water": "m³", "gas": "m³", "hot_water": "m³"}


class RuleValidationError(ValueError):
    """A rule, discount, waiver or policy refused; `field` is the camelCase path of the GraphQL input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ApportionmentError(RuleValidationError):
    """An apportioned total cannot be shared: nothing is in scope, or the units in scope weigh nothing."""

    def __init__(self, rule_code: str, field: str, message: str) -> None:
        super().__init__(field, f"rule {rule_code}: {message}")
        self.rule_code = rule_code


# --- validation -----------------------------------------------------------------------------------


def validate_rule(rule: FeeRule) -> None:
    """Raise RuleValidationError naming the first input field that makes `rule` unusable."""
    if not rule.code.strip():
        raise RuleValidationError("code", "must not be empty")
    if not rule.name.strip():
        raise RuleValidationError("name", "must not be empty")
    if rule.effective_to is not None and rule.effective_to < rule.effective_from:
        raise RuleValidationError("effectiveTo", "must not be before effectiveFrom")
    _reject_parameters_of_other_kinds(rule)
    if rule.kind == FeeRuleKind.PER_AREA:
        _require_non_negative(rule.rate_per_square_metre, "ratePerSquareMetre", rule.kind)
    elif rule.kind == FeeRuleKind.FIXED:
        _require_non_negative(rule.amount_per_cycle, "amountPerCycle", rule.kind)
        _require_whole_fen(rule.amount_per_cycle, "amountPerCycle")
    elif rule.kind == FeeRuleKind.METERED_TIERED:
        _require_meter_type(rule)
        if rule.tier_period is None:
            raise RuleValidationError("tierPeriod", "is required for a metered_tiered rule")
        _validate_tiers(rule.tiers)
    else:
        total = _require_non_negative(rule.apportion_total, "apportionTotal", rule.kind)
        if total <= 0:
            raise RuleValidationError("apportionTotal", "must be positive")
        _require_whole_fen(total, "apportionTotal")
        if rule.apportion_basis is None:
            raise RuleValidationError("apportionBasis", "is required for an apportioned rule")
        if rule.apportion_basis == ApportionBasis.USAGE:
            _require_meter_type(rule)


def validate_discount(discount: DiscountRule) -> None:
    """Raise RuleValidationError naming the first unusable field of a discount rule."""
    if not discount.name.strip():
        raise RuleValidationError("name", "must not be empty")
    percent = _require_non_negative(discount.percent, "percent", None)
    if percent > _HUNDRED:
        raise RuleValidationError("percent", "must be between 0 and 100")
    if not discount.rule_codes:
        raise RuleValidationError("ruleCodes", "must name at least one rule code")
    if (
        discount.effective_from is not None
        and discount.effective_to is not None
        and discount.effective_to < discount.effective_from
    ):
        raise RuleValidationError("effectiveTo", "must not be before effectiveFrom")


def validate_waiver(waiver: Waiver) -> None:
    """Raise RuleValidationError naming the first unusable field of a waiver."""
    if not waiver.rule_code.strip():
        raise RuleValidationError("ruleCode", "must not be empty")
    if not waiver.reason.strip():
        raise RuleValidationError("reason", "a waiver needs a reason")
    if waiver.amount is not None:
        if _require_non_negative(waiver.amount, "amount", None) <= 0:
            raise RuleValidationError("amount", "must be positive; leave it empty to waive in full")
        _require_whole_fen(waiver.amount, "amount")


def validate_late_fee_policy(policy: LateFeePolicy) -> None:
    """Raise RuleValidationError naming the first unusable field of a late-fee policy."""
    _require_non_negative(policy.daily_rate, "dailyRate", None)
    if policy.grace_days < 0:
        raise RuleValidationError("graceDays", "must not be negative")
    if policy.cap_ratio is not None:
        _require_non_negative(policy.cap_ratio, "capRatio", None)


_PARAMETER_FIELDS: tuple[tuple[str, str, frozenset[FeeRuleKind]], ...] = (
    ("rate_per_square_metre", "ratePerSquareMetre", frozenset({FeeRuleKind.PER_AREA})),
    ("amount_per_cycle", "amountPerCycle", frozenset({FeeRuleKind.FIXED})),
    ("meter_type", "meterType", frozenset({FeeRuleKind.METERED_TIERED, FeeRuleKind.APPORTIONED})),
    ("tiers", "tiers", frozenset({FeeRuleKind.METERED_TIERED})),
    ("tier_period", "tierPeriod", frozenset({FeeRuleKind.METERED_TIERED})),
    ("apportion_total", "apportionTotal", frozenset({FeeRuleKind.APPORTIONED})),
    ("apportion_basis", "apportionBasis", frozenset({FeeRuleKind.APPORTIONED})),
)


def _reject_parameters_of_other_kinds(rule: FeeRule) -> None:
    # A parameter that the rule's kind ignores is almost always a mistake in the form, so say so.
    for attribute, input_field, kinds in _PARAMETER_FIELDS:
        value = getattr(rule, attribute)
        is_set = bool(value) if attribute == "tiers" else value is not None
        if is_set and rule.kind not in kinds:
            raise RuleValidationError(input_field, f"does not apply to a {rule.kind} rule")
    if (
        rule.kind == FeeRuleKind.APPORTIONED
        and rule.meter_type is not None
        and rule.apportion_basis != ApportionBasis.USAGE
    ):
        raise RuleValidationError("meterType", "only an apportionment by usage reads a meter")


def _require_non_negative(value: Decimal | None, field: str, kind: FeeRuleKind | None) -> Decimal:
    if value is None:
        raise RuleValidationError(field, f"is required for a {kind} rule" if kind else "is required")
    if not value.is_finite():
        raise RuleValidationError(field, "must be a finite number")
    if value < 0:
        raise RuleValidationError(field, "must not be negative")
    return value


def _require_whole_fen(value: Decimal | None, field: str) -> None:
    if value is not None and value != round_money(value):
        raise RuleValidationError(field, "must be a whole number of fen (at most two decimal places)")


def _require_meter_type(rule: FeeRule) -> None:
    if rule.meter_type is None or not rule.meter_type.strip():
        purpose = "a metered rule" if rule.kind == FeeRuleKind.METERED_TIERED else "apportioning by usage"
        raise RuleValidationError("meterType", f"is required for {purpose}")


def _validate_tiers(tiers: Sequence[Tier]) -> None:
    if not tiers:
        raise RuleValidationError("tiers", "a metered rule needs at least one tier")
    previous_up_to = _ZERO
    for index, tier in enumerate(tiers):
        path = f"tiers[{index}]"
        starts_at = _require_non_negative(tier.starts_at, f"{path}.startsAt", None)
        if index == 0 and starts_at != 0:
            raise RuleValidationError(f"{path}.startsAt", "the first tier must start at 0")
        if starts_at < previous_up_to:
            raise RuleValidationError(
                f"{path}.startsAt", f"overlaps tier {index - 1}, which runs up to {previous_up_to}"
            )
        if starts_at == previous_up_to + 1 and previous_up_to == previous_up_to.to_integral_value():
            # The published form of a tariff ("0–240, 241–400") counts whole units inclusively.
            raise RuleValidationError(
                f"{path}.startsAt",
                f"enter a published range {_plain(starts_at)}–… as startsAt {_plain(previous_up_to)}: a tier"
                f" starts where the one before ends (upTo {_plain(previous_up_to)}) and covers usage above it,"
                f" so 0–240, 241–400, 401+ is entered as 0–240, 240–400, 400+",
            )
        if starts_at > previous_up_to:
            raise RuleValidationError(
                f"{path}.startsAt", f"leaves a gap after tier {index - 1}, which ends at {previous_up_to}"
            )
        is_last = index == len(tiers) - 1
        if tier.up_to is None:
            if not is_last:
                raise RuleValidationError(f"{path}.upTo", "only the last tier may be open-ended")
        else:
            up_to = _require_non_negative(tier.up_to, f"{path}.upTo", None)
            if up_to <= starts_at:
                raise RuleValidationError(f"{path}.upTo", "must be greater than startsAt")
            if is_last:
                raise RuleValidationError(
                    f"{path}.upTo", "the last tier must be open-ended so that every usage has a price"
                )
            previous_up_to = up_to
        _require_non_negative(tier.unit_price, f"{path}.unitPrice", None)


# --- which rules apply ----------------------------------------------------------------------------


def rule_applies(rule: FeeRule, unit: UnitSnapshot, period: BillingPeriod) -> bool:
    """Whether `rule` charges `unit` for `period`.

    A rule charges a period when the version is in effect on the period's first day, so a version that
    takes over mid-period starts with the next period and two versions never both charge one period.
    """
    return _in_effect(rule.effective_from, rule.effective_to, period.start) and _in_scope(rule.scope, unit)


def _in_effect(effective_from: date | None, effective_to: date | None, day: date) -> bool:
    return (effective_from is None or effective_from <= day) and (effective_to is None or day <= effective_to)


def _in_scope(scope: RuleScope, unit: UnitSnapshot) -> bool:
    return (
        (not scope.unit_kinds or unit.kind in scope.unit_kinds)
        and (not scope.building_ids or unit.building_id in scope.building_ids)
        and (not scope.unit_ids or unit.unit_id in scope.unit_ids)
    )


# --- preparing a period ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RulePlan:
    """A rule in effect for the period, with what every unit's computation would otherwise redo."""

    rule: FeeRule
    tiers: tuple[Tier, ...]
    tier_note: Explanation
    tier_price_texts: tuple[str, ...]
    rate_text: str
    usage_symbol: str
    discounts: tuple[tuple[DiscountRule, Decimal], ...]
    # Lines already drafted, by what they depend on: flats of one plan share an area, meters show whole
    # units, so a bill run meets the same inputs again and again.
    charges: dict[tuple[object, ...], BillLineDraft] = field(default_factory=dict)
    discount_lines: dict[tuple[int, Decimal], BillLineDraft] = field(default_factory=dict)


class PreparedRules:
    """A project's rules and discounts for one period: validated, filtered to those in effect.

    Made by `prepare_rules` once per bill run and shared by every unit's `compute_unit_lines` call.
    """

    __slots__ = ("_plans", "period", "rules")

    def __init__(self, period: BillingPeriod, plans: tuple[_RulePlan, ...]) -> None:
        self.period = period
        self.rules = tuple(plan.rule for plan in plans)
        self._plans = plans

    @property
    def apportioned_rules(self) -> tuple[FeeRule, ...]:
        return tuple(rule for rule in self.rules if rule.kind == FeeRuleKind.APPORTIONED)


def prepare_rules(
    rules: Iterable[FeeRule], discounts: Iterable[DiscountRule], period: BillingPeriod
) -> PreparedRules:
    """Validate every rule and discount and keep, in the given order, those in effect for `period`.

    Raises RuleValidationError for an invalid rule or discount, ValueError for two rules with one id.
    """
    in_effect_discounts: list[DiscountRule] = []
    for discount in discounts:
        validate_discount(discount)
        if _in_effect(discount.effective_from, discount.effective_to, period.start):
            in_effect_discounts.append(discount)
    plans: list[_RulePlan] = []
    seen_ids: set[int] = set()
    for rule in rules:
        validate_rule(rule)
        if not _in_effect(rule.effective_from, rule.effective_to, period.start):
            continue
        if rule.id in seen_ids:
            raise ValueError(f"two rules in effect share the id {rule.id}")
        seen_ids.add(rule.id)
        tiers, tier_note = _tiers_for_period(rule, period)
        rule_discounts = tuple(
            (discount, discount.percent / _HUNDRED)
            for discount in in_effect_discounts
            if rule.code in discount.rule_codes
        )
        plans.append(
            _RulePlan(
                rule=rule,
                tiers=tiers,
                tier_note=tier_note,
                tier_price_texts=tuple(_at_least_cents(tier.unit_price) for tier in tiers),
                rate_text=(
                    "" if rule.rate_per_square_metre is None else _at_least_cents(rule.rate_per_square_metre)
                ),
                usage_symbol=_usage_symbol(rule.meter_type),
                discounts=rule_discounts,
            )
        )
    return PreparedRules(period, tuple(plans))


def _tiers_for_period(rule: FeeRule, period: BillingPeriod) -> tuple[tuple[Tier, ...], Explanation]:
    # Monthly tiers cover one month's usage, so a cycle of several months widens each tier as many times.
    if rule.tier_period != TierPeriod.MONTH or period.months == 1:
        return rule.tiers, ()
    months = Decimal(period.months)
    widened = tuple(
        Tier(
            starts_at=tier.starts_at * months,
            up_to=None if tier.up_to is None else tier.up_to * months,
            unit_price=tier.unit_price,
        )
        for tier in rule.tiers
    )
    return widened, (phrase("monthly_tiers_widened", months=period.months),)


# --- apportionment --------------------------------------------------------------------------------


def apportion(
    rule: FeeRule,
    units: Iterable[UnitSnapshot],
    usages: Iterable[MeterUsage] = (),
    *,
    shared_total: Decimal | None = None,
) -> Apportionment:
    """Share an apportioned rule's total among the units of `units` in its scope, exactly to the fen.

    `shared_total` replaces the rule's configured total (e.g. this month's common-meter bill). Units are
    ordered by id before splitting, so equal remainders always favour the lowest unit id. Raises
    ApportionmentError when no unit is in scope or the units in scope weigh nothing.
    """
    if rule.kind != FeeRuleKind.APPORTIONED:
        raise ValueError(f"rule {rule.code} is {rule.kind}, not apportioned")
    validate_rule(rule)
    totals = {} if shared_total is None else {rule.id: shared_total}
    return _apportion_rules((rule,), units, usages, totals)[rule.id]


def apportion_all(
    prepared: PreparedRules,
    units: Iterable[UnitSnapshot],
    usages: Iterable[MeterUsage] = (),
    *,
    shared_totals: Mapping[int, Decimal] | None = None,
) -> dict[int, Apportionment]:
    """Apportion every apportioned rule in effect in one pass over `units`, keyed by rule id.

    Pass every unit of the project; usages are read only for rules apportioned by usage.
    `shared_totals` (by rule id) replaces configured totals for this period.
    """
    rules = prepared.apportioned_rules
    if not rules:
        return {}
    return _apportion_rules(rules, units, usages, shared_totals or {})


def _apportion_rules(
    rules: Sequence[FeeRule],
    units: Iterable[UnitSnapshot],
    usages: Iterable[MeterUsage],
    shared_totals: Mapping[int, Decimal],
) -> dict[int, Apportionment]:
    metered_types = {rule.meter_type for rule in rules if rule.apportion_basis == ApportionBasis.USAGE}
    usage_by_unit_and_meter: dict[tuple[int, str], Decimal] = {}
    if metered_types:
        for usage in usages:
            if usage.meter_type in metered_types:
                usage_by_unit_and_meter[(usage.unit_id, usage.meter_type)] = usage.usage
    members: dict[int, list[tuple[int, Decimal]]] = {rule.id: [] for rule in rules}
    for unit in units:
        for rule in rules:
            if not _in_scope(rule.scope, unit):
                continue
            if rule.apportion_basis == ApportionBasis.AREA:
                weight = unit.floor_area
            elif rule.apportion_basis == ApportionBasis.EQUAL:
                weight = _ONE
            else:
                weight = usage_by_unit_and_meter.get((unit.unit_id, rule.meter_type or ""), _ZERO)
            members[rule.id].append((unit.unit_id, weight))
    return {rule.id: _split_rule_total(rule, members[rule.id], shared_totals.get(rule.id)) for rule in rules}


def _split_rule_total(
    rule: FeeRule, members: list[tuple[int, Decimal]], shared_total: Decimal | None
) -> Apportionment:
    basis = rule.apportion_basis
    assert basis is not None, "validated apportioned rule"
    assert rule.apportion_total is not None, "validated apportioned rule"
    total = rule.apportion_total if shared_total is None else shared_total
    if not total.is_finite() or total <= 0 or total != round_money(total):
        raise ApportionmentError(rule.code, "apportionTotal", f"cannot share {total}: not a positive amount")
    total = round_money(total)
    if not members:
        raise ApportionmentError(rule.code, "scope", "no unit is in the scope of this apportioned rule")
    for unit_id, weight in members:
        if weight < 0:
            raise ValueError(f"unit {unit_id} has a negative {basis} weight {weight}")
    members.sort(key=lambda member: member[0])
    weights = [weight for _, weight in members]
    total_weight = sum(weights, _ZERO)
    if total_weight == 0:
        raise ApportionmentError(
            rule.code,
            "apportionBasis",
            f"the units in scope have no {_BASIS_WORDS[basis]} to share the total by",
        )
    shares = split_by_largest_remainder(total, weights)
    return Apportionment(
        rule_id=rule.id,
        basis=basis,
        total=total,
        total_weight=total_weight,
        unit_count=len(members),
        shares={unit_id: share for (unit_id, _), share in zip(members, shares, strict=True)},
    )


# --- metered tiers --------------------------------------------------------------------------------


def charge_tiers(
    tiers: Sequence[Tier], usage: Decimal, *, earlier_usage: Decimal = _ZERO
) -> tuple[TierCharge, ...]:
    """Price `usage` on cumulative tiers, starting at position `earlier_usage` (for year-to-date tiers).

    Only tiers that receive some usage appear. Each tier's amount is rounded to the fen and the line is
    their sum, so a printed breakdown always adds up to the amount charged. `tiers` must be valid.
    """
    return tuple(
        TierCharge(
            tier_number=index + 1, quantity=quantity, unit_price=tiers[index].unit_price, amount=amount
        )
        for index, quantity, amount in _tier_slices(tiers, usage, earlier_usage)
    )


def _tier_slices(
    tiers: Sequence[Tier], usage: Decimal, earlier_usage: Decimal
) -> list[tuple[int, Decimal, Decimal]]:
    """(tier index, quantity, rounded amount) of each tier that `usage` reaches; plain tuples are cheap."""
    if usage < 0 or earlier_usage < 0:
        raise ValueError(f"usage must not be negative (usage {usage}, earlier {earlier_usage})")
    low = earlier_usage
    high = earlier_usage + usage
    slices: list[tuple[int, Decimal, Decimal]] = []
    for index, tier in enumerate(tiers):
        if tier.starts_at >= high:
            break
        up_to = tier.up_to
        if up_to is not None and up_to <= low:
            continue
        top = high if up_to is None or up_to > high else up_to
        bottom = max(tier.starts_at, low)
        quantity = top - bottom
        slices.append((index, quantity, round_money(quantity * tier.unit_price)))
    return slices


def usages_to_bill(tallies: Iterable[ReadingTally], *, year_to_date_types: frozenset[str]) -> list[MeterUsage]:
    """What a bill charges on each meter: every reading not billed yet (read before the period ends), so a
    month without a bill run is charged by the next bill rather than never; for year-to-date tiers, what
    earlier bills charged on readings of the same year is the usage "used earlier".

    A meter with no unbilled reading has no usage (and draws no line).
    """
    unbilled: dict[tuple[int, str], Decimal] = {}
    earlier: defaultdict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for tally in tallies:
        meter = (tally.unit_id, tally.meter_type)
        if not tally.billed:
            if tally.readings:
                unbilled[meter] = unbilled.get(meter, _ZERO) + tally.usage
        elif tally.this_year and tally.meter_type in year_to_date_types:
            earlier[meter] += tally.usage
    return [
        MeterUsage(unit_id, meter_type, usage, earlier.get((unit_id, meter_type), _ZERO))
        for (unit_id, meter_type), usage in unbilled.items()
    ]


# --- per-unit computation -------------------------------------------------------------------------


def compute_unit_lines(
    prepared: PreparedRules,
    unit: UnitSnapshot,
    usages: Iterable[MeterUsage] = (),
    *,
    apportionments: Mapping[int, Apportionment] | None = None,
    waivers: Sequence[Waiver] = (),
) -> list[BillLineDraft]:
    """Draft one unit's bill lines for the prepared period, in rule order.

    Each charge line is followed by its reductions: the unit's matching discounts, each a percentage of
    what is left after the ones before it, then its waivers for that rule code, each capped at what is
    left, so the net of every rule is never negative. `usages` and `waivers` are this unit's; a metered
    rule without a usage for its meter type draws no line. `apportionments` comes from `apportion_all`;
    a unit absent from an apportionment (added after it was made) draws no share.
    """
    usage_by_meter: dict[str, MeterUsage] = {}
    for usage in usages:
        if usage.unit_id != unit.unit_id:
            raise ValueError(f"usage of unit {usage.unit_id} passed for unit {unit.unit_id}")
        if usage.meter_type in usage_by_meter:
            raise ValueError(f"unit {unit.unit_id} has two {usage.meter_type} usages for one period")
        usage_by_meter[usage.meter_type] = usage
    waiver_left = _check_waivers(unit, waivers)
    lines: list[BillLineDraft] = []
    period = prepared.period
    for plan in prepared._plans:
        rule = plan.rule
        if not _in_scope(rule.scope, unit):
            continue
        charge = _charge_line(plan, unit, period, usage_by_meter, apportionments)
        if charge is None:
            continue
        lines.append(charge)
        net = _apply_discounts(lines, plan, unit, charge) if plan.discounts else charge.amount
        if waiver_left:
            _apply_waivers(lines, rule, net, waivers, waiver_left)
    return lines


def _apply_discounts(
    lines: list[BillLineDraft], plan: _RulePlan, unit: UnitSnapshot, charge: BillLineDraft
) -> Decimal:
    """Append the unit's discount lines for one charge, each on what is left; return what is left."""
    net = charge.amount
    for position, (discount, ratio) in enumerate(plan.discounts):
        if net == 0:
            break
        if discount.vacant_only and not unit.vacant:
            continue
        if discount.party_type is not None and discount.party_type != unit.party_type:
            continue
        # Keyed by the discount's place in the plan, not its id: nothing guarantees two discounts
        # handed to the engine have different ids, and a shared key would lend one the other's line.
        key = (position, net)
        line = plan.discount_lines.get(key)
        if line is None:
            cut = round_money(net * ratio)
            if cut == 0:
                continue
            line = _remember(plan.discount_lines, key, _discount_line(plan.rule, discount, ratio, net, cut))
        lines.append(line)
        net += line.amount
    return net


def _apply_waivers(
    lines: list[BillLineDraft],
    rule: FeeRule,
    net: Decimal,
    waivers: Sequence[Waiver],
    waiver_left: dict[int, Decimal | None],
) -> None:
    """Append the waiver lines for one charge, each capped at what is left, spending `waiver_left`."""
    for waiver in waivers:
        if net == 0:
            break
        left = waiver_left[waiver.id]
        if waiver.rule_code != rule.code or left == 0:
            continue
        cut = net if left is None or left > net else left
        lines.append(_waiver_line(rule, waiver, left, cut))
        net -= cut
        if left is not None:
            waiver_left[waiver.id] = left - cut


def _check_waivers(unit: UnitSnapshot, waivers: Sequence[Waiver]) -> dict[int, Decimal | None]:
    """Validate the unit's waivers and return the amount each may still waive (None: all of it)."""
    left: dict[int, Decimal | None] = {}
    for waiver in waivers:
        if waiver.unit_id != unit.unit_id:
            raise ValueError(f"waiver {waiver.id} of unit {waiver.unit_id} passed for unit {unit.unit_id}")
        validate_waiver(waiver)
        left[waiver.id] = None if waiver.amount is None else round_money(waiver.amount)
    return left


def _charge_line(
    plan: _RulePlan,
    unit: UnitSnapshot,
    period: BillingPeriod,
    usage_by_meter: Mapping[str, MeterUsage],
    apportionments: Mapping[int, Apportionment] | None,
) -> BillLineDraft | None:
    rule = plan.rule
    kind = rule.kind
    if kind == FeeRuleKind.PER_AREA:
        if unit.floor_area < 0:
            raise ValueError(f"unit {unit.unit_id} has a negative floor area {unit.floor_area}")
        key: tuple[object, ...] = (unit.floor_area,)
        return plan.charges.get(key) or _remember(plan.charges, key, _per_area_line(plan, unit.floor_area, period))
    if kind == FeeRuleKind.FIXED:
        return plan.charges.get(()) or _remember(plan.charges, (), _fixed_line(rule, period))
    if kind == FeeRuleKind.METERED_TIERED:
        usage = usage_by_meter.get(rule.meter_type or "")
        # Nothing used, nothing to say: owners are not shown lines of zero.
        if usage is None or usage.usage == 0:
            return None
        earlier = usage.usage_earlier_in_year if rule.tier_period == TierPeriod.YEAR_TO_DATE else _ZERO
        key = (usage.usage, earlier)
        return plan.charges.get(key) or _remember(plan.charges, key, _metered_line(plan, usage.usage, earlier))
    apportionment = None if apportionments is None else apportionments.get(rule.id)
    if apportionment is None:
        raise ValueError(f"rule {rule.code} is apportioned: pass its Apportionment from apportion_all")
    share = apportionment.shares.get(unit.unit_id)
    if share is None:
        return None
    quantity = _apportioned_quantity(rule, unit, apportionment, usage_by_meter)
    key = (apportionment.basis, apportionment.total, apportionment.total_weight, apportionment.unit_count, share, quantity)
    return plan.charges.get(key) or _remember(plan.charges, key, _apportioned_line(rule, apportionment, share, quantity))


_REMEMBERED_LINES = 16_384
_Key = TypeVar("_Key")


def _remember(lines: dict[_Key, BillLineDraft], key: _Key, line: BillLineDraft) -> BillLineDraft:
    """Keep `line` for the next unit with the same inputs; a few thousand keys at most, so that a run
    whose units rarely repeat holds no more than that."""
    if len(lines) >= _REMEMBERED_LINES:
        lines.clear()
    lines[key] = line
    return line


def _per_area_line(plan: _RulePlan, area: Decimal, period: BillingPeriod) -> BillLineDraft:
    rule = plan.rule
    rate = rule.rate_per_square_metre
    assert rate is not None, "validated per_area rule"
    months = period.months
    price = rate * months
    amount = round_money(area * price)
    return BillLineDraft(
        rule_id=rule.id,
        rule_code=rule.code,
        kind=BillLineKind.CHARGE,
        description=rule.name,
        quantity=area,
        unit_price=price,
        amount=amount,
        explanation=(phrase("per_area", area=_at_least_cents(area), rate=plan.rate_text, months=months, amount=amount),),
    )


def _fixed_line(rule: FeeRule, period: BillingPeriod) -> BillLineDraft:
    assert rule.amount_per_cycle is not None, "validated fixed rule"
    amount = round_money(rule.amount_per_cycle)
    return BillLineDraft(
        rule_id=rule.id,
        rule_code=rule.code,
        kind=BillLineKind.CHARGE,
        description=rule.name,
        quantity=_ONE,
        unit_price=amount,
        amount=amount,
        explanation=(phrase("fixed", amount=amount, months=period.months),),
    )


def _metered_line(plan: _RulePlan, used: Decimal, earlier: Decimal) -> BillLineDraft:
    rule = plan.rule
    year_to_date = rule.tier_period == TierPeriod.YEAR_TO_DATE
    tiers = plan.tiers
    slices = _tier_slices(tiers, used, earlier)
    amount = sum((slice_amount for _, _, slice_amount in slices), _NO_MONEY)
    symbol = plan.usage_symbol
    price_texts = plan.tier_price_texts
    # A usage above zero always reaches a tier: validated tiers start at 0 and the last is open-ended.
    unit_price = tiers[slices[0][0]].unit_price if len(slices) == 1 else None
    parts: list[Phrase] = []
    if year_to_date:
        parts.append(phrase("used_earlier", quantity=_plain(earlier), unit=symbol))
    if len(tiers) == 1:
        parts.append(phrase("priced", quantity=_plain(used), unit=symbol, price=price_texts[0], amount=amount))
    else:
        parts.extend(
            phrase(
                "tier", tier=index + 1, quantity=_plain(quantity), unit=symbol, price=price_texts[index], amount=slice_amount
            )
            for index, quantity, slice_amount in slices
        )
    return BillLineDraft(
        rule_id=rule.id,
        rule_code=rule.code,
        kind=BillLineKind.CHARGE,
        description=rule.name,
        quantity=used,
        unit_price=unit_price,
        amount=amount,
        explanation=(*parts, *plan.tier_note),
    )


def _apportioned_quantity(
    rule: FeeRule, unit: UnitSnapshot, apportionment: Apportionment, usage_by_meter: Mapping[str, MeterUsage]
) -> Decimal:
    """The unit's weight in the split: its floor area, one, or its usage."""
    if apportionment.basis == ApportionBasis.AREA:
        return unit.floor_area
    if apportionment.basis == ApportionBasis.EQUAL:
        return _ONE
    usage = usage_by_meter.get(rule.meter_type or "")
    return _ZERO if usage is None else usage.usage


def _apportioned_line(rule: FeeRule, apportionment: Apportionment, share: Decimal, quantity: Decimal) -> BillLineDraft:
    basis = apportionment.basis
    total, share_text = apportionment.total, share
    if basis == ApportionBasis.AREA:
        how = phrase(
            "share_by_area",
            total=total,
            area=_at_least_cents(quantity),
            total_area=_at_least_cents(apportionment.total_weight),
            share=share_text,
        )
    elif basis == ApportionBasis.EQUAL:
        how = phrase("share_equally", total=total, units=apportionment.unit_count, share=share_text)
    else:
        meter_type = rule.meter_type or ""
        how = phrase(
            "share_by_usage",
            total=total,
            meter=meter_type,
            quantity=_plain(quantity),
            total_quantity=_plain(apportionment.total_weight),
            unit=_usage_symbol(meter_type),
            share=share_text,
        )
    return BillLineDraft(
        rule_id=rule.id,
        rule_code=rule.code,
        kind=BillLineKind.CHARGE,
        description=rule.name,
        quantity=quantity,
        unit_price=None,
        amount=share,
        explanation=(how,),
    )


def _discount_line(rule: FeeRule, discount: DiscountRule, ratio: Decimal, base: Decimal, cut: Decimal) -> BillLineDraft:
    return BillLineDraft(
        rule_id=rule.id,
        rule_code=rule.code,
        kind=BillLineKind.DISCOUNT,
        description=f"{rule.name}: {discount.name}",
        quantity=base,
        unit_price=-ratio,
        amount=-cut,
        explanation=(phrase("discount", name=discount.name, percent=_plain(discount.percent), base=base, cut=cut),),
        discount_id=discount.id,
    )


def _waiver_line(
    rule: FeeRule, waiver: Waiver, waiver_left: Decimal | None, cut: Decimal
) -> BillLineDraft:
    # Who approved it stays with the waiver record: owners see the reason, not staff ids.
    if waiver_left is None:
        what = phrase("waived_in_full", amount=cut, reason=waiver.reason)
    elif waiver_left > cut:
        what = phrase("waiver_capped", waiver=waiver_left, amount=cut, reason=waiver.reason)
    else:
        what = phrase("waiver", amount=cut, reason=waiver.reason)
    return BillLineDraft(
        rule_id=rule.id,
        rule_code=rule.code,
        kind=BillLineKind.WAIVER,
        description=f"{rule.name}: waiver",
        quantity=_ONE,
        unit_price=-cut,
        amount=-cut,
        explanation=(what,),
        waiver_id=waiver.id,
    )


# --- whole project --------------------------------------------------------------------------------


def compute_bill_lines(
    units: Iterable[UnitSnapshot],
    usages: Iterable[MeterUsage],
    rules: Iterable[FeeRule],
    discounts: Iterable[DiscountRule],
    waivers: Iterable[Waiver],
    period: BillingPeriod,
    *,
    shared_totals: Mapping[int, Decimal] | None = None,
) -> dict[int, list[BillLineDraft]]:
    """Draft every unit's bill lines for a project held in memory, keyed by unit id (every unit listed).

    Usages and waivers of units not in `units` are ignored.
    """
    prepared = prepare_rules(rules, discounts, period)
    unit_list = list(units)
    usage_list = list(usages)
    usages_by_unit: defaultdict[int, list[MeterUsage]] = defaultdict(list)
    for usage in usage_list:
        usages_by_unit[usage.unit_id].append(usage)
    waivers_by_unit: defaultdict[int, list[Waiver]] = defaultdict(list)
    for waiver in waivers:
        waivers_by_unit[waiver.unit_id].append(waiver)
    apportionments = apportion_all(prepared, unit_list, usage_list, shared_totals=shared_totals)
    return {
        unit.unit_id: compute_unit_lines(
            prepared,
            unit,
            usages_by_unit.get(unit.unit_id, ()),
            apportionments=apportionments,
            waivers=waivers_by_unit.get(unit.unit_id, ()),
        )
        for unit in unit_list
    }


# --- late fees ------------------------------------------------------------------------------------


LateFeePolicies = LateFeePolicy | Sequence[LateFeePolicy]
"""One policy in force on every day, or a project's versions (any order, distinct `effective_from`)."""


def late_fee(principal: Decimal, due_date: date, as_of: date, policy: LateFeePolicies) -> Decimal:
    """The late fee on `principal` as of a date, rounded to the fen (see `late_fee_breakdown`)."""
    return late_fee_breakdown(principal, due_date, as_of, policy).amount


def late_fee_breakdown(
    principal: Decimal, due_date: date, as_of: date, policy: LateFeePolicies
) -> LateFeeBreakdown:
    """The late fee on `principal` as of a date, with how it was reached.

    Each day after the due date is charged under the policy version in force that day: nothing while the
    day is within that version's grace period (due date + grace_days), principal × daily_rate after it,
    so the fee grows from zero rather than jumping when grace ends, and a version added later never
    changes what days before it cost. A version's cap bounds the total, from its first day on, at
    round_money(principal × cap_ratio), but never takes back what was reached before it. Days before the
    first version cost nothing; a non-positive principal owes nothing.
    """
    versions = _late_fee_versions(policy)
    stretches: list[LateFeeStretch] = []
    total = _ZERO
    capped = False
    cap: Decimal | None = None
    cap_ratio: Decimal | None = None
    if principal > 0:
        for index, version in enumerate(versions):
            next_start = versions[index + 1].effective_from if index + 1 < len(versions) else None
            # Chargeable days under this version: after grace, from its first day, before the next starts.
            first = max(due_date + timedelta(days=version.grace_days + 1), version.effective_from)
            last = as_of if next_start is None else min(as_of, next_start - timedelta(days=1))
            if version.effective_from <= as_of:
                cap_ratio = version.cap_ratio
            if last < first:
                continue
            days = (last - first).days + 1
            amount = principal * version.daily_rate * days
            before = total
            total += amount
            stretches.append(LateFeeStretch(first, last, days, version.daily_rate, version.grace_days, amount))
            if version.cap_ratio is not None:
                version_cap = round_money(principal * version.cap_ratio)
                if total > version_cap:
                    total = max(version_cap, before)
                    capped = True
    if cap_ratio is not None:  # set only when there is a principal to owe on
        cap = round_money(principal * cap_ratio)
    return LateFeeBreakdown(
        principal=principal,
        due_date=due_date,
        as_of=as_of,
        stretches=tuple(stretches),
        cap_ratio=cap_ratio,
        cap=cap,
        capped=capped,
        amount=round_money(total),
    )


def late_fee_policy_on(policy: LateFeePolicies, day: date) -> LateFeePolicy | None:
    """The policy version in force on `day`; None before the first version."""
    in_force = None
    for version in _late_fee_versions(policy):
        if version.effective_from > day:
            break
        in_force = version
    return in_force


def late_fee_explanation(breakdown: LateFeeBreakdown) -> Explanation:
    """How a late fee was reached, phrase by phrase: each stretch's principal × daily rate × days (with the
    grace it followed), then the cap when it held the fee back."""
    parts = [
        phrase(
            "late_fee_days",
            principal=breakdown.principal,
            rate=_plain(stretch.daily_rate),
            days=stretch.days,
            first_day=stretch.first_day.isoformat(),
            last_day=stretch.last_day.isoformat(),
            grace_days=stretch.grace_days,
            amount=round_money(stretch.amount),
        )
        for stretch in breakdown.stretches
    ]
    if breakdown.capped and breakdown.cap is not None and breakdown.cap_ratio is not None:
        parts.append(phrase("late_fee_cap", ratio=_plain(breakdown.cap_ratio * _HUNDRED), cap=breakdown.cap))
    if not parts:
        parts.append(phrase("no_late_fee", due_date=breakdown.due_date.isoformat()))
    return tuple(parts)


def _late_fee_versions(policy: LateFeePolicies) -> list[LateFeePolicy]:
    versions = [policy] if isinstance(policy, LateFeePolicy) else sorted(policy, key=lambda version: version.effective_from)
    for earlier, later in pairwise(versions):
        if earlier.effective_from == later.effective_from:
            raise ValueError(f"two late-fee policy versions start on {later.effective_from}")
    return versions


# --- formatting -----------------------------------------------------------------------------------


# Explanations are formatted for every line of a bill run, so these work on the string form and fall
# back to Decimal formatting only for exponent notation.


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 240, 12.5, 0.5283."""
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _at_least_cents(value: Decimal) -> str:
    """A decimal with at least two places and no trailing zeros beyond them: 2.80, 0.5283, 120.50."""
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    whole, point, fraction = text.partition(".")
    if not point:
        return f"{whole}.00"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _usage_symbol(meter_type: str | None) -> str:
    return _USAGE_UNITS.get((meter_type or "").lower(), "")
