"""Working hours and availability windows as people enter them, checked before anything is stored.

Pure: minutes of the day and aware datetimes in, checked plain values out, or a `BadInput` naming the
input field at fault. A shift that crosses midnight (a night shift, 22:00–06:00) is kept on its starting
day's clock: its end and the breaks after midnight count on past minute 1440 (06:00 is minute 1800). The use cases (`dispatch.shifts`, `dispatch.availability`) store what passes;
`dispatch.day_routes` turns it into the routing core's windows and breaks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from kernel.errors import BadInput

__all__ = [
    "DAY_MINUTES",
    "FURTHEST_AVAILABILITY",
    "LONGEST_AVAILABILITY",
    "LONGEST_BREAK_MINUTES",
    "MOST_BREAKS",
    "BreakHours",
    "ShiftHours",
    "check_availability",
    "check_shift",
    "shift_for_day",
    "shift_of_today",
    "working_day",
]

MOST_BREAKS = 4
LONGEST_BREAK_MINUTES = 180
DAY_MINUTES = 24 * 60
# An owner's availability is for the coming visit, not a standing timetable.
LONGEST_AVAILABILITY = dt.timedelta(days=14)
FURTHEST_AVAILABILITY = dt.timedelta(days=366)


@dataclass(frozen=True, slots=True)
class BreakHours:
    """A break of ``minutes`` starting between minute ``earliest`` and minute ``latest`` of the day."""

    earliest: int
    latest: int
    minutes: int


@dataclass(frozen=True, slots=True)
class ShiftHours:
    """A day's working hours, from minute ``starts`` to minute ``ends``, with its breaks; a shift that
    ends the next day has ``ends`` (and breaks after midnight) past minute 1440 of its starting day."""

    starts: int
    ends: int
    breaks: tuple[BreakHours, ...] = ()

    @property
    def ends_next_day(self) -> bool:
        return self.ends >= DAY_MINUTES


def check_shift(
    starts: int, ends: int, breaks: Sequence[BreakHours], *, ends_next_day: bool = False
) -> ShiftHours:
    """The shift, when its breaks fit inside it and each other; `BadInput` naming the field otherwise.

    All times are clock minutes (0–1439). With ``ends_next_day`` the shift ends on the next day's clock,
    and a break time before the shift's start is on the next day too; the shift comes back unfolded onto
    its starting day's minutes (22:00–06:00 as 1320–1800) and lasts at most 24 hours."""
    if not 0 <= starts < DAY_MINUTES:
        raise BadInput("A shift starts within the day.", field="startsAt")
    if not 0 <= ends < DAY_MINUTES:
        raise BadInput("A shift ends within the day.", field="endsAt")
    if ends_next_day:
        if ends > starts:
            raise BadInput("A shift that ends the next day lasts at most 24 hours.", field="endsAt")
        ends += DAY_MINUTES
        breaks = [_after_midnight(rule, starts) for rule in breaks]
    elif ends <= starts:
        raise BadInput("A shift ends after it starts (or says it ends the next day).", field="endsAt")
    if len(breaks) > MOST_BREAKS:
        raise BadInput(f"A shift has at most {MOST_BREAKS} breaks.", field="breaks")
    for number, rule in enumerate(breaks):
        where = f"breaks.{number}"
        if not 0 < rule.minutes <= LONGEST_BREAK_MINUTES:
            raise BadInput(f"A break lasts 1 to {LONGEST_BREAK_MINUTES} minutes.", field=f"{where}.minutes")
        if rule.latest < rule.earliest:
            raise BadInput("A break's latest start comes after its earliest.", field=f"{where}.latestStart")
        if rule.earliest < starts or rule.latest + rule.minutes > ends:
            raise BadInput("A break is taken inside its shift.", field=where)
    if sum(rule.minutes for rule in breaks) >= ends - starts:
        raise BadInput("The breaks leave no time to work.", field="breaks")
    ordered = sorted(breaks, key=lambda rule: (rule.earliest, rule.latest))
    for number, (first, second) in enumerate(zip(ordered, ordered[1:], strict=False), start=1):
        # Both fit one after the other only if the first can end before the second must start.
        if first.earliest + first.minutes > second.latest:
            raise BadInput("Two breaks cannot both be taken: they overlap.", field=f"breaks.{number}")
    return ShiftHours(starts, ends, tuple(ordered))


def _after_midnight(rule: BreakHours, starts: int) -> BreakHours:
    """A night shift's break on its starting day's minutes: clock times before the shift's start are the
    next day's."""

    def unfolded(minute: int) -> int:
        return minute + DAY_MINUTES if minute < starts else minute

    return BreakHours(unfolded(rule.earliest), unfolded(rule.latest), rule.minutes)


def check_availability(
    available_from: dt.datetime, available_until: dt.datetime, *, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """An owner's window, when it ends after it starts, is not over, is not too long and starts within a year."""
    if available_from.tzinfo is None or available_until.tzinfo is None:
        raise BadInput("Give the time zone of the window's times.", field="availableFrom")
    if available_until <= available_from:
        raise BadInput("The window ends after it starts.", field="availableUntil")
    if available_until <= now:
        raise BadInput("The window is already over.", field="availableUntil")
    if available_until - available_from > LONGEST_AVAILABILITY:
        raise BadInput("A window lasts at most 14 days.", field="availableUntil")
    if available_from - now > FURTHEST_AVAILABILITY:
        raise BadInput("A window starts within a year.", field="availableFrom")
    return available_from, available_until


def shift_for_day(
    day: dt.date,
    dated: dict[dt.date, ShiftHours],
    weekly: dict[int, ShiftHours],
    default: ShiftHours,
    days_off: frozenset[dt.date] = frozenset(),
) -> ShiftHours | None:
    """The hours someone works on ``day``: none on a day off, else that date's own, else the week's for its
    weekday, else ``default`` when no week is stored at all; None when they have a week and this weekday
    is not in it."""
    if day in days_off:
        return None
    if day in dated:
        return dated[day]
    if weekly:
        return weekly.get(day.isoweekday())
    return default


def working_day(
    today: dt.date,
    clock_minute: int,
    dated: dict[dt.date, ShiftHours],
    weekly: dict[int, ShiftHours],
    default: ShiftHours,
    days_off: frozenset[dt.date] = frozenset(),
) -> tuple[dt.date, ShiftHours | None]:
    """The date whose shift someone works for the rest of today, and its hours (None: they do not work
    it). A shift belongs to the day it started: while a night shift that started yesterday evening still
    runs at ``clock_minute`` (minutes since today's midnight), today is still yesterday's working day,
    whatever today's date holds (a day off, another shift); after it ends, today's date decides.

    The one rule for who works now: the day's routes plan by it, the assignment solver gives work by it,
    and a manual assignment is refused on a day off by it."""
    yesterday = today - dt.timedelta(days=1)
    chosen = shift_of_today(
        shift_for_day(yesterday, dated, weekly, default, days_off),
        shift_for_day(today, dated, weekly, default, days_off),
        clock_minute,
    )
    if chosen is not None and chosen[0] == -1:
        return yesterday, chosen[1]
    return today, chosen[1] if chosen is not None else None


def shift_of_today(
    yesterday: ShiftHours | None, today: ShiftHours | None, now_minute: int
) -> tuple[int, ShiftHours] | None:
    """The shift the rest of today is planned in, and its day (-1 yesterday, 0 today): yesterday's night
    shift while it still runs at ``now_minute`` (minutes since today's midnight), else today's."""
    if yesterday is not None and yesterday.ends - DAY_MINUTES > now_minute:
        return -1, yesterday
    if today is not None:
        return 0, today
    return None
