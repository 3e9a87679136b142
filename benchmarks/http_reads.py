"""The read path front ends live on: pages a real client sends, measured against `{ __typename }`.

For each database (a throwaway PostgreSQL database, a throwaway SQLite file) it builds one community
through the use cases (400 flats billed monthly for 24 months with a late-fee policy, 60 of them paying
the first year month by month, 60
assigned tickets), serves it with one `courtyard serve` process in production mode, and loads it with
`wrk` (a process of its own, 32 connections) one page at a time, each after `WARM_UP_SECONDS` of the same
load not measured (the figures are those of a server that has served the page before):

- `{ __typename }`: the baseline, everything but Courtyard's own work;
- the owner's "my bills" page: 12 bills with their lines, unit, amount due and late fee as of today;
- the dispatcher's board list: 50 tickets with unit, assignee, SLA state and deadlines;
- a unit statement over 24 months, as finance reads it;
- finance's `payments(first: 100)` with allocations and receipts.

It prints requests/s, p50 and p99, the ratio to the baseline rate of the same run, and the SQL
statements one request runs (counted in-process, once per page), each beside its goal, and the CPU one
request costs the app in-process (the figure to compare between runs of different code: it hardly moves
with the machine's load, the rates do). Every page is
checked for errors before it is loaded.

    python -m benchmarks.http_reads [--seconds 20] [--connections 32] [--db postgresql|sqlite]

`wrk` comes from Debian (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from strawberry import relay

from api.auth import TokenCodec
from benchmarks.table import print_table
from benchmarks.throwaway import postgresql_database, served, sqlite_database
from billing.payments import PaymentRequest, record_payment
from billing.receipts import ReceiptSigner
from billing.rule_admin import set_billing_policy
from billing.rule_book import RuleDefinition, insert_fee_rule
from billing.runs import run_billing
from db.driver import listen_to_driver
from db.migrate import refresh_planner_statistics, upgrade_to_head
from db.models import (
    Bill,
    Building,
    Occupancy,
    Organization,
    Party,
    PaymentChannel,
    Project,
    RoleGrant,
    Technician,
    Unit,
    User,
)
from db.models.property import OccupancyRelation
from db.session import create_engine, create_session_factory
from dispatch.tickets import FaultReport, assign_ticket, submit_ticket
from kernel.principal import Principal, Role
from kernel.vocabulary import Category, FeeRuleKind, Priority, UnitKind
from register.accounts import load_principal

SECRET = "courtyard-benchmark-secret-0123456789"
ZONE = ZoneInfo("Asia/Shanghai")
FLATS = 400
MONTHS = 24
PAYING_FLATS = 60
TICKETS = 60
TECHNICIANS = 10

BASELINE = "{ __typename }"
OWNER_BILLS = """
query MyBills {
  bills(first: 12) {
    edges { node {
      id period dueDate status totalAmount paidAmount amountDue isOverdue lateFee
      lines { position ruleCode kind description quantity unitPrice amount explanation }
      unit { id number floor building { id name } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DISPATCHER_TICKETS = """
query Board {
  tickets(first: 50) {
    edges { node {
      id status category priority description createdAt version
      respondDueAt onSiteDueAt resolveDueAt slaState allowedActions
      unit { id number building { id name } }
      assignee { id name phone currentLoad }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
UNIT_STATEMENT = """
query Statement($unitId: ID!) {
  unitStatement(unitId: $unitId) {
    unit { id number building { name } }
    amountOwed prepaidCredit balance
    entries { occurredAt kind description amount balance billIds paymentIds }
  }
}"""
FINANCE_PAYMENTS = """
query Payments {
  payments(first: 100) {
    edges { node {
      id channel amount paidAt payerName creditLeft
      unit { id number }
      allocations { principal lateFee amount bill { id period } }
      receipt { number }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@dataclass(frozen=True)
class Page:
    name: str
    query: str
    login: str  # which of the community's logins sends it
    min_ratio: dict[str, float]  # goal: the share of the baseline rate, per database
    p99_goal_ms: float | None = None
    statement_goal: int | None = None


PAGES = (
    Page("{ __typename }", BASELINE, "owner", {}),
    Page("owner's bills (12 with lines, late fee)", OWNER_BILLS, "owner", {"postgresql": 0.30, "sqlite": 0.15}, 50, 6),
    Page("dispatcher's 50 tickets", DISPATCHER_TICKETS, "dispatcher", {"postgresql": 0.20, "sqlite": 0.15}, 80, 6),
    Page("unit statement (24 months)", UNIT_STATEMENT, "finance", {"postgresql": 0.20, "sqlite": 0.15}, None, 6),
    Page("payments(first: 100) with allocations", FINANCE_PAYMENTS, "finance", {"postgresql": 0.20, "sqlite": 0.15}, None, 6),
)


@dataclass
class Community:
    users: dict[str, int]
    owner_unit: int


def _month(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), ZONE).astimezone(dt.UTC)


async def _principal(session_factory, user_id: int, today: dt.date) -> Principal:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        principal = await load_principal(session, user_id, today=today)
    assert principal is not None
    return principal


async def _build(url: str) -> Community:
    """The community, written through the use cases wherever one exists."""
    engine = create_engine(url)
    await upgrade_to_head(engine)
    session_factory = create_session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(ZONE).date()
    first_month = _month(today.replace(day=1), -MONTHS)
    try:
        async with session_factory() as session, session.begin():
            organization = Organization(name="Benchmark Property Co")
            session.add(organization)
            await session.flush()
            project = Project(organization_id=organization.id, name="Benchmark", timezone=str(ZONE), currency="CNY", settings={})
            session.add(project)
            await session.flush()
            building = Building(project_id=project.id, name="1栋", latitude=30.27, longitude=120.15)
            session.add(building)
            await session.flush()
            units = [
                Unit(project_id=project.id, building_id=building.id, number=f"{n // 4 + 1}0{n % 4 + 1}", floor=n // 4 + 1,
                     floor_area=Decimal("89.36") + n % 7, kind=UnitKind.APARTMENT)
                for n in range(FLATS)
            ]
            parties = [Party(project_id=project.id, name=f"业主{n + 1}") for n in range(FLATS)]
            session.add_all([*units, *parties])
            await session.flush()
            session.add_all(
                Occupancy(unit_id=unit.id, party_id=party.id, relation=OccupancyRelation.OWNER, start_date=dt.date(2020, 1, 1))
                for unit, party in zip(units, parties, strict=True)
            )
            technicians = [
                Technician(project_id=project.id, name=f"师傅{n + 1}", skills=[category.value for category in Category],
                           home_latitude=30.27, home_longitude=120.15, current_latitude=30.27, current_longitude=120.15,
                           capacity=20)
                for n in range(TECHNICIANS)
            ]
            session.add_all(technicians)
            users = {
                "owner": User(email="owner@bench.test", display_name="owner", password_hash="-", party_id=parties[0].id),
                "finance": User(email="finance@bench.test", display_name="finance", password_hash="-"),
                "dispatcher": User(email="dispatcher@bench.test", display_name="dispatcher", password_hash="-"),
                "admin": User(email="admin@bench.test", display_name="admin", password_hash="-"),
            }
            session.add_all(users.values())
            await session.flush()
            roles = {"owner": Role.OWNER, "finance": Role.FINANCE, "dispatcher": Role.DISPATCHER, "admin": Role.ADMIN}
            session.add_all(RoleGrant(user_id=users[name].id, project_id=project.id, role=role) for name, role in roles.items())
            for code, kind, definition in (
                ("PROPERTY", FeeRuleKind.PER_AREA, RuleDefinition("物业服务费", first_month, rate_per_square_metre=Decimal("2.80"))),
                ("ELEVATOR", FeeRuleKind.PER_AREA, RuleDefinition("电梯运行费", first_month, rate_per_square_metre=Decimal("0.35"))),
                ("REFUSE", FeeRuleKind.FIXED, RuleDefinition("生活垃圾清运费", first_month, amount_per_cycle=Decimal("15.00"))),
            ):
                await insert_fee_rule(session, project_id=project.id, code=code, kind=kind, created_by=None, definition=definition)
        user_ids = {name: user.id for name, user in users.items()}
        unit_ids = [unit.id for unit in units]
        technician_ids = [technician.id for technician in technicians]
        finance = await _principal(session_factory, user_ids["finance"], today)
        # Set before the first bill, as a real project would have: the fee runs from the first overdue day.
        await set_billing_policy(
            session_factory, finance, now=_local(first_month, 9), project_id=project.id, due_days=15, cycle_months=1,
            late_fee_daily_rate=Decimal("0.0005"), late_fee_grace_days=0, late_fee_cap_ratio=Decimal("1"),
        )
        for month in range(MONTHS):
            start = _month(first_month, month)
            await run_billing(session_factory, None, now=_local(_month(start, 1), 9), project_id=project.id,
                              period=start.strftime("%Y-%m"), dry_run=False)
        await _pay(session_factory, finance, unit_ids)
        await _file_tickets(session_factory, user_ids, unit_ids, technician_ids, project.id, now, today)
        if engine.dialect.name == "postgresql":
            # A live database has the statistics autovacuum gathers (this server runs without it).
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
        else:
            # What `courtyard serve` does when it starts on SQLite, done before the in-process probe too.
            await refresh_planner_statistics(engine)
        return Community(users=user_ids, owner_unit=unit_ids[0])
    finally:
        await engine.dispose()


async def _pay(session_factory, finance: Principal, unit_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """The first year of bills paid month by month, each before its due date, for PAYING_FLATS flats, the
    owner's among them: the second year stays open and overdue."""
    signer = ReceiptSigner(SECRET.encode())
    for unit_id in unit_ids[:PAYING_FLATS]:
        async with session_factory() as session:
            first_year = (
                await session.execute(
                    select(Bill.id, Bill.total_amount, Bill.due_date).where(Bill.unit_id == unit_id).order_by(Bill.period_start).limit(12)
                )
            ).all()
        for bill_id, amount, due_date in first_year:
            await record_payment(
                session_factory, finance, now=dt.datetime.now(dt.UTC), signer=signer, idempotency_key=f"bench-{bill_id}",
                request=PaymentRequest(unit_id=unit_id, channel=PaymentChannel.WECHAT, amount=amount, payer_name="业主",
                                       bill_ids=(bill_id,), paid_at=_local(due_date - dt.timedelta(days=3), 20)),
            )


async def _file_tickets(  # type: ignore[no-untyped-def]
    session_factory, user_ids: dict[str, int], unit_ids: list[int], technician_ids: list[int], project_id: int,
    now: dt.datetime, today: dt.date,
) -> None:
    dispatcher = await _principal(session_factory, user_ids["dispatcher"], today)
    categories = [Category.PLUMBING, Category.ELECTRICAL, Category.LOCKSMITH, Category.HVAC]
    async with session_factory() as session:
        parties = {unit: party for unit, party in await session.execute(select(Occupancy.unit_id, Occupancy.party_id))}
    for n in range(TICKETS):
        unit_id = unit_ids[n * 3 % len(unit_ids)]
        ticket = await submit_ticket(
            session_factory, dispatcher, now=now - dt.timedelta(minutes=TICKETS - n),
            report=FaultReport(description="卫生间水龙头漏水，关不紧", unit_id=unit_id, category=categories[n % len(categories)],
                               priority=Priority.NORMAL, reporter_party_id=parties[unit_id]),
        )
        if ticket.assignee_id is None:
            await assign_ticket(session_factory, dispatcher, now=now, ticket_id=ticket.id,
                                technician_id=technician_ids[n % len(technician_ids)])


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process runs while the block is open."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _body(page: Page, community: Community) -> dict[str, object]:
    variables = {"unitId": str(relay.GlobalID("Unit", str(community.owner_unit)))} if "$unitId" in page.query else {}
    return {"query": page.query, "variables": variables}


# In-process requests of each page whose CPU is averaged: enough for a steady figure in a few seconds.
CPU_PROBE_REQUESTS = 200


@dataclass(frozen=True)
class InProcess:
    """What one request of a page costs the app itself, measured without a socket or a load client."""

    statements: int
    cpu_ms: float


async def _in_process(url: str, community: Community, tokens: dict[str, str]) -> dict[str, InProcess]:
    """Each page against an in-process app (after one warm-up request): the SQL one request sends, and
    the CPU one request costs, averaged over CPU_PROBE_REQUESTS sent one at a time (`time.process_time`,
    the client's share included). Unlike the rates, the CPU figure hardly moves when other work shares
    the machine: compare it between runs of different code."""
    from asgi_lifespan import LifespanManager

    from api.app import create_app
    from api.live import tune_gc_for_serving
    from api.settings import Settings

    tune_gc_for_serving()  # as `courtyard serve` does: the collector's settings change a page's CPU
    figures: dict[str, InProcess] = {}
    with tempfile.TemporaryDirectory() as media:
        app = create_app(Settings(database_url=url, secret_key=SECRET, media_dir=Path(media)), migrate=False, background_jobs=False)
        async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            for page in PAGES:
                headers = {"Authorization": f"Bearer {tokens[page.login]}"}
                body = _body(page, community)
                await client.post("/graphql", json=body, headers=headers)
                # Through any engine, and past it to the driver (`db.driver`: the principal, the
                # plain loaders' batches): both are statements the page costs.
                with counted_statements() as statements, listen_to_driver(statements.append):
                    await client.post("/graphql", json=body, headers=headers)
                cpu_ms = await _cpu_ms_per_request(app, body, headers)
                figures[page.name] = InProcess(len(statements), cpu_ms)
    return figures


async def _cpu_ms_per_request(app: Any, body: dict[str, object], headers: dict[str, str]) -> float:
    """The app's CPU for one POST of `body`, averaged over CPU_PROBE_REQUESTS sent straight to it as ASGI
    calls: no HTTP client's work is counted."""
    content = json.dumps(body).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                    *((name.lower().encode(), value.encode()) for name, value in headers.items())],
    }

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": content, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"the probe's request answered {message['status']}")

    started = time.process_time()
    for _ in range(CPU_PROBE_REQUESTS):
        await app(scope, receive, send)
    return (time.process_time() - started) * 1000 / CPU_PROBE_REQUESTS


# Load not measured before each page's: every pooled connection has prepared the page's statements and
# the page's plan is compiled. Measured cold, the first ~0.1 s of a 10 s run were the slowest 1 % of its
# requests, and p99 told the start-up (bills: 68-75 ms cold, 50-54 ms warm).
WARM_UP_SECONDS = 2


def _check(base_url: str, page: Page, community: Community, token: str) -> int:
    """One request of the page; refuse to measure a page that answers an error. Returns the answer's size."""
    response = httpx.post(f"{base_url}/graphql", json=_body(page, community), headers={"Authorization": f"Bearer {token}"}, timeout=60)
    answer = response.json()
    if response.status_code != 200 or answer.get("errors"):
        raise RuntimeError(f"{page.name} answered {response.status_code}: {json.dumps(answer)[:500]}")
    return len(response.content)


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(base_url: str, page: Page, community: Community, token: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(_body(page, community)))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        )
    try:
        output = subprocess.run(
            ["wrk", "--threads", "2", "--connections", str(connections), "--duration", f"{seconds}s", "--timeout", "10s",
             "--latency", "--script", script.name, f"{base_url}/graphql"],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    latencies = {match[1]: float(match[2]) * _UNIT_MS[match[3]] for match in _LATENCY.finditer(output)}
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*timeout (\d+)", output)
    if rate is None or set(latencies) != {"50", "99"}:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return {
        "rate": float(rate[1]),
        "p50": latencies["50"],
        "p99": latencies["99"],
        "failed": int(failed[1]) if failed else 0,
        "timeouts": int(errors[1]) if errors else 0,
    }


def _measure(database: str, url: str, seconds: int, connections: int) -> list[dict[str, object]]:
    print(f"{database}: building the community ({FLATS} flats × {MONTHS} months, {TICKETS} tickets) …", flush=True)
    community = asyncio.run(_build(url))
    codec = TokenCodec(SECRET, dt.timedelta(hours=2))
    tokens = {name: codec.issue(user_id, now=dt.datetime.now(dt.UTC)) for name, user_id in community.users.items()}
    in_process = asyncio.run(_in_process(url, community, tokens))
    rows: list[dict[str, object]] = []
    with served(url, SECRET) as base_url:
        baseline = 0.0
        for page in PAGES:
            size = _check(base_url, page, community, tokens[page.login])
            print(f"{database}: loading {page.name} for {WARM_UP_SECONDS} s, then for {seconds} s …", flush=True)
            _wrk(base_url, page, community, tokens[page.login], WARM_UP_SECONDS, connections)
            figures = _wrk(base_url, page, community, tokens[page.login], seconds, connections)
            baseline = baseline or figures["rate"]
            ratio = figures["rate"] / baseline
            goal_ratio = page.min_ratio.get(database)
            rows.append({
                "database": database,
                "page": page.name,
                "answer KiB": size / 1024,
                "req/s": figures["rate"],
                "p50 ms": figures["p50"],
                "p99 ms": figures["p99"],
                "p99 goal": f"≤ {page.p99_goal_ms:g}" if page.p99_goal_ms and database == "postgresql" else "-",
                "ratio to baseline": ratio,
                "ratio goal": f"≥ {goal_ratio:.2f}" if goal_ratio else "-",
                "SQL/request": in_process[page.name].statements,
                "SQL goal": f"≤ {page.statement_goal}" if page.statement_goal else "-",
                "CPU ms/request (in-process)": in_process[page.name].cpu_ms,
                "failed": figures["failed"] + figures["timeouts"],
            })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.http_reads")
    parser.add_argument("--seconds", type=int, default=20, help="load per page (default 20)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], action="append", help="default: both")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("benchmarks.http_reads needs wrk: apt-get install wrk", file=sys.stderr)
        return 1
    databases = {"postgresql": postgresql_database, "sqlite": sqlite_database}
    rows: list[dict[str, object]] = []
    for database in args.db or ("postgresql", "sqlite"):
        with databases[database]() as url:
            rows += _measure(database, url, args.seconds, args.connections)
    print_table(f"Reads through GraphQL over HTTP, one uvicorn process, wrk with {args.connections} connections", rows)
    return 0 if all(row["failed"] == 0 for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
