"""Event bus: delivery latency between processes' buses, local fan-out, publish rate, outage recovery.

Per backend (memory://, and PostgreSQL / Redis from COURTYARD_TEST_PG_URL / COURTYARD_TEST_REDIS_URL
when reachable):

- paced: 1,000 messages at 500/s from one bus to a subscriber on a second bus (another process's, on
  memory:// the same bus), latency from just before `publish` to receipt;
- fan-out: 1,000 local subscribers on one channel, 20 messages 20 ms apart, latency to every receipt;
- publish rate: back-to-back publishes on one bus;
- recovery (PostgreSQL, default settings): time from `pg_terminate_backend` on the LISTEN connection
  until subscribers hold RESYNC, and until a later message reaches them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from redis import asyncio as aioredis

from api.eventbus import RESYNC, EventBus, Subscription
from benchmarks.table import peak_rss_mib, print_table

PG_URL = os.environ.get("COURTYARD_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("COURTYARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PACED_MESSAGES = 1_000
PACED_RATE = 500
FANOUT_SUBSCRIBERS = 1_000
FANOUT_MESSAGES = 20
PUBLISHES = 2_000


async def reachable_backends() -> list[tuple[str, str]]:
    backends = [("memory", "memory://")]
    try:
        connection = await asyncio.wait_for(asyncpg.connect(PG_URL), 3)
        await connection.close()
        backends.append(("postgres", PG_URL))
    except Exception as error:
        print(f"postgres skipped: {error!r}")
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.execute_command("PING")  # type: ignore[no-untyped-call]
        backends.append(("redis", REDIS_URL))
    except Exception as error:
        print(f"redis skipped: {error!r}")
    finally:
        await client.aclose()
    return backends


def latency_row(name: str, test: str, latencies_ms: list[float], expected: int) -> dict[str, object]:
    ordered = sorted(latencies_ms)
    return {
        "backend": name,
        "test": test,
        "received": len(ordered),
        "lost": expected - len(ordered),
        "p50 ms": statistics.median(ordered) if ordered else float("nan"),
        "p99 ms": ordered[int(len(ordered) * 0.99) - 1] if ordered else float("nan"),
        "max ms": ordered[-1] if ordered else float("nan"),
    }


async def collect(subscription: Subscription, count: int) -> list[float]:
    """The latencies of `count` messages, each carrying its send time in nanoseconds."""
    latencies: list[float] = []
    async for item in subscription:
        if item is RESYNC:
            continue
        latencies.append((time.perf_counter_ns() - int(item)) / 1e6)
        if len(latencies) == count:
            break
    return latencies


async def settled(collectors: list[asyncio.Task[list[float]]], timeout: float) -> list[float]:
    """Everything the collectors received, giving the stragglers `timeout` seconds to finish."""
    await asyncio.wait(collectors, timeout=timeout)
    for collector in collectors:
        collector.cancel()
    return [latency for collector in collectors if not collector.cancelled() for latency in collector.result()]


async def paced(name: str, url: str) -> dict[str, object]:
    channel = f"bench:{uuid.uuid4().hex[:12]}"
    async with contextlib.AsyncExitStack() as stack:
        receiver = await stack.enter_async_context(EventBus(url))
        sender = receiver if url == "memory://" else await stack.enter_async_context(EventBus(url))
        subscription = await stack.enter_async_context(receiver.subscribe(channel, queue_size=PACED_MESSAGES))
        collector = asyncio.create_task(collect(subscription, PACED_MESSAGES))
        for _ in range(PACED_MESSAGES):
            await sender.publish(channel, str(time.perf_counter_ns()))
            await asyncio.sleep(1 / PACED_RATE)
        latencies = await settled([collector], 2)
    return latency_row(name, f"paced {PACED_RATE}/s", latencies, PACED_MESSAGES)


async def fan_out(name: str, url: str) -> dict[str, object]:
    channel = f"bench:{uuid.uuid4().hex[:12]}"
    async with EventBus(url) as bus, contextlib.AsyncExitStack() as stack:
        subscriptions = [await stack.enter_async_context(bus.subscribe(channel)) for _ in range(FANOUT_SUBSCRIBERS)]
        backend_subscriptions = len(bus.subscribed_channels)
        collectors = [asyncio.create_task(collect(s, FANOUT_MESSAGES)) for s in subscriptions]
        for _ in range(FANOUT_MESSAGES):
            await bus.publish(channel, str(time.perf_counter_ns()))
            await asyncio.sleep(0.02)
        latencies = await settled(collectors, 5)
    row = latency_row(name, f"fan-out to {FANOUT_SUBSCRIBERS}", latencies, FANOUT_SUBSCRIBERS * FANOUT_MESSAGES)
    row["backend subscriptions"] = backend_subscriptions
    return row


async def publish_rate(name: str, url: str) -> dict[str, object]:
    channel = f"bench:{uuid.uuid4().hex[:12]}"
    async with EventBus(url) as bus:
        started = time.perf_counter()
        published = [
            await bus.publish(channel, '{"project":1,"ticket":2,"seq":3,"type":"ASSIGNED"}') for _ in range(PUBLISHES)
        ]
        elapsed = time.perf_counter() - started
    return {"backend": name, "publishes": PUBLISHES, "accepted": sum(published), "per second": PUBLISHES / elapsed}


async def recovery_after_kill(url: str) -> dict[str, object]:
    application_name = f"eventbus-bench-{uuid.uuid4().hex[:12]}"
    parts = urlsplit(url)
    named_url = urlunsplit(
        parts._replace(query=urlencode([*parse_qsl(parts.query), ("application_name", application_name)]))
    )
    channel = f"bench:{uuid.uuid4().hex[:12]}"
    async with EventBus(named_url) as bus, EventBus(url) as publisher, bus.subscribe(channel) as subscription:
        admin = await asyncpg.connect(url)
        try:
            killed_at = time.perf_counter()
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", application_name
            )
        finally:
            await admin.close()
        first = await asyncio.wait_for(anext(subscription), 10)
        resynced_at = time.perf_counter()
        await publisher.publish(channel, "after")
        after = await asyncio.wait_for(anext(subscription), 10)
        live_at = time.perf_counter()
    return {
        "backend": "postgres",
        "first item": repr(first),
        "kill to RESYNC ms": (resynced_at - killed_at) * 1e3,
        "kill to next message ms": (live_at - killed_at) * 1e3,
        "next item": after,
    }


async def run() -> None:
    backends = await reachable_backends()
    latency_rows = []
    for name, url in backends:
        latency_rows.append(await paced(name, url))
        latency_rows.append(await fan_out(name, url))
    print_table("event bus delivery latency (publish to receipt)", latency_rows)
    print_table(
        "event bus publish rate (one bus, sequential)", [await publish_rate(name, url) for name, url in backends]
    )
    if any(name == "postgres" for name, _ in backends):
        print_table("event bus recovery after the LISTEN connection is killed", [await recovery_after_kill(PG_URL)])
    print_table("memory", [{"peak RSS MiB": peak_rss_mib()}])


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
