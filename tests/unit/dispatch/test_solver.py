"""Specification of the technician assignment solver (dispatch/solver.py)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.model import GeoPoint
from dispatch.solver import (
    EARTH_RADIUS_M,
    Assignment,
    CostBreakdown,
    DispatchPlan,
    DispatchWeights,
    TechnicianSupply,
    TicketDemand,
    Unassignable,
    UnassignableCode,
    assign_one,
    haversine_m,
    solve,
)
from kernel.vocabulary import Priority

BASE = GeoPoint(31.2, 121.4)
TIER_ORDER = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)


def north(metres: float, of: GeoPoint = BASE) -> GeoPoint:
    """A point exactly ``metres`` due north (a meridian arc, so the great-circle distance is exact)."""
    return GeoPoint(of.latitude + math.degrees(metres / EARTH_RADIUS_M), of.longitude)


def tech(
    technician_id: int,
    *,
    skills: Sequence[str] = ("PLUMBING",),
    at: GeoPoint = BASE,
    on_shift: bool = True,
    load: int = 0,
    capacity: int = 3,
) -> TechnicianSupply:
    return TechnicianSupply(technician_id, frozenset(skills), at, on_shift, load, capacity)


def ticket(
    ticket_id: int,
    *,
    skill: str = "PLUMBING",
    at: GeoPoint = BASE,
    priority: Priority = Priority.NORMAL,
    waiting: int = 0,
    preferred: int | None = None,
) -> TicketDemand:
    return TicketDemand(ticket_id, skill, at, priority, waiting, preferred)


def technician_of(plan: DispatchPlan) -> dict[int, int]:
    return {assignment.ticket_id: assignment.technician_id for assignment in plan.assignments}


# --- distance ---------------------------------------------------------------------------------


def test_one_degree_of_latitude_is_111_195_metres() -> None:
    assert haversine_m(GeoPoint(0.0, 0.0), GeoPoint(1.0, 0.0)) == 111_195


def test_a_quarter_of_the_equator_is_10_007_557_metres() -> None:
    assert haversine_m(GeoPoint(0.0, 0.0), GeoPoint(0.0, 90.0)) == 10_007_557


def test_distance_is_symmetric_and_zero_to_itself() -> None:
    a, b = GeoPoint(39.9042, 116.4074), GeoPoint(31.2304, 121.4737)
    assert haversine_m(a, b) == haversine_m(b, a)
    assert 1_060_000 < haversine_m(a, b) < 1_075_000
    assert haversine_m(a, a) == 0


# --- hard constraints and choice of technician --------------------------------------------------


def test_nearest_qualified_technician_wins() -> None:
    technicians = [tech(1, at=north(3_000)), tech(2, at=north(1_000)), tech(3, at=north(2_000))]

    plan = solve([ticket(10)], technicians)

    assert plan.assignments == (Assignment(10, 2, CostBreakdown(1_000, 1_000, 0, 0, 0, 1_000)),)
    assert plan.unassigned == ()


def test_nearer_technician_without_the_skill_is_passed_over() -> None:
    technicians = [tech(1, skills=["ELECTRICAL"], at=north(100)), tech(2, at=north(4_000))]

    assert technician_of(solve([ticket(10)], technicians)) == {10: 2}


def test_nearer_technician_off_shift_is_passed_over() -> None:
    technicians = [tech(1, at=north(100), on_shift=False), tech(2, at=north(4_000))]

    assert technician_of(solve([ticket(10)], technicians)) == {10: 2}


def test_nearer_technician_at_capacity_is_passed_over() -> None:
    technicians = [tech(1, at=north(100), load=2, capacity=2), tech(2, at=north(4_000))]

    assert technician_of(solve([ticket(10)], technicians)) == {10: 2}


def test_capacity_counts_the_load_already_held() -> None:
    technicians = [tech(1, load=1, capacity=3)]
    tickets = [ticket(10, waiting=30), ticket(11, waiting=20), ticket(12, waiting=10)]

    plan = solve(tickets, technicians)

    assert technician_of(plan) == {10: 1, 11: 1}
    assert [u.ticket_id for u in plan.unassigned] == [12]


def test_urgent_ticket_takes_the_last_slot_over_a_normal_one() -> None:
    technicians = [tech(1, capacity=1)]
    tickets = [
        ticket(10, at=north(100), priority=Priority.NORMAL, waiting=600),
        ticket(11, at=north(9_000), priority=Priority.URGENT),
    ]

    plan = solve(tickets, technicians)

    assert technician_of(plan) == {11: 1}
    assert plan.unassigned == (
        Unassignable(
            10,
            UnassignableCode.ALL_AT_CAPACITY,
            "the only on-shift technician with skill PLUMBING is at capacity",
        ),
    )


def test_scarce_slots_go_to_high_then_normal_before_low() -> None:
    technicians = [tech(1, capacity=2)]
    tickets = [
        ticket(10, at=north(100), priority=Priority.LOW, waiting=900),
        ticket(11, at=north(8_000), priority=Priority.NORMAL),
        ticket(12, at=north(9_000), priority=Priority.HIGH),
    ]

    assert technician_of(solve(tickets, technicians)) == {11: 1, 12: 1}


def test_within_one_priority_the_longest_waiting_ticket_gets_the_last_slot() -> None:
    technicians = [tech(1, capacity=1)]
    tickets = [ticket(10, at=north(500), waiting=5), ticket(11, at=north(1_500), waiting=60)]

    # Waiting 55 minutes longer is worth 5,500 at 100 per minute; the extra kilometre costs 1,000.
    assert technician_of(solve(tickets, technicians)) == {11: 1}


def test_serving_a_ticket_beats_any_saving_in_travel() -> None:
    # Ticket 11 can only go to technician 1; sending 10 far away to technician 2 frees that slot.
    technicians = [
        tech(1, skills=["PLUMBING", "HVAC"], capacity=1),
        tech(2, skills=["PLUMBING"], at=north(40_000), capacity=1),
    ]
    tickets = [ticket(10, priority=Priority.LOW), ticket(11, skill="HVAC", priority=Priority.LOW)]

    assert technician_of(solve(tickets, technicians)) == {10: 2, 11: 1}


def test_urgent_ticket_gets_the_nearer_technician_when_two_compete() -> None:
    technicians = [tech(1, capacity=1), tech(2, at=north(4_000), capacity=1)]
    tickets = [
        ticket(10, at=north(1_000), priority=Priority.NORMAL),
        ticket(11, at=north(1_000), priority=Priority.URGENT),
    ]

    plan = solve(tickets, technicians)

    assert technician_of(plan) == {10: 2, 11: 1}
    assert plan.assignments[1].cost == CostBreakdown(1_000, 1_000, 3_000, 0, 0, 4_000)


def test_preferred_technician_wins_a_tie() -> None:
    technicians = [tech(1, at=north(1_000)), tech(2, at=north(-1_000))]

    plan = solve([ticket(10, preferred=2)], technicians)

    assert plan.assignments == (Assignment(10, 2, CostBreakdown(1_000, 1_000, 0, 0, -2_000, -1_000)),)


def test_preferred_technician_loses_to_a_trip_shorter_by_more_than_the_bonus() -> None:
    technicians = [tech(1, at=north(1_000)), tech(2, at=north(3_500))]

    assert technician_of(solve([ticket(10, preferred=2)], technicians)) == {10: 1}


def test_load_balance_spreads_two_tickets_over_two_equally_near_technicians() -> None:
    technicians = [tech(1, at=north(1_000)), tech(2, at=north(1_000))]

    plan = solve([ticket(10), ticket(11)], technicians)

    assert sorted(technician_of(plan).values()) == [1, 2]
    assert [assignment.cost.load for assignment in plan.assignments] == [0, 0]


def test_existing_load_steers_work_to_an_idle_technician_slightly_further_away() -> None:
    technicians = [tech(1, at=north(1_000), load=2, capacity=4), tech(2, at=north(3_000))]

    # Technician 1: 1,000 m + 2 × 3,000 load; technician 2: 3,000 m and no load.
    assert technician_of(solve([ticket(10)], technicians)) == {10: 2}


def test_each_extra_ticket_on_a_technician_costs_one_load_step_more() -> None:
    technicians = [tech(1, load=1, capacity=4)]

    plan = solve([ticket(10), ticket(11), ticket(12)], technicians)

    assert [assignment.cost.load for assignment in plan.assignments] == [3_000, 6_000, 9_000]


def test_cost_breakdown_adds_distance_priority_load_and_preference() -> None:
    technicians = [tech(7, at=north(2_000), load=1)]

    plan = solve([ticket(10, priority=Priority.HIGH, preferred=7)], technicians)

    assert plan.assignments[0].cost == CostBreakdown(
        distance_m=2_000, distance=2_000, priority=2_000, load=3_000, preference=-2_000, total=5_000
    )
    assert plan.total_cost == 5_000


def test_weights_scale_each_part_of_the_cost() -> None:
    weights = DispatchWeights(
        distance_per_m=2, load_step=10, preferred_bonus=7, urgent_travel_multiplier=3
    )

    urgent = ticket(10, priority=Priority.URGENT, preferred=1)

    plan = solve([urgent], [tech(1, at=north(500), load=2)], weights)

    assert plan.assignments[0].cost == CostBreakdown(500, 1_000, 2_000, 20, -7, 3_013)


# --- reasons for unassignable tickets -----------------------------------------------------------


def test_reason_when_no_technician_has_the_skill() -> None:
    plan = solve([ticket(10, skill="ELEVATOR")], [tech(1)])

    assert plan.unassigned == (
        Unassignable(10, UnassignableCode.NO_TECHNICIAN_WITH_SKILL, "no technician has skill ELEVATOR"),
    )


def test_reason_when_no_technician_with_the_skill_is_on_shift() -> None:
    technicians = [tech(1, skills=["ELEVATOR"], on_shift=False), tech(2, skills=["ELEVATOR"], on_shift=False)]

    plan = solve([ticket(10, skill="ELEVATOR")], technicians)

    assert plan.unassigned == (
        Unassignable(
            10, UnassignableCode.NONE_ON_SHIFT, "all 2 technicians with skill ELEVATOR are off shift"
        ),
    )


def test_reason_when_every_on_shift_technician_with_the_skill_is_full() -> None:
    technicians = [
        tech(1, load=3, capacity=3),
        tech(2, load=1, capacity=1),
        tech(3, on_shift=False),
    ]

    plan = solve([ticket(10)], technicians)

    assert plan.unassigned == (
        Unassignable(
            10,
            UnassignableCode.ALL_AT_CAPACITY,
            "all 2 on-shift technicians with skill PLUMBING are at capacity",
        ),
    )


def test_empty_ticket_list_gives_an_empty_plan() -> None:
    assert solve([], [tech(1)]) == DispatchPlan((), ())


def test_every_ticket_is_unassignable_without_technicians() -> None:
    plan = solve([ticket(10), ticket(11)], [])

    assert [u.code for u in plan.unassigned] == [UnassignableCode.NO_TECHNICIAN_WITH_SKILL] * 2


def test_duplicate_ticket_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate ticket_id"):
        solve([ticket(10), ticket(10)], [tech(1)])


def test_duplicate_technician_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate technician_id"):
        solve([ticket(10)], [tech(1), tech(1)])


def test_negative_weights_are_rejected() -> None:
    with pytest.raises(ValueError, match="load_step"):
        DispatchWeights(load_step=-1)
    with pytest.raises(ValueError, match="urgent_travel_multiplier"):
        DispatchWeights(urgent_travel_multiplier=0)


def test_plan_does_not_depend_on_the_order_of_the_input() -> None:
    rng = random.Random(7)
    technicians = [tech(i, at=north(rng.randrange(5_000)), capacity=2) for i in range(1, 6)]
    tickets = [ticket(i, at=north(rng.randrange(5_000)), waiting=rng.randrange(60)) for i in range(10, 22)]

    first = solve(tickets, technicians)
    rng.shuffle(tickets)
    rng.shuffle(technicians)

    assert solve(tickets, technicians) == first
    assert [a.ticket_id for a in first.assignments] == sorted(a.ticket_id for a in first.assignments)


# --- instant mode -------------------------------------------------------------------------------


def test_instant_mode_picks_the_cheapest_qualified_technician() -> None:
    technicians = [
        tech(1, at=north(500), on_shift=False),
        tech(2, at=north(1_000), load=1),
        tech(3, at=north(2_500)),
    ]

    # Technician 2: 1,000 m + 3,000 load = 4,000; technician 3: 2,500 m.
    assert assign_one(ticket(10), technicians) == Assignment(
        10, 3, CostBreakdown(2_500, 2_500, 0, 0, 0, 2_500)
    )


def test_instant_mode_breaks_a_tie_by_lowest_technician_id() -> None:
    technicians = [tech(5, at=north(1_000)), tech(4, at=north(-1_000))]

    assert assign_one(ticket(10), technicians) == Assignment(
        10, 4, CostBreakdown(1_000, 1_000, 0, 0, 0, 1_000)
    )


def test_instant_mode_explains_an_unassignable_ticket() -> None:
    assert assign_one(ticket(10, skill="HVAC"), [tech(1, skills=["HVAC"], on_shift=False)]) == Unassignable(
        10, UnassignableCode.NONE_ON_SHIFT, "the only technician with skill HVAC is off shift"
    )


# --- properties over random instances -----------------------------------------------------------

SKILLS = ("PLUMBING", "HVAC", "ELEVATOR")


# Points on a 21 × 21 grid of about 200 m steps, so equal distances (ties) happen often.
geo_points = st.integers(0, 21 * 21 - 1).map(
    lambda cell: GeoPoint(31.2 + cell // 21 * 0.002, 121.4 + cell % 21 * 0.002)
)
skills = st.sampled_from(SKILLS)
skill_sets = st.sets(skills, max_size=2).map(frozenset)
priorities = st.sampled_from(Priority)
on_shift_mostly = st.sampled_from([True, True, False])
capacities = st.integers(0, 3)


@st.composite
def technicians_(draw: st.DrawFn, max_size: int) -> list[TechnicianSupply]:
    technicians = []
    for technician_id in range(1, draw(st.integers(0, max_size)) + 1):
        capacity = draw(capacities)
        load = draw(st.integers(0, capacity + 1))
        technicians.append(
            TechnicianSupply(
                technician_id, draw(skill_sets), draw(geo_points), draw(on_shift_mostly), load, capacity
            )
        )
    return technicians


@st.composite
def tickets_(draw: st.DrawFn, max_size: int, technician_count: int) -> list[TicketDemand]:
    preferred = st.none() | st.integers(1, max(1, technician_count))
    waiting = st.integers(0, 120)
    return [
        TicketDemand(
            100 + index,
            draw(skills),
            draw(geo_points),
            draw(priorities),
            draw(waiting),
            draw(preferred),
        )
        for index in range(draw(st.integers(0, max_size)))
    ]


weights_ = st.builds(
    DispatchWeights,
    distance_per_m=st.integers(0, 3),
    load_step=st.integers(0, 5_000),
    preferred_bonus=st.integers(0, 5_000),
    waiting_per_minute=st.integers(0, 200),
    urgent_travel_multiplier=st.integers(1, 5),
    high_travel_multiplier=st.integers(1, 3),
    normal_travel_multiplier=st.integers(1, 2),
    low_travel_multiplier=st.just(1),
)


@st.composite
def instances(
    draw: st.DrawFn, max_tickets: int, max_technicians: int
) -> tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights]:
    technicians = draw(technicians_(max_technicians))
    return draw(tickets_(max_tickets, len(technicians))), technicians, draw(weights_)


def can_take(technician: TechnicianSupply, demand: TicketDemand) -> bool:
    return demand.skill in technician.skills and technician.on_shift


def free_slots(technician: TechnicianSupply) -> int:
    return max(0, technician.capacity - technician.current_load)


def maximum_served(tickets: Sequence[TicketDemand], technicians: Sequence[TechnicianSupply]) -> int:
    """Size of a maximum matching of tickets to technician slots (augmenting paths)."""
    slots = [t for t in technicians for _ in range(free_slots(t))]
    holder: list[int | None] = [None] * len(slots)

    def augment(ticket_index: int, seen: set[int]) -> bool:
        for slot, technician in enumerate(slots):
            if slot in seen or not can_take(technician, tickets[ticket_index]):
                continue
            seen.add(slot)
            current = holder[slot]
            if current is None or augment(current, seen):
                holder[slot] = ticket_index
                return True
        return False

    return sum(augment(index, set()) for index in range(len(tickets)))


def objective(
    tickets: Sequence[TicketDemand],
    technicians: Sequence[TechnicianSupply],
    weights: DispatchWeights,
    chosen: dict[int, int],
) -> tuple[int, ...]:
    """The specified objective, computed independently: unassigned counts by tier, then soft cost."""
    by_id = {t.technician_id: t for t in technicians}
    unassigned = Counter(t.priority for t in tickets if t.ticket_id not in chosen)
    soft = sum(weights.waiting_per_minute * t.waiting_minutes for t in tickets if t.ticket_id not in chosen)
    new_load: Counter[int] = Counter()
    for demand in tickets:
        if demand.ticket_id not in chosen:
            continue
        technician = by_id[chosen[demand.ticket_id]]
        travel = haversine_m(technician.location, demand.location) * weights.distance_per_m
        soft += travel * weights.travel_multiplier(demand.priority)
        soft += weights.load_step * (technician.current_load + new_load[technician.technician_id])
        if demand.preferred_technician_id == technician.technician_id:
            soft -= weights.preferred_bonus
        new_load[technician.technician_id] += 1
    return (*(unassigned[p] for p in TIER_ORDER), soft)


def brute_force_optimum(
    tickets: Sequence[TicketDemand], technicians: Sequence[TechnicianSupply], weights: DispatchWeights
) -> tuple[int, ...]:
    best: tuple[int, ...] | None = None
    room = {t.technician_id: free_slots(t) for t in technicians}
    chosen: dict[int, int] = {}

    def explore(index: int) -> None:
        nonlocal best
        if index == len(tickets):
            value = objective(tickets, technicians, weights, chosen)
            best = value if best is None else min(best, value)
            return
        demand = tickets[index]
        explore(index + 1)
        for technician in technicians:
            if can_take(technician, demand) and room[technician.technician_id] > 0:
                room[technician.technician_id] -= 1
                chosen[demand.ticket_id] = technician.technician_id
                explore(index + 1)
                del chosen[demand.ticket_id]
                room[technician.technician_id] += 1

    explore(0)
    assert best is not None
    return best


@settings(max_examples=60, deadline=None)
@given(instances(max_tickets=16, max_technicians=6))
def test_every_assignment_respects_skill_shift_and_capacity(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights],
) -> None:
    tickets, technicians, weights = instance
    by_ticket = {t.ticket_id: t for t in tickets}
    by_technician = {t.technician_id: t for t in technicians}

    plan = solve(tickets, technicians, weights)

    for assignment in plan.assignments:
        technician = by_technician[assignment.technician_id]
        assert by_ticket[assignment.ticket_id].skill in technician.skills
        assert technician.on_shift
    for technician_id, added in Counter(a.technician_id for a in plan.assignments).items():
        technician = by_technician[technician_id]
        assert technician.current_load + added <= technician.capacity


@settings(max_examples=60, deadline=None)
@given(instances(max_tickets=16, max_technicians=6))
def test_every_ticket_is_assigned_or_explained_exactly_once(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights],
) -> None:
    tickets, technicians, weights = instance

    plan = solve(tickets, technicians, weights)

    listed = [a.ticket_id for a in plan.assignments] + [u.ticket_id for u in plan.unassigned]
    assert sorted(listed) == sorted(t.ticket_id for t in tickets)
    added = Counter(a.technician_id for a in plan.assignments)
    by_ticket = {t.ticket_id: t for t in tickets}
    for unassignable in plan.unassigned:
        skill = by_ticket[unassignable.ticket_id].skill
        skilled = [t for t in technicians if skill in t.skills]
        on_shift = [t for t in skilled if t.on_shift]
        assert skill in unassignable.reason
        if not skilled:
            assert unassignable.code is UnassignableCode.NO_TECHNICIAN_WITH_SKILL
        elif not on_shift:
            assert unassignable.code is UnassignableCode.NONE_ON_SHIFT
        else:
            assert unassignable.code is UnassignableCode.ALL_AT_CAPACITY
            assert all(t.current_load + added[t.technician_id] >= t.capacity for t in on_shift)


@settings(max_examples=60, deadline=None)
@given(instances(max_tickets=16, max_technicians=6))
def test_as_many_tickets_are_served_as_possible_priority_by_priority(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights],
) -> None:
    tickets, technicians, weights = instance

    served = {a.ticket_id for a in solve(tickets, technicians, weights).assignments}

    # Serving the most urgent first must also serve the most in total, for every priority cut-off.
    for depth in range(1, len(TIER_ORDER) + 1):
        top = [t for t in tickets if t.priority in TIER_ORDER[:depth]]
        assert sum(t.ticket_id in served for t in top) == maximum_served(top, technicians)


@settings(max_examples=60, deadline=None)
@given(instances(max_tickets=16, max_technicians=6))
def test_cost_breakdown_is_consistent_with_distance_and_weights(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights],
) -> None:
    tickets, technicians, weights = instance
    by_ticket = {t.ticket_id: t for t in tickets}
    by_technician = {t.technician_id: t for t in technicians}

    plan = solve(tickets, technicians, weights)

    for assignment in plan.assignments:
        demand, technician = by_ticket[assignment.ticket_id], by_technician[assignment.technician_id]
        cost = assignment.cost
        assert cost.distance_m == haversine_m(technician.location, demand.location)
        assert cost.distance == cost.distance_m * weights.distance_per_m
        assert cost.priority == cost.distance * (weights.travel_multiplier(demand.priority) - 1)
        assert cost.total == cost.distance + cost.priority + cost.load + cost.preference
    chosen = technician_of(plan)
    unserved = [t for t in tickets if t.ticket_id not in chosen]
    waiting = sum(weights.waiting_per_minute * t.waiting_minutes for t in unserved)
    assert plan.total_cost + waiting == objective(tickets, technicians, weights, chosen)[-1]


@settings(max_examples=150, deadline=None)
@given(instances(max_tickets=6, max_technicians=3))
def test_plan_equals_the_brute_force_optimum_on_small_instances(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights],
) -> None:
    tickets, technicians, weights = instance

    plan = solve(tickets, technicians, weights)

    assert objective(tickets, technicians, weights, technician_of(plan)) == brute_force_optimum(
        tickets, technicians, weights
    )


@settings(max_examples=60, deadline=None)
@given(instances(max_tickets=1, max_technicians=6))
def test_instant_mode_gives_the_batch_model_answer_for_a_single_ticket(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights],
) -> None:
    tickets, technicians, weights = instance
    for demand in tickets:
        alone = {t.technician_id: assign_one(demand, [t], weights) for t in technicians}
        price = {i: a.cost.total for i, a in alone.items() if isinstance(a, Assignment)}

        instant = assign_one(demand, technicians, weights)
        batch = solve([demand], technicians, weights)

        if not price:
            assert isinstance(instant, Unassignable)
            assert batch.unassigned == (instant,)
            continue
        cheapest = [i for i, total in price.items() if total == min(price.values())]
        assert instant == alone[min(cheapest)]
        (chosen,) = batch.assignments
        assert chosen.technician_id in cheapest
        assert chosen == alone[chosen.technician_id]


# --- edges the issue listed -------------------------------------------------------------------


ANTIPODE_A, ANTIPODE_B = GeoPoint(-43.8, -167.0), GeoPoint(43.8, 13.0)


def test_antipodes_are_half_the_circumference_apart_even_when_floats_overshoot() -> None:
    # the chord between these two comes out a hair above the diameter in floating point
    assert haversine_m(ANTIPODE_A, ANTIPODE_B) == 20_015_114
    plan = solve([ticket(1, at=ANTIPODE_A)], [tech(10, at=ANTIPODE_B)])
    assert [a.cost.distance_m for a in plan.assignments] == [20_015_114]


def test_instant_mode_gives_the_preferred_technician_the_bonus_after_a_reopen() -> None:
    near, preferred = tech(10, at=north(1_000)), tech(11, at=north(2_500))

    chosen = assign_one(ticket(1, preferred=11), [near, preferred])

    assert chosen == Assignment(1, 11, CostBreakdown(2_500, 2_500, 0, 0, -2_000, 500))


def test_instant_mode_weighs_urgent_travel_against_load() -> None:
    # 1 km away holding one ticket, or 2 km away and idle
    busy_near, idle_far = tech(10, at=north(1_000), load=1), tech(11, at=north(2_000))

    normal = assign_one(ticket(1, priority=Priority.NORMAL), [busy_near, idle_far])
    urgent = assign_one(ticket(2, priority=Priority.URGENT), [busy_near, idle_far])

    assert normal == Assignment(1, 11, CostBreakdown(2_000, 2_000, 0, 0, 0, 2_000))  # 1,000 + 3,000 > 2,000
    assert urgent == Assignment(2, 10, CostBreakdown(1_000, 1_000, 3_000, 3_000, 0, 7_000))  # 4,000 + 3,000 < 8,000


def test_a_technician_with_exactly_one_free_slot_takes_one_ticket() -> None:
    last_slot = tech(10, load=2, capacity=3)

    assert isinstance(assign_one(ticket(1), [last_slot]), Assignment)
    plan = solve([ticket(1), ticket(2, at=north(10))], [last_slot])
    assert technician_of(plan) == {1: 10}
    assert [(u.ticket_id, u.code) for u in plan.unassigned] == [(2, UnassignableCode.ALL_AT_CAPACITY)]


def test_batch_mode_spreads_load_over_technicians_with_several_free_slots() -> None:
    # the second ticket on the nearer technician costs a load step, far more than 200 m of travel
    near, farther = tech(10, at=north(100), capacity=2), tech(11, at=north(300), capacity=2)

    plan = solve([ticket(1), ticket(2)], [near, farther])

    assert sorted(technician_of(plan).values()) == [10, 11]


def test_a_preferred_technician_close_by_is_not_priced_out_of_the_plan() -> None:
    # the bonus makes the only arc negative: the ticket must still be served, not left waiting
    plan = solve([ticket(1, priority=Priority.URGENT, preferred=10)], [tech(10, at=north(100))])

    assert [(a.technician_id, a.cost.total) for a in plan.assignments] == [(10, 400 - 2_000)]


def test_the_64_bit_cost_guard_refuses_costs_or_tools_could_overflow_on_and_lets_the_rest_be_solved() -> None:
    # One LOW ticket, one technician on the spot holding one ticket of two: the largest cost is the
    # unassigned arc, load_step + 1, in a graph of three nodes. OR-Tools cannot overflow while the
    # largest cost is below INT64_MAX / (2 × 3²), so from there on the guard refuses the weights.
    holding_one = [tech(10, load=1, capacity=2)]
    threshold = (2**63 - 1) // 18  # 512,409,557,603,043,100

    with pytest.raises(ValueError) as refused:
        solve([ticket(1, priority=Priority.LOW)], holding_one, DispatchWeights(load_step=threshold))
    plan = solve([ticket(1, priority=Priority.LOW)], holding_one, DispatchWeights(load_step=threshold - 1))

    assert str(refused.value) == "weights and distances are too large for 64-bit costs; lower the weights"
    assert technician_of(plan) == {1: 10}


def test_weights_that_overflowed_inside_or_tools_are_refused_before_solving() -> None:
    # within the old guard (cost × (nodes + 1) < 2^62), yet OR-Tools' prices overflowed on it
    with pytest.raises(ValueError) as refused:
        solve([ticket(1, priority=Priority.LOW)], [tech(10, load=1, capacity=2)], DispatchWeights(load_step=2**60 - 2))

    assert str(refused.value) == "weights and distances are too large for 64-bit costs; lower the weights"


def test_a_negative_waiting_time_is_refused_naming_the_ticket() -> None:
    with pytest.raises(ValueError) as refused:
        solve([ticket(7, waiting=-1)], [tech(10)])

    assert str(refused.value) == "ticket 7: waiting_minutes must not be negative"


@pytest.mark.parametrize(("idle_is_metres_away", "technicians"), [(7_000, [10, 11]), (10_000, [10, 10])])
def test_a_busy_technicians_next_slots_cost_more_each_than_the_one_before(
    idle_is_metres_away: int, technicians: list[int]
) -> None:
    # holding two already, the busy one's next slots cost 6,000 and 9,000: one ticket goes to the idle
    # technician while the trip costs less than the 9,000 slot would
    busy = tech(10, load=2, capacity=4)
    idle = tech(11, at=north(idle_is_metres_away), capacity=1)

    plan = solve([ticket(1), ticket(2)], [busy, idle])

    assert sorted(technician_of(plan).values()) == technicians


# --- large plans: fewer arcs first, or a linear sum assignment, and the same optimum ------------------


@settings(max_examples=80, deadline=None)
@given(instances(max_tickets=16, max_technicians=6), st.integers(1, 3))
def test_the_optimum_is_the_same_whichever_arcs_the_first_flow_is_offered(
    instance: tuple[list[TicketDemand], list[TechnicianSupply], DispatchWeights], candidates: int
) -> None:
    tickets, technicians, weights = instance

    pruned = solve(tickets, technicians, weights, candidates=candidates)
    whole = solve(tickets, technicians, weights)

    assert objective(tickets, technicians, weights, technician_of(pruned)) == objective(
        tickets, technicians, weights, technician_of(whole)
    )
    assert sorted(u.ticket_id for u in pruned.unassigned) == sorted(u.ticket_id for u in whole.unassigned)


def test_a_ticket_whose_cheapest_technicians_are_taken_gets_one_it_was_not_first_offered() -> None:
    # Both tickets' single cheapest arc leads to technician 1, who has one slot: the duals must add the
    # arc to technician 2, a kilometre further, before the plan is proved optimal.
    technicians = [tech(1, capacity=1), tech(2, at=north(1_000), capacity=1)]
    tickets = [ticket(10, at=north(10)), ticket(11, at=north(20))]

    plan = solve(tickets, technicians, candidates=1)

    # 10 m + 980 m beats 990 m + 20 m
    assert technician_of(plan) == {10: 1, 11: 2}
    assert plan.total_cost == solve(tickets, technicians).total_cost == 990
    assert plan.unassigned == ()


def test_distances_half_a_metre_from_rounding_are_rounded_as_the_scalar_formula_rounds() -> None:
    sites = [north(metres + 0.5) for metres in range(0, 3_000, 7)]
    technicians = [tech(1, capacity=len(sites))]

    plan = solve([ticket(100 + i, at=site) for i, site in enumerate(sites)], technicians)

    assert [a.cost.distance_m for a in plan.assignments] == [haversine_m(BASE, site) for site in sites]


def random_city(seed: int, tickets: int, technicians: int, capacity: int) -> tuple[list[TicketDemand], list[TechnicianSupply]]:
    rng = random.Random(seed)

    def point() -> GeoPoint:
        return GeoPoint(31.1 + rng.random() * 0.2, 121.3 + rng.random() * 0.2)

    crew = [
        TechnicianSupply(i, frozenset(SKILLS), point(), True, rng.randint(0, capacity - 1), capacity)
        for i in range(1, technicians + 1)
    ]
    demand = [
        TicketDemand(1_000 + i, rng.choice(SKILLS), point(), rng.choice(list(Priority)), rng.randint(0, 90))
        for i in range(tickets)
    ]
    return demand, crew


@pytest.mark.parametrize(
    ("seed", "tickets", "technicians", "capacity"),
    [(1, 240, 240, 1), (2, 300, 180, 3), (3, 400, 150, 2)],
)
def test_a_plan_above_the_whole_graph_size_has_the_whole_graphs_optimum(
    seed: int, tickets: int, technicians: int, capacity: int
) -> None:
    # 240 × 240 with one slot each is a linear sum assignment; the others have fewer slots than
    # tickets, so the flow starts from each ticket's cheapest arcs
    demand, crew = random_city(seed, tickets, technicians, capacity)
    weights = DispatchWeights()

    fast = solve(demand, crew, weights)
    whole = solve(demand, crew, weights, candidates=10**9)

    assert objective(demand, crew, weights, technician_of(fast)) == objective(
        demand, crew, weights, technician_of(whole)
    )
    assert len(fast.assignments) == len(whole.assignments) > 0


def test_a_large_plan_where_one_trade_is_short_of_slots_falls_back_to_the_flow() -> None:
    # 250 plumbers for 240 plumbing tickets and 10 lift slots for 20 lift tickets: slots equal tickets,
    # yet the lift tickets cannot all have one, so the assignment is infeasible and the flow decides
    rng = random.Random(4)
    crew = [tech(i, at=north(rng.randrange(20_000)), capacity=1) for i in range(1, 251)]
    crew.append(tech(300, skills=["ELEVATOR"], capacity=10))
    demand = [ticket(1_000 + i, at=north(rng.randrange(20_000))) for i in range(240)]
    demand += [ticket(2_000 + i, skill="ELEVATOR", at=north(i * 100), waiting=10 * i) for i in range(20)]

    plan = solve(demand, crew)

    assert len(plan.assignments) == 250
    assert [u.ticket_id for u in plan.unassigned] == [2_000 + i for i in range(10)]  # the shortest waits
    assert {u.code for u in plan.unassigned} == {UnassignableCode.ALL_AT_CAPACITY}
    whole = solve(demand, crew, candidates=10**9)
    assert plan.total_cost == whole.total_cost


def test_candidates_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="candidates must be at least 1"):
        solve([ticket(10)], [tech(1)], candidates=0)
