"""importUnits: a CSV or XLSX register is imported whole, or not at all with every bad row explained."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
from openpyxl import Workbook
from sqlalchemy import func, select

from api.state import AppState
from db.models import Building, Occupancy, Party, Unit
from tests.integration.world import World, build_world
from tests.unit.test_unit_import_archive import shared_strings_bomb

IMPORT = """
mutation Import($projectId: ID!, $file: Upload!) {
  importUnits(projectId: $projectId, file: $file) {
    __typename
    ... on ImportUnitsPayload { buildingsCreated unitsCreated partiesCreated occupanciesCreated }
    ... on ImportRejectedError { code message rowErrors { row field reason } }
    ... on Error { code message field }
  }
}
"""
HEADER = "楼栋,房号,楼层,建筑面积,类型,业主姓名,联系电话,身份证号\n"
GOOD_ROWS = (
    "A3,0101,1,89.50,住宅,周杰,13900001111,330106198506121237\n"
    "A3,0102,1,120,住宅,,,\n"
    "A1,S02,1,45.5,商铺,吴芳,0571-87654321,\n"
)


async def upload(client: httpx.AsyncClient, world: World, content: bytes, filename: str, token: str) -> dict[str, Any]:
    operations = {"query": IMPORT, "variables": {"projectId": world.gid("Project:lakeside"), "file": None}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def counts(state: AppState) -> tuple[int, ...]:
    async with state.session_factory() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Building, Unit, Party, Occupancy)
            ]
        )


async def test_a_csv_register_creates_buildings_units_owners_and_occupancies(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    before = await counts(state)
    result = await upload(client, world, (HEADER + GOOD_ROWS).encode("gb18030"), "units.csv", world.token("admin_a"))
    assert result["data"]["importUnits"] == {
        "__typename": "ImportUnitsPayload",
        "buildingsCreated": 1,
        "unitsCreated": 3,
        "partiesCreated": 2,
        "occupanciesCreated": 2,
    }
    assert await counts(state) == (before[0] + 1, before[1] + 3, before[2] + 2, before[3] + 2)
    async with state.session_factory() as session:
        shop = await session.scalar(select(Unit).where(Unit.number == "S02"))
    assert shop is not None and str(shop.floor_area) == "45.50" and shop.kind.value == "SHOP"


async def test_an_xlsx_register_imports_the_same_way(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["building", "unit number", "floor", "area", "kind", "owner name", "phone", "ID number"])
    sheet.append(["A3", 301.0, 3.0, 88.8, "apartment", "Li Ming", "13700002222", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = await upload(client, world, buffer.getvalue(), "register.xlsx", world.token("admin_a"))
    assert result["data"]["importUnits"]["unitsCreated"] == 1
    async with state.session_factory() as session:
        unit = await session.scalar(select(Unit).where(Unit.number == "301"))
    assert unit is not None and unit.floor == 3


async def test_bad_rows_are_all_reported_and_nothing_is_written(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    before = await counts(state)
    bad = HEADER + GOOD_ROWS + "A3,0103,1,0,住宅,,,\nA3,0104,x,80,别墅,,,\nA3,0101,1,80,住宅,,,\n"
    result = await upload(client, world, bad.encode(), "units.csv", world.token("admin_a"))
    rejected = result["data"]["importUnits"]
    assert rejected["__typename"] == "ImportRejectedError" and rejected["code"] == "BAD_USER_INPUT"
    rows = {(e["row"], e["field"]) for e in rejected["rowErrors"]}
    assert {(5, "floor_area"), (6, "floor"), (6, "kind"), (7, "unit_number")} <= rows
    assert all(row >= 5 for row, _ in rows)
    assert await counts(state) == before


async def test_a_unit_that_already_exists_rejects_the_whole_file(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    before = await counts(state)
    clash = HEADER + GOOD_ROWS + "A1,101,1,88.50,住宅,,,\n"
    result = await upload(client, world, clash.encode(), "units.csv", world.token("admin_a"))
    rejected = result["data"]["importUnits"]
    assert rejected["rowErrors"] == [{"row": 5, "field": "unit_number", "reason": "unit A1-101 already exists"}]
    assert await counts(state) == before


async def test_an_admin_of_another_project_cannot_import_here(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    before = await counts(state)
    result = await upload(client, world, (HEADER + GOOD_ROWS).encode(), "units.csv", world.token("admin_b"))
    assert result["data"]["importUnits"]["code"] == "NOT_FOUND"
    owner = await upload(client, world, (HEADER + GOOD_ROWS).encode(), "units.csv", world.token("alice"))
    assert [e["extensions"]["code"] for e in owner["errors"]] == ["FORBIDDEN"]
    assert await counts(state) == before


async def test_a_zip_bomb_is_refused_naming_the_file_and_imports_nothing(client: httpx.AsyncClient, state: AppState) -> None:
    # given: ~200 KB that would unpack to 200 MB
    world = await build_world(state)
    before = await counts(state)
    # when
    result = await upload(client, world, shared_strings_bomb(200 * 1024 * 1024), "units.xlsx", world.token("admin_a"))
    # then
    rejected = result["data"]["importUnits"]
    assert (rejected["__typename"], rejected["code"], rejected["field"]) == ("ImportRejectedError", "BAD_USER_INPUT", "file")
    [row_error] = rejected["rowErrors"]
    assert (row_error["row"], row_error["field"]) == (0, "file")
    assert "refused unopened" in row_error["reason"]
    assert await counts(state) == before
