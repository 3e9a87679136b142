"""The collection rate against a fixture computed by hand, to the fen and to 0.01 %, and its laws."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from billing.model import BillingPeriod
from billing.reports.collection import (
    ADJUSTMENT_KIND,
    BillMovement,
    ChargedBill,
    CollectionFigures,
    CollectionReport,
    FeeCharge,
    collection_report,
)

ZONE = ZoneInfo("Asia/Shanghai")
A1, A2 = 1, 2
JAN, FEB, MAR = (BillingPeriod.parse(label) for label in ("2026-01", "2026-02", "2026-03"))


def d(text: str) -> Decimal:
    return Decimal(text)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=ZONE)


def bill(bill_id: int, period: str, building: int, issued: str, *charges: tuple[str, str]) -> ChargedBill:
    return ChargedBill(
        bill_id, period, building, dt.date.fromisoformat(issued), tuple(FeeCharge(kind, d(amount)) for kind, amount in charges)
    )


# Bills are issued on the first of the month after their period, as the demo does.
BILLS = [
    bill(1, "2026-01", A1, "2026-02-01", ("PROPERTY", "247.80"), ("WATER", "58.00")),
    bill(2, "2026-01", A2, "2026-02-01", ("PROPERTY", "390.00"), ("PARKING", "300.00")),
    bill(3, "2026-02", A1, "2026-03-01", ("PROPERTY", "247.80"), ("WATER", "61.50")),
    bill(4, "2026-02", A2, "2026-03-01", ("PROPERTY", "390.00"), ("PARKING", "300.00")),
    bill(5, "2025-12", A2, "2026-01-01", ("PROPERTY", "390.00")),
]
CASH = [
    BillMovement(1, at("2026-02-10"), d("305.80")),
    BillMovement(2, at("2026-02-12"), d("500.00")),  # property 390.00 in full, parking 110.00
    BillMovement(5, at("2026-02-20"), d("100.00")),  # an old bill: arrears recovered in February
    BillMovement(1, at("2026-02-25"), d("20.00")),  # pays the debit adjustment of 2026-02-15
    BillMovement(3, at("2026-03-01", 9), d("50.00")),  # prepaid credit the March run applied
    BillMovement(2, at("2026-03-05"), d("190.00")),  # the January bill's parking, recovered in March
    BillMovement(3, at("2026-03-10"), d("100.00")),
    BillMovement(5, at("2026-03-15"), d("290.00")),
    BillMovement(5, at("2026-03-20"), d("-100.00")),  # the February payment reversed (a bounced transfer)
]
ADJUSTMENTS = [
    BillMovement(1, at("2026-02-15"), d("20.00")),
    BillMovement(4, at("2026-03-03"), d("-90.00")),
]


def report(as_of: str, periods: list[BillingPeriod] | None = None) -> CollectionReport:
    return collection_report(
        BILLS, CASH, ADJUSTMENTS, periods=periods or [JAN, FEB, MAR], as_of=dt.date.fromisoformat(as_of), zone=ZONE
    )


def cell(result: CollectionReport, period: str, building: int, kind: str) -> CollectionFigures:
    return next(
        line.figures for line in result.cells if (line.period, line.building_id, line.fee_kind) == (period, building, kind)
    )


def figures(receivable: str = "0", collected: str = "0", arrears: str = "0", recovered: str = "0") -> CollectionFigures:
    return CollectionFigures(d(receivable), d(collected), d(arrears), d(recovered))


def test_january_is_collected_in_full_with_the_debit_adjustment_as_its_own_fee_kind() -> None:
    result = report("2026-03-31")

    assert result.total_of("2026-01") == figures("1015.80", "1015.80")
    assert result.total_of("2026-01").current_rate == d("1.0000")
    assert result.total_of("2026-01").recovery_rate is None  # the December bill was issued on 1 January itself
    assert cell(result, "2026-01", A1, ADJUSTMENT_KIND) == figures("20.00", "20.00")
    assert cell(result, "2026-01", A2, "PARKING") == figures("300.00", "300.00")


def test_february_counts_applied_prepaid_credit_and_lowers_the_receivable_by_the_credit_adjustment() -> None:
    result = report("2026-03-31")
    february = result.total_of("2026-02")

    # 247.80 + 61.50 + 390.00 + 300.00 − 90.00; the applied credit 50.00 and the payment 100.00 pay property first
    assert february.receivable == d("909.30")
    assert february.collected == d("150.00")
    assert february.current_rate == d("0.1650")  # 150 / 909.30 = 0.16496…
    assert cell(result, "2026-02", A1, "PROPERTY") == figures("247.80", "150.00")
    assert cell(result, "2026-02", A1, "WATER") == figures("61.50", "0.00")
    assert cell(result, "2026-02", A2, ADJUSTMENT_KIND) == figures("-90.00", "0.00")
    assert cell(result, "2026-02", A2, ADJUSTMENT_KIND).current_rate is None
    # the December bill (issued 1 January) owed 390.00 when February began; 100.00 came in during February
    assert (february.arrears_at_start, february.arrears_recovered) == (d("390.00"), d("100.00"))
    assert february.recovery_rate == d("0.2564")


def test_march_recovers_arrears_net_of_a_reversal_and_has_no_bills_of_its_own_yet() -> None:
    march = report("2026-03-31").total_of("2026-03")

    # open on 1 March: the January parking 190.00 and the December property 290.00; recovered in March:
    # 190.00, and 290.00 − 100.00 (the February payment taken back)
    assert march == figures("0", "0", "480.00", "380.00")
    assert march.current_rate is None
    assert march.recovery_rate == d("0.7917")


def test_as_of_an_earlier_day_the_journal_is_read_back_to_that_day() -> None:
    result = report("2026-02-28")

    assert result.total_of("2026-01") == figures("1015.80", "825.80")  # the March parking not paid yet
    assert result.total_of("2026-01").current_rate == d("0.8130")
    assert result.total_of("2026-02") == figures("0", "0", "390.00", "100.00")  # its bills come on 1 March
    assert result.total_of("2026-03") == figures()  # March has not begun


def test_as_of_a_day_before_any_payment_nothing_is_collected() -> None:
    result = report("2026-02-09")

    assert result.total_of("2026-01") == figures("995.80", "0.00")  # the debit adjustment comes on 15 February
    assert result.total_of("2026-02") == figures("0", "0", "390.00", "0.00")


def test_buildings_and_fee_kinds_add_up_to_the_projects_totals() -> None:
    result = report("2026-03-31")

    for level in (result.cells, result.by_building, result.by_fee_kind):
        for period in result.periods:
            summed = sum((line.figures for line in level if line.period == period), CollectionFigures())
            assert summed == result.total_of(period)
    assert [(line.building_id, line.figures) for line in result.by_building if line.period == "2026-03"] == [
        (A2, figures("0", "0", "480.00", "380.00"))
    ]
    assert [line.fee_kind for line in result.by_fee_kind if line.period == "2026-02"] == [
        "PARKING", "PROPERTY", "WATER", ADJUSTMENT_KIND
    ]


# --- laws ------------------------------------------------------------------------------------------

KINDS = ("PROPERTY", "WATER", "PARKING")
PERIODS = [BillingPeriod.parse(f"2026-{month:02d}") for month in range(1, 7)]


@st.composite
def books(draw: st.DrawFn) -> tuple[list[ChargedBill], list[BillMovement]]:
    """Bills over six months, each paid in parts that never exceed what it asks for."""
    bills: list[ChargedBill] = []
    cash: list[BillMovement] = []
    for bill_id in range(1, draw(st.integers(1, 12)) + 1):
        period = draw(st.sampled_from(PERIODS))
        issued = period.end + dt.timedelta(days=draw(st.integers(1, 20)))
        charges = tuple(
            FeeCharge(kind, Decimal(draw(st.integers(0, 50_000))).scaleb(-2))
            for kind in draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3, unique=True))
        )
        bills.append(ChargedBill(bill_id, period.label, draw(st.sampled_from([A1, A2])), issued, charges))
        left = sum((charge.amount for charge in charges), Decimal("0.00"))
        when = dt.datetime.combine(issued, dt.time(12), ZONE)
        for _ in range(draw(st.integers(0, 3))):
            amount = Decimal(draw(st.integers(0, int(left * 100)))).scaleb(-2)
            when += dt.timedelta(days=draw(st.integers(0, 60)), hours=draw(st.integers(0, 23)))
            if amount:
                cash.append(BillMovement(bill_id, when, amount))
                left -= amount
    return bills, cash


@given(books(), st.dates(dt.date(2026, 1, 1), dt.date(2027, 3, 1)))
def test_rates_stay_between_zero_and_one_when_nothing_is_overpaid(
    drawn: tuple[list[ChargedBill], list[BillMovement]], as_of: dt.date
) -> None:
    bills, cash = drawn
    result = collection_report(bills, cash, [], periods=PERIODS, as_of=as_of, zone=ZONE)

    for line in (*result.cells, *result.by_building, *result.by_fee_kind, *result.totals):
        for value in (line.figures.current_rate, line.figures.recovery_rate):
            assert value is None or Decimal(0) <= value <= Decimal(1)


@given(books(), st.dates(dt.date(2026, 1, 1), dt.date(2027, 3, 1)))
def test_every_level_adds_up_to_the_period_total_and_collected_is_the_cash_on_the_periods_bills(
    drawn: tuple[list[ChargedBill], list[BillMovement]], as_of: dt.date
) -> None:
    bills, cash = drawn
    result = collection_report(bills, cash, [], periods=PERIODS, as_of=as_of, zone=ZONE)
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0), ZONE)

    for period in PERIODS:
        for level in (result.cells, result.by_building, result.by_fee_kind):
            summed = sum((line.figures for line in level if line.period == period.label), CollectionFigures())
            assert summed == result.total_of(period.label)
        issued = {b.bill_id for b in bills if b.period == period.label and b.issued_on <= as_of}
        assert result.total_of(period.label).collected == sum(
            (m.amount for m in cash if m.bill_id in issued and m.at < cutoff), Decimal("0.00")
        )


@given(books())
def test_as_of_a_day_before_any_payment_nothing_is_collected_or_recovered(
    drawn: tuple[list[ChargedBill], list[BillMovement]],
) -> None:
    bills, cash = drawn
    first_payment = min((movement.at for movement in cash), default=None)
    as_of = (first_payment.astimezone(ZONE).date() if first_payment else dt.date(2027, 3, 1)) - dt.timedelta(days=1)
    result = collection_report(bills, cash, [], periods=PERIODS, as_of=as_of, zone=ZONE)

    assert all(line.figures.collected == 0 and line.figures.arrears_recovered == 0 for line in result.cells)
