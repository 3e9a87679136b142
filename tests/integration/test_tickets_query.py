"""tickets / node: who sees which tickets, every filter, pagination, technicians with their load."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from sqlalchemy import select

from api.state import AppState
from db.models import Ticket, TicketKind
from dispatch.model import SlaState
from dispatch.policy import may_see_ticket
from dispatch.queries import TicketFilterSpec, list_tickets
from dispatch.ticket_state import sla_state_at
from kernel.vocabulary import Category, Priority, TicketStatus
from register.accounts import load_principal
from tests.conftest import START, Clock
from tests.integration.dispatch_world import build_dispatch_world, report_trapped_in_lift, submit, transition
from tests.integration.world import World, error_codes, gql, statements_run

TICKETS = """
query ($filter: TicketFilter, $first: Int, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { description status } }
  }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { ... on Ticket { description attachments { id } events { type } } } }"
TECHNICIANS = "query ($p: ID!) { technicians(projectId: $p) { name currentLoad capacity } }"


async def _descriptions(client: httpx.AsyncClient, token: str, filter: dict[str, Any] | None = None) -> list[str]:
    result = await gql(client, TICKETS, {"filter": filter}, token=token)
    assert "errors" not in result, result
    return [edge["node"]["description"] for edge in result["data"]["tickets"]["edges"]]


async def _three_tickets(client: httpx.AsyncClient, world: World) -> list[dict[str, Any]]:
    leak = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    aircon = await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description="空调不制冷")
    lift = await report_trapped_in_lift(client, world)
    return [leak, aircon, lift]


async def test_each_role_sees_only_its_own_tickets(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    leak, aircon, lift = await _three_tickets(client, world)
    assert await _descriptions(client, world.token("dispatcher_a")) == ["电梯困人了！", "空调不制冷", "卫生间漏水"]
    assert await _descriptions(client, world.token("alice")) == ["卫生间漏水"]
    assert await _descriptions(client, world.token("bob")) == ["电梯困人了！", "空调不制冷"]
    assert await _descriptions(client, world.token("tech_a")) == ["卫生间漏水"]
    assert await _descriptions(client, world.token("tech_hvac")) == ["空调不制冷"]
    assert await _descriptions(client, world.token("admin_b")) == []
    # by id: someone else's ticket is null
    mine = await gql(client, NODE, {"id": leak["id"]}, token=world.token("alice"))
    assert mine["data"]["node"] == {
        "description": "卫生间漏水",
        "attachments": [],
        "events": [{"type": "SUBMITTED"}, {"type": "ASSIGNED"}],
    }
    for user in ("bob", "tech_hvac", "carol"):
        other = await gql(client, NODE, {"id": leak["id"]}, token=world.token(user))
        assert other["data"]["node"] is None, user
    anonymous = await gql(client, TICKETS, {})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_filters_narrow_the_list(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    world = await build_dispatch_world(state)
    leak, aircon, lift = await _three_tickets(client, world)
    token = world.token("dispatcher_a")
    assert await _descriptions(client, token, {"category": ["HVAC", "PLUMBING"]}) == ["空调不制冷", "卫生间漏水"]
    assert await _descriptions(client, token, {"priority": ["URGENT"]}) == ["电梯困人了！"]
    assert await _descriptions(client, token, {"status": ["NEW"]}) == ["电梯困人了！"]
    assert await _descriptions(client, token, {"buildingId": world.gid("Building:a2")}) == ["电梯困人了！"]
    assert await _descriptions(client, token, {"technicianId": world.gid("Technician:hvac")}) == ["空调不制冷"]
    assert await _descriptions(client, token, {"projectId": world.gid("Project:hillside")}) == []
    assert await _descriptions(client, token, {"kind": "MAINTENANCE"}) == []
    assert await _descriptions(client, token, {"createdAfter": "2026-11-02T09:00:01+00:00"}) == []
    assert await _descriptions(client, token, {"createdBefore": "2026-11-02T09:00:01+00:00"}) == [
        "电梯困人了！",
        "空调不制冷",
        "卫生间漏水",
    ]
    # 9 minutes in: the urgent lift (respond in 10 min) is past 80 %, nothing is breached
    clock.advance(minutes=9)
    assert await _descriptions(client, token, {"slaState": "WARNING"}) == ["电梯困人了！"]
    assert await _descriptions(client, token, {"slaState": "BREACHED"}) == []
    # 21 minutes in: the unaccepted HIGH leak (20 min) is breached too; the NORMAL air-con (30 min) warns
    clock.advance(minutes=12)
    assert await _descriptions(client, token, {"slaState": "BREACHED"}) == ["电梯困人了！", "卫生间漏水"]
    assert await _descriptions(client, token, {"slaState": "WARNING"}) == []
    await transition(client, world.token("tech_hvac"), aircon["id"], "ACCEPT")
    assert await _descriptions(client, token, {"slaState": "OK"}) == ["空调不制冷"]
    unknown = await _descriptions(client, token, {"buildingId": world.gid("Unit:alice")})
    assert unknown == []


SLA_STATES = "query ($filter: TicketFilter) { tickets(filter: $filter) { edges { node { description slaState } } } }"


async def test_a_page_shows_the_sla_state_its_filter_chose_even_as_the_clock_moves_under_the_request(
    client: httpx.AsyncClient, state: AppState, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_dispatch_world(state)
    await _three_tickets(client, world)
    token = world.token("dispatcher_a")
    start = clock.now

    def ticking(self: Clock) -> dt.datetime:
        # Every reading of the service's clock is a minute after the one before it.
        moment = self.now
        self.now += dt.timedelta(minutes=1)
        return moment

    monkeypatch.setattr(Clock, "__call__", ticking)
    shown: set[tuple[str, str]] = set()
    # From before the urgent lift's warning (8 minutes) to past its breach (10 minutes), half a minute
    # apart: some request filters just before a state changes and reads the rows' states just after.
    for offset in range(0, 30):
        for wanted in ("OK", "WARNING", "BREACHED"):
            clock.now = start + dt.timedelta(minutes=offset / 2)
            result = await gql(client, SLA_STATES, {"filter": {"slaState": wanted}}, token=token)
            assert "errors" not in result, result
            for edge in result["data"]["tickets"]["edges"]:
                assert edge["node"]["slaState"] == wanted, (offset, edge)
                shown.add((edge["node"]["description"], wanted))
    assert {("电梯困人了！", "OK"), ("电梯困人了！", "WARNING"), ("电梯困人了！", "BREACHED")} <= shown


async def test_pages_follow_the_cursor(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    await _three_tickets(client, world)
    token = world.token("dispatcher_a")
    first = (await gql(client, TICKETS, {"first": 2}, token=token))["data"]["tickets"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (3, True)
    rest = (await gql(client, TICKETS, {"first": 2, "after": first["pageInfo"]["endCursor"]}, token=token))["data"][
        "tickets"
    ]
    assert [edge["node"]["description"] for edge in rest["edges"]] == ["卫生间漏水"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_technicians_show_their_current_load(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    leak, aircon, _ = await _three_tickets(client, world)
    await transition(client, world.token("tech_a"), leak["id"], "ACCEPT")
    result = await gql(client, TECHNICIANS, {"p": world.gid("Project:lakeside")}, token=world.token("dispatcher_a"))
    assert result["data"]["technicians"] == [
        {"name": "陈师傅", "currentLoad": 1, "capacity": 3},
        {"name": "周师傅", "currentLoad": 0, "capacity": 2},
        {"name": "吴师傅", "currentLoad": 1, "capacity": 2},
    ]


BOARD_PAGE = """
query ($first: Int) {
  tickets(first: $first) {
    edges { node {
      description allowedActions
      unit { number building { name } }
      assignee { name phone currentLoad skills }
    } }
  }
}
"""


async def test_a_page_of_tickets_shows_each_viewer_its_share_of_the_assignee_in_a_constant_number_of_statements(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    leak, aircon, _ = await _three_tickets(client, world)
    await transition(client, world.token("tech_a"), leak["id"], "ACCEPT")

    with statements_run(state.engine) as one:
        first = await gql(client, BOARD_PAGE, {"first": 1}, token=world.token("dispatcher_a"))
    with statements_run(state.engine) as three:
        board = await gql(client, BOARD_PAGE, {"first": 3}, token=world.token("dispatcher_a"))
    owner = await gql(client, BOARD_PAGE, {"first": 3}, token=world.token("alice"))
    technician = await gql(client, BOARD_PAGE, {"first": 3}, token=world.token("tech_a"))

    nodes = [edge["node"] for edge in board["data"]["tickets"]["edges"]]
    assert first["data"]["tickets"]["edges"][0]["node"] == nodes[0]
    assert [(node["description"], node["unit"] and node["unit"]["number"]) for node in nodes] == [
        ("电梯困人了！", None),
        ("空调不制冷", nodes[1]["unit"]["number"]),
        ("卫生间漏水", nodes[2]["unit"]["number"]),
    ]
    staff_view = nodes[2]["assignee"]
    assert (staff_view["name"], staff_view["currentLoad"], staff_view["skills"]) == ("陈师傅", 1, ["PLUMBING", "ELECTRICAL"])
    (mine,) = [edge["node"] for edge in owner["data"]["tickets"]["edges"]]
    assert mine["assignee"]["name"] == "陈师傅"
    assert (mine["assignee"]["currentLoad"], mine["assignee"]["skills"]) == (None, None)
    assert "*" in mine["assignee"]["phone"] and "*" not in staff_view["phone"]
    (working,) = [edge["node"] for edge in technician["data"]["tickets"]["edges"]]
    assert (mine["allowedActions"], working["allowedActions"]) == (["CANCEL"], ["REJECT", "CHECK_IN"])
    # the caller's principal, the tickets with their units and buildings, the technicians with their loads
    assert len(one) == len(three) == 3


BOARD_WITHOUT_LOADS = """
query ($first: Int) {
  tickets(first: $first) { edges { node { ...Board } } }
}
fragment Board on Ticket { description assignee { name } }
"""


async def test_what_a_page_reads_ahead_follows_each_document_sent_again_and_again(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    leak, _, _ = await _three_tickets(client, world)
    await transition(client, world.token("tech_a"), leak["id"], "ACCEPT")
    runs: list[tuple[str, int, dict[str, Any]]] = []
    read: list[list[str]] = []
    for document in (BOARD_PAGE, BOARD_WITHOUT_LOADS, BOARD_PAGE, BOARD_WITHOUT_LOADS):
        with statements_run(state.engine) as statements:
            answer = await gql(client, document, {"first": 3}, token=world.token("dispatcher_a"))
        assert "errors" not in answer, answer
        read.append(list(statements))
        runs.append((document, len(statements), answer["data"]["tickets"]["edges"][2]["node"]["assignee"]))
    # the technicians' loads are read (with the technicians, by the same statement) only for the document
    # that asks for them, however often each is sent
    assert [(count, assignee.get("currentLoad")) for _, count, assignee in runs] == [(3, 1), (3, None), (3, 1), (3, None)]
    loads_read = [any("count(*)" in statement.lower() for statement in statements) for statements in read]
    assert loads_read == [True, False, True, False]


async def test_a_page_of_tickets_holds_the_tickets_the_predicate_lets_each_caller_see_under_every_filter(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given the three tickets, one accepted, and every kind of caller (the list's statement is built once
    # per shape of filters, with the caller's ids as parameters)
    world = await build_dispatch_world(state)
    leak, aircon, lift = await _three_tickets(client, world)
    await transition(client, world.token("tech_hvac"), aircon["id"], "ACCEPT")
    # one its unit's occupants did not report: the dispatcher files it
    await submit(client, world.token("dispatcher_a"), unitId=world.gid("Unit:alice"), description="门锁坏了")
    clock.advance(minutes=9)
    now = clock.now
    async with state.session_factory() as session:
        every_ticket = (await session.scalars(select(Ticket).order_by(Ticket.id.desc()))).all()
    lakeside, a2 = world.ids["Project:lakeside"], world.ids["Building:a2"]
    hvac = world.ids["Technician:hvac"]
    for user in world.users:
        async with state.session_factory() as session:
            principal = await load_principal(session, world.users[user], today=now.date())
        if principal is None:
            continue
        visible = [ticket for ticket in every_ticket if may_see_ticket(principal, ticket)]
        expected = [
            (TicketFilterSpec(), visible),
            (TicketFilterSpec(project_id=lakeside, statuses=[TicketStatus.NEW, TicketStatus.ASSIGNED]), [
                t for t in visible if t.project_id == lakeside and t.status in {TicketStatus.NEW, TicketStatus.ASSIGNED}
            ]),
            (TicketFilterSpec(statuses=[]), []),
            (TicketFilterSpec(categories=[Category.HVAC], priorities=[Priority.NORMAL, Priority.HIGH]), [
                t for t in visible if t.category is Category.HVAC and t.priority in {Priority.NORMAL, Priority.HIGH}
            ]),
            (TicketFilterSpec(building_id=a2, kind=TicketKind.REPAIR), [t for t in visible if t.building_id == a2]),
            (TicketFilterSpec(technician_id=hvac), [t for t in visible if t.assignee_id == hvac]),
            (TicketFilterSpec(sla_state=SlaState.WARNING), [t for t in visible if sla_state_at(t, now) is SlaState.WARNING]),
            (TicketFilterSpec(sla_state=SlaState.OK, created_after=START), [
                t for t in visible if sla_state_at(t, now) is SlaState.OK and t.created_at >= START
            ]),
            (TicketFilterSpec(created_before=START), []),
        ]
        for spec, tickets in expected:
            # when the list is read a page at a time
            first = await list_tickets(state.session_factory, principal, now=now, spec=spec, limit=2, before_id=None)
            read = [row.id for row in first.rows[:2]]
            if len(first.rows) > 2:  # the extra row: another page follows
                rest = await list_tickets(
                    state.session_factory, principal, now=now, spec=spec, limit=100, before_id=read[-1]
                )
                read += [row.id for row in rest.rows]
            # then the pages hold those tickets, newest first, and the count counts them all
            assert read == [t.id for t in tickets], (user, spec)
            assert await first.count() == len(tickets), (user, spec)
