"""Sustained recordPayment throughput through the GraphQL HTTP API on one uvicorn process.

For each database (a throwaway SQLite file, a throwaway PostgreSQL database) it seeds a project of
2,000 billed flats and a finance login, starts `courtyard serve` on a free loopback port, and sends a
fixed number of recordPayment mutations from concurrent clients (16 on PostgreSQL, 4 on SQLite) (each payment for another flat,
allocated automatically, with a receipt and journal entries). It prints requests/s and p50/p99
latency, then stops the server and drops the database.

    python -m benchmarks.payments [--requests 2000] [--concurrency N] [--db sqlite]

With `--batch` it times recordBatchPayment's use case instead: one payer's transfer for 500 and for
2,000 flats with unpaid bills, in batches of at most MAX_BATCH_ITEMS, beside the goal of one second
for 500 items.

    python -m benchmarks.payments --batch [--db sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
from decimal import Decimal

import httpx
from sqlalchemy import select
from strawberry import relay

from api.auth import TokenCodec
from benchmarks.table import print_table
from benchmarks.throwaway import postgresql_database, served, sqlite_database
from billing.payments import MAX_BATCH_ITEMS, BatchItem, record_batch_payment
from billing.receipts import ReceiptSigner
from billing.rule_book import RuleDefinition, insert_fee_rule
from billing.runs import run_billing
from db.migrate import upgrade_to_head
from db.models import Building, Organization, PaymentChannel, Project, RoleGrant, Unit, User
from db.session import create_engine, create_session_factory
from kernel.principal import Principal, Role
from kernel.vocabulary import FeeRuleKind, UnitKind

SECRET = "courtyard-benchmark-secret-0123456789"
FLATS = 2_000
BATCH_SIZES = (500, 2_000)
BATCH_GOAL_SECONDS = 1.0  # for 500 items
MUTATION = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) { __typename ... on Payment { id receipt { number } } ... on Error { code message } }
}"""


async def _seed(url: str, flats: int = FLATS) -> tuple[int, list[int]]:
    """A project of billed flats and a finance user; (user id, unit ids)."""
    engine = create_engine(url)
    await upgrade_to_head(engine)
    session_factory = create_session_factory(engine)
    try:
        async with session_factory() as session, session.begin():
            organization = Organization(name="Benchmark Property Co")
            session.add(organization)
            await session.flush()
            project = Project(organization_id=organization.id, name="Benchmark", timezone="Asia/Shanghai", currency="CNY", settings={})
            session.add(project)
            await session.flush()
            building = Building(project_id=project.id, name="1栋")
            session.add(building)
            await session.flush()
            units = [
                Unit(project_id=project.id, building_id=building.id, number=f"{n:04d}", floor=n // 10 + 1,
                     floor_area=Decimal("89.36"), kind=UnitKind.APARTMENT)
                for n in range(flats)
            ]
            session.add_all(units)
            user = User(email="finance@bench.test", display_name="finance", password_hash="-")
            session.add(user)
            await session.flush()
            session.add(RoleGrant(user_id=user.id, project_id=project.id, role=Role.FINANCE))
            await insert_fee_rule(
                session, project_id=project.id, code="PROPERTY", kind=FeeRuleKind.PER_AREA, created_by=None,
                definition=RuleDefinition("Property fee", dt.date(2026, 1, 1), rate_per_square_metre=Decimal("2.80")),
            )
        await run_billing(
            session_factory, None, now=dt.datetime.now(dt.UTC), project_id=project.id, period="2026-11", dry_run=False
        )
        return user.id, [unit.id for unit in units]
    finally:
        await engine.dispose()


async def _load(
    base_url: str, token: str, units: list[int], requests: int, concurrency: int, phase: str
) -> tuple[float, list[float], int]:
    """Send `requests` payments from `concurrency` clients; (seconds, latencies in ms, failures)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)
    latencies: list[float] = []
    failures = 0

    async def client_loop() -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                variables = {
                    "input": {
                        "unitId": str(relay.GlobalID("Unit", str(units[index % len(units)]))),
                        "amount": "100.00",
                        "channel": "WECHAT",
                        "payerName": "业主",
                        "idempotencyKey": f"{phase}-{index}",
                    }
                }
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": MUTATION, "variables": variables})
                latencies.append((time.perf_counter() - started) * 1000)
                payload = response.json()
                if response.status_code != 200 or payload.get("errors") or payload["data"]["recordPayment"]["__typename"] != "Payment":
                    failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


def _measure(database: str, url: str, requests: int, concurrency: int) -> dict[str, object]:
    user_id, units = asyncio.run(_seed(url))
    token = TokenCodec(SECRET, dt.timedelta(hours=2)).issue(user_id, now=dt.datetime.now(dt.UTC))
    with served(url, SECRET) as base_url:
        asyncio.run(_load(base_url, token, units, min(200, requests), concurrency, "warm-up"))  # not measured
        elapsed, latencies, failures = asyncio.run(_load(base_url, token, units[::-1], requests, concurrency, "measured"))
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "database": database,
        "requests": requests,
        "concurrency": concurrency,
        "failures": failures,
        "time (s)": elapsed,
        "payments/s": requests / elapsed,
        "p50 (ms)": quantiles[49],
        "p99 (ms)": quantiles[98],
    }


async def _time_batches(url: str) -> list[dict[str, object]]:
    """Pay each batch size's own unpaid flats in batches of at most MAX_BATCH_ITEMS; one row per size."""
    user_id, units = await _seed(url, flats=sum(BATCH_SIZES))
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    async with session_factory() as session:
        project_id = await session.scalar(select(Project.id))
    assert project_id is not None
    finance = Principal(user_id=user_id, roles={project_id: frozenset({Role.FINANCE})})
    signer = ReceiptSigner(SECRET.encode())
    rows: list[dict[str, object]] = []
    try:
        for size in BATCH_SIZES:
            flats, units = units[:size], units[size:]
            chunks = [flats[start : start + MAX_BATCH_ITEMS] for start in range(0, size, MAX_BATCH_ITEMS)]
            started = time.perf_counter()
            for number, chunk in enumerate(chunks):
                await record_batch_payment(
                    session_factory,
                    finance,
                    now=dt.datetime.now(dt.UTC),
                    signer=signer,
                    project_id=project_id,
                    channel=PaymentChannel.BANK_TRANSFER,
                    payer_name="安居中介",
                    external_reference=None,
                    items=[BatchItem(unit_id=unit_id, amount=Decimal("300.00")) for unit_id in chunk],
                    idempotency_key=f"batch-{size}-{number}",
                    paid_at=None,
                )
            elapsed = time.perf_counter() - started
            rows.append(
                {
                    "items": size,
                    "batches": len(chunks),
                    "time (s)": elapsed,
                    "goal (s)": BATCH_GOAL_SECONDS * size / 500,
                }
            )
    finally:
        await engine.dispose()
    return rows


def _batches(database: str) -> list[dict[str, object]]:
    with postgresql_database() if database == "postgresql" else sqlite_database() as url:
        return [{"database": database, **row} for row in asyncio.run(_time_batches(url))]


def _postgresql(requests: int, concurrency: int) -> dict[str, object]:
    with postgresql_database() as url:
        return _measure("postgresql", url, requests, concurrency)


def _sqlite(requests: int, concurrency: int) -> dict[str, object]:
    with sqlite_database() as url:
        return _measure("sqlite", url, requests, concurrency)


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.payments")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, help="concurrent clients (default 16 on PostgreSQL, 4 on SQLite)")
    parser.add_argument("--db", choices=["postgresql", "sqlite"], action="append", help="default: both")
    parser.add_argument("--batch", action="store_true", help="time batch payments of 500 and 2,000 items instead")
    args = parser.parse_args()
    if args.batch:
        batch_rows = [row for database in args.db or ("postgresql", "sqlite") for row in _batches(database)]
        print_table(f"recordBatchPayment's use case, at most {MAX_BATCH_ITEMS} items a call (goal: 1 s for 500)", batch_rows)
        return 0
    measures = {"postgresql": _postgresql, "sqlite": _sqlite}
    # SQLite has one writer at a time: beyond a few concurrent writers, requests queue on its lock until
    # the 5 s busy timeout, which measures the lock rather than Courtyard.
    default_concurrency = {"postgresql": 16, "sqlite": 4}
    rows = [
        measures[database](args.requests, args.concurrency or default_concurrency[database])
        for database in args.db or ("postgresql", "sqlite")
    ]
    print_table("recordPayment through GraphQL over HTTP, one uvicorn process", rows)
    return 0 if all(row["failures"] == 0 for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
