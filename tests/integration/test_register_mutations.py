"""Creating and updating projects, buildings, units, parties, occupancies and technicians."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.state import AppState
from db.models import Building, Party, Project, RoleGrant, Technician, Unit
from tests.integration.world import ALICE_PHONE, build_world, gql

PAYLOAD = """
__typename
... on Error { code message field }
"""


async def _count(state: AppState, model: type) -> int:
    async with state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _mutate(client: httpx.AsyncClient, name: str, body: str, input_: dict[str, Any], token: str) -> dict[str, Any]:
    query = f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ {name}(input: $input) {{ {PAYLOAD} {body} }} }}"
    result = await gql(client, query, {"input": input_}, token=token)
    assert "errors" not in result, result
    return result["data"][name]  # type: ignore[no-any-return]


async def test_an_admin_creates_a_project_and_becomes_its_admin(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    project = await _mutate(
        client, "createProject", "... on Project { id name timezone currency }",
        {"name": "Riverside", "timezone": "Asia/Hong_Kong", "currency": "HKD"}, world.token("admin_a"),
    )
    assert project["__typename"] == "Project"
    assert (project["name"], project["timezone"], project["currency"]) == ("Riverside", "Asia/Hong_Kong", "HKD")
    async with state.session_factory() as session:
        grants = (await session.scalars(select(RoleGrant).where(RoleGrant.user_id == world.users["admin_a"]))).all()
    assert sorted(g.role.value for g in grants) == ["ADMIN", "ADMIN"]


@pytest.mark.parametrize(
    ("input_", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "P", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "P", "currency": "yuan"}, "currency"),
    ],
)
async def test_invalid_project_input_names_the_field_and_writes_nothing(
    client: httpx.AsyncClient, state: AppState, input_: dict[str, Any], field: str
) -> None:
    world = await build_world(state)
    before = await _count(state, Project)
    result = await _mutate(client, "createProject", "", input_, world.token("admin_a"))
    assert (result["__typename"], result["code"], result["field"]) == ("BadUserInputError", "BAD_USER_INPUT", field)
    assert await _count(state, Project) == before


async def test_duplicate_project_name_is_a_conflict(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    result = await _mutate(client, "createProject", "", {"name": "Hillside"}, world.token("admin_a"))
    assert (result["code"], result["field"]) == ("CONFLICT", "name")


async def test_building_and_unit_lifecycle(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    token = world.token("admin_a")
    building = await _mutate(
        client, "createBuilding", "... on Building { id name latitude }",
        {"projectId": world.gid("Project:lakeside"), "name": "A3", "latitude": 30.28, "longitude": 120.16}, token,
    )
    assert (building["name"], building["latitude"]) == ("A3", 30.28)
    unit = await _mutate(
        client, "createUnit", "... on Unit { id number floor floorArea kind occupancyStatus building { name } }",
        {"buildingId": building["id"], "number": "0301", "floor": 3, "floorArea": "95.5", "kind": "APARTMENT"}, token,
    )
    assert unit["floorArea"] == "95.50" and unit["building"] == {"name": "A3"} and unit["occupancyStatus"] == "VACANT"
    updated = await _mutate(
        client, "updateUnit", "... on Unit { floor floorArea occupancyStatus }",
        {"id": unit["id"], "floorArea": "96.25", "occupancyStatus": "SELF_OCCUPIED"}, token,
    )
    assert updated == {"__typename": "Unit", "floor": 3, "floorArea": "96.25", "occupancyStatus": "SELF_OCCUPIED"}
    renamed = await _mutate(client, "updateBuilding", "... on Building { name }", {"id": building["id"], "name": "A3座"}, token)
    assert renamed["name"] == "A3座"


@pytest.mark.parametrize(
    ("override", "code", "field"),
    [
        ({"floorArea": "0"}, "BAD_USER_INPUT", "floorArea"),
        ({"floorArea": "-3"}, "BAD_USER_INPUT", "floorArea"),
        ({"floorArea": "80.123"}, "BAD_USER_INPUT", "floorArea"),
        ({"floor": 500}, "BAD_USER_INPUT", "floor"),
        ({"number": ""}, "BAD_USER_INPUT", "number"),
        ({"number": "101"}, "CONFLICT", "number"),
        ({"buildingId": "QnVpbGRpbmc6OTk5"}, "NOT_FOUND", "buildingId"),
        ({"buildingId": "not-an-id"}, "NOT_FOUND", "buildingId"),
    ],
)
async def test_invalid_unit_input_is_refused_with_its_field(
    client: httpx.AsyncClient, state: AppState, override: dict[str, Any], code: str, field: str
) -> None:
    world = await build_world(state)
    before = await _count(state, Unit)
    input_ = {"buildingId": world.gid("Building:a1"), "number": "999", "floor": 9, "floorArea": "90", "kind": "APARTMENT", **override}
    result = await _mutate(client, "createUnit", "", input_, world.token("admin_a"))
    assert (result["code"], result["field"]) == (code, field)
    assert await _count(state, Unit) == before


async def test_party_personal_data_is_validated_encrypted_and_unmasked_for_admins(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    party = await _mutate(
        client, "createParty", "... on Party { id name phone nationalId }",
        {"projectId": world.gid("Project:lakeside"), "name": "赵云", "phone": "+86 139 1234 5678", "nationalId": "330106198506121237"},
        world.token("admin_a"),
    )
    assert (party["phone"], party["nationalId"]) == ("13912345678", "330106198506121237")
    async with state.session_factory() as session:
        stored = await session.scalar(select(Party).where(Party.name == "赵云"))
    assert stored is not None and "13912345678" not in (stored.phone_encrypted or "")
    assert state.cipher.decrypt(stored.phone_encrypted or "") == "13912345678"
    seen_by_finance = await gql(client, "query($id: ID!) { node(id: $id) { ... on Party { phone nationalId } } }", {"id": party["id"]}, token=world.token("finance_a"))
    assert seen_by_finance["data"]["node"] == {"phone": "139****5678", "nationalId": "330***********1237"}


@pytest.mark.parametrize(("field", "value"), [("phone", "12345"), ("nationalId", "330106198506121238")])
async def test_invalid_personal_data_is_refused(client: httpx.AsyncClient, state: AppState, field: str, value: str) -> None:
    world = await build_world(state)
    before = await _count(state, Party)
    result = await _mutate(
        client, "createParty", "", {"projectId": world.gid("Project:lakeside"), "name": "X", field: value}, world.token("admin_a")
    )
    assert (result["code"], result["field"]) == ("BAD_USER_INPUT", field)
    assert await _count(state, Party) == before


async def test_a_person_sees_their_own_data_unmasked_and_may_change_their_phone(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    me = await gql(client, "{ viewer { party { id phone nationalId } } }", token=world.token("alice"))
    assert me["data"]["viewer"]["party"]["phone"] == ALICE_PHONE
    changed = await _mutate(client, "updateParty", "... on Party { phone }", {"id": world.gid("Party:alice"), "phone": "13811112222"}, world.token("alice"))
    assert changed == {"__typename": "Party", "phone": "13811112222"}


async def test_occupancy_links_a_party_to_a_unit_with_ordered_dates(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    token = world.token("admin_a")
    bad = await _mutate(
        client, "createOccupancy", "",
        {"unitId": world.gid("Unit:vacant"), "partyId": world.gid("Party:bob"), "relation": "TENANT", "startDate": "2026-05-01", "endDate": "2026-04-30"},
        token,
    )
    assert (bad["code"], bad["field"]) == ("BAD_USER_INPUT", "endDate")
    foreign = await _mutate(
        client, "createOccupancy", "",
        {"unitId": world.gid("Unit:vacant"), "partyId": world.gid("Party:carol"), "relation": "TENANT", "startDate": "2026-05-01"},
        token,
    )
    assert (foreign["code"], foreign["field"]) == ("NOT_FOUND", "partyId")
    made = await _mutate(
        client, "createOccupancy", "... on Occupancy { id relation startDate unit { number } party { name } }",
        {"unitId": world.gid("Unit:vacant"), "partyId": world.gid("Party:bob"), "relation": "TENANT", "startDate": "2026-05-01"},
        token,
    )
    assert (made["relation"], made["unit"]["number"], made["party"]["name"]) == ("TENANT", "201", "李强")
    ended = await _mutate(client, "updateOccupancy", "... on Occupancy { endDate }", {"id": made["id"], "endDate": "2027-04-30"}, token)
    assert ended["endDate"] == "2027-04-30"


async def test_dispatcher_manages_technicians_and_a_technician_reports_position(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    created = await _mutate(
        client, "createTechnician", "... on Technician { id name skills capacity onShift phone home { latitude } }",
        {"projectId": world.gid("Project:lakeside"), "name": "周师傅", "skills": ["HVAC", "APPLIANCE"], "homeLatitude": 30.26, "homeLongitude": 120.14, "capacity": 4, "phone": "13500001111"},
        world.token("dispatcher_a"),
    )
    assert (created["skills"], created["capacity"], created["phone"]) == (["APPLIANCE", "HVAC"], 4, "13500001111")
    bad = await _mutate(client, "updateTechnician", "", {"id": created["id"], "capacity": 0}, world.token("dispatcher_a"))
    assert (bad["code"], bad["field"]) == ("BAD_USER_INPUT", "capacity")
    moved = await _mutate(
        client, "updateTechnician", "... on Technician { currentLocation { latitude longitude } onShift }",
        {"id": world.gid("Technician:a"), "currentLatitude": 30.2711, "currentLongitude": 120.1522, "onShift": False},
        world.token("tech_a"),
    )
    assert moved["currentLocation"] == {"latitude": 30.2711, "longitude": 120.1522} and moved["onShift"] is False
    not_allowed = await gql(
        client, "mutation($id: ID!) { updateTechnician(input: {id: $id, capacity: 9}) { __typename } }",
        {"id": world.gid("Technician:a")}, token=world.token("tech_a"),
    )
    assert [e["extensions"]["code"] for e in not_allowed["errors"]] == ["FORBIDDEN"]
    async with state.session_factory() as session:
        tech = await session.get(Technician, world.ids["Technician:a"])
    assert tech is not None and tech.capacity == 3


async def test_technician_skills_must_be_known(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    before = await _count(state, Technician)
    result = await gql(
        client,
        "mutation($p: ID!) { createTechnician(input: {projectId: $p, name: \"X\", skills: [], homeLatitude: 30, homeLongitude: 120}) { ... on Error { code field } } }",
        {"p": world.gid("Project:lakeside")}, token=world.token("admin_a"),
    )
    assert result["data"]["createTechnician"] == {"code": "BAD_USER_INPUT", "field": "skills"}
    assert await _count(state, Technician) == before
    assert await _count(state, Building) == 3
