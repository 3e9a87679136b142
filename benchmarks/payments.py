"""recordPayment and recordBatchPayment through the GraphQL HTTP API, beside the goals of issue 13.

For each database (a throwaway PostgreSQL database, a throwaway SQLite file) it seeds a project of
billed flats and a finance login, then measures three things:

- in-process (the app behind httpx's ASGI transport, one request at a time): the SQL statements one
  recordPayment and one 500-item recordBatchPayment send, and the CPU each costs (`time.process_time`
  over many requests, the client's share included). Statements are counted through the engine and
  those sent to the driver past it (`db.driver.listen_to_driver`); BEGIN and COMMIT are not
  counted. These two figures hardly move when other work shares the machine;
- served (`courtyard serve`, one process, production mode): recordPayment from concurrent clients
  (16 on PostgreSQL, 4 on SQLite), each payment for another flat, allocated automatically, with a
  receipt and journal entries: payments/s, p50 and p99;
- served: recordBatchPayment for 500 flats with unpaid bills, and for 2,000 in four batches of at most
  MAX_BATCH_ITEMS, timed from the client.

The goals (PostgreSQL): at least 300 payments/s with p99 ≤ 100 ms at 16 clients, and a 500-item batch
within one second. The load clients share the machine with the server, so read wall-clock figures
beside the CPU and statement figures.

    python -m benchmarks.payments [--requests 2000] [--concurrency N] [--db postgresql|sqlite] [--batch]

`--batch` measures the batches alone.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
from strawberry import relay

from api.auth import TokenCodec
from benchmarks.http_reads import counted_statements
from benchmarks.table import print_table
from benchmarks.throwaway import postgresql_database, served, sqlite_database
from billing.payments import MAX_BATCH_ITEMS
from billing.rule_book import RuleDefinition, insert_fee_rule
from billing.runs import run_billing
from db.driver import listen_to_driver
from db.migrate import upgrade_to_head
from db.models import Building, Organization, Project, RoleGrant, Unit, User
from db.session import create_engine, create_session_factory
from kernel.principal import Role
from kernel.vocabulary import FeeRuleKind, UnitKind

SECRET = "courtyard-benchmark-secret-0123456789"
# Flats, each paid once or twice: in-process payments, in-process batch, served payments, served batches.
PROBE_FLATS, LOAD_FLATS, BATCH_SIZES = 300, 2_000, (500, 2_000)
PROBE_REQUESTS = 200
GOAL_PAYMENTS_PER_SECOND = 300  # PostgreSQL, 16 clients
GOAL_P99_MS = 100
GOAL_SECONDS_PER_500 = 1.0
DEFAULT_CLIENTS = {"postgresql": 16, "sqlite": 4}
MUTATION = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) { __typename ... on Payment { id receipt { number } } ... on Error { code message } }
}"""
BATCH_MUTATION = """
mutation ($input: RecordBatchPaymentInput!) {
  recordBatchPayment(input: $input) {
    __typename
    ... on PaymentBatch { totalAmount payments { id receipt { number } } }
    ... on Error { code message field }
  }
}"""


async def _seed(url: str, flats: int) -> tuple[int, int, list[int]]:
    """A project of billed flats and a finance user; (user id, project id, unit ids)."""
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
        return user.id, project.id, [unit.id for unit in units]
    finally:
        await engine.dispose()


def _payment(unit_id: int, key: str) -> dict[str, object]:
    return {
        "query": MUTATION,
        "variables": {
            "input": {
                "unitId": str(relay.GlobalID("Unit", str(unit_id))),
                "amount": "100.00",
                "channel": "WECHAT",
                "payerName": "业主",
                "idempotencyKey": key,
            }
        },
    }


def _batch(project_id: int, unit_ids: Sequence[int], key: str) -> dict[str, object]:
    return {
        "query": BATCH_MUTATION,
        "variables": {
            "input": {
                "projectId": str(relay.GlobalID("Project", str(project_id))),
                "channel": "BANK_TRANSFER",
                "payerName": "安居中介",
                "idempotencyKey": key,
                "items": [{"unitId": str(relay.GlobalID("Unit", str(unit_id))), "amount": "300.00"} for unit_id in unit_ids],
            }
        },
    }


def _answered(response: httpx.Response, field: str, typename: str) -> bool:
    payload = response.json()
    return response.status_code == 200 and not payload.get("errors") and payload["data"][field]["__typename"] == typename


@contextmanager
def counted_sql() -> Iterator[list[str]]:
    """Every statement this process sends while the block is open: through any engine, and those sent to
    the driver past the engine (`db.driver`: the principal, a payment's booking, the bulk
    writer's COPY, inserts and id reservations)."""
    with counted_statements() as statements, listen_to_driver(statements.append):
        yield statements


@asynccontextmanager
async def _in_process_client(url: str, token: str) -> AsyncIterator[httpx.AsyncClient]:
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from api.live import tune_gc_for_serving
    from api.settings import Settings

    with tempfile.TemporaryDirectory() as media:
        app = create_app(Settings(database_url=url, secret_key=SECRET, media_dir=Path(media)), migrate=False, background_jobs=False)
        # As `courtyard serve` does: without it, full collections of everything this process imported
        # and seeded land on the measured requests.
        tune_gc_for_serving()
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with LifespanManager(app), httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
            yield client


async def _costs(url: str, token: str, project_id: int, payment_flats: list[int], batch_flats: list[int]) -> dict[str, float]:
    """Statements and CPU milliseconds of one recordPayment and one 500-item batch, in-process."""
    async with _in_process_client(url, token) as client:

        async def pay(index: int, phase: str) -> None:
            response = await client.post("/graphql", json=_payment(payment_flats[index], f"{phase}-{index}"))
            assert _answered(response, "recordPayment", "Payment"), response.text

        for index in range(20):
            await pay(index, "warm-up")
        with counted_sql() as payment_statements:
            await pay(20, "counted")
        started = time.process_time()
        for index in range(21, 21 + PROBE_REQUESTS):
            await pay(index, "timed")
        payment_cpu = (time.process_time() - started) / PROBE_REQUESTS
        with counted_sql() as batch_statements:
            started = time.process_time()
            response = await client.post("/graphql", json=_batch(project_id, batch_flats, "in-process"))
            batch_cpu = time.process_time() - started
        assert _answered(response, "recordBatchPayment", "PaymentBatch"), response.text
    return {
        "payment statements": len(payment_statements),
        "payment cpu ms": payment_cpu * 1000,
        "batch statements": len(batch_statements),
        "batch cpu ms": batch_cpu * 1000,
    }


async def _load(base_url: str, token: str, units: list[int], requests: int, clients: int, phase: str) -> tuple[float, list[float], int]:
    """Send `requests` payments from `clients` concurrent clients; (seconds, latencies in ms, failures)."""
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
                started = time.perf_counter()
                response = await client.post("/graphql", json=_payment(units[index % len(units)], f"{phase}-{index}"))
                latencies.append((time.perf_counter() - started) * 1000)
                failures += not _answered(response, "recordPayment", "Payment")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return time.perf_counter() - started, latencies, failures


async def _time_batches(base_url: str, token: str, project_id: int, flats: list[int], size: int) -> tuple[float, int]:
    """Pay `size` flats in batches of at most MAX_BATCH_ITEMS, one after another; (seconds, failures)."""
    failures = 0
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        started = time.perf_counter()
        for number, start in enumerate(range(0, size, MAX_BATCH_ITEMS)):
            body = _batch(project_id, flats[start : start + MAX_BATCH_ITEMS], f"batch-{size}-{number}")
            failures += not _answered(await client.post("/graphql", json=body), "recordBatchPayment", "PaymentBatch")
        return time.perf_counter() - started, failures


def _measure(database: str, requests: int, clients: int, *, payments: bool) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    with postgresql_database() if database == "postgresql" else sqlite_database() as url:
        print(f"{database}: seeding …", flush=True)
        user_id, project_id, flats = asyncio.run(_seed(url, PROBE_FLATS + MAX_BATCH_ITEMS + LOAD_FLATS + sum(BATCH_SIZES)))
        token = TokenCodec(SECRET, dt.timedelta(hours=2)).issue(user_id, now=dt.datetime.now(dt.UTC))
        probe, flats = flats[:PROBE_FLATS], flats[PROBE_FLATS:]
        probe_batch, flats = flats[:MAX_BATCH_ITEMS], flats[MAX_BATCH_ITEMS:]
        loaded, flats = flats[:LOAD_FLATS], flats[LOAD_FLATS:]
        print(f"{database}: counting statements and CPU in-process …", flush=True)
        costs = asyncio.run(_costs(url, token, project_id, probe, probe_batch))
        goals = database == "postgresql"
        payment_rows: list[dict[str, object]] = []
        batch_rows: list[dict[str, object]] = []
        with served(url, SECRET) as base_url:
            if payments:
                print(f"{database}: {requests} payments from {clients} clients …", flush=True)
                asyncio.run(_load(base_url, token, loaded, min(200, requests), clients, "warm-up"))  # not measured
                elapsed, latencies, failures = asyncio.run(_load(base_url, token, loaded[::-1], requests, clients, "measured"))
                quantiles = statistics.quantiles(latencies, n=100)
                payment_rows.append({
                    "database": database,
                    "clients": clients,
                    "requests": requests,
                    "payments/s": requests / elapsed,
                    "goal": f"≥ {GOAL_PAYMENTS_PER_SECOND}" if goals else "-",
                    "p50 ms": quantiles[49],
                    "p99 ms": quantiles[98],
                    "p99 goal": f"≤ {GOAL_P99_MS}" if goals else "-",
                    "SQL/payment": int(costs["payment statements"]),
                    "CPU ms/payment": costs["payment cpu ms"],
                    "failures": failures,
                })
            for size in BATCH_SIZES:
                batch_flats, flats = flats[:size], flats[size:]
                print(f"{database}: a batch payment for {size} flats …", flush=True)
                elapsed, failures = asyncio.run(_time_batches(base_url, token, project_id, batch_flats, size))
                first = size == MAX_BATCH_ITEMS
                batch_rows.append({
                    "database": database,
                    "items": size,
                    "batches": -(-size // MAX_BATCH_ITEMS),
                    "seconds": elapsed,
                    "goal": f"≤ {GOAL_SECONDS_PER_500 * size / MAX_BATCH_ITEMS:g}" if goals else "-",
                    "SQL/batch": int(costs["batch statements"]) if first else "",
                    "CPU ms/batch": costs["batch cpu ms"] if first else "",
                    "failures": failures,
                })
        return payment_rows, batch_rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.payments")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, help="concurrent clients (default 16 on PostgreSQL, 4 on SQLite)")
    parser.add_argument("--db", choices=["postgresql", "sqlite"], action="append", help="default: both")
    parser.add_argument("--batch", action="store_true", help="measure the batch payments alone")
    args = parser.parse_args()
    payment_rows: list[dict[str, object]] = []
    batch_rows: list[dict[str, object]] = []
    for database in args.db or ("postgresql", "sqlite"):
        # SQLite has one writer at a time: beyond a few concurrent writers, requests queue on its lock until
        # the busy timeout, which measures the lock rather than Courtyard.
        clients = args.concurrency or DEFAULT_CLIENTS[database]
        payments, batches = _measure(database, args.requests, clients, payments=not args.batch)
        payment_rows += payments
        batch_rows += batches
    if payment_rows:
        print_table(
            "recordPayment through GraphQL over HTTP, one uvicorn process (SQL and CPU per payment counted in-process,"
            " the client's CPU included)",
            payment_rows,
        )
    print_table(
        f"recordBatchPayment through GraphQL over HTTP, at most {MAX_BATCH_ITEMS} items a batch"
        " (SQL and CPU of one 500-item batch counted in-process)",
        batch_rows,
    )
    return 0 if all(row["failures"] == 0 for row in payment_rows + batch_rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
