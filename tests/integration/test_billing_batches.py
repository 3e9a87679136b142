"""A bill run in many batches writes exactly what one batch would, and the bulk reads see what the ORM sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import BigInteger, String, func, select, type_coerce

from api.state import AppState
from billing.bulk import bulk_connection
from billing.runs import run_billing as run_billing_service
from billing.texts import render_stored
from db.models import Bill, BillLine, MeterReading, Unit
from kernel.vocabulary import Locale
from tests.integration.billing_world import (
    RECORD_READING,
    books_balance,
    create_rule,
    reading_at,
    run_billing,
    standard_rules,
)
from tests.integration.world import build_world, gql

__all__ = ["books_balance"]

NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


async def test_a_run_in_batches_of_one_unit_writes_the_lines_a_single_batch_previews(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given the standard rules plus a fixed fee that every unit shares, and two flats with equal usage
    world = await build_world(state)
    await standard_rules(client, world)
    await create_rule(
        client, world, world.token("finance_a"), code="GARBAGE", kind="FIXED", name="Garbage fee",
        effectiveFrom="2026-01-01", amountPerCycle="15.00",
    )
    for unit in ("Unit:alice", "Unit:bob"):
        for read_at, value in ((reading_at("2026-10-31"), "1000"), (reading_at("2026-11-30"), "1300")):
            result = await gql(
                client,
                RECORD_READING,
                {"input": {"unitId": world.gid(unit), "meterType": "electricity", "reading": value, "readAt": read_at}},
                token=world.token("finance_a"),
            )
            assert result["data"]["recordMeterReading"]["__typename"] == "MeterReading"
    preview = await run_billing(client, world, "2026-11", dry_run=True)
    expected = {
        line_set["unit"]["number"]: [(line["ruleCode"], line["amount"], line["explanation"]) for line in line_set["lines"]]
        for line_set in preview["sample"]
    }
    assert len(expected) == 4

    # when the run is made one unit per batch
    outcome = await run_billing_service(
        state.session_factory, None, project_id=world.ids["Project:lakeside"], period="2026-11", dry_run=False, now=NOW,
        batch_size=1,
    )

    # then every bill holds the previewed lines, in order, and the totals agree to the fen
    async with state.session_factory() as session:
        rows = await session.execute(
            select(Unit.number, BillLine.rule_code, BillLine.amount, BillLine.explanation)
            .join(Bill, BillLine.bill_id == Bill.id)
            .join(Unit, Bill.unit_id == Unit.id)
            .order_by(Unit.number, BillLine.position)
        )
        written: dict[str, list[tuple[str, str, str]]] = {}
        for number, code, amount, explanation in rows:
            # stored as phrases; the preview rendered them in the project's locale (zh-CN by default)
            written.setdefault(number, []).append((code, f"{amount:.2f}", render_stored(explanation, Locale.ZH_CN)))
    assert written == expected
    assert outcome.bills_created == 4
    assert outcome.amount_created == Decimal(preview["totalAmount"])
    assert written["101"][1][:2] == written["102"][1][:2] == ("ELECTRICITY", "161.49")
    assert all(("GARBAGE", "15.00", "每个计费周期固定收取 ¥15.00") in lines for lines in written.values())


@pytest.mark.parametrize("meter_types", [["electricity"], ["electricity", "water"]])
async def test_bulk_fetch_answers_the_rows_the_session_answers(state: AppState, meter_types: list[str]) -> None:
    # given readings of two meter types
    world = await build_world(state)
    async with state.session_factory() as session, session.begin():
        for number, (unit, meter, value) in enumerate(
            (("alice", "electricity", 1000), ("alice", "water", 40), ("bob", "electricity", 700)), start=1
        ):
            session.add(
                MeterReading(
                    project_id=world.ids["Project:lakeside"], unit_id=world.ids[f"Unit:{unit}"], meter_type=meter,
                    reading=Decimal(value), usage=Decimal(number),
                    read_at=dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC),
                )
            )
    statement = (
        select(MeterReading.unit_id, type_coerce(MeterReading.meter_type, String), type_coerce(MeterReading.usage, BigInteger))
        .where(
            MeterReading.meter_type.in_(meter_types),
            MeterReading.read_at >= dt.datetime(2026, 11, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        )
        .order_by(MeterReading.id)
    )

    # when the same statement is read through the bulk connection and through the session
    async with state.session_factory() as session:
        bulk_rows = [tuple(row) for row in await (await bulk_connection(session)).fetch(statement)]
        session_rows = [tuple(row) for row in await session.execute(statement)]
        count = await session.scalar(select(func.count()).select_from(MeterReading).where(MeterReading.meter_type.in_(meter_types)))

    # then both answer the same plain values, one row per matching reading
    assert bulk_rows == session_rows
    assert len(bulk_rows) == count == (2 if meter_types == ["electricity"] else 3)
