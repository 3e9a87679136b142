"""The moment the demo is seeded at: the wall clock when seeding today, 10:00 in the project's zone when
seeding another day, so the same day always gives the same community while a fresh demo looks live."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["demo_now"]


def demo_now(today: dt.date, zone: ZoneInfo) -> dt.datetime:
    wall_clock = dt.datetime.now(dt.UTC)
    if wall_clock.astimezone(zone).date() == today:
        return wall_clock
    return dt.datetime.combine(today, dt.time(10, 0), tzinfo=zone).astimezone(dt.UTC)
