"""The unit of work every write use case runs in: one transaction, committed once, and what must happen
only after it committed (publishing live events) run after it.

On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the database's write lock before the use
case reads anything it checks. SQLite ignores `SELECT … FOR UPDATE`, and a deferred transaction would let
two concurrent refunds both read the same unrefunded balance; with the lock taken first, the second waits
(up to the connection's busy timeout) and then reads what the first committed. On PostgreSQL the use
cases lock the rows they check.

Waiting has limits (SQLite's busy timeout, PostgreSQL's deadlock detector and any lock timeout). A
transaction that gives up there did nothing wrong and wrote nothing: it answers CONFLICT, asking the
client to try again, never an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
    async with sessions() as session:
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
