"""Waiting in line, in this process, before asking PostgreSQL for a row that every transaction of a kind
locks until it commits (a project's receipt counter).

PostgreSQL does not serve the transactions waiting for a row lock in the order they came: when the holder
ends, those waiting race for the row. Under load a payment could wait through dozens of others: at 16
clients recording payments, 11 of them were waiting on the receipt counter at any moment, and p99 was
four times p50 (155 against 35 ms). In line here first, at most one transaction of this process waits in
the database at a time, and the others follow in the order they came: the same rate, p99 60 ms. The line
only orders the waiting; the row lock still keeps the numbers gapless, across processes too.

The line is left as soon as the row is locked, so the next in line waits in the database while the holder
finishes its transaction, and the hand-over costs no round trip. Two rules keep a wait in line from
hiding a deadlock from the database's detector, which sees only the waits in the database:

- a transaction that already holds a row of a line (two counters, or the same one twice) asks the
  database at once, since it might hold what the head of the line waits for;
- nobody waits in line longer than `LINE_WAIT_SECONDS`: then the transaction asks the database directly,
  where every wait of a cycle shows and one of them is broken (CONFLICT, try again).

SQLite needs no line: a process writes one transaction at a time (`db.unit_of_work`).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["LINE_WAIT_SECONDS", "in_line_for_row_lock"]

# Far above a wait in a working line (tens of milliseconds a transaction) and at PostgreSQL's own
# deadlock_timeout, so a cycle through the line is broken about as soon as one in the database.
LINE_WAIT_SECONDS = 1.0

# The transaction (SQLAlchemy's root `SessionTransaction`) that locked a row of a line, per session.
_HOLDER = "courtyard.row_lock_line.holder"

_lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, asyncio.Lock]] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def in_line_for_row_lock(session: AsyncSession, row: Hashable) -> AsyncIterator[None]:
    """Wait for this process's earlier transactions that asked for `row` (any hashable naming the row)
    to have locked it, then run the block, which locks it. Leaves the line when the block ends."""
    transaction = session.sync_session.get_transaction()
    holds_a_row = transaction is not None and session.info.get(_HOLDER) is transaction
    line = None
    if session.get_bind().dialect.name == "postgresql" and not holds_a_row:
        line = _lines.setdefault(asyncio.get_running_loop(), {}).setdefault(row, asyncio.Lock())
        try:
            async with asyncio.timeout(LINE_WAIT_SECONDS):
                await line.acquire()
        except TimeoutError:
            line = None
    try:
        yield
    finally:
        if line is not None:
            line.release()
    session.info[_HOLDER] = session.sync_session.get_transaction()
