"""The unit of work every write use case runs in: one transaction, committed once, and what must happen
only after it committed (publishing live events) run after it.

On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the database's write lock before the use
case reads anything it checks. SQLite ignores `SELECT … FOR UPDATE`, and a deferred transaction would let
two concurrent refunds both read the same unrefunded balance; with the lock taken first, the second waits
(up to the connection's busy timeout) and then reads what the first committed. On PostgreSQL the use
cases lock the rows they check.

A writer that finds SQLite's lock taken sleeps in SQLite's busy handler (1, 2, 5, 10 … 100 ms at a time)
and tries again only when it wakes, so the writers of one process queued with idle gaps between them
(four desk payments of ~10 ms each at a time: p99 over 600 ms). Units of work of one process on one
SQLite engine queue on an asyncio lock of their own instead, each woken as the one before it ends, and
wait for it no longer than the busy timeout; writers in other processes still meet in the busy handler.

Waiting has limits (SQLite's busy timeout, PostgreSQL's deadlock detector and any lock timeout). A
transaction that gives up there did nothing wrong and wrote nothing: it answers CONFLICT, asking the
client to try again, never an internal error.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kernel.errors import Conflict

__all__ = ["UnitOfWork", "current_unit_of_work", "unit_of_work"]

log = logging.getLogger("courtyard.unit_of_work")

AfterCommit = Callable[[], Awaitable[None]]

# PostgreSQL's serialization_failure, deadlock_detected and lock_not_available: the transaction lost a
# race for a lock and was rolled back; trying again succeeds.
_LOST_LOCK_RACE_STATES = frozenset({"40001", "40P01", "55P03"})
_TRY_AGAIN = "The database was busy with concurrent changes and nothing was written; try again."
_INTEGRITY = "The change conflicts with existing data (it may have been made concurrently)."
_SESSION_KEY = "courtyard.unit_of_work"
# As long as SQLite's busy timeout (`db.session`): a writer waits for the writers before it no longer.
_SQLITE_WRITER_WAIT_SECONDS = 30
# Keyed by the engine's pool (shared by the engines `execution_options` derives), with the loop the lock
# belongs to: an asyncio lock serves one event loop.
_sqlite_writers: weakref.WeakKeyDictionary[Any, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = weakref.WeakKeyDictionary()


@dataclass
class UnitOfWork:
    session: AsyncSession
    sessions: async_sessionmaker[AsyncSession] | None = None
    """The factory the unit of work came from: what runs after commit opens its own transactions with it."""
    _after_commit: list[AfterCommit] = field(default_factory=list)

    def after_commit(self, action: AfterCommit) -> None:
        """Run `action` once the transaction has committed; never if it rolls back. A failing action is
        logged, not raised: what committed stays committed."""
        self._after_commit.append(action)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    """Open a transaction for one use case: commit when the block ends, roll back and write nothing when
    it raises. A unique-constraint race that reaches the commit answers CONFLICT."""
    async with _one_sqlite_writer(sessions), sessions() as session:
        work = UnitOfWork(session, sessions)
        session.info[_SESSION_KEY] = work
        try:
            async with session.begin():
                if session.get_bind().dialect.name == "sqlite":
                    await (await session.connection()).exec_driver_sql("BEGIN IMMEDIATE")
                yield work
        except IntegrityError:
            raise Conflict(_INTEGRITY) from None
        except DBAPIError as error:
            if _lost_lock_race(error):
                raise Conflict(_TRY_AGAIN) from None
            raise
        except Exception as error:
            # What went to the driver past SQLAlchemy (`db.driver`, the bulk writer) fails with the
            # driver's own error, which names its SQLSTATE: class 23 is an integrity violation.
            state = getattr(error, "sqlstate", None)
            if state in _LOST_LOCK_RACE_STATES:
                raise Conflict(_TRY_AGAIN) from None
            if isinstance(state, str) and state.startswith("23"):
                raise Conflict(_INTEGRITY) from None
            raise
    for action in work._after_commit:
        try:
            await action()
        except Exception:
            log.exception("an action after commit failed")


@asynccontextmanager
async def _one_sqlite_writer(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """Queue behind this process's other units of work on the same SQLite engine (see the module
    docstring); nothing for PostgreSQL, or for a factory bound to something other than an engine (its
    sessions share one connection, which holds SQLite's lock for all of them)."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        yield
        return
    loop = asyncio.get_running_loop()
    pool = bind.sync_engine.pool
    held = _sqlite_writers.get(pool)
    if held is None or held[0] is not loop:
        held = _sqlite_writers[pool] = (loop, asyncio.Lock())
    lock = held[1]
    try:
        await asyncio.wait_for(lock.acquire(), _SQLITE_WRITER_WAIT_SECONDS)
    except TimeoutError:
        raise Conflict(_TRY_AGAIN) from None
    try:
        yield
    finally:
        lock.release()


def current_unit_of_work(session: AsyncSession) -> UnitOfWork | None:
    """The unit of work `session` belongs to, for a step that runs inside its caller's transaction and has
    something to do once that commits; None outside one (the demo seeder's own transactions)."""
    work = session.info.get(_SESSION_KEY)
    return work if isinstance(work, UnitOfWork) else None


def _lost_lock_race(error: DBAPIError) -> bool:
    """Whether the database gave up waiting for a lock (SQLite's busy timeout ran out, or PostgreSQL
    rolled the transaction back to break a deadlock or end a wait)."""
    if "database is locked" in str(error.orig):
        return True
    return getattr(error.orig, "sqlstate", None) in _LOST_LOCK_RACE_STATES
