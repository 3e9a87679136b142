"""The demo community seeded once per test run and database, and a private copy of it for each module.

Seeding is the slowest thing the suite does (about a minute per database on a loaded machine), and the
modules that read the demo's figures (test_demo_seed, test_billing_demo) read the same community: the
first test process of the run to ask seeds it, as two processes starting at once would (two racing
`seed_demo` calls; what each returned and reported is kept beside the seeded database), and every module
reads a copy of its own: a file copy on SQLite, a database made from the seeded one as its template on
PostgreSQL. The other test processes wait on a lock meanwhile. The run's last step drops the template
(`tests/conftest.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import pickle
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from api.demo import DemoSummary, seed_demo
from db.migrate import upgrade_to_head
from db.personal_data import PersonalDataCipher
from db.session import create_engine, create_session_factory
from tests.conftest import PG_URL, PostgresServer, demo_template_name, missing_service

__all__ = ["CIPHERS", "TODAY", "DemoCopy", "Seeding", "copy_of_seeded_demo"]

# Each database's demo under a secret of its own: that the register comes out the same on both (test_demo_seed)
# shows that neither the database nor the secret changes the community seeded on a day.
CIPHERS = {
    "sqlite": PersonalDataCipher("demo-seed-test-secret-0123456789"),
    "postgresql": PersonalDataCipher("another-secret-entirely-0123"),
}
TODAY = dt.date(2026, 3, 15)


@dataclass(frozen=True)
class Seeding:
    """What the two racing `seed_demo` calls answered and reported, the one that created the demo first."""

    summary: DemoSummary
    progress: list[str]
    losing_result: DemoSummary | None
    losing_progress: list[str]


@dataclass(frozen=True)
class DemoCopy:
    url: str
    cipher: PersonalDataCipher
    seeding: Seeding


async def _race(url: str, cipher: PersonalDataCipher) -> Seeding:
    engine = create_engine(url)
    try:
        session_factory = create_session_factory(engine)
        first_lines: list[str] = []
        second_lines: list[str] = []
        first, second = await asyncio.gather(
            seed_demo(session_factory, cipher, today=TODAY, progress=first_lines.append),
            seed_demo(session_factory, cipher, today=TODAY, progress=second_lines.append),
        )
        if first is None:
            first, second, first_lines, second_lines = second, first, second_lines, first_lines
        assert first is not None
        if engine.dialect.name == "sqlite":
            # Everything into the database file itself, so that copying the file copies the demo.
            async with engine.connect() as connection:
                await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return Seeding(first, first_lines, second, second_lines)
    finally:
        await engine.dispose()


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def _database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _admin_dsn() -> str:
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


async def _seeded_once(kind: str, shared: Path, run_id: str) -> Seeding:
    """The run's seeding on `kind`, done by whichever test process asks first."""
    folder = shared / f"seeded-demo-{kind}"
    with _locked(shared / f"seeded-demo-{kind}.lock"):
        record = folder / "seeding.pickle"
        if not record.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            if kind == "sqlite":
                url = f"sqlite+aiosqlite:///{folder / 'demo.db'}"
            else:
                admin = await asyncpg.connect(_admin_dsn())
                try:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{demo_template_name(run_id)}"')
                    await admin.execute(f'CREATE DATABASE "{demo_template_name(run_id)}"')
                finally:
                    await admin.close()
                url = _database_url(demo_template_name(run_id))
            await _migrated(url)
            seeding = await _race(url, CIPHERS[kind])
            record.write_bytes(pickle.dumps(seeding))
        return pickle.loads(record.read_bytes())  # noqa: S301 (written just above by this run)


@contextlib.asynccontextmanager
async def copy_of_seeded_demo(
    kind: str, *, shared: Path, run_id: str, folder: Path, postgres_server: PostgresServer
) -> AsyncIterator[DemoCopy]:
    """A private copy of the run's seeded demo on `kind` ("sqlite" in `folder`, or "postgresql"), dropped after."""
    if kind == "sqlite":
        seeding = await _seeded_once(kind, shared, run_id)
        path = folder / "demo.db"
        shutil.copyfile(shared / "seeded-demo-sqlite" / "demo.db", path)
        yield DemoCopy(f"sqlite+aiosqlite:///{path}", CIPHERS[kind], seeding)
        return
    if postgres_server.url is None:
        missing_service(postgres_server.unavailable_reason or "PostgreSQL unavailable")
    seeding = await _seeded_once(kind, shared, run_id)
    name = f"courtyard_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_admin_dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{demo_template_name(run_id)}"')
        try:
            yield DemoCopy(_database_url(name), CIPHERS[kind], seeding)
        finally:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()
