"""Day routes are planned in a separate process, so a plan never stalls the server's other requests."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

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


_SERVER_THAT_DIES = """
import asyncio, pathlib, sys, time
from dispatch import day_routes
from tests.integration.test_route_planner import NOW, _day
asyncio.run(day_routes._planned_day(*_day(1), NOW))
pathlib.Path(sys.argv[1]).write_text(" ".join(str(pid) for pid in day_routes._planner._processes))
time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def test_the_planner_process_ends_when_its_server_is_killed(tmp_path: Path) -> None:
    # given a server process that has planned a day, so its planner process is up
    told = tmp_path / "planner"
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVER_THAT_DIES, str(told), stdout=asyncio.subprocess.DEVNULL, cwd=Path(__file__).parents[2]
    )
    deadline = time.monotonic() + 120
    while not told.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    planners = [int(pid) for pid in told.read_text().split()]
    assert len(planners) == 1 and _running(planners[0])
    # when the server is killed, with no chance to stop its planner
    server.kill()
    await server.wait()
    # then the planner ends on its own within a few seconds
    deadline = time.monotonic() + 10
    while _running(planners[0]) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    try:
        assert not _running(planners[0])
    finally:
        if _running(planners[0]):
            os.kill(planners[0], signal.SIGKILL)


async def test_a_day_is_still_planned_after_the_planner_process_died() -> None:
    # given a planner process that has planned and then died
    await day_routes._planned_day(*_day(1), NOW + 2)
    assert day_routes._planner is not None
    (planner,) = day_routes._planner._processes
    os.kill(planner, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _running(planner) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    # when the next day is planned, and the one after
    visits, technicians = _day(3)
    first = await day_routes._planned_day(visits, technicians, NOW + 3)
    second = await day_routes._planned_day(visits, technicians, NOW + 4)
    # then both are planned, by a new planner process
    for plan in (first, second):
        assert {stop.ticket_id for route in plan.routes for stop in route.stops} == {visit.ticket_id for visit in visits}
    assert planner not in day_routes._planner._processes
