"""Specification of bill lines: hand-computed amounts to the fen, with their explanations."""

import dataclasses
from collections.abc import Sequence
from datetime import date
from decimal import Decimal as D

import pytest

from billing.model import (
    ApportionBasis,
    Apportionment,
    BillingPeriod,
    BillLineDraft,
    DiscountRule,
    FeeRule,
    MeterUsage,
    RuleScope,
    Tier,
    TierCharge,
    TierPeriod,
    UnitSnapshot,
    Waiver,
    phrase,
)
from billing.rules import (
    ApportionmentError,
    RuleValidationError,
    apportion,
    apportion_all,
    charge_tiers,
    compute_bill_lines,
    compute_unit_lines,
    prepare_rules,
    rule_applies,
)
from billing.texts import render
from kernel.vocabulary import BillLineKind, FeeRuleKind, Locale, PartyType, UnitKind


def english(line: BillLineDraft) -> str:
    """The line's explanation as an English-speaking project shows it."""
    return render(line.explanation, Locale.EN)

NOVEMBER = BillingPeriod.parse("2026-11")
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
    scope=RuleScope(unit_kinds=frozenset({UnitKind.PARKING_SPACE})),
    amount_per_cycle=D("300.00"),
)
ELECTRICITY = FeeRule(
    id=3,
    code="ELECTRICITY",
    name="Electricity",
    kind=FeeRuleKind.METERED_TIERED,
    effective_from=START,
    meter_type="electricity",
    tier_period=TierPeriod.MONTH,
    tiers=(
        Tier(starts_at=D(0), up_to=D(240), unit_price=D("0.5283")),
        Tier(starts_at=D(240), up_to=D(400), unit_price=D("0.5783")),
        Tier(starts_at=D(400), up_to=None, unit_price=D("0.8283")),
    ),
)
ANNUAL_ELECTRICITY = dataclasses.replace(
    ELECTRICITY,
    id=5,
    code="ELECTRICITY_YEARLY",
    tier_period=TierPeriod.YEAR_TO_DATE,
    tiers=(
        Tier(starts_at=D(0), up_to=D(2160), unit_price=D("0.5283")),
        Tier(starts_at=D(2160), up_to=D(4200), unit_price=D("0.5783")),
        Tier(starts_at=D(4200), up_to=None, unit_price=D("0.8283")),
    ),
)
WATER = FeeRule(
    id=6,
    code="WATER",
    name="Water",
    kind=FeeRuleKind.METERED_TIERED,
    effective_from=START,
    meter_type="water",
    tier_period=TierPeriod.MONTH,
    tiers=(Tier(starts_at=D(0), up_to=None, unit_price=D("3.45")),),
)
COMMON_POWER = FeeRule(
    id=4,
    code="COMMON_POWER",
    name="Common-area electricity",
    kind=FeeRuleKind.APPORTIONED,
    effective_from=START,
    apportion_total=D("1000.00"),
    apportion_basis=ApportionBasis.AREA,
)

FLAT_101 = UnitSnapshot(unit_id=101, building_id=1, kind=UnitKind.APARTMENT, floor_area=D("120.50"))
FLAT_102 = UnitSnapshot(
    unit_id=102, building_id=1, kind=UnitKind.APARTMENT, floor_area=D("89.00"), party_type=PartyType.PERSON
)
SHOP_201 = UnitSnapshot(
    unit_id=201, building_id=2, kind=UnitKind.SHOP, floor_area=D("12.50"), party_type=PartyType.COMPANY
)
SPACE_301 = UnitSnapshot(unit_id=301, building_id=3, kind=UnitKind.PARKING_SPACE, floor_area=D("13.20"))


def lines_for(
    unit: UnitSnapshot,
    rules: Sequence[FeeRule],
    *,
    usages: Sequence[MeterUsage] = (),
    discounts: Sequence[DiscountRule] = (),
    waivers: Sequence[Waiver] = (),
    period: BillingPeriod = NOVEMBER,
    apportionments: dict[int, Apportionment] | None = None,
) -> list[BillLineDraft]:
    prepared = prepare_rules(rules, discounts, period)
    return compute_unit_lines(prepared, unit, usages, apportionments=apportionments, waivers=waivers)


def only_line(lines: list[BillLineDraft]) -> BillLineDraft:
    assert len(lines) == 1, lines
    return lines[0]


def electricity(unit: UnitSnapshot, usage: str, earlier: str = "0") -> MeterUsage:
    return MeterUsage(unit.unit_id, "electricity", D(usage), D(earlier))


# --- billing periods ------------------------------------------------------------------------------


def test_a_period_parsed_from_a_month_spans_that_month() -> None:
    assert (NOVEMBER.start, NOVEMBER.end, NOVEMBER.months) == (date(2026, 11, 1), date(2026, 11, 30), 1)
    assert NOVEMBER.label == "2026-11"


def test_a_quarter_starting_in_november_ends_with_january() -> None:
    quarter = BillingPeriod.parse("2026-11", months=3)
    assert quarter.end == date(2027, 1, 31)
    assert quarter.label == "2026-11"
    assert (str(quarter), str(NOVEMBER)) == ("2026-11 to 2027-01", "2026-11")


def test_a_leap_february_ends_on_the_29th() -> None:
    assert BillingPeriod.parse("2028-02").end == date(2028, 2, 29)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "2026/11", "november"])
def test_a_malformed_period_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"period like 2026-11|no month"):
        BillingPeriod.parse(text)


def test_a_period_must_start_on_the_first_and_span_a_month() -> None:
    with pytest.raises(ValueError, match="first of a month"):
        BillingPeriod(start=date(2026, 11, 2))
    with pytest.raises(ValueError, match="at least one month"):
        BillingPeriod(start=date(2026, 11, 1), months=0)


# --- which rules apply ----------------------------------------------------------------------------


def test_an_empty_scope_admits_every_unit() -> None:
    assert all(rule_applies(PROPERTY_FEE, unit, NOVEMBER) for unit in (FLAT_101, SHOP_201, SPACE_301))


def test_a_unit_kind_filter_admits_only_those_kinds() -> None:
    assert rule_applies(PARKING, SPACE_301, NOVEMBER)
    assert not rule_applies(PARKING, FLAT_101, NOVEMBER)


def test_a_building_filter_admits_only_units_in_those_buildings() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, scope=RuleScope(building_ids=frozenset({2})))
    assert rule_applies(rule, SHOP_201, NOVEMBER)
    assert not rule_applies(rule, FLAT_101, NOVEMBER)


def test_an_explicit_unit_list_admits_only_those_units() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, scope=RuleScope(unit_ids=frozenset({102})))
    assert rule_applies(rule, FLAT_102, NOVEMBER)
    assert not rule_applies(rule, FLAT_101, NOVEMBER)


def test_scope_filters_must_all_match() -> None:
    rule = dataclasses.replace(
        PROPERTY_FEE,
        scope=RuleScope(unit_kinds=frozenset({UnitKind.APARTMENT}), building_ids=frozenset({2})),
    )
    assert not rule_applies(rule, FLAT_101, NOVEMBER)  # apartment, wrong building
    assert not rule_applies(rule, SHOP_201, NOVEMBER)  # right building, not an apartment


def test_a_rule_charges_a_period_when_in_effect_on_its_first_day() -> None:
    assert rule_applies(
        dataclasses.replace(PROPERTY_FEE, effective_from=date(2026, 11, 1)), FLAT_101, NOVEMBER
    )
    assert rule_applies(dataclasses.replace(PROPERTY_FEE, effective_to=date(2026, 11, 1)), FLAT_101, NOVEMBER)


def test_a_version_starting_mid_period_waits_for_the_next_period() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, effective_from=date(2026, 11, 15))
    assert not rule_applies(rule, FLAT_101, NOVEMBER)
    assert rule_applies(rule, FLAT_101, BillingPeriod.parse("2026-12"))


def test_a_retired_rule_no_longer_charges() -> None:
    assert not rule_applies(
        dataclasses.replace(PROPERTY_FEE, effective_to=date(2026, 10, 31)), FLAT_101, NOVEMBER
    )


def test_of_two_versions_of_a_rule_only_the_one_in_effect_charges() -> None:
    old = dataclasses.replace(PROPERTY_FEE, effective_to=date(2026, 11, 30))
    new = dataclasses.replace(
        PROPERTY_FEE, id=11, effective_from=date(2026, 12, 1), rate_per_square_metre=D("3.00")
    )

    november = only_line(lines_for(FLAT_101, [old, new]))
    december = only_line(lines_for(FLAT_101, [old, new], period=BillingPeriod.parse("2026-12")))

    assert (november.rule_id, november.amount) == (1, D("337.40"))
    assert (december.rule_id, december.amount) == (11, D("361.50"))


# --- per area -------------------------------------------------------------------------------------


def test_per_area_charges_area_times_rate_for_one_month() -> None:
    line = only_line(lines_for(FLAT_101, [PROPERTY_FEE]))

    assert line == BillLineDraft(
        rule_id=1,
        rule_code="PROPERTY",
        kind=BillLineKind.CHARGE,
        description="Property management fee",
        quantity=D("120.50"),
        unit_price=D("2.80"),
        amount=D("337.40"),
        explanation=(phrase("per_area", area="120.50", rate="2.80", months=1, amount="337.40"),),
    )
    assert english(line) == "120.50 m² × 2.80/m²/month × 1 month = 337.40"


def test_per_area_multiplies_by_the_months_in_the_cycle() -> None:
    unit = dataclasses.replace(FLAT_101, floor_area=D("89.37"))
    rule = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("1.65"))

    line = only_line(lines_for(unit, [rule], period=BillingPeriod.parse("2026-11", months=3)))

    assert line.amount == D("442.38")  # 89.37 × 1.65 × 3 = 442.3815
    assert line.unit_price == D("4.95")
    assert english(line) == "89.37 m² × 1.65/m²/month × 3 months = 442.38"


def test_per_area_rounds_half_a_fen_up() -> None:
    unit = dataclasses.replace(FLAT_101, floor_area=D("10.25"))
    rule = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("0.5"))

    line = only_line(lines_for(unit, [rule]))

    assert line.amount == D("5.13")  # 5.125
    assert english(line) == "10.25 m² × 0.50/m²/month × 1 month = 5.13"


def test_per_area_shows_a_precise_rate_in_full() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("2.456"))

    line = only_line(lines_for(FLAT_101, [rule]))

    assert line.amount == D("295.95")  # 120.50 × 2.456 = 295.948
    assert english(line) == "120.50 m² × 2.456/m²/month × 1 month = 295.95"


# --- fixed ----------------------------------------------------------------------------------------


def test_fixed_charges_its_amount_once_per_cycle() -> None:
    line = only_line(lines_for(SPACE_301, [PARKING]))

    assert (line.quantity, line.unit_price, line.amount) == (D(1), D("300.00"), D("300.00"))
    assert english(line) == "fixed 300.00 per billing cycle"


def test_fixed_is_not_multiplied_by_the_months_in_the_cycle() -> None:
    line = only_line(lines_for(SPACE_301, [PARKING], period=BillingPeriod.parse("2026-11", months=2)))

    assert line.amount == D("300.00")
    assert english(line) == "fixed 300.00 per billing cycle of 2 months"


def test_fixed_amounts_are_always_shown_to_the_fen() -> None:
    line = only_line(lines_for(SPACE_301, [dataclasses.replace(PARKING, amount_per_cycle=D(45))]))

    assert str(line.amount) == "45.00"


# --- metered, tiered ------------------------------------------------------------------------------


def test_metered_usage_spanning_two_tiers_is_priced_tier_by_tier() -> None:
    line = only_line(lines_for(FLAT_101, [ELECTRICITY], usages=[electricity(FLAT_101, "300")]))

    assert line.amount == D("161.49")  # 126.79 + 34.70
    assert (line.quantity, line.unit_price) == (D(300), None)
    assert english(line) == "tier 1: 240 kWh × 0.5283 = 126.79; tier 2: 60 kWh × 0.5783 = 34.70"


def test_metered_usage_reaching_the_top_tier_is_priced_on_all_three() -> None:
    line = only_line(lines_for(FLAT_101, [ELECTRICITY], usages=[electricity(FLAT_101, "450")]))

    assert line.amount == D("260.74")  # 126.79 + 160 × 0.5783 (92.53) + 50 × 0.8283 (41.42)
    assert english(line) == (
        "tier 1: 240 kWh × 0.5283 = 126.79; tier 2: 160 kWh × 0.5783 = 92.53; tier 3: 50 kWh × 0.8283 = 41.42"
    )


def test_usage_exactly_at_a_tier_boundary_stays_in_the_lower_tier() -> None:
    line = only_line(lines_for(FLAT_101, [ELECTRICITY], usages=[electricity(FLAT_101, "240")]))

    assert (line.amount, line.unit_price) == (D("126.79"), D("0.5283"))
    assert english(line) == "tier 1: 240 kWh × 0.5283 = 126.79"


def test_fractional_usage_is_priced_exactly() -> None:
    line = only_line(lines_for(FLAT_101, [ELECTRICITY], usages=[electricity(FLAT_101, "240.5")]))

    assert line.amount == D("127.08")  # 126.79 + 0.5 × 0.5783 (0.28915 → 0.29)
    assert english(line) == "tier 1: 240 kWh × 0.5283 = 126.79; tier 2: 0.5 kWh × 0.5783 = 0.29"


def test_a_one_tier_meter_is_a_flat_price() -> None:
    line = only_line(lines_for(FLAT_101, [WATER], usages=[MeterUsage(101, "water", D("12.5"))]))

    assert (line.quantity, line.unit_price, line.amount) == (D("12.5"), D("3.45"), D("43.13"))  # 43.125
    assert english(line) == "12.5 m³ × 3.45 = 43.13"


def test_zero_usage_draws_no_line() -> None:
    # owners are not shown lines of nothing used
    assert lines_for(FLAT_101, [ELECTRICITY], usages=[electricity(FLAT_101, "0")]) == []


def test_a_unit_without_a_usage_for_the_meter_type_draws_no_metered_line() -> None:
    assert lines_for(FLAT_101, [ELECTRICITY], usages=[MeterUsage(101, "water", D(5))]) == []


def test_year_to_date_tiers_continue_from_the_usage_earlier_in_the_year() -> None:
    usage = electricity(FLAT_101, "300", earlier="2000")

    line = only_line(lines_for(FLAT_101, [ANNUAL_ELECTRICITY], usages=[usage]))

    assert line.amount == D("165.49")  # 160 × 0.5283 (84.53) + 140 × 0.5783 (80.96)
    assert line.quantity == D(300)
    assert english(line) == (
        "2000 kWh used earlier this year; tier 1: 160 kWh × 0.5283 = 84.53; tier 2: 140 kWh × 0.5783 = 80.96"
    )


def test_year_to_date_usage_past_a_boundary_is_priced_in_the_later_tier_only() -> None:
    usage = electricity(FLAT_101, "100", earlier="3000")

    line = only_line(lines_for(FLAT_101, [ANNUAL_ELECTRICITY], usages=[usage]))

    assert (line.amount, line.unit_price) == (D("57.83"), D("0.5783"))
    assert english(line) == "3000 kWh used earlier this year; tier 2: 100 kWh × 0.5783 = 57.83"


def test_monthly_tiers_ignore_the_usage_earlier_in_the_year() -> None:
    usage = electricity(FLAT_101, "300", earlier="5000")

    assert only_line(lines_for(FLAT_101, [ELECTRICITY], usages=[usage])).amount == D("161.49")


def test_monthly_tiers_widen_with_the_months_in_the_cycle() -> None:
    two_months = BillingPeriod.parse("2026-11", months=2)

    line = only_line(
        lines_for(FLAT_101, [ELECTRICITY], usages=[electricity(FLAT_101, "500")], period=two_months)
    )

    assert line.amount == D("265.15")  # 480 × 0.5283 (253.58) + 20 × 0.5783 (11.57)
    assert english(line) == (
        "tier 1: 480 kWh × 0.5283 = 253.58; tier 2: 20 kWh × 0.5783 = 11.57 (monthly tiers × 2 months)"
    )


def test_charge_tiers_reports_each_tier_reached() -> None:
    assert charge_tiers(ELECTRICITY.tiers, D(300)) == (
        TierCharge(tier_number=1, quantity=D(240), unit_price=D("0.5283"), amount=D("126.79")),
        TierCharge(tier_number=2, quantity=D(60), unit_price=D("0.5783"), amount=D("34.70")),
    )
    assert charge_tiers(ELECTRICITY.tiers, D(50), earlier_usage=D(380)) == (
        TierCharge(tier_number=2, quantity=D(20), unit_price=D("0.5783"), amount=D("11.57")),
        TierCharge(tier_number=3, quantity=D(30), unit_price=D("0.8283"), amount=D("24.85")),
    )


def test_charge_tiers_refuses_negative_usage() -> None:
    with pytest.raises(ValueError, match="negative"):
        charge_tiers(ELECTRICITY.tiers, D(-1))


# --- apportioned ----------------------------------------------------------------------------------

THREE_UNITS = [FLAT_101, FLAT_102, SHOP_201]


def test_apportioning_by_area_gives_the_leftover_fen_to_the_largest_remainder() -> None:
    result = apportion(COMMON_POWER, THREE_UNITS)

    # 1000.00 × 120.50/222, × 89/222, × 12.50/222 = 542.7927…, 400.9009…, 56.3063…
    assert result.shares == {101: D("542.79"), 102: D("400.90"), 201: D("56.31")}
    assert (result.total, result.total_weight, result.unit_count) == (D("1000.00"), D("222.00"), 3)


def test_an_area_share_line_explains_the_split() -> None:
    apportionments = {COMMON_POWER.id: apportion(COMMON_POWER, THREE_UNITS)}

    line = only_line(lines_for(FLAT_102, [COMMON_POWER], apportionments=apportionments))

    assert (line.quantity, line.unit_price, line.amount) == (D("89.00"), None, D("400.90"))
    assert english(line) == "shared total 1000.00 split by floor area: 89.00 m² of 222.00 m² = 400.90"


def test_apportioning_equally_favours_the_lowest_unit_id_whatever_the_input_order() -> None:
    rule = dataclasses.replace(
        COMMON_POWER, apportion_total=D("100.00"), apportion_basis=ApportionBasis.EQUAL
    )

    result = apportion(rule, list(reversed(THREE_UNITS)))

    assert result.shares == {101: D("33.34"), 102: D("33.33"), 201: D("33.33")}
    line = only_line(lines_for(FLAT_101, [rule], apportionments={rule.id: result}))
    assert english(line) == "shared total 100.00 split equally among 3 units = 33.34"
    assert line.quantity == D(1)


def test_apportioning_by_usage_shares_in_proportion_to_consumption() -> None:
    rule = dataclasses.replace(
        COMMON_POWER,
        apportion_total=D("90.00"),
        apportion_basis=ApportionBasis.USAGE,
        meter_type="electricity",
    )
    usages = [electricity(FLAT_101, "100"), electricity(FLAT_102, "200"), MeterUsage(201, "water", D(50))]

    result = apportion(rule, THREE_UNITS, usages)

    assert result.shares == {101: D("30.00"), 102: D("60.00"), 201: D("0.00")}
    line = only_line(lines_for(FLAT_102, [rule], usages=[usages[1]], apportionments={rule.id: result}))
    assert english(line) == "shared total 90.00 split by electricity usage: 200 kWh of 300 kWh = 60.00"


def test_apportioning_leaves_out_units_outside_the_scope() -> None:
    rule = dataclasses.replace(COMMON_POWER, scope=RuleScope(building_ids=frozenset({1})))

    result = apportion(rule, THREE_UNITS)

    assert result.shares == {101: D("575.18"), 102: D("424.82")}  # 575.1790…, 424.8210… of 209.50 m²
    assert lines_for(SHOP_201, [rule], apportionments={rule.id: result}) == []


def test_a_shared_total_for_the_period_replaces_the_configured_one() -> None:
    rule = dataclasses.replace(COMMON_POWER, apportion_basis=ApportionBasis.EQUAL)

    result = apportion(rule, [FLAT_101, FLAT_102], shared_total=D("50.00"))

    assert result.shares == {101: D("25.00"), 102: D("25.00")}


def test_apportioning_with_nothing_in_scope_is_refused_on_the_scope() -> None:
    rule = dataclasses.replace(COMMON_POWER, scope=RuleScope(building_ids=frozenset({99})))

    with pytest.raises(ApportionmentError) as refusal:
        apportion(rule, THREE_UNITS)

    assert refusal.value.field == "scope"
    assert refusal.value.rule_code == "COMMON_POWER"


def test_apportioning_by_usage_when_nobody_used_anything_is_refused() -> None:
    rule = dataclasses.replace(COMMON_POWER, apportion_basis=ApportionBasis.USAGE, meter_type="electricity")

    with pytest.raises(ApportionmentError) as refusal:
        apportion(rule, THREE_UNITS, [electricity(FLAT_101, "0")])

    assert refusal.value.field == "apportionBasis"


def test_apportioning_a_non_positive_shared_total_is_refused() -> None:
    with pytest.raises(ApportionmentError) as refusal:
        apportion(COMMON_POWER, THREE_UNITS, shared_total=D("0.00"))

    assert refusal.value.field == "apportionTotal"


def test_apportion_refuses_a_rule_that_is_not_apportioned() -> None:
    with pytest.raises(ValueError, match="not apportioned"):
        apportion(PROPERTY_FEE, THREE_UNITS)


def test_an_apportioned_rule_needs_its_apportionment_to_price_a_unit() -> None:
    with pytest.raises(ValueError, match="apportion_all"):
        lines_for(FLAT_101, [COMMON_POWER])


def test_a_unit_missing_from_the_apportionment_draws_no_share() -> None:
    apportionments = {COMMON_POWER.id: apportion(COMMON_POWER, [FLAT_101, FLAT_102])}

    assert lines_for(SHOP_201, [COMMON_POWER], apportionments=apportionments) == []


def test_apportion_all_shares_every_apportioned_rule_in_effect_in_one_pass() -> None:
    equal_lift = dataclasses.replace(
        COMMON_POWER, id=7, code="LIFT", apportion_total=D("10.00"), apportion_basis=ApportionBasis.EQUAL
    )
    retired = dataclasses.replace(COMMON_POWER, id=8, code="OLD", effective_to=date(2026, 6, 30))
    prepared = prepare_rules([PROPERTY_FEE, COMMON_POWER, equal_lift, retired], [], NOVEMBER)

    result = apportion_all(prepared, iter(THREE_UNITS), shared_totals={7: D("1.00")})

    assert set(result) == {4, 7}
    assert result[4].shares == {101: D("542.79"), 102: D("400.90"), 201: D("56.31")}
    assert result[7].shares == {101: D("0.34"), 102: D("0.33"), 201: D("0.33")}


def test_apportion_all_without_apportioned_rules_is_empty() -> None:
    assert apportion_all(prepare_rules([PROPERTY_FEE], [], NOVEMBER), THREE_UNITS) == {}


# --- discounts and waivers ------------------------------------------------------------------------

VACANCY = DiscountRule(
    id=21, name="Vacancy discount", percent=D(50), rule_codes=frozenset({"PROPERTY"}), vacant_only=True
)
COMPANY = DiscountRule(
    id=22,
    name="Company rate",
    percent=D(10),
    rule_codes=frozenset({"PROPERTY"}),
    party_type=PartyType.COMPANY,
)
VACANT_FLAT = dataclasses.replace(FLAT_101, vacant=True)


def test_a_vacancy_discount_follows_the_charge_as_a_negative_line() -> None:
    charge, discount = lines_for(VACANT_FLAT, [PROPERTY_FEE], discounts=[VACANCY])

    assert charge.amount == D("337.40")
    assert discount == BillLineDraft(
        rule_id=1,
        rule_code="PROPERTY",
        kind=BillLineKind.DISCOUNT,
        description="Property management fee: Vacancy discount",
        quantity=D("337.40"),
        unit_price=D("-0.5"),
        amount=D("-168.70"),
        explanation=(phrase("discount", name="Vacancy discount", percent="50", base="337.40", cut="168.70"),),
        discount_id=21,
    )
    assert english(discount) == "Vacancy discount: 50% of 337.40 = -168.70"


def test_a_vacancy_discount_skips_occupied_units() -> None:
    assert len(lines_for(FLAT_101, [PROPERTY_FEE], discounts=[VACANCY])) == 1


def test_a_discount_skips_rules_it_does_not_name() -> None:
    lines = lines_for(VACANT_FLAT, [ELECTRICITY], usages=[electricity(FLAT_101, "300")], discounts=[VACANCY])

    assert [line.kind for line in lines] == [BillLineKind.CHARGE]


def test_a_party_type_discount_applies_only_to_that_party_type() -> None:
    shop_lines = lines_for(SHOP_201, [PROPERTY_FEE], discounts=[COMPANY])
    person_lines = lines_for(FLAT_102, [PROPERTY_FEE], discounts=[COMPANY])
    ownerless_lines = lines_for(FLAT_101, [PROPERTY_FEE], discounts=[COMPANY])

    assert [line.amount for line in shop_lines] == [D("35.00"), D("-3.50")]
    assert len(person_lines) == len(ownerless_lines) == 1


def test_discounts_compound_on_what_is_left() -> None:
    vacant_shop = dataclasses.replace(SHOP_201, floor_area=D("120.50"), vacant=True)

    lines = lines_for(vacant_shop, [PROPERTY_FEE], discounts=[VACANCY, COMPANY])

    assert [line.amount for line in lines] == [D("337.40"), D("-168.70"), D("-16.87")]
    assert english(lines[2]) == "Company rate: 10% of 168.70 = -16.87"


def test_two_discounts_sharing_an_id_never_lend_each_other_their_lines() -> None:
    # given: a discount that cuts nothing before one that cuts 10 %, both with the id 21
    nothing = dataclasses.replace(COMPANY, id=21, percent=D(0), party_type=None)
    tenth = dataclasses.replace(COMPANY, id=21, party_type=None)
    prepared = prepare_rules([PROPERTY_FEE], [nothing, tenth], NOVEMBER)
    twin = dataclasses.replace(FLAT_101, unit_id=102)
    # when two equal units are priced one after the other with the same prepared rules
    first = compute_unit_lines(prepared, FLAT_101, [])
    second = compute_unit_lines(prepared, twin, [])
    # then the second gets exactly the first one's lines: the 10 % once, on the whole charge
    assert [line.amount for line in first] == [D("337.40"), D("-33.74")]
    assert [line.amount for line in second] == [D("337.40"), D("-33.74")]


def test_a_discount_rounds_half_a_fen_up() -> None:
    tiny = dataclasses.replace(PARKING, amount_per_cycle=D("0.05"), scope=RuleScope(), code="PROPERTY")

    lines = lines_for(VACANT_FLAT, [tiny], discounts=[VACANCY])

    assert [line.amount for line in lines] == [D("0.05"), D("-0.03")]


def test_a_full_discount_brings_the_rule_to_zero_and_no_further() -> None:
    full = dataclasses.replace(VACANCY, percent=D(100))

    lines = lines_for(VACANT_FLAT, [PROPERTY_FEE], discounts=[full, COMPANY])

    assert [line.amount for line in lines] == [D("337.40"), D("-337.40")]


def test_a_discount_not_in_effect_for_the_period_is_ignored() -> None:
    expired = dataclasses.replace(VACANCY, effective_to=date(2026, 10, 31))
    upcoming = dataclasses.replace(VACANCY, id=23, effective_from=date(2026, 12, 1))

    assert len(lines_for(VACANT_FLAT, [PROPERTY_FEE], discounts=[expired, upcoming])) == 1


def test_a_discount_on_a_zero_charge_draws_no_line() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D(0))

    assert [line.kind for line in lines_for(VACANT_FLAT, [rule], discounts=[VACANCY])] == [BillLineKind.CHARGE]


def waiver(amount: str | None, *, rule_code: str = "PROPERTY", waiver_id: int = 31) -> Waiver:
    return Waiver(
        id=waiver_id,
        unit_id=101,
        rule_code=rule_code,
        amount=None if amount is None else D(amount),
        reason="lift out of service",
        approved_by=7,
    )


def test_a_full_waiver_cancels_the_charge() -> None:
    _, waived = lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver(None)])

    assert (waived.kind, waived.amount, waived.waiver_id) == (BillLineKind.WAIVER, D("-337.40"), 31)
    assert english(waived) == "waived in full: 337.40 (lift out of service)"


def test_a_partial_waiver_reduces_the_charge_by_its_amount() -> None:
    _, waived = lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver("100")])

    assert str(waived.amount) == "-100.00"
    assert english(waived) == "waiver of 100.00 (lift out of service)"


def test_a_waiver_larger_than_the_charge_is_capped_at_what_is_due() -> None:
    lines = lines_for(VACANT_FLAT, [PROPERTY_FEE], discounts=[VACANCY], waivers=[waiver("500.00")])

    assert [line.amount for line in lines] == [D("337.40"), D("-168.70"), D("-168.70")]
    assert english(lines[2]) == (
        "waiver of 500.00 capped at the 168.70 still due (lift out of service)"
    )


def test_a_waiver_for_a_rule_that_does_not_charge_the_unit_draws_no_line() -> None:
    assert len(lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver(None, rule_code="PARKING")])) == 1


def test_a_waiver_amount_is_spent_across_the_lines_of_its_rule_code() -> None:
    first = dataclasses.replace(PARKING, scope=RuleScope(), code="PARKING")
    second = dataclasses.replace(first, id=12, name="Second parking space")

    lines = lines_for(FLAT_101, [first, second], waivers=[waiver("400.00", rule_code="PARKING")])

    assert [line.amount for line in lines] == [D("300.00"), D("-300.00"), D("300.00"), D("-100.00")]


def test_waivers_and_usages_of_another_unit_are_refused() -> None:
    prepared = prepare_rules([PROPERTY_FEE], [], NOVEMBER)
    with pytest.raises(ValueError, match="waiver 31 of unit 101"):
        compute_unit_lines(prepared, FLAT_102, waivers=[waiver(None)])
    with pytest.raises(ValueError, match="usage of unit 101"):
        compute_unit_lines(prepared, FLAT_102, [electricity(FLAT_101, "1")])


def test_two_usages_of_one_meter_type_are_refused() -> None:
    prepared = prepare_rules([ELECTRICITY], [], NOVEMBER)
    with pytest.raises(ValueError, match="two electricity usages"):
        compute_unit_lines(prepared, FLAT_101, [electricity(FLAT_101, "1"), electricity(FLAT_101, "2")])


def test_an_invalid_waiver_is_refused_with_its_field() -> None:
    with pytest.raises(RuleValidationError) as refusal:
        lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver("-5")])
    assert refusal.value.field == "amount"


# --- a whole project ------------------------------------------------------------------------------


def test_a_small_community_is_billed_rule_by_rule() -> None:
    units = [VACANT_FLAT, FLAT_102, SHOP_201, SPACE_301]
    usages = [
        electricity(FLAT_102, "300"),
        MeterUsage(201, "electricity", D(450)),
        electricity(SPACE_301, "0"),
    ]
    rules = [PROPERTY_FEE, PARKING, ELECTRICITY, COMMON_POWER]
    waivers = [Waiver(41, 301, "PARKING", None, "construction blocks access", 7)]

    bills = compute_bill_lines(units, usages, rules, [VACANCY, COMPANY], waivers, NOVEMBER)

    def amounts(unit_id: int) -> list[tuple[str, str]]:
        return [(line.rule_code, str(line.amount)) for line in bills[unit_id]]

    # common power: 1000.00 over 120.50 + 89.00 + 12.50 + 13.20 = 235.20 m² is 512.329…, 378.401…,
    # 53.146…, 56.122…: floors leave 2 fen, which go to the largest remainders (units 101 and 201)
    assert amounts(101) == [("PROPERTY", "337.40"), ("PROPERTY", "-168.70"), ("COMMON_POWER", "512.33")]
    assert amounts(102) == [("PROPERTY", "249.20"), ("ELECTRICITY", "161.49"), ("COMMON_POWER", "378.40")]
    assert amounts(201) == [
        ("PROPERTY", "35.00"),
        ("PROPERTY", "-3.50"),
        ("ELECTRICITY", "260.74"),
        ("COMMON_POWER", "53.15"),
    ]
    assert amounts(301) == [
        ("PROPERTY", "36.96"),
        ("PARKING", "300.00"),
        ("PARKING", "-300.00"),
        ("COMMON_POWER", "56.12"),
    ]
    common_shares = [
        line.amount for lines in bills.values() for line in lines if line.rule_code == "COMMON_POWER"
    ]
    assert sum(common_shares) == D("1000.00")


def test_every_unit_is_listed_even_without_lines() -> None:
    bills = compute_bill_lines([FLAT_101, SPACE_301], [], [PARKING], [], [], NOVEMBER)

    assert bills[101] == []
    assert [line.rule_code for line in bills[301]] == ["PARKING"]


def test_usages_and_waivers_of_unknown_units_are_ignored() -> None:
    bills = compute_bill_lines(
        [FLAT_101], [MeterUsage(999, "electricity", D(5))], [ELECTRICITY], [], [waiver(None)], NOVEMBER
    )

    assert bills == {101: []}


def test_an_invalid_rule_stops_the_whole_computation_with_its_field() -> None:
    broken = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D(-1))

    with pytest.raises(RuleValidationError) as refusal:
        compute_bill_lines([FLAT_101], [], [broken], [], [], NOVEMBER)

    assert refusal.value.field == "ratePerSquareMetre"


def test_two_rules_in_effect_with_one_id_are_refused() -> None:
    with pytest.raises(ValueError, match="share the id 1"):
        prepare_rules([PROPERTY_FEE, dataclasses.replace(PARKING, id=1)], [], NOVEMBER)


def test_prepared_rules_keep_only_those_in_effect_in_their_given_order() -> None:
    retired = dataclasses.replace(WATER, effective_to=date(2026, 10, 31))

    prepared = prepare_rules([COMMON_POWER, retired, PARKING, PROPERTY_FEE], [], NOVEMBER)

    assert [rule.code for rule in prepared.rules] == ["COMMON_POWER", "PARKING", "PROPERTY"]
    assert prepared.apportioned_rules == (COMMON_POWER,)
    assert prepared.period == NOVEMBER
