"""Meter readings through GraphQL: usage, refusals, replacements, review flags and all-or-nothing imports."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from api.state import AppState
from db.models import MeterReading
from tests.integration.billing_world import (
    RECORD_READING,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    reading_at,
)
from tests.integration.world import World, build_world, error_codes, gql

IMPORT = """
mutation ($projectId: ID!, $file: Upload!) {
  importMeterReadings(projectId: $projectId, file: $file) {
    __typename
    ... on ImportMeterReadingsPayload { imported flagged }
    ... on ImportRejectedError { rowErrors { row field reason } }
    ... on Error { code message field }
  }
}"""

FLAGGED = """
query ($projectId: ID!) { flaggedReadings(projectId: $projectId) { edges { node { usage trailingAverage unit { number } } } } }
"""


async def _read(
    client: httpx.AsyncClient, world: World, value: str, day: str, *, unit: str = "alice", **extra: Any
) -> dict[str, Any]:
    payload = {"unitId": world.gid(f"Unit:{unit}"), "meterType": "electricity", "reading": value, "readAt": reading_at(day), **extra}
    result = await gql(client, RECORD_READING, {"input": payload}, token=world.token("finance_a"))
    assert "errors" not in result, result
    return result["data"]["recordMeterReading"]  # type: ignore[no-any-return]


async def _upload(client: httpx.AsyncClient, world: World, csv_text: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        headers={"Authorization": f"Bearer {world.token('finance_a')}"},
        data={
            "operations": json.dumps({"query": IMPORT, "variables": {"projectId": world.gid("Project:lakeside"), "file": None}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": ("readings.csv", csv_text.encode("utf-8"), "text/csv")},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["importMeterReadings"]  # type: ignore[no-any-return]


async def test_usage_is_the_difference_from_the_previous_reading(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)

    first = await _read(client, world, "1000", "2026-09-30")
    second = await _read(client, world, "1180.5", "2026-10-31")

    assert (first["usage"], first["flaggedForReview"]) == ("0.000", False)
    assert (second["usage"], second["reading"]) == ("180.500", "1180.500")


async def test_a_lower_reading_is_refused_unless_the_meter_was_replaced(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    await _read(client, world, "1000", "2026-09-30")

    lower = await _read(client, world, "900", "2026-10-31")
    replaced = await _read(client, world, "150", "2026-10-31", isReplacement=True, replacementStartValue="0")
    earlier = await _read(client, world, "2000", "2026-10-01")

    assert (lower["code"], lower["field"]) == ("BAD_USER_INPUT", "reading")
    assert (replaced["isReplacement"], replaced["usage"]) == (True, "150.000")
    assert (earlier["code"], earlier["field"]) == ("BAD_USER_INPUT", "readAt")


async def test_a_usage_above_three_times_the_trailing_average_is_flagged_and_listed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given usages of 100 and 120 kWh (average 110)
    world = await build_world(state)
    for value, day in (("1000", "2026-08-31"), ("1100", "2026-09-30"), ("1220", "2026-10-31")):
        await _read(client, world, value, day)

    # when November's reading shows 331 kWh (above 330) and bob's first readings are normal
    spike = await _read(client, world, "1551", "2026-11-30")

    # then it is accepted, flagged, and listed for review
    assert (spike["usage"], spike["flaggedForReview"], spike["trailingAverage"]) == ("331.000", True, "110.000")
    listed = await gql(client, FLAGGED, {"projectId": world.gid("Project:lakeside")}, token=world.token("finance_a"))
    assert listed["data"]["flaggedReadings"]["edges"] == [
        {"node": {"usage": "331.000", "trailingAverage": "110.000", "unit": {"number": "101"}}}
    ]


async def test_an_import_writes_every_row_or_none_and_reports_each_bad_row(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    bad = (
        "楼栋,房号,表类型,读数,抄表时间\n"
        "A1,101,electricity,1000,2026-10-31 18:00\n"
        "A1,101,electricity,900,2026-11-30 18:00\n"
        "A9,999,water,5,2026-11-30 18:00\n"
        "A1,102,water,abc,2026-11-30 18:00\n"
    )
    good = (
        "building,unit,meter_type,reading,read_at\n"
        "A1,101,electricity,1000,2026-10-31 18:00\n"
        "A1,101,electricity,1300,2026-11-30 18:00\n"
        "A2,S01,water,50,2026-11-30 18:00\n"
    )

    rejected = await _upload(client, world, bad)
    async with state.session_factory() as session:
        after_rejection = await session.scalar(select(func.count()).select_from(MeterReading))
    imported = await _upload(client, world, good)

    assert rejected["__typename"] == "ImportRejectedError"
    assert [(e["row"], e["field"]) for e in rejected["rowErrors"]] == [(3, "reading"), (4, "unit"), (5, "reading")]
    assert after_rejection == 0
    assert imported == {"__typename": "ImportMeterReadingsPayload", "imported": 3, "flagged": 0}


async def test_readings_are_finance_business(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    payload = {"input": {"unitId": world.gid("Unit:alice"), "meterType": "electricity", "reading": "1", "readAt": reading_at("2026-10-01")}}

    as_owner = await gql(client, RECORD_READING, payload, token=world.token("alice"))
    as_other_admin = await gql(client, RECORD_READING, payload, token=world.token("admin_b"))
    flagged_elsewhere = await gql(client, FLAGGED, {"projectId": world.gid("Project:lakeside")}, token=world.token("admin_b"))

    assert error_codes(as_owner) == ["FORBIDDEN"]
    assert as_other_admin["data"]["recordMeterReading"]["code"] == "NOT_FOUND"
    assert flagged_elsewhere["data"]["flaggedReadings"]["edges"] == []
