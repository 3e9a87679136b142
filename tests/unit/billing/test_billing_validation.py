"""Specification of rule validation: every refusal names the GraphQL input field at fault."""

import dataclasses
import itertools
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.model import (
    ApportionBasis,
    DiscountRule,
    FeeRule,
    LateFeePolicy,
    Tier,
    TierPeriod,
    Waiver,
)
from billing.rules import (
    RuleValidationError,
    validate_discount,
    validate_late_fee_policy,
    validate_rule,
    validate_waiver,
)
from kernel.vocabulary import FeeRuleKind, PartyType

START = date(2026, 1, 1)

PROPERTY_FEE = FeeRule(
    id=1,
    code="PROPERTY",
    name="Property management fee",
    kind=FeeRuleKind.PER_AREA,
    effective_from=START,
    rate_per_square_metre=D("2.80"),
)
PARKING = FeeRule(
    id=2,
    code="PARKING",
    name="Parking space rent",
    kind=FeeRuleKind.FIXED,
    effective_from=START,
    amount_per_cycle=D("300.00"),
)
ELECTRICITY_TIERS = (
    Tier(starts_at=D(0), up_to=D(240), unit_price=D("0.5283")),
    Tier(starts_at=D(240), up_to=D(400), unit_price=D("0.5783")),
    Tier(starts_at=D(400), up_to=None, unit_price=D("0.8283")),
)
ELECTRICITY = FeeRule(
    id=3,
    code="ELECTRICITY",
    name="Electricity",
    kind=FeeRuleKind.METERED_TIERED,
    effective_from=START,
    meter_type="electricity",
    tiers=ELECTRICITY_TIERS,
    tier_period=TierPeriod.MONTH,
)
COMMON_POWER = FeeRule(
    id=4,
    code="COMMON_POWER",
    name="Common-area electricity",
    kind=FeeRuleKind.APPORTIONED,
    effective_from=START,
    apportion_total=D("3000.00"),
    apportion_basis=ApportionBasis.AREA,
)


def field_refused(rule: FeeRule) -> str:
    with pytest.raises(RuleValidationError) as refusal:
        validate_rule(rule)
    return refusal.value.field


@pytest.mark.parametrize("rule", [PROPERTY_FEE, PARKING, ELECTRICITY, COMMON_POWER])
def test_valid_rules_of_every_kind_pass(rule: FeeRule) -> None:
    validate_rule(rule)


def test_a_one_tier_metered_rule_is_valid() -> None:
    flat_water = dataclasses.replace(ELECTRICITY, meter_type="water", tiers=(Tier(D(0), None, D("3.45")),))
    validate_rule(flat_water)


def test_a_negative_rate_is_refused_on_rate_per_square_metre() -> None:
    assert field_refused(dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("-0.01"))) == (
        "ratePerSquareMetre"
    )


def test_a_per_area_rule_without_a_rate_is_refused() -> None:
    assert field_refused(dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=None)) == (
        "ratePerSquareMetre"
    )


def test_a_non_finite_rate_is_refused() -> None:
    assert field_refused(dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("NaN"))) == (
        "ratePerSquareMetre"
    )


def test_a_negative_fixed_amount_is_refused() -> None:
    assert field_refused(dataclasses.replace(PARKING, amount_per_cycle=D("-300"))) == "amountPerCycle"


def test_a_fixed_amount_below_the_fen_is_refused() -> None:
    assert field_refused(dataclasses.replace(PARKING, amount_per_cycle=D("300.005"))) == "amountPerCycle"


def test_an_empty_code_is_refused() -> None:
    assert field_refused(dataclasses.replace(PARKING, code="  ")) == "code"


def test_an_empty_name_is_refused() -> None:
    assert field_refused(dataclasses.replace(PARKING, name="")) == "name"


def test_effective_to_before_effective_from_is_refused() -> None:
    assert field_refused(dataclasses.replace(PARKING, effective_to=date(2025, 12, 31))) == "effectiveTo"


def test_a_rule_may_end_on_the_day_it_starts() -> None:
    validate_rule(dataclasses.replace(PARKING, effective_to=START))


def test_a_parameter_of_another_kind_is_refused() -> None:
    assert field_refused(dataclasses.replace(PROPERTY_FEE, amount_per_cycle=D("10.00"))) == ("amountPerCycle")
    assert field_refused(dataclasses.replace(PARKING, tiers=ELECTRICITY_TIERS)) == "tiers"


def test_a_metered_rule_without_tiers_is_refused() -> None:
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=())) == "tiers"


def test_a_metered_rule_without_a_meter_type_is_refused() -> None:
    assert field_refused(dataclasses.replace(ELECTRICITY, meter_type=None)) == "meterType"


def test_a_metered_rule_without_a_tier_period_is_refused() -> None:
    assert field_refused(dataclasses.replace(ELECTRICITY, tier_period=None)) == "tierPeriod"


def test_overlapping_tiers_are_refused_on_the_later_tier() -> None:
    overlapping = (
        Tier(D(0), D(240), D("0.5283")),
        Tier(D(200), D(400), D("0.5783")),
        Tier(D(400), None, D("0.8283")),
    )
    with pytest.raises(RuleValidationError) as refusal:
        validate_rule(dataclasses.replace(ELECTRICITY, tiers=overlapping))
    assert refusal.value.field == "tiers[1].startsAt"
    assert "overlaps tier 0" in refusal.value.message


def test_tiers_leaving_a_gap_are_refused() -> None:
    gapped = (
        Tier(D(0), D(240), D("0.5283")),
        Tier(D(250), D(400), D("0.5783")),
        Tier(D(400), None, D("0.8283")),
    )
    with pytest.raises(RuleValidationError) as refusal:
        validate_rule(dataclasses.replace(ELECTRICITY, tiers=gapped))
    assert refusal.value.field == "tiers[1].startsAt"
    assert "gap" in refusal.value.message


def test_a_tier_that_does_not_increase_is_refused_on_its_upper_bound() -> None:
    shrinking = (
        Tier(D(0), D(240), D("0.5283")),
        Tier(D(240), D(240), D("0.5783")),
        Tier(D(240), None, D("0.8283")),
    )
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=shrinking)) == "tiers[1].upTo"


def test_the_first_tier_must_start_at_zero() -> None:
    late_start = (Tier(D(10), D(240), D("0.5283")), Tier(D(240), None, D("0.5783")))
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=late_start)) == "tiers[0].startsAt"


def test_only_the_last_tier_may_be_open_ended() -> None:
    open_early = (Tier(D(0), None, D("0.5283")), Tier(D(240), None, D("0.5783")))
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=open_early)) == "tiers[0].upTo"


def test_the_last_tier_must_be_open_ended() -> None:
    capped = (Tier(D(0), D(240), D("0.5283")), Tier(D(240), D(400), D("0.5783")))
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=capped)) == "tiers[1].upTo"


def test_a_negative_tier_price_is_refused() -> None:
    negative = (Tier(D(0), D(240), D("0.5283")), Tier(D(240), None, D("-0.01")))
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=negative)) == "tiers[1].unitPrice"


@pytest.mark.parametrize("total", [D("0"), D("-100.00")])
def test_an_apportioned_rule_needs_a_positive_total(total: D) -> None:
    assert field_refused(dataclasses.replace(COMMON_POWER, apportion_total=total)) == "apportionTotal"


def test_an_apportioned_rule_needs_a_basis() -> None:
    assert field_refused(dataclasses.replace(COMMON_POWER, apportion_basis=None)) == "apportionBasis"


def test_apportioning_by_usage_needs_a_meter_type() -> None:
    by_usage = dataclasses.replace(COMMON_POWER, apportion_basis=ApportionBasis.USAGE)
    assert field_refused(by_usage) == "meterType"
    validate_rule(dataclasses.replace(by_usage, meter_type="electricity"))


def test_apportioning_by_area_refuses_a_meter_type() -> None:
    assert field_refused(dataclasses.replace(COMMON_POWER, meter_type="electricity")) == "meterType"


def test_the_error_carries_field_and_message_and_reads_well() -> None:
    error = RuleValidationError("tiers[1].upTo", "must be greater than startsAt")
    assert (error.field, error.message) == ("tiers[1].upTo", "must be greater than startsAt")
    assert str(error) == "tiers[1].upTo: must be greater than startsAt"


VACANCY = DiscountRule(
    id=1, name="Vacancy", percent=D(50), rule_codes=frozenset({"PROPERTY"}), vacant_only=True
)


def test_a_valid_discount_passes() -> None:
    validate_discount(VACANCY)
    validate_discount(dataclasses.replace(VACANCY, percent=D(100), party_type=PartyType.COMPANY))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"percent": D("100.01")}, "percent"),
        ({"percent": D(-1)}, "percent"),
        ({"rule_codes": frozenset()}, "ruleCodes"),
        ({"name": ""}, "name"),
        ({"effective_from": date(2026, 2, 1), "effective_to": date(2026, 1, 31)}, "effectiveTo"),
    ],
)
def test_an_unusable_discount_is_refused_with_the_field_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(RuleValidationError) as refusal:
        validate_discount(dataclasses.replace(VACANCY, **change))  # type: ignore[arg-type]
    assert refusal.value.field == field


GOODWILL = Waiver(
    id=1, unit_id=10, rule_code="PROPERTY", amount=D("100.00"), reason="lift out of order", approved_by=7
)


def test_a_valid_waiver_passes() -> None:
    validate_waiver(GOODWILL)
    validate_waiver(dataclasses.replace(GOODWILL, amount=None))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": D(0)}, "amount"),
        ({"amount": D("-5.00")}, "amount"),
        ({"amount": D("5.001")}, "amount"),
        ({"reason": " "}, "reason"),
        ({"rule_code": ""}, "ruleCode"),
    ],
)
def test_an_unusable_waiver_is_refused_with_the_field_named(change: dict[str, object], field: str) -> None:
    with pytest.raises(RuleValidationError) as refusal:
        validate_waiver(dataclasses.replace(GOODWILL, **change))  # type: ignore[arg-type]
    assert refusal.value.field == field


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        (LateFeePolicy(daily_rate=D("-0.0003")), "dailyRate"),
        (LateFeePolicy(daily_rate=D("0.0003"), grace_days=-1), "graceDays"),
        (LateFeePolicy(daily_rate=D("0.0003"), cap_ratio=D("-1")), "capRatio"),
    ],
)
def test_an_unusable_late_fee_policy_is_refused_with_the_field_named(
    policy: LateFeePolicy, field: str
) -> None:
    with pytest.raises(RuleValidationError) as refusal:
        validate_late_fee_policy(policy)
    assert refusal.value.field == field


def test_a_valid_late_fee_policy_passes() -> None:
    validate_late_fee_policy(LateFeePolicy(daily_rate=D("0.0003"), grace_days=10, cap_ratio=D(1)))


negative_amounts = st.decimals(max_value=D("-0.0001"), allow_nan=False, allow_infinity=False, places=4)


@given(rate=negative_amounts)
def test_any_negative_rate_is_refused_with_the_field_named(rate: D) -> None:
    assert (
        field_refused(dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=rate)) == "ratePerSquareMetre"
    )


@given(price=negative_amounts, tier_index=st.integers(min_value=0, max_value=2))
def test_any_negative_tier_price_is_refused_with_the_tier_named(price: D, tier_index: int) -> None:
    tiers = list(ELECTRICITY_TIERS)
    tiers[tier_index] = dataclasses.replace(tiers[tier_index], unit_price=price)
    assert (
        field_refused(dataclasses.replace(ELECTRICITY, tiers=tuple(tiers)))
        == f"tiers[{tier_index}].unitPrice"
    )


@st.composite
def overlapping_tiers(draw: st.DrawFn) -> tuple[tuple[Tier, ...], int]:
    """Valid increasing tiers, then one tier pulled back to start inside the one before it."""
    widths = draw(st.lists(st.integers(min_value=2, max_value=500), min_size=1, max_size=5))
    bounds = [0]
    for width in widths:
        bounds.append(bounds[-1] + width)
    tiers = [Tier(D(low), D(high), D("0.50")) for low, high in itertools.pairwise(bounds)]
    tiers.append(Tier(D(bounds[-1]), None, D("0.80")))
    victim = draw(st.integers(min_value=1, max_value=len(tiers) - 1))
    previous = tiers[victim - 1]
    pulled_back = draw(st.integers(min_value=int(previous.starts_at), max_value=int(previous.up_to or 0) - 1))
    tiers[victim] = dataclasses.replace(tiers[victim], starts_at=D(pulled_back))
    return tuple(tiers), victim


@given(case=overlapping_tiers())
def test_any_overlap_is_refused_on_the_start_of_the_overlapping_tier(
    case: tuple[tuple[Tier, ...], int],
) -> None:
    tiers, victim = case
    assert field_refused(dataclasses.replace(ELECTRICITY, tiers=tiers)) == f"tiers[{victim}].startsAt"
