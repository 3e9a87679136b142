"""The in-app inbox, live: a follower of an addressee's inbox gets every message delivered to it, in inbox
order, from a given number on, without gap or duplicate.

The relay numbers in-app messages per addressee in the delivering transaction (the counter row stays
locked until commit, so numbers commit in order) and, after commit, announces the number on the
addressee's bus channel. A follower subscribes to that channel first, then reads the inbox after the
number it has, and reads again whenever the channel announces something or the bus says messages may
have been lost (`RESYNC`, or any non-string marker): the database is the source of truth, a lost or
repeated announcement costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Message
from notifications.relay import inbox_channel

__all__ = ["InboxBus", "InboxFeed"]

_READ_LIMIT = 100


class InboxBus(Protocol):
    """The part of the event bus the feed uses (see `api.eventbus.EventBus.subscribe`)."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[object]]: ...


class InboxFeed:
    def __init__(self, bus: InboxBus, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._bus = bus
        self._session_factory = session_factory

    async def follow(self, addressee: str, *, after_seq: int | None, stop: asyncio.Event) -> AsyncIterator[Message]:
        """The addressee's in-app messages numbered after `after_seq` (None: only those delivered from now
        on), then each new one as it is delivered, until `stop` is set."""
        async with self._bus.subscribe(inbox_channel(addressee)) as announcements:
            last = after_seq if after_seq is not None else await self._newest(addressee)
            woken = asyncio.Event()
            listener = asyncio.create_task(_wake_on_each(announcements, woken))
            try:
                while not stop.is_set():
                    for message in await self._after(addressee, last):
                        last = message.inbox_seq or last
                        yield message
                    await _first_of(woken, stop)
                    woken.clear()
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _newest(self, addressee: str) -> int:
        async with self._session_factory() as session:
            return int(await session.scalar(select(func.max(Message.inbox_seq)).where(Message.addressee == addressee)) or 0)

    async def _after(self, addressee: str, seq: int) -> list[Message]:
        async with self._session_factory() as session:
            rows = await session.scalars(
                select(Message)
                .where(Message.addressee == addressee, Message.inbox_seq > seq)
                .order_by(Message.inbox_seq)
                .limit(_READ_LIMIT)
            )
            found = list(rows.all())
        if len(found) == _READ_LIMIT:
            # More follow: read on at once rather than wait for the next announcement.
            found.extend(await self._after(addressee, found[-1].inbox_seq or seq))
        return found


async def _wake_on_each(announcements: AsyncIterator[object], woken: asyncio.Event) -> None:
    async for _ in announcements:
        woken.set()


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
