"""A technician's day as a route: plain visits and technicians in, ordered and timed routes out.

The model is OR-Tools' vehicle routing (``pywrapcp``), shaped as its samples are: data → index manager →
routing model → transit matrices → dimensions and constraints → search parameters → solve → extract.

- Every technician is a vehicle that starts where they are now (or at the visit they are on) and ends
  wherever their last visit is (a shared end node, free to reach).
- Travel: haversine metres between coordinates (``dispatch.solver.metres_matrix``) at ``speed_m_per_minute``,
  rounded up to whole minutes. The arc cost is the metres travelled.
- Time, in minutes of the planning day: a visit starts inside its window (the owner's availability) and
  lasts its category's visit minutes (``VISIT_MINUTES``); each technician works inside their shift and
  takes their breaks (OR-Tools break intervals: never during a visit).
- Skills: a visit can only go to a technician with its category's skill.
- SLA: each visit's deadline (on site) is a soft upper bound on its start, priced per minute late by
  priority, so a plan that cannot keep every promise still plans every visit and says who is late.
- A visit can be left out at a price per priority (URGENT highest); a left-out visit is reported with
  the reason found for it.
- Under way: a technician's started visit (on site) and next visit (en route) are fixed at the head of
  their route, in that order, so an urgent ticket inserted into a running plan never reshuffles them.
- Pins: a dispatcher may pin a visit to a technician, and to a start minute; the plan keeps both, or
  leaves the visit out with PIN_NOT_POSSIBLE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from time import monotonic

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from dispatch.model import GeoPoint
from dispatch.solver import metres_matrix
from kernel.vocabulary import Category, Priority

__all__ = [
    "VISIT_MINUTES",
    "BreakRule",
    "DayPlan",
    "PlannedBreak",
    "PlannedStop",
    "RouteSettings",
    "StopReason",
    "StopReasonCode",
    "TechnicianDay",
    "TechnicianRoute",
    "UnplannedCode",
    "UnplannedVisit",
    "VisitDemand",
    "VisitPin",
    "Window",
    "plan_day",
    "visit_minutes",
]

# Minutes on site by trade (a typical repair, not the worst case): a lift or an air conditioner takes
# longest, a lock the least.
VISIT_MINUTES: Mapping[str, int] = {
    Category.PLUMBING: 40,
    Category.ELECTRICAL: 35,
    Category.HVAC: 50,
    Category.ELEVATOR: 60,
    Category.FIRE_SAFETY: 45,
    Category.LOCKSMITH: 20,
    Category.CLEANING: 30,
    Category.APPLIANCE: 40,
    Category.GENERAL: 30,
}
_DAY_END = 48 * 60
# What one large-neighbourhood step may take (see `_Model.solve`).
_STEP_MILLISECONDS = 300
# Enough to restore a day's routes on a loaded machine (it takes about 0.1 s on an idle one).
_RESTORE_SECONDS = 5
# The local search operators of a large day: each puts a left-out visit into a route (see `_Model.solve`).
_INSERTING_OPERATORS = (
    "use_make_active",
    "use_relocate_and_make_active",
    "use_swap_active",
    "use_exchange_and_make_active",
    "use_extended_swap_active",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
)
# Up to this many visits a plan stops at the first local optimum (see ``_Model.solve``).
_SMALL_DAY = 12  # plans may run past midnight for a night shift, never past the next day


def visit_minutes(category: str) -> int:
    """Minutes on site for a visit of this category (30 for a category without its own figure)."""
    return VISIT_MINUTES.get(category, 30)


@dataclass(frozen=True, slots=True)
class Window:
    """From ``start`` to ``end``, minutes of the planning day, both included."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True, slots=True)
class BreakRule:
    """A break of ``minutes`` that starts somewhere in ``starts_within`` (e.g. lunch 11:30–13:30)."""

    starts_within: Window
    minutes: int


@dataclass(frozen=True, slots=True)
class VisitPin:
    """A dispatcher's pin: this technician, and this start minute when given."""

    technician_id: int
    start: int | None = None


@dataclass(frozen=True, slots=True)
class VisitDemand:
    ticket_id: int
    skill: str
    location: GeoPoint
    priority: Priority
    minutes: int  # on site; for a started visit, the minutes still to go
    window: Window | None = None  # the owner's availability; None: any time in the shift
    due: int | None = None  # the SLA's on-site deadline, minute of the day
    pin: VisitPin | None = None
    assignee: int | None = None  # already dispatched to this technician: only the order is planned


@dataclass(frozen=True, slots=True)
class TechnicianDay:
    technician_id: int
    skills: frozenset[str]
    location: GeoPoint  # where they are now
    shift: Window
    breaks: tuple[BreakRule, ...] = ()
    started_visit: int | None = None  # ticket on site now: the route starts there
    next_visit: int | None = None  # ticket they are on their way to: the route's next stop


@dataclass(frozen=True, slots=True)
class RouteSettings:
    speed_m_per_minute: int = 300  # 18 km/h: an e-bike in city traffic
    # Price of leaving a visit out, by priority, in metres of travel: far above any day's travel, and
    # tenfold per step, so that a more urgent visit is never left out to keep less urgent ones.
    drop_price: Mapping[Priority, int] = field(
        default_factory=lambda: {
            Priority.URGENT: 10_000_000_000,
            Priority.HIGH: 1_000_000_000,
            Priority.NORMAL: 100_000_000,
            Priority.LOW: 10_000_000,
        }
    )
    pin_drop_price: int = 100_000_000_000
    # Price per minute past the SLA deadline, in metres: an hour late on an URGENT visit outweighs
    # 120 km of travel.
    late_price_per_minute: Mapping[Priority, int] = field(
        default_factory=lambda: {
            Priority.URGENT: 2_000,
            Priority.HIGH: 500,
            Priority.NORMAL: 100,
            Priority.LOW: 20,
        }
    )
    time_limit_seconds: float = 5.0  # the whole plan, building the model included
    # Local search (guided) after the first solution; off, the plan is OR-Tools' cheapest-arc
    # construction alone (the benchmark's greedy baseline).
    improve: bool = True


class StopReasonCode(str, Enum):
    UNDER_WAY = "UNDER_WAY"  # the technician is on site now
    NEXT = "NEXT"  # the technician is on the way
    PINNED = "PINNED"  # a dispatcher pinned it
    ASSIGNED = "ASSIGNED"  # already dispatched to this technician
    SKILL = "SKILL"  # the technician has the trade's skill
    OWNER_WINDOW = "OWNER_WINDOW"  # starts inside the owner's availability
    WAITS_FOR_OWNER = "WAITS_FOR_OWNER"  # arrives early and waits for the window to open
    SLA_ON_TIME = "SLA_ON_TIME"  # starts before the SLA deadline (minutes to spare)
    SLA_LATE = "SLA_LATE"  # starts after the SLA deadline (minutes late)


@dataclass(frozen=True, slots=True)
class StopReason:
    code: StopReasonCode
    minutes: int | None = None
    skill: str | None = None


class UnplannedCode(str, Enum):
    NO_TECHNICIAN_WITH_SKILL = "NO_TECHNICIAN_WITH_SKILL"
    PIN_NOT_POSSIBLE = "PIN_NOT_POSSIBLE"
    NO_TIME = "NO_TIME"  # no technician with the skill has time for it inside its window and their shift
    OWNER_NOT_AVAILABLE = "OWNER_NOT_AVAILABLE"  # the owner's window is over, or opens after the planning day


@dataclass(frozen=True, slots=True)
class PlannedStop:
    ticket_id: int
    arrives: int  # minute of the day
    starts: int
    ends: int
    travel_m: int
    travel_minutes: int
    reasons: tuple[StopReason, ...]


@dataclass(frozen=True, slots=True)
class PlannedBreak:
    starts: int
    minutes: int


@dataclass(frozen=True, slots=True)
class TechnicianRoute:
    technician_id: int
    stops: tuple[PlannedStop, ...]
    breaks: tuple[PlannedBreak, ...]
    travel_m: int


@dataclass(frozen=True, slots=True)
class UnplannedVisit:
    ticket_id: int
    code: UnplannedCode


@dataclass(frozen=True, slots=True)
class DayPlan:
    """Routes in technician-id order (every technician, even with no stop) and the visits left out."""

    routes: tuple[TechnicianRoute, ...]
    unplanned: tuple[UnplannedVisit, ...]
    cost: int  # the model's objective: metres + lateness prices + prices of visits left out

    def route_of(self, technician_id: int) -> TechnicianRoute | None:
        return next((route for route in self.routes if route.technician_id == technician_id), None)


def plan_day(
    visits: Sequence[VisitDemand],
    technicians: Sequence[TechnicianDay],
    *,
    now: int,
    settings: RouteSettings = RouteSettings(),
) -> DayPlan:
    """Plan every technician's remaining day from minute ``now`` on, within ``settings.time_limit_seconds``."""
    started = monotonic()
    visits = sorted(visits, key=lambda visit: visit.ticket_id)
    technicians = sorted(technicians, key=lambda technician: technician.technician_id)
    _validate(visits, technicians)
    by_ticket = {visit.ticket_id: visit for visit in visits}
    vehicle_of = {technician.technician_id: v for v, technician in enumerate(technicians)}
    committed = {
        ticket_id: v
        for v, technician in enumerate(technicians)
        for ticket_id in (technician.started_visit, technician.next_visit)
        if ticket_id is not None
    }

    unplanned: list[UnplannedVisit] = []
    planned: list[VisitDemand] = []
    for visit in visits:
        skilled = [t for t in technicians if visit.skill in t.skills]
        if visit.ticket_id in committed:
            planned.append(visit)
        elif visit.pin is not None and (
            visit.pin.technician_id not in vehicle_of
            or visit.skill not in technicians[vehicle_of[visit.pin.technician_id]].skills
        ):
            unplanned.append(UnplannedVisit(visit.ticket_id, UnplannedCode.PIN_NOT_POSSIBLE))
        elif not skilled:
            unplanned.append(UnplannedVisit(visit.ticket_id, UnplannedCode.NO_TECHNICIAN_WITH_SKILL))
        elif visit.pin is None and visit.window is not None and not _window_is_open_today(visit.window, now):
            unplanned.append(UnplannedVisit(visit.ticket_id, UnplannedCode.OWNER_NOT_AVAILABLE))
        else:
            planned.append(visit)
    if not technicians:
        return DayPlan((), tuple(sorted(unplanned, key=lambda u: u.ticket_id)), 0)

    model = _Model(planned, technicians, committed, by_ticket, now, settings)
    solution = model.solve(started)
    routes, left_out = model.extract(solution)
    for visit in left_out:
        code = UnplannedCode.PIN_NOT_POSSIBLE if visit.pin is not None else UnplannedCode.NO_TIME
        unplanned.append(UnplannedVisit(visit.ticket_id, code))
    return DayPlan(tuple(routes), tuple(sorted(unplanned, key=lambda u: u.ticket_id)), solution.ObjectiveValue())


def _window_is_open_today(window: Window, now: int) -> bool:
    return window.end >= now and window.start <= _DAY_END


_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True, slots=True)
class _RouteEnd:
    """Where a route being built stands: its last node, when that visit ends, the breaks still to take, the
    breaks taken (and, for its last visit, when the technician arrived there)."""

    node: int
    clock: int
    breaks: tuple[BreakRule, ...]
    taken: tuple[PlannedBreak, ...] = ()
    arrived: int = 0


class _Model:
    """The routing model of one plan: nodes are the visits, then each technician's start, then the end."""

    def __init__(
        self,
        visits: list[VisitDemand],
        technicians: list[TechnicianDay],
        committed: dict[int, int],
        by_ticket: dict[int, VisitDemand],
        now: int,
        settings: RouteSettings,
    ) -> None:
        self.visits, self.technicians, self.now, self.settings = visits, technicians, now, settings
        visit_count, vehicle_count = len(visits), len(technicians)
        self.visit_count = visit_count
        self.end_node = visit_count + vehicle_count
        node_of = {visit.ticket_id: node for node, visit in enumerate(visits)}
        self.node_of = node_of
        # A technician on site starts from the visit's own location.
        starts = [
            by_ticket[t.started_visit].location if t.started_visit is not None else t.location
            for t in technicians
        ]
        places = [visit.location for visit in visits] + starts
        metres = metres_matrix(places, places)
        minutes = -(-metres // settings.speed_m_per_minute)  # rounded up
        size = len(places) + 1
        service = [visit.minutes for visit in visits] + [0] * (vehicle_count + 1)
        self.metres = [row + [0] for row in metres.tolist()] + [[0] * size]
        self.travel_minutes = [row + [0] for row in minutes.tolist()] + [[0] * size]
        time_matrix = [
            [service[i] + self.travel_minutes[i][j] if j != i else 0 for j in range(size)] for i in range(size)
        ]
        # Nothing travels back to a start, and the end node is free to reach from anywhere.
        for i in range(size):
            for j in range(visit_count, visit_count + vehicle_count):
                time_matrix[i][j] = 0

        self.manager = pywrapcp.RoutingIndexManager(
            size, vehicle_count, list(range(visit_count, visit_count + vehicle_count)), [self.end_node] * vehicle_count
        )
        self.routing = routing = pywrapcp.RoutingModel(self.manager)
        distance = routing.RegisterTransitMatrix(self.metres)
        routing.SetArcCostEvaluatorOfAllVehicles(distance)
        time_callback = routing.RegisterTransitMatrix(time_matrix)
        routing.AddDimension(time_callback, _DAY_END, _DAY_END, False, "time")
        self.time = time = routing.GetDimensionOrDie("time")

        for v, technician in enumerate(technicians):
            begins = max(now, technician.shift.start)
            time.CumulVar(routing.Start(v)).SetRange(begins, max(begins, technician.shift.end))
            # Work already under way is finished even past the end of the shift.
            under_way = technician.started_visit is not None or technician.next_visit is not None
            time.CumulVar(routing.End(v)).SetMax(_DAY_END if under_way else max(begins, technician.shift.end))
            routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(v)))
        solver = routing.solver()
        visit_transits = [0] * routing.Size()
        for node, visit in enumerate(visits):
            visit_transits[self.manager.NodeToIndex(node)] = visit.minutes
        # Each technician's breaks still to take, by vehicle: read by the model and by every route the
        # construction tries.
        self.breaks_ahead = [self._breaks_ahead(technician) for technician in technicians]
        for v, technician in enumerate(technicians):
            intervals = [
                solver.FixedDurationIntervalVar(
                    rule.starts_within.start,
                    rule.starts_within.end,
                    rule.minutes,
                    False,
                    f"break {technician.technician_id} {number}",
                )
                for number, rule in enumerate(self.breaks_ahead[v])
            ]
            if intervals:
                time.SetBreakIntervalsOfVehicle(intervals, v, visit_transits)

        vehicle_of = {technician.technician_id: v for v, technician in enumerate(technicians)}
        # Shift ends by vehicle + 1 (a left-out visit's vehicle is -1), when some route's end is relaxed.
        overtime = (
            [_DAY_END, *(technician.shift.end for technician in technicians)]
            if any(t.started_visit is not None or t.next_visit is not None for t in technicians)
            else []
        )
        for node, visit in enumerate(visits):
            index = self.manager.NodeToIndex(node)
            cumul = time.CumulVar(index)
            # Nothing in the objective prices time: without this a visit may start at the end of its window.
            routing.AddVariableMinimizedByFinalizer(cumul)
            if visit.ticket_id in committed:
                routing.VehicleVar(index).SetValue(committed[visit.ticket_id])
                continue
            allowed = [v for v, t in enumerate(technicians) if visit.skill in t.skills]
            price = settings.drop_price[visit.priority]
            if visit.assignee is not None and visit.assignee in vehicle_of and visit.pin is None:
                allowed = [vehicle_of[visit.assignee]]
            if visit.pin is not None:
                allowed = [vehicle_of[visit.pin.technician_id]]
                price = settings.pin_drop_price
                if visit.pin.start is not None:
                    cumul.SetRange(visit.pin.start, visit.pin.start)
            routing.VehicleVar(index).SetValues([-1, *allowed])
            routing.AddDisjunction([index], price)
            if overtime:
                # Work under way may run past a shift's end; a new visit may not.
                shift_end = solver.Element(overtime, (routing.VehicleVar(index) + 1).Var())
                solver.Add(cumul + visit.minutes <= shift_end)
            if visit.window is not None and visit.pin is None:
                cumul.SetRange(max(visit.window.start, 0), min(visit.window.end, _DAY_END))
            if visit.due is not None:
                time.SetCumulVarSoftUpperBound(index, max(visit.due, 0), settings.late_price_per_minute[visit.priority])
        for v, technician in enumerate(technicians):
            # The visit they are on comes first and starts now; the one they are heading to comes next.
            head = routing.Start(v)
            for ticket_id in (technician.started_visit, technician.next_visit):
                if ticket_id is None:
                    continue
                index = self.manager.NodeToIndex(node_of[ticket_id])
                routing.NextVar(head).SetValue(index)
                head = index
            if technician.started_visit is not None:
                started = by_ticket[technician.started_visit]
                time.CumulVar(self.manager.NodeToIndex(node_of[started.ticket_id])).SetRange(
                    max(now, technician.shift.start), max(now, technician.shift.start)
                )
                if started.due is not None:
                    time.SetCumulVarSoftUpperBound(
                        self.manager.NodeToIndex(node_of[started.ticket_id]),
                        max(started.due, 0),
                        settings.late_price_per_minute[started.priority],
                    )
            if technician.next_visit is not None:
                heading = by_ticket[technician.next_visit]
                if heading.due is not None:
                    time.SetCumulVarSoftUpperBound(
                        self.manager.NodeToIndex(node_of[heading.ticket_id]),
                        max(heading.due, 0),
                        settings.late_price_per_minute[heading.priority],
                    )

    def solve(self, started: float) -> pywrapcp.Assignment:
        """Greedy routes first (``_greedy_routes``), then local search from them until the time limit, counted
        from ``started`` (a ``time.monotonic()``), so that building the model is inside it.

        A large day searches with guided local search and only the operators that put left-out visits into
        routes (the visits left out are priced far above any travel, so they decide the cost). With every
        operator, a relocation pass over 300 visits, each move checked against the breaks, took most of a
        minute of tiny travel gains before the insertions that matter were ever tried: 9 seconds barely moved
        the cost, and whether 60 did depended on the machine's load (see ``benchmarks/routing.py``).
        """
        routing = self.routing
        parameters = pywrapcp.DefaultRoutingSearchParameters()
        parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
        # Each large-neighbourhood step, and the restore of a solution (its breaks and times scheduled), is
        # bound by this limit: OR-Tools' 100 ms default failed the restore of the greedy routes now and then
        # on a loaded machine, and seconds let one step overrun the plan's time limit by as much: the restore
        # has a limit of its own when it is retried alone.
        parameters.lns_time_limit.FromMilliseconds(_STEP_MILLISECONDS)
        parameters.time_limit.FromMilliseconds(max(100, round(self.settings.time_limit_seconds * 1000)))
        if self.settings.improve and self.visit_count > _SMALL_DAY:
            parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
            operators = parameters.local_search_operators
            for operator in operators.DESCRIPTOR.fields:
                setattr(operators, operator.name, BOOL_FALSE)
            for name in _INSERTING_OPERATORS:
                setattr(operators, name, BOOL_TRUE)
        elif self.settings.improve:
            # A small day: local search down to a local optimum, which ends as soon as it is reached,
            # instead of guided search, which always spends the whole time limit.
            parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        else:
            parameters.solution_limit = 1
        routing.CloseModelWithParameters(parameters)
        greedy = routing.ReadAssignmentFromRoutes(self._greedy_routes(), True)
        left = self.settings.time_limit_seconds - (monotonic() - started)
        solution = None
        if greedy is not None and left > 0 and self.settings.improve:
            parameters.time_limit.FromMilliseconds(max(100, round(left * 1000)))
            solution = routing.SolveFromAssignmentWithParameters(greedy, parameters)
        if solution is None and greedy is not None:
            # No search wanted, no time left to search, or the search had not even the time to restore the
            # construction (on a loaded machine): restore it alone. Restored under the step limit instead,
            # the construction failed now and then on a loaded machine and OR-Tools answered its own
            # cheapest-arc routes (223 of 300 visits against 294), which the benchmark took for the baseline.
            parameters.solution_limit = 1
            parameters.time_limit.FromSeconds(_RESTORE_SECONDS)
            parameters.lns_time_limit.FromSeconds(_RESTORE_SECONDS)
            solution = routing.SolveFromAssignmentWithParameters(greedy, parameters)
        if solution is None:
            # OR-Tools' own construction: slow on large days with skills and breaks, but always there.
            solution = routing.SolveWithParameters(parameters)
        if solution is None:
            # Only the committed visits are hard; a shift too short even for them leaves no solution.
            raise ValueError("no plan keeps every visit under way inside its technician's shift")
        return solution

    def _breaks_ahead(self, technician: TechnicianDay) -> tuple[BreakRule, ...]:
        """The technician's breaks less those already over, each to start no earlier than the technician is
        free: now, or once the visit under way is finished. A break whose window passes during that visit
        is taken as soon as it ends; kept to its window, it could go neither before the visit (it started
        now) nor after it, and no plan at all was possible (the board's routes failed at lunchtime)."""
        free = max(self.now, technician.shift.start)
        if technician.started_visit is not None:
            free += self.visits[self.node_of[technician.started_visit]].minutes
        return tuple(
            BreakRule(Window(max(rule.starts_within.start, free), max(rule.starts_within.end, free)), rule.minutes)
            for rule in technician.breaks
            if rule.starts_within.end + rule.minutes > self.now
        )

    def _greedy_routes(self) -> list[list[int]]:
        """Routes built by cheapest insertion, most urgent and earliest due first, then room made for each
        visit left out by moving one visit of a route to another route.

        OR-Tools' first-solution heuristics took tens of seconds on 30 technicians × 300 visits with
        skills, windows and breaks; this takes about a second and gives the local search a start it
        can only improve. Each route is simulated as OR-Tools schedules it: wait for a window to open,
        a break between visits (never during one), nothing past the shift.
        """
        routes: list[list[int]] = []
        ends: list[_RouteEnd] = []
        placed: set[int] = set()
        for technician in self.technicians:
            begins = max(self.now, technician.shift.start)
            end = _RouteEnd(self.visit_count + len(routes), begins, self.breaks_ahead[len(routes)])
            route: list[int] = []
            for ticket_id in (technician.started_visit, technician.next_visit):
                if ticket_id is None:
                    continue
                node = self.node_of[ticket_id]
                end = self._append(end, node, technician, committed=True) or end
                route.append(self.manager.NodeToIndex(node))
                placed.add(node)
            routes.append(route)
            ends.append(end)

        # Cheapest insertion, most urgent and earliest due first: each visit goes where it adds the
        # least travel and lateness, at any position after the visits under way, if the route stays
        # feasible there; a visit that fits nowhere is left out.
        vehicle_of = {t.technician_id: v for v, t in enumerate(self.technicians)}
        heads = [len(route) for route in routes]
        nodes = [[self.manager.IndexToNode(index) for index in route] for route in routes]
        # Where each route stands after each of its first k visits, and its price so far: a trial
        # insertion at position k is simulated from there, not from the route's start.
        states = [self._states(v, nodes[v]) for v in range(len(routes))]

        def urgency(node: int) -> tuple[int, int, int]:
            visit = self.visits[node]
            due = visit.due if visit.due is not None else _DAY_END
            closes = visit.window.end if visit.window is not None else _DAY_END
            return (_RANK[visit.priority], min(due, closes), node)

        def candidates(node: int) -> list[int]:
            visit = self.visits[node]
            if visit.pin is not None:
                return [vehicle_of[visit.pin.technician_id]]
            if visit.assignee in vehicle_of:
                return [vehicle_of[visit.assignee]]  # type: ignore[index]
            return [v for v, t in enumerate(self.technicians) if visit.skill in t.skills]

        left_out: list[int] = []
        for node in sorted((n for n in range(self.visit_count) if n not in placed), key=urgency):
            best: tuple[int, int, int] | None = None  # added price, vehicle, position
            for v in candidates(node):
                found = self._cheapest_insertion(v, nodes[v], states[v], node, heads[v])
                if found is not None and (best is None or found[0] < best[0]):
                    best = (found[0], v, found[1])
            if best is None:
                left_out.append(node)
                continue
            _, v, position = best
            nodes[v].insert(position, node)
            states[v] = self._states(v, nodes[v])

        # Making room: a visit that fits nowhere may fit where another one was, if that one fits elsewhere.
        for node in left_out:
            move: tuple[int, int, list[int], int, int] | None = None  # added price, vehicle, new route, other, position
            for v in candidates(node):
                route_states = states[v]
                if route_states is None:
                    continue
                for k in range(heads[v], len(nodes[v])):
                    moved = nodes[v][k]
                    if self.visits[moved].pin is not None or self.visits[moved].assignee is not None:
                        continue  # a pinned or assigned visit stays with its technician
                    without = nodes[v][:k] + nodes[v][k + 1 :]
                    shorter = self._states(v, without)
                    found = self._cheapest_insertion(v, without, shorter, node, heads[v])
                    if found is None:
                        continue
                    added_here = shorter[-1][1] + found[0] - route_states[-1][1]  # type: ignore[index]
                    for other in candidates(moved):
                        if other == v or (move is not None and added_here >= move[0]):
                            continue
                        elsewhere = self._cheapest_insertion(other, nodes[other], states[other], moved, heads[other])
                        if elsewhere is not None and (move is None or added_here + elsewhere[0] < move[0]):
                            route = without[: found[1]] + [node] + without[found[1] :]
                            move = (added_here + elsewhere[0], v, route, other, elsewhere[1])
            if move is not None:
                _, v, route, other, position = move
                moved = next(n for n in nodes[v] if n not in route)
                nodes[v] = route
                nodes[other].insert(position, moved)
                states[v], states[other] = self._states(v, nodes[v]), self._states(other, nodes[other])
        return [[self.manager.NodeToIndex(node) for node in route] for route in nodes]

    def _cheapest_insertion(
        self, vehicle: int, route: list[int], states: list[tuple[_RouteEnd, int]] | None, node: int, head: int
    ) -> tuple[int, int] | None:
        """(price added, position) of the cheapest feasible place for ``node`` in the route after its first
        ``head`` visits (the visits under way), or None; ``states`` are the route's `_states`."""
        if states is None:
            return None
        metres = self.metres
        price_now = states[-1][1]
        best: tuple[int, int] | None = None
        for position in range(head, len(route) + 1):
            before, price_before = states[position]
            # The metres added are a lower bound of the price added (lateness only grows).
            added_m = metres[before.node][node]
            if position < len(route):
                following = route[position]
                added_m += metres[node][following] - metres[before.node][following]
            if best is not None and added_m >= best[0]:
                continue
            extended = self._extend(vehicle, before, price_before, [node, *route[position:]])
            if extended is not None and (best is None or extended[1] - price_now < best[0]):
                best = (extended[1] - price_now, position)
        return best

    def _states(self, vehicle: int, route: list[int]) -> list[tuple[_RouteEnd, int]] | None:
        """The route's end and price after each of its first k visits (k = 0 … all), or None if infeasible."""
        technician = self.technicians[vehicle]
        end = _RouteEnd(self.visit_count + vehicle, max(self.now, technician.shift.start), self.breaks_ahead[vehicle])
        states = [(end, 0)]
        for node in route:
            extended = self._extend(vehicle, states[-1][0], states[-1][1], [node])
            if extended is None:
                return None
            states.append(extended)
        return states

    def _extend(self, vehicle: int, end: _RouteEnd, price: int, route: list[int]) -> tuple[_RouteEnd, int] | None:
        """A route's end and price (metres plus lateness prices) after these visits, or None if infeasible."""
        technician = self.technicians[vehicle]
        under_way = (technician.started_visit, technician.next_visit)
        for node in route:
            visit = self.visits[node]
            after = self._append(end, node, technician, committed=visit.ticket_id in under_way)
            if after is None:
                return None
            price += self.metres[end.node][node]
            starts = after.clock - visit.minutes
            if visit.due is not None and starts > visit.due:
                price += (starts - visit.due) * self.settings.late_price_per_minute[visit.priority]
            end = after
        return end, price

    def _append(self, end: _RouteEnd, node: int, technician: TechnicianDay, *, committed: bool) -> _RouteEnd | None:
        """The route's end after one more visit, or None when the visit cannot come next."""
        visit = self.visits[node]
        clock, breaks = end.clock, list(end.breaks)
        travel = self.travel_minutes[end.node][node]
        earliest = visit.window.start if visit.window is not None and not committed and visit.pin is None else 0
        if visit.pin is not None and visit.pin.start is not None and not committed:
            earliest = visit.pin.start
        starts = max(clock + travel, earliest)
        # A break is put off while visits still end before its latest start (idle time waiting for a break
        # to open is time no visit gets); one this visit would push past that is taken first, between visits.
        taken = list(end.taken)
        for rule in list(breaks):
            opens, closes = rule.starts_within.start, rule.starts_within.end
            if starts + visit.minutes > closes:
                at = max(clock, opens)
                if at > closes:
                    return None
                taken.append(PlannedBreak(at, rule.minutes))
                clock = at + rule.minutes
                starts = max(clock + travel, earliest)
                breaks.remove(rule)
        after = _RouteEnd(node, starts + visit.minutes, tuple(breaks), tuple(taken), clock + travel)
        if committed:
            return after
        latest = visit.window.end if visit.window is not None and visit.pin is None else _DAY_END
        if visit.pin is not None and visit.pin.start is not None:
            latest = visit.pin.start
        if starts > latest or starts + visit.minutes > technician.shift.end:
            return None
        # A break that could no longer be taken after this visit makes the visit impossible here.
        for rule in breaks:
            if starts + visit.minutes > rule.starts_within.end:
                return None
        return after

    def extract(self, solution: pywrapcp.Assignment) -> tuple[list[TechnicianRoute], list[VisitDemand]]:
        """The solution's routes, each visit at the earliest start its order allows.

        The solver only fixes the order: nothing in the objective prices time, so its own start times may be
        anywhere inside the windows (its scheduling step picks the latest). Each route is timed again as the
        construction times one (`_append`); a route that timing cannot keep keeps the solver's times.
        """
        routing, manager, time = self.routing, self.manager, self.time
        routes: list[TechnicianRoute] = []
        served: set[int] = set()
        breaks_by_technician: dict[int, list[PlannedBreak]] = {}
        intervals = solution.IntervalVarContainer()
        for position in range(intervals.Size()):
            element = intervals.Element(position)
            if element.PerformedValue():
                technician_id = int(element.Var().Name().split()[1])  # named "break <technician> <n>"
                breaks_by_technician.setdefault(technician_id, []).append(
                    PlannedBreak(element.StartValue(), element.DurationValue())
                )
        for v, technician in enumerate(self.technicians):
            nodes: list[int] = []
            solver_times: list[tuple[int, int]] = []  # (arrives, starts)
            breaks = sorted(breaks_by_technician.get(technician.technician_id, []), key=lambda b: b.starts)
            index = routing.Start(v)
            previous_node, previous_end = manager.IndexToNode(index), solution.Min(time.CumulVar(index))
            index = solution.Value(routing.NextVar(index))
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                starts = solution.Min(time.CumulVar(index))
                # A break taken on the way delays the arrival by its length.
                paused = sum(b.minutes for b in breaks if previous_end <= b.starts < starts)
                solver_times.append((min(starts, previous_end + self.travel_minutes[previous_node][node] + paused), starts))
                nodes.append(node)
                previous_node, previous_end = node, starts + self.visits[node].minutes
                index = solution.Value(routing.NextVar(index))
            served.update(nodes)
            timed = self._earliest(v, nodes)
            if timed is not None:
                times, breaks = timed
            else:
                times = solver_times
            stops: list[PlannedStop] = []
            previous_node = self.visit_count + v
            for node, (arrives, starts) in zip(nodes, times, strict=True):
                visit = self.visits[node]
                stops.append(
                    PlannedStop(
                        visit.ticket_id,
                        arrives,
                        starts,
                        starts + visit.minutes,
                        self.metres[previous_node][node],
                        self.travel_minutes[previous_node][node],
                        self._reasons(technician, visit, arrives, starts),
                    )
                )
                previous_node = node
            travelled = sum(stop.travel_m for stop in stops)
            routes.append(TechnicianRoute(technician.technician_id, tuple(stops), tuple(breaks), travelled))
        left_out = [visit for node, visit in enumerate(self.visits) if node not in served]
        return routes, left_out

    def _earliest(self, vehicle: int, nodes: list[int]) -> tuple[list[tuple[int, int]], list[PlannedBreak]] | None:
        """(arrives, starts) of each visit in this order and the breaks, as early as they go; None when the
        construction's timing finds the order infeasible (it is stricter than the solver about breaks)."""
        technician = self.technicians[vehicle]
        end = _RouteEnd(self.visit_count + vehicle, max(self.now, technician.shift.start), self.breaks_ahead[vehicle])
        under_way = {technician.started_visit, technician.next_visit}
        times: list[tuple[int, int]] = []
        for node in nodes:
            after = self._append(end, node, technician, committed=self.visits[node].ticket_id in under_way)
            if after is None:
                return None
            times.append((after.arrived, after.clock - self.visits[node].minutes))
            end = after
        # Breaks still due after the last visit are taken as soon as they may be.
        later = [PlannedBreak(max(end.clock, rule.starts_within.start), rule.minutes) for rule in end.breaks]
        return times, [*end.taken, *later]

    def _reasons(
        self, technician: TechnicianDay, visit: VisitDemand, arrives: int, starts: int
    ) -> tuple[StopReason, ...]:
        reasons: list[StopReason] = []
        if visit.ticket_id == technician.started_visit:
            reasons.append(StopReason(StopReasonCode.UNDER_WAY))
        elif visit.ticket_id == technician.next_visit:
            reasons.append(StopReason(StopReasonCode.NEXT))
        elif visit.pin is not None:
            reasons.append(StopReason(StopReasonCode.PINNED))
        elif visit.assignee is not None:
            reasons.append(StopReason(StopReasonCode.ASSIGNED))
        reasons.append(StopReason(StopReasonCode.SKILL, skill=visit.skill))
        if visit.window is not None:
            reasons.append(StopReason(StopReasonCode.OWNER_WINDOW))
            if starts > arrives:
                reasons.append(StopReason(StopReasonCode.WAITS_FOR_OWNER, minutes=starts - arrives))
        if visit.due is not None:
            if starts <= visit.due:
                reasons.append(StopReason(StopReasonCode.SLA_ON_TIME, minutes=visit.due - starts))
            else:
                reasons.append(StopReason(StopReasonCode.SLA_LATE, minutes=starts - visit.due))
        return tuple(reasons)


def _validate(visits: Sequence[VisitDemand], technicians: Sequence[TechnicianDay]) -> None:
    ticket_ids = [visit.ticket_id for visit in visits]
    if len(set(ticket_ids)) != len(ticket_ids):
        raise ValueError("duplicate ticket_id in input")
    technician_ids = [technician.technician_id for technician in technicians]
    if len(set(technician_ids)) != len(technician_ids):
        raise ValueError("duplicate technician_id in input")
    for visit in visits:
        if visit.minutes < 0:
            raise ValueError(f"ticket {visit.ticket_id}: minutes must not be negative")
    known = set(ticket_ids)
    heads: set[int] = set()
    for technician in technicians:
        for ticket_id in (technician.started_visit, technician.next_visit):
            if ticket_id is None:
                continue
            if ticket_id not in known:
                raise ValueError(f"technician {technician.technician_id}: visit {ticket_id} is not in the plan")
            if ticket_id in heads:
                raise ValueError(f"ticket {ticket_id} is under way with two technicians")
            heads.add(ticket_id)
