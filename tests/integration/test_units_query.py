"""units: visibility per role, filters, pagination, and a constant number of SQL statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx

from api.state import AppState
from db.models import Building, Occupancy, OccupancyRelation, Party, Unit
from kernel.vocabulary import UnitKind
from tests.integration.world import build_world, error_codes, gql, statements_run

UNITS = """
query Units($projectId: ID!, $filter: UnitFilter, $first: Int, $after: String) {
  units(projectId: $projectId, filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { number kind floorArea building { name } } }
  }
}
"""
UNITS_WITH_OCCUPANTS = """
query Units($projectId: ID!) {
  units(projectId: $projectId, first: 100) {
    edges { node { number building { name } occupancies { relation party { name phone } } } }
  }
}
"""


def numbers(result: dict) -> list[str]:
    return [f"{e['node']['building']['name']}-{e['node']['number']}" for e in result["data"]["units"]["edges"]]


async def test_staff_see_every_unit_of_their_project(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    result = await gql(client, UNITS, {"projectId": world.gid("Project:lakeside")}, token=world.token("finance_a"))
    assert numbers(result) == ["A1-101", "A1-102", "A2-201", "A2-S01"]
    assert result["data"]["units"]["totalCount"] == 4
    assert result["data"]["units"]["edges"][0]["node"]["floorArea"] == "88.50"


async def test_an_owner_sees_only_the_units_they_occupy(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    result = await gql(client, UNITS, {"projectId": world.gid("Project:lakeside")}, token=world.token("alice"))
    assert numbers(result) == ["A1-101"]
    assert result["data"]["units"]["totalCount"] == 1


async def test_another_projects_units_are_simply_absent(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    result = await gql(client, UNITS, {"projectId": world.gid("Project:hillside")}, token=world.token("admin_a"))
    assert result["data"]["units"]["edges"] == []
    assert result["data"]["units"]["totalCount"] == 0


async def test_an_id_that_is_not_a_project_answers_an_empty_page(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    for project in (world.gid("Unit:alice"), "not-an-id"):
        result = await gql(client, UNITS, {"projectId": project}, token=world.token("admin_a"))
        assert result == {
            "data": {"units": {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}}
        }


async def test_filters_by_building_kind_status_and_search(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    token, project = world.token("admin_a"), world.gid("Project:lakeside")

    async def run(filter_: dict) -> list[str]:
        return numbers(await gql(client, UNITS, {"projectId": project, "filter": filter_}, token=token))

    assert await run({"buildingId": world.gid("Building:a2")}) == ["A2-201", "A2-S01"]
    assert await run({"kind": "SHOP"}) == ["A2-S01"]
    assert await run({"occupancyStatus": "VACANT"}) == ["A2-201"]
    assert await run({"search": "10"}) == ["A1-101", "A1-102"]
    assert await run({"search": "李"}) == ["A1-102"]
    assert await run({"search": "nobody"}) == []


async def test_pages_follow_the_cursor_without_overlap(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    token, project = world.token("admin_a"), world.gid("Project:lakeside")
    first = await gql(client, UNITS, {"projectId": project, "first": 3}, token=token)
    assert numbers(first) == ["A1-101", "A1-102", "A2-201"]
    assert first["data"]["units"]["pageInfo"]["hasNextPage"] is True
    after = first["data"]["units"]["pageInfo"]["endCursor"]
    second = await gql(client, UNITS, {"projectId": project, "first": 3, "after": after}, token=token)
    assert numbers(second) == ["A2-S01"]
    assert second["data"]["units"]["pageInfo"]["hasNextPage"] is False


async def test_page_size_is_capped(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    result = await gql(client, UNITS, {"projectId": world.gid("Project:lakeside"), "first": 101}, token=world.token("admin_a"))
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["field"] == "first"


async def _add_occupied_units(state: AppState, world, count: int) -> None:
    async with state.session_factory() as session, session.begin():
        building = Building(project_id=world.ids["Project:lakeside"], name=f"T{count}")
        session.add(building)
        await session.flush()
        units = [
            Unit(
                project_id=building.project_id,
                building_id=building.id,
                number=f"{n:04d}",
                floor=1,
                floor_area=Decimal("80.00"),
                kind=UnitKind.APARTMENT,
            )
            for n in range(count)
        ]
        parties = [Party(project_id=building.project_id, name=f"业主{n}") for n in range(count)]
        session.add_all(units + parties)
        await session.flush()
        session.add_all(
            Occupancy(unit_id=u.id, party_id=p.id, relation=OccupancyRelation.OWNER, start_date=dt.date(2024, 1, 1))
            for u, p in zip(units, parties)
        )


async def _statements_for_units_page(client: httpx.AsyncClient, state: AppState, world) -> tuple[int, int]:
    with statements_run(state.engine) as statements:
        result = await gql(client, UNITS_WITH_OCCUPANTS, {"projectId": world.gid("Project:lakeside")}, token=world.token("admin_a"))
    assert "errors" not in result, result
    return len(result["data"]["units"]["edges"]), len(statements)


async def test_units_with_buildings_occupants_and_parties_cost_a_constant_number_of_statements(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given a first world with 4 units (2 occupied), then 96 more occupied ones
    world = await build_world(state)
    few_units, few_statements = await _statements_for_units_page(client, state, world)
    await _add_occupied_units(state, world, 96)
    # when
    many_units, many_statements = await _statements_for_units_page(client, state, world)
    # then
    assert (few_units, many_units) == (4, 100)
    assert many_statements == few_statements
    assert many_statements <= 8, many_statements


COUNTED = """
query ($projectId: ID!) {
  units(projectId: $projectId, first: 2) { totalCount edges { node { number } } }
  tickets(first: 2) { totalCount edges { node { id } } }
  bills(first: 2) { totalCount edges { node { id } } }
  payments(first: 2) { totalCount edges { node { id } } }
}"""
UNCOUNTED = """
query ($projectId: ID!) {
  units(projectId: $projectId, first: 2) { edges { node { number } } }
  tickets(first: 2) { edges { node { id } } }
  bills(first: 2) { edges { node { id } } }
  payments(first: 2) { edges { node { id } } }
}"""


async def test_a_lists_total_is_counted_only_when_asked_for(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    variables = {"projectId": world.gid("Project:lakeside")}
    # when finance reads the four lists with and without their totals
    with statements_run(state.engine) as counted:
        with_totals = await gql(client, COUNTED, variables, token=world.token("finance_a"))
    with statements_run(state.engine) as uncounted:
        without = await gql(client, UNCOUNTED, variables, token=world.token("finance_a"))
    # then each total costs one statement, and only when it is selected
    assert "errors" not in with_totals and "errors" not in without
    assert with_totals["data"]["units"]["totalCount"] == 4
    assert len(with_totals["data"]["units"]["edges"]) == 2
    assert sum("count(*)" in statement for statement in counted) == 4
    assert sum("count(*)" in statement for statement in uncounted) == 0
    assert len(counted) - len(uncounted) == 4
