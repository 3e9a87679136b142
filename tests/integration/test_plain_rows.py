"""Loaders of plain rows answer every column exactly as the ORM objects would, on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from api.state import AppState
from db.batch_reads import rows_by_id, rows_grouped_by
from db.pages import keyset_page
from db.models import Occupancy, Technician, Unit
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
