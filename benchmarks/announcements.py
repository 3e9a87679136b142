"""Publishing an announcement to a 10,000-flat project, on PostgreSQL and on SQLite.

A throwaway database gets one project of 10,000 flats in 20 buildings, a household (party, occupancy
and login) in each. Then, through the use cases: publish an announcement to the whole project
(resolve the audience, snapshot the recipients, enqueue one message each), mark 100 of them read,
send the first reminder round to the unread, and recall it (cancelling every pending message). Each
step is timed from the caller's side, statements counted.

    python -m benchmarks.announcements            # both databases
    python -m benchmarks.announcements --db sqlite --flats 2000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, select

from announcements.drafting import create_announcement
from announcements.publishing import publish_announcement, recall_announcement
from announcements.reading import mark_announcement_read
from announcements.reminders import send_due_reminders
from benchmarks.table import peak_rss_mib, print_table
from benchmarks.throwaway import postgresql_database, sqlite_database
from db.migrate import upgrade_to_head
from db.models import Building, Message, Occupancy, Organization, Party, Project, Unit, User
from db.session import create_engine, create_session_factory
from kernel.principal import Principal, Role
from kernel.vocabulary import MessageStatus, UnitKind

FLATS = 10_000
BUILDINGS = 20
READERS = 100
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


async def _seed(sessions: Any, flats: int) -> tuple[int, int, list[Principal]]:
    """The project, its admin and its households; answers the project's and the admin's ids and the first
    `READERS` owners as principals."""
    async with sessions() as session, session.begin():
        organization = Organization(name="Bench Property Co")
        session.add(organization)
        await session.flush()
        project = Project(organization_id=organization.id, name="Bench", timezone="Asia/Shanghai", currency="CNY", settings={})
        session.add(project)
        await session.flush()
        buildings = [Building(project_id=project.id, name=f"{n}栋") for n in range(1, BUILDINGS + 1)]
        session.add_all(buildings)
        await session.flush()
        per_building = flats // BUILDINGS
        await session.execute(
            insert(Unit),
            [
                {"project_id": project.id, "building_id": building.id, "number": f"{n:04d}", "floor": n // 10 + 1,
                 "floor_area": Decimal("88.00"), "kind": UnitKind.APARTMENT}
                for building in buildings
                for n in range(per_building)
            ],
        )
        await session.execute(insert(Party), [{"project_id": project.id, "name": f"业主{n}"} for n in range(flats)])
        units = (await session.scalars(select(Unit.id).where(Unit.project_id == project.id).order_by(Unit.id))).all()
        parties = (await session.scalars(select(Party.id).where(Party.project_id == project.id).order_by(Party.id))).all()
        await session.execute(
            insert(Occupancy),
            [{"unit_id": u, "party_id": p, "relation": "OWNER", "start_date": dt.date(2020, 1, 1)} for u, p in zip(units, parties, strict=True)],
        )
        await session.execute(
            insert(User),
            [{"email": f"owner{n}@bench.test", "display_name": f"业主{n}", "password_hash": "x", "party_id": p}
             for n, p in enumerate(parties)],
        )
        admin = User(email="admin@bench.test", display_name="管理员", password_hash="x")
        session.add(admin)
        await session.flush()
        admin_id = admin.id
        logins = dict((await session.execute(select(User.party_id, User.id).where(User.party_id.in_(parties[:READERS])))).all())
        project_id = project.id
    readers = [
        Principal(user_id=logins[p], roles={project_id: frozenset({Role.OWNER})}, party_id=p) for p in parties[:READERS]
    ]
    return project_id, admin_id, readers


async def _bench(url: str, flats: int) -> list[dict[str, object]]:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    sessions = create_session_factory(engine)
    project_id, admin_id, readers = await _seed(sessions, flats)
    admin = Principal(user_id=admin_id, roles={project_id: frozenset({Role.ADMIN})})
    statements = [0]
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))
    rows: list[dict[str, object]] = []

    async def timed(step: str, call: Callable[[], Awaitable[object]]) -> object:
        statements[0] = 0
        started = time.perf_counter()
        result = await call()
        rows.append({"database": engine.dialect.name, "step": step, "seconds": f"{time.perf_counter() - started:.3f}", "statements": statements[0]})
        return result

    draft = await create_announcement(
        sessions, admin, project_id=project_id, title="停水通知", body="明日 9:00–17:00 全小区停水。", roles=[Role.OWNER], now=NOW
    )
    published = await timed(
        f"publish to {flats:,} flats", lambda: publish_announcement(sessions, admin, announcement_id=draft.id, now=NOW)
    )

    async def read_all() -> None:
        for reader in readers:
            await mark_announcement_read(sessions, reader, announcement_id=draft.id, now=NOW + dt.timedelta(hours=1))

    await timed(f"{READERS} first reads (one each)", read_all)
    reminded = await timed("reminder round 1", lambda: send_due_reminders(sessions, now=NOW + dt.timedelta(hours=24)))
    await timed(
        "recall (cancel pending)",
        lambda: recall_announcement(sessions, admin, announcement_id=draft.id, reason=None, now=NOW + dt.timedelta(hours=25)),
    )
    async with sessions() as session:
        cancelled = len((await session.scalars(select(Message.id).where(Message.status == MessageStatus.CANCELLED))).all())
    await engine.dispose()
    assert getattr(published, "recipient_count") == flats and reminded == flats - READERS and cancelled == 2 * flats - READERS
    for row in rows:
        row["peak MiB"] = f"{peak_rss_mib():.0f}"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--flats", type=int, default=FLATS)
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    if args.db in ("postgresql", "both"):
        with postgresql_database() as url:
            rows += asyncio.run(_bench(url, args.flats))
    if args.db in ("sqlite", "both"):
        with sqlite_database() as url:
            rows += asyncio.run(_bench(url, args.flats))
    print_table(f"Announcements: a {args.flats:,}-flat project", rows)


if __name__ == "__main__":
    main()
