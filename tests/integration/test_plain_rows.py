"""Loaders of plain rows answer every column exactly as the ORM objects would, on both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import delete, inspect, update

from api.state import AppState
from db.batch_reads import plain_row_of, rows_by_id, rows_grouped_by
from db.pages import keyset_page
from db.models import Bill, Building, Occupancy, Payment, Receipt, Technician, Ticket, Unit
from schema.ids import decode_id
from tests.integration.billing_world import pay, run_billing, standard_rules
from tests.integration.dispatch_world import build_dispatch_world, report_trapped_in_lift, submit
from tests.integration.world import build_world


def _columns(model: type[Any], row: Any) -> dict[str, tuple[type, Any]]:
    return {column.key: (type(getattr(row, column.key)), getattr(row, column.key)) for column in inspect(model).column_attrs}


async def test_plain_rows_by_id_hold_what_the_objects_hold(state: AppState) -> None:
    world = await build_world(state)
    # Units carry Decimal areas, enums and datetimes; technicians a list and encrypted bytes; 0 names no row.
    for model, names in ((Unit, ("Unit:alice", "Unit:shop", "Unit:carol")), (Technician, ("Technician:a", "Technician:b"))):
        ids = [world.ids[name] for name in names] + [0]
        objects = await rows_by_id(state.session_factory, model, ids)
        plain = await rows_by_id(state.session_factory, model, ids, plain=True)
        assert plain[-1] is None and objects[-1] is None
        assert [_columns(model, row) for row in plain[:-1]] == [_columns(model, row) for row in objects[:-1]]
        assert [row.id for row in plain[:-1]] == ids[:-1]


async def test_plain_rows_grouped_come_in_the_same_groups_and_order(state: AppState) -> None:
    world = await build_world(state)
    keys = [world.ids["Unit:bob"], world.ids["Unit:vacant"], world.ids["Unit:alice"]]
    objects = await rows_grouped_by(state.session_factory, Occupancy, Occupancy.unit_id, keys, order_by=Occupancy.id)
    plain = await rows_grouped_by(state.session_factory, Occupancy, Occupancy.unit_id, keys, order_by=Occupancy.id, plain=True)
    assert [len(group) for group in plain] == [1, 0, 1]
    assert [[_columns(Occupancy, row) for row in group] for group in plain] == [
        [_columns(Occupancy, row) for row in group] for group in objects
    ]


async def test_a_plain_keyset_page_holds_the_same_rows_as_the_objects(state: AppState) -> None:
    world = await build_world(state)
    conditions = [Unit.project_id == world.ids["Project:lakeside"]]
    for newest_first in (False, True):
        objects = await keyset_page(state.session_factory, Unit, conditions, limit=2, beyond_id=None, newest_first=newest_first)
        plain = await keyset_page(
            state.session_factory, Unit, conditions, limit=2, beyond_id=None, newest_first=newest_first, plain=True
        )
        assert len(plain.rows) == 3
        assert [_columns(Unit, row) for row in plain.rows] == [_columns(Unit, row) for row in objects.rows]
        assert await plain.count() == await objects.count()


async def test_a_plain_unit_comes_with_its_building_as_the_object_does(state: AppState) -> None:
    world = await build_world(state)
    ids = [world.ids[name] for name in ("Unit:alice", "Unit:shop", "Unit:carol")] + [0]
    objects = await rows_by_id(state.session_factory, Unit, ids, joined=(Unit.building,))
    plain = await rows_by_id(state.session_factory, Unit, ids, joined=(Unit.building,), plain=True)
    assert plain[-1] is None
    assert [_columns(Unit, row) for row in plain[:-1]] == [_columns(Unit, row) for row in objects[:-1]]
    buildings = [plain_row_of(row, "building") for row in plain[:-1]]
    assert [_columns(Building, row) for row in buildings] == [
        _columns(Building, plain_row_of(row, "building")) for row in objects[:-1]
    ]
    assert [building.id for building in buildings] == [row.building_id for row in objects[:-1]]


async def test_a_plain_page_of_payments_holds_each_receipt_and_none_where_there_is_none(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given two payments, the second's receipt removed (the outer join then finds no receipt row)
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    await pay(client, world, "alice", "100.00", "a1")
    second = await pay(client, world, "bob", "50.00", "b1")
    async with state.session_factory() as session, session.begin():
        await session.execute(delete(Receipt).where(Receipt.payment_id == decode_id(second["id"], "Payment", field="id")))
    conditions = [Payment.project_id == world.ids["Project:lakeside"]]
    # when
    objects = await keyset_page(state.session_factory, Payment, conditions, limit=5, beyond_id=None, joined=(Payment.receipt,))
    plain = await keyset_page(
        state.session_factory, Payment, conditions, limit=5, beyond_id=None, joined=(Payment.receipt,), plain=True
    )
    # then
    assert [_columns(Payment, row) for row in plain.rows] == [_columns(Payment, row) for row in objects.rows]
    receipts = [plain_row_of(row, "receipt") for row in plain.rows]
    assert [receipt is None for receipt in receipts] == [False, True]
    assert _columns(Receipt, receipts[0]) == _columns(Receipt, plain_row_of(objects.rows[0], "receipt"))


async def test_units_joined_onto_a_page_of_bills_are_the_rows_the_unit_loader_reads(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    conditions = [Bill.project_id == world.ids["Project:lakeside"]]
    page = await keyset_page(
        state.session_factory, Bill, conditions, limit=10, beyond_id=None, joined=(Bill.unit, Unit.building), plain=True
    )
    joined = [plain_row_of(bill, "unit") for bill in page.rows]
    loaded = await rows_by_id(state.session_factory, Unit, [bill.unit_id for bill in page.rows], joined=(Unit.building,), plain=True)
    assert len(joined) == 4 and joined == loaded
    assert [type(unit) for unit in joined] == [type(unit) for unit in loaded]
    assert [plain_row_of(unit, "building").name for unit in joined] == [plain_row_of(unit, "building").name for unit in loaded]


async def test_times_come_back_in_utc_from_plain_rows_and_objects_alike(state: AppState) -> None:
    world = await build_world(state)
    shanghai_morning = dt.datetime(2026, 3, 1, 8, 30, 15, 250, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    async with state.session_factory() as session, session.begin():
        await session.execute(update(Unit).where(Unit.id == world.ids["Unit:alice"]).values(created_at=shanghai_morning))
    ids = [world.ids["Unit:alice"]]
    (plain,) = await rows_by_id(state.session_factory, Unit, ids, plain=True)
    (loaded,) = await rows_by_id(state.session_factory, Unit, ids)
    for read in (plain.created_at, loaded.created_at):
        assert read == shanghai_morning
        assert read.tzinfo is dt.UTC and read.hour == 0


async def test_a_plain_page_of_tickets_holds_what_the_objects_hold_evidence_enums_and_units_alike(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given tickets with the classifier's evidence (JSON lists), enums, and one in a common area (no unit)
    world = await build_dispatch_world(state)
    await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水，水管爆了")
    await report_trapped_in_lift(client, world)
    conditions = [Ticket.project_id == world.ids["Project:lakeside"]]
    # when
    objects = await keyset_page(
        state.session_factory, Ticket, conditions, limit=5, beyond_id=None, newest_first=True, joined=(Ticket.unit,)
    )
    plain = await keyset_page(
        state.session_factory, Ticket, conditions, limit=5, beyond_id=None, newest_first=True,
        joined=(Ticket.unit, Unit.building), plain=True,
    )
    by_id = await rows_by_id(state.session_factory, Ticket, [row.id for row in objects.rows], plain=True)
    # then
    assert len(plain.rows) == 2
    assert any(row.classifier_evidence for row in plain.rows)
    for rows in (plain.rows, by_id):
        assert [_columns(Ticket, row) for row in rows] == [_columns(Ticket, row) for row in objects.rows]
    units = [plain_row_of(row, "unit") for row in plain.rows]
    assert [unit is None for unit in units] == [True, False]
    assert _columns(Unit, units[1]) == _columns(Unit, objects.rows[1].unit)
    (building,) = await rows_by_id(state.session_factory, Building, [units[1].building_id])
    assert _columns(Building, plain_row_of(units[1], "building")) == _columns(Building, building)
