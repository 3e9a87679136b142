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
    ReadingTally,
    RuleScope,
    Tier,
    UnitSnapshot,
    Waiver,
    phrase,
)
from billing.rules import (
    ApportionmentError,
    RuleValidationError,
    apportion,
    apportion_all,
    compute_bill_lines,
    compute_unit_lines,
    late_fee,
    late_fee_breakdown,
    late_fee_explanation,
    late_fee_policy_on,
    prepare_rules,
    usages_to_bill,
    validate_discount,
    validate_late_fee_policy,
    validate_rule,
    validate_waiver,
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
    assert (shares[41].rule_id, shares[41].basis, shares[41].total_weight, shares[41].unit_count) == (
        41,
        ApportionBasis.USAGE,
        D(20),
        2,
    )


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


# --- every refusal, in the words the form shows ---------------------------------------------------------

TIERS = (
    Tier(starts_at=D(0), up_to=D(240), unit_price=D("0.5283")),
    Tier(starts_at=D(240), up_to=None, unit_price=D("0.5783")),
)
METERED = dataclasses.replace(ELECTRICITY, tiers=TIERS)


def tiered(*tiers: Tier) -> FeeRule:
    return dataclasses.replace(METERED, tiers=tiers)


@pytest.mark.parametrize(
    ("rule", "field", "message"),
    [
        (dataclasses.replace(PROPERTY_FEE, code=" "), "code", "must not be empty"),
        (dataclasses.replace(PROPERTY_FEE, name=""), "name", "must not be empty"),
        (
            dataclasses.replace(PROPERTY_FEE, effective_to=date(2025, 12, 31)),
            "effectiveTo",
            "must not be before effectiveFrom",
        ),
        (dataclasses.replace(PROPERTY_FEE, amount_per_cycle=D(1)), "amountPerCycle", "does not apply to a PER_AREA rule"),
        (dataclasses.replace(PROPERTY_FEE, amount_per_cycle=D(0)), "amountPerCycle", "does not apply to a PER_AREA rule"),
        (dataclasses.replace(fixed("1.00"), amount_per_cycle=None), "amountPerCycle", "is required for a FIXED rule"),
        (dataclasses.replace(COMMON_POWER, meter_type="water"), "meterType", "only an apportionment by usage reads a meter"),
        (dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=None), "ratePerSquareMetre", "is required for a PER_AREA rule"),
        (dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("NaN")), "ratePerSquareMetre", "must be a finite number"),
        (dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("-0.01")), "ratePerSquareMetre", "must not be negative"),
        (fixed("0.001"), "amountPerCycle", "must be a whole number of fen (at most two decimal places)"),
        (dataclasses.replace(METERED, meter_type=" "), "meterType", "is required for a metered rule"),
        (dataclasses.replace(METERED, tier_period=None), "tierPeriod", "is required for a metered_tiered rule"),
        (
            dataclasses.replace(COMMON_POWER, apportion_basis=ApportionBasis.USAGE),
            "meterType",
            "is required for apportioning by usage",
        ),
        (dataclasses.replace(COMMON_POWER, apportion_total=None), "apportionTotal", "is required for a APPORTIONED rule"),
        (dataclasses.replace(COMMON_POWER, apportion_total=D(0)), "apportionTotal", "must be positive"),
        (dataclasses.replace(COMMON_POWER, apportion_basis=None), "apportionBasis", "is required for an apportioned rule"),
        (tiered(), "tiers", "a metered rule needs at least one tier"),
        (tiered(Tier(D(-1), None, D(1))), "tiers[0].startsAt", "must not be negative"),
        (tiered(Tier(D(1), None, D(1))), "tiers[0].startsAt", "the first tier must start at 0"),
        (tiered(Tier(D(0), D(240), D(1)), Tier(D(200), None, D(1))), "tiers[1].startsAt", "overlaps tier 0, which runs up to 240"),
        (tiered(Tier(D(0), D(240), D(1)), Tier(D(250), None, D(1))), "tiers[1].startsAt", "leaves a gap after tier 0, which ends at 240"),
        (
            tiered(Tier(D(0), D(240), D(1)), Tier(D(241), None, D(1))),
            "tiers[1].startsAt",
            "enter a published range 241–… as startsAt 240: a tier starts where the one before ends (upTo 240)"
            " and covers usage above it, so 0–240, 241–400, 401+ is entered as 0–240, 240–400, 400+",
        ),
        (tiered(Tier(D(0), None, D(1)), Tier(D(0), None, D(1))), "tiers[0].upTo", "only the last tier may be open-ended"),
        (tiered(Tier(D(0), D(-1), D(1)), Tier(D(0), None, D(1))), "tiers[0].upTo", "must not be negative"),
        (tiered(Tier(D(0), D(0), D(1)), Tier(D(0), None, D(1))), "tiers[0].upTo", "must be greater than startsAt"),
        (
            tiered(Tier(D(0), D(240), D(1)), Tier(D(240), D(400), D(1))),
            "tiers[1].upTo",
            "the last tier must be open-ended so that every usage has a price",
        ),
        (tiered(Tier(D(0), D(240), D(1)), Tier(D(240), None, D(-1))), "tiers[1].unitPrice", "must not be negative"),
    ],
)
def test_a_refused_rule_names_its_field_and_says_why(rule: FeeRule, field: str, message: str) -> None:
    with pytest.raises(RuleValidationError) as refused:
        validate_rule(rule)

    assert (refused.value.field, refused.value.message, str(refused.value)) == (field, message, f"{field}: {message}")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "must not be empty"),
        ({"percent": D("100.01")}, "percent", "must be between 0 and 100"),
        ({"percent": None}, "percent", "is required"),
        ({"rule_codes": frozenset()}, "ruleCodes", "must name at least one rule code"),
        (
            {"effective_from": date(2026, 11, 2), "effective_to": date(2026, 11, 1)},
            "effectiveTo",
            "must not be before effectiveFrom",
        ),
    ],
)
def test_a_refused_discount_names_its_field_and_says_why(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(RuleValidationError) as refused:
        validate_discount(dataclasses.replace(discount(33, "10"), **change))

    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"rule_code": ""}, "ruleCode", "must not be empty"),
        ({"reason": " "}, "reason", "a waiver needs a reason"),
        ({"amount": D("0.00")}, "amount", "must be positive; leave it empty to waive in full"),
        ({"amount": D("-1.00")}, "amount", "must not be negative"),
        ({"amount": D("1.005")}, "amount", "must be a whole number of fen (at most two decimal places)"),
    ],
)
def test_a_refused_waiver_names_its_field_and_says_why(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(RuleValidationError) as refused:
        validate_waiver(dataclasses.replace(waiver("10"), **change))

    assert (refused.value.field, refused.value.message) == (field, message)


@pytest.mark.parametrize(
    ("policy", "field", "message"),
    [
        (LateFeePolicy(daily_rate=D("-0.0001")), "dailyRate", "must not be negative"),
        (LateFeePolicy(daily_rate=D("0.0005"), grace_days=-1), "graceDays", "must not be negative"),
        (LateFeePolicy(daily_rate=D("0.0005"), cap_ratio=D("-0.1")), "capRatio", "must not be negative"),
    ],
)
def test_a_refused_late_fee_policy_names_its_field_and_says_why(policy: LateFeePolicy, field: str, message: str) -> None:
    with pytest.raises(RuleValidationError) as refused:
        validate_late_fee_policy(policy)

    assert (refused.value.field, refused.value.message) == (field, message)


def test_an_apportionment_that_cannot_be_shared_names_the_rule() -> None:
    def refusal(call) -> ApportionmentError:  # type: ignore[no-untyped-def]
        with pytest.raises(ApportionmentError) as refused:
            call()
        return refused.value

    nobody = refusal(lambda: apportion(dataclasses.replace(COMMON_POWER, scope=RuleScope(unit_ids=frozenset({9}))), [FLAT_101]))
    nothing = refusal(lambda: apportion(COMMON_POWER, [FLAT_101], shared_total=D("0.00")))
    weightless = refusal(lambda: apportion(COMMON_WATER, [FLAT_101], []))

    assert (nobody.rule_code, str(nobody)) == ("COMMON_POWER", "scope: rule COMMON_POWER: no unit is in the scope of this apportioned rule")
    assert (nothing.rule_code, str(nothing)) == ("COMMON_POWER", "apportionTotal: rule COMMON_POWER: cannot share 0.00: not a positive amount")
    assert (weightless.rule_code, str(weightless)) == (
        "COMMON_WATER",
        "apportionBasis: rule COMMON_WATER: the units in scope have no usage to share the total by",
    )


def test_a_negative_floor_area_is_refused_naming_the_unit() -> None:
    negative = dataclasses.replace(FLAT_101, floor_area=D("-1.00"))

    with pytest.raises(ValueError) as charged:
        lines_for(negative, [PROPERTY_FEE])
    with pytest.raises(ValueError) as shared:
        apportion(COMMON_POWER, [negative, FLAT_102])

    assert str(charged.value) == "unit 101 has a negative floor area -1.00"
    assert str(shared.value) == "unit 101 has a negative AREA weight -1.00"


# --- a bill run drafts each distinct line once ---------------------------------------------------------


def test_units_with_the_same_inputs_share_one_drafted_line() -> None:
    twin = dataclasses.replace(FLAT_101, unit_id=199)
    rules = [PROPERTY_FEE, PARKING, ELECTRICITY, COMMON_POWER]
    prepared = prepare_rules(rules, [discount(34, "10")], NOVEMBER)
    everyone = [FLAT_101, twin, dataclasses.replace(FLAT_101, unit_id=198, floor_area=D(1))]
    shares = apportion_all(prepared, everyone)

    def draft(unit: UnitSnapshot) -> list[BillLineDraft]:
        usage = [MeterUsage(unit.unit_id, "electricity", D(300))]
        return compute_unit_lines(prepared, unit, usage, apportionments=shares)

    first, second = draft(FLAT_101), draft(twin)

    assert [line.rule_code for line in first] == ["PROPERTY", "PROPERTY", "ELECTRICITY", "COMMON_POWER"]
    # the area, the discount on it and the meter repeat; the shares differ (largest remainder)
    assert [a is b for a, b in zip(first, second, strict=True)] == [True, True, True, first[3] == second[3]]


def test_a_fixed_charge_is_drafted_once_for_every_unit() -> None:
    prepared = prepare_rules([PARKING], [], NOVEMBER)
    spaces = [dataclasses.replace(SPACE_301, unit_id=unit_id) for unit_id in (301, 302)]

    first, second = (compute_unit_lines(prepared, space)[0] for space in spaces)

    assert first is second


# --- discounts, waivers and readings -------------------------------------------------------------------


def test_after_a_full_discount_nothing_more_is_taken_off() -> None:
    lines = lines_for(FLAT_101, [PROPERTY_FEE], discounts=[discount(35, "100"), discount(36, "10")], waivers=[waiver(None)])

    assert amounts(lines) == ["337.40", "-337.40"]


def test_year_to_date_usage_counts_what_earlier_bills_of_this_year_charged_on_those_meters_only() -> None:
    tallies = [
        ReadingTally(7, "electricity", billed=True, this_year=True, usage=D(100), readings=1),
        ReadingTally(7, "electricity", billed=True, this_year=True, usage=D(50), readings=1),
        ReadingTally(7, "electricity", billed=True, this_year=False, usage=D(1000), readings=1),
        ReadingTally(7, "water", billed=True, this_year=True, usage=D(9), readings=1),
        ReadingTally(7, "electricity", billed=False, this_year=True, usage=D(30), readings=1),
        ReadingTally(7, "water", billed=False, this_year=True, usage=D(4), readings=1),
    ]

    assert usages_to_bill(tallies, year_to_date_types=frozenset({"electricity"})) == [
        MeterUsage(7, "electricity", D(30), D(150)),
        MeterUsage(7, "water", D(4), D(0)),
    ]


# --- late fees: versions, caps and explanations ---------------------------------------------------------

JANUARY_POLICY = LateFeePolicy(daily_rate=D("0.001"), grace_days=0, effective_from=date(2026, 1, 1))
FEBRUARY_POLICY = LateFeePolicy(daily_rate=D("0.002"), grace_days=0, cap_ratio=D("0.5"), effective_from=date(2026, 2, 1))
MARCH_POLICY = LateFeePolicy(daily_rate=D("0.003"), grace_days=0, effective_from=date(2026, 3, 1))


def test_the_version_in_force_on_a_day() -> None:
    versions = [MARCH_POLICY, JANUARY_POLICY, FEBRUARY_POLICY]

    assert late_fee_policy_on(versions, date(2025, 12, 31)) is None
    assert late_fee_policy_on(versions, date(2026, 1, 1)) == JANUARY_POLICY
    assert late_fee_policy_on(versions, date(2026, 1, 31)) == JANUARY_POLICY
    assert late_fee_policy_on(versions, date(2026, 2, 1)) == FEBRUARY_POLICY
    assert late_fee_policy_on(versions, date(2026, 12, 1)) == MARCH_POLICY


def test_two_versions_starting_on_one_day_are_refused() -> None:
    with pytest.raises(ValueError) as refused:
        late_fee(D(100), START, date(2026, 3, 1), [JANUARY_POLICY, dataclasses.replace(FEBRUARY_POLICY, effective_from=date(2026, 1, 1))])

    assert str(refused.value) == "two late-fee policy versions start on 2026-01-01"


def test_three_versions_each_charge_their_own_days() -> None:
    breakdown = late_fee_breakdown(D(100), date(2025, 12, 31), date(2026, 3, 10), [JANUARY_POLICY, FEBRUARY_POLICY, MARCH_POLICY])

    # 31 days at 0.1 %, 28 at 0.2 %, 10 at 0.3 %: 3.10 + 5.60 + 3.00
    assert [(s.first_day, s.last_day, s.days) for s in breakdown.stretches] == [
        (date(2026, 1, 1), date(2026, 1, 31), 31),
        (date(2026, 2, 1), date(2026, 2, 28), 28),
        (date(2026, 3, 1), date(2026, 3, 10), 10),
    ]
    assert (breakdown.amount, breakdown.cap_ratio, breakdown.cap) == (D("11.70"), None, None)
    assert (breakdown.principal, breakdown.due_date, breakdown.as_of) == (D(100), date(2025, 12, 31), date(2026, 3, 10))


def test_a_version_whose_days_all_fall_in_grace_leaves_the_next_version_to_charge() -> None:
    long_grace = LateFeePolicy(daily_rate=D("0.001"), grace_days=30)
    no_grace = LateFeePolicy(daily_rate=D("0.001"), grace_days=0, effective_from=date(2026, 1, 11))

    assert late_fee(D(100), START, date(2026, 1, 20), [long_grace, no_grace]) == D("1.00")  # 11th to 20th


def test_the_cap_of_a_version_starting_on_the_day_asked_is_the_one_shown() -> None:
    breakdown = late_fee_breakdown(D(100), START, date(2026, 2, 1), [JANUARY_POLICY, FEBRUARY_POLICY])

    assert (breakdown.cap_ratio, breakdown.cap) == (D("0.5"), D("50.00"))


def test_a_fee_that_reaches_its_cap_exactly_was_not_held_back() -> None:
    policy = LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.1"))

    exactly = late_fee_breakdown(D(100), START, date(2026, 1, 11), policy)
    beyond = late_fee_breakdown(D(100), START, date(2026, 1, 12), policy)

    assert (exactly.amount, exactly.capped) == (D("10.00"), False)
    assert late_fee_explanation(exactly) == (
        phrase("late_fee_days", principal=D(100), rate="0.01", days=10, first_day="2026-01-02", last_day="2026-01-11", grace_days=0, amount=D("10.00")),
    )
    assert (beyond.amount, beyond.capped) == (D("10.00"), True)
    assert late_fee_explanation(beyond)[-1] == phrase("late_fee_cap", ratio="10", cap=D("10.00"))


def test_nothing_owed_has_no_stretches_no_cap_and_says_so() -> None:
    policy = LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.1"))

    breakdown = late_fee_breakdown(D("0.00"), START, date(2026, 3, 1), policy)

    assert (breakdown.stretches, breakdown.cap_ratio, breakdown.cap, breakdown.capped) == ((), None, None, False)
    assert str(breakdown.amount) == "0.00"
    assert late_fee_explanation(breakdown) == (phrase("no_late_fee", due_date="2026-01-01"),)


def test_before_the_first_version_nothing_is_charged_and_no_cap_is_in_force() -> None:
    breakdown = late_fee_breakdown(D(100), START, date(2026, 2, 15), [MARCH_POLICY])

    assert (breakdown.stretches, breakdown.cap_ratio, breakdown.cap, str(breakdown.amount)) == ((), None, None, "0.00")


def test_a_rate_with_trailing_zeros_is_written_to_the_fen() -> None:
    (line,) = lines_for(FLAT_101, [dataclasses.replace(PROPERTY_FEE, rate_per_square_metre=D("2.8000"))])

    assert line.explanation[0]["rate"] == "2.80"


def test_equal_shares_of_an_apportionment_are_one_drafted_line() -> None:
    rule = dataclasses.replace(COMMON_POWER, apportion_basis=ApportionBasis.EQUAL)
    units = [dataclasses.replace(FLAT_101, unit_id=unit_id) for unit_id in (101, 102, 103)]
    prepared = prepare_rules([rule], [], NOVEMBER)
    shares = apportion_all(prepared, units)

    # 1,000.00 in three: the leftover fen goes to the lowest id
    first, second, third = (compute_unit_lines(prepared, unit, apportionments=shares)[0] for unit in units)

    assert [line.amount for line in (first, second, third)] == [D("333.34"), D("333.33"), D("333.33")]
    assert second is third
