"""The bulk writer's merges (`billing.bulk.TableRows`): rows added to stored sums, stored rows rewritten
and stored rows deleted by their primary key, in one `write_together` (one statement on PostgreSQL), on
SQLite and PostgreSQL. The reports' facts of a payment are written this way."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from api.state import AppState
from billing.bulk import TableRows, bulk_connection
from db.models import Building, CollectionFlow
from tests.integration.world import add_project

_FLOWS = CollectionFlow.__table__
_COLUMNS = ("project_id", "period", "building_id", "issued_on", "fee_kind", "day", "receivable", "collected")
_KEY = ("project_id", "period", "building_id", "issued_on", "fee_kind", "day")
_ISSUED = dt.date(2026, 11, 1)


async def test_one_write_adds_to_rewrites_and_deletes_stored_rows(state: AppState) -> None:
    # given three stored flows of November, for the 1st, 2nd and 3rd
    async with state.session_factory() as session, session.begin():
        project = await add_project(session)
        building = Building(project_id=project.id, name="1栋")
        session.add(building)
        await session.flush()

        def flow(day: int, receivable: int, collected: int) -> tuple[object, ...]:
            return (project.id, "2026-11", building.id, _ISSUED, "PROPERTY", dt.date(2026, 11, day), receivable, collected)

        writer = await bulk_connection(session)
        await writer.write_together([TableRows(_FLOWS, _COLUMNS, [flow(1, 100, 10), flow(2, 5, 5), flow(3, 1, 1)])])

    # when one write adds to the 1st and a new 4th, rewrites the 3rd and deletes the 2nd
    async with state.session_factory() as session, session.begin():
        writer = await bulk_connection(session)
        await writer.write_together(
            [
                TableRows(_FLOWS, _COLUMNS, [flow(1, 50, 20), flow(4, 7, 0)], on_conflict="add"),
                TableRows(_FLOWS, _KEY, [flow(2, 0, 0)[:6]], delete=True),
                TableRows(_FLOWS, _COLUMNS, [flow(3, 3, 2)], on_conflict="replace"),
            ]
        )

    # then the 1st holds the sums, the 3rd the new figures, the 4th is new and the 2nd is gone
    async with state.session_factory() as session:
        stored = (
            await session.execute(
                select(CollectionFlow.day, CollectionFlow.receivable, CollectionFlow.collected).order_by(CollectionFlow.day)
            )
        ).all()
    assert [(day.day, receivable, collected) for day, receivable, collected in stored] == [(1, 150, 30), (3, 3, 2), (4, 7, 0)]
