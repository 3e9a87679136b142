"""Laws every charge obeys, checked on generated rules, units and usages (hypothesis)."""

from collections import defaultdict
from datetime import date
from decimal import Decimal as D
from unittest.mock import patch

from hypothesis import assume, given
from hypothesis import strategies as st

from billing.model import (
    ApportionBasis,
    BillingPeriod,
    BillLineDraft,
    DiscountRule,
    FeeRule,
    MeterUsage,
    Tier,
    TierPeriod,
    UnitSnapshot,
    Waiver,
)
from billing.rules import apportion, charge_tiers, compute_unit_lines, prepare_rules
from kernel.vocabulary import BillLineKind, FeeRuleKind, PartyType, UnitKind

NOVEMBER = BillingPeriod.parse("2026-11")
START = date(2026, 1, 1)
FEN = D("0.01")


def total_charge(tiers: tuple[Tier, ...], usage: D, earlier: D = D(0)) -> D:
    return sum((part.amount for part in charge_tiers(tiers, usage, earlier_usage=earlier)), D(0))


@st.composite
def valid_tiers(draw: st.DrawFn, min_bounded: int = 0) -> tuple[Tier, ...]:
    """Contiguous tiers from 0, at least `min_bounded` of them with an upper bound, the last open-ended."""
    widths = draw(
        st.lists(
            st.decimals(min_value=D("0.5"), max_value=D(2000), places=1), min_size=min_bounded, max_size=4
        )
    )
    prices = draw(
        st.lists(
            st.decimals(min_value=0, max_value=D(12), places=4),
            min_size=len(widths) + 1,
            max_size=len(widths) + 1,
        )
    )
    tiers = []
    start = D(0)
    for width, price in zip(widths, prices, strict=False):
        tiers.append(Tier(starts_at=start, up_to=start + width, unit_price=price))
        start += width
    tiers.append(Tier(starts_at=start, up_to=None, unit_price=prices[-1]))
    return tuple(tiers)


usages = st.decimals(min_value=0, max_value=D(10_000), places=2)


@given(tiers=valid_tiers(), first=usages, second=usages)
def test_tiered_charges_are_monotone_in_usage(tiers: tuple[Tier, ...], first: D, second: D) -> None:
    lower, higher = sorted((first, second))

    assert total_charge(tiers, lower) <= total_charge(tiers, higher)


@given(tiers=valid_tiers(), usage=usages, extra=st.decimals(min_value=0, max_value=D(50), places=2))
def test_tiered_charges_grow_no_faster_than_the_dearest_tier(
    tiers: tuple[Tier, ...], usage: D, extra: D
) -> None:
    # Continuity, with one fen of rounding per tier allowed: a little more usage costs only a little more.
    dearest = max(tier.unit_price for tier in tiers)

    growth = total_charge(tiers, usage + extra) - total_charge(tiers, usage)

    assert 0 <= growth <= extra * dearest + FEN * len(tiers)


@given(
    tiers=valid_tiers(min_bounded=1),
    step=st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3),
    data=st.data(),
)
def test_tiered_charges_do_not_jump_at_a_tier_boundary(
    tiers: tuple[Tier, ...], step: D, data: st.DataObject
) -> None:
    boundary = data.draw(st.sampled_from([tier.up_to for tier in tiers if tier.up_to is not None]))
    below = max(boundary - step, D(0))
    dearest = max(tier.unit_price for tier in tiers)

    jump = total_charge(tiers, boundary + step) - total_charge(tiers, below)

    assert 0 <= jump <= (boundary + step - below) * dearest + 2 * FEN


@given(tiers=valid_tiers(), earlier=usages, usage=usages)
def test_year_to_date_charges_add_up_to_the_charge_for_the_whole_usage(
    tiers: tuple[Tier, ...], earlier: D, usage: D
) -> None:
    # Billing `earlier` and then `usage` costs what billing both at once does, give or take the rounding of
    # each tier split between the two bills.
    in_two_bills = total_charge(tiers, earlier) + total_charge(tiers, usage, earlier)

    assert abs(in_two_bills - total_charge(tiers, earlier + usage)) <= FEN * len(tiers)


areas = st.decimals(min_value=0, max_value=D(500), places=2)


@st.composite
def units_with_usages(draw: st.DrawFn) -> tuple[list[UnitSnapshot], list[MeterUsage]]:
    unit_ids = draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=25, unique=True))
    units = [
        UnitSnapshot(
            unit_id=unit_id,
            building_id=draw(st.integers(min_value=1, max_value=3)),
            kind=draw(st.sampled_from(UnitKind)),
            floor_area=draw(areas),
        )
        for unit_id in unit_ids
    ]
    usages_drawn = [MeterUsage(unit_id, "electricity", draw(usages)) for unit_id in unit_ids]
    return units, usages_drawn


@given(
    case=units_with_usages(),
    basis=st.sampled_from(ApportionBasis),
    total_fen=st.integers(min_value=1, max_value=10**9),
)
def test_apportioned_shares_add_up_to_the_total_exactly(
    case: tuple[list[UnitSnapshot], list[MeterUsage]], basis: ApportionBasis, total_fen: int
) -> None:
    units, usages_drawn = case
    total = D(total_fen).scaleb(-2)
    rule = FeeRule(
        id=1,
        code="COMMON",
        name="Common-area electricity",
        kind=FeeRuleKind.APPORTIONED,
        effective_from=START,
        apportion_total=total,
        apportion_basis=basis,
        meter_type="electricity" if basis is ApportionBasis.USAGE else None,
    )
    weight_of = {
        ApportionBasis.AREA: {unit.unit_id: unit.floor_area for unit in units},
        ApportionBasis.EQUAL: {unit.unit_id: D(1) for unit in units},
        ApportionBasis.USAGE: {usage.unit_id: usage.usage for usage in usages_drawn},
    }[basis]
    assume(sum(weight_of.values()) > 0)

    result = apportion(rule, units, usages_drawn)

    assert sum(result.shares.values()) == total
    assert set(result.shares) == {unit.unit_id for unit in units}
    assert all(share >= 0 and share == share.quantize(FEN) for share in result.shares.values())


discount_rules = st.lists(
    st.builds(
        DiscountRule,
        id=st.integers(min_value=1, max_value=1000),
        name=st.just("Discount"),
        percent=st.decimals(min_value=0, max_value=D(100), places=2),
        rule_codes=st.sampled_from(
            [frozenset({"PROPERTY"}), frozenset({"PARKING"}), frozenset({"PROPERTY", "PARKING"})]
        ),
        vacant_only=st.booleans(),
        party_type=st.none() | st.sampled_from(PartyType),
    ),
    max_size=4,
)


@st.composite
def waivers_for(draw: st.DrawFn, unit_id: int) -> list[Waiver]:
    count = draw(st.integers(min_value=0, max_value=3))
    return [
        Waiver(
            id=index,
            unit_id=unit_id,
            rule_code=draw(st.sampled_from(["PROPERTY", "PARKING"])),
            amount=draw(
                st.none() | st.integers(min_value=1, max_value=10**7).map(lambda fen: D(fen).scaleb(-2))
            ),
            reason="goodwill",
            approved_by=1,
        )
        for index in range(count)
    ]


@given(
    area=areas,
    rate=st.decimals(min_value=0, max_value=D(20), places=3),
    parking_fen=st.integers(min_value=0, max_value=10**6),
    vacant=st.booleans(),
    party_type=st.none() | st.sampled_from(PartyType),
    discounts=discount_rules,
    waivers=waivers_for(7),
)
def test_discounts_and_waivers_never_make_a_rule_negative(
    area: D,
    rate: D,
    parking_fen: int,
    vacant: bool,
    party_type: PartyType | None,
    discounts: list[DiscountRule],
    waivers: list[Waiver],
) -> None:
    rules = [
        FeeRule(1, "PROPERTY", "Property fee", FeeRuleKind.PER_AREA, START, rate_per_square_metre=rate),
        FeeRule(2, "PARKING", "Parking", FeeRuleKind.FIXED, START, amount_per_cycle=D(parking_fen).scaleb(-2)),
    ]
    unit = UnitSnapshot(7, 1, UnitKind.APARTMENT, area, vacant=vacant, party_type=party_type)

    lines = compute_unit_lines(prepare_rules(rules, discounts, NOVEMBER), unit, waivers=waivers)

    net_by_rule: defaultdict[str, D] = defaultdict(D)
    for line in lines:
        assert_line_sign(line)
        net_by_rule[line.rule_code] += line.amount
    assert set(net_by_rule) == {"PROPERTY", "PARKING"}
    assert all(net >= 0 for net in net_by_rule.values())


def assert_line_sign(line: BillLineDraft) -> None:
    assert line.amount == line.amount.quantize(FEN)
    if line.kind is BillLineKind.CHARGE:
        assert line.amount >= 0
    else:
        assert line.amount < 0


@given(tiers=valid_tiers(), usage=usages, earlier=usages, months=st.integers(min_value=1, max_value=3))
def test_a_metered_line_amount_is_the_sum_of_its_tiers(
    tiers: tuple[Tier, ...], usage: D, earlier: D, months: int
) -> None:
    rule = FeeRule(
        1,
        "ELECTRICITY",
        "Electricity",
        FeeRuleKind.METERED_TIERED,
        START,
        meter_type="electricity",
        tiers=tiers,
        tier_period=TierPeriod.YEAR_TO_DATE,
    )
    unit = UnitSnapshot(7, 1, UnitKind.APARTMENT, D(80))
    prepared = prepare_rules([rule], [], BillingPeriod.parse("2026-11", months=months))

    lines = compute_unit_lines(prepared, unit, [MeterUsage(7, "electricity", usage, earlier)])

    # nothing used draws no line; anything used draws one that adds up its tiers
    assert len(lines) == (0 if usage == 0 else 1)
    assert sum((line.amount for line in lines), D(0)) == total_charge(tiers, usage, earlier)
    assert all(line.quantity == usage for line in lines)


@st.composite
def repeating_units(draw: st.DrawFn) -> tuple[list[UnitSnapshot], list[MeterUsage]]:
    """Units drawing their area and usage from a few values, as flats of one plan do."""
    area_choices = draw(st.lists(areas, min_size=1, max_size=3))
    usage_choices = draw(st.lists(usages, min_size=1, max_size=3))
    units, usages_drawn = [], []
    for unit_id in range(1, draw(st.integers(min_value=1, max_value=12)) + 1):
        units.append(
            UnitSnapshot(
                unit_id,
                1,
                UnitKind.APARTMENT,
                draw(st.sampled_from(area_choices)),
                vacant=draw(st.booleans()),
                party_type=draw(st.none() | st.sampled_from(PartyType)),
            )
        )
        usages_drawn.append(MeterUsage(unit_id, "electricity", draw(st.sampled_from(usage_choices))))
    return units, usages_drawn


@given(case=repeating_units(), tiers=valid_tiers(), discounts=discount_rules, remembered=st.sampled_from([1, 2, 16_384]))
def test_a_unit_priced_after_others_gets_the_lines_it_would_get_alone(
    case: tuple[list[UnitSnapshot], list[MeterUsage]], tiers: tuple[Tier, ...], discounts: list[DiscountRule], remembered: int
) -> None:
    # Prepared rules remember the lines they drafted; however few they keep, no unit sees another's.
    units, usages_drawn = case
    rules = [
        FeeRule(1, "PROPERTY", "Property fee", FeeRuleKind.PER_AREA, START, rate_per_square_metre=D("2.80")),
        FeeRule(2, "PARKING", "Parking", FeeRuleKind.FIXED, START, amount_per_cycle=D("300.00")),
        FeeRule(
            3, "ELECTRICITY", "Electricity", FeeRuleKind.METERED_TIERED, START,
            meter_type="electricity", tiers=tiers, tier_period=TierPeriod.MONTH,
        ),
        FeeRule(
            4, "COMMON", "Common area", FeeRuleKind.APPORTIONED, START,
            apportion_total=D("1000.00"), apportion_basis=ApportionBasis.AREA,
        ),
    ]
    assume(sum(unit.floor_area for unit in units) > 0)
    shared = {4: apportion(rules[3], units, usages_drawn)}
    usage_of = {usage.unit_id: usage for usage in usages_drawn}
    prepared = prepare_rules(rules, discounts, NOVEMBER)

    with patch("billing.rules._REMEMBERED_LINES", remembered):
        together = [compute_unit_lines(prepared, unit, [usage_of[unit.unit_id]], apportionments=shared) for unit in units]
    alone = [
        compute_unit_lines(prepare_rules(rules, discounts, NOVEMBER), unit, [usage_of[unit.unit_id]], apportionments=shared)
        for unit in units
    ]

    assert together == alone
