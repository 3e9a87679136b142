"""A connection pool that hands its connections out in the order they were asked for.

SQLAlchemy's asyncio pool queues connections in an `asyncio.Queue`. When a connection comes back, the
queue wakes its first waiter, but until that waiter runs, anyone who asks takes the connection at once,
and the waiter, finding the queue empty again, waits anew at the back of the line. With fewer connections
than requests in flight (a fixed pool, `api.app`), some requests lost that race statement after statement:
under 32 concurrent requests on SQLite's two connections the payments page answered its p99 in 1.1 s
against a p50 of 0.14 s. Here a connection that comes back goes straight to the longest waiter, and no one
takes a connection while anyone waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

__all__ = ["FairAsyncPool"]

_T = TypeVar("_T")


class _FairQueue(QueueCommon[_T]):
    """The pool's idle connections and, while none is idle, the futures of those waiting for one, oldest
    first: an item is never idle while someone waits for it."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._items: deque[_T] = deque()
        self._waiters: deque[asyncio.Future[_T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiters)

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: _T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that gave up (timed out, cancelled) is passed over
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        # The pool only gives connections back, and never more than it holds: nothing to wait for.
        self.put_nowait(item)

    def get_nowait(self) -> _T:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        if self._items or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> _T:
        waiter: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise Empty() from None
        except asyncio.CancelledError:
            # Handed a connection in the moment the caller was cancelled: the next waiter has it instead.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, its connections handed out first come, first served."""

    _queue_class = _FairQueue

    def waiting(self) -> int:
        """How many ask for a connection and wait for one to come back."""
        return self._pool.waiting()  # type: ignore[attr-defined]
