"""Specification of a technician's day as a route (dispatch/routing.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.model import GeoPoint
from dispatch.routing import (
    VISIT_MINUTES,
    BreakRule,
    DayPlan,
    PlannedStop,
    RouteSettings,
    StopReason,
    StopReasonCode,
    TechnicianDay,
    UnplannedCode,
    UnplannedVisit,
    VisitDemand,
    VisitPin,
    Window,
    plan_day,
    visit_minutes,
)
from dispatch.solver import EARTH_RADIUS_M
from kernel.vocabulary import Category, Priority

BASE = GeoPoint(31.2, 121.4)
QUICK = RouteSettings(time_limit_seconds=0.3)
SHIFT = Window(8 * 60, 18 * 60)


def north(metres: float) -> GeoPoint:
    return GeoPoint(BASE.latitude + math.degrees(metres / EARTH_RADIUS_M), BASE.longitude)


def tech(
    technician_id: int,
    *,
    skills: tuple[str, ...] = ("PLUMBING",),
    at: GeoPoint = BASE,
    shift: Window = SHIFT,
    breaks: tuple[BreakRule, ...] = (),
    started: int | None = None,
    heading_to: int | None = None,
) -> TechnicianDay:
    return TechnicianDay(technician_id, frozenset(skills), at, shift, breaks, started, heading_to)


def visit(
    ticket_id: int,
    *,
    skill: str = "PLUMBING",
    at: GeoPoint = BASE,
    priority: Priority = Priority.NORMAL,
    minutes: int = 60,
    window: Window | None = None,
    due: int | None = None,
    pin: VisitPin | None = None,
) -> VisitDemand:
    return VisitDemand(ticket_id, skill, at, priority, minutes, window, due, pin)


def order(plan: DayPlan, technician_id: int) -> list[int]:
    route = plan.route_of(technician_id)
    assert route is not None
    return [stop.ticket_id for stop in route.stops]


def stop_of(plan: DayPlan, ticket_id: int) -> PlannedStop:
    return next(stop for route in plan.routes for stop in route.stops if stop.ticket_id == ticket_id)


def technician_of(plan: DayPlan) -> dict[int, int]:
    return {stop.ticket_id: route.technician_id for route in plan.routes for stop in route.stops}


# --- durations, travel, order ------------------------------------------------------------------


def test_visit_minutes_are_set_per_trade_and_a_lift_takes_longest_a_lock_least() -> None:
    assert visit_minutes(Category.ELEVATOR) == 60
    assert visit_minutes(Category.LOCKSMITH) == 20
    assert max(VISIT_MINUTES.values()) == VISIT_MINUTES[Category.ELEVATOR]
    assert min(VISIT_MINUTES.values()) == VISIT_MINUTES[Category.LOCKSMITH]
    assert set(VISIT_MINUTES) == set(Category)


def test_a_route_visits_nearer_stops_first_and_times_travel_at_the_set_speed() -> None:
    # 3 km, then 3 km more, at 300 m a minute: 10 minutes' travel each
    plan = plan_day(
        [visit(11, at=north(6_000), minutes=30), visit(10, at=north(3_000), minutes=30)],
        [tech(1)],
        now=9 * 60,
        settings=QUICK,
    )

    first, second = plan.route_of(1).stops  # type: ignore[union-attr]
    assert (first.ticket_id, first.arrives, first.starts, first.ends) == (10, 550, 550, 580)
    assert (second.ticket_id, second.arrives, second.starts, second.ends) == (11, 590, 590, 620)
    assert (first.travel_m, first.travel_minutes) == (3_000, 10)
    assert plan.route_of(1).travel_m == 6_000  # type: ignore[union-attr]
    assert plan.cost == 6_000
    assert plan.unplanned == ()


# --- windows, shifts, breaks -------------------------------------------------------------------


def test_a_visit_starts_inside_the_owners_window_and_the_wait_is_a_reason() -> None:
    plan = plan_day([visit(10, at=north(300), window=Window(600, 660))], [tech(1)], now=480, settings=QUICK)

    stop = stop_of(plan, 10)
    assert 600 <= stop.starts <= 660
    assert StopReason(StopReasonCode.OWNER_WINDOW) in stop.reasons


def test_windows_decide_the_order_even_against_distance() -> None:
    near_late, far_early = visit(10, at=north(500), window=Window(720, 780)), visit(11, at=north(4_000), window=Window(540, 600))

    plan = plan_day([near_late, far_early], [tech(1)], now=480, settings=QUICK)

    assert order(plan, 1) == [11, 10]


def test_no_visit_is_planned_outside_the_shift_and_one_that_cannot_fit_is_left_out_with_no_time() -> None:
    evening = visit(10, window=Window(19 * 60, 20 * 60))

    plan = plan_day([evening, visit(11)], [tech(1)], now=480, settings=QUICK)

    assert order(plan, 1) == [11]
    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.NO_TIME),)


def test_a_visit_ends_before_the_shift_does() -> None:
    plan = plan_day([visit(10, minutes=60)], [tech(1, shift=Window(480, 1000))], now=960, settings=QUICK)

    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.NO_TIME),)


def test_the_lunch_break_is_taken_inside_its_window_and_never_during_a_visit() -> None:
    lunch = BreakRule(Window(11 * 60 + 30, 13 * 60), 60)
    visits = [visit(10 + i, at=north(200 * i), minutes=50) for i in range(6)]

    plan = plan_day(visits, [tech(1, breaks=(lunch,))], now=10 * 60, settings=QUICK)

    route = plan.route_of(1)
    assert route is not None and len(route.stops) == 6
    (taken,) = route.breaks
    assert 11 * 60 + 30 <= taken.starts <= 13 * 60 and taken.minutes == 60
    for stop in route.stops:
        assert stop.ends <= taken.starts or stop.starts >= taken.starts + taken.minutes


def test_a_break_already_over_is_not_planned() -> None:
    plan = plan_day(
        [visit(10)], [tech(1, breaks=(BreakRule(Window(11 * 60, 12 * 60), 30),))], now=15 * 60, settings=QUICK
    )

    assert plan.route_of(1).breaks == ()  # type: ignore[union-attr]
    assert order(plan, 1) == [10]


@pytest.mark.parametrize(
    ("now", "minutes_to_go"),
    [
        (13 * 60 + 45, 30),  # the window closed before now, the break not yet over
        (13 * 60, 60),  # the window closes while the visit under way goes on
    ],
)
def test_a_break_whose_window_passes_during_the_visit_under_way_is_taken_when_that_visit_ends(
    now: int, minutes_to_go: int
) -> None:
    lunch = BreakRule(Window(12 * 60, 13 * 60 + 30), 60)
    on_site, waiting = visit(10, minutes=minutes_to_go), visit(11, minutes=30)

    plan = plan_day([on_site, waiting], [tech(1, shift=Window(0, 23 * 60 + 59), breaks=(lunch,), started=10)], now=now, settings=QUICK)

    assert order(plan, 1) == [10, 11]
    assert stop_of(plan, 10).starts == now
    (taken,) = plan.route_of(1).breaks  # type: ignore[union-attr]
    assert (taken.starts, taken.minutes) == (now + minutes_to_go, 60)
    assert stop_of(plan, 11).starts >= taken.starts + taken.minutes


# --- skills and the SLA ----------------------------------------------------------------------------


def test_a_visit_goes_only_to_a_technician_with_the_skill() -> None:
    technicians = [tech(1, skills=("ELECTRICAL",)), tech(2, skills=("PLUMBING",), at=north(9_000))]

    plan = plan_day([visit(10)], technicians, now=480, settings=QUICK)

    assert technician_of(plan) == {10: 2}
    assert StopReason(StopReasonCode.SKILL, skill="PLUMBING") in stop_of(plan, 10).reasons


def test_a_trade_nobody_has_is_left_out_with_its_reason() -> None:
    plan = plan_day([visit(10, skill="ELEVATOR")], [tech(1)], now=480, settings=QUICK)

    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.NO_TECHNICIAN_WITH_SKILL),)


def test_an_urgent_visit_goes_before_a_nearer_normal_one_to_meet_its_deadline() -> None:
    normal, urgent = visit(10, at=north(500)), visit(11, at=north(6_000), priority=Priority.URGENT, due=8 * 60 + 45)

    plan = plan_day([normal, urgent], [tech(1)], now=480, settings=QUICK)

    assert order(plan, 1) == [11, 10]
    assert StopReason(StopReasonCode.SLA_ON_TIME, minutes=25) in stop_of(plan, 11).reasons


def test_a_deadline_that_cannot_be_met_is_still_planned_and_says_how_late() -> None:
    plan = plan_day([visit(10, at=north(9_000), due=490)], [tech(1)], now=480, settings=QUICK)

    assert StopReason(StopReasonCode.SLA_LATE, minutes=20) in stop_of(plan, 10).reasons
    assert plan.cost == 9_000 + 20 * QUICK.late_price_per_minute[Priority.NORMAL]


def test_when_time_runs_short_the_urgent_visit_is_kept_and_the_low_one_left_out() -> None:
    short = tech(1, shift=Window(480, 600))
    visits = [visit(10, priority=Priority.LOW, minutes=80), visit(11, priority=Priority.URGENT, minutes=80)]

    plan = plan_day(visits, [short], now=480, settings=QUICK)

    assert order(plan, 1) == [11]
    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.NO_TIME),)


# --- pins and visits under way ---------------------------------------------------------------------


def test_a_pinned_visit_keeps_its_technician_and_start_minute() -> None:
    technicians = [tech(1), tech(2, at=north(8_000))]
    pinned = visit(10, pin=VisitPin(2, 14 * 60))

    plan = plan_day([pinned], technicians, now=480, settings=QUICK)

    assert technician_of(plan) == {10: 2}
    assert stop_of(plan, 10).starts == 14 * 60
    assert stop_of(plan, 10).reasons[0] == StopReason(StopReasonCode.PINNED)


def test_a_pin_to_a_technician_without_the_skill_is_not_possible() -> None:
    plan = plan_day([visit(10, pin=VisitPin(1))], [tech(1, skills=("HVAC",)), tech(2)], now=480, settings=QUICK)

    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.PIN_NOT_POSSIBLE),)


def test_a_pin_outside_the_shift_is_not_possible() -> None:
    plan = plan_day([visit(10, pin=VisitPin(1, 20 * 60))], [tech(1)], now=480, settings=QUICK)

    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.PIN_NOT_POSSIBLE),)


def test_an_urgent_visit_inserted_into_a_running_plan_leaves_the_visits_under_way_first() -> None:
    # Technician 1 is on site at 10 and heading to 11, 6 km away; an urgent leak next door to 10
    # comes in. The urgent visit would be cheapest right now, but the started and next visits stay.
    on_site, heading = visit(10, at=north(100), minutes=30), visit(11, at=north(6_000))
    urgent = visit(12, at=north(200), priority=Priority.URGENT, due=10 * 60)
    technicians = [tech(1, started=10, heading_to=11), tech(2, at=north(20_000))]

    plan = plan_day([on_site, heading, urgent], technicians, now=9 * 60, settings=QUICK)

    assert order(plan, 1)[:2] == [10, 11]
    assert stop_of(plan, 10).starts == 9 * 60  # on site now
    assert stop_of(plan, 10).reasons[0] == StopReason(StopReasonCode.UNDER_WAY)
    assert stop_of(plan, 11).reasons[0] == StopReason(StopReasonCode.NEXT)
    assert 12 in technician_of(plan)


def test_the_visit_under_way_is_kept_even_when_its_technician_lacks_time_for_more() -> None:
    technicians = [tech(1, shift=Window(480, 560), started=10)]

    plan = plan_day([visit(10, minutes=70), visit(11)], technicians, now=540, settings=QUICK)

    assert order(plan, 1) == [10]
    assert plan.unplanned == (UnplannedVisit(11, UnplannedCode.NO_TIME),)


def test_a_visit_under_way_unknown_to_the_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="technician 1: visit 99 is not in the plan"):
        plan_day([visit(10)], [tech(1, started=99)], now=480, settings=QUICK)


def test_duplicate_ids_and_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate ticket_id"):
        plan_day([visit(10), visit(10)], [tech(1)], now=480)
    with pytest.raises(ValueError, match="duplicate technician_id"):
        plan_day([visit(10)], [tech(1), tech(1)], now=480)
    with pytest.raises(ValueError, match="ticket 10: minutes must not be negative"):
        plan_day([visit(10, minutes=-1)], [tech(1)], now=480)
    with pytest.raises(ValueError, match="window ends"):
        Window(600, 500)


def test_without_technicians_every_visit_is_left_out() -> None:
    plan = plan_day([visit(10)], [], now=480)

    assert plan.routes == ()
    assert plan.unplanned == (UnplannedVisit(10, UnplannedCode.NO_TECHNICIAN_WITH_SKILL),)


# --- properties over random days -------------------------------------------------------------------

SKILLS = ("PLUMBING", "ELECTRICAL", "HVAC")


@st.composite
def days(draw: st.DrawFn) -> tuple[list[VisitDemand], list[TechnicianDay]]:
    technicians = []
    for technician_id in range(1, draw(st.integers(1, 3)) + 1):
        start = draw(st.integers(7 * 60, 10 * 60))
        lunch = draw(st.booleans())
        technicians.append(
            tech(
                technician_id,
                skills=tuple(draw(st.sets(st.sampled_from(SKILLS), min_size=1, max_size=2))),
                at=north(draw(st.integers(0, 8_000))),
                shift=Window(start, start + draw(st.integers(4 * 60, 9 * 60))),
                breaks=(BreakRule(Window(11 * 60 + 30, 13 * 60), 45),) if lunch else (),
            )
        )
    visits = []
    for index in range(draw(st.integers(0, 8))):
        window = None
        if draw(st.booleans()):
            opens = draw(st.integers(8 * 60, 16 * 60))
            window = Window(opens, opens + draw(st.integers(30, 180)))
        visits.append(
            visit(
                100 + index,
                skill=draw(st.sampled_from(SKILLS)),
                at=north(draw(st.integers(0, 8_000))),
                priority=draw(st.sampled_from(list(Priority))),
                minutes=draw(st.integers(20, 90)),
                window=window,
                due=draw(st.none() | st.integers(8 * 60, 18 * 60)),
            )
        )
    return visits, technicians


@settings(max_examples=25, deadline=None)
@given(days())
def test_every_plan_honours_skills_windows_shifts_breaks_and_travel_times(
    day: tuple[list[VisitDemand], list[TechnicianDay]],
) -> None:
    visits, technicians = day
    by_ticket = {v.ticket_id: v for v in visits}
    by_technician = {t.technician_id: t for t in technicians}

    plan = plan_day(visits, technicians, now=8 * 60, settings=RouteSettings(time_limit_seconds=0.1))

    listed = [s.ticket_id for r in plan.routes for s in r.stops] + [u.ticket_id for u in plan.unplanned]
    assert sorted(listed) == sorted(by_ticket)
    for route in plan.routes:
        technician = by_technician[route.technician_id]
        clock = max(8 * 60, technician.shift.start)
        for stop in route.stops:
            demand = by_ticket[stop.ticket_id]
            assert demand.skill in technician.skills
            assert stop.ends == stop.starts + demand.minutes
            assert stop.starts >= clock + stop.travel_minutes
            assert stop.starts >= stop.arrives
            if demand.window is not None:
                assert demand.window.start <= stop.starts <= demand.window.end
            assert technician.shift.start <= stop.starts and stop.ends <= technician.shift.end
            for taken in route.breaks:
                assert stop.ends <= taken.starts or stop.starts >= taken.starts + taken.minutes
            clock = stop.ends
        for taken, rule in zip(route.breaks, technician.breaks):
            assert rule.starts_within.start <= taken.starts <= rule.starts_within.end


def test_a_visit_already_assigned_stays_with_its_technician_and_says_so() -> None:
    technicians = [tech(1), tech(2, at=north(9_000))]

    plan = plan_day([VisitDemand(10, "PLUMBING", BASE, Priority.NORMAL, 40, assignee=2)], technicians, now=480, settings=QUICK)

    assert technician_of(plan) == {10: 2}
    assert stop_of(plan, 10).reasons[0] == StopReason(StopReasonCode.ASSIGNED)


# --- owners' windows over or beyond the day; shifts and breaks with visits under way ---------------------


def test_an_owner_window_that_is_over_or_opens_after_the_planning_day_leaves_the_visit_out() -> None:
    over, day_after = visit(10, window=Window(480, 540)), visit(11, window=Window(3_000, 3_100))

    plan = plan_day([over, day_after, visit(12)], [tech(1)], now=600, settings=QUICK)

    assert order(plan, 1) == [12]
    assert plan.unplanned == (
        UnplannedVisit(10, UnplannedCode.OWNER_NOT_AVAILABLE),
        UnplannedVisit(11, UnplannedCode.OWNER_NOT_AVAILABLE),
    )


def test_the_greedy_construction_puts_a_break_off_while_visits_still_end_before_its_latest_start() -> None:
    # From 11:00, three 50-minute visits end at 13:30, the lunch's latest start: waiting for it to open at
    # 11:30 would leave the third visit no time before the shift ends at 14:30.
    lunch = BreakRule(Window(11 * 60 + 30, 13 * 60 + 30), 45)
    visits = [visit(10 + i, minutes=50) for i in range(3)]

    plan = plan_day(visits, [tech(1, shift=Window(8 * 60, 14 * 60 + 30), breaks=(lunch,))], now=11 * 60,
                    settings=RouteSettings(improve=False))

    route = plan.route_of(1)
    assert route is not None and len(route.stops) == 3 and plan.unplanned == ()
    (taken,) = route.breaks
    assert (taken.starts, taken.minutes) == (13 * 60 + 30, 45)


def test_an_urgent_visit_joins_a_running_plan_after_the_visits_under_way_and_around_the_break() -> None:
    # Technician 1 works 08:00–13:00 with 20 minutes off starting 10:00–10:30; he is on site at 10 and heading
    # to 11 when an urgent visit next door comes in at 09:40.
    short_break = BreakRule(Window(10 * 60, 10 * 60 + 30), 20)
    on_site, heading = visit(10, at=north(100), minutes=30), visit(11, at=north(1_500), minutes=40)
    urgent = visit(12, at=north(150), priority=Priority.URGENT, due=10 * 60 + 30, minutes=30)
    technicians = [
        tech(1, shift=Window(8 * 60, 13 * 60), breaks=(short_break,), started=10, heading_to=11),
        tech(2, at=north(30_000), shift=Window(12 * 60, 13 * 60)),
    ]

    plan = plan_day([on_site, heading, urgent], technicians, now=9 * 60 + 40, settings=QUICK)

    assert order(plan, 1) == [10, 11, 12]
    route = plan.route_of(1)
    assert route is not None
    (taken,) = route.breaks
    assert 10 * 60 <= taken.starts <= 10 * 60 + 30
    for stop in route.stops:
        assert stop.ends <= taken.starts or stop.starts >= taken.starts + taken.minutes
    assert route.stops[-1].ends <= 13 * 60
