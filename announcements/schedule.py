"""When reminders to read an announcement fall due. Pure: standard library and the kernel only.

Round r (1 … K) falls due r × N hours after publishing and goes to those who have not read it by then.
A job that comes late sends one round for everything that fell due meanwhile and counts the missed
rounds as spent: nobody gets two reminders in a row to catch up. Quiet hours and frequency caps are the
outbox's business: a reminder due at night waits in the outbox, it is not rescheduled here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kernel.errors import BadInput

__all__ = [
    "DEFAULT_REMINDER_AFTER_HOURS",
    "DEFAULT_REMINDER_LIMIT",
    "MAX_REMINDER_AFTER_HOURS",
    "MAX_REMINDER_LIMIT",
    "DueRound",
    "ReminderPlan",
    "due_round",
    "next_reminder_at",
    "reminder_plan",
]

DEFAULT_REMINDER_AFTER_HOURS = 24
DEFAULT_REMINDER_LIMIT = 2
MAX_REMINDER_AFTER_HOURS = 24 * 30
MAX_REMINDER_LIMIT = 5


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """Up to `limit` reminders, one every `after`."""

    after: dt.timedelta
    limit: int


@dataclass(frozen=True, slots=True)
class DueRound:
    round: int
    """The round to send now; every round up to it counts as spent."""
    next_at: dt.datetime | None
    """When the round after it falls due; None when it is the last."""


def reminder_plan(*, after_hours: int, limit: int) -> ReminderPlan:
    """A plan as given, checked: every 1 hour to 30 days, 0 to `MAX_REMINDER_LIMIT` reminders."""
    if not 1 <= after_hours <= MAX_REMINDER_AFTER_HOURS:
        raise BadInput(f"Remind after 1 to {MAX_REMINDER_AFTER_HOURS} hours.", field="reminders.afterHours")
    if not 0 <= limit <= MAX_REMINDER_LIMIT:
        raise BadInput(f"Send 0 to {MAX_REMINDER_LIMIT} reminders.", field="reminders.limit")
    return ReminderPlan(dt.timedelta(hours=after_hours), limit)


def next_reminder_at(published_at: dt.datetime, plan: ReminderPlan, *, sent: int) -> dt.datetime | None:
    """When the round after the `sent` ones falls due; None once every round is spent."""
    if sent >= plan.limit:
        return None
    return published_at + plan.after * (sent + 1)


def due_round(published_at: dt.datetime, plan: ReminderPlan, *, sent: int, now: dt.datetime) -> DueRound | None:
    """The round to send at `now` when `sent` rounds are spent, or None when none is due."""
    if sent >= plan.limit or now < published_at:
        return None
    fallen_due = min((now - published_at) // plan.after, plan.limit)
    if fallen_due <= sent:
        return None
    return DueRound(round=fallen_due, next_at=next_reminder_at(published_at, plan, sent=fallen_due))
