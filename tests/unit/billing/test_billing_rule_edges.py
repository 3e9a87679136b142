"""Specification of the rule engine at the edges no other test pinned: every line kind whole, discounts and
waivers around zero and one yuan, rounding over several months, tier boundaries carried from earlier in
the year, apportionments of several scopes and bases in one pass, and how figures are written."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal as D

import pytest

from billing.model import (
    ApportionBasis,
    BillingPeriod,
    BillLineDraft,
    DiscountRule,
    FeeRule,
    LateFeePolicy,
    MeterUsage,
    RuleScope,
    UnitSnapshot,
    Waiver,
    phrase,
)
from billing.rules import (
    RuleValidationError,
    apportion_all,
    compute_bill_lines,
    compute_unit_lines,
    late_fee,
    late_fee_breakdown,
    prepare_rules,
    validate_discount,
    validate_rule,
)
from kernel.vocabulary import BillLineKind, FeeRuleKind, UnitKind
from tests.unit.billing.test_billing_charges import (
    ANNUAL_ELECTRICITY,
    COMMON_POWER,
    ELECTRICITY,
    FLAT_101,
    FLAT_102,
    NOVEMBER,
    PARKING,
    PROPERTY_FEE,
    SHOP_201,
    SPACE_301,
    VACANCY,
    VACANT_FLAT,
    WATER,
    lines_for,
    waiver,
)

QUARTER = BillingPeriod.parse("2026-11", months=3)
START = date(2026, 1, 1)


def fixed(amount: str, *, rule_id: int = 9, code: str = "SERVICE") -> FeeRule:
    return FeeRule(
        id=rule_id, code=code, name="Service charge", kind=FeeRuleKind.FIXED, effective_from=START, amount_per_cycle=D(amount)
    )


def discount(discount_id: int, percent: str, *, codes: frozenset[str] = frozenset({"SERVICE", "PROPERTY"}), **kw: object) -> DiscountRule:
    return DiscountRule(id=discount_id, name=f"Discount {discount_id}", percent=D(percent), rule_codes=codes, **kw)  # type: ignore[arg-type]


def amounts(lines: list[BillLineDraft]) -> list[str]:
    return [str(line.amount) for line in lines]


# --- every line kind, whole -------------------------------------------------------------------------


def test_a_per_area_line_over_a_quarter() -> None:
    assert lines_for(FLAT_101, [PROPERTY_FEE], period=QUARTER) == [
        BillLineDraft(
            rule_id=1,
            rule_code="PROPERTY",
            kind=BillLineKind.CHARGE,
            description="Property management fee",
            quantity=D("120.50"),
            unit_price=D("8.40"),
            amount=D("1012.20"),
            explanation=(phrase("per_area", area="120.50", rate="2.80", months=3, amount=D("1012.20")),),
        )
    ]


def test_a_fixed_line_over_a_quarter() -> None:
    assert lines_for(SPACE_301, [PARKING], period=QUARTER) == [
        BillLineDraft(
            rule_id=2,
            rule_code="PARKING",
            kind=BillLineKind.CHARGE,
            description="Parking space rent",
            quantity=D(1),
            unit_price=D("300.00"),
            amount=D("300.00"),
            explanation=(phrase("fixed", amount=D("300.00"), months=3),),
        )
    ]


def test_a_one_tier_metered_line() -> None:
    assert lines_for(FLAT_101, [WATER], usages=[MeterUsage(101, "water", D("12.5"))]) == [
        BillLineDraft(
            rule_id=6,
            rule_code="WATER",
            kind=BillLineKind.CHARGE,
            description="Water",
            quantity=D("12.5"),
            unit_price=D("3.45"),
            amount=D("43.13"),
            explanation=(phrase("priced", quantity="12.5", unit="m³", price="3.45", amount=D("43.13")),),
        )
    ]


def test_a_metered_line_over_two_tiers_has_no_single_unit_price() -> None:
    assert lines_for(FLAT_101, [ELECTRICITY], usages=[MeterUsage(101, "electricity", D(300))]) == [
        BillLineDraft(
            rule_id=3,
            rule_code="ELECTRICITY",
            kind=BillLineKind.CHARGE,
            description="Electricity",
            quantity=D(300),
            unit_price=None,
            amount=D("161.49"),
            explanation=(
                phrase("tier", tier=1, quantity="240", unit="kWh", price="0.5283", amount=D("126.79")),
                phrase("tier", tier=2, quantity="60", unit="kWh", price="0.5783", amount=D("34.70")),
            ),
        )
    ]


def test_an_apportioned_line_has_the_share_and_no_unit_price() -> None:
    prepared = prepare_rules([COMMON_POWER], [], NOVEMBER)
    shares = apportion_all(prepared, [FLAT_101, FLAT_102])

    assert compute_unit_lines(prepared, FLAT_101, apportionments=shares) == [
        BillLineDraft(
            rule_id=4,
            rule_code="COMMON_POWER",
            kind=BillLineKind.CHARGE,
            description="Common-area electricity",
            quantity=D("120.50"),
            unit_price=None,
            amount=D("575.18"),
            explanation=(
                phrase("share_by_area", total=D("1000.00"), area="120.50", total_area="209.50", share=D("575.18")),
            ),
        )
    ]


def test_waiver_lines_carry_the_rule_a_negative_unit_price_and_the_waiver() -> None:
    partial = lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver("100")])[1]
    full = lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver(None)])[1]
    capped = lines_for(VACANT_FLAT, [PROPERTY_FEE], discounts=[VACANCY], waivers=[waiver("500.00")])[2]

    assert partial == BillLineDraft(
        rule_id=1,
        rule_code="PROPERTY",
        kind=BillLineKind.WAIVER,
        description="Property management fee: waiver",
        quantity=D(1),
        unit_price=D("-100.00"),
        amount=D("-100.00"),
        explanation=(phrase("waiver", amount=D("100.00"), reason="lift out of service"),),
        waiver_id=31,
    )
    assert (full.unit_price, full.amount, full.explanation) == (
        D("-337.40"),
        D("-337.40"),
        (phrase("waived_in_full", amount=D("337.40"), reason="lift out of service"),),
    )
    assert capped.explanation == (
        phrase("waiver_capped", waiver=D("500.00"), amount=D("168.70"), reason="lift out of service"),
    )


# --- discounts and waivers around zero and one yuan ---------------------------------------------------


def test_a_discount_that_does_not_apply_leaves_the_next_one_to_apply() -> None:
    for unit in (FLAT_101, dataclasses.replace(FLAT_101, party_type=None)):
        skipped = [VACANCY, discount(23, "10", party_type=None), discount(24, "10")]
        lines = lines_for(unit, [PROPERTY_FEE], discounts=skipped)

        assert amounts(lines) == ["337.40", "-33.74", "-30.37"]
        assert [line.discount_id for line in lines] == [None, 23, 24]


def test_a_discount_after_one_for_another_party_type_still_applies() -> None:
    company_only = dataclasses.replace(discount(25, "50"), party_type=SHOP_201.party_type)

    assert amounts(lines_for(FLAT_102, [PROPERTY_FEE], discounts=[company_only, discount(26, "10")])) == [
        "249.20",
        "-24.92",
    ]


def test_a_discount_that_rounds_to_nothing_draws_no_line_and_the_next_one_still_applies() -> None:
    lines = lines_for(FLAT_101, [fixed("0.04")], discounts=[discount(27, "10"), discount(28, "50")])

    assert amounts(lines) == ["0.04", "-0.02"]
    assert lines[1].discount_id == 28


def test_a_charge_of_one_yuan_is_discounted() -> None:
    assert amounts(lines_for(FLAT_101, [fixed("1.00")], discounts=[discount(29, "50")])) == ["1.00", "-0.50"]


def test_a_fractional_percentage_is_rounded_half_up_to_the_fen() -> None:
    _, cut = lines_for(FLAT_101, [PROPERTY_FEE], discounts=[discount(30, "12.5")])

    # 337.40 × 12.5 % = 42.175
    assert (cut.amount, cut.unit_price, cut.quantity) == (D("-42.18"), D("-0.125"), D("337.40"))
    assert cut.explanation == (phrase("discount", name="Discount 30", percent="12.5", base="337.40", cut="42.18"),)


def test_a_whole_percentage_is_written_without_decimals() -> None:
    _, cut = lines_for(FLAT_101, [PROPERTY_FEE], discounts=[discount(31, "10.00")])

    assert cut.explanation[0]["percent"] == "10"


def test_waivers_for_two_rule_codes_in_one_bill_each_reduce_their_own_charge() -> None:
    property_waiver = Waiver(id=31, unit_id=301, rule_code="PROPERTY", amount=D("10.00"), reason="r", approved_by=7)
    parking_waiver = Waiver(id=32, unit_id=301, rule_code="PARKING", amount=None, reason="r", approved_by=7)

    lines = lines_for(SPACE_301, [PROPERTY_FEE, PARKING], waivers=[property_waiver, parking_waiver])

    # 13.20 m² × 2.80 = 36.96
    assert [(line.rule_code, str(line.amount), line.waiver_id) for line in lines] == [
        ("PROPERTY", "36.96", None),
        ("PROPERTY", "-10.00", 31),
        ("PARKING", "300.00", None),
        ("PARKING", "-300.00", 32),
    ]


def test_a_waiver_of_exactly_one_yuan_is_spent() -> None:
    assert amounts(lines_for(FLAT_101, [PROPERTY_FEE], waivers=[waiver("1.00")])) == ["337.40", "-1.00"]


# --- charges -------------------------------------------------------------------------------------------


def test_a_per_area_charge_over_several_months_is_rounded_once_not_per_month() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("1.23"))
    unit = dataclasses.replace(FLAT_101, floor_area=D("88.88"))

    # 88.88 × 1.23 = 109.3224 a month: 3 × 109.32 would be 327.96; 88.88 × 3.69 = 327.9672
    assert amounts(lines_for(unit, [rule], period=QUARTER)) == ["327.97"]


def test_usage_earlier_in_the_year_ending_on_a_tier_boundary_starts_in_the_next_tier() -> None:
    (line,) = lines_for(FLAT_101, [ANNUAL_ELECTRICITY], usages=[MeterUsage(101, "electricity", D(100), D(2160))])

    assert (line.amount, line.unit_price) == (D("57.83"), D("0.5783"))
    assert line.explanation == (
        phrase("used_earlier", quantity="2160", unit="kWh"),
        phrase("tier", tier=2, quantity="100", unit="kWh", price="0.5783", amount=D("57.83")),
    )


# --- apportionment -------------------------------------------------------------------------------------

COMMON_LIFT = FeeRule(
    id=40,
    code="LIFT",
    name="Shop lift",
    kind=FeeRuleKind.APPORTIONED,
    effective_from=START,
    scope=RuleScope(building_ids=frozenset({2})),
    apportion_total=D("100.00"),
    apportion_basis=ApportionBasis.EQUAL,
)
COMMON_WATER = FeeRule(
    id=41,
    code="COMMON_WATER",
    name="Common water",
    kind=FeeRuleKind.APPORTIONED,
    effective_from=START,
    scope=RuleScope(building_ids=frozenset({1})),
    meter_type="water",
    apportion_total=D("90.00"),
    apportion_basis=ApportionBasis.USAGE,
)
USAGES = [
    MeterUsage(101, "water", D(20)),
    MeterUsage(101, "electricity", D(300)),
    MeterUsage(201, "water", D(5)),
]


def test_apportion_all_shares_rules_of_different_scopes_and_bases_in_one_pass() -> None:
    shares = apportion_all(prepare_rules([COMMON_LIFT, COMMON_WATER], [], NOVEMBER), [FLAT_101, FLAT_102, SHOP_201], USAGES)

    assert {rule_id: dict(a.shares) for rule_id, a in shares.items()} == {
        40: {201: D("100.00")},
        # 102 has no water reading: it weighs nothing and owes nothing
        41: {101: D("90.00"), 102: D("0.00")},
    }
    assert (shares[41].basis, shares[41].total_weight, shares[41].unit_count) == (ApportionBasis.USAGE, D(20), 2)


def test_a_unit_without_a_reading_in_a_usage_apportionment_draws_a_zero_share() -> None:
    lines = compute_bill_lines([FLAT_101, FLAT_102, SHOP_201], USAGES, [COMMON_LIFT, COMMON_WATER], [], [], NOVEMBER)

    assert lines[102] == [
        BillLineDraft(
            rule_id=41,
            rule_code="COMMON_WATER",
            kind=BillLineKind.CHARGE,
            description="Common water",
            quantity=D(0),
            unit_price=None,
            amount=D("0.00"),
            explanation=(
                phrase(
                    "share_by_usage",
                    total=D("90.00"),
                    meter="water",
                    quantity="0",
                    total_quantity="20",
                    unit="m³",
                    share=D("0.00"),
                ),
            ),
        )
    ]
    assert [(line.quantity, line.amount) for line in lines[101]] == [(D(20), D("90.00"))]


def test_compute_bill_lines_takes_this_periods_shared_totals_and_the_usages() -> None:
    lines = compute_bill_lines(
        [FLAT_101, SHOP_201],
        [MeterUsage(101, "electricity", D(100))],
        [ELECTRICITY, COMMON_LIFT],
        [],
        [],
        NOVEMBER,
        shared_totals={40: D("120.00")},
    )

    assert {unit: amounts(unit_lines) for unit, unit_lines in lines.items()} == {101: ["52.83"], 201: ["120.00"]}


# --- validation --------------------------------------------------------------------------------------


def test_an_apportioned_total_below_the_fen_is_refused() -> None:
    with pytest.raises(RuleValidationError) as refused:
        validate_rule(dataclasses.replace(COMMON_POWER, apportion_total=D("100.005")))

    assert (refused.value.field, refused.value.message) == (
        "apportionTotal",
        "must be a whole number of fen (at most two decimal places)",
    )


def test_a_discount_of_one_day_is_valid() -> None:
    validate_discount(discount(32, "10", effective_from=date(2026, 11, 1), effective_to=date(2026, 11, 1)))


# --- how figures are written --------------------------------------------------------------------------


def test_rates_and_areas_are_written_with_at_least_two_places_and_no_exponent() -> None:
    rule = dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("2.05"))
    unit = dataclasses.replace(FLAT_101, floor_area=D("1E+2"))

    (line,) = lines_for(unit, [rule])

    assert line.explanation == (phrase("per_area", area="100.00", rate="2.05", months=1, amount=D("205.00")),)


def test_quantities_are_written_plainly_and_meter_types_outside_the_table_have_no_unit() -> None:
    steam = dataclasses.replace(WATER, meter_type="steam")
    hot_water = dataclasses.replace(WATER, meter_type="Hot_Water")

    (steam_line,) = lines_for(FLAT_101, [steam], usages=[MeterUsage(101, "steam", D("2.4E+2"))])
    (hot_line,) = lines_for(FLAT_101, [hot_water], usages=[MeterUsage(101, "Hot_Water", D("12.50"))])

    assert steam_line.explanation == (phrase("priced", quantity="240", unit="", price="3.45", amount=D("828.00")),)
    assert hot_line.explanation == (phrase("priced", quantity="12.5", unit="m³", price="3.45", amount=D("43.13")),)


# --- late fees on small principals ----------------------------------------------------------------------


def test_a_principal_of_one_yuan_accrues_and_is_capped() -> None:
    policy = LateFeePolicy(daily_rate=D("0.0005"), grace_days=0, cap_ratio=D("0.1"))

    assert late_fee(D("1.00"), START, date(2026, 4, 11), policy) == D("0.05")  # 100 days
    breakdown = late_fee_breakdown(D("1.00"), START, date(2026, 4, 11), policy)
    assert (breakdown.cap, breakdown.cap_ratio, breakdown.capped) == (D("0.10"), D("0.1"), False)
    assert late_fee(D("1.00"), START, date(2027, 1, 1), policy) == D("0.10")


def test_a_shop_unit_kind_is_charged_by_a_kind_filter() -> None:
    shop_only = dataclasses.replace(PROPERTY_FEE, scope=RuleScope(unit_kinds=frozenset({UnitKind.SHOP})))

    assert amounts(lines_for(SHOP_201, [shop_only])) == ["35.00"]
    assert lines_for(FLAT_101, [shop_only]) == []


def test_units_without_lines_are_still_listed() -> None:
    assert compute_bill_lines([UnitSnapshot(900, 9, UnitKind.STORAGE, D(0))], [], [PARKING], [], [], NOVEMBER) == {900: []}
