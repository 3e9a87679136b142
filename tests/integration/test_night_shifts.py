"""Night shifts on the day routes: a shift from 22:00 to 06:00 in Asia/Shanghai (UTC+8, no clock changes),
its break after midnight and the owners' windows, planned the evening it starts and, after midnight, as
part of the next day's plan; through the use case and through GraphQL, on both databases."""

from __future__ import annotations

import datetime as dt

import httpx

from api.state import AppState
from db.models import Project
from dispatch.day_routes import plan_day_routes
from kernel.vocabulary import Category, TicketStatus
from register.accounts import load_principal
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, insert_ticket
from tests.integration.test_day_routes import DAY_ROUTES, SET_SHIFT, _route_of
from tests.integration.world import World, gid, gql

# Monday 2 November 2026, 21:00 in Shanghai (13:00 UTC).
MONDAY_EVENING = dt.datetime(2026, 11, 2, 13, 0, tzinfo=dt.UTC)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
NIGHT = {
    "weekday": 1,
    "startsAt": "22:00:00",
    "endsAt": "06:00:00",
    "endsNextDay": True,
    "breaks": [{"earliestStart": "02:00:00", "latestStart": "02:30:00", "minutes": 30}],
}


async def _night_leak(state: AppState, world: World) -> int:
    """A leak held by 陈师傅 whose owner is home from 02:00 to 03:30 on Tuesday morning."""
    async with state.session_factory() as session, session.begin():
        return await insert_ticket(
            session,
            world.ids["Project:lakeside"],
            building_id=world.ids["Building:a1"],
            category=Category.PLUMBING,
            status=TicketStatus.ASSIGNED,
            assignee_id=world.ids["Technician:a"],
            created_at=MONDAY_EVENING,
            updated_at=MONDAY_EVENING,
            sla_started_at=MONDAY_EVENING,
            respond_due_at=MONDAY_EVENING + dt.timedelta(minutes=30),
            on_site_due_at=MONDAY_EVENING + dt.timedelta(hours=12),
            resolve_due_at=MONDAY_EVENING + dt.timedelta(hours=24),
        )


AVAILABILITY = """
mutation ($t: ID!, $from: DateTime, $until: DateTime) {
  setOwnerAvailability(ticketId: $t, availableFrom: $from, availableUntil: $until) { __typename }
}
"""


async def test_a_night_shift_is_planned_across_midnight_the_evening_it_starts_and_after_midnight(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given 陈师傅 working Monday nights 22:00–06:00 with half an hour's break from 02:00–02:30, and a leak
    # whose owner is home on Tuesday from 02:00 to 03:30
    clock.now = MONDAY_EVENING
    world = await build_dispatch_world(state)
    token, tech_a = world.token("dispatcher_a"), world.gid("Technician:a")
    stored = await gql(client, SET_SHIFT, {"input": NIGHT | {"technicianId": tech_a}}, token=token)
    leak = await _night_leak(state, world)
    window = {"t": gid("Ticket", leak), "from": "2026-11-03T02:00:00+08:00", "until": "2026-11-03T03:30:00+08:00"}
    assert (await gql(client, AVAILABILITY, window, token=token))["data"]["setOwnerAvailability"]["__typename"] == "Ticket"

    # then the shift is kept on the clock with its end on the next day
    assert stored["data"]["setTechnicianShift"]["shifts"] == [
        {"weekday": 1, "onDate": None, "startsAt": "22:00:00", "endsAt": "06:00:00",
         "breaks": [{"earliestStart": "02:00:00", "latestStart": "02:30:00", "minutes": 30}]}
    ]
    read = await gql(client, "query ($id: ID!) { node(id: $id) { ... on Technician { shifts { endsNextDay } } } }", {"id": tech_a}, token=token)
    assert read["data"]["node"]["shifts"] == [{"endsNextDay": True}]

    # when the dispatcher asks on Monday at 23:00, and again on Tuesday at 01:00 (Monday 17:00 in UTC)
    for now in (MONDAY_EVENING + dt.timedelta(hours=2), MONDAY_EVENING + dt.timedelta(hours=4)):
        clock.now = now
        routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)

        # then the break is taken at 02:00 Tuesday and the leak comes after it, inside the owner's window
        route = _route_of(routes["data"]["dayRoutes"], tech_a)
        assert route["breaks"] == [{"startsAt": "2026-11-03T02:00:00+08:00", "minutes": 30}], now
        (stop,) = route["stops"]
        assert (stop["ticketId"], stop["startsAt"], stop["endsAt"]) == (
            gid("Ticket", leak), "2026-11-03T02:30:00+08:00", "2026-11-03T03:10:00+08:00"
        ), now

    # and the use case itself plans the same from Tuesday 01:00: Monday's shift, not a Tuesday one (he
    # has none), in Tuesday's plan
    async with state.session_factory() as session:
        principal = await load_principal(session, world.users["dispatcher_a"], today=clock.now.date())
    assert principal is not None
    day = await plan_day_routes(state.session_factory, principal, project_id=world.ids["Project:lakeside"], now=clock.now)
    assert day.midnight == dt.datetime(2026, 11, 3, tzinfo=SHANGHAI)
    (planned,) = day.plan.route_of(world.ids["Technician:a"]).stops  # type: ignore[union-attr]
    assert day.at(planned.starts) == dt.datetime(2026, 11, 3, 2, 30, tzinfo=SHANGHAI)


async def test_after_the_night_shift_ends_the_morning_plan_has_no_route_for_it(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given 陈师傅 on Monday nights only
    clock.now = MONDAY_EVENING
    world = await build_dispatch_world(state)
    token = world.token("dispatcher_a")
    await gql(client, SET_SHIFT, {"input": NIGHT | {"technicianId": world.gid("Technician:a")}}, token=token)

    # when the dispatcher asks on Tuesday at 05:30 and at 06:30
    clock.now = dt.datetime(2026, 11, 2, 21, 30, tzinfo=dt.UTC)
    before_six = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)
    clock.now = dt.datetime(2026, 11, 2, 22, 30, tzinfo=dt.UTC)
    after_six = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)

    # then he is on the plan until his shift ends at 06:00, and not after
    def technicians(routes: dict[str, object]) -> set[str]:
        return {route["technicianId"] for route in routes["data"]["dayRoutes"]["routes"]}  # type: ignore[index]

    assert world.gid("Technician:a") in technicians(before_six)
    assert world.gid("Technician:a") not in technicians(after_six)


async def test_a_night_shift_over_a_clock_change_lasts_its_real_hours(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given a project in New York, where clocks go back from 02:00 to 01:00 on Sunday 1 November 2026, and
    # 陈师傅 working Saturday night 22:00–06:00 (nine hours that night), with a leak whose owner is home
    # from 05:00 to 06:00 on Sunday
    clock.now = dt.datetime(2026, 10, 31, 20, 0, tzinfo=dt.UTC)
    world = await build_dispatch_world(state)
    async with state.session_factory() as session, session.begin():
        project = await session.get(Project, world.ids["Project:lakeside"])
        assert project is not None
        project.timezone = "America/New_York"
    token = world.token("dispatcher_a")
    saturday_night = NIGHT | {"weekday": 6, "breaks": [], "technicianId": world.gid("Technician:a")}
    assert (await gql(client, SET_SHIFT, {"input": saturday_night}, token=token))["data"]["setTechnicianShift"]["__typename"] == "Technician"
    leak = await _night_leak(state, world)
    window = {"t": gid("Ticket", leak), "from": "2026-11-01T05:00:00-05:00", "until": "2026-11-01T06:00:00-05:00"}
    assert (await gql(client, AVAILABILITY, window, token=token))["data"]["setOwnerAvailability"]["__typename"] == "Ticket"

    # when the dispatcher asks on Sunday at 00:30, before the clocks go back
    clock.now = dt.datetime(2026, 11, 1, 4, 30, tzinfo=dt.UTC)
    routes = await gql(client, DAY_ROUTES, {"p": world.gid("Project:lakeside")}, token=token)

    # then the visit starts at 05:00 standard time and ends before the shift's end at 06:00
    (stop,) = _route_of(routes["data"]["dayRoutes"], world.gid("Technician:a"))["stops"]
    assert (stop["startsAt"], stop["endsAt"]) == ("2026-11-01T05:00:00-05:00", "2026-11-01T05:40:00-05:00")
