"""An announcement's counters (recipients, read, unread), live.

The use cases that change them (publishing, each first read, recalling) publish the counters as they
committed on the announcement's bus channel, after commit. The counters only grow (`read`) or move
forward (`status`), and every change is made under the announcement's row lock, so a follower keeps the
furthest it has seen and drops anything older: a message that arrives late or twice changes nothing. A
follower subscribes first, then reads the stored counters, and reads them again whenever the bus says
messages may have been lost (`RESYNC`, or any non-string marker): the database is the source of truth.
One process holds one bus subscription per channel however many staff follow it (`api.eventbus`), and a
counter message is read by nobody but the announcement's staff, so it carries the counts themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Announcement
from db.unit_of_work import UnitOfWork
from dispatch.events import Publisher
from kernel.vocabulary import AnnouncementStatus

__all__ = ["Counters", "CountersBus", "CountersFeed", "announce_counters", "counters_channel", "counters_of"]

_ORDER = {AnnouncementStatus.DRAFT: 0, AnnouncementStatus.PUBLISHED: 1, AnnouncementStatus.RECALLED: 2}


def counters_channel(announcement_id: int) -> str:
    return f"announcement:{announcement_id}"


@dataclass(frozen=True, slots=True)
class Counters:
    announcement_id: int
    status: AnnouncementStatus
    recipients: int
    read: int

    @property
    def unread(self) -> int:
        return self.recipients - self.read

    def is_after(self, other: Counters) -> bool:
        """Whether these counters were committed after `other`'s."""
        return (_ORDER[self.status], self.read) > (_ORDER[other.status], other.read)

    def message(self) -> str:
        return json.dumps(
            {"announcement": self.announcement_id, "status": self.status.value, "recipients": self.recipients, "read": self.read},
            separators=(",", ":"),
        )

    @classmethod
    def from_message(cls, text: str) -> Counters:
        fields = json.loads(text)
        return cls(int(fields["announcement"]), AnnouncementStatus(fields["status"]), int(fields["recipients"]), int(fields["read"]))


def counters_of(announcement: Announcement) -> Counters:
    return Counters(announcement.id, announcement.status, announcement.recipient_count, announcement.read_count)


def announce_counters(work: UnitOfWork, publisher: Publisher | None, counters: Counters) -> None:
    """Publish `counters` on the announcement's channel once `work` has committed."""
    if publisher is None:
        return

    async def publish() -> None:
        await publisher.publish(counters_channel(counters.announcement_id), counters.message())

    work.after_commit(publish)


class CountersBus(Protocol):
    """The part of the event bus the feed uses (see `api.eventbus.EventBus.subscribe`)."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[object]]: ...


class CountersFeed:
    def __init__(self, bus: CountersBus, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._bus = bus
        self._session_factory = session_factory

    async def follow(self, announcement_id: int, *, stop: asyncio.Event) -> AsyncIterator[Counters]:
        """The announcement's counters as they are now, then each change as it commits, until `stop` is set."""
        async with self._bus.subscribe(counters_channel(announcement_id)) as messages:
            last = await self._stored(announcement_id)
            yield last
            arrived: asyncio.Queue[object] = asyncio.Queue()
            listener = asyncio.create_task(_forward(messages, arrived))
            try:
                while (message := await _next_or_stop(arrived, stop)) is not _STOPPED:
                    counters = self._parsed(message) if isinstance(message, str) else None
                    if counters is None or counters.announcement_id != announcement_id:
                        counters = await self._stored(announcement_id)
                    if counters.is_after(last):
                        last = counters
                        yield counters
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    @staticmethod
    def _parsed(message: str) -> Counters | None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            return Counters.from_message(message)
        return None

    async def _stored(self, announcement_id: int) -> Counters:
        async with self._session_factory() as session:
            announcement = await session.scalar(select(Announcement).where(Announcement.id == announcement_id))
        assert announcement is not None, "an announcement is never deleted"
        return counters_of(announcement)


_STOPPED = object()


async def _forward(messages: AsyncIterator[object], arrived: asyncio.Queue[object]) -> None:
    async for message in messages:
        arrived.put_nowait(message)


async def _next_or_stop(arrived: asyncio.Queue[object], stop: asyncio.Event) -> object:
    """The next message, or `_STOPPED` once `stop` is set (first)."""
    if stop.is_set():
        return _STOPPED
    getting, stopping = asyncio.create_task(arrived.get()), asyncio.create_task(stop.wait())
    try:
        await asyncio.wait((getting, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        getting.cancel()
        stopping.cancel()
    if getting.done() and not getting.cancelled() and not stop.is_set():
        return getting.result()
    return _STOPPED
