"""One repair from the owner's report to her rating, through GraphQL as the apps call it: the classifier
reads the report, the solver weighs distance against workload, the SLA clock warns, the technician
works it, the owner rates it, and every step lands in the event log and on the live channels."""

from __future__ import annotations

import json

import httpx

from api.state import AppState
from api.workers import DispatchWorker
from dispatch.model import GeoPoint
from dispatch.solver import haversine_m
from tests.conftest import Clock
from tests.integration.dispatch_world import (
    SUBMIT,
    TRANSITION,
    build_dispatch_world,
    submit,
    transition,
)
from tests.integration.test_submit_ticket import RecordingPublisher
from tests.integration.test_ticket_attachments import JPEG, _multipart
from tests.integration.world import gql

FOLLOW = """
query ($id: ID!) {
  node(id: $id) {
    ... on Ticket {
      status slaState rating ratingComment allowedActions
      assignee { name currentLocation { latitude longitude } }
      attachments { stage mimeType }
      events { seq type actorRole actorName technician { name } note data }
    }
  }
}
"""


async def _follow(client: httpx.AsyncClient, token: str, ticket_id: str) -> dict:
    result = await gql(client, FOLLOW, {"id": ticket_id}, token=token)
    assert "errors" not in result, result
    return result["data"]["node"]  # type: ignore[no-any-return]


async def test_a_dripping_tap_from_report_to_rating(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    # given: 陈师傅 next door has accepted two of bob's jobs; 周师傅 is free, 5.3 km away
    world = await build_dispatch_world(state)
    publisher = RecordingPublisher()
    state.services.publisher = publisher
    for description in ("阳台地漏堵了", "洗手池下水管漏水"):
        busy = await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description=description)
        assert busy["assignee"]["name"] == "陈师傅"
        assert "errors" not in await transition(client, world.token("tech_a"), busy["id"], "ACCEPT")
    worker = DispatchWorker(state.session_factory, clock=clock, publisher=publisher)

    # when alice reports a dripping tap, with a photo, at 09:00
    variables = {
        "input": {"unitId": world.gid("Unit:alice"), "description": "厨房水龙头关不紧，一直滴答滴答", "photos": [None]}
    }
    reported = (await _multipart(client, world.token("alice"), SUBMIT, variables, "input.photos", [("tap.jpg", JPEG)]))[
        "data"
    ]["submitTicket"]
    ticket_id = reported["id"]

    # then the classifier calls it a normal plumbing job, and the solver sends 周师傅: 5,299 m of travel
    # costs less than a third job on 陈师傅's plate (2 × 3,000)
    assert (reported["category"], reported["priority"], reported["status"]) == ("PLUMBING", "NORMAL", "ASSIGNED")
    assert reported["assignee"]["name"] == "周师傅"
    far = haversine_m(GeoPoint(30.31, 120.18), GeoPoint(30.27, 120.15))
    followed = await _follow(client, world.token("alice"), ticket_id)
    assert followed["events"][1]["data"]["cost"] == {
        "distanceMeters": far,
        "distance": far,
        "priority": 0,
        "load": 0,
        "preference": 0,
        "total": far,
    }

    # 24 minutes on (80 % of the 30-minute respond promise) the worker warns
    clock.advance(minutes=24)
    assert (await worker.run_once()).sla_events == 1
    assert (await _follow(client, world.token("alice"), ticket_id))["slaState"] == "WARNING"

    # the technician accepts in time (the warning did not change the version they saw), so the promise is kept
    clock.advance(minutes=2)
    tech = world.token("tech_far")
    accepted = (await transition(client, tech, ticket_id, "ACCEPT", version=1))["data"]["transitionTicket"]
    assert (accepted["status"], accepted["slaState"], accepted["version"]) == ("ACCEPTED", "OK", 2)

    # on site an hour after the report, checking in from the door
    clock.advance(minutes=34)
    on_site = (
        await transition(
            client,
            tech,
            ticket_id,
            "CHECK_IN",
            version=2,
            details={"location": {"latitude": 30.2701, "longitude": 120.1501}},
        )
    )["data"]["transitionTicket"]
    assert on_site["status"] == "ON_SITE"
    assert (await transition(client, tech, ticket_id, "START", version=3))["data"]["transitionTicket"][
        "status"
    ] == "IN_PROGRESS"

    # resolved with notes and an after-photo
    clock.advance(minutes=40)
    variables = {
        "id": ticket_id,
        "action": "RESOLVE",
        "version": 4,
        "note": "更换阀芯，不再滴水",
        "details": {"photos": [None]},
    }
    resolved = await _multipart(client, tech, TRANSITION, variables, "details.photos", [("after.jpg", JPEG + b"after")])
    assert resolved["data"]["transitionTicket"]["status"] == "RESOLVED"

    # alice confirms with five stars
    clock.advance(minutes=15)
    alice = world.token("alice")
    assert (await _follow(client, alice, ticket_id))["allowedActions"] == ["CONFIRM", "REOPEN"]
    closed = (
        await transition(
            client, alice, ticket_id, "CONFIRM", version=5, details={"rating": 5, "comment": "周师傅很细心"}
        )
    )["data"]["transitionTicket"]
    assert (closed["status"], closed["version"]) == ("CLOSED", 6)

    # the whole story, as alice sees it
    story = await _follow(client, alice, ticket_id)
    assert (story["status"], story["slaState"], story["rating"], story["ratingComment"]) == (
        "CLOSED",
        "OK",
        5,
        "周师傅很细心",
    )
    # (of the technician, an owner sees the name: where they are is for the project's staff)
    assert story["assignee"] == {"name": "周师傅", "currentLocation": None}
    seen_by_staff = await _follow(client, world.token("dispatcher_a"), ticket_id)
    assert seen_by_staff["assignee"] == {
        "name": "周师傅",
        "currentLocation": {"latitude": 30.2701, "longitude": 120.1501},
    }
    assert story["attachments"] == [
        {"stage": "REPORT", "mimeType": "image/jpeg"},
        {"stage": "RESOLUTION", "mimeType": "image/jpeg"},
    ]
    assert [(e["seq"], e["type"], e["actorRole"], e["actorName"]) for e in story["events"]] == [
        (7, "SUBMITTED", "OWNER", "alice"),
        (8, "ASSIGNED", "SYSTEM", None),
        (9, "SLA_WARNING", "SYSTEM", None),
        (10, "ACCEPTED", "TECHNICIAN", "tech_far"),
        (11, "CHECKED_IN", "TECHNICIAN", "tech_far"),
        (12, "STARTED", "TECHNICIAN", "tech_far"),
        (13, "RESOLVED", "TECHNICIAN", "tech_far"),
        (14, "CLOSED", "OWNER", "alice"),
    ]
    assert story["events"][6]["note"] == "更换阀芯，不再滴水"
    assert story["events"][7]["data"]["rating"] == 5

    # and each step went out after its commit, on the ticket's channel, in order
    on_ticket = [json.loads(message) for channel, message in publisher.messages if channel.startswith("ticket:")]
    assert [(n["seq"], n["type"]) for n in on_ticket if n["seq"] >= 7] == [
        (7, "SUBMITTED"),
        (8, "ASSIGNED"),
        (9, "SLA_WARNING"),
        (10, "ACCEPTED"),
        (11, "CHECKED_IN"),
        (12, "STARTED"),
        (13, "RESOLVED"),
        (14, "CLOSED"),
    ]
    # 周师傅's own channel heard everything from his assignment on
    technician_channel = f"technician:{world.ids['Technician:far']}"
    heard = [json.loads(message)["seq"] for channel, message in publisher.messages if channel == technician_channel]
    assert heard == [8, 9, 10, 11, 12, 13, 14]
