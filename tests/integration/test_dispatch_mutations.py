"""assignTicket, optimizeDispatch and categorizeTicket: the dispatcher's levers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import ClassifierCorrection, Ticket
from tests.integration.dispatch_world import build_dispatch_world, submit, transition
from tests.integration.world import World, error_codes, gql

ASSIGN = """
mutation ($t: ID!, $tech: ID!, $v: Int) {
  assignTicket(ticketId: $t, technicianId: $tech, expectedVersion: $v) {
    __typename ... on Ticket { status assignee { name } } ... on Error { code field }
  }
}
"""
OPTIMIZE = """
mutation ($p: ID!, $apply: Boolean) {
  optimizeDispatch(projectId: $p, apply: $apply) {
    __typename
    ... on DispatchPlan {
      applied totalCost
      assignments { ticket { description } technician { name } changes previousTechnicianId cost { distanceMeters load total } }
      unassigned { ticket: ticketId code reason }
    }
    ... on Error { code field }
  }
}
"""
CATEGORIZE = """
mutation ($i: CategorizeTicketInput!) {
  categorizeTicket(input: $i) { __typename ... on Ticket { status category priority assignee { name } } ... on Error { code field message } }
}
"""
SETTINGS = "mutation ($i: UpdateDispatchSettingsInput!) { updateDispatchSettings(input: $i) { __typename } }"


async def _manual_project(client: httpx.AsyncClient, world: World) -> None:
    result = await gql(
        client,
        SETTINGS,
        {"i": {"projectId": world.gid("Project:lakeside"), "autoDispatch": False}},
        token=world.token("admin_a"),
    )
    assert result["data"]["updateDispatchSettings"]["__typename"] == "DispatchSettings"


async def _assign(client: httpx.AsyncClient, world: World, user: str, ticket: str, technician: str) -> dict[str, Any]:
    return await gql(client, ASSIGN, {"t": ticket, "tech": world.gid(technician)}, token=world.token(user))


async def test_the_dispatcher_overrides_the_solver(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    leak = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    moved = await _assign(client, world, "dispatcher_a", leak["id"], "Technician:far")
    assert moved["data"]["assignTicket"] == {
        "__typename": "Ticket",
        "status": "ASSIGNED",
        "assignee": {"name": "周师傅"},
    }
    same = await _assign(client, world, "dispatcher_a", leak["id"], "Technician:far")
    assert same["data"]["assignTicket"] == {
        "__typename": "BadUserInputError",
        "code": "BAD_USER_INPUT",
        "field": "technicianId",
    }
    foreign = await _assign(client, world, "dispatcher_a", leak["id"], "Technician:b")
    assert foreign["data"]["assignTicket"] == {
        "__typename": "NotFoundError",
        "code": "NOT_FOUND",
        "field": "technicianId",
    }
    assert error_codes(await _assign(client, world, "alice", leak["id"], "Technician:a")) == ["FORBIDDEN"]
    assert error_codes(await _assign(client, world, "tech_a", leak["id"], "Technician:a")) == ["FORBIDDEN"]
    other_project = await _assign(client, world, "admin_b", leak["id"], "Technician:b")
    assert other_project["data"]["assignTicket"]["code"] == "NOT_FOUND"


async def test_optimize_shows_a_plan_and_applies_it_without_moving_accepted_tickets(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given two plumbing jobs waiting with auto-dispatch off, and a third the far plumber already accepted
    world = await build_dispatch_world(state)
    await _manual_project(client, world)
    first = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    second = await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description="厨房水龙头坏了")
    assert (first["status"], second["status"]) == ("NEW", "NEW")
    accepted = await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description="马桶堵了")
    await _assign(client, world, "dispatcher_a", accepted["id"], "Technician:far")
    assert "errors" not in await transition(client, world.token("tech_far"), accepted["id"], "ACCEPT")
    dispatcher = world.token("dispatcher_a")
    # when the dispatcher previews, then applies
    preview = (await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside"), "apply": False}, token=dispatcher))[
        "data"
    ]["optimizeDispatch"]
    applied = (await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside")}, token=dispatcher))["data"][
        "optimizeDispatch"
    ]
    # then both plans give the two waiting jobs to 陈师傅 next door (the second costs one load step)
    expected = [
        {
            "ticket": {"description": "卫生间漏水"},
            "technician": {"name": "陈师傅"},
            "changes": True,
            "previousTechnicianId": None,
            "cost": {"distanceMeters": 0, "load": 0, "total": 0},
        },
        {
            "ticket": {"description": "厨房水龙头坏了"},
            "technician": {"name": "陈师傅"},
            "changes": True,
            "previousTechnicianId": None,
            "cost": {"distanceMeters": 0, "load": 3000, "total": 3000},
        },
    ]
    assert (preview["applied"], preview["totalCost"], preview["assignments"], preview["unassigned"]) == (
        False,
        3000,
        expected,
        [],
    )
    assert (applied["applied"], applied["assignments"]) == (True, expected)
    async with state.session_factory() as session:
        rows = {row.description: (row.status, row.assignee_id) for row in (await session.scalars(select(Ticket))).all()}
    assert rows == {
        "卫生间漏水": ("ASSIGNED", world.ids["Technician:a"]),
        "厨房水龙头坏了": ("ASSIGNED", world.ids["Technician:a"]),
        "马桶堵了": ("ACCEPTED", world.ids["Technician:far"]),
    }
    assert error_codes(
        await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside")}, token=world.token("alice"))
    ) == ["FORBIDDEN"]
    assert (await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside")}, token=world.token("admin_b")))["data"][
        "optimizeDispatch"
    ]["code"] == "NOT_FOUND"


async def test_triage_completion_queues_the_ticket_and_teaches_the_classifier(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    unsure = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="楼道里有股怪味")
    assert (unsure["status"], unsure["category"]) == ("TRIAGE", "CLEANING")
    done = await gql(
        client,
        CATEGORIZE,
        {"i": {"ticketId": unsure["id"], "category": "PLUMBING", "priority": "LOW"}},
        token=world.token("dispatcher_a"),
    )
    assert done["data"]["categorizeTicket"] == {
        "__typename": "Ticket",
        "status": "ASSIGNED",
        "category": "PLUMBING",
        "priority": "LOW",
        "assignee": {"name": "陈师傅"},
    }
    async with state.session_factory() as session:
        correction = (await session.scalars(select(ClassifierCorrection))).one()
        assert (correction.predicted_category, correction.corrected_category, correction.priority) == (
            "CLEANING",
            "PLUMBING",
            "LOW",
        )
    # the same words no longer need a dispatcher
    again = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="楼道里有股怪味")
    assert (again["status"], again["category"]) == ("ASSIGNED", "PLUMBING")


async def test_correcting_a_category_records_the_change(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    token = world.token("dispatcher_a")
    unchanged = await gql(client, CATEGORIZE, {"i": {"ticketId": ticket["id"], "category": "PLUMBING"}}, token=token)
    assert unchanged["data"]["categorizeTicket"]["field"] == "category"
    changed = await gql(
        client,
        CATEGORIZE,
        {"i": {"ticketId": ticket["id"], "category": "APPLIANCE", "priority": "URGENT"}},
        token=token,
    )
    assert changed["data"]["categorizeTicket"]["category"] == "APPLIANCE"
    events = await gql(
        client,
        "query($id:ID!){ node(id:$id){ ... on Ticket { respondDueAt events { type data } } } }",
        {"id": ticket["id"]},
        token=token,
    )
    node = events["data"]["node"]
    assert [(e["type"], e["data"]) for e in node["events"][2:]] == [
        ("CATEGORY_CHANGED", {"from": "PLUMBING", "to": "APPLIANCE"}),
        ("PRIORITY_CHANGED", {"from": "HIGH", "to": "URGENT"}),
    ]
    assert node["respondDueAt"] == "2026-11-02T09:10:00+00:00"
    assert error_codes(
        await gql(client, CATEGORIZE, {"i": {"ticketId": ticket["id"], "category": "HVAC"}}, token=world.token("alice"))
    ) == ["FORBIDDEN"]
