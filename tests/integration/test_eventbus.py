"""The event bus on memory://, PostgreSQL and Redis: delivery, fan-out, races, slow readers and outages.

PostgreSQL and Redis come from COURTYARD_TEST_PG_URL / COURTYARD_TEST_REDIS_URL; the Redis outage tests
run their own redis-server on a free port so they can stop and restart it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest
from redis import asyncio as aioredis

from api.eventbus import (
    CHANNEL_SIZE_LIMIT,
    MESSAGE_SIZE_LIMIT,
    RESYNC,
    EventBus,
    Resync,
    Subscription,
)
from dispatch.events import (
    EventNotice,
    board_channel,
    publish_notice,
    technician_channel,
    ticket_channel,
)

PG_URL = os.environ.get("COURTYARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("COURTYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT = 3.0
"""Longest wait for anything that should arrive; a failing test fails after this, not after minutes."""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode([*parse_qsl(parts.query), *params.items()])))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _fast_bus(url: str) -> EventBus:
    """A bus that notices and repairs an outage within a fraction of a second."""
    return EventBus(url, health_check_interval=0.1, timeout=1.0, max_reconnect_delay=0.2)


def _channel() -> str:
    return f"test:{uuid.uuid4().hex[:16]}"


async def _next(subscription: Subscription) -> str | Resync:
    return await asyncio.wait_for(anext(subscription), WAIT)


async def _assert_nothing_more(subscription: Subscription) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(subscription), 0.1)


class _RedisServer:
    """A private redis-server that a test may stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.02)
            else:
                writer.close()
                return

    async def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            await asyncio.to_thread(self._process.wait, WAIT)
            self._process = None


class _DelayingProxy:
    """A TCP proxy in front of Redis that holds every request byte back by `delay` seconds (a slow link)."""

    def __init__(self, upstream_url: str, delay: float) -> None:
        self._upstream = urlsplit(upstream_url)
        self._delay = delay
        self._writers: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> _DelayingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        userinfo, _, _ = self._upstream.netloc.rpartition("@")
        netloc = f"{userinfo}@127.0.0.1:{port}" if userinfo else f"127.0.0.1:{port}"
        self.url = urlunsplit(self._upstream._replace(netloc=netloc))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        await asyncio.wait_for(asyncio.gather(*self._pumps, return_exceptions=True), WAIT)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self._upstream.hostname, self._upstream.port)
        self._writers.update((client_writer, upstream_writer))
        for pump in (
            self._pump(client_reader, upstream_writer, self._delay),
            self._pump(upstream_reader, client_writer, 0.0),
        ):
            task = asyncio.create_task(pump)
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        """Copy reader to writer in order, holding each chunk back by `delay` seconds."""
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                await asyncio.sleep(delay)
                writer.write(chunk)
                await writer.drain()
        writer.close()


@pytest.fixture(scope="session")
async def pg_url() -> str:
    try:
        connection = await asyncio.wait_for(asyncpg.connect(PG_URL), WAIT)
    except Exception as error:
        _unavailable(f"PostgreSQL at {PG_URL} unreachable: {error!r}")
    await connection.close()
    return PG_URL


@pytest.fixture(scope="session")
async def redis_url() -> str:
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=WAIT)
    try:
        await client.execute_command("PING")  # type: ignore[no-untyped-call]
    except Exception as error:
        _unavailable(f"Redis at {REDIS_URL} unreachable: {error!r}")
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
async def private_redis() -> AsyncIterator[_RedisServer]:
    if shutil.which("redis-server") is None:
        _unavailable("redis-server is not installed")
    server = _RedisServer()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(params=["memory", "postgres", "redis"])
def bus_url(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return url
    return "memory://"


@pytest.fixture
async def bus(bus_url: str) -> AsyncIterator[EventBus]:
    async with _fast_bus(bus_url) as started:
        yield started


@pytest.fixture
async def peer(bus: EventBus, bus_url: str) -> AsyncIterator[EventBus]:
    """The bus of another process on the same backend (the same bus on memory://, which stays in one)."""
    if bus_url == "memory://":
        yield bus
        return
    async with _fast_bus(bus_url) as other:
        yield other


async def test_published_message_reaches_subscriber(bus: EventBus) -> None:
    # given
    channel = _channel()
    async with bus.subscribe(channel) as subscription:
        # when
        published = await bus.publish(channel, "hello")
        # then
        assert published is True
        assert await _next(subscription) == "hello"
        await _assert_nothing_more(subscription)


async def test_message_from_another_process_reaches_subscriber_in_order(bus: EventBus, peer: EventBus) -> None:
    channel = _channel()
    async with bus.subscribe(channel) as subscription:
        for number in range(5):
            assert await peer.publish(channel, f"m{number}") is True
        assert [await _next(subscription) for _ in range(5)] == ["m0", "m1", "m2", "m3", "m4"]


async def test_subscriber_hears_only_its_own_channel(bus: EventBus) -> None:
    mine, other = _channel(), _channel()
    async with bus.subscribe(mine) as subscription:
        await bus.publish(other, "not for you")
        await bus.publish(mine, "for you")
        assert await _next(subscription) == "for you"
        await _assert_nothing_more(subscription)


async def test_many_local_subscribers_share_one_backend_subscription(
    bus: EventBus, bus_url: str, redis_url_if_redis: aioredis.Redis | None
) -> None:
    # given
    channel = _channel()
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(bus.subscribe(channel)) for _ in range(25)]
        # when
        for message in ("one", "two", "three"):
            assert await bus.publish(channel, message) is True
        # then
        for subscription in subscriptions:
            assert [await _next(subscription) for _ in range(3)] == ["one", "two", "three"]
        assert bus.subscribed_channels == {channel}
        if redis_url_if_redis is not None:
            assert await redis_url_if_redis.pubsub_numsub(channel) == [(channel.encode(), 1)]
    # the last subscriber left: the backend subscription is dropped
    assert bus.subscribed_channels == frozenset()
    if redis_url_if_redis is not None:
        assert await asyncio.wait_for(_numsub_drops_to_zero(redis_url_if_redis, channel), WAIT)


@pytest.fixture
async def redis_url_if_redis(bus_url: str) -> AsyncIterator[aioredis.Redis | None]:
    """A plain Redis client when the bus under test is on Redis, to inspect the server's side."""
    if not bus_url.startswith("redis"):
        yield None
        return
    client = aioredis.Redis.from_url(bus_url)
    try:
        yield client
    finally:
        await client.aclose()


async def _numsub_drops_to_zero(client: aioredis.Redis, channel: str) -> bool:
    while await client.pubsub_numsub(channel) != [(channel.encode(), 0)]:
        await asyncio.sleep(0.01)
    return True


async def test_message_published_right_after_subscribe_returns_is_delivered(bus: EventBus, peer: EventBus) -> None:
    # A fresh channel each round so every subscribe is a first, backend-level one.
    for round_number in range(20):
        channel = _channel()
        async with bus.subscribe(channel) as subscription:
            assert await peer.publish(channel, f"round {round_number}") is True
            assert await _next(subscription) == f"round {round_number}"


async def test_subscribe_over_a_slow_redis_link_returns_only_once_redis_listens(redis_url: str) -> None:
    # given: the subscribing process reaches Redis over a link that delays its requests by 50 ms,
    # while the publishing process has a fast one
    async with (
        _DelayingProxy(redis_url, delay=0.05) as slow_link,
        _fast_bus(slow_link.url) as bus,
        _fast_bus(redis_url) as publisher,
    ):
        for round_number in range(3):
            channel = _channel()
            async with bus.subscribe(channel) as subscription:
                # when: the fast process publishes the moment subscribe returns
                assert await publisher.publish(channel, f"round {round_number}") is True
                # then: Redis already counted the subscriber, so the message is delivered
                assert await _next(subscription) == f"round {round_number}"


async def test_concurrent_first_subscribes_to_one_channel_all_work(bus: EventBus, peer: EventBus) -> None:
    # given
    channel = _channel()
    async with contextlib.AsyncExitStack() as stack:
        # when
        subscriptions = await asyncio.gather(*(stack.enter_async_context(bus.subscribe(channel)) for _ in range(20)))
        assert await peer.publish(channel, "to all twenty") is True
        # then
        assert [await _next(subscription) for subscription in subscriptions] == ["to all twenty"] * 20
        assert bus.subscribed_channels == {channel}


async def test_slow_subscriber_gets_resync_and_does_not_hold_up_others(bus: EventBus) -> None:
    # given: one subscriber that never reads (room for 4) beside one that keeps up
    channel = _channel()
    async with bus.subscribe(channel, queue_size=4) as slow, bus.subscribe(channel, queue_size=100) as fast:
        # when
        for number in range(10):
            assert await bus.publish(channel, f"m{number}") is True
        # then: the fast one got everything, in order
        assert [await _next(fast) for _ in range(10)] == [f"m{number}" for number in range(10)]
        # m4 overflowed the slow inbox (backlog dropped, RESYNC queued), m5 to m7 fitted behind it, m8
        # overflowed again, m9 fitted
        assert [await _next(slow) for _ in range(2)] == [RESYNC, "m9"]
        await _assert_nothing_more(slow)


async def test_notice_reaches_ticket_board_and_technician_subscribers(bus: EventBus, peer: EventBus) -> None:
    # given (random ids keep test runs that share a backend off each other's channels)
    project_id, ticket_id, technician_id = (uuid.uuid4().int % 10**9 for _ in range(3))
    notice = EventNotice(project_id=project_id, ticket_id=ticket_id, seq=41, type="ASSIGNED")
    channels = (ticket_channel(notice.ticket_id), board_channel(notice.project_id), technician_channel(technician_id))
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(bus.subscribe(channel)) for channel in channels]
        # when
        published = await publish_notice(peer, notice, technician_ids=[technician_id])
        # then
        assert published is True
        for subscription in subscriptions:
            received = await _next(subscription)
            assert isinstance(received, str)
            assert EventNotice.decode(received) == notice


async def test_message_just_under_the_size_limit_passes(bus: EventBus) -> None:
    channel = _channel()
    largest = "é" * ((MESSAGE_SIZE_LIMIT - 1) // 2) + "x"  # 6,999 UTF-8 bytes
    assert len(largest.encode()) == MESSAGE_SIZE_LIMIT - 1
    async with bus.subscribe(channel) as subscription:
        assert await bus.publish(channel, largest) is True
        assert await _next(subscription) == largest


async def test_oversize_message_is_refused(bus: EventBus) -> None:
    channel = _channel()
    async with bus.subscribe(channel) as subscription:
        with pytest.raises(ValueError, match="7000 bytes refused"):
            await bus.publish(channel, "x" * MESSAGE_SIZE_LIMIT)
        await _assert_nothing_more(subscription)
    assert bus.connected


async def test_non_string_message_is_refused_on_every_backend(bus: EventBus) -> None:
    with pytest.raises(TypeError, match="must be str, not dict"):
        await bus.publish(_channel(), {"ticket": 1})  # type: ignore[arg-type]


async def test_message_with_nul_is_refused(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="NUL"):
        await bus.publish(_channel(), "a\x00b")


async def test_overlong_channel_name_is_refused(bus: EventBus) -> None:
    with pytest.raises(ValueError, match="longer than 63 bytes"):
        await bus.publish("c" * (CHANNEL_SIZE_LIMIT + 1), "hello")


async def test_unsupported_url_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported event bus URL scheme 'kafka'"):
        EventBus("kafka://127.0.0.1:9092")


@pytest.mark.parametrize("scheme", ["postgresql", "redis"])
async def test_publish_while_backend_is_unreachable_returns_false(scheme: str) -> None:
    # given: nothing listens on this port
    url = (
        f"postgresql://postgres@127.0.0.1:{_free_port()}/test"
        if scheme == "postgresql"
        else f"redis://127.0.0.1:{_free_port()}/0"
    )
    async with _fast_bus(url) as bus:
        channel = _channel()
        # when: subscribing still works, publishing does not raise
        async with bus.subscribe(channel) as subscription:
            started = time.monotonic()
            published = await bus.publish(channel, "lost")
            # then
            assert published is False
            assert time.monotonic() - started < 0.5
            assert bus.connected is False
            await _assert_nothing_more(subscription)


async def test_killed_listen_connection_resyncs_subscribers_who_then_get_later_messages(pg_url: str) -> None:
    # given: subscribers on a bus whose connection we can find by name, and a publisher elsewhere
    application_name = f"eventbus-test-{uuid.uuid4().hex[:12]}"
    channel = _channel()
    async with (
        _fast_bus(_with_query(pg_url, application_name=application_name)) as bus,
        _fast_bus(pg_url) as publisher,
        bus.subscribe(channel) as first,
        bus.subscribe(channel) as second,
    ):
        assert await publisher.publish(channel, "before") is True
        assert [await _next(first), await _next(second)] == ["before", "before"]
        # when
        admin = await asyncpg.connect(pg_url)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                application_name,
            )
        finally:
            await admin.close()
        assert killed == 1
        # then: both learn that they may have missed something, and hear what comes next
        assert [await _next(first), await _next(second)] == [RESYNC, RESYNC]
        assert await publisher.publish(channel, "after") is True
        assert [await _next(first), await _next(second)] == ["after", "after"]
        assert bus.connected
        assert bus.subscribed_channels == {channel}


async def test_redis_restart_resyncs_subscribers_and_resends_what_failed(private_redis: _RedisServer) -> None:
    # given
    await private_redis.start()
    channel = _channel()
    async with _fast_bus(private_redis.url) as bus, bus.subscribe(channel) as first, bus.subscribe(channel) as second:
        assert await bus.publish(channel, "before") is True
        assert [await _next(first), await _next(second)] == ["before", "before"]
        # when: Redis goes away and comes back
        await private_redis.stop()
        started = time.monotonic()
        assert await bus.publish(channel, "while down") is False
        assert time.monotonic() - started < 0.5
        await private_redis.start()
        # then: RESYNC, the message that failed (resent once reconnected), then live ones again
        assert [await _next(first), await _next(second)] == [RESYNC, RESYNC]
        assert [await _next(first), await _next(second)] == ["while down", "while down"]
        assert await bus.publish(channel, "after") is True
        assert [await _next(first), await _next(second)] == ["after", "after"]


async def test_bus_started_while_redis_is_down_connects_later_and_resyncs(private_redis: _RedisServer) -> None:
    # given: the bus starts before its backend exists
    channel = _channel()
    async with _fast_bus(private_redis.url) as bus, bus.subscribe(channel) as subscription:
        assert bus.connected is False
        # when
        await private_redis.start()
        # then
        assert await _next(subscription) is RESYNC
        assert await bus.publish(channel, "now live") is True
        assert await _next(subscription) == "now live"


async def test_leaving_the_subscribe_block_ends_iteration(bus: EventBus) -> None:
    channel = _channel()
    async with bus.subscribe(channel) as subscription:
        pass
    assert [item async for item in subscription] == []
    assert bus.subscribed_channels == frozenset()


async def test_stopping_the_bus_ends_open_subscriptions(bus_url: str) -> None:
    bus = _fast_bus(bus_url)
    await bus.start()
    async with bus.subscribe(_channel()) as subscription:
        reader = asyncio.create_task(anext(subscription, "ended"))
        await asyncio.sleep(0)
        await bus.stop()
        assert await asyncio.wait_for(reader, WAIT) == "ended"


def test_event_notice_encodes_to_compact_json() -> None:
    notice = EventNotice(project_id=7, ticket_id=1234, seq=56, type="CHECKED_IN")
    assert notice.encode() == '{"project":7,"ticket":1234,"seq":56,"type":"CHECKED_IN"}'
    assert EventNotice.decode(notice.encode()) == notice


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1, 2]",
        '{"project":7,"ticket":1,"seq":2}',
        '{"project":7,"ticket":1,"seq":2,"type":"X","extra":0}',
        '{"project":"7","ticket":1,"seq":2,"type":"X"}',
        '{"project":7,"ticket":true,"seq":2,"type":"X"}',
        '{"project":7,"ticket":1,"seq":2,"type":""}',
    ],
)
def test_event_notice_decode_refuses_anything_else(message: str) -> None:
    with pytest.raises(ValueError):
        EventNotice.decode(message)


def test_channel_names() -> None:
    assert (ticket_channel(12), board_channel(3), technician_channel(9)) == ("ticket:12", "board:3", "technician:9")
