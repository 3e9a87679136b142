"""The per-process live feed of ticket events: one bus subscription per project, one load per event.

The GraphQL subscriptions `follow` a ticket, a project's board or a technician's assignments. Within
one process:

- each project that anyone here follows holds ONE event-bus subscription, on its board channel
  (`board:<project>`), where every ticket event of the project is announced; followers of a ticket
  (`ticket:<id>`) or of a technician (`technician:<id>`) are served from it by local routing. (The
  services also announce on those narrower channels, for other consumers; subscribing to them per
  followed ticket meant thousands of LISTENs on the one connection the Postgres backend shares, which
  stalled the bus's health check into reconnect storms in the benchmark.)
- a notice only *wakes* the project's log reader, which reads every event of the project after the last
  one it read, joined with its ticket, in one query, and routes each event to the local channels it
  belongs to. `seq` order is commit order within a project (the counter row is locked until commit), so
  that read has no holes: an event is loaded once per process, never once per follower, and a lost,
  repeated or reordered notice costs nothing. `RESYNC` from the bus (it lost messages) wakes the reader;
- every follower has a bounded inbox; one that falls behind is switched to re-reading the log.

A follower passing `after_seq` first reads the log after that seq, then takes live events, dropping those
it already has. The project is subscribed on the bus, and its reader has caught up, before the
follower's own read starts; whatever commits after that read reaches the follower live. Hence no gap
and no duplicate across the hand-over. Nothing here holds a database session between reads.

The bus is anything shaped like `api.eventbus.EventBus.subscribe`: an async context manager yielding an
async iterator of message strings, and of a non-string marker that means "messages may be lost".
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Technician, Ticket, TicketEvent
from dispatch.events import (
    EventNotice,
    board_channel,
    technician_channel,
    ticket_channel,
)

__all__ = [
    "Follow",
    "FollowKind",
    "Following",
    "LiveBus",
    "LiveEvent",
    "LiveFeed",
    "technicians_concerned",
]

logger = logging.getLogger(__name__)

_RETRY_DELAY: Final = 1.0


class LiveBus(Protocol):
    """The part of the event bus the feed uses (see `api.eventbus.EventBus.subscribe`)."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[object]]: ...


class FollowKind(enum.Enum):
    TICKET = "ticket"
    BOARD = "board"
    TECHNICIAN = "technician"


def technicians_concerned(event: TicketEvent) -> frozenset[int]:
    """The technicians an event is news for: who holds the ticket after it, and who stopped working on it.

    Read from the event's own payload (the keys the dispatch services write), so a replay from the log
    attributes an old event exactly as the live path did, whatever happened to the ticket since.
    """
    payload = event.payload or {}
    return frozenset(value for key in _TECHNICIAN_KEYS if type(value := payload.get(key)) is int)


_TECHNICIAN_KEYS: Final = ("technician", "releasedTechnician")


@dataclass(eq=False, slots=True)
class LiveEvent:
    """One logged ticket event, its ticket and the ticket's assignee as this process read them, shared by
    every local follower.

    The rows are detached and must be treated as read-only. `memo` keeps work that every follower
    would otherwise repeat for this event (the GraphQL layer keeps its rendered results there).
    """

    event: TicketEvent
    ticket: Ticket
    technician_ids: frozenset[int]
    assignee: Technician | None = None
    memo: dict[Hashable, Any] = field(default_factory=dict)

    @property
    def seq(self) -> int:
        return self.event.seq

    @property
    def project_id(self) -> int:
        return self.event.project_id

    @property
    def ticket_id(self) -> int:
        return self.event.ticket_id


@dataclass(frozen=True, slots=True)
class Follow:
    """What a follower watches: one ticket, one project's board, or one technician's assignments."""

    kind: FollowKind
    project_id: int
    target_id: int

    @classmethod
    def ticket(cls, project_id: int, ticket_id: int) -> Follow:
        return cls(FollowKind.TICKET, project_id, ticket_id)

    @classmethod
    def board(cls, project_id: int) -> Follow:
        return cls(FollowKind.BOARD, project_id, project_id)

    @classmethod
    def technician(cls, project_id: int, technician_id: int) -> Follow:
        return cls(FollowKind.TECHNICIAN, project_id, technician_id)

    @property
    def channel(self) -> str:
        match self.kind:
            case FollowKind.TICKET:
                return ticket_channel(self.target_id)
            case FollowKind.BOARD:
                return board_channel(self.target_id)
            case FollowKind.TECHNICIAN:
                return technician_channel(self.target_id)

    def includes(self, event: LiveEvent) -> bool:
        if event.project_id != self.project_id:
            return False
        match self.kind:
            case FollowKind.TICKET:
                return event.ticket_id == self.target_id
            case FollowKind.BOARD:
                return True
            case FollowKind.TECHNICIAN:
                return self.target_id in event.technician_ids

    def narrowing(self) -> ColumnElement[bool] | None:
        """A SQL condition that keeps (a superset of) this follow's events, or None for all of them."""
        if self.kind is FollowKind.TICKET:
            return TicketEvent.ticket_id == self.target_id
        return None


_EVENTS_AFTER: Final = (
    # The assignee comes along: nearly every view of a ticket shows who is on it, and one join here
    # saves every rendering of the event a read of its own. One statement object for every read, so
    # SQLAlchemy builds it and its cache key once instead of on every notice.
    select(TicketEvent, Ticket, Technician)
    .join(Ticket, Ticket.id == TicketEvent.ticket_id)
    .outerjoin(Technician, Technician.id == Ticket.assignee_id)
    .where(TicketEvent.project_id == bindparam("project_id"), TicketEvent.seq > bindparam("after_seq"))
    .order_by(TicketEvent.seq)
    .limit(bindparam("limit"))
)


def _window(project_id: int, after_seq: int, limit: int) -> dict[str, int]:
    """The parameters of `_EVENTS_AFTER`: at most `limit` events of the project after `after_seq`."""
    return {"project_id": project_id, "after_seq": after_seq, "limit": limit}


def _live_events(rows: Iterable[Any]) -> list[LiveEvent]:
    return [LiveEvent(event, ticket, technicians_concerned(event), assignee) for event, ticket, assignee in rows]


class _Inbox:
    """One follower's bounded queue of live events; overflowing empties it and flags a re-read."""

    __slots__ = ("_arrived", "_capacity", "closed", "events", "overflowed")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._arrived = asyncio.Event()
        self.events: deque[LiveEvent] = deque()
        self.overflowed = False
        self.closed = False

    def offer(self, event: LiveEvent) -> None:
        if len(self.events) >= self._capacity:
            # A follower that fell behind re-reads the log instead of holding everyone's events.
            self.events.clear()
            self.overflowed = True
        else:
            self.events.append(event)
        self._arrived.set()

    def close(self) -> None:
        self.closed = True
        self._arrived.set()

    async def wait(self) -> None:
        while not self.events and not self.overflowed and not self.closed:
            self._arrived.clear()
            await self._arrived.wait()


class Following:
    """The events of one follower (see `LiveFeed.follow`); `stop()` ends the iteration from outside.

    Stopping is how a waiting follower is ended (a token that expired, say): cancelling a pending
    `anext` would end the underlying generator in an undefined place.
    """

    __slots__ = ("_events", "_inbox")

    def __init__(self, inbox: _Inbox, events: AsyncIterator[LiveEvent]) -> None:
        self._inbox = inbox
        self._events = events

    def __aiter__(self) -> Following:
        return self

    async def __anext__(self) -> LiveEvent:
        return await anext(self._events)

    def stop(self) -> None:
        self._inbox.close()

    @property
    def stopped(self) -> bool:
        return self._inbox.closed


class _Channel:
    """The followers in this process of one channel (a ticket, a board, a technician)."""

    __slots__ = ("follow", "inboxes", "log", "users")

    def __init__(self, follow: Follow, log: _ProjectLog) -> None:
        self.follow = follow
        self.log = log
        self.inboxes: set[_Inbox] = set()
        self.users = 0

    def route(self, event: LiveEvent) -> None:
        for inbox in self.inboxes:
            inbox.offer(event)


def _notice_seq(message: object, project_id: int) -> int | None:
    """The seq a notice announces, or None (meaning "re-read from where you are") for anything else."""
    if not isinstance(message, str):
        return None
    try:
        notice = EventNotice.decode(message)
    except ValueError:
        logger.warning("ignoring a malformed live notice: %.80r", message)
        return None
    return notice.seq if notice.project_id == project_id else None


class _ProjectLog:
    """Reads one project's event log forward and routes each event to this process's channels."""

    def __init__(self, feed: LiveFeed, project_id: int) -> None:
        self._feed = feed
        self.project_id = project_id
        self.channels: dict[str, _Channel] = {}
        self.read_up_to: int | None = None
        self._requests = 0
        self._served = 0
        self._reader: asyncio.Task[None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.ready = asyncio.Event()
        self.failure: BaseException | None = None
        self.listener = asyncio.create_task(self._listen(feed._bus), name=f"live:{board_channel(project_id)}")

    async def _listen(self, bus: LiveBus) -> None:
        channel = board_channel(self.project_id)
        try:
            async with bus.subscribe(channel) as messages:
                # From here on every event of the project is announced to us; only now may followers
                # read the log, once this reader has caught up.
                await self.refresh()
                self.ready.set()
                async for message in messages:
                    self.wake(_notice_seq(message, self.project_id))
        except Exception as error:
            logger.exception("live feed of %s failed", channel)
            self.failure = error
        finally:
            if not self.ready.is_set():
                self.failure = self.failure or RuntimeError(f"live feed of {channel} stopped")
                self.ready.set()
            for followed in self.channels.values():
                for inbox in followed.inboxes:
                    inbox.close()

    @property
    def alive(self) -> bool:
        return not self.listener.done()

    def wake(self, seq: int | None) -> None:
        """A notice announced `seq` (or, for None, events may have been missed): read on if it is new."""
        if seq is not None and self.read_up_to is not None and seq <= self.read_up_to:
            return
        self._requests += 1
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name=f"live-log:{self.project_id}")

    async def refresh(self) -> None:
        """Return once a read of the log that started after this call has finished."""
        self.wake(None)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._requests, done))
        await done

    def stop(self) -> None:
        self.listener.cancel()
        if self._reader is not None:
            self._reader.cancel()
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()

    async def _read(self) -> None:
        while self._served < self._requests:
            request = self._requests
            try:
                await self._read_new_events()
            except Exception:
                logger.exception("reading the ticket log of project %s failed; retrying", self.project_id)
                await asyncio.sleep(_RETRY_DELAY)
                continue
            self._served = request
            still_waiting = []
            for wanted, waiter in self._waiters:
                if wanted <= request:
                    if not waiter.done():
                        waiter.set_result(None)
                else:
                    still_waiting.append((wanted, waiter))
            self._waiters = still_waiting

    async def _read_new_events(self) -> None:
        feed = self._feed
        if self.read_up_to is None:
            async with feed._session_factory() as session:
                latest = await session.scalar(
                    select(func.max(TicketEvent.seq)).where(TicketEvent.project_id == self.project_id)
                )
            self.read_up_to = latest or 0
            return
        while True:
            async with feed._session_factory() as session:
                window = _window(self.project_id, self.read_up_to, feed._batch_size)
                rows = (await session.execute(_EVENTS_AFTER, window)).all()
            events = _live_events(rows)
            for event in events:
                self._route(event)
                self.read_up_to = event.seq
            feed.events_loaded += len(events)
            if len(events) < feed._batch_size:
                return

    def _route(self, event: LiveEvent) -> None:
        names = [ticket_channel(event.ticket_id), board_channel(self.project_id)]
        names.extend(technician_channel(technician) for technician in event.technician_ids)
        for name in names:
            channel = self.channels.get(name)
            if channel is not None:
                channel.route(event)


class LiveFeed:
    """This process's live ticket events, read once per event and fanned out to local followers."""

    def __init__(
        self,
        bus: LiveBus,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        inbox_size: int = 256,
        batch_size: int = 200,
    ) -> None:
        """`inbox_size` bounds each follower's queue; `batch_size` bounds the rows of one log read."""
        if inbox_size < 1 or batch_size < 1:
            raise ValueError("inbox_size and batch_size must be at least 1")
        self._bus = bus
        self._session_factory = session_factory
        self._inbox_size = inbox_size
        self._batch_size = batch_size
        self._logs: dict[int, _ProjectLog] = {}
        self.events_loaded = 0
        """Events read from the log for live delivery so far (replays not counted): for tests and metrics."""

    @property
    def channels(self) -> frozenset[str]:
        """The channels (tickets, boards, technicians) someone in this process follows right now."""
        return frozenset(name for log in self._logs.values() for name in log.channels)

    @property
    def bus_channels(self) -> frozenset[str]:
        """The channels this process is subscribed to on the bus: one board per followed project."""
        return frozenset(board_channel(project) for project in self._logs)

    def followers(self, channel: str) -> int:
        """How many local followers currently receive `channel`'s events."""
        return sum(len(log.channels[channel].inboxes) for log in self._logs.values() if channel in log.channels)

    @contextlib.asynccontextmanager
    async def follow(
        self,
        follow: Follow,
        *,
        after_seq: int | None = None,
        accept: Callable[[LiveEvent], bool] | None = None,
    ) -> AsyncIterator[Following]:
        """Follow `follow`: the iterator yields, in seq order, the events after `after_seq` from the log,
        then live ones; without `after_seq`, only events from the moment this is entered.

        Once entered, nothing is missed: the channel is subscribed and the project's log read. `accept`
        drops events this follower may not see (they still count as seen). Iteration ends when the
        bus stops.
        """
        channel = await self._join(follow)
        inbox = _Inbox(self._inbox_size)
        channel.inboxes.add(inbox)
        # Everything after `seen` is in the log already or will be routed to the inbox.
        seen = channel.log.read_up_to if after_seq is None else after_seq
        assert seen is not None
        try:
            yield Following(inbox, self._events(follow, inbox, seen, replay_first=after_seq is not None, accept=accept))
        finally:
            inbox.close()
            channel.inboxes.discard(inbox)
            self._leave(channel)

    async def _events(
        self,
        follow: Follow,
        inbox: _Inbox,
        seen: int,
        *,
        replay_first: bool,
        accept: Callable[[LiveEvent], bool] | None,
    ) -> AsyncIterator[LiveEvent]:
        must_replay = replay_first
        while True:
            if must_replay:
                must_replay = False
                async for event in self._replay(follow, seen):
                    if inbox.closed:
                        return
                    seen = event.seq
                    if accept is None or accept(event):
                        yield event
            await inbox.wait()
            if inbox.closed:
                return
            if inbox.overflowed:
                inbox.overflowed = False
                must_replay = True
                continue
            event = inbox.events.popleft()
            if event.seq <= seen:
                continue
            seen = event.seq
            if accept is None or accept(event):
                yield event

    async def replay(self, follow: Follow, after_seq: int) -> list[LiveEvent]:
        """Every logged event of `follow` after `after_seq`, in seq order (no live part)."""
        return [event async for event in self._replay(follow, after_seq)]

    async def _replay(self, follow: Follow, after_seq: int) -> AsyncIterator[LiveEvent]:
        narrowing = follow.narrowing()
        while True:
            statement = _EVENTS_AFTER if narrowing is None else _EVENTS_AFTER.where(narrowing)
            async with self._session_factory() as session:
                window = _window(follow.project_id, after_seq, self._batch_size)
                rows = (await session.execute(statement, window)).all()
            for event in _live_events(rows):
                after_seq = event.seq
                if follow.includes(event):
                    yield event
            if len(rows) < self._batch_size:
                return

    async def _join(self, follow: Follow) -> _Channel:
        log = self._logs.get(follow.project_id)
        if log is None or not log.alive:
            log = self._logs[follow.project_id] = _ProjectLog(self, follow.project_id)
        channel = log.channels.get(follow.channel)
        if channel is None:
            channel = log.channels[follow.channel] = _Channel(follow, log)
        channel.users += 1
        try:
            await log.ready.wait()
            if log.failure is not None:
                raise RuntimeError(f"cannot follow {follow.channel}") from log.failure
        except BaseException:
            self._leave(channel)
            raise
        return channel

    def _leave(self, channel: _Channel) -> None:
        channel.users -= 1
        if channel.users > 0:
            return
        log = channel.log
        if log.channels.get(channel.follow.channel) is channel:
            del log.channels[channel.follow.channel]
        if not log.channels:
            if self._logs.get(log.project_id) is log:
                del self._logs[log.project_id]
            log.stop()

    async def aclose(self) -> None:
        """Stop every project's bus subscription (followers' iterations end)."""
        logs = list(self._logs.values())
        self._logs.clear()
        for log in logs:
            log.stop()
        await asyncio.gather(*(log.listener for log in logs), return_exceptions=True)
