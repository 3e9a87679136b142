"""Technician assignment: plain tickets and technicians in, an optimal dispatch plan out.

The batch model is a min-cost flow solved with OR-Tools ``SimpleMinCostFlow``. Every ticket node
supplies one unit that reaches the sink either through a technician it may go to (skill, on shift,
free slot) or through its own "unassigned" arc. Each technician reaches the sink through one parallel
arc per free slot, priced ``load_step × (tickets already held)``; the marginal cost grows with every
extra ticket, so the flow fills cheap slots first and total load cost is convex (work spreads out).

Why a flow, chosen by measurement on 1,000 tickets × 300 technicians, 9 skills, capacities 1–4, load
and priority terms included: CP-SAT on an instance of that size (61,782 booleans plus slot booleans, 2
workers) spent 1 s building the model and after a 10 s limit had only a feasible plan whose objective was
1.7 times the flow's, while the flow is optimal.

At group scale (issue 18: 5,000 tickets × 1,000 technicians, or 800 × 800 pure assignment) building the
arcs one by one in Python and solving the whole graph took seconds, so the batch mode now
- prices every arc with array arithmetic (``_metres_between``: the same metres as ``haversine_m``, to
  the metre, including its rounding);
- solves small graphs (≤ ``_WHOLE_GRAPH_ARCS`` ticket arcs) whole, as before;
- hands a large plan in which every ticket could have a free slot of its own to scipy's
  ``linear_sum_assignment`` (tickets × slots, travel + marginal load; ``_Network.assignment_arcs``);
- otherwise solves the flow on each ticket's ``_FIRST_CANDIDATES`` cheapest arcs, takes shortest-path
  distances in the residual graph as dual prices and adds each ticket's most negative left-out arcs
  (reduced cost below zero) until there are none: the plan is then optimal for the whole graph
  (``_Network.optimal_arcs``).
The optimum's cost never depends on the path taken (the tests compare each with the whole graph); among
plans of equal cost, a large instance may get another one than the whole graph would give.

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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
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
    "metres_matrix",
    "solve",
]

EARTH_RADIUS_M = 6_371_008.8
_EARTH_DIAMETER_M = 2 * EARTH_RADIUS_M
# OR-Tools' cost scaling multiplies unit costs by the node count + 1 and its prices then move by
# multiples of that; its documentation (MinCostFlowBase::BAD_COST_RANGE) promises no overflow while the
# largest unit cost stays below INT64_MAX / (2 n²) for n nodes. Costs only just inside n + 1 overflowed
# the prices and ended the solve with BAD_COST_RANGE.
_INT64_MAX = 2**63 - 1
# Up to this many ticket → technician arcs the flow is solved on the whole graph at once; above it, on
# each ticket's few cheapest arcs first, grown until the duals prove the plan optimal (``solve``).
_WHOLE_GRAPH_ARCS = 50_000
_FIRST_CANDIDATES = 8
# Largest tickets × free slots matrix handed to scipy's linear_sum_assignment (``assignment_arcs``).
_ASSIGNMENT_CELLS = 4_000_000
# How near half a metre a distance computed with array arithmetic must come before it is recomputed
# with the scalar formula: a thousand times the largest difference the two can have.
_ROUNDING_DOUBT_M = 1e-4


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
    as the haversine formula and cheaper, in scalars and in arrays alike.
    """
    return _metres(_unit_vector(a), _unit_vector(b))


def metres_matrix(origins: Sequence[GeoPoint], destinations: Sequence[GeoPoint]) -> np.ndarray:
    """``haversine_m`` from every origin (row) to every destination (column), as an int64 array."""
    return _metres_between(
        np.array([_unit_vector(point) for point in origins]).reshape(-1, 3),
        np.array([_unit_vector(point) for point in destinations]).reshape(-1, 3),
    )


def _unit_vector(point: GeoPoint) -> tuple[float, float, float]:
    lat, lon = math.radians(point.latitude), math.radians(point.longitude)
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))


def _metres(a: tuple[float, float, float], b: tuple[float, float, float]) -> int:
    # The batch builder's array arithmetic (``_metres_between``) rounds every distance as this does,
    # so that instant and batch mode agree to the metre.
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
    *,
    candidates: int | None = None,
) -> DispatchPlan:
    """Batch mode: the lexicographically optimal plan for all tickets at once.

    ``candidates`` changes how fast the optimum is found, never its cost: with a number, the first flow
    offers each ticket only its that-many cheapest technicians, and arcs are added until the duals prove
    the plan optimal for every arc (see ``_Network.optimal_arcs``). ``None`` chooses by size: the whole
    graph while it has at most ``_WHOLE_GRAPH_ARCS`` ticket arcs, else ``_FIRST_CANDIDATES``.
    """
    ordered_tickets = sorted(tickets, key=lambda ticket: ticket.ticket_id)
    ordered_technicians = sorted(technicians, key=lambda technician: technician.technician_id)
    _require_unique([t.ticket_id for t in ordered_tickets], "ticket_id")
    _require_unique([t.technician_id for t in ordered_technicians], "technician_id")
    for ticket in ordered_tickets:
        if ticket.waiting_minutes < 0:
            raise ValueError(f"ticket {ticket.ticket_id}: waiting_minutes must not be negative")
    if candidates is not None and candidates < 1:
        raise ValueError("candidates must be at least 1")
    if not ordered_tickets:
        return DispatchPlan((), ())

    network = _Network.build(ordered_tickets, ordered_technicians, weights)
    chosen = None
    if candidates is None and network.ticket_arc_count > _WHOLE_GRAPH_ARCS:
        chosen = network.assignment_arcs()
        candidates = _FIRST_CANDIDATES
    if chosen is None:
        chosen = network.optimal_arcs(candidates)
    taken_by: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for ticket_index, technician_index, distance_m in chosen:
        taken_by[technician_index].append((ticket_index, distance_m))

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
class _Block:
    """The tickets of one skill × the on-shift technicians with a free slot who have it."""

    tickets: np.ndarray  # ticket indices, ascending
    technicians: np.ndarray  # technician indices, ascending
    distances_m: np.ndarray  # metres, one row per ticket, one column per technician
    costs: np.ndarray  # weighted travel, minus the bonus on the preferred technician's arc


@dataclass(slots=True)
class _Flow:
    """One solved flow: its arcs as parallel arrays and the units each carries."""

    tails: np.ndarray
    heads: np.ndarray
    costs: np.ndarray
    carried: np.ndarray
    ticket_arc_count: int
    ticket_arc_distances_m: np.ndarray


@dataclass(slots=True)
class _Network:
    """Every arc the model has, built with array arithmetic; flows are solved on chosen ticket arcs.

    Node numbers: tickets ``0 … n-1``, technicians ``n … n+m-1``, the sink ``n+m``. Arcs in the order
    OR-Tools receives them: ticket → technician (by ticket, then technician), technician → sink (one
    per free slot), ticket → sink (unassigned).
    """

    ticket_count: int
    sink: int
    blocks: list[_Block]
    slot_technicians: np.ndarray
    slot_costs: np.ndarray
    unassigned_costs: np.ndarray

    @property
    def ticket_arc_count(self) -> int:
        return sum(block.costs.size for block in self.blocks)

    @classmethod
    def build(
        cls, tickets: list[TicketDemand], technicians: list[TechnicianSupply], weights: DispatchWeights
    ) -> _Network:
        ticket_count = len(tickets)
        crews: dict[str, list[int]] = defaultdict(list)
        for index, technician in enumerate(technicians):
            if technician.on_shift and technician.free_slots:
                for skill in technician.skills:
                    crews[skill].append(index)
        asking: dict[str, list[int]] = defaultdict(list)
        for index, ticket in enumerate(tickets):
            if ticket.skill in crews:
                asking[ticket.skill].append(index)

        sites = np.array([_unit_vector(ticket.location) for ticket in tickets]).reshape(-1, 3)
        positions = np.array([_unit_vector(t.location) for t in technicians]).reshape(-1, 3)
        distance_blocks = []
        for skill, ticket_indices in asking.items():
            rows, columns = np.array(ticket_indices), np.array(crews[skill])
            distance_blocks.append((rows, columns, _metres_between(sites[rows], positions[columns])))

        per_metre = [weights.distance_per_m * weights.travel_multiplier(ticket.priority) for ticket in tickets]
        longest = max((int(distances.max()) for _, _, distances in distance_blocks), default=0)
        # Below 2^62 no cost, spread or sum of two can leave int64; absurd weights are priced in Python
        # integers instead, so that the 64-bit guard sees their true size and refuses them.
        fits = longest * max(per_metre) + weights.preferred_bonus < 2**62
        cost_type = np.int64 if fits else object
        per_metre_array = np.array(per_metre, dtype=cost_type)
        technician_index = {t.technician_id: index for index, t in enumerate(technicians)}
        preferred = np.array(
            [technician_index.get(t.preferred_technician_id, -1) for t in tickets]  # type: ignore[arg-type]
        )

        blocks: list[_Block] = []
        soft_bound, arc_maxima = 0, []
        arcs_into = np.zeros(len(technicians), dtype=np.int64)
        for rows, columns, distances in distance_blocks:
            costs = distances.astype(cost_type) * per_metre_array[rows][:, None]
            wanted = preferred[rows]
            column = np.searchsorted(columns, wanted).clip(max=len(columns) - 1)
            bonus_rows = np.flatnonzero(columns[column] == wanted)
            costs[bonus_rows, column[bonus_rows]] -= weights.preferred_bonus
            highest, lowest = costs.max(axis=1), costs.min(axis=1)
            soft_bound += sum((np.maximum(highest, 0) - np.minimum(lowest, 0)).tolist())
            arc_maxima.append(int(highest.max()))
            arcs_into[columns] += len(rows)
            blocks.append(_Block(rows, columns, distances, costs))

        slot_technicians, slot_costs = [], []
        for index, technician in enumerate(technicians):
            # More slot arcs than tickets that could ever arrive would only enlarge the graph.
            for extra in range(min(technician.free_slots, int(arcs_into[index]))):
                slot_technicians.append(ticket_count + index)
                slot_costs.append(weights.load_step * (technician.current_load + extra))
        largest_marginal = max(slot_costs, default=0)

        largest_waiting = max(weights.waiting_per_minute * ticket.waiting_minutes for ticket in tickets)
        gap = _tier_gap(soft_bound + largest_marginal, largest_waiting)
        unassigned = [
            gap * _TIER[ticket.priority] + weights.waiting_per_minute * ticket.waiting_minutes
            for ticket in tickets
        ]

        node_count = ticket_count + len(technicians) + 1
        largest = max(unassigned + slot_costs + arc_maxima)
        # The unassigned offsets exceed every travel, load and bonus cost, negative ones included.
        if largest * 2 * node_count**2 >= _INT64_MAX:
            raise ValueError("weights and distances are too large for 64-bit costs; lower the weights")
        for block in blocks:
            block.costs = block.costs.astype(np.int64)
        return cls(
            ticket_count,
            node_count - 1,
            blocks,
            np.array(slot_technicians, dtype=np.int32),
            np.array(slot_costs, dtype=np.int64),
            np.array(unassigned, dtype=np.int64),
        )

    def optimal_arcs(self, candidates: int | None) -> list[tuple[int, int, int]]:
        """(ticket index, technician index, metres) of every ticket the optimal flow sends to a technician.

        With ``candidates``, the first flow offers each ticket only its cheapest arcs. Shortest-path
        distances in the flow's residual graph are then dual prices under which every arc of that
        graph has a non-negative reduced cost; when every arc left out has one too, the flow is optimal
        for the whole network (linear-programming duality; flows are integral), otherwise each ticket's
        ``candidates`` most negative left-out arcs join and the flow is solved again. Each round adds
        arcs and a round adds none only when the plan is proved optimal, so the loop ends.
        """
        offered = [self._cheapest(block, candidates) for block in self.blocks]
        while True:
            flow = self._solve(offered)
            if candidates is None:
                break
            prices = _residual_distances(flow, self.sink + 1)
            priced_out = False
            for block, mask in zip(self.blocks, offered):
                reduced = (
                    block.costs
                    + prices[block.tickets][:, None]
                    - prices[self.ticket_count + block.technicians][None, :]
                )
                reduced[mask] = 0
                negative = reduced < 0
                if negative.any():
                    mask |= negative & self._cheapest_part(reduced, candidates)
                    priced_out = True
            if not priced_out:
                break
        carried = np.flatnonzero(flow.carried[: flow.ticket_arc_count])
        return list(
            zip(
                flow.tails[carried].tolist(),
                (flow.heads[carried] - self.ticket_count).tolist(),
                flow.ticket_arc_distances_m[carried].tolist(),
            )
        )

    def assignment_arcs(self) -> list[tuple[int, int, int]] | None:
        """The optimum as a linear sum assignment of tickets to free slots, or None where that is not it.

        When every ticket can have a slot of its own, the optimum serves them all (it serves as many as
        possible, see the module's docstring), and the unassigned arcs drop out: what is left is a
        rectangular assignment of tickets to slots priced travel + marginal load, which scipy's
        shortest augmenting path solves several times faster than the flow. None when there are fewer
        slots than tickets, the dense matrix would be large, its sums could lose precision in doubles,
        or some ticket cannot have a slot after all (the flow then decides who goes without).
        """
        slot_count, ticket_count = len(self.slot_costs), self.ticket_count
        if slot_count < ticket_count or slot_count * ticket_count > _ASSIGNMENT_CELLS:
            return None
        largest = max(int(np.abs(block.costs).max()) for block in self.blocks) + int(self.slot_costs.max())
        if largest * ticket_count >= 2**52:
            return None
        # Imported here: scipy.optimize takes a third of a second to import, and only large plans need it.
        from scipy.optimize import linear_sum_assignment

        slot_owners = self.slot_technicians - ticket_count
        matrix = np.full((ticket_count, slot_count), np.inf)
        block_of = np.full(ticket_count, -1)
        for number, block in enumerate(self.blocks):
            slots = np.flatnonzero(np.isin(slot_owners, block.technicians))
            columns = np.searchsorted(block.technicians, slot_owners[slots])
            matrix[block.tickets[:, None], slots[None, :]] = block.costs[:, columns] + self.slot_costs[slots]
            block_of[block.tickets] = number
        if (block_of < 0).any():
            return None
        try:
            tickets, slots = linear_sum_assignment(matrix)
        except ValueError:  # "cost matrix is infeasible": not every ticket can have a slot at once
            return None
        chosen = []
        for ticket_index, technician_index in zip(tickets.tolist(), slot_owners[slots].tolist()):
            block = self.blocks[block_of[ticket_index]]
            row = int(np.searchsorted(block.tickets, ticket_index))
            column = int(np.searchsorted(block.technicians, technician_index))
            chosen.append((ticket_index, technician_index, int(block.distances_m[row, column])))
        return chosen

    @staticmethod
    def _cheapest(block: _Block, candidates: int | None) -> np.ndarray:
        """Which arcs of the block the first flow offers: all, or each ticket's cheapest few."""
        if candidates is None:
            return np.ones(block.costs.shape, dtype=bool)
        return _Network._cheapest_part(block.costs, candidates)

    @staticmethod
    def _cheapest_part(costs: np.ndarray, candidates: int) -> np.ndarray:
        rows, columns = costs.shape
        if candidates >= columns:
            return np.ones((rows, columns), dtype=bool)
        mask = np.zeros((rows, columns), dtype=bool)
        nearest = np.argpartition(costs, candidates - 1, axis=1)[:, :candidates]
        mask[np.arange(rows)[:, None], nearest] = True
        return mask

    def _solve(self, offered: list[np.ndarray]) -> _Flow:
        tails, heads, costs, distances = [], [], [], []
        for block, mask in zip(self.blocks, offered):
            rows, columns = np.nonzero(mask)
            tails.append(block.tickets[rows])
            heads.append(self.ticket_count + block.technicians[columns])
            costs.append(block.costs[rows, columns])
            distances.append(block.distances_m[rows, columns])
        ticket_tails = np.concatenate(tails) if tails else np.zeros(0, dtype=np.int64)
        by_ticket = np.argsort(ticket_tails, kind="stable")
        ticket_arc_count = len(by_ticket)
        all_tickets = np.arange(self.ticket_count)
        flow_tails = np.concatenate(
            [ticket_tails[by_ticket], self.slot_technicians, all_tickets]
        ).astype(np.int32)
        flow_heads = np.concatenate(
            [
                (np.concatenate(heads) if heads else np.zeros(0, dtype=np.int64))[by_ticket],
                np.full(len(self.slot_technicians), self.sink),
                np.full(self.ticket_count, self.sink),
            ]
        ).astype(np.int32)
        flow_costs = np.concatenate(
            [
                (np.concatenate(costs) if costs else np.zeros(0, dtype=np.int64))[by_ticket],
                self.slot_costs,
                self.unassigned_costs,
            ]
        ).astype(np.int64)

        solver = min_cost_flow.SimpleMinCostFlow()
        arcs = solver.add_arcs_with_capacity_and_unit_cost(
            flow_tails, flow_heads, np.ones(len(flow_tails), dtype=np.int64), flow_costs
        )
        supplies = np.zeros(self.sink + 1, dtype=np.int64)
        supplies[: self.ticket_count] = 1
        supplies[self.sink] = -self.ticket_count
        solver.set_nodes_supplies(np.arange(self.sink + 1, dtype=np.int32), supplies)
        status = solver.solve()
        if status != solver.OPTIMAL:
            raise RuntimeError(f"min-cost flow ended with status {status!r}")
        return _Flow(
            flow_tails,
            flow_heads,
            flow_costs,
            np.asarray(solver.flows(arcs)),
            ticket_arc_count,
            (np.concatenate(distances) if distances else np.zeros(0, dtype=np.int64))[by_ticket],
        )


def _residual_distances(flow: _Flow, node_count: int) -> np.ndarray:
    """Shortest distances from a virtual root joined to every node at no cost, in the residual graph.

    Every arc has capacity 1, so an arc is residual forward (unused, its cost) or backward (used,
    minus its cost). The flow is optimal, so the graph has no negative cycle and Bellman–Ford's
    relaxation settles within ``node_count`` rounds; each round relaxes every arc at once.
    """
    used = flow.carried.astype(bool)
    tails = np.where(used, flow.heads, flow.tails)
    heads = np.where(used, flow.tails, flow.heads)
    costs = np.where(used, -flow.costs, flow.costs)
    order = np.argsort(heads, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    targets, starts = np.unique(heads, return_index=True)
    distances = np.zeros(node_count, dtype=np.int64)
    for _ in range(node_count):
        reached = np.minimum.reduceat(distances[tails] + costs, starts)
        improved = reached < distances[targets]
        if not improved.any():
            return distances
        distances[targets[improved]] = reached[improved]
    raise RuntimeError("the residual graph of an optimal flow has a negative cycle")


def _metres_between(sites: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``_metres`` for every site (row) × position (column), rounded exactly as ``_metres`` rounds.

    The array arithmetic differs from ``math.dist`` and ``math.asin`` in the last bits only (well
    under a micrometre for chords up to 0.99 diameters), which changes the rounding only for a
    distance within a hair of a half metre or a nearly antipodal pair; those few are recomputed with
    ``_metres`` itself.
    """
    chords = np.sqrt(
        np.square(sites[:, 0, None] - positions[None, :, 0])
        + np.square(sites[:, 1, None] - positions[None, :, 1])
        + np.square(sites[:, 2, None] - positions[None, :, 2])
    )
    half_chords = np.minimum(1.0, chords / 2)
    exact = _EARTH_DIAMETER_M * np.arcsin(half_chords)
    metres = np.rint(exact).astype(np.int64)
    doubtful = (np.abs(exact - np.floor(exact) - 0.5) < _ROUNDING_DOUBT_M) | (half_chords > 0.99)
    for row, column in zip(*np.nonzero(doubtful)):
        metres[row, column] = _metres(tuple(sites[row]), tuple(positions[column]))
    return metres


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
