"""Reminder scheduling: round r falls due r × N hours after publishing, at most K rounds, and a job that
comes late sends one reminder, never a burst."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from announcements.schedule import (
    MAX_REMINDER_LIMIT,
    DueRound,
    ReminderPlan,
    due_round,
    next_reminder_at,
    reminder_plan,
)
from kernel.errors import BadInput

PUBLISHED = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
DAILY_TWICE = ReminderPlan(after=dt.timedelta(hours=24), limit=2)


def test_nothing_is_due_before_the_first_interval_has_passed() -> None:
    assert due_round(PUBLISHED, DAILY_TWICE, sent=0, now=PUBLISHED + dt.timedelta(hours=23, minutes=59)) is None


def test_the_first_round_is_due_after_n_hours_and_names_when_the_next_is() -> None:
    assert due_round(PUBLISHED, DAILY_TWICE, sent=0, now=PUBLISHED + dt.timedelta(hours=24)) == DueRound(
        round=1, next_at=PUBLISHED + dt.timedelta(hours=48)
    )


def test_the_last_round_has_no_next() -> None:
    assert due_round(PUBLISHED, DAILY_TWICE, sent=1, now=PUBLISHED + dt.timedelta(hours=49)) == DueRound(round=2, next_at=None)
    assert due_round(PUBLISHED, DAILY_TWICE, sent=2, now=PUBLISHED + dt.timedelta(days=30)) is None


def test_a_late_job_sends_one_round_and_counts_the_missed_ones_as_spent() -> None:
    plan = ReminderPlan(after=dt.timedelta(hours=6), limit=5)

    assert due_round(PUBLISHED, plan, sent=0, now=PUBLISHED + dt.timedelta(hours=19)) == DueRound(
        round=3, next_at=PUBLISHED + dt.timedelta(hours=24)
    )


def test_no_reminders_means_nothing_is_ever_due() -> None:
    plan = ReminderPlan(after=dt.timedelta(hours=24), limit=0)

    assert due_round(PUBLISHED, plan, sent=0, now=PUBLISHED + dt.timedelta(days=10)) is None
    assert next_reminder_at(PUBLISHED, plan, sent=0) is None


def test_the_first_reminder_is_planned_n_hours_after_publishing() -> None:
    assert next_reminder_at(PUBLISHED, DAILY_TWICE, sent=0) == PUBLISHED + dt.timedelta(hours=24)
    assert next_reminder_at(PUBLISHED, DAILY_TWICE, sent=2) is None


@pytest.mark.parametrize(
    ("after_hours", "limit", "field"),
    [(0, 1, "reminders.afterHours"), (24 * 31, 1, "reminders.afterHours"), (24, -1, "reminders.limit"), (24, MAX_REMINDER_LIMIT + 1, "reminders.limit")],
)
def test_a_plan_out_of_range_is_refused_naming_its_field(after_hours: int, limit: int, field: str) -> None:
    with pytest.raises(BadInput) as refused:
        reminder_plan(after_hours=after_hours, limit=limit)

    assert refused.value.field == field


@given(
    after_hours=st.integers(min_value=1, max_value=24 * 30),
    limit=st.integers(min_value=0, max_value=MAX_REMINDER_LIMIT),
    checks=st.lists(st.integers(min_value=0, max_value=24 * 200), max_size=30),
)
def test_however_often_the_job_runs_at_most_k_rounds_go_out_each_after_its_time(
    after_hours: int, limit: int, checks: list[int]
) -> None:
    plan = reminder_plan(after_hours=after_hours, limit=limit)
    sent, rounds = 0, []
    for hours in sorted(checks):
        now = PUBLISHED + dt.timedelta(hours=hours)
        due = due_round(PUBLISHED, plan, sent=sent, now=now)
        if due is None:
            continue
        assert due.round > sent
        assert now >= PUBLISHED + plan.after * due.round
        assert due.next_at == next_reminder_at(PUBLISHED, plan, sent=due.round)
        sent = due.round
        rounds.append(due.round)
    assert len(rounds) <= limit
    assert rounds == sorted(set(rounds))
