"""When a message may go out: quiet hours, frequency caps, and the backoff between failed rounds.

Quiet hours are a span of local wall-clock time (default 22:00–08:00 in the project's time zone) that
may wrap midnight; a message due inside them waits for their end. A frequency cap allows at most N
messages of one kind to one addressee within any window; a message over it waits until the oldest
counted one leaves the window. Both *defer*, never drop. Urgent kinds (security, payment
confirmations) skip both. Pure: standard library only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_QUIET_HOURS",
    "FIRST_RETRY_DELAY",
    "LONGEST_RETRY_DELAY",
    "QuietHours",
    "cap_lifts_at",
    "earliest_send",
    "quiet_hours_end",
    "retry_delay",
]

FIRST_RETRY_DELAY = dt.timedelta(seconds=30)
LONGEST_RETRY_DELAY = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` (inclusive) to `end` (exclusive), local time; `start == end` means none."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("quiet hours are local wall-clock times without a zone")

    @property
    def wraps_midnight(self) -> bool:
        return self.end < self.start

    def contains(self, local: dt.time) -> bool:
        local = local.replace(tzinfo=None)
        if self.start == self.end:
            return False
        if self.wraps_midnight:
            return local >= self.start or local < self.end
        return self.start <= local < self.end


DEFAULT_QUIET_HOURS = QuietHours(dt.time(22, 0), dt.time(8, 0))


def quiet_hours_end(now: dt.datetime, zone: ZoneInfo, quiet: QuietHours) -> dt.datetime | None:
    """When the quiet hours around `now` end (UTC), or None when `now` is outside them."""
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    day = local.date()
    # Past midnight in a span that wraps, the end is today; before midnight it is tomorrow.
    if not quiet.wraps_midnight or local.time() < quiet.end:
        end_day = day
    else:
        end_day = day + dt.timedelta(days=1)
    end = _local_instant(end_day, quiet.end, zone)
    return end.astimezone(dt.UTC)


def _local_instant(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    """`day` at `wall` in `zone`; a wall time skipped by a clock change counts from just after the jump."""
    naive = dt.datetime.combine(day, wall)
    instant = naive.replace(tzinfo=zone)
    round_trip = instant.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        instant = naive.replace(tzinfo=zone, fold=1)
    return instant


def cap_lifts_at(now: dt.datetime, recent: Sequence[dt.datetime], limit: int, window: dt.timedelta) -> dt.datetime | None:
    """When one more message fits under `limit` per `window`, given the times of those already sent, or
    None when one fits now."""
    counted = sorted(sent for sent in recent if now - window < sent <= now)
    if len(counted) < limit:
        return None
    # Once the oldest `len - limit + 1` have left the window, one more fits.
    return counted[len(counted) - limit] + window


def earliest_send(
    now: dt.datetime,
    *,
    zone: ZoneInfo,
    quiet: QuietHours,
    recent: Sequence[dt.datetime] = (),
    limit: int | None = None,
    window: dt.timedelta | None = None,
    urgent: bool = False,
) -> dt.datetime | None:
    """The first instant at or after `now` that is outside the quiet hours and under the cap, or None
    when that is `now` itself. Urgent messages are never held."""
    if urgent:
        return None
    moment = now
    # Each step moves to the end of one obstacle. A cap step leaves at least one counted send behind and
    # at most one quiet span follows it, so the loop settles within twice the sends plus a quiet span.
    for _ in range(2 * len(recent) + 3):
        later = [
            end
            for end in (
                quiet_hours_end(moment, zone, quiet),
                cap_lifts_at(moment, recent, limit, window) if limit is not None and window is not None else None,
            )
            if end is not None
        ]
        if not later:
            return None if moment == now else moment
        moment = max(later)
    return moment


def retry_delay(rounds: int) -> dt.timedelta:
    """How long to wait after the `rounds`-th round in which every channel failed: 30 s, doubling, at most
    an hour."""
    if rounds < 1:
        raise ValueError("rounds count from 1")
    return min(FIRST_RETRY_DELAY * (2 ** min(rounds - 1, 20)), LONGEST_RETRY_DELAY)
