"""The unit of work every write use case runs in: one transaction, committed once, and what must happen
only after it committed (publishing live events) run after it.

On SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the database's write lock before the use
case reads anything it checks. SQLite ignores `SELECT … FOR UPDATE`, and a deferred transaction would let
two concurrent refunds both read the same unrefunded balance; with the lock taken first, the second waits
(up to the connection's busy timeout) and then reads what the first committed. On PostgreSQL the use
cases lock the rows they check.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.errors import Conflict

__all__ = ["UnitOfWork", "unit_of_work"]

log = logging.getLogger("courtyard.unit_of_work")

AfterCommit = Callable[[], Awaitable[None]]


@dataclass
class UnitOfWork:
    session: AsyncSession
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
        work = UnitOfWork(session)
        try:
            async with session.begin():
                if session.get_bind().dialect.name == "sqlite":
                    await (await session.connection()).exec_driver_sql("BEGIN IMMEDIATE")
                yield work
        except IntegrityError:
            raise Conflict("The change conflicts with existing data (it may have been made concurrently).") from None
    for action in work._after_commit:
        try:
            await action()
        except Exception:
            log.exception("an action after commit failed")
