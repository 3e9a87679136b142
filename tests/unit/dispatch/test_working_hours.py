"""Working hours and owners' windows as people enter them (dispatch/working_hours.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.working_hours import (
    BreakHours,
    ShiftHours,
    check_availability,
    check_shift,
    shift_for_day,
    shift_of_today,
    working_day,
)
from kernel.errors import BadInput

LUNCH = BreakHours(11 * 60 + 30, 13 * 60 + 30, 45)
NOW = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
LUNCH_DAY = ShiftHours(8 * 60, 18 * 60, (LUNCH,))


def test_a_shift_with_its_breaks_inside_is_kept_with_the_breaks_earliest_first() -> None:
    tea = BreakHours(15 * 60, 15 * 60 + 30, 15)

    assert check_shift(8 * 60, 18 * 60, [tea, LUNCH]) == ShiftHours(8 * 60, 18 * 60, (LUNCH, tea))


@pytest.mark.parametrize(
    ("starts", "ends", "breaks", "field"),
    [
        (9 * 60, 9 * 60, [], "endsAt"),
        (18 * 60, 8 * 60, [], "endsAt"),
        (24 * 60, 25 * 60, [], "startsAt"),
        (8 * 60, 18 * 60, [BreakHours(7 * 60, 8 * 60, 30)], "breaks.0"),
        (8 * 60, 12 * 60, [BreakHours(11 * 60 + 30, 11 * 60 + 45, 30)], "breaks.0"),
        (8 * 60, 18 * 60, [BreakHours(13 * 60, 12 * 60, 30)], "breaks.0.latestStart"),
        (8 * 60, 18 * 60, [BreakHours(12 * 60, 13 * 60, 0)], "breaks.0.minutes"),
        (8 * 60, 18 * 60, [BreakHours(12 * 60, 13 * 60, 181)], "breaks.0.minutes"),
        (8 * 60, 18 * 60, [LUNCH, BreakHours(12 * 60, 12 * 60, 30)], "breaks.1"),
        (8 * 60, 18 * 60, [LUNCH] * 5, "breaks"),
    ],
)
def test_bad_hours_are_refused_naming_the_field(
    starts: int, ends: int, breaks: list[BreakHours], field: str
) -> None:
    with pytest.raises(BadInput) as refusal:
        check_shift(starts, ends, breaks)
    assert refusal.value.field == field


def test_a_night_shift_is_kept_on_its_starting_days_minutes_with_its_breaks_after_midnight() -> None:
    supper, small_hours = BreakHours(23 * 60, 23 * 60 + 30, 15), BreakHours(2 * 60, 2 * 60 + 30, 30)

    night = check_shift(22 * 60, 6 * 60, [small_hours, supper], ends_next_day=True)

    assert night == ShiftHours(22 * 60, 30 * 60, (supper, BreakHours(26 * 60, 26 * 60 + 30, 30)))
    assert night.ends_next_day
    assert check_shift(22 * 60, 0, [], ends_next_day=True) == ShiftHours(22 * 60, 24 * 60)


@pytest.mark.parametrize(
    ("starts", "ends", "breaks", "field"),
    [
        (22 * 60, 23 * 60, [], "endsAt"),  # ends the same evening: more than 24 hours
        (22 * 60, 24 * 60, [], "endsAt"),
        (22 * 60, 6 * 60, [BreakHours(6 * 60, 6 * 60, 30)], "breaks.0"),  # after the shift's end
        (22 * 60, 6 * 60, [BreakHours(21 * 60, 21 * 60, 30)], "breaks.0"),  # 21:00 is the next evening
    ],
)
def test_bad_night_shifts_are_refused_naming_the_field(
    starts: int, ends: int, breaks: list[BreakHours], field: str
) -> None:
    with pytest.raises(BadInput) as refusal:
        check_shift(starts, ends, breaks, ends_next_day=True)
    assert refusal.value.field == field


def test_yesterdays_night_shift_is_todays_until_it_ends_then_todays_own() -> None:
    night, day = ShiftHours(22 * 60, 30 * 60), ShiftHours(8 * 60, 18 * 60)

    assert shift_of_today(night, day, 5 * 60 + 59) == (-1, night)
    assert shift_of_today(night, day, 6 * 60) == (0, day)
    assert shift_of_today(night, None, 6 * 60) is None
    assert shift_of_today(day, night, 1 * 60) == (0, night)  # yesterday's day shift is long over


def test_a_day_off_removes_that_dates_shift_whatever_the_week_or_the_date_says() -> None:
    monday, tuesday = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    week, dated = {1: ShiftHours(22 * 60, 30 * 60)}, {tuesday: ShiftHours(9 * 60, 12 * 60)}

    assert shift_for_day(monday, dated, week, LUNCH_DAY, frozenset({monday})) is None
    assert shift_for_day(tuesday, dated, week, LUNCH_DAY, frozenset({tuesday})) is None
    assert shift_for_day(tuesday, dated, week, LUNCH_DAY, frozenset({monday})) == ShiftHours(9 * 60, 12 * 60)
    assert shift_for_day(monday, {}, {}, LUNCH_DAY, frozenset({monday})) is None


def test_a_night_shift_belongs_to_the_day_it_started_whatever_the_next_date_holds() -> None:
    # Monday nights 22:00–06:00, and Tuesday off
    monday, tuesday = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    night = ShiftHours(22 * 60, 30 * 60)
    week = {1: night}

    # on Tuesday at 01:00 he still works Monday's shift, though Tuesday is his day off; at 06:00 he is off
    assert working_day(tuesday, 1 * 60, {}, week, LUNCH_DAY, frozenset({tuesday})) == (monday, night)
    assert working_day(tuesday, 6 * 60, {}, week, LUNCH_DAY, frozenset({tuesday})) == (tuesday, None)
    # with Monday off instead, Monday's night shift is not worked, and Tuesday (not in his week) neither
    assert working_day(tuesday, 1 * 60, {}, week, LUNCH_DAY, frozenset({monday})) == (tuesday, None)
    # with no hours stored he works the default every day, from today's date
    assert working_day(tuesday, 1 * 60, {}, {}, LUNCH_DAY) == (tuesday, LUNCH_DAY)


def test_a_shift_whose_breaks_take_all_of_it_is_refused() -> None:
    with pytest.raises(BadInput) as refusal:
        check_shift(8 * 60, 9 * 60, [BreakHours(8 * 60, 8 * 60, 30), BreakHours(8 * 60 + 30, 8 * 60 + 30, 30)])
    assert refusal.value.field == "breaks"


def test_an_owners_window_must_end_after_it_starts_not_be_over_and_last_at_most_two_weeks() -> None:
    later = NOW + dt.timedelta(hours=2)
    assert check_availability(NOW, later, now=NOW) == (NOW, later)
    for opens, closes, field in [
        (later, NOW, "availableUntil"),
        (later, later, "availableUntil"),
        (NOW - dt.timedelta(hours=3), NOW - dt.timedelta(hours=1), "availableUntil"),
        (NOW, NOW + dt.timedelta(days=14, minutes=1), "availableUntil"),
        (NOW.replace(tzinfo=None), later.replace(tzinfo=None), "availableFrom"),
        (dt.datetime(9999, 12, 30, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(hours=-14))), "availableFrom"),
    ]:
        with pytest.raises(BadInput) as refusal:
            check_availability(opens, closes, now=NOW)
        assert refusal.value.field == field


def test_a_dates_hours_override_the_week_and_a_stored_week_without_the_weekday_means_a_day_off() -> None:
    monday, tuesday = dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    default = ShiftHours(8 * 60, 18 * 60, (LUNCH,))
    early = ShiftHours(6 * 60, 14 * 60)
    holiday = ShiftHours(10 * 60, 12 * 60)

    assert shift_for_day(monday, {}, {}, default) == default
    assert shift_for_day(monday, {}, {1: early}, default) == early
    assert shift_for_day(tuesday, {}, {1: early}, default) is None
    assert shift_for_day(tuesday, {tuesday: holiday}, {1: early}, default) == holiday
