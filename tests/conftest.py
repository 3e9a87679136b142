"""Shared fixtures: both databases, a controllable clock, the app behind an ASGI client."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

import db.models  # noqa: F401  (all tables on the metadata)
from api.app import create_app
from api.settings import Settings
from api.state import AppState
from db.base import Base
from db.migrate import upgrade_to_head
from db.session import create_engine

PG_URL = os.environ.get("COURTYARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("COURTYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"

# CI draws the same examples on every run, so a red build is never luck and a green one never hides a
# counterexample that turns up only sometimes; `make fuzz` searches with many more, freshly drawn.
# Speed is measured in benchmarks/, not here: a busy machine must not turn a slow draw or a slow example
# into a failure, so neither the per-example deadline nor the slow-generation health check applies.
NOT_TIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
hypothesis_settings.register_profile("default", **NOT_TIMED)
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **NOT_TIMED)
hypothesis_settings.register_profile("fuzz", max_examples=2_000, print_blob=True, **NOT_TIMED)
hypothesis_settings.load_profile(os.environ.get("COURTYARD_HYPOTHESIS_PROFILE", "ci" if IN_CI else "default"))
TEST_SECRET = "courtyard-test-secret-0123456789"
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


RUN_ID = pytest.StashKey[str]()


# The files that take longest, longest first: their summed test times in a full run (`--junitxml`, 2026-12-07
# 02:00 UTC, two test processes, load about 5), 128 s down to 20 s. pytest-xdist hands whole files (`--dist
# loadfile`) to the two test processes in the order of the collection, so these start first and the run ends
# on short files, the processes finishing together; sorted by its default, the most tests first, two-test
# files such as test_serve_demo.py (minutes) started last while the other process had long finished. The
# files not named here follow, the most tests first. Re-measure when a file grows past 20 s.
_LONGEST_FILES = (
    "tests/integration/test_demo_seed.py",
    "tests/e2e/test_live_pages.py",
    "tests/integration/test_schema_fuzz.py",
    "tests/integration/test_authorization_table_postgresql.py",
    "tests/e2e/test_serve_demo.py",
    "tests/integration/test_compiled_queries.py",
    "tests/integration/test_authorization_table.py",
    "tests/e2e/test_scale_out.py",
    "tests/integration/test_reports.py",
    "tests/integration/test_billing_races.py",
    "tests/e2e/test_browser_edge.py",
    "tests/integration/test_wrong_ids.py",
    "tests/e2e/test_finance_page.py",
    "tests/integration/test_invoicing_issuing.py",
    "tests/integration/test_reports_in_sql.py",
    "tests/integration/test_close_export.py",
    "tests/integration/test_subscriptions.py",
    "tests/integration/test_repairs_in_arrears.py",
    "tests/integration/test_billing_runs.py",
    "tests/integration/test_dunning_work_queue.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """One id for the whole run, the same in every test process: it names what the processes share."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.stash[RUN_ID] = workerinput["testrunuid"]
        return
    if getattr(config.option, "testrunuid", None) is None:
        config.option.testrunuid = uuid.uuid4().hex  # pytest-xdist hands it to the processes it starts
    config.stash[RUN_ID] = config.option.testrunuid
    # pytest-xdist would sort the files again by their number of tests: keep the order of `_LONGEST_FILES`.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (`_LONGEST_FILES`), then the others, most tests first; each file's own order kept."""
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.nodeid.split("::")[0], []).append(item)

    def rank(file: str) -> tuple[int, int]:
        if file in _LONGEST_FILES:
            return _LONGEST_FILES.index(file), 0
        return len(_LONGEST_FILES), -len(by_file[file])

    items[:] = [item for file in sorted(by_file, key=rank) for item in by_file[file]]


def demo_template_name(run_id: str) -> str:
    """The PostgreSQL database a run seeds its demo into once, then only copies (tests/integration/seeded_demo.py)."""
    return f"courtyard_test_demo_{run_id[:16]}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the run's seeded demo template, in the process that started the others, once they are all done."""
    if hasattr(session.config, "workerinput"):
        return
    # A thread of its own: the hook is synchronous, and the tests' event loop may still be set.
    dropping = threading.Thread(target=asyncio.run, args=(_drop_database(demo_template_name(session.config.stash[RUN_ID])),))
    dropping.start()
    dropping.join()


async def _drop_database(name: str) -> None:
    try:
        admin = await _pg_admin_connection()
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
        return  # no PostgreSQL, so nothing was made there
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def run_id(request: pytest.FixtureRequest) -> str:
    return request.config.stash[RUN_ID]


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder all of this run's test processes share (pytest-xdist gives each its own base folder)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def missing_service(reason: str) -> None:
    """Skip with a visible reason; under CI=true a missing service is a failure instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required)")
    pytest.skip(reason)


class Clock:
    """The service's notion of now, moved by tests instead of sleeping."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin_connection() -> asyncpg.Connection:
    return await asyncpg.connect(_asyncpg_dsn(PG_URL), timeout=3)


@dataclass(frozen=True)
class PostgresServer:
    url: str | None
    unavailable_reason: str | None = None


@pytest.fixture(scope="session")
async def postgres_server() -> AsyncIterator[PostgresServer]:
    """A throwaway, migrated database on the test server, dropped at the end of the session."""
    try:
        admin = await _pg_admin_connection()
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as error:
        yield PostgresServer(None, f"PostgreSQL unreachable at {PG_URL}: {error}")
        return
    name = f"courtyard_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()
    try:
        yield PostgresServer(url)
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(engine)
    await engine.dispose()
    return path


# Emptying deletes rather than truncates when the test left few rows: TRUNCATE gives each of the ~80
# tables and their indexes new files, which took 0.3-3.5 s per test (more on a busy machine), while
# deleting a few hundred rows takes milliseconds. Deleting many rows is slower than truncating them (each
# one is checked against the tables that could reference it), so a test that left many truncates.
_MANY_ROWS = 2_000
_TABLES = Base.metadata.sorted_tables
_COUNT_UP_TO_MANY = " UNION ALL ".join(
    f'SELECT count(*) FROM (SELECT FROM "{table.name}" LIMIT {_MANY_ROWS}) AS "{table.name}"' for table in _TABLES
)
# Children before the tables they reference, all in one implicit transaction ...
_DELETE_EVERY_ROW = "; ".join(f'DELETE FROM "{table.name}"' for table in reversed(_TABLES))
# ... and the tables' own sequences start again, as TRUNCATE's RESTART IDENTITY does.
_RESTART_OWNED_SEQUENCES = """
SELECT setval(sequence.seqrelid, sequence.seqstart, false)
FROM pg_sequence AS sequence
JOIN pg_depend AS owner
  ON owner.objid = sequence.seqrelid
 AND owner.classid = 'pg_class'::regclass
 AND owner.refclassid = 'pg_class'::regclass
 AND owner.deptype IN ('a', 'i')
WHERE owner.refobjid = ANY($1::regclass[])
"""
_TABLE_NAMES = [f'"{table.name}"' for table in _TABLES]
_TRUNCATE_EVERY_TABLE = f"TRUNCATE {', '.join(_TABLE_NAMES)} RESTART IDENTITY CASCADE"


async def _empty_postgres(url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        left = sum(count for (count,) in await connection.fetch(_COUNT_UP_TO_MANY))
        if left >= _MANY_ROWS:
            await connection.execute(_TRUNCATE_EVERY_TABLE)
        else:
            await connection.execute(_DELETE_EVERY_ROW)
            await connection.execute(_RESTART_OWNED_SEQUENCES, _TABLE_NAMES)
    finally:
        await connection.close()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    if postgres_server.url is None:
        missing_service(postgres_server.unavailable_reason or "PostgreSQL unavailable")
    assert postgres_server.url is not None
    await _empty_postgres(postgres_server.url)
    return postgres_server.url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_server: PostgresServer
) -> str:
    """Every test that uses the database runs once on SQLite and once on PostgreSQL, each from empty."""
    if request.param == "sqlite":
        path = tmp_path / "courtyard.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if postgres_server.url is None:
        missing_service(postgres_server.unavailable_reason or "PostgreSQL unavailable")
    assert postgres_server.url is not None
    await _empty_postgres(postgres_server.url)
    return postgres_server.url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def collector_off() -> Iterator[None]:
    """Only reference counting frees objects during the test: for tests that something is freed at once."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_SECRET, media_dir=tmp_path / "media")


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock, migrate=False)
    async with LifespanManager(application):
        yield application


@pytest.fixture
def state(app: Starlette) -> AppState:
    return app.state.courtyard  # type: ignore[no-any-return]


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def offline_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """For what the app answers before any database work: an empty SQLite file that is never migrated."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'offline.db'}",
        secret_key=TEST_SECRET,
        media_dir=tmp_path / "media",
        **overrides,
    )


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, behind an httpx client."""
    transport = httpx.ASGITransport(app=app)
    async with LifespanManager(app), httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def offline_app(tmp_path: Path) -> AsyncIterator[Starlette]:
    """The app for requests that never reach the database (refusals, headers, validation): one database
    is enough for those, and it needs no schema."""
    application = create_app(offline_settings(tmp_path), migrate=False)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def offline_client(offline_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=offline_app), base_url="http://testserver") as http:
        yield http

