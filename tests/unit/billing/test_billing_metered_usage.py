"""Specification of what a bill charges on a meter: every reading not billed yet, so nothing is lost.

A reading's usage is "this reading − the previous one". A bill charges the readings of its meters that
were read before its period ends and that no earlier bill charged; year-to-date tiers count as "used
earlier" what earlier bills of the same year charged. The law: however bill runs (in any order, with
months skipped) and readings interleave over a year, the usage billed equals the last reading − the first.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from billing.model import MeterUsage, ReadingTally
from billing.rules import usages_to_bill

YEAR = 2027


@dataclass
class _Reading:
    read_on: date
    value: D
    usage: D
    billed: bool = False


def _period_end(month: int) -> date:
    return date(YEAR, month, calendar.monthrange(YEAR, month)[1])


def _bill(readings: list[_Reading], month: int, *, year_to_date: bool) -> MeterUsage | None:
    """One bill run for `month` as the reader and the claim do it: tally, price, mark as billed."""
    end = _period_end(month)
    before_end = [reading for reading in readings if reading.read_on <= end]
    tallies = [
        ReadingTally(1, "electricity", reading.billed, reading.read_on.year == YEAR, reading.usage, 1)
        for reading in before_end
        if not reading.billed or reading.read_on.year == YEAR
    ]
    usages = usages_to_bill(tallies, year_to_date_types=frozenset({"electricity"} if year_to_date else ()))
    for reading in before_end:
        reading.billed = True
    assert len(usages) <= 1
    return usages[0] if usages else None


def test_a_month_without_a_run_is_charged_by_the_next_bill() -> None:
    # given readings at the end of January (baseline), February and March, and no February run
    tallies = [
        ReadingTally(7, "water", billed=True, this_year=True, usage=D(0), readings=1),
        ReadingTally(7, "water", billed=False, this_year=True, usage=D("12.5") + D("9.5"), readings=2),
    ]

    # when the March bill is drafted
    usages = usages_to_bill(tallies, year_to_date_types=frozenset())

    # then it charges February's and March's usage together
    assert usages == [MeterUsage(7, "water", D("22.0"), D(0))]


def test_year_to_date_tiers_count_only_what_earlier_bills_charged_as_used_earlier() -> None:
    # given 300 kWh billed in January and 200 kWh in unbilled February and March readings
    tallies = [
        ReadingTally(7, "electricity", billed=True, this_year=True, usage=D(300), readings=2),
        ReadingTally(7, "electricity", billed=False, this_year=True, usage=D(200), readings=2),
    ]

    # when the March bill is drafted
    usages = usages_to_bill(tallies, year_to_date_types=frozenset({"electricity"}))

    # then the 200 kWh are charged on top of the 300 kWh used earlier, nothing counted twice
    assert usages == [MeterUsage(7, "electricity", D(200), D(300))]


def test_a_meter_whose_readings_were_all_billed_has_no_usage() -> None:
    tallies = [ReadingTally(7, "electricity", billed=True, this_year=True, usage=D(300), readings=3)]
    assert usages_to_bill(tallies, year_to_date_types=frozenset({"electricity"})) == []


@given(
    reading_days=st.lists(st.integers(min_value=0, max_value=364), min_size=1, max_size=40, unique=True),
    steps=st.lists(st.decimals(min_value=0, max_value=900, places=3), min_size=40, max_size=40),
    run_months=st.lists(st.integers(min_value=1, max_value=12), max_size=14),
    runs_before_reading=st.lists(st.integers(min_value=0, max_value=40), max_size=14),
    year_to_date=st.booleans(),
)
def test_the_usage_billed_over_a_year_is_the_last_reading_minus_the_first(
    reading_days: list[int],
    steps: list[D],
    run_months: list[int],
    runs_before_reading: list[int],
    year_to_date: bool,
) -> None:
    # given a year of readings (the first is the baseline) and runs of any months, in any order, each
    # made after some number of the readings were recorded, and a December run at the end
    days = sorted(reading_days)
    readings: list[_Reading] = []
    value = D("1000.000")
    schedule = sorted(zip(runs_before_reading, run_months, strict=False))
    billed_total = D(0)
    earlier_seen = D(0)
    for index, day in enumerate(days):
        while schedule and schedule[0][0] <= index:
            usage = _bill(readings, schedule.pop(0)[1], year_to_date=year_to_date)
            billed_total += usage.usage if usage else 0
        read_on = date.fromordinal(date(YEAR, 1, 1).toordinal() + day)
        usage = D(0) if not readings else steps[index]
        value += usage
        readings.append(_Reading(read_on, value, usage))

    # when the remaining runs and the December run are made
    for _, month in schedule:
        usage = _bill(readings, month, year_to_date=year_to_date)
        billed_total += usage.usage if usage else 0
    billed_before_december = billed_total
    december = _bill(readings, 12, year_to_date=year_to_date)
    if december is not None:
        billed_total += december.usage
        earlier_seen = december.usage_earlier_in_year

    # then the usage billed is exactly the last reading minus the first, and a year-to-date bill's
    # "used earlier" is exactly what the bills before it charged
    assert billed_total == readings[-1].value - readings[0].value
    if december is not None and year_to_date:
        assert earlier_seen == billed_before_december
    assert all(reading.billed for reading in readings)
