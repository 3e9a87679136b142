"""Technician assignment: plain tickets and technicians in, an optimal dispatch plan out.

The batch model is a min-cost flow solved with OR-Tools ``SimpleMinCostFlow``. Every ticket node
supplies one unit that reaches the sink either through a technician it may go to (skill, on shift,
free slot) or through its own "unassigned" arc. Each technician reaches the sink through one parallel
arc per free slot, priced ``load_step × (tickets already held)``; the marginal cost grows with every
extra ticket, so the flow fills cheap slots first and total load cost is convex (work spreads out).

Why a flow, chosen by measurement on 1,000 tickets × 300 technicians, 9 skills, capacities 1–4, load
and priority terms included (``python -m benchmarks.solver``, 2-core machine): the whole call takes
~75 ms (about 47 ms building ~63k arcs in Python, 20 ms in OR-Tools) and is optimal. CP-SAT on an
instance of the same size (61,782 booleans plus slot booleans, 2 workers) spent 1 s building the model
and after a 10 s limit had only a feasible plan whose objective was 1.7 times the flow's. scipy's
``linear_sum_assignment`` agrees with the flow on pure assignment instances (the benchmark checks it)
but needs a dense slot-expanded matrix, cannot express "leave it unassigned" or convex load without
extra columns, and is not a dependency a pure core should take.

Objective, lexicographic: first leave as few URGENT tickets unassigned as possible, then HIGH, NORMAL,
LOW; then minimise the soft cost — weighted travel (haversine metres from the technician's current
position, multiplied per priority), load, preferred-technician bonus, and a waiting-time price
on each ticket left unassigned. The order is enforced by per-priority offsets on the unassigned arcs
computed from each instance (see ``_tier_gap``), never by hand-tuned constants. Because the tickets a
plan can serve form a transversal matroid, serving urgent tickets first never lowers how many tickets
are served in total: the plan always assigns the maximum possible number.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from ortools.graph.python import min_cost_flow

# The shared, standard-library-only vocabulary of tickets; re-exported because it is part of this API.
from dispatch.model import GeoPoint
from kernel.vocabulary import Priority

__all__ = [
    "Assignment",
    "CostBreakdown",
    "DispatchPlan",
    "DispatchWeights",
    "GeoPoint",
    "Priority",
    "TechnicianSupply",
    "TicketDemand",
    "Unassignable",
    "UnassignableCode",
    "assign_one",
    "haversine_m",
    "solve",
]

EARTH_RADIUS_M = 6_371_008.8
_EARTH_DIAMETER_M = 2 * EARTH_RADIUS_M
# OR-Tools' cost scaling multiplies unit costs by the node count + 1 and its prices then move by
# multiples of that; its documentation (MinCostFlowBase::BAD_COST_RANGE) promises no overflow while the
# largest unit cost stays below INT64_MAX / (2 n²) for n nodes. Costs only just inside n + 1 overflowed
# the prices and ended the solve with BAD_COST_RANGE.
_INT64_MAX = 2**63 - 1


# Rank of each priority in the lexicographic objective: an unserved ticket of a higher tier outweighs
# any number of unserved tickets below it and all travel.
_TIER = {Priority.LOW: 1, Priority.NORMAL: 2, Priority.HIGH: 3, Priority.URGENT: 4}


class UnassignableCode(str, Enum):
    NO_TECHNICIAN_WITH_SKILL = "NO_TECHNICIAN_WITH_SKILL"
    NONE_ON_SHIFT = "NONE_ON_SHIFT"
    ALL_AT_CAPACITY = "ALL_AT_CAPACITY"


@dataclass(frozen=True, slots=True)
class TicketDemand:
    ticket_id: int
    skill: str
    location: GeoPoint
    priority: Priority
    waiting_minutes: int = 0
    preferred_technician_id: int | None = None


@dataclass(frozen=True, slots=True)
class TechnicianSupply:
    technician_id: int
    skills: frozenset[str]
    location: GeoPoint
    on_shift: bool
    current_load: int
    capacity: int

    @property
    def free_slots(self) -> int:
        return max(0, self.capacity - self.current_load)


@dataclass(frozen=True, slots=True)
class DispatchWeights:
    """Integer prices of the soft objective, all in the same unit (a metre of ordinary travel)."""

    distance_per_m: int = 1
    # The n-th ticket on a technician's plate (existing load included) costs load_step × (n - 1).
    load_step: int = 3_000
    preferred_bonus: int = 2_000
    # Price per minute already waited of leaving a ticket unassigned: decides, within one priority,
    # which tickets get the last free slots.
    waiting_per_minute: int = 100
    # Travel to urgent work is multiplied so that, when tickets compete for the nearest technician,
    # the more urgent one gets them (an URGENT promise is on site within an hour).
    urgent_travel_multiplier: int = 4
    high_travel_multiplier: int = 2
    normal_travel_multiplier: int = 1
    low_travel_multiplier: int = 1

    def __post_init__(self) -> None:
        for name in ("distance_per_m", "load_step", "preferred_bonus", "waiting_per_minute"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        for priority in Priority:
            if self.travel_multiplier(priority) < 1:
                raise ValueError(f"{priority.lower()}_travel_multiplier must be at least 1")

    def travel_multiplier(self, priority: Priority) -> int:
        return {
            Priority.URGENT: self.urgent_travel_multiplier,
            Priority.HIGH: self.high_travel_multiplier,
            Priority.NORMAL: self.normal_travel_multiplier,
            Priority.LOW: self.low_travel_multiplier,
        }[priority]


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """One assignment's share of the soft objective; ``total`` is the sum of the four parts."""

    distance_m: int
    distance: int  # distance_m × distance_per_m
    priority: int  # extra travel cost from the priority's multiplier
    load: int  # marginal workload cost of this ticket on the technician
    preference: int  # minus the bonus when the technician is the preferred one, else 0
    total: int


@dataclass(frozen=True, slots=True)
class Assignment:
    ticket_id: int
    technician_id: int
    cost: CostBreakdown


@dataclass(frozen=True, slots=True)
class Unassignable:
    ticket_id: int
    code: UnassignableCode
    reason: str


@dataclass(frozen=True, slots=True)
class DispatchPlan:
    """Assignments and unassignable tickets, each sorted by ticket id."""

    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassignable, ...]

    @property
    def total_cost(self) -> int:
        """Sum of the assignments' soft costs (waiting prices of unassigned tickets excluded)."""
        return sum(assignment.cost.total for assignment in self.assignments)


def haversine_m(a: GeoPoint, b: GeoPoint) -> int:
    """Great-circle (haversine) distance in whole metres.

    Computed from the chord between the two points on the unit sphere, which is the same distance
    as the haversine formula and about 40% cheaper in the batch builder's inner loop.
    """
    return _metres(_unit_vector(a), _unit_vector(b))


def _unit_vector(point: GeoPoint) -> tuple[float, float, float]:
    lat, lon = math.radians(point.latitude), math.radians(point.longitude)
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))


def _metres(a: tuple[float, float, float], b: tuple[float, float, float]) -> int:
    # The batch builder inlines this expression; the two must stay identical so that instant and
    # batch mode round every distance the same way.
    return round(_EARTH_DIAMETER_M * math.asin(min(1.0, math.dist(a, b) / 2)))


def assign_one(
    ticket: TicketDemand,
    technicians: Sequence[TechnicianSupply],
    weights: DispatchWeights = DispatchWeights(),
) -> Assignment | Unassignable:
    """Instant mode: the cheapest qualified technician for one new ticket, lowest id on a tie.

    With a single ticket the flow model reduces to picking the cheapest feasible arc, so a linear
    scan gives the model's answer without building it.
    """
    site = _unit_vector(ticket.location)
    per_metre = weights.distance_per_m * weights.travel_multiplier(ticket.priority)
    best: tuple[int, int, int, TechnicianSupply] | None = None  # total, technician id, metres, technician
    for technician in technicians:
        if not _can_take(technician, ticket.skill):
            continue
        distance_m = _metres(_unit_vector(technician.location), site)
        total = distance_m * per_metre + weights.load_step * technician.current_load
        if technician.technician_id == ticket.preferred_technician_id:
            total -= weights.preferred_bonus
        candidate = (total, technician.technician_id, distance_m, technician)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    if best is not None:
        _, technician_id, distance_m, technician = best
        load = weights.load_step * technician.current_load
        breakdown = _breakdown(ticket, technician, distance_m, load, weights)
        return Assignment(ticket.ticket_id, technician_id, breakdown)
    return _SkillCensus(technicians).explain(ticket)


def solve(
    tickets: Sequence[TicketDemand],
    technicians: Sequence[TechnicianSupply],
    weights: DispatchWeights = DispatchWeights(),
) -> DispatchPlan:
    """Batch mode: the lexicographically optimal plan for all tickets at once."""
    ordered_tickets = sorted(tickets, key=lambda ticket: ticket.ticket_id)
    ordered_technicians = sorted(technicians, key=lambda technician: technician.technician_id)
    _require_unique([t.ticket_id for t in ordered_tickets], "ticket_id")
    _require_unique([t.technician_id for t in ordered_technicians], "technician_id")
    for ticket in ordered_tickets:
        if ticket.waiting_minutes < 0:
            raise ValueError(f"ticket {ticket.ticket_id}: waiting_minutes must not be negative")
    if not ordered_tickets:
        return DispatchPlan((), ())

    graph = _build_flow(ordered_tickets, ordered_technicians, weights)
    flow = graph.solver
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status!r}")
    used = flow.flows(graph.ticket_arcs).tolist()

    taken_by: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for arc_index, carried in enumerate(used):
        if carried:
            taken_by[graph.heads[arc_index] - len(ordered_tickets)].append(
                (graph.tails[arc_index], graph.distances_m[arc_index])
            )

    assignments: list[Assignment] = []
    for technician_index, taken in taken_by.items():
        technician = ordered_technicians[technician_index]
        # Parallel slot arcs price the k-th new ticket; which ticket carries which marginal price is
        # arbitrary, so hand them out in ticket-id order to keep the breakdown deterministic.
        for position, (ticket_index, distance_m) in enumerate(sorted(taken)):
            ticket = ordered_tickets[ticket_index]
            load = weights.load_step * (technician.current_load + position)
            assignments.append(
                Assignment(
                    ticket.ticket_id,
                    technician.technician_id,
                    _breakdown(ticket, technician, distance_m, load, weights),
                )
            )
    assigned_ids = {assignment.ticket_id for assignment in assignments}
    census = _SkillCensus(ordered_technicians)
    unassigned = [
        census.explain(ticket) for ticket in ordered_tickets if ticket.ticket_id not in assigned_ids
    ]
    assignments.sort(key=lambda assignment: assignment.ticket_id)
    return DispatchPlan(tuple(assignments), tuple(unassigned))


@dataclass(slots=True)
class _FlowGraph:
    solver: min_cost_flow.SimpleMinCostFlow
    ticket_arcs: Sequence[int]  # OR-Tools indices of the ticket → technician arcs, in build order
    tails: array  # ticket node of each ticket → technician arc
    heads: array  # technician node of each ticket → technician arc
    distances_m: array


@dataclass(slots=True)
class _Crew:
    """On-shift technicians with a free slot who share one skill, as columns for a fast inner loop."""

    nodes: array = field(default_factory=lambda: array("i"))
    technician_ids: list[int] = field(default_factory=list)
    positions: list[tuple[float, float, float]] = field(default_factory=list)


def _build_flow(
    tickets: list[TicketDemand],
    technicians: list[TechnicianSupply],
    weights: DispatchWeights,
) -> _FlowGraph:
    ticket_count = len(tickets)
    sink = ticket_count + len(technicians)

    crews: dict[str, _Crew] = defaultdict(_Crew)
    for index, technician in enumerate(technicians):
        if not (technician.on_shift and technician.free_slots):
            continue
        position = _unit_vector(technician.location)
        for skill in technician.skills:
            crew = crews[skill]
            crew.nodes.append(ticket_count + index)
            crew.technician_ids.append(technician.technician_id)
            crew.positions.append(position)

    tails, heads, costs, distances_m = array("i"), array("i"), array("q"), array("q")
    soft_bound = 0
    asin, dist, diameter = math.asin, math.dist, _EARTH_DIAMETER_M
    for ticket_index, ticket in enumerate(tickets):
        crew = crews.get(ticket.skill)
        if crew is None:
            continue
        site = _unit_vector(ticket.location)
        distances = [
            round(diameter * asin(min(1.0, dist(position, site) / 2))) for position in crew.positions
        ]
        per_metre = weights.distance_per_m * weights.travel_multiplier(ticket.priority)
        arc_costs = [distance * per_metre for distance in distances]
        if ticket.preferred_technician_id in crew.technician_ids:
            arc_costs[crew.technician_ids.index(ticket.preferred_technician_id)] -= weights.preferred_bonus
        soft_bound += max(0, max(arc_costs)) - min(0, min(arc_costs))
        tails.extend(array("i", [ticket_index]) * len(distances))
        heads.extend(crew.nodes)
        costs.extend(arc_costs)
        distances_m.extend(distances)

    ticket_arc_count = len(tails)
    arcs_into = [0] * len(technicians)
    for head in heads:
        arcs_into[head - ticket_count] += 1
    largest_marginal = 0
    for index, technician in enumerate(technicians):
        # More slot arcs than tickets that could ever arrive would only enlarge the graph.
        for extra in range(min(technician.free_slots, arcs_into[index])):
            marginal = weights.load_step * (technician.current_load + extra)
            largest_marginal = max(largest_marginal, marginal)
            tails.append(ticket_count + index)
            heads.append(sink)
            costs.append(marginal)

    largest_waiting = max(weights.waiting_per_minute * ticket.waiting_minutes for ticket in tickets)
    gap = _tier_gap(soft_bound + largest_marginal, largest_waiting)
    for ticket_index, ticket in enumerate(tickets):
        tails.append(ticket_index)
        heads.append(sink)
        costs.append(gap * _TIER[ticket.priority] + weights.waiting_per_minute * ticket.waiting_minutes)

    node_count = sink + 1
    # The unassigned offsets exceed every travel, load and bonus cost, negative ones included.
    if max(costs) * 2 * node_count**2 >= _INT64_MAX:
        raise ValueError("weights and distances are too large for 64-bit costs; lower the weights")

    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tails, heads, array("q", [1]) * len(tails), costs)
    supplies = array("q", [1]) * ticket_count + array("q", [0]) * len(technicians)
    supplies.append(-ticket_count)
    solver.set_nodes_supplies(array("i", range(node_count)), supplies)
    return _FlowGraph(solver, arcs[:ticket_arc_count], tails, heads, distances_m)


def _tier_gap(soft_swing: int, largest_waiting: int) -> int:
    """Spacing of the per-priority unassigned offsets that makes the objective lexicographic.

    A min-cost flow is optimal when its residual graph has no negative cycle, and every such cycle
    here passes the sink at most once: it serves at most one more ticket and drops at most one. Its
    soft cost changes by at most ``soft_swing``: for every ticket, the spread of its arc costs
    (counting 0 for leaving it), plus one load marginal.
    With offsets ``gap × tier`` and ``gap`` above that swing plus the largest waiting price, serving a
    ticket of a higher tier always beats anything the soft terms could gain, so the optimum is the
    lexicographic one.
    """
    return soft_swing + largest_waiting + 1


def _breakdown(
    ticket: TicketDemand,
    technician: TechnicianSupply,
    distance_m: int,
    load: int,
    weights: DispatchWeights,
) -> CostBreakdown:
    distance = distance_m * weights.distance_per_m
    priority = distance * (weights.travel_multiplier(ticket.priority) - 1)
    preference = -weights.preferred_bonus if technician.technician_id == ticket.preferred_technician_id else 0
    total = distance + priority + load + preference
    return CostBreakdown(distance_m, distance, priority, load, preference, total)


def _can_take(technician: TechnicianSupply, skill: str) -> bool:
    return technician.on_shift and technician.free_slots > 0 and skill in technician.skills


class _SkillCensus:
    """Per skill, how many technicians have it and how many of those are on shift."""

    def __init__(self, technicians: Iterable[TechnicianSupply]) -> None:
        self._skilled: dict[str, int] = defaultdict(int)
        self._on_shift: dict[str, int] = defaultdict(int)
        for technician in technicians:
            for skill in technician.skills:
                self._skilled[skill] += 1
                self._on_shift[skill] += technician.on_shift

    def explain(self, ticket: TicketDemand) -> Unassignable:
        """Why no technician could take this ticket, from the most basic cause on."""
        skill = ticket.skill
        skilled, on_shift = self._skilled.get(skill, 0), self._on_shift.get(skill, 0)
        if not skilled:
            return Unassignable(
                ticket.ticket_id,
                UnassignableCode.NO_TECHNICIAN_WITH_SKILL,
                f"no technician has skill {skill}",
            )
        if not on_shift:
            who = (
                f"the only technician with skill {skill} is"
                if skilled == 1
                else f"all {skilled} technicians with skill {skill} are"
            )
            return Unassignable(ticket.ticket_id, UnassignableCode.NONE_ON_SHIFT, f"{who} off shift")
        who = (
            f"the only on-shift technician with skill {skill} is"
            if on_shift == 1
            else f"all {on_shift} on-shift technicians with skill {skill} are"
        )
        return Unassignable(ticket.ticket_id, UnassignableCode.ALL_AT_CAPACITY, f"{who} at capacity")


def _require_unique(ids: list[int], name: str) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate {name} in input")
