"""dayRoutes and myRoute: a technician's day as a route, planned from the tickets' state, on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import func, select

from api.state import AppState
from db.models import OwnerAvailability, Ticket
from kernel.vocabulary import Category, Priority, TicketStatus
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, insert_ticket
from tests.integration.world import World, gid, gql

# 09:00 in Asia/Shanghai, the world's project zone: the whole working day is still ahead.
MORNING = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)

ROUTE_FIELDS = """
    technicianId
    travelMeters
    stops { ticketId startsAt endsAt travelMinutes reasons { code minutes skill text } }
    breaks { startsAt minutes }
"""
DAY_ROUTES = f"""
query ($p: ID!) {{
  dayRoutes(projectId: $p) {{ cost routes {{ {ROUTE_FIELDS} }} unplanned {{ ticketId code }} }}
}}
"""
MY_ROUTE = f"{{ myRoute {{ {ROUTE_FIELDS} }} }}"


async def _tickets(state: AppState, world: World, now: dt.datetime, *specs: dict[str, Any]) -> list[int]:
    ids = []
    async with state.session_factory() as session, session.begin():
        for spec in specs:
            values = {
                "building_id": world.ids["Building:a1"],
                "created_at": now,
                "updated_at": now,
                "sla_started_at": now,
                "respond_due_at": now + dt.timedelta(minutes=30),
                "on_site_due_at": now + dt.timedelta(hours=4),
                "resolve_due_at": now + dt.timedelta(hours=24),
            }
            ids.append(await insert_ticket(session, world.ids["Project:lakeside"], **(values | spec)))
    return ids


def _route_of(routes: dict[str, Any], technician: str) -> dict[str, Any]:
    return next(route for route in routes["routes"] if route["technicianId"] == technician)


def _codes(stop: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in stop["reasons"]]


async def test_the_dispatcher_sees_every_route_with_its_reasons_and_a_technician_only_their_own(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given the morning, 陈师傅 (plumbing, electrical) holding a leak, and a lift fault nobody can repair
    clock.now = MORNING
    world = await build_dispatch_world(state)
    tech_a = world.ids["Technician:a"]
    leak, lift = await _tickets(
        state,
        world,
        MORNING,
        {"category": Category.PLUMBING, "status": TicketStatus.ASSIGNED, "assignee_id": tech_a},
        {"category": Category.ELEVATOR},
    )

    # when the dispatcher and the technicians ask
    routes = (await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=world.token("dispatcher_a")))
    mine = await gql(client, MY_ROUTE, token=world.token("tech_a"))
    hvac = await gql(client, MY_ROUTE, token=world.token("tech_hvac"))

    # then the leak is 陈师傅's first stop, in the morning, for the reasons given
    day = routes["data"]["dayRoutes"]
    route = _route_of(day, world.gid("Technician:a"))
    (stop,) = route["stops"]
    assert stop["ticketId"] == gid("Ticket", leak)
    assert _codes(stop) == ["ASSIGNED", "SKILL", "SLA_ON_TIME"]
    assert stop["reasons"][1]["text"] == "具备水暖技能"
    assert stop["startsAt"] == "2026-11-02T09:00:00+08:00"  # the technician is at the building
    assert stop["endsAt"] == "2026-11-02T09:40:00+08:00"  # a plumbing visit: 40 minutes
    assert day["unplanned"] == [{"ticketId": gid("Ticket", lift), "code": "NO_TECHNICIAN_WITH_SKILL"}]
    assert {r["technicianId"] for r in day["routes"]} == {
        world.gid("Technician:a"),
        world.gid("Technician:far"),
        world.gid("Technician:hvac"),
    }
    # and each technician reads their own route, the same as the dispatcher's
    assert mine["data"]["myRoute"] == route
    assert hvac["data"]["myRoute"]["technicianId"] == world.gid("Technician:hvac")
    assert hvac["data"]["myRoute"]["stops"] == []


async def test_an_urgent_ticket_joins_a_running_plan_behind_the_visits_under_way(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given 陈师傅 on site at one leak and on his way to a second, 5 km of plumbing jobs away
    clock.now = MORNING
    world = await build_dispatch_world(state)
    tech_a = world.ids["Technician:a"]
    on_site, heading = await _tickets(
        state,
        world,
        MORNING,
        {"category": Category.PLUMBING, "status": TicketStatus.ON_SITE, "assignee_id": tech_a, "on_site_at": MORNING},
        {"category": Category.ELECTRICAL, "status": TicketStatus.ACCEPTED, "assignee_id": tech_a},
    )
    clock.now = MORNING + dt.timedelta(minutes=10)
    # when an urgent electrical fault comes in at the same building, unassigned
    (urgent,) = await _tickets(
        state,
        world,
        clock.now,
        {
            "category": Category.ELECTRICAL,
            "priority": Priority.URGENT,
            "on_site_due_at": clock.now + dt.timedelta(hours=1),
        },
    )
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=world.token("dispatcher_a"))

    # then the visit under way and the next one keep their places, and the urgent one follows them
    stops = _route_of(routes["data"]["dayRoutes"], world.gid("Technician:a"))["stops"]
    assert [stop["ticketId"] for stop in stops] == [gid("Ticket", on_site), gid("Ticket", heading), gid("Ticket", urgent)]
    assert _codes(stops[0])[0] == "UNDER_WAY"
    assert stops[0]["startsAt"] == "2026-11-02T09:10:00+08:00"
    assert stops[0]["endsAt"] == "2026-11-02T09:40:00+08:00"  # 40 plumbing minutes, 10 of them spent
    assert _codes(stops[1])[0] == "NEXT"
    # nobody else repairs electrics: it starts after both, 5 minutes past its hour, and the plan says so
    assert stops[2]["startsAt"] == "2026-11-02T10:15:00+08:00"
    assert [(r["code"], r["minutes"]) for r in stops[2]["reasons"]] == [("SKILL", None), ("SLA_LATE", 5)]
    assert stops[2]["reasons"][1]["text"] == "超出上门时限5分钟"
    async with state.session_factory() as session:
        # planning writes nothing: the tickets are as they were
        assert (await session.get(Ticket, urgent)).assignee_id is None  # type: ignore[union-attr]


async def test_someone_elses_project_answers_null_and_an_owner_is_forbidden(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    clock.now = MORNING
    world = await build_dispatch_world(state)

    foreign = await gql(client, DAY_ROUTES, {"p": world.gid("Project:hillside")}, token=world.token("dispatcher_a"))
    owner = await gql(client, MY_ROUTE, token=world.token("alice"))

    assert foreign["data"]["dayRoutes"] is None
    assert owner["errors"][0]["extensions"]["code"] == "FORBIDDEN"


PIN = """
mutation ($t: ID!, $who: ID, $at: DateTime) {
  pinVisit(ticketId: $t, technicianId: $who, startsAt: $at) {
    __typename ... on VisitPin { technicianId startsAt } ... on Error { code field }
  }
}
"""


async def test_a_pinned_visit_keeps_its_technician_and_time_and_a_bad_pin_writes_nothing(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given a waiting leak near 陈师傅
    clock.now = MORNING
    world = await build_dispatch_world(state)
    (leak,) = await _tickets(state, world, MORNING, {"category": Category.PLUMBING})
    token = world.token("dispatcher_a")

    # when the dispatcher pins it to 周师傅, 5 km away, at 14:00, and tries 吴师傅, who does no plumbing
    pinned = await gql(client, PIN, {"t": gid("Ticket", leak), "who": world.gid("Technician:far"), "at": "2026-11-02T14:00:00+08:00"}, token=token)
    refused = await gql(client, PIN, {"t": gid("Ticket", leak), "who": world.gid("Technician:hvac")}, token=token)
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)

    # then the plan keeps the pin, and the refused pin changed nothing
    assert pinned["data"]["pinVisit"] == {
        "__typename": "VisitPin",
        "technicianId": world.gid("Technician:far"),
        "startsAt": "2026-11-02T14:00:00+08:00",
    }
    assert refused["data"]["pinVisit"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "technicianId"}
    (stop,) = _route_of(routes["data"]["dayRoutes"], world.gid("Technician:far"))["stops"]
    assert (stop["ticketId"], stop["startsAt"]) == (gid("Ticket", leak), "2026-11-02T14:00:00+08:00")
    assert _codes(stop)[0] == "PINNED"
    assert _route_of(routes["data"]["dayRoutes"], world.gid("Technician:a"))["stops"] == []

    # and without a technician the pin is gone: the nearest plumber takes it at once
    unpinned = await gql(client, PIN, {"t": gid("Ticket", leak)}, token=token)
    again = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)
    assert unpinned["data"]["pinVisit"]["technicianId"] is None
    (stop,) = _route_of(again["data"]["dayRoutes"], world.gid("Technician:a"))["stops"]
    assert (stop["ticketId"], stop["startsAt"]) == (gid("Ticket", leak), "2026-11-02T09:00:00+08:00")


SET_SHIFT = """
mutation ($input: SetTechnicianShiftInput!) {
  setTechnicianShift(input: $input) {
    __typename
    ... on Technician { shifts { weekday onDate startsAt endsAt breaks { earliestStart latestStart minutes } } }
    ... on Error { code field }
  }
}
"""
CLEAR_SHIFT = """
mutation ($t: ID!, $day: Date) {
  clearTechnicianShift(technicianId: $t, onDate: $day) { __typename ... on Error { code field } }
}
"""
SHIFTS = "query ($id: ID!) { node(id: $id) { ... on Technician { shifts { weekday onDate startsAt } } } }"


async def _first_stop_start(client: httpx.AsyncClient, world: World, technician: str) -> str:
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=world.token("dispatcher_a"))
    stops = _route_of(routes["data"]["dayRoutes"], world.gid(technician))["stops"]
    return str(stops[0]["startsAt"])


async def test_a_technicians_stored_shift_and_break_shape_their_route_and_bad_hours_write_nothing(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given a waiting leak next to 陈师傅 on a Monday morning
    clock.now = MORNING
    world = await build_dispatch_world(state)
    await _tickets(state, world, MORNING, {"category": Category.PLUMBING, "assignee_id": world.ids["Technician:a"], "status": TicketStatus.ASSIGNED})
    token, tech_a = world.token("dispatcher_a"), world.gid("Technician:a")
    monday = {"technicianId": tech_a, "weekday": 1, "startsAt": "10:00:00", "endsAt": "16:00:00",
              "breaks": [{"earliestStart": "12:00:00", "latestStart": "12:30:00", "minutes": 30}]}

    # when the dispatcher sets his Mondays to 10:00–16:00, and tries hours that cannot be
    stored = await gql(client, SET_SHIFT, {"input": monday}, token=token)
    backwards = await gql(client, SET_SHIFT, {"input": monday | {"endsAt": "09:00:00"}}, token=token)
    outside = await gql(client, SET_SHIFT, {"input": monday | {"breaks": [{"earliestStart": "15:50:00", "latestStart": "15:50:00", "minutes": 30}]}}, token=token)
    both_days = await gql(client, SET_SHIFT, {"input": monday | {"onDate": "2026-11-02"}}, token=token)
    by_himself = await gql(client, SET_SHIFT, {"input": monday | {"startsAt": "06:00:00"}}, token=world.token("tech_a"))

    # then the hours are stored, each bad one is refused naming its field, and the route starts at 10:00
    assert stored["data"]["setTechnicianShift"]["shifts"] == [
        {"weekday": 1, "onDate": None, "startsAt": "10:00:00", "endsAt": "16:00:00",
         "breaks": [{"earliestStart": "12:00:00", "latestStart": "12:30:00", "minutes": 30}]}
    ]
    assert backwards["data"]["setTechnicianShift"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "endsAt"}
    assert outside["data"]["setTechnicianShift"]["field"] == "breaks.0"
    assert both_days["data"]["setTechnicianShift"]["field"] == "weekday"
    assert by_himself["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    own = await gql(client, SHIFTS, {"id": tech_a}, token=world.token("tech_a"))
    assert own["data"]["node"]["shifts"] == [{"weekday": 1, "onDate": None, "startsAt": "10:00:00"}]
    assert await _first_stop_start(client, world, "Technician:a") == "2026-11-02T10:00:00+08:00"

    # and this date's own hours override the week's until they are cleared
    dated = await gql(client, SET_SHIFT, {"input": {"technicianId": tech_a, "onDate": "2026-11-02", "startsAt": "13:00:00", "endsAt": "17:00:00"}}, token=token)
    assert dated["data"]["setTechnicianShift"]["__typename"] == "Technician"
    assert await _first_stop_start(client, world, "Technician:a") == "2026-11-02T13:00:00+08:00"
    cleared = await gql(client, CLEAR_SHIFT, {"t": tech_a, "day": "2026-11-02"}, token=token)
    again = await gql(client, CLEAR_SHIFT, {"t": tech_a, "day": "2026-11-02"}, token=token)
    assert cleared["data"]["clearTechnicianShift"] == {"__typename": "Technician"}
    assert again["data"]["clearTechnicianShift"] == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "onDate"}
    assert await _first_stop_start(client, world, "Technician:a") == "2026-11-02T10:00:00+08:00"


async def test_a_technician_whose_week_leaves_out_today_has_no_route(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    clock.now = MORNING
    world = await build_dispatch_world(state)
    tuesday = {"technicianId": world.gid("Technician:hvac"), "weekday": 2, "startsAt": "08:00:00", "endsAt": "17:00:00"}
    await gql(client, SET_SHIFT, {"input": tuesday}, token=world.token("dispatcher_a"))

    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=world.token("dispatcher_a"))

    assert {route["technicianId"] for route in routes["data"]["dayRoutes"]["routes"]} == {
        world.gid("Technician:a"),
        world.gid("Technician:far"),
    }


SET_AVAILABILITY = """
mutation ($t: ID!, $from: DateTime, $until: DateTime) {
  setOwnerAvailability(ticketId: $t, availableFrom: $from, availableUntil: $until) {
    __typename ... on Ticket { ownerAvailability { availableFrom availableUntil } } ... on Error { code field }
  }
}
"""
SUBMIT_WITH_WINDOW = """
mutation ($input: SubmitTicketInput!) {
  submitTicket(input: $input) {
    __typename ... on Ticket { id ownerAvailability { availableFrom availableUntil } } ... on Error { code field }
  }
}
"""


async def test_an_owner_says_when_they_are_home_and_the_visit_starts_inside_it(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given the morning
    clock.now = MORNING
    world = await build_dispatch_world(state)
    report = {"unitId": world.gid("Unit:alice"), "description": "厨房水龙头漏水", "category": "PLUMBING", "priority": "LOW"}

    # when alice reports a leak, home from 14:00 to 16:00, and a window that ends before it starts is refused
    refused = await gql(client, SUBMIT_WITH_WINDOW, {"input": report | {"availableFrom": "2026-11-02T16:00:00+08:00", "availableUntil": "2026-11-02T14:00:00+08:00"}}, token=world.token("alice"))
    filed = await gql(client, SUBMIT_WITH_WINDOW, {"input": report | {"availableFrom": "2026-11-02T14:00:00+08:00", "availableUntil": "2026-11-02T16:00:00+08:00"}}, token=world.token("alice"))
    ticket = filed["data"]["submitTicket"]

    # then the ticket keeps her window, and the plan starts the visit at 14:00, saying why
    assert refused["data"]["submitTicket"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "availableUntil"}
    assert ticket["ownerAvailability"] == {"availableFrom": "2026-11-02T06:00:00+00:00", "availableUntil": "2026-11-02T08:00:00+00:00"}
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=world.token("dispatcher_a"))
    stop = next(stop for route in routes["data"]["dayRoutes"]["routes"] for stop in route["stops"] if stop["ticketId"] == ticket["id"])
    assert stop["startsAt"] == "2026-11-02T14:00:00+08:00"
    assert "OWNER_WINDOW" in _codes(stop)

    # and bob may not touch her ticket, a bad window changes nothing, the dispatcher moves it, alice removes it
    bob = await gql(client, SET_AVAILABILITY, {"t": ticket["id"], "from": "2026-11-02T10:00:00+08:00", "until": "2026-11-02T11:00:00+08:00"}, token=world.token("bob"))
    over = await gql(client, SET_AVAILABILITY, {"t": ticket["id"], "from": "2026-11-02T07:00:00+08:00", "until": "2026-11-02T08:00:00+08:00"}, token=world.token("alice"))
    half = await gql(client, SET_AVAILABILITY, {"t": ticket["id"], "from": "2026-11-02T10:00:00+08:00"}, token=world.token("alice"))
    technician = await gql(client, SET_AVAILABILITY, {"t": ticket["id"]}, token=world.token("tech_a"))
    assert bob["data"]["setOwnerAvailability"] == {"__typename": "NotFoundError", "code": "NOT_FOUND", "field": "ticketId"}
    assert over["data"]["setOwnerAvailability"]["field"] == "availableUntil"
    assert half["data"]["setOwnerAvailability"]["field"] == "availableUntil"
    assert technician["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    moved = await gql(client, SET_AVAILABILITY, {"t": ticket["id"], "from": "2026-11-02T10:00:00+08:00", "until": "2026-11-02T11:00:00+08:00"}, token=world.token("dispatcher_a"))
    assert moved["data"]["setOwnerAvailability"]["ownerAvailability"] == {"availableFrom": "2026-11-02T02:00:00+00:00", "availableUntil": "2026-11-02T03:00:00+00:00"}
    removed = await gql(client, SET_AVAILABILITY, {"t": ticket["id"]}, token=world.token("alice"))
    assert removed["data"]["setOwnerAvailability"]["ownerAvailability"] is None
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(OwnerAvailability)) == 0
