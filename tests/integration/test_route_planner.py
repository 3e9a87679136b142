"""Day routes are planned in a separate process, so a plan never stalls the server's other requests."""

from __future__ import annotations

import asyncio
import time

from dispatch import day_routes
from dispatch.routing import TechnicianDay, VisitDemand, Window
from kernel.vocabulary import Priority
from tests.unit.dispatch.test_routing import BASE, north

NOW = 9 * 60


def _day(visit_count: int) -> tuple[list[VisitDemand], list[TechnicianDay]]:
    technicians = [
        TechnicianDay(number, frozenset({"PLUMBING"}), north(300 * number), Window(8 * 60, 18 * 60), (), None, None)
        for number in range(1, 4)
    ]
    visits = [
        VisitDemand(100 + number, "PLUMBING", north(150 * number), Priority.NORMAL, 30, None, None, None)
        for number in range(visit_count)
    ]
    return visits, technicians


async def test_the_event_loop_keeps_serving_while_a_day_is_planned() -> None:
    await day_routes._planned_day(*_day(1), NOW)  # the planner process is up before the clock starts
    visits, technicians = _day(30)
    ticks = 0
    planning = asyncio.ensure_future(day_routes._planned_day(visits, technicians, NOW))
    started = time.monotonic()
    while not planning.done():
        await asyncio.sleep(0.01)
        ticks += 1
    elapsed = time.monotonic() - started
    plan = planning.result()
    assert {stop.ticket_id for route in plan.routes for stop in route.stops} == {visit.ticket_id for visit in visits}
    # Planned in this process, the search would hold the GIL for its whole time limit (0.5 s here) and the
    # loop would wake once or twice; free, it wakes about every 10 ms.
    assert elapsed >= 0.4
    assert ticks >= 10


async def test_the_same_day_in_the_same_minute_is_planned_once() -> None:
    visits, technicians = _day(5)
    first = await day_routes._planned_day(visits, technicians, NOW + 1)
    assert await day_routes._planned_day(list(visits), list(technicians), NOW + 1) is first
    moved = [*visits[:-1], VisitDemand(999, "PLUMBING", BASE, Priority.URGENT, 30, None, None, None)]
    assert 999 in {stop.ticket_id for route in (await day_routes._planned_day(moved, technicians, NOW + 1)).routes for stop in route.stops}
