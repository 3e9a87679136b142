"""`TicketEvent.payload`: the typed details of each event, as each reader may see them, over HTTP and live.

The deprecated `data` JSON carried technicians as internal numbers and the solver's cost to anyone who
could read the ticket; the typed payload resolves technicians as `Technician`s (an owner sees the name
and a masked phone only) and shows the cost only to those who may see how the technician works.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from api.state import AppState
from tests.integration.dispatch_world import build_dispatch_world, submit, transition
from tests.integration.live_client import TRANSPORT_WS, live_socket
from tests.integration.world import World, gql

PAYLOAD_FIELDS = """
payload {
  __typename
  ... on StatusChangePayload { fromStatus toStatus note technician { name phone currentLocation { latitude } } }
  ... on ReleasePayload { previousTechnician { name } }
  ... on SubmittedPayload { status category priority attachmentCount classifier { category evidence } }
  ... on AssignedPayload { mode cost { distanceMeters total } }
  ... on CheckedInPayload { location { latitude longitude } }
  ... on ClosedPayload { rating comment }
  ... on SlaAlertPayload { target dueAt }
}
"""
HISTORY = f"""query ($id: ID!) {{ node(id: $id) {{ ... on Ticket {{ events {{ type {PAYLOAD_FIELDS} }} }} }} }}"""
TICKET_UPDATES = f"""subscription ($t: ID!, $after: Int) {{
  ticketUpdates(ticketId: $t, afterSeq: $after) {{ seq type {PAYLOAD_FIELDS} }}
}}"""
HERE = {"location": {"latitude": 30.27, "longitude": 120.15}}


async def _history(client: httpx.AsyncClient, token: str, ticket_id: str) -> list[dict[str, Any]]:
    result = await gql(client, HISTORY, {"id": ticket_id}, token=token)
    assert "errors" not in result, result
    return result["data"]["node"]["events"]  # type: ignore[no-any-return]


async def _repair_to_rating(client: httpx.AsyncClient, world: World) -> str:
    """Alice reports a leak; auto-dispatch sends 陈师傅, who fixes it; alice confirms with four stars."""
    ticket = await submit(
        client, world.token("alice"), description="厨房水龙头漏水 kitchen tap leaking", unitId=world.gid("Unit:alice")
    )
    tech = world.token("tech_a")
    for action, extra in (
        ("ACCEPT", {}),
        ("CHECK_IN", {"details": HERE}),
        ("START", {}),
        ("RESOLVE", {"note": "换了阀芯"}),
    ):
        assert "errors" not in await transition(client, tech, ticket["id"], action, **extra)
    confirmed = await transition(
        client, world.token("alice"), ticket["id"], "CONFIRM", details={"rating": 4, "comment": "很快"}
    )
    assert "errors" not in confirmed, confirmed
    return str(ticket["id"])


async def test_each_event_answers_its_typed_payload(client: httpx.AsyncClient, state: AppState) -> None:
    # given a repair from report to rating
    world = await build_dispatch_world(state)
    ticket_id = await _repair_to_rating(client, world)

    # when the dispatcher reads its history
    events = await _history(client, world.token("dispatcher_a"), ticket_id)

    # then every event has the payload of its type, with the details the services stored
    assert [(e["type"], e["payload"]["__typename"]) for e in events] == [
        ("SUBMITTED", "SubmittedPayload"),
        ("ASSIGNED", "AssignedPayload"),
        ("ACCEPTED", "AcceptedPayload"),
        ("CHECKED_IN", "CheckedInPayload"),
        ("STARTED", "StartedPayload"),
        ("RESOLVED", "ResolvedPayload"),
        ("CLOSED", "ClosedPayload"),
    ]
    submitted, assigned, accepted, checked_in, _, resolved, closed = (e["payload"] for e in events)
    assert (submitted["status"], submitted["category"], submitted["attachmentCount"]) == ("NEW", "PLUMBING", 0)
    assert submitted["classifier"]["category"] == "PLUMBING" and submitted["classifier"]["evidence"]
    assert (assigned["fromStatus"], assigned["toStatus"], assigned["mode"]) == ("NEW", "ASSIGNED", "INSTANT")
    assert assigned["previousTechnician"] is None
    assert assigned["cost"]["distanceMeters"] == 0 and assigned["cost"]["total"] >= 0
    # the dispatcher sees the technician's plain phone and where they are, as on the roster
    assert assigned["technician"] == {"name": "陈师傅", "phone": "13600002222", "currentLocation": {"latitude": 30.27}}
    assert (accepted["fromStatus"], accepted["toStatus"]) == ("ASSIGNED", "ACCEPTED")
    assert checked_in["location"] == {"latitude": 30.27, "longitude": 120.15}
    assert (resolved["note"], resolved["toStatus"]) == ("换了阀芯", "RESOLVED")
    assert (closed["rating"], closed["comment"], closed["toStatus"]) == (4, "很快", "CLOSED")


async def test_the_owner_sees_the_technician_masked_and_no_dispatch_cost(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice's repair
    world = await build_dispatch_world(state)
    ticket_id = await _repair_to_rating(client, world)

    # when alice reads its history
    events = await _history(client, world.token("alice"), ticket_id)

    # then the technician is a name and a masked phone, the cost (how far away they were) is hidden
    assigned = events[1]["payload"]
    assert assigned["technician"] == {"name": "陈师傅", "phone": "136****2222", "currentLocation": None}
    assert assigned["cost"] is None
    assert {e["payload"]["technician"]["phone"] for e in events[1:]} == {"136****2222"}


async def test_a_reassignment_names_both_technicians(client: httpx.AsyncClient, state: AppState) -> None:
    # given alice's leak, auto-dispatched to 陈师傅
    world = await build_dispatch_world(state)
    ticket = await submit(
        client, world.token("alice"), description="厨房水龙头漏水 kitchen tap leaking", unitId=world.gid("Unit:alice")
    )

    # when the dispatcher moves it to 周师傅 by hand
    moved = await gql(
        client,
        "mutation($t: ID!, $tech: ID!) { assignTicket(ticketId: $t, technicianId: $tech) { __typename } }",
        {"t": ticket["id"], "tech": world.gid("Technician:far")},
        token=world.token("dispatcher_a"),
    )
    assert moved["data"]["assignTicket"]["__typename"] == "Ticket", moved

    # then the REASSIGNED event says who has it, who had it, and that a person chose (no solver cost)
    reassigned = (await _history(client, world.token("dispatcher_a"), ticket["id"]))[-1]
    assert reassigned["type"] == "REASSIGNED"
    payload = reassigned["payload"]
    assert (payload["__typename"], payload["mode"], payload["cost"]) == ("AssignedPayload", "MANUAL", None)
    assert (payload["technician"]["name"], payload["previousTechnician"]["name"]) == ("周师傅", "陈师傅")


async def test_a_live_event_carries_the_same_payload_as_the_history(
    app: Starlette, state: AppState
) -> None:
    # given alice follows her new ticket over the websocket
    world = await build_dispatch_world(state)
    async with live_socket(app, world.token("alice"), TRANSPORT_WS) as alice:
        ticket = await submit(
            alice.http,
            world.token("alice"),
            description="厨房水龙头漏水 kitchen tap leaking",
            unitId=world.gid("Unit:alice"),
        )
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        replayed = await alice.events(2)

        # when the technician checks in
        await transition(alice.http, world.token("tech_a"), ticket["id"], "ACCEPT")
        await transition(alice.http, world.token("tech_a"), ticket["id"], "CHECK_IN", details=HERE)
        live = await alice.events(2)
        history = await _history(alice.http, world.token("alice"), ticket["id"])

    # then the live events carry the typed payloads, masked for her exactly as in the history
    assert [{"type": e["type"], "payload": e["payload"]} for e in replayed + live] == history
    assert live[1]["payload"]["location"] == {"latitude": 30.27, "longitude": 120.15}
    assert replayed[1]["payload"]["cost"] is None
