"""The equipment ledger, preventive maintenance opened by the worker and recorded on closing, and the
dispatch analytics."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from api.state import AppState
from api.workers import DispatchWorker
from db.models import Equipment, MaintenanceRecord, Ticket
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, report_trapped_in_lift, submit, transition
from tests.integration.world import World, error_codes, gql

CREATE = """
mutation ($i: CreateEquipmentInput!) {
  createEquipment(input: $i) { __typename ... on Equipment { id name nextDueOn } ... on Error { code field } }
}
"""
LEDGER = """
query ($p: ID!) { equipment(projectId: $p) { name kind lastMaintainedOn nextDueOn maintenanceHistory { performedOn notes ticketId technician { name } } } }
"""
ANALYTICS = """
query ($p: ID!, $from: DateTime, $to: DateTime) {
  dispatchAnalytics(projectId: $p, from: $from, to: $to) {
    ticketCount
    byCategory { key count } byBuilding { key count } byPeriod { key count }
    timeToAccept { count meanMinutes p90Minutes } timeToArrive { meanMinutes p90Minutes } timeToResolve { meanMinutes p90Minutes }
    slaJudged slaMet slaComplianceRate
    technicians { technician { name } tickets resolved averageRating timeToAccept { meanMinutes } }
    faultSites { key count }
  }
}
"""


async def _pump(client: httpx.AsyncClient, world: World, **overrides: object) -> dict:
    fields = {
        "projectId": world.gid("Project:lakeside"),
        "name": "2号楼生活水泵",
        "kind": "WATER_PUMP",
        "buildingId": world.gid("Building:a2"),
        "model": "Grundfos CR 10",
        "location": "地下一层泵房",
        "installDate": "2024-05-01",
        "lastMaintainedOn": "2026-10-01",
        "maintenanceIntervalDays": 30,
        **overrides,
    }
    result = await gql(client, CREATE, {"i": fields}, token=world.token("admin_a"))
    return result["data"]["createEquipment"]  # type: ignore[no-any-return]


async def test_equipment_falling_due_gets_one_maintenance_ticket_and_closing_it_records_the_work(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given a pump maintained on 1 October, every 30 days: due on 31 October
    world = await build_dispatch_world(state)
    pump = await _pump(client, world)
    assert (pump["__typename"], pump["nextDueOn"]) == ("Equipment", "2026-10-31")
    worker = DispatchWorker(state.session_factory, clock=clock)
    # when the worker runs twice
    first, second = await worker.run_once(), await worker.run_once()
    # then one maintenance ticket, dispatched to the plumber
    assert (first.maintenance_tickets, second.maintenance_tickets) == (1, 0)
    tech = world.token("tech_a")
    listed = await gql(
        client, "{ tickets { edges { node { id kind status category description assignee { name } } } } }", token=tech
    )
    ticket = listed["data"]["tickets"]["edges"][0]["node"]
    assert (ticket["kind"], ticket["status"], ticket["category"], ticket["assignee"]) == (
        "MAINTENANCE",
        "ASSIGNED",
        "PLUMBING",
        {"name": "陈师傅"},
    )
    assert (
        ticket["description"]
        == "Scheduled maintenance of 2号楼生活水泵 (Grundfos CR 10) at 地下一层泵房, due 2026-10-31."
    )
    for action, note, details in (
        ("ACCEPT", None, None),
        ("CHECK_IN", None, {"location": {"latitude": 30.271, "longitude": 120.151}}),
        ("START", None, None),
        ("RESOLVE", "更换机械密封，试运行正常", None),
    ):
        assert "errors" not in await transition(client, tech, ticket["id"], action, note=note, details=details)
    closed = await transition(client, world.token("dispatcher_a"), ticket["id"], "CONFIRM", details={"rating": 5})
    assert closed["data"]["transitionTicket"]["status"] == "CLOSED"
    ledger = await gql(client, LEDGER, {"p": world.gid("Project:lakeside")}, token=tech)
    assert ledger["data"]["equipment"] == [
        {
            "name": "2号楼生活水泵",
            "kind": "WATER_PUMP",
            "lastMaintainedOn": "2026-11-02",
            "nextDueOn": "2026-12-02",
            "maintenanceHistory": [
                {
                    "performedOn": "2026-11-02",
                    "notes": "更换机械密封，试运行正常",
                    "ticketId": ticket["id"],
                    "technician": {"name": "陈师傅"},
                }
            ],
        }
    ]
    # nothing is due any more
    assert (await worker.run_once()).maintenance_tickets == 0


async def test_the_ledger_is_for_staff_and_checks_its_input(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    zero = await _pump(client, world, maintenanceIntervalDays=0)
    assert (zero["code"], zero["field"]) == ("BAD_USER_INPUT", "maintenanceIntervalDays")
    foreign = await _pump(client, world, buildingId=world.gid("Building:b1"))
    assert (foreign["code"], foreign["field"]) == ("NOT_FOUND", "buildingId")
    owner = await gql(
        client,
        CREATE,
        {
            "i": {
                "projectId": world.gid("Project:lakeside"),
                "name": "x",
                "kind": "LIFT",
                "installDate": "2025-01-01",
                "maintenanceIntervalDays": 30,
            }
        },
        token=world.token("alice"),
    )
    assert error_codes(owner) == ["FORBIDDEN"]
    assert error_codes(await gql(client, LEDGER, {"p": world.gid("Project:lakeside")}, token=world.token("alice"))) == [
        "FORBIDDEN"
    ]
    assert (await gql(client, LEDGER, {"p": world.gid("Project:lakeside")}, token=world.token("admin_b")))["data"][
        "equipment"
    ] == []


async def test_two_workers_open_a_single_maintenance_ticket(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    if state.engine.dialect.name != "postgresql":
        pytest.skip("several workers are a PostgreSQL deployment (SQLite ignores SKIP LOCKED)")
    world = await build_dispatch_world(state)
    await _pump(client, world)
    await _pump(client, world, name="1号楼消防泵", kind="FIRE_SYSTEM")
    reports = await asyncio.gather(*(DispatchWorker(state.session_factory, clock=clock).run_once() for _ in range(3)))
    assert sum(report.maintenance_tickets for report in reports) == 2
    async with state.session_factory() as session:
        tickets = (await session.scalars(select(Ticket.equipment_id))).all()
        assert sorted(tickets) == sorted((await session.scalars(select(Equipment.id))).all())
        assert (await session.scalars(select(MaintenanceRecord))).all() == []


async def test_analytics_count_time_rate_and_rank(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    # given three reports at 09:00: a leak and an air-con fault that get done, and a lift nobody can take
    world = await build_dispatch_world(state)
    leak = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    aircon = await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description="空调不制冷")
    await report_trapped_in_lift(client, world)
    on_site = {"location": {"latitude": 30.27, "longitude": 120.15}}
    timeline = [
        (5, "tech_a", leak, "ACCEPT", None, None),
        (5, "tech_hvac", aircon, "ACCEPT", None, None),
        (20, "tech_a", leak, "CHECK_IN", None, on_site),
        (30, "tech_hvac", aircon, "CHECK_IN", None, on_site),
        (30, "tech_a", leak, "START", None, None),
        (0, "tech_a", leak, "RESOLVE", "换了角阀", None),
        (30, "tech_hvac", aircon, "START", None, None),
        (0, "tech_hvac", aircon, "RESOLVE", "补充冷媒", None),
        (0, "alice", leak, "CONFIRM", None, {"rating": 4}),
        (0, "bob", aircon, "CONFIRM", None, {"rating": 5}),
    ]
    worker = DispatchWorker(state.session_factory, clock=clock)
    for minutes, user, ticket, action, note, details in timeline:
        clock.advance(minutes=minutes)
        await worker.run_once()
        result = await transition(client, world.token(user), ticket["id"], action, note=note, details=details)
        assert "errors" not in result and "code" not in result["data"]["transitionTicket"], result
    # when
    result = await gql(
        client,
        ANALYTICS,
        {"p": world.gid("Project:lakeside"), "from": "2026-11-01T00:00:00+00:00", "to": "2026-11-03T00:00:00+00:00"},
        token=world.token("dispatcher_a"),
    )
    # then
    assert result["data"]["dispatchAnalytics"] == {
        "ticketCount": 3,
        "byCategory": [{"key": "ELEVATOR", "count": 1}, {"key": "HVAC", "count": 1}, {"key": "PLUMBING", "count": 1}],
        "byBuilding": [{"key": "A1", "count": 2}, {"key": "A2", "count": 1}],
        "byPeriod": [{"key": "2026-11-02", "count": 3}],
        "timeToAccept": {"count": 2, "meanMinutes": 7.5, "p90Minutes": 10.0},
        "timeToArrive": {"meanMinutes": 45.0, "p90Minutes": 60.0},
        "timeToResolve": {"meanMinutes": 105.0, "p90Minutes": 120.0},
        "slaJudged": 3,
        "slaMet": 2,
        "slaComplianceRate": 0.6667,
        "technicians": [
            {
                "technician": {"name": "陈师傅"},
                "tickets": 1,
                "resolved": 1,
                "averageRating": 4.0,
                "timeToAccept": {"meanMinutes": 5.0},
            },
            {
                "technician": {"name": "吴师傅"},
                "tickets": 1,
                "resolved": 1,
                "averageRating": 5.0,
                "timeToAccept": {"meanMinutes": 10.0},
            },
        ],
        "faultSites": [{"key": "A1 101", "count": 1}, {"key": "A1 102", "count": 1}, {"key": "A2 LIFT", "count": 1}],
    }
    empty = await gql(
        client,
        ANALYTICS,
        {"p": world.gid("Project:lakeside"), "to": "2026-11-01T00:00:00+00:00"},
        token=world.token("admin_a"),
    )
    assert empty["data"]["dispatchAnalytics"]["ticketCount"] == 0
    assert error_codes(
        await gql(client, ANALYTICS, {"p": world.gid("Project:lakeside")}, token=world.token("alice"))
    ) == ["FORBIDDEN"]
    assert (await gql(client, ANALYTICS, {"p": world.gid("Project:lakeside")}, token=world.token("admin_b")))["data"][
        "dispatchAnalytics"
    ] is None
