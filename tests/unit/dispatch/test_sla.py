"""Specification of the SLA policy (dispatch/sla.py), with explicit clocks and no sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.model import SlaState
from dispatch.sla import (
    DEFAULT_SLA_POLICY,
    PauseInterval,
    SlaClock,
    SlaDeadlines,
    SlaEvent,
    SlaPolicy,
    SlaTargets,
    current_deadlines,
    deadlines,
    due_sla_events,
    evaluate,
    should_escalate,
    sla_state,
)
from kernel.vocabulary import Priority, SlaTarget, TicketEventType, TicketStatus

UTC = UTC
SUBMITTED = datetime(2025, 3, 14, 8, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
WARNING = TicketEventType.SLA_WARNING
BREACHED = TicketEventType.SLA_BREACHED
E = TicketEventType


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


def hours(count: float) -> timedelta:
    return timedelta(hours=count)


def at(offset: timedelta) -> datetime:
    return SUBMITTED + offset


def urgent_clock(**milestones: object) -> SlaClock:
    return SlaClock(started_at=SUBMITTED, priority=Priority.URGENT, **milestones)  # type: ignore[arg-type]


# --- policy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "respond", "on_site", "resolve"),
    [
        (Priority.URGENT, minutes(10), hours(1), hours(4)),
        (Priority.HIGH, minutes(20), hours(2), hours(8)),
        (Priority.NORMAL, minutes(30), hours(2), hours(24)),
        (Priority.LOW, hours(2), hours(24), hours(72)),
    ],
)
def test_default_targets_per_priority(
    priority: Priority, respond: timedelta, on_site: timedelta, resolve: timedelta
) -> None:
    assert DEFAULT_SLA_POLICY.targets_for(priority) == SlaTargets(respond, on_site, resolve)
    assert DEFAULT_SLA_POLICY.warning_percent == 80


def test_a_priority_of_another_enum_or_a_plain_string_finds_its_targets() -> None:
    class SolverPriority(str, Enum):
        HIGH = "HIGH"

    assert DEFAULT_SLA_POLICY.targets_for(SolverPriority.HIGH) == DEFAULT_SLA_POLICY.high
    assert DEFAULT_SLA_POLICY.targets_for("LOW") == DEFAULT_SLA_POLICY.low


def test_a_project_can_tighten_one_priority_and_keep_the_other_defaults() -> None:
    policy = SlaPolicy(urgent=SlaTargets(minutes(5), minutes(30), hours(2)))

    assert policy.targets_for(Priority.URGENT).respond == minutes(5)
    assert policy.targets_for(Priority.NORMAL) == DEFAULT_SLA_POLICY.normal


POSITIVE = "SLA targets must be positive"
NOT_DECREASING = "SLA targets must not decrease: respond ≤ on site ≤ resolve"


# A project's settings show these words to whoever saves the targets.
@pytest.mark.parametrize(
    ("respond", "on_site", "resolve", "message"),
    [
        (timedelta(0), hours(1), hours(4), POSITIVE),
        (minutes(-5), hours(1), hours(4), POSITIVE),
        (hours(2), hours(1), hours(4), NOT_DECREASING),
        (minutes(10), hours(5), hours(4), NOT_DECREASING),
    ],
)
def test_targets_must_be_positive_and_not_decrease(
    respond: timedelta, on_site: timedelta, resolve: timedelta, message: str
) -> None:
    with pytest.raises(ValueError) as refused:
        SlaTargets(respond, on_site, resolve)

    assert str(refused.value) == message


def test_equal_targets_are_allowed() -> None:
    assert SlaTargets(hours(1), hours(1), hours(1)).allowed(SlaTarget.RESOLVE) == hours(1)


@pytest.mark.parametrize("percent", [0, 100, 120])
def test_the_warning_must_fall_strictly_inside_the_allowed_time(percent: int) -> None:
    with pytest.raises(ValueError) as refused:
        SlaPolicy(warning_percent=percent)

    assert str(refused.value) == "warning_percent must be between 1 and 99"


@pytest.mark.parametrize(("percent", "warned_after"), [(1, minutes(1)), (99, minutes(99))])
def test_a_warning_at_one_or_ninety_nine_percent_is_allowed(percent: int, warned_after: timedelta) -> None:
    policy = SlaPolicy(low=SlaTargets(hours(100) / 60, hours(24), hours(72)), warning_percent=percent)
    clock = SlaClock(started_at=SUBMITTED, priority=Priority.LOW)

    assert due_sla_events(clock, policy, at(warned_after)) == [SlaEvent(WARNING, SlaTarget.RESPOND, at(warned_after))]
    assert due_sla_events(clock, policy, at(warned_after) - MICROSECOND) == []


# --- deadlines ------------------------------------------------------------------------------------


def test_deadlines_of_a_new_urgent_ticket() -> None:
    assert deadlines(SUBMITTED, Priority.URGENT, DEFAULT_SLA_POLICY) == SlaDeadlines(
        respond=datetime(2025, 3, 14, 8, 10, tzinfo=UTC),
        on_site=datetime(2025, 3, 14, 9, 0, tzinfo=UTC),
        resolve=datetime(2025, 3, 14, 12, 0, tzinfo=UTC),
    )


def test_paused_time_moves_every_deadline_later_by_as_much() -> None:
    assert deadlines(SUBMITTED, Priority.LOW, DEFAULT_SLA_POLICY, paused=minutes(90)) == SlaDeadlines(
        respond=datetime(2025, 3, 14, 11, 30, tzinfo=UTC),
        on_site=datetime(2025, 3, 15, 9, 30, tzinfo=UTC),
        resolve=datetime(2025, 3, 17, 9, 30, tzinfo=UTC),
    )


def test_a_pause_moves_only_the_deadlines_of_promises_not_yet_kept() -> None:
    # NORMAL: respond by 08:30, on site by 10:00, resolve by 08:00 the next day. The technician is
    # on site at 09:10 and waits for the owner from 09:30 to 11:00, before the on-site deadline.
    clock = SlaClock(
        started_at=SUBMITTED,
        priority=Priority.NORMAL,
        accepted_at=at(minutes(12)),
        on_site_at=at(minutes(70)),
        pauses=(PauseInterval(at(minutes(90)), at(hours(3))),),
    )

    assert current_deadlines(clock, DEFAULT_SLA_POLICY, at(hours(6))) == SlaDeadlines(
        respond=datetime(2025, 3, 14, 8, 30, tzinfo=UTC),
        on_site=datetime(2025, 3, 14, 10, 0, tzinfo=UTC),
        resolve=datetime(2025, 3, 15, 9, 30, tzinfo=UTC),
    )


def test_while_the_owner_is_awaited_the_remaining_time_stands_still() -> None:
    clock = urgent_clock(accepted_at=at(minutes(5)), on_site_at=at(minutes(40)), pauses=(PauseInterval(at(hours(1))),))

    later_during_the_pause = [at(hours(1) + minutes(waited)) for waited in (0, 30, 95)]
    remaining = [current_deadlines(clock, DEFAULT_SLA_POLICY, now).resolve - now for now in later_during_the_pause]

    assert remaining == [hours(3), hours(3), hours(3)]


def test_a_ticket_waiting_through_the_warning_point_is_not_warned_until_the_clock_runs_again() -> None:
    # URGENT resolve: 4 h, warning after 3 h 12 min of running time.
    clock = urgent_clock(
        accepted_at=at(minutes(5)),
        on_site_at=at(minutes(40)),
        pauses=(PauseInterval(at(hours(3)), at(hours(5))),),
    )

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(5) + minutes(11))) == []
    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(5) + minutes(12))) == [
        SlaEvent(WARNING, SlaTarget.RESOLVE, at(hours(5) + minutes(12)))
    ]
    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(6)), {(WARNING, SlaTarget.RESOLVE)}) == [
        SlaEvent(BREACHED, SlaTarget.RESOLVE, at(hours(6)))
    ]


# --- warnings and breaches ------------------------------------------------------------------------


def test_nothing_is_due_just_before_eighty_percent() -> None:
    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(8) - MICROSECOND)) == []


def test_the_warning_is_due_exactly_at_eighty_percent() -> None:
    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(8))) == [
        SlaEvent(WARNING, SlaTarget.RESPOND, at(minutes(8)))
    ]


def test_the_breach_is_due_exactly_at_one_hundred_percent() -> None:
    emitted = {(WARNING, SlaTarget.RESPOND)}

    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(10) - MICROSECOND), emitted) == []
    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(10)), emitted) == [
        SlaEvent(BREACHED, SlaTarget.RESPOND, at(minutes(10)))
    ]


def test_an_event_already_emitted_is_never_emitted_again() -> None:
    emitted = {(WARNING, SlaTarget.RESPOND), (BREACHED, SlaTarget.RESPOND)}

    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(30)), emitted) == []


def test_a_late_run_emits_the_breach_alone_dated_when_the_deadline_passed() -> None:
    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(25))) == [
        SlaEvent(BREACHED, SlaTarget.RESPOND, at(minutes(10)))
    ]


def test_events_of_several_promises_come_oldest_first() -> None:
    # Nobody accepted an URGENT ticket for an hour: respond broke at 10 min, on site at 60 min.
    assert due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, at(hours(1))) == [
        SlaEvent(BREACHED, SlaTarget.RESPOND, at(minutes(10))),
        SlaEvent(BREACHED, SlaTarget.ON_SITE, at(hours(1))),
    ]


def test_a_reached_milestone_stops_its_timer_and_the_next_one_keeps_running() -> None:
    clock = urgent_clock(accepted_at=at(minutes(6)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(minutes(30))) == []
    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(minutes(48))) == [
        SlaEvent(WARNING, SlaTarget.ON_SITE, at(minutes(48)))
    ]


def test_a_milestone_reached_after_now_does_not_count_yet() -> None:
    clock = urgent_clock(accepted_at=at(minutes(9)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(minutes(8))) == [
        SlaEvent(WARNING, SlaTarget.RESPOND, at(minutes(8)))
    ]


def test_checking_in_counts_as_responding_too() -> None:
    clock = urgent_clock(on_site_at=at(minutes(9)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(2))) == []
    assert clock.reached_at(SlaTarget.RESPOND) == at(minutes(9))


def test_a_resolved_ticket_has_nothing_left_to_warn_about() -> None:
    clock = urgent_clock(accepted_at=at(minutes(3)), on_site_at=at(minutes(30)), resolved_at=at(hours(2)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(100))) == []


def test_a_cancelled_ticket_owes_nothing_any_more() -> None:
    clock = urgent_clock(cancelled_at=at(minutes(5)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(10))) == []
    assert sla_state(clock, DEFAULT_SLA_POLICY, at(hours(10))) is SlaState.OK


def test_the_warning_of_an_odd_target_rounds_down_to_the_microsecond() -> None:
    policy = SlaPolicy(urgent=SlaTargets(timedelta(microseconds=7), hours(1), hours(4)))

    assert due_sla_events(urgent_clock(), policy, at(timedelta(microseconds=5))) == [
        SlaEvent(WARNING, SlaTarget.RESPOND, at(timedelta(microseconds=5)))
    ]


# --- state and countdown --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "state"),
    [
        (minutes(0), SlaState.OK),
        (minutes(8) - MICROSECOND, SlaState.OK),
        (minutes(8), SlaState.WARNING),
        (minutes(10) - MICROSECOND, SlaState.WARNING),
        (minutes(10), SlaState.BREACHED),
    ],
)
def test_the_state_follows_the_most_urgent_running_promise(elapsed: timedelta, state: SlaState) -> None:
    assert sla_state(urgent_clock(), DEFAULT_SLA_POLICY, at(elapsed)) is state


def test_a_promise_kept_at_the_deadline_itself_is_kept() -> None:
    clock = urgent_clock(accepted_at=at(minutes(10)))

    assert sla_state(clock, DEFAULT_SLA_POLICY, at(minutes(11))) is SlaState.OK


def test_a_broken_promise_keeps_the_ticket_breached_after_the_milestone() -> None:
    clock = urgent_clock(accepted_at=at(minutes(12)))

    report = evaluate(clock, DEFAULT_SLA_POLICY, at(minutes(15)))

    assert report.state is SlaState.BREACHED
    assert [item.state for item in report.targets] == [SlaState.BREACHED, SlaState.OK, SlaState.OK]


def test_the_countdown_shows_the_first_promise_not_yet_kept() -> None:
    clock = urgent_clock(accepted_at=at(minutes(4)))

    report = evaluate(clock, DEFAULT_SLA_POLICY, at(minutes(20)))

    assert report.next_due is not None
    assert (report.next_due.target, report.next_due.warning_at, report.next_due.deadline) == (
        SlaTarget.ON_SITE,
        at(minutes(48)),
        at(hours(1)),
    )


def test_a_fully_resolved_ticket_has_no_countdown() -> None:
    clock = urgent_clock(accepted_at=at(minutes(4)), on_site_at=at(minutes(40)), resolved_at=at(hours(1)))

    assert evaluate(clock, DEFAULT_SLA_POLICY, at(hours(2))).next_due is None


# --- escalation -----------------------------------------------------------------------------------


def test_a_breached_unaccepted_ticket_is_escalated() -> None:
    assert should_escalate(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(10)), TicketStatus.ASSIGNED)


def test_a_ticket_within_its_respond_time_is_not_escalated() -> None:
    assert not should_escalate(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(10) - MICROSECOND), TicketStatus.NEW)


def test_an_accepted_ticket_is_not_escalated_however_late() -> None:
    clock = urgent_clock(accepted_at=at(minutes(30)))

    assert not should_escalate(clock, DEFAULT_SLA_POLICY, at(hours(3)), TicketStatus.ACCEPTED)


@pytest.mark.parametrize("status", [TicketStatus.TRIAGE, TicketStatus.CANCELLED])
def test_a_ticket_that_cannot_be_dispatched_is_not_escalated(status: TicketStatus) -> None:
    assert not should_escalate(urgent_clock(), DEFAULT_SLA_POLICY, at(hours(1)), status)


def test_after_a_redispatch_the_new_technician_gets_a_full_respond_time() -> None:
    redispatched = at(minutes(11))

    assert not should_escalate(
        urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(21) - MICROSECOND), TicketStatus.ASSIGNED, redispatched
    )
    assert should_escalate(urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(21)), TicketStatus.ASSIGNED, redispatched)


# --- the clock from a ticket's history ------------------------------------------------------------


def test_the_clock_is_built_from_the_first_milestones_and_the_waits() -> None:
    history = [
        (E.SUBMITTED, at(minutes(0))),
        (E.ASSIGNED, at(minutes(1))),
        (E.ACCEPTED, at(minutes(4))),
        (E.REJECTED, at(minutes(6))),
        (E.ASSIGNED, at(minutes(7))),
        (E.ACCEPTED, at(minutes(9))),
        (E.CHECKED_IN, at(minutes(35))),
        (E.WAITING_FOR_OWNER, at(minutes(50))),
        (E.RESUMED, at(minutes(80))),
        (E.STARTED, at(minutes(81))),
        (E.WAITING_FOR_OWNER, at(minutes(100))),
    ]

    assert SlaClock.from_history(SUBMITTED, "HIGH", history) == SlaClock(
        started_at=SUBMITTED,
        priority=Priority.HIGH,
        accepted_at=at(minutes(4)),
        on_site_at=at(minutes(35)),
        pauses=(PauseInterval(at(minutes(50)), at(minutes(80))), PauseInterval(at(minutes(100)))),
    )


def test_reopening_restarts_every_promise() -> None:
    history = [
        (E.ACCEPTED, at(minutes(4))),
        (E.CHECKED_IN, at(minutes(30))),
        (E.WAITING_FOR_OWNER, at(minutes(40))),
        (E.RESUMED, at(minutes(50))),
        (E.RESOLVED, at(hours(2))),
        (E.REOPENED, at(hours(26))),
    ]

    clock = SlaClock.from_history(SUBMITTED, Priority.URGENT, history)

    assert clock == SlaClock(started_at=at(hours(26)), priority=Priority.URGENT)
    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(26) + minutes(8))) == [
        SlaEvent(WARNING, SlaTarget.RESPOND, at(hours(26) + minutes(8)))
    ]


def test_cancelling_ends_a_wait_and_stops_the_clock() -> None:
    history = [(E.WAITING_FOR_OWNER, at(minutes(20))), (E.CANCELLED, at(minutes(30)))]

    clock = SlaClock.from_history(SUBMITTED, Priority.NORMAL, history)

    assert clock.pauses == (PauseInterval(at(minutes(20)), at(minutes(30))),)
    assert clock.cancelled_at == at(minutes(30))


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ([(E.RESUMED, at(minutes(5)))], "RESUMED without WAITING_FOR_OWNER before it"),
        (
            [(E.WAITING_FOR_OWNER, at(minutes(5))), (E.WAITING_FOR_OWNER, at(minutes(6)))],
            "a ticket already waiting for the owner cannot start waiting again",
        ),
        (
            [(E.ACCEPTED, at(minutes(5))), (E.CHECKED_IN, at(minutes(4)))],
            "history must be in chronological order, after the clock started",
        ),
        ([(E.ACCEPTED, at(minutes(-1)))], "history must be in chronological order, after the clock started"),
        ([(E.ACCEPTED, datetime(2025, 3, 14, 8, 5))], "event time must be a timezone-aware UTC datetime"),
    ],
)
def test_an_impossible_history_is_rejected(history: list[tuple[TicketEventType, datetime]], message: str) -> None:
    with pytest.raises(ValueError) as rejected:
        SlaClock.from_history(SUBMITTED, Priority.NORMAL, history)

    assert str(rejected.value) == message


ORDER = "pauses must be in order, not overlap, and start after the clock"


@pytest.mark.parametrize(
    ("pauses", "message"),
    [
        ((PauseInterval(at(minutes(10)), at(minutes(20))), PauseInterval(at(minutes(15)), at(minutes(25)))), ORDER),
        ((PauseInterval(at(minutes(10))), PauseInterval(at(minutes(30)), at(minutes(40)))), "only the last pause can still be open"),
        ((PauseInterval(at(minutes(10)), at(minutes(5))),), "a pause cannot end before it starts"),
        ((PauseInterval(at(minutes(-10)), at(minutes(5))),), ORDER),
        ((PauseInterval(datetime(2025, 3, 14, 8, 10)),), "pause start must be a timezone-aware UTC datetime"),
        ((PauseInterval(at(minutes(10)), datetime(2025, 3, 14, 8, 20)),), "pause end must be a timezone-aware UTC datetime"),
    ],
)
def test_overlapping_reversed_or_early_pauses_are_rejected(pauses: tuple[PauseInterval, ...], message: str) -> None:
    with pytest.raises(ValueError) as rejected:
        urgent_clock(pauses=pauses)

    assert str(rejected.value) == message


def test_an_open_last_pause_ends_the_checks() -> None:
    clock = urgent_clock(pauses=(PauseInterval(at(minutes(5)), at(minutes(6))), PauseInterval(at(minutes(6)))))

    assert clock.pauses[-1].end is None


NAIVE = datetime(2025, 3, 14, 8, 0)


@pytest.mark.parametrize(
    "moment",
    [NAIVE, datetime(2025, 3, 14, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))],
    ids=["naive", "shanghai"],
)
def test_datetimes_must_be_utc(moment: datetime) -> None:
    with pytest.raises(ValueError) as started:
        SlaClock(started_at=moment, priority=Priority.NORMAL)
    with pytest.raises(ValueError) as due:
        due_sla_events(urgent_clock(), DEFAULT_SLA_POLICY, moment)

    assert str(started.value) == "started_at must be a timezone-aware UTC datetime"
    assert str(due.value) == "now must be a timezone-aware UTC datetime"


def test_every_moment_handed_to_the_sla_says_which_one_is_not_utc() -> None:
    def refusal(call) -> str:  # type: ignore[no-untyped-def]
        with pytest.raises(ValueError) as refused:
            call()
        return str(refused.value)

    clock = urgent_clock()
    assert refusal(lambda: deadlines(NAIVE, Priority.URGENT)) == "started_at must be a timezone-aware UTC datetime"
    assert refusal(lambda: evaluate(clock, DEFAULT_SLA_POLICY, NAIVE)) == "now must be a timezone-aware UTC datetime"
    assert refusal(lambda: should_escalate(clock, DEFAULT_SLA_POLICY, NAIVE, TicketStatus.NEW)) == (
        "now must be a timezone-aware UTC datetime"
    )
    assert refusal(
        lambda: should_escalate(clock, DEFAULT_SLA_POLICY, at(hours(1)), TicketStatus.NEW, NAIVE)
    ) == "last_dispatched_at must be a timezone-aware UTC datetime"
    assert refusal(lambda: deadlines(SUBMITTED, Priority.URGENT, paused=-MICROSECOND)) == (
        "paused time cannot be negative"
    )


@pytest.mark.parametrize("name", ["accepted_at", "on_site_at", "resolved_at", "cancelled_at"])
def test_a_milestone_must_be_utc_and_not_before_the_start(name: str) -> None:
    with pytest.raises(ValueError) as early:
        urgent_clock(**{name: at(-MICROSECOND)})
    with pytest.raises(ValueError) as naive:
        urgent_clock(**{name: NAIVE})

    assert str(early.value) == f"{name} is before the clock started"
    assert str(naive.value) == f"{name} must be a timezone-aware UTC datetime"
    assert getattr(urgent_clock(**{name: SUBMITTED}), name) == SUBMITTED


def test_an_sla_event_is_a_warning_or_a_breach() -> None:
    with pytest.raises(ValueError) as rejected:
        SlaEvent(TicketEventType.ESCALATED, SlaTarget.RESPOND, SUBMITTED)

    assert str(rejected.value) == "an SLA event is SLA_WARNING or SLA_BREACHED"


# --- edges the issue listed -----------------------------------------------------------------------


def test_a_resolved_history_that_nothing_reopens_keeps_no_resolve_promise_running() -> None:
    history = [(E.ACCEPTED, at(minutes(5))), (E.CHECKED_IN, at(minutes(40))), (E.RESOLVED, at(hours(3)))]

    clock = SlaClock.from_history(SUBMITTED, Priority.URGENT, history)

    assert clock.resolved_at == at(hours(3))
    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(30))) == []
    assert evaluate(clock, DEFAULT_SLA_POLICY, at(hours(30))).state is SlaState.OK


def test_a_ticket_moved_back_from_accepted_to_assigned_is_not_escalated() -> None:
    # staff reassigned an ACCEPTED ticket: it is ASSIGNED again, but its owner was answered at 5 minutes
    clock = urgent_clock(accepted_at=at(minutes(5)))

    assert not should_escalate(clock, DEFAULT_SLA_POLICY, at(hours(2)), TicketStatus.ASSIGNED)
    assert not should_escalate(clock, DEFAULT_SLA_POLICY, at(hours(2)), TicketStatus.ASSIGNED, at(minutes(6)))


def test_the_first_of_several_milestones_answers_for_the_earlier_promises() -> None:
    # accepted in time, on site and resolved late: the response was still on time
    clock = urgent_clock(accepted_at=at(minutes(9)), on_site_at=at(hours(2)), resolved_at=at(hours(5)))

    report = evaluate(clock, DEFAULT_SLA_POLICY, at(hours(6)))

    assert [(r.target, r.reached_at, r.state) for r in report.targets] == [
        (SlaTarget.RESPOND, at(minutes(9)), SlaState.OK),
        (SlaTarget.ON_SITE, at(hours(2)), SlaState.BREACHED),
        (SlaTarget.RESOLVE, at(hours(5)), SlaState.BREACHED),
    ]
    assert clock.reached_at(SlaTarget.ON_SITE) == at(hours(2))


def test_a_milestone_reached_at_this_very_moment_counts() -> None:
    clock = urgent_clock(accepted_at=at(minutes(12)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(minutes(12))) == []
    assert not should_escalate(clock, DEFAULT_SLA_POLICY, at(minutes(12)), TicketStatus.ASSIGNED)


def test_a_zero_length_pause_changes_nothing() -> None:
    paused = urgent_clock(pauses=(PauseInterval(at(minutes(5)), at(minutes(5))),))

    assert current_deadlines(paused, DEFAULT_SLA_POLICY, at(minutes(30))) == current_deadlines(
        urgent_clock(), DEFAULT_SLA_POLICY, at(minutes(30))
    )


def test_a_pause_that_starts_exactly_at_a_deadline_does_not_move_it() -> None:
    clock = urgent_clock(pauses=(PauseInterval(at(minutes(10)), at(minutes(30))),))

    report = evaluate(clock, DEFAULT_SLA_POLICY, at(minutes(40)))

    assert report.targets[0].deadline == at(minutes(10))
    assert report.targets[0].state is SlaState.BREACHED
    # the later promises were still running: they move by the whole pause
    assert report.targets[1].deadline == at(hours(1) + minutes(20))
    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(minutes(40))) == [
        SlaEvent(BREACHED, SlaTarget.RESPOND, at(minutes(10)))
    ]


def test_a_ticket_cancelled_at_the_moment_of_its_breach_owes_nothing() -> None:
    clock = urgent_clock(cancelled_at=at(minutes(10)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(minutes(10))) == []


def test_a_kept_first_promise_leaves_the_later_ones_due() -> None:
    clock = urgent_clock(accepted_at=at(minutes(3)))

    assert due_sla_events(clock, DEFAULT_SLA_POLICY, at(hours(5))) == [
        SlaEvent(BREACHED, SlaTarget.ON_SITE, at(hours(1))),
        SlaEvent(BREACHED, SlaTarget.RESOLVE, at(hours(4))),
    ]


# --- laws -----------------------------------------------------------------------------------------

_offsets = st.integers(min_value=0, max_value=4 * 24 * 60).map(lambda count: minutes(count))


@st.composite
def _paused_clocks(draw: st.DrawFn) -> SlaClock:
    cuts = sorted(draw(st.lists(_offsets, max_size=6, unique=True)))
    pauses = tuple(PauseInterval(at(start), at(end)) for start, end in zip(cuts[::2], cuts[1::2], strict=False))
    if len(cuts) % 2:
        pauses += (PauseInterval(at(cuts[-1])),)
    return SlaClock(started_at=SUBMITTED, priority=draw(st.sampled_from(list(Priority))), pauses=pauses)


@settings(max_examples=200, deadline=None)
@given(clock=_paused_clocks(), now=_offsets)
def test_a_pending_promise_breaks_exactly_at_its_deadline(clock: SlaClock, now: timedelta) -> None:
    for report in evaluate(clock, DEFAULT_SLA_POLICY, at(now)).targets:
        if report.deadline <= at(now):
            states_around = [
                evaluate(clock, DEFAULT_SLA_POLICY, moment).targets[list(SlaTarget).index(report.target)].state
                for moment in (report.deadline - MICROSECOND, report.deadline)
            ]
            assert states_around == [SlaState.WARNING, SlaState.BREACHED]


@settings(max_examples=200, deadline=None)
@given(clock=_paused_clocks(), now=_offsets)
def test_pausing_never_brings_a_deadline_forward_nor_moves_it_more_than_the_pauses(
    clock: SlaClock, now: timedelta
) -> None:
    unpaused = deadlines(SUBMITTED, clock.priority, DEFAULT_SLA_POLICY)
    paused_so_far = sum(
        ((min(p.end or at(now), at(now)) - p.start) for p in clock.pauses if p.start < at(now)), timedelta(0)
    )
    moved = current_deadlines(clock, DEFAULT_SLA_POLICY, at(now))

    for target in SlaTarget:
        assert unpaused.for_target(target) <= moved.for_target(target)
        assert moved.for_target(target) <= unpaused.for_target(target) + paused_so_far


@settings(max_examples=100, deadline=None)
@given(clock=_paused_clocks(), runs=st.lists(_offsets, min_size=1, max_size=8))
def test_a_worker_running_at_any_moments_emits_each_event_at_most_once_and_every_breach_in_the_end(
    clock: SlaClock, runs: list[timedelta]
) -> None:
    emitted: list[SlaEvent] = []
    for run in sorted(runs):
        emitted += due_sla_events(clock, DEFAULT_SLA_POLICY, at(run), {(e.kind, e.target) for e in emitted})

    keys = [(event.kind, event.target) for event in emitted]
    assert len(keys) == len(set(keys))
    last_run = at(max(runs))
    broken = {r.target for r in evaluate(clock, DEFAULT_SLA_POLICY, last_run).targets if r.state is SlaState.BREACHED}
    assert {target for kind, target in keys if kind is BREACHED} == broken
    assert all(event.at <= last_run for event in emitted)
