"""Async engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import PoolResetState, QueuePool

from db.base import loads_json

__all__ = ["async_url", "create_engine", "create_session_factory", "is_sqlite", "returns_without_io"]


def async_url(url: str) -> str:
    """Accept the usual sync spellings too (`postgresql://`, `sqlite:///`) and pick the async driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = async_url(url)
    # The pool rolls back each connection it takes back, on SQLite a trip to aiosqlite's thread even when
    # no transaction is open (reads sent past SQLAlchemy, `db.driver`, open none); the reset below rolls
    # back only an open one, the only one SQLite's driver would roll back.
    reset_open_only = is_sqlite(url) and "pool_reset_on_return" not in kwargs
    if reset_open_only:
        kwargs["pool_reset_on_return"] = None
    # JSON columns read by orjson where it reads what `json.loads` would (pages read one in every row).
    kwargs.setdefault("json_deserializer", loads_json)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
    if reset_open_only:
        event.listen(engine.sync_engine, "reset", _roll_back_an_open_transaction)
    return engine


def _roll_back_an_open_transaction(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    # As the pool's own reset: nothing where the connection cannot be reached from the event loop.
    if state.asyncio_safe and (record is None or _transaction_open(record.driver_connection)):
        dbapi_connection.rollback()


def _transaction_open(driver: Any) -> bool:
    """Whether SQLite's driver connection (aiosqlite's) has a transaction open: none once it is closed,
    as SQLAlchemy's adapter rolls back none then."""
    try:
        return bool(driver.in_transaction)
    except ValueError:  # aiosqlite's "no active connection"
        return False


def returns_without_io(engine: AsyncEngine, connection: Any) -> bool:
    """Whether the pool takes `connection` (a pooled connection of `engine`, no transaction of
    SQLAlchemy's open on it) back without I/O: it keeps it (it has room), and rolls back nothing
    (PostgreSQL's adapter rolls back only a transaction SQLAlchemy began; SQLite's pool, set up here,
    only one open on the driver)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool) or pool.checkedin() >= pool.size():
        return False
    if engine.dialect.name == "postgresql":
        return True
    return (
        event.contains(engine.sync_engine, "reset", _roll_back_an_open_transaction)
        and not _transaction_open(connection.driver_connection)
    )


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ships with foreign keys off and a rollback journal that serialises readers and writers.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite has one writer at a time. A long write (the demo seed, a bill run's batch) holds the lock
    # for seconds on a busy machine; other writers wait for it rather than fail with "database is locked".
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
