"""Every query and mutation: anonymous callers are UNAUTHENTICATED, owners never reach other owners'
objects, staff never reach other projects' objects, and a refused mutation writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.state import AppState
from db.models import Building, Occupancy, Party, Project, Technician, Unit
from tests.integration.world import World, build_world, error_codes, gql

QUERIES = {
    "viewer": ("{ viewer { email } }", {}),
    "node": ("query($id: ID!) { node(id: $id) { id } }", {"id": "Unit:alice"}),
    "projects": ("{ projects { name } }", {}),
    "units": ("query($p: ID!) { units(projectId: $p) { totalCount } }", {"p": "Project:lakeside"}),
    "technicians": ("query($p: ID!) { technicians(projectId: $p) { name } }", {"p": "Project:lakeside"}),
}

RESULT = "{ __typename ... on Error { code field } }"
MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "createProject": (f'mutation {{ createProject(input: {{name: "New"}}) {RESULT} }}', {}),
    "updateProject": (f"mutation($id: ID!) {{ updateProject(input: {{id: $id, name: \"X\"}}) {RESULT} }}", {"id": "Project:lakeside"}),
    "createBuilding": (f"mutation($p: ID!) {{ createBuilding(input: {{projectId: $p, name: \"X\"}}) {RESULT} }}", {"p": "Project:lakeside"}),
    "updateBuilding": (f"mutation($id: ID!) {{ updateBuilding(input: {{id: $id, name: \"X\"}}) {RESULT} }}", {"id": "Building:a1"}),
    "createUnit": (
        f"mutation($b: ID!) {{ createUnit(input: {{buildingId: $b, number: \"999\", floor: 9, floorArea: \"90\", kind: APARTMENT}}) {RESULT} }}",
        {"b": "Building:a1"},
    ),
    "updateUnit": (f"mutation($id: ID!) {{ updateUnit(input: {{id: $id, floor: 7}}) {RESULT} }}", {"id": "Unit:alice"}),
    "createParty": (f"mutation($p: ID!) {{ createParty(input: {{projectId: $p, name: \"X\"}}) {RESULT} }}", {"p": "Project:lakeside"}),
    "updateParty": (f"mutation($id: ID!) {{ updateParty(input: {{id: $id, email: \"x@y.cn\"}}) {RESULT} }}", {"id": "Party:alice"}),
    "createOccupancy": (
        f"mutation($u: ID!, $p: ID!) {{ createOccupancy(input: {{unitId: $u, partyId: $p, relation: TENANT, startDate: \"2026-01-01\"}}) {RESULT} }}",
        {"u": "Unit:alice", "p": "Party:alice"},
    ),
    "updateOccupancy": (
        f"mutation($id: ID!) {{ updateOccupancy(input: {{id: $id, endDate: \"2030-01-01\"}}) {RESULT} }}",
        {"id": "Occupancy:alice"},
    ),
    "createTechnician": (
        f"mutation($p: ID!) {{ createTechnician(input: {{projectId: $p, name: \"X\", skills: [HVAC], homeLatitude: 30, homeLongitude: 120}}) {RESULT} }}",
        {"p": "Project:lakeside"},
    ),
    "updateTechnician": (f"mutation($id: ID!) {{ updateTechnician(input: {{id: $id, onShift: false}}) {RESULT} }}", {"id": "Technician:a"}),
}

# What a caller meets when the operation is refused: FORBIDDEN (top-level) when their role may not
# call it at all, NOT_FOUND (typed) when the object is someone else's.
OWNER_ON_ALICES_PROJECT = {
    "createProject": "FORBIDDEN",
    "updateProject": "FORBIDDEN",
    "createBuilding": "FORBIDDEN",
    "updateBuilding": "FORBIDDEN",
    "createUnit": "FORBIDDEN",
    "updateUnit": "FORBIDDEN",
    "createParty": "FORBIDDEN",
    "updateParty": "NOT_FOUND",  # bob asking to change alice
    "createOccupancy": "FORBIDDEN",
    "updateOccupancy": "FORBIDDEN",
    "createTechnician": "FORBIDDEN",
    "updateTechnician": "FORBIDDEN",
}


def _resolve(world: World, variables: dict[str, Any]) -> dict[str, Any]:
    return {key: world.gid(value) if ":" in str(value) else value for key, value in variables.items()}


async def _snapshot(state: AppState) -> dict[str, Any]:
    async with state.session_factory() as session:
        counts = {
            model.__name__: await session.scalar(select(func.count()).select_from(model))
            for model in (Project, Building, Unit, Party, Occupancy, Technician)
        }
        details = (
            await session.execute(select(Unit.floor, Unit.number).order_by(Unit.id))
        ).all(), (await session.execute(select(Party.name, Party.email).order_by(Party.id))).all(), (
            await session.execute(select(Technician.on_shift, Technician.name).order_by(Technician.id))
        ).all(), (await session.execute(select(Occupancy.end_date).order_by(Occupancy.id))).all(), (
            await session.execute(select(Project.name, Building.name).join(Building).order_by(Building.id))
        ).all()
    return {"counts": counts, "details": details}


@pytest.mark.parametrize("operation", sorted(QUERIES))
async def test_anonymous_queries_are_unauthenticated(client: httpx.AsyncClient, state: AppState, operation: str) -> None:
    world = await build_world(state)
    query, variables = QUERIES[operation]
    result = await gql(client, query, _resolve(world, variables))
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert result["data"] in (None, {operation: None})


@pytest.mark.parametrize("operation", sorted(MUTATIONS))
async def test_anonymous_mutations_are_unauthenticated_and_write_nothing(
    client: httpx.AsyncClient, state: AppState, operation: str
) -> None:
    world = await build_world(state)
    before = await _snapshot(state)
    query, variables = MUTATIONS[operation]
    result = await gql(client, query, _resolve(world, variables))
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert await _snapshot(state) == before


@pytest.mark.parametrize("operation", sorted(MUTATIONS))
async def test_an_owner_cannot_change_what_is_not_theirs(client: httpx.AsyncClient, state: AppState, operation: str) -> None:
    # given bob, an owner in the same project as alice, aiming at alice's objects
    world = await build_world(state)
    before = await _snapshot(state)
    query, variables = MUTATIONS[operation]
    # when
    result = await gql(client, query, _resolve(world, variables), token=world.token("bob"))
    # then
    expected = OWNER_ON_ALICES_PROJECT[operation]
    if expected == "FORBIDDEN":
        assert error_codes(result) == ["FORBIDDEN"], result
    else:
        assert result["data"][operation]["code"] == expected, result
    assert await _snapshot(state) == before


@pytest.mark.parametrize("operation", sorted(set(MUTATIONS) - {"createProject"}))
async def test_an_admin_of_another_project_gets_not_found(client: httpx.AsyncClient, state: AppState, operation: str) -> None:
    # given the admin of Hillside aiming at Lakeside's objects
    world = await build_world(state)
    before = await _snapshot(state)
    query, variables = MUTATIONS[operation]
    # when
    result = await gql(client, query, _resolve(world, variables), token=world.token("admin_b"))
    # then
    assert "errors" not in result, result
    assert result["data"][operation]["code"] == "NOT_FOUND"
    assert await _snapshot(state) == before


@pytest.mark.parametrize(
    "target", ["Unit:bob", "Unit:carol", "Party:bob", "Party:carol", "Occupancy:bob", "Technician:a", "Project:hillside", "Building:b1"]
)
async def test_an_owner_reading_someone_elses_object_by_id_gets_null(
    client: httpx.AsyncClient, state: AppState, target: str
) -> None:
    world = await build_world(state)
    result = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": world.gid(target)}, token=world.token("alice"))
    assert result == {"data": {"node": None}}


@pytest.mark.parametrize("target", ["Unit:alice", "Party:alice", "Occupancy:alice", "Project:lakeside", "Building:a1"])
async def test_an_owner_reads_their_own_objects_by_id(client: httpx.AsyncClient, state: AppState, target: str) -> None:
    world = await build_world(state)
    result = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": world.gid(target)}, token=world.token("alice"))
    assert result == {"data": {"node": {"id": world.gid(target)}}}


async def test_an_owner_may_not_list_technicians(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    query, variables = QUERIES["technicians"]
    result = await gql(client, query, _resolve(world, variables), token=world.token("alice"))
    assert error_codes(result) == ["FORBIDDEN"]


async def test_projects_lists_only_the_callers_projects(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    assert (await gql(client, "{ projects { name } }", token=world.token("carol")))["data"] == {"projects": [{"name": "Hillside"}]}
    assert (await gql(client, "{ projects { name } }", token=world.token("admin_a")))["data"] == {"projects": [{"name": "Lakeside"}]}


async def test_staff_do_not_see_technicians_of_other_projects(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    result = await gql(client, QUERIES["technicians"][0], {"p": world.gid("Project:hillside")}, token=world.token("dispatcher_a"))
    assert result == {"data": {"technicians": []}}
