"""What of a technician each viewer sees: an owner, and a technician looking at another technician, only
the name and a masked phone; the technician themself and the project's staff everything (the plain phone
for dispatchers and admins); staff of another project nothing at all. Over queries and live updates."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from api.state import AppState
from schema.ids import decode_id
from tests.integration.dispatch_world import build_dispatch_world, submit
from tests.integration.live_client import following, live_socket
from tests.integration.world import World, gql

TECHNICIAN_FIELDS = """
    name phone skills capacity onShift currentLoad
    home { latitude longitude } currentLocation { latitude longitude }
"""
TICKET = f"""
query ($id: ID!) {{
  node(id: $id) {{
    ... on Ticket {{
      assignee {{ {TECHNICIAN_FIELDS} }}
      events {{ type technician {{ {TECHNICIAN_FIELDS} }} }}
    }}
  }}
}}
"""
REASSIGN = """mutation($t: ID!, $tech: ID!) { assignTicket(ticketId: $t, technicianId: $tech) {
  __typename ... on Ticket { status } } }"""
TECHNICIAN = "query ($id: ID!) { node(id: $id) { ... on Technician { name } } }"
FOLLOW = """subscription($t: ID!) { ticketUpdates(ticketId: $t) {
  type ticket { assignee { name skills home { latitude } currentLocation { latitude } } } } }"""

CONTACT_ONLY = {
    "skills": None,
    "capacity": None,
    "onShift": None,
    "currentLoad": None,
    "home": None,
    "currentLocation": None,
}
CHEN_AT_WORK = {
    "name": "陈师傅",
    "skills": ["PLUMBING", "ELECTRICAL"],
    "capacity": 3,
    "onShift": True,
    "currentLoad": 0,
    "home": {"latitude": 30.27, "longitude": 120.15},
    "currentLocation": {"latitude": 30.27, "longitude": 120.15},
}
ZHOU_AT_WORK = {
    "name": "周师傅",
    "phone": None,
    "skills": ["PLUMBING"],
    "capacity": 2,
    "onShift": True,
    "currentLoad": 1,
    "home": {"latitude": 30.31, "longitude": 120.18},
    "currentLocation": {"latitude": 30.31, "longitude": 120.18},
}


async def _reassigned_ticket(client: httpx.AsyncClient, world: World) -> str:
    """Alice's leak, dispatched to 陈师傅 (tech_a), then handed to 周师傅 (tech_far) by the dispatcher."""
    ticket = await submit(client, world.token("alice"), description="厨房水龙头漏水 kitchen tap leaking", unitId=world.gid("Unit:alice"))
    assert ticket["assignee"]["name"] == "陈师傅"
    moved = await gql(
        client, REASSIGN, {"t": ticket["id"], "tech": world.gid("Technician:far")}, token=world.token("dispatcher_a")
    )
    assert moved["data"]["assignTicket"] == {"__typename": "Ticket", "status": "ASSIGNED"}
    return str(ticket["id"])


async def _as(client: httpx.AsyncClient, world: World, who: str, ticket_id: str) -> Any:
    result = await gql(client, TICKET, {"id": ticket_id}, token=world.token(who))
    assert "errors" not in result, result
    return result["data"]["node"]


async def _reassigned_ticket_as(client: httpx.AsyncClient, state: AppState, who: str) -> Any:
    """The reassigned ticket (`_reassigned_ticket`) with its technicians, as `who` sees it."""
    world = await build_dispatch_world(state)
    return await _as(client, world, who, await _reassigned_ticket(client, world))


def _technicians(ticket: dict[str, Any]) -> dict[str, Any]:
    return {event["type"]: event["technician"] for event in ticket["events"] if event["technician"] is not None}


async def test_an_owner_sees_of_a_technician_only_the_name_and_a_masked_phone(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given the ticket 陈师傅 had and 周师傅 has, when alice reads it
    seen = await _reassigned_ticket_as(client, state, "alice")
    # then neither the assignee's home and position, nor an earlier assignee's
    assert seen["assignee"] == {"name": "周师傅", "phone": None, **CONTACT_ONLY}
    assert _technicians(seen) == {
        "ASSIGNED": {"name": "陈师傅", "phone": "136****2222", **CONTACT_ONLY},
        "REASSIGNED": {"name": "周师傅", "phone": None, **CONTACT_ONLY},
    }


async def test_a_technician_sees_all_of_themself_and_of_another_technician_only_the_contact(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given the ticket 陈师傅 had, when 周师傅, who has it now, reads its history
    seen = await _reassigned_ticket_as(client, state, "tech_far")
    # then
    assert seen["assignee"] == ZHOU_AT_WORK
    assert _technicians(seen) == {
        "ASSIGNED": {"name": "陈师傅", "phone": "136****2222", **CONTACT_ONLY},
        "REASSIGNED": ZHOU_AT_WORK,
    }


async def test_the_projects_staff_see_everything_and_dispatchers_the_plain_phone(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given
    world = await build_dispatch_world(state)
    ticket_id = await _reassigned_ticket(client, world)
    # when
    dispatcher = await _as(client, world, "dispatcher_a", ticket_id)
    finance = await _as(client, world, "finance_a", ticket_id)
    # then
    assert dispatcher["assignee"] == ZHOU_AT_WORK
    assert _technicians(dispatcher)["ASSIGNED"] == {**CHEN_AT_WORK, "phone": "13600002222"}
    assert _technicians(finance)["ASSIGNED"] == {**CHEN_AT_WORK, "phone": "136****2222"}


async def test_staff_of_another_project_reach_neither_the_ticket_nor_its_technicians(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given
    world = await build_dispatch_world(state)
    ticket_id = await _reassigned_ticket(client, world)
    # when
    ticket = await gql(client, TICKET, {"id": ticket_id}, token=world.token("admin_b"))
    technician = await gql(client, TECHNICIAN, {"id": world.gid("Technician:far")}, token=world.token("admin_b"))
    # then
    assert ticket == {"data": {"node": None}}
    assert technician == {"data": {"node": None}}


async def test_an_owner_following_a_ticket_live_sees_only_the_technicians_name(
    app: Starlette, state: AppState, client: httpx.AsyncClient
) -> None:
    # given alice follows her ticket
    world = await build_dispatch_world(state)
    ticket = await submit(client, world.token("alice"), description="厨房水龙头漏水 kitchen tap leaking", unitId=world.gid("Unit:alice"))
    async with live_socket(app, world.token("alice")) as alice:
        await alice.subscribe(FOLLOW, {"t": ticket["id"]})
        await following(state, f"ticket:{decode_id(ticket['id'], 'Ticket', field='t')}")
        # when the dispatcher hands it to 周师傅
        await gql(
            client, REASSIGN, {"t": ticket["id"], "tech": world.gid("Technician:far")}, token=world.token("dispatcher_a")
        )
        event = await alice.event()
    # then
    assert event == {
        "type": "REASSIGNED",
        "ticket": {"assignee": {"name": "周师傅", "skills": None, "home": None, "currentLocation": None}},
    }
