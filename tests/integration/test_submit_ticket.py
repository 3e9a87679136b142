"""submitTicket: who may report what, classification, triage, auto-dispatch, events published after commit."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import Ticket, TicketEvent
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, submit
from tests.integration.world import count_rows, error_codes, gql

SETTINGS = """
mutation ($input: UpdateDispatchSettingsInput!) {
  updateDispatchSettings(input: $input) { __typename ... on DispatchSettings { autoDispatch } }
}
"""
EVENTS = """
query ($id: ID!) { node(id: $id) { ... on Ticket { events { seq type actorRole actorName technician { name } data } } } }
"""
READING = """
query ($id: ID!) {
  node(id: $id) {
    ... on Ticket {
      priority classifierPriority classifierPriorityEvidence classifierCategory classifierEvidence
      events { type payload { ... on SubmittedPayload { classifier { urgency urgencyEvidence evidence } } } }
    }
  }
}
"""


class RecordingPublisher:
    def __init__(self, *, fail: bool = False) -> None:
        self.messages: list[tuple[str, str]] = []
        self.fail = fail

    async def publish(self, channel: str, message: str) -> bool:
        if self.fail:
            raise ConnectionError("broadcast backend down")
        self.messages.append((channel, message))
        return True


async def _events(client: httpx.AsyncClient, token: str, ticket_id: str) -> list[dict[str, Any]]:
    result = await gql(client, EVENTS, {"id": ticket_id}, token=token)
    return result["data"]["node"]["events"]  # type: ignore[no-any-return]


async def test_owner_reports_a_leak_which_is_classified_and_sent_to_the_nearest_plumber(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice, and two plumbers: 陈师傅 at her building and 周师傅 5 km away
    world = await build_dispatch_world(state)
    # when
    ticket = await submit(
        client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水，水一直往楼下滴"
    )
    # then: water dripping into the flat below is URGENT (issue 18), with its promises
    assert ticket["__typename"] == "Ticket"
    assert (ticket["status"], ticket["category"], ticket["priority"]) == ("ASSIGNED", "PLUMBING", "URGENT")
    assert ticket["assignee"]["name"] == "陈师傅"
    assert ticket["classifierEvidence"] == ["漏水", "卫生间", "楼下"]
    assert (ticket["respondDueAt"], ticket["onSiteDueAt"], ticket["resolveDueAt"]) == (
        "2026-11-02T09:10:00+00:00",
        "2026-11-02T10:00:00+00:00",
        "2026-11-02T13:00:00+00:00",
    )
    events = await _events(client, world.token("alice"), ticket["id"])
    assert [(e["seq"], e["type"], e["actorRole"], e["actorName"]) for e in events] == [
        (1, "SUBMITTED", "OWNER", "alice"),
        (2, "ASSIGNED", "SYSTEM", None),
    ]
    assert events[1]["technician"] == {"name": "陈师傅"}
    assert events[1]["data"]["cost"] == {
        "distanceMeters": 0,
        "distance": 0,
        "priority": 0,
        "load": 0,
        "preference": 0,
        "total": 0,
    }


async def test_the_priority_names_the_words_it_rests_on_as_the_category_does(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice, who reports gas and names no priority, and another report she marks LOW herself
    world = await build_dispatch_world(state)
    gas = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="厨房里有很浓的燃气味")
    own = await submit(
        client, world.token("alice"), unitId=world.gid("Unit:alice"), description="楼上漏水到我家天花板", priority="LOW"
    )
    # when a dispatcher reads them
    read = [
        (await gql(client, READING, {"id": ticket["id"]}, token=world.token("dispatcher_a")))["data"]["node"]
        for ticket in (gas, own)
    ]
    # then the classifier's priority and its words are kept beside the ticket's priority
    assert {key: read[0][key] for key in ("priority", "classifierPriority", "classifierPriorityEvidence")} == {
        "priority": "URGENT",
        "classifierPriority": "URGENT",
        "classifierPriorityEvidence": ["燃气味"],
    }
    assert read[0]["events"][0]["payload"]["classifier"]["urgencyEvidence"] == ["燃气味"]
    assert (read[1]["priority"], read[1]["classifierPriority"]) == ("LOW", "URGENT")
    assert read[1]["classifierPriorityEvidence"] == read[1]["events"][0]["payload"]["classifier"]["urgencyEvidence"]
    assert read[1]["classifierPriorityEvidence"]


async def test_owner_cannot_report_for_a_unit_they_do_not_occupy(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    result = await submit(client, world.token("alice"), unitId=world.gid("Unit:bob"), description="卫生间漏水")
    assert (result["code"], result["field"]) == ("NOT_FOUND", "unitId")
    async with state.session_factory() as session:
        assert await count_rows(session, Ticket) == 0


async def test_owner_reports_a_common_area_of_their_own_project_only(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    lobby = await submit(
        client,
        world.token("alice"),
        projectId=world.gid("Project:lakeside"),
        locationKind="LIFT",
        buildingId=world.gid("Building:a2"),
        locationDetail="2号电梯",
        description="电梯困人了！",
    )
    assert (lobby["locationKind"], lobby["category"], lobby["priority"]) == ("LIFT", "ELEVATOR", "URGENT")
    foreign = await submit(
        client,
        world.token("alice"),
        projectId=world.gid("Project:hillside"),
        locationKind="LOBBY",
        description="大堂漏水",
    )
    assert (foreign["code"], foreign["field"]) == ("NOT_FOUND", "projectId")
    unit_and_area = await submit(
        client, world.token("alice"), unitId=world.gid("Unit:alice"), locationKind="LOBBY", description="漏水"
    )
    assert (unit_and_area["code"], unit_and_area["field"]) == ("BAD_USER_INPUT", "locationKind")


async def test_an_unsure_classification_waits_in_triage_without_a_technician(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="楼道里有股怪味")
    assert (ticket["status"], ticket["assignee"], ticket["classifierConfidence"]) == ("TRIAGE", None, 0.4233)
    events = await _events(client, world.token("dispatcher_a"), ticket["id"])
    assert [e["type"] for e in events] == ["SUBMITTED"]


async def test_a_contested_reading_waits_in_triage_however_sure_its_scores(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await submit(
        client, world.token("alice"), unitId=world.gid("Unit:alice"), description="冰箱外壳带电，一碰就麻手"
    )
    assert (ticket["status"], ticket["assignee"], ticket["priority"]) == ("TRIAGE", None, "URGENT")
    assert ticket["classifierConfidence"] > 0.99


async def test_a_category_the_reporter_names_skips_triage(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    ticket = await submit(
        client,
        world.token("alice"),
        unitId=world.gid("Unit:alice"),
        description="楼道里有股怪味",
        category="CLEANING",
        priority="LOW",
    )
    # nobody in Lakeside cleans: NEW, waiting for a dispatcher
    assert (ticket["status"], ticket["category"], ticket["priority"], ticket["assignee"]) == (
        "NEW",
        "CLEANING",
        "LOW",
        None,
    )


async def test_dispatcher_files_a_phone_report_on_an_owners_behalf(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    ticket = await submit(
        client,
        world.token("dispatcher_a"),
        unitId=world.gid("Unit:alice"),
        reporterPartyId=world.gid("Party:alice"),
        description="空调不制冷",
    )
    assert (ticket["status"], ticket["assignee"]["name"]) == ("ASSIGNED", "吴师傅")
    events = await _events(client, world.token("alice"), ticket["id"])
    assert (events[0]["actorRole"], events[0]["actorName"]) == ("DISPATCHER", "dispatcher_a")
    foreign_party = await submit(
        client,
        world.token("dispatcher_a"),
        unitId=world.gid("Unit:alice"),
        reporterPartyId=world.gid("Party:carol"),
        description="漏水",
    )
    assert (foreign_party["code"], foreign_party["field"]) == ("NOT_FOUND", "reporterPartyId")


async def test_with_auto_dispatch_off_a_new_ticket_waits_for_the_dispatcher(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    settings = await gql(
        client,
        SETTINGS,
        {"input": {"projectId": world.gid("Project:lakeside"), "autoDispatch": False}},
        token=world.token("admin_a"),
    )
    assert settings["data"]["updateDispatchSettings"] == {"__typename": "DispatchSettings", "autoDispatch": False}
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="厨房水龙头坏了")
    assert (ticket["status"], ticket["assignee"]) == ("NEW", None)


async def test_only_owners_and_dispatchers_report_and_input_is_checked(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    fields = {"unitId": world.gid("Unit:alice"), "description": "漏水"}
    for user in ("tech_a", "finance_a"):
        result = await gql(
            client,
            "mutation($i: SubmitTicketInput!){ submitTicket(input:$i){ __typename } }",
            {"i": fields},
            token=world.token(user),
        )
        assert error_codes(result) == ["FORBIDDEN"], user
    anonymous = await gql(
        client, "mutation($i: SubmitTicketInput!){ submitTicket(input:$i){ __typename } }", {"i": fields}
    )
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]
    empty = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="   ")
    assert (empty["code"], empty["field"]) == ("BAD_USER_INPUT", "description")
    async with state.session_factory() as session:
        assert await count_rows(session, Ticket) == 0


async def test_events_are_published_after_commit_on_ticket_board_and_technician_channels(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    publisher = RecordingPublisher()
    state.services.publisher = publisher
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    async with state.session_factory() as session:
        ticket_id = (await session.scalars(select(Ticket.id))).one()
    lake, tech = world.ids["Project:lakeside"], world.ids["Technician:a"]
    submitted = f'{{"project":{lake},"ticket":{ticket_id},"seq":1,"type":"SUBMITTED"}}'
    assigned = f'{{"project":{lake},"ticket":{ticket_id},"seq":2,"type":"ASSIGNED"}}'
    assert publisher.messages == [
        (f"ticket:{ticket_id}", submitted),
        (f"board:{lake}", submitted),
        (f"ticket:{ticket_id}", assigned),
        (f"board:{lake}", assigned),
        (f"technician:{tech}", assigned),
    ]
    # a failed mutation publishes nothing
    publisher.messages.clear()
    await submit(client, world.token("alice"), unitId=world.gid("Unit:bob"), description="漏水")
    assert publisher.messages == []
    assert ticket["status"] == "ASSIGNED"


async def test_a_broadcast_backend_that_fails_never_fails_the_mutation(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_dispatch_world(state)
    state.services.publisher = RecordingPublisher(fail=True)
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    assert ticket["status"] == "ASSIGNED"
    async with state.session_factory() as session:
        assert await count_rows(session, TicketEvent) == 2
