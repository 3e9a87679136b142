"""Metered usage is charged once and never lost: a month without a bill run goes on the next bill, on
SQLite and PostgreSQL.

Lakeside's electricity is tiered by month: 0–240 kWh at 0.5283, 240–400 at 0.5783, above at 0.8283.
"""

from __future__ import annotations

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import MeterReading
from tests.integration.billing_world import (
    RECORD_READING,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    reading_at,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

BILLS = """
query ($filter: BillFilter) {
  bills(filter: $filter, first: 50) {
    edges { node { period unit { number } lines { ruleCode quantity amount } } }
  }
}"""


async def _read(client: httpx.AsyncClient, world: World, day: str, value: str) -> None:
    result = await gql(
        client,
        RECORD_READING,
        {"input": {"unitId": world.gid("Unit:alice"), "meterType": "electricity", "reading": value, "readAt": reading_at(day)}},
        token=world.token("finance_a"),
    )
    assert result["data"]["recordMeterReading"]["__typename"] == "MeterReading", result


async def _electricity_of_alice(client: httpx.AsyncClient, world: World, period: str) -> list[tuple[str, str]]:
    result = await gql(
        client,
        BILLS,
        {"filter": {"projectId": world.gid("Project:lakeside"), "period": period}},
        token=world.token("finance_a"),
    )
    assert "errors" not in result, result
    (alice,) = [edge["node"] for edge in result["data"]["bills"]["edges"] if edge["node"]["unit"]["number"] == "101"]
    return [(line["quantity"], line["amount"]) for line in alice["lines"] if line["ruleCode"] == "ELECTRICITY"]


async def test_a_skipped_month_is_charged_by_the_next_bill_and_never_again(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice's baseline at the end of January, 100 kWh in February and 150 kWh in March
    world = await build_world(state)
    await standard_rules(client, world)
    await _read(client, world, "2026-01-31", "1000")
    await _read(client, world, "2026-02-27", "1100")
    await _read(client, world, "2026-03-30", "1250")

    # when January is billed, February is skipped, a dry run of March is made, then March is billed
    await run_billing(client, world, "2026-01")
    preview = await run_billing(client, world, "2026-03", dry_run=True)
    await run_billing(client, world, "2026-03")

    # then March charges February's and March's 250 kWh: 240 × 0.5283 = 126.79, 10 × 0.5783 = 5.78
    assert preview["__typename"] == "BillRunPreview"
    assert await _electricity_of_alice(client, world, "2026-03") == [("250.0000", "132.57")]

    # and a late February run charges none of it again
    await run_billing(client, world, "2026-02")
    assert await _electricity_of_alice(client, world, "2026-02") == []

    # and every reading is marked as billed, the two usages by the March run
    async with state.session_factory() as session:
        readings = (await session.scalars(select(MeterReading).order_by(MeterReading.read_at))).all()
    assert [reading.billed_in_run_id is not None for reading in readings] == [True, True, True]
    assert readings[1].billed_in_run_id == readings[2].billed_in_run_id != readings[0].billed_in_run_id
