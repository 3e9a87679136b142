"""A technician's single day off (leave, sick): set and cleared by dispatchers through GraphQL, read on the
roster, and kept by the day's routes and by the assignment solver, on both databases."""

from __future__ import annotations

import datetime as dt

import httpx

from api.state import AppState
from kernel.vocabulary import Category
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, insert_ticket
from tests.integration.test_day_routes import DAY_ROUTES, MORNING, _route_of
from tests.integration.test_dispatch_mutations import OPTIMIZE
from tests.integration.world import gid, gql

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
