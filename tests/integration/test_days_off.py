"""A technician's single day off (leave, sick): set and cleared by dispatchers through GraphQL, read on the
roster, and kept alike by the day's routes, the assignment solver and a dispatcher's manual assignment (a
night shift belongs to the day it started), on both databases."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import Ticket, TicketEvent
from kernel.vocabulary import Category, TicketEventType, TicketStatus
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, insert_ticket
from tests.integration.test_day_routes import DAY_ROUTES, MORNING, SET_SHIFT, _route_of
from tests.integration.test_dispatch_mutations import OPTIMIZE
from tests.integration.test_night_shifts import NIGHT
from tests.integration.world import World, gid, gql

SET_DAY_OFF = """
mutation ($input: SetTechnicianDayOffInput!) {
  setTechnicianDayOff(input: $input) {
    __typename ... on Technician { daysOff { onDate reason reasonText note } } ... on Error { code field }
  }
}
"""
CLEAR_DAY_OFF = """
mutation ($t: ID!, $day: Date!) {
  clearTechnicianDayOff(technicianId: $t, onDate: $day) { __typename ... on Error { code field } }
}
"""
DAYS_OFF = "query ($id: ID!) { node(id: $id) { ... on Technician { daysOff { onDate reason } } } }"


async def test_a_technician_off_today_gets_no_route_and_no_assignment_until_the_day_off_is_taken_back(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given Monday morning and a waiting leak at 陈师傅's building (周师傅, the other plumber, is 5 km away)
    clock.now = MORNING
    world = await build_dispatch_world(state)
    async with state.session_factory() as session, session.begin():
        leak = await insert_ticket(
            session, world.ids["Project:lakeside"], building_id=world.ids["Building:a1"], category=Category.PLUMBING,
            created_at=MORNING, updated_at=MORNING, sla_started_at=MORNING,
            respond_due_at=MORNING + dt.timedelta(minutes=30), on_site_due_at=MORNING + dt.timedelta(hours=4),
            resolve_due_at=MORNING + dt.timedelta(hours=24),
        )
    token, tech_a = world.token("dispatcher_a"), world.gid("Technician:a")
    sick = {"technicianId": tech_a, "onDate": "2026-11-02", "reason": "SICK", "note": "发烧"}

    # when the dispatcher marks him sick today, and others try what they may not
    marked = await gql(client, SET_DAY_OFF, {"input": sick}, token=token)
    by_himself = await gql(client, SET_DAY_OFF, {"input": sick}, token=world.token("tech_a"))
    other_project = await gql(client, SET_DAY_OFF, {"input": sick}, token=world.token("admin_b"))
    yesterday = await gql(client, SET_DAY_OFF, {"input": sick | {"onDate": "2026-11-01"}}, token=token)

    # then the day off is stored and read back, and each refusal wrote nothing
    assert marked["data"]["setTechnicianDayOff"] == {
        "__typename": "Technician",
        "daysOff": [{"onDate": "2026-11-02", "reason": "SICK", "reasonText": "病假", "note": "发烧"}],
    }
    assert by_himself["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert other_project["data"]["setTechnicianDayOff"] == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "technicianId"}
    assert yesterday["data"]["setTechnicianDayOff"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "onDate"}
    own = await gql(client, DAYS_OFF, {"id": tech_a}, token=world.token("tech_a"))
    assert own["data"]["node"]["daysOff"] == [{"onDate": "2026-11-02", "reason": "SICK"}]

    # and today's routes leave him out, and the solver gives the leak to 周师傅 instead
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)
    assert tech_a not in {route["technicianId"] for route in routes["data"]["dayRoutes"]["routes"]}
    (stop,) = _route_of(routes["data"]["dayRoutes"], world.gid("Technician:far"))["stops"]
    assert stop["ticketId"] == gid("Ticket", leak)
    plan = await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside"), "apply": False}, token=token)
    assert [a["technician"]["name"] for a in plan["data"]["optimizeDispatch"]["assignments"]] == ["周师傅"]

    # and once the day off is taken back he is planned and assigned again
    cleared = await gql(client, CLEAR_DAY_OFF, {"t": tech_a, "day": "2026-11-02"}, token=token)
    again = await gql(client, CLEAR_DAY_OFF, {"t": tech_a, "day": "2026-11-02"}, token=token)
    assert cleared["data"]["clearTechnicianDayOff"] == {"__typename": "Technician"}
    assert again["data"]["clearTechnicianDayOff"] == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "onDate"}
    plan = await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside"), "apply": False}, token=token)
    assert [a["technician"]["name"] for a in plan["data"]["optimizeDispatch"]["assignments"]] == ["陈师傅"]
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)
    assert [s["ticketId"] for s in _route_of(routes["data"]["dayRoutes"], tech_a)["stops"]] == [gid("Ticket", leak)]


ASSIGN_OVERRIDING = """
mutation ($t: ID!, $tech: ID!, $override: Boolean!) {
  assignTicket(ticketId: $t, technicianId: $tech, overrideDayOff: $override) {
    __typename ... on Ticket { status assignee { name } } ... on Error { code field message }
  }
}
"""
# Monday 2 November 2026, 21:00 in Shanghai; Tuesday 01:00 and 06:30 there.
MONDAY_EVENING = dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC)
TUESDAY_ONE = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)
TUESDAY_HALF_SIX = dt.datetime(2026, 11, 2, 22, 30, tzinfo=dt.UTC)


async def _waiting_leak(state: AppState, world: World, at: dt.datetime) -> int:
    """A NEW leak at 陈师傅's building (周师傅, the other plumber, is 5 km away)."""
    async with state.session_factory() as session, session.begin():
        return await insert_ticket(
            session, world.ids["Project:lakeside"], building_id=world.ids["Building:a1"], category=Category.PLUMBING,
            created_at=at, updated_at=at, sla_started_at=at, respond_due_at=at + dt.timedelta(minutes=30),
            on_site_due_at=at + dt.timedelta(hours=4), resolve_due_at=at + dt.timedelta(hours=24),
        )


async def _planned_and_chosen(client: httpx.AsyncClient, world: World) -> tuple[bool, list[str]]:
    """Whether 陈师傅 has a route today, and whom the solver gives the waiting tickets to."""
    token = world.token("dispatcher_a")
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)
    plan = await gql(client, OPTIMIZE, {"p": world.gid("Project:lakeside"), "apply": False}, token=token)
    planned = world.gid("Technician:a") in {route["technicianId"] for route in routes["data"]["dayRoutes"]["routes"]}
    return planned, [a["technician"]["name"] for a in plan["data"]["optimizeDispatch"]["assignments"]]


async def test_a_night_shift_that_started_before_a_day_off_is_worked_to_its_end_by_routes_solver_and_dispatcher_alike(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given 陈师傅 on Monday nights 22:00–06:00 and off sick on Tuesday, and a leak at his building
    clock.now = MONDAY_EVENING
    world = await build_dispatch_world(state)
    token, tech_a = world.token("dispatcher_a"), world.gid("Technician:a")
    assert (await gql(client, SET_SHIFT, {"input": NIGHT | {"technicianId": tech_a}}, token=token))["data"]["setTechnicianShift"]["__typename"] == "Technician"
    tuesday_off = {"technicianId": tech_a, "onDate": "2026-11-03", "reason": "SICK"}
    assert (await gql(client, SET_DAY_OFF, {"input": tuesday_off}, token=token))["data"]["setTechnicianDayOff"]["__typename"] == "Technician"
    leak = await _waiting_leak(state, world, MONDAY_EVENING)

    # when the dispatcher looks on Tuesday at 01:00, during the shift that began on Monday
    clock.now = TUESDAY_ONE

    # then his Monday shift is still his: the routes plan him and the solver gives him the leak, and a
    # dispatcher may hand it to him without overriding anything
    assert await _planned_and_chosen(client, world) == (True, ["陈师傅"])
    assigned = await gql(client, ASSIGN_OVERRIDING, {"t": gid("Ticket", leak), "tech": tech_a, "override": False}, token=token)
    assert assigned["data"]["assignTicket"] == {"__typename": "Ticket", "status": "ASSIGNED", "assignee": {"name": "陈师傅"}}

    # and after the shift ends at 06:00 his Tuesday is a day off for both: the leak goes to 周师傅
    clock.now = TUESDAY_HALF_SIX
    assert await _planned_and_chosen(client, world) == (False, ["周师傅"])


async def test_a_day_off_before_a_night_shift_removes_it_after_midnight_for_routes_and_solver_alike(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given 陈师傅 on Monday nights 22:00–06:00 but on leave on Monday, and a leak at his building
    clock.now = MONDAY_EVENING
    world = await build_dispatch_world(state)
    token, tech_a = world.token("dispatcher_a"), world.gid("Technician:a")
    await gql(client, SET_SHIFT, {"input": NIGHT | {"technicianId": tech_a}}, token=token)
    monday_off = {"technicianId": tech_a, "onDate": "2026-11-02", "reason": "LEAVE"}
    assert (await gql(client, SET_DAY_OFF, {"input": monday_off}, token=token))["data"]["setTechnicianDayOff"]["__typename"] == "Technician"
    leak = await _waiting_leak(state, world, MONDAY_EVENING)

    # when the dispatcher looks on Tuesday at 01:00, a date he has no day off
    clock.now = TUESDAY_ONE

    # then the shift he did not start is not his: no route, and the solver gives the leak to 周师傅; his
    # day off was Monday's, so a dispatcher who wants him anyway (off shift, not off) needs no override
    assert await _planned_and_chosen(client, world) == (False, ["周师傅"])
    chosen = await gql(client, ASSIGN_OVERRIDING, {"t": gid("Ticket", leak), "tech": tech_a, "override": False}, token=token)
    assert chosen["data"]["assignTicket"]["assignee"] == {"name": "陈师傅"}


async def test_a_manual_assignment_to_someone_off_today_is_refused_unless_the_dispatcher_overrides_it(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given Monday morning, 陈师傅 off sick today and a waiting leak
    clock.now = MORNING
    world = await build_dispatch_world(state)
    token, tech_a = world.token("dispatcher_a"), world.gid("Technician:a")
    sick = {"technicianId": tech_a, "onDate": "2026-11-02", "reason": "SICK"}
    assert (await gql(client, SET_DAY_OFF, {"input": sick}, token=token))["data"]["setTechnicianDayOff"]["__typename"] == "Technician"
    leak = await _waiting_leak(state, world, MORNING)
    ticket = gid("Ticket", leak)

    # when the dispatcher assigns it to him, first plainly, then overriding his day off
    refused = await gql(client, ASSIGN_OVERRIDING, {"t": ticket, "tech": tech_a, "override": False}, token=token)
    async with state.session_factory() as session:
        untouched = await session.get(Ticket, leak)
        assert untouched is not None
        assert (untouched.status, untouched.assignee_id, untouched.version) == (TicketStatus.NEW, None, 1)
    called_in = await gql(client, ASSIGN_OVERRIDING, {"t": ticket, "tech": tech_a, "override": True}, token=token)

    # then the first is refused naming the technician's field (in English, as every API message: front ends
    # translate the code) and writes nothing; the override
    # assigns him and the ticket's history keeps which day off it overrode
    assert refused["data"]["assignTicket"] == {
        "__typename": "BadUserInputError",
        "code": "BAD_USER_INPUT",
        "field": "technicianId",
        "message": "The technician is off on 2026-11-02; send overrideDayOff: true to assign anyway.",
    }
    assert called_in["data"]["assignTicket"] == {"__typename": "Ticket", "status": "ASSIGNED", "assignee": {"name": "陈师傅"}}
    async with state.session_factory() as session:
        events = (await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == leak).order_by(TicketEvent.seq))).all()
    assert [(event.type, event.payload["mode"], event.payload["dayOffOverridden"]) for event in events] == [
        (TicketEventType.ASSIGNED, "manual", "2026-11-02")
    ]
