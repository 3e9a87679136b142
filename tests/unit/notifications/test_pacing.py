"""Quiet hours, frequency caps and retry delays: the laws a deferral keeps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from notifications.pacing import (
    DEFAULT_QUIET_HOURS,
    LONGEST_RETRY_DELAY,
    QuietHours,
    cap_lifts_at,
    earliest_send,
    quiet_hours_end,
    retry_delay,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
instants = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(dt.UTC))
times = st.times()
quiet_hours = st.builds(QuietHours, times, times)
zones = st.sampled_from([SHANGHAI, ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")])


def local(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_the_default_quiet_hours_wrap_midnight() -> None:
    assert DEFAULT_QUIET_HOURS.contains(dt.time(22, 0))
    assert DEFAULT_QUIET_HOURS.contains(dt.time(3, 0))
    assert not DEFAULT_QUIET_HOURS.contains(dt.time(8, 0))
    assert not DEFAULT_QUIET_HOURS.contains(dt.time(21, 59))


def test_a_message_due_before_midnight_waits_until_eight_the_next_morning() -> None:
    assert quiet_hours_end(local(23, 30), SHANGHAI, DEFAULT_QUIET_HOURS) == local(8, 0, day=3)


def test_a_message_due_after_midnight_waits_until_eight_that_morning() -> None:
    assert quiet_hours_end(local(2, 15), SHANGHAI, DEFAULT_QUIET_HOURS) == local(8, 0)


def test_quiet_hours_that_do_not_wrap_end_the_same_day() -> None:
    siesta = QuietHours(dt.time(12, 0), dt.time(14, 0))
    assert quiet_hours_end(local(13, 0), SHANGHAI, siesta) == local(14, 0)
    assert quiet_hours_end(local(14, 0), SHANGHAI, siesta) is None


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    assert quiet_hours_end(local(3, 0), SHANGHAI, QuietHours(dt.time(0, 0), dt.time(0, 0))) is None


@given(instants, zones, quiet_hours)
def test_quiet_hours_end_outside_them_within_a_day(now: dt.datetime, zone: ZoneInfo, quiet: QuietHours) -> None:
    end = quiet_hours_end(now, zone, quiet)
    inside = quiet.contains(now.astimezone(zone).time())
    assert (end is not None) == inside
    if end is not None:
        assert now < end <= now + dt.timedelta(hours=25)
        assert not quiet.contains(end.astimezone(zone).time())


def test_a_cap_of_one_a_day_lifts_a_day_after_the_last_send() -> None:
    now = local(10)
    assert cap_lifts_at(now, [now - dt.timedelta(hours=3)], 1, dt.timedelta(days=1)) == now + dt.timedelta(hours=21)
    assert cap_lifts_at(now, [now - dt.timedelta(days=2)], 1, dt.timedelta(days=1)) is None


sends = st.lists(st.integers(min_value=0, max_value=3 * 24 * 60), max_size=12)


@given(instants, sends, st.integers(min_value=1, max_value=5), st.integers(min_value=1, max_value=48))
def test_after_the_cap_lifts_one_more_fits(now: dt.datetime, minutes_ago: list[int], limit: int, hours: int) -> None:
    window = dt.timedelta(hours=hours)
    recent = [now - dt.timedelta(minutes=m) for m in minutes_ago]
    lifts = cap_lifts_at(now, recent, limit, window)
    counted = lambda at: sum(1 for sent in recent if at - window < sent <= at)  # noqa: E731
    if lifts is None:
        assert counted(now) < limit
    else:
        assert now < lifts and counted(lifts) < limit
        assert counted(lifts - dt.timedelta(microseconds=1)) >= limit


@given(instants, zones, quiet_hours, sends, st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=48))
def test_a_deferral_lands_outside_quiet_hours_under_the_cap_and_never_drops(
    now: dt.datetime, zone: ZoneInfo, quiet: QuietHours, minutes_ago: list[int], limit: int, hours: int
) -> None:
    window = dt.timedelta(hours=hours)
    recent = [now - dt.timedelta(minutes=m) for m in minutes_ago]
    at = earliest_send(now, zone=zone, quiet=quiet, recent=recent, limit=limit, window=window)
    moment = now if at is None else at
    assert moment >= now
    assert quiet_hours_end(moment, zone, quiet) is None
    assert cap_lifts_at(moment, recent, limit, window) is None


@given(instants, zones, quiet_hours, sends)
def test_urgent_messages_are_never_held(now: dt.datetime, zone: ZoneInfo, quiet: QuietHours, minutes_ago: list[int]) -> None:
    recent = [now - dt.timedelta(minutes=m) for m in minutes_ago]
    assert earliest_send(now, zone=zone, quiet=quiet, recent=recent, limit=1, window=dt.timedelta(days=1), urgent=True) is None


@given(st.integers(min_value=1, max_value=1000))
def test_retry_delays_grow_and_stay_under_an_hour(rounds: int) -> None:
    delay = retry_delay(rounds)
    assert dt.timedelta(seconds=30) <= delay <= LONGEST_RETRY_DELAY
    assert retry_delay(rounds + 1) >= delay
