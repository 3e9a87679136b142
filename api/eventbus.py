"""The live-event bus: broadcaster's backends behind one process-wide fan-out that survives their defects.

One `EventBus` per process holds one backend subscription per channel and fans each message out to
local subscribers, each with its own bounded inbox. Subscribers iterate message strings and the
`RESYNC` marker, which means "messages may have been lost here: re-read the event log"; the database
log is the source of truth, the bus only says that something new is there.

What broadcaster 0.3.1 gets wrong, and what this module does about it:

- **No reconnect** (upstream #144). A supervisor notices a dead backend (its reader stops, a publish or
  subscribe fails, or a periodic ping through the backend to a private channel does not come back),
  drops the backend object, builds a fresh one with exponential backoff, re-subscribes every active
  channel and only then sends `RESYNC` to every subscriber. `publish` never raises for backend
  trouble: it answers False and keeps the message (a bounded outbox) to resend after reconnecting, so
  other processes' subscribers hear of it too.
- **Concurrent first subscribes race** (upstream #142; asyncpg also refuses two statements at once on
  the one connection the Postgres backend shares between LISTEN and NOTIFY). Every backend call goes
  through one lock, and the backend subscription of a channel is reconciled with the local
  subscribers under that lock, so it is made once and dropped when the last local subscriber leaves.
- **The Redis backend marks itself ready before it has subscribed** and, with redis-py 8, delivers
  nothing. It is replaced by `_RedisBackend` below: its `subscribe` returns only after Redis has
  confirmed the subscription on the listening connection, so a message published after `subscribe`
  returns is delivered, and it turns off redis-py's silent reconnect-and-resubscribe, which would lose
  messages without anyone knowing; the supervisor reconnects instead and sends `RESYNC`.

broadcaster's memory and Postgres backends are used as they are (the Postgres one gets an
`application_name`, `courtyard-eventbus` unless the URL sets one, so operators can find its LISTEN
connection). Messages are `str` on every backend (the memory backend would pass any object and hide
bugs) and stay under `MESSAGE_SIZE_LIMIT` bytes, well inside the 8,000-byte NOTIFY payload limit.
The memory backend is private to one `EventBus` instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import random
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from broadcaster import BroadcastBackend, Event
from broadcaster._backends.memory import MemoryBackend
from broadcaster._backends.postgres import PostgresBackend
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["CHANNEL_SIZE_LIMIT", "MESSAGE_SIZE_LIMIT", "RESYNC", "EventBus", "Resync", "Subscription"]

logger = logging.getLogger(__name__)

MESSAGE_SIZE_LIMIT: Final = 7_000
"""Messages of this many UTF-8 bytes or more are refused (Postgres NOTIFY fails at 8,000)."""

CHANNEL_SIZE_LIMIT: Final = 63
"""Longest channel name in UTF-8 bytes: Postgres cuts identifiers, and so LISTEN channels, at 63."""

_SCHEMES: Final = frozenset({"memory", "postgres", "postgresql", "redis", "rediss"})
_POSTGRES_APPLICATION_NAME: Final = "courtyard-eventbus"
_FIRST_RECONNECT_DELAY: Final = 0.05


class Resync(enum.Enum):
    """The marker type of `RESYNC`: messages may have been lost, re-read the event log."""

    RESYNC = "RESYNC"

    def __repr__(self) -> str:
        return "RESYNC"


RESYNC: Final = Resync.RESYNC


class Subscription:
    """One local subscriber's bounded inbox; `async for` over it yields message strings and `RESYNC`.

    Iteration ends when the subscription's `subscribe` block exits or the bus stops.
    """

    def __init__(self, channel: str, capacity: int) -> None:
        self.channel: Final = channel
        self._capacity = capacity
        self._inbox: deque[str | Resync] = deque()
        self._arrived = asyncio.Event()
        self._closed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str | Resync:
        while not self._inbox and not self._closed:
            self._arrived.clear()
            await self._arrived.wait()
        if self._closed:
            raise StopAsyncIteration
        return self._inbox.popleft()

    def _deliver(self, message: str) -> None:
        if self._closed:
            return
        if len(self._inbox) >= self._capacity:
            # A reader that fell behind loses its backlog instead of holding up everyone else; what it
            # lost is in the log, and RESYNC tells it to read it from there.
            self._resync()
            return
        self._inbox.append(message)
        self._arrived.set()

    def _resync(self) -> None:
        if self._closed:
            return
        # Queued messages are older than the re-read that RESYNC asks for, so they are redundant.
        self._inbox.clear()
        self._inbox.append(RESYNC)
        self._arrived.set()

    def _close(self) -> None:
        self._closed = True
        self._inbox.clear()
        self._arrived.set()


class _RedisBackend(BroadcastBackend):
    """Redis pub/sub whose `subscribe` returns once Redis has confirmed it, and which never reconnects."""

    def __init__(self, url: str, *, connect_timeout: float) -> None:
        # No retries: a dropped connection must reach the supervisor (which sends RESYNC), not be
        # quietly re-established with the messages of the gap lost.
        self._client = aioredis.Redis.from_url(
            url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=connect_timeout, health_check_interval=0
        )
        self._pubsub = self._client.pubsub()
        self._received: asyncio.Queue[Event | Exception] = asyncio.Queue()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._pubsub.connect()  # type: ignore[no-untyped-call]
        self._reader = asyncio.create_task(self._read(), name="eventbus-redis-reader")

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations[channel] = confirmed
        try:
            await self._pubsub.subscribe(channel)
            await confirmed
        finally:
            if self._confirmations.get(channel) is confirmed:
                del self._confirmations[channel]

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: str) -> None:
        await self._client.publish(channel, message)

    async def next_published(self) -> Event:
        item = await self._received.get()
        if isinstance(item, Exception):
            self._received.put_nowait(item)
            raise item
        return item

    async def _read(self) -> None:
        try:
            while True:
                message = await self._pubsub.get_message(timeout=None)
                if message is None:
                    continue
                channel = _text(message["channel"])
                if message["type"] == "message":
                    self._received.put_nowait(Event(channel=channel, message=_text(message["data"])))
                elif message["type"] == "subscribe":
                    confirmed = self._confirmations.get(channel)
                    if confirmed is not None and not confirmed.done():
                        confirmed.set_result(None)
        except Exception as error:
            for confirmed in self._confirmations.values():
                if not confirmed.done():
                    confirmed.set_exception(error)
            self._received.put_nowait(error)


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return value or ""


@dataclass(eq=False)
class _Link:
    """One connected backend, the task reading from it, and the channels it is subscribed to."""

    backend: BroadcastBackend
    channels: set[str] = field(default_factory=set)
    reader: asyncio.Task[None] | None = None
    failed: asyncio.Event = field(default_factory=asyncio.Event)


class EventBus:
    """Publish and subscribe to string messages on named channels, across processes, surviving outages.

    `url` is `memory://`, `postgres://…`/`postgresql://…` (LISTEN/NOTIFY) or `redis://…`/`rediss://…`.
    Use `async with EventBus(url) as bus:` or `start()`/`stop()`. A backend that is unreachable at
    start-up or later never fails a caller: publishing answers False and subscribers get `RESYNC` once
    it is back.
    """

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 64,
        health_check_interval: float = 1.0,
        timeout: float = 2.0,
        max_reconnect_delay: float = 5.0,
        outbox_size: int = 1_000,
    ) -> None:
        """`queue_size` bounds each subscriber's inbox; `timeout` bounds every backend operation;
        `outbox_size` bounds the messages kept while the backend is down, to resend after reconnecting."""
        scheme = urlsplit(url).scheme
        if scheme not in _SCHEMES:
            raise ValueError(f"unsupported event bus URL scheme {scheme!r}; use one of {sorted(_SCHEMES)}")
        if queue_size < 1 or outbox_size < 0:
            raise ValueError("queue_size must be at least 1 and outbox_size at least 0")
        if min(health_check_interval, timeout, max_reconnect_delay) <= 0:
            raise ValueError("health_check_interval, timeout and max_reconnect_delay must be positive")
        self._url = url
        self._scheme = scheme
        self._queue_size = queue_size
        self._health_check_interval = health_check_interval
        self._timeout = timeout
        self._max_reconnect_delay = max_reconnect_delay
        self._subscribers: dict[str, set[Subscription]] = {}
        self._link: _Link | None = None
        # Serialises every backend call: the Postgres backend shares one asyncpg connection, which
        # refuses concurrent statements, and first subscribes to one channel must not race.
        self._lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._outbox: deque[tuple[str, str]] = deque(maxlen=outbox_size)
        self._outbox_dropped = 0
        self._outage_logged = False
        # The memory backend cannot lose a connection; pinging it would only risk a needless RESYNC
        # of everyone when the event loop stalls.
        self._pings = scheme != "memory"
        self._health_channel = f"eventbus-health:{uuid.uuid4().hex}"
        self._ping_numbers = itertools.count()
        self._ping: tuple[str, asyncio.Future[None]] | None = None

    async def __aenter__(self) -> EventBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def connected(self) -> bool:
        """Whether the backend is reachable right now, as far as this process knows."""
        return self._link is not None and not self._link.failed.is_set()

    @property
    def subscribed_channels(self) -> frozenset[str]:
        """The channels this process holds a backend subscription for."""
        if self._link is None:
            return frozenset()
        return frozenset(self._link.channels - {self._health_channel})

    async def start(self) -> None:
        """Connect (or, if the backend is unreachable, keep trying in the background) and supervise."""
        if self._supervisor is not None:
            raise RuntimeError("the event bus is already started")
        try:
            await self._open_link()
        except Exception as error:
            logger.warning("event bus %s unreachable (%r); retrying in the background", _redacted(self._url), error)
        self._supervisor = asyncio.create_task(self._supervise(), name="eventbus-supervisor")

    async def stop(self) -> None:
        """Disconnect and end every open subscription's iteration."""
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        link, self._link = self._link, None
        if link is not None:
            await self._close_link(link)
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._close()
        self._subscribers.clear()

    async def publish(self, channel: str, message: str) -> bool:
        """Send `message` to every subscriber of `channel` in every process; False if the backend is down.

        Raises only for a malformed call: TypeError for a non-`str` message, ValueError for a message of
        `MESSAGE_SIZE_LIMIT` bytes or more, one containing NUL, or a bad channel name.
        """
        _check_channel(channel)
        _check_message(message)
        link = self._link
        if link is None or link.failed.is_set():
            self._keep_for_resend(channel, message)
            return False
        try:
            async with asyncio.timeout(self._timeout), self._lock:
                await link.backend.publish(channel, message)
        except Exception as error:
            self._fail(link, f"publish on {channel!r} failed: {error!r}")
            self._keep_for_resend(channel, message)
            return False
        return True

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str, *, queue_size: int | None = None) -> AsyncIterator[Subscription]:
        """Receive the messages published on `channel` from the moment this returns, and `RESYNC`s.

        `queue_size` overrides the bus's inbox bound for this subscriber. If the backend is down, this
        still succeeds; the subscription receives `RESYNC` once the backend is back and re-subscribed.
        """
        _check_channel(channel)
        if self._supervisor is None:
            raise RuntimeError("the event bus is not started")
        capacity = self._queue_size if queue_size is None else queue_size
        if capacity < 1:
            raise ValueError("queue_size must be at least 1")
        subscription = Subscription(channel, capacity)
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            async with self._lock:
                await self._sync_channel(channel)
        except BaseException:
            self._forget(subscription)
            raise
        try:
            yield subscription
        finally:
            subscription._close()
            self._forget(subscription)
            async with self._lock:
                await self._sync_channel(channel)

    def _forget(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscribers[subscription.channel]

    async def _sync_channel(self, channel: str) -> None:
        """Make the backend subscription of `channel` match whether anyone here listens (lock held)."""
        link = self._link
        if link is None or link.failed.is_set():
            return  # the reconnect subscribes whatever is wanted by then
        wanted = channel in self._subscribers
        if wanted == (channel in link.channels):
            return
        try:
            async with asyncio.timeout(self._timeout):
                if wanted:
                    await link.backend.subscribe(channel)
                    link.channels.add(channel)
                else:
                    link.channels.discard(channel)
                    await link.backend.unsubscribe(channel)
        except Exception as error:
            self._fail(link, f"(un)subscribing {channel!r} failed: {error!r}")

    async def _open_link(self) -> None:
        """Connect a fresh backend, subscribe every wanted channel, then resync every subscriber."""
        link = _Link(self._new_backend())
        try:
            async with asyncio.timeout(self._timeout):
                await link.backend.connect()
            link.reader = asyncio.create_task(self._read(link), name="eventbus-reader")
            async with self._lock:
                for channel in (self._health_channel, *self._subscribers):
                    async with asyncio.timeout(self._timeout):
                        await link.backend.subscribe(channel)
                    link.channels.add(channel)
                self._link = link
                self._outage_logged = False
                for subscribers in self._subscribers.values():
                    for subscription in subscribers:
                        subscription._resync()
        except BaseException:
            await self._close_link(link)
            raise

    def _new_backend(self) -> BroadcastBackend:
        if self._scheme == "memory":
            return MemoryBackend(self._url)
        if self._scheme in ("postgres", "postgresql"):
            return PostgresBackend(_with_application_name(self._url))
        return _RedisBackend(self._url, connect_timeout=self._timeout)

    async def _close_link(self, link: _Link) -> None:
        if link.reader is not None:
            link.reader.cancel()
            await asyncio.gather(link.reader, return_exceptions=True)
        try:
            async with asyncio.timeout(self._timeout):
                await link.backend.disconnect()
        except Exception as error:
            # The connection is usually already dead here; closing it is only tidying up.
            logger.debug("closing a lost event bus backend failed: %r", error)

    async def _read(self, link: _Link) -> None:
        try:
            while True:
                event = await link.backend.next_published()
                self._dispatch(event.channel, event.message)
        except Exception as error:
            self._fail(link, f"listener stopped: {error!r}")

    def _dispatch(self, channel: str, message: str) -> None:
        if channel == self._health_channel:
            if self._ping is not None and self._ping[0] == message and not self._ping[1].done():
                self._ping[1].set_result(None)
            return
        for subscription in self._subscribers.get(channel, ()):
            subscription._deliver(message)

    def _fail(self, link: _Link, reason: str) -> None:
        if link is self._link and not link.failed.is_set():
            logger.warning("event bus backend lost (%s); reconnecting", reason)
        link.failed.set()

    async def _supervise(self) -> None:
        while True:
            link = self._link
            if link is None:
                await self._reconnect()
                continue
            await self._flush_outbox(link)
            await self._watch(link)
            self._link = None
            await self._close_link(link)

    async def _reconnect(self) -> None:
        delay = _FIRST_RECONNECT_DELAY
        while True:
            try:
                await self._open_link()
            except Exception as error:
                logger.info("event bus %s still unreachable (%r)", _redacted(self._url), error)
                # Jitter keeps a fleet of processes from reconnecting in lockstep.
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self._max_reconnect_delay)
            else:
                logger.warning("event bus reconnected; %d channels re-subscribed", len(self._subscribers))
                return

    async def _watch(self, link: _Link) -> None:
        """Return once `link` has failed, pinging it through the backend every health-check interval."""
        if not self._pings:
            await link.failed.wait()
            return
        while not link.failed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._health_check_interval):
                    await link.failed.wait()
            if not link.failed.is_set():
                await self._ping_through(link)

    async def _ping_through(self, link: _Link) -> None:
        """Publish a ping on this bus's private channel and wait for it to come back through the reader."""
        nonce = str(next(self._ping_numbers))
        echoed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ping = (nonce, echoed)
        try:
            async with asyncio.timeout(self._timeout):
                async with self._lock:
                    await link.backend.publish(self._health_channel, nonce)
                await echoed
        except Exception as error:
            self._fail(link, f"health check failed: {error!r}")
        finally:
            self._ping = None

    def _keep_for_resend(self, channel: str, message: str) -> None:
        if not self._outage_logged:
            self._outage_logged = True
            logger.warning(
                "event bus down: not published on %r; keeping up to %d messages to resend after reconnecting",
                channel,
                self._outbox.maxlen,
            )
        if self._outbox.maxlen == 0:
            return
        if len(self._outbox) == self._outbox.maxlen:
            self._outbox_dropped += 1
        self._outbox.append((channel, message))

    async def _flush_outbox(self, link: _Link) -> None:
        if self._outbox or self._outbox_dropped:
            logger.warning(
                "event bus resending %d messages from the outage (%d older ones did not fit and are lost)",
                len(self._outbox),
                self._outbox_dropped,
            )
            self._outbox_dropped = 0
        while self._outbox and not link.failed.is_set():
            channel, message = self._outbox[0]
            try:
                async with asyncio.timeout(self._timeout), self._lock:
                    await link.backend.publish(channel, message)
            except Exception as error:
                self._fail(link, f"resending on {channel!r} failed: {error!r}")
                return
            self._outbox.popleft()


def _check_channel(channel: str) -> None:
    if not isinstance(channel, str) or not channel:
        raise ValueError("a channel name must be a non-empty string")
    if len(channel.encode()) > CHANNEL_SIZE_LIMIT:
        raise ValueError(f"channel name longer than {CHANNEL_SIZE_LIMIT} bytes: {channel[:80]!r}")


def _check_message(message: str) -> None:
    if not isinstance(message, str):
        raise TypeError(f"event bus messages must be str, not {type(message).__name__}")
    size = len(message.encode())
    if size >= MESSAGE_SIZE_LIMIT:
        raise ValueError(f"message of {size} bytes refused: the limit is under {MESSAGE_SIZE_LIMIT} bytes")
    if "\x00" in message:
        raise ValueError("message contains a NUL character, which Postgres NOTIFY cannot carry")


def _with_application_name(url: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "application_name" for key, _ in query):
        return url
    query.append(("application_name", _POSTGRES_APPLICATION_NAME))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))
