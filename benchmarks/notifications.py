"""Notifications at scale (issue 15), in two parts.

**Dunning:** a pass over a 100,000-unit project with 20,000 overdue accounts decides and enqueues its
messages in ≤ 10 s on PostgreSQL.

**Relay:** one relay sends ≥ 500 messages/s to a local SMTP server and to the sandbox SMS gateway, with
p99 enqueue-to-sent ≤ 2 s when not throttled. The SMTP server is a real process (aiosmtpd, the tests'
`tests/integration/smtp_sink.py`, which writes a line per message it accepts); the SMS gateway is the
sandbox, in process (it signs and checks every request). Overdue notices, one per owner (the frequency
cap holds none back), at 10:00 in the project's time zone (no quiet hours), with every send-time check the
worker uses. First a backlog of `--messages` is drained (throughput: messages / time until the last is
recorded SENT); then messages arrive at a steady `--rate` a second, in small transactions, while the
relay runs as `courtyard worker` does (a pass, again at once after a full batch, else after the outbox
interval): the latency is each message's enqueue-to-sent time.

The dunning part:

The project has one owner per flat (half of them with a login), October billed to every flat and due on
17 November, 80 % of it paid; November billed too and not yet due; a late fee of 0.05 % a day. The pass
runs at 09:00 on 20 November (three days overdue): it reads every unpaid bill that can matter, the levels
they heard and the payment plans, decides with the ladder, computes each account's late fee as of that day,
and writes 20,000 overdue notices into the outbox with a dunning notice each and the bills it is about, in
one transaction. Then the same pass again, which finds everything said already. Each pass runs in a process
of its own, so its peak memory is its own.

    python -m benchmarks.notifications                           # both parts; dunning on PostgreSQL, 100,000 units
    python -m benchmarks.notifications --part dunning --db sqlite --units 20000 --overdue 4000
    python -m benchmarks.notifications --part relay --db postgresql --db sqlite --messages 5000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks.table import peak_rss_mib, print_table
from api.settings import Settings
from api.workers import SEND_CHECKS
from benchmarks.throwaway import free_port, postgresql_database, sqlite_database
from billing.bulk import bulk_connection
from billing.dunning.passes import run_dunning
from db.migrate import upgrade_to_head
from db.models import (
    Bill,
    BillingPolicy,
    BillRun,
    Building,
    LateFeePolicyVersion,
    Message,
    Organization,
    Party,
    Project,
    RoleGrant,
    Unit,
    User,
)
from db.personal_data import PersonalDataCipher
from db.session import create_engine, create_session_factory
from db.unit_of_work import unit_of_work
from kernel.principal import Role
from kernel.vocabulary import NotificationChannel
from notifications.channels import ChannelSender
from notifications.email import EmailSender, SmtpSettings
from notifications.kinds import MessageKind
from notifications.outbox import Envelope, enqueue_many
from notifications.relay import DEFAULT_BATCH_SIZE, RelayReport, relay_once
from notifications.sms import SandboxSmsGateway, SmsSender

UNITS = 100_000
OVERDUE = 20_000
GOAL_SECONDS = 10.0
PASS_AT = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, three days after the due date
OCTOBER_DUE = dt.date(2026, 11, 17)
NOVEMBER_DUE = dt.date(2026, 12, 16)
CHUNK = 20_000


async def _seed(url: str, units: int, overdue: int) -> int:
    """The project described above; returns its id."""
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    try:
        async with session_factory() as session, session.begin():
            organization = Organization(name="Benchmark Property Co")
            session.add(organization)
            await session.flush()
            project = Project(organization_id=organization.id, name="Benchmark", timezone="Asia/Shanghai", currency="CNY", settings={})
            session.add(project)
            await session.flush()
            session.add(BillingPolicy(project_id=project.id, due_days=15, cycle_months=1))
            session.add(
                LateFeePolicyVersion(project_id=project.id, effective_from=dt.date(2026, 1, 1), daily_rate=Decimal("0.0005"), grace_days=0)
            )
            desk = User(email="finance@bench.test", display_name="财务", password_hash="-")
            session.add(desk)
            buildings = [Building(project_id=project.id, name=f"{n + 1}栋") for n in range((units + 999) // 1000)]
            session.add_all(buildings)
            runs = {
                period: BillRun(
                    project_id=project.id, period=period, period_start=start, period_end=end, bill_count=units,
                    total_amount=Decimal(0), times_run=1, last_run_bill_count=units,
                )
                for period, start, end in (
                    ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
                    ("2026-11", dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
                )
            }
            session.add_all(runs.values())
            await session.flush()
            session.add(RoleGrant(user_id=desk.id, project_id=project.id, role=Role.FINANCE))
            writer = await bulk_connection(session)
            unpaid_every = units // overdue
            for first in range(0, units, CHUNK):
                count = min(CHUNK, units - first)
                unit_ids = await writer.reserve_ids(Unit.__table__, count)  # type: ignore[arg-type]
                party_ids = await writer.reserve_ids(Party.__table__, count)  # type: ignore[arg-type]
                bill_ids = await writer.reserve_ids(Bill.__table__, 2 * count)  # type: ignore[arg-type]
                user_ids = await writer.reserve_ids(User.__table__, (count + 1) // 2)  # type: ignore[arg-type]
                units_rows, parties, users, bills = [], [], [], []
                for offset, (unit_id, party_id) in enumerate(zip(unit_ids, party_ids, strict=True)):
                    index = first + offset
                    area = 6000 + index % 9000  # 60.00 to 149.99 m²
                    units_rows.append(
                        (unit_id, project.id, buildings[index // 1000].id, f"{index % 1000:04d}", index % 1000 // 10 + 1, area, "APARTMENT", "SELF_OCCUPIED")
                    )
                    parties.append((party_id, project.id, f"业主{index:06d}", "PERSON"))
                    if offset % 2 == 0:
                        users.append((user_ids[offset // 2], f"owner{index}@bench.test", f"业主{index:06d}", "-", party_id, True))
                    total = area * 280 // 100  # 2.80 a m², in fen
                    paid = 0 if index % unpaid_every == 0 and index // unpaid_every < overdue else total
                    for n, (period, due, principal_paid) in enumerate(
                        (("2026-10", OCTOBER_DUE, paid), ("2026-11", NOVEMBER_DUE, 0))
                    ):
                        run = runs[period]
                        bills.append(
                            (
                                bill_ids[2 * offset + n], project.id, run.id, unit_id, party_id, period, run.period_start,
                                run.period_end, run.period_end + dt.timedelta(days=1), due,
                                "PAID" if principal_paid == total else "OPEN", total, 0, 0, principal_paid, 0,
                            )
                        )
                await writer.write(
                    Unit.__table__,  # type: ignore[arg-type]
                    ("id", "project_id", "building_id", "number", "floor", "floor_area", "kind", "occupancy_status"),
                    units_rows,
                )
                await writer.write(Party.__table__, ("id", "project_id", "name", "party_type"), parties)  # type: ignore[arg-type]
                await writer.write(
                    User.__table__, ("id", "email", "display_name", "password_hash", "party_id", "is_active"), users  # type: ignore[arg-type]
                )
                await writer.write(
                    Bill.__table__,  # type: ignore[arg-type]
                    (
                        "id", "project_id", "run_id", "unit_id", "party_id", "period", "period_start", "period_end",
                        "issued_on", "due_date", "status", "total_amount", "adjustment_amount", "late_fee_amount",
                        "principal_paid", "late_fee_paid",
                    ),
                    bills,
                )
            project_id = project.id
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                for table in ("unit", "party", "app_user", "bill"):
                    await autocommit.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                    )
                # A live database has statistics and a quiet checkpointer; give the fresh one the same.
                await autocommit.execute(text("VACUUM ANALYZE"))
                await autocommit.execute(text("CHECKPOINT"))
        return project_id
    finally:
        await engine.dispose()


async def _pass(url: str, project_id: int) -> dict[str, object]:
    """One timed pass; what it decided and wrote."""
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    try:
        started = time.perf_counter()
        outcome = await run_dunning(session_factory, None, project_id=project_id, now=PASS_AT)
        elapsed = time.perf_counter() - started
        async with session_factory() as session:
            queued = int(await session.scalar(select(func.count()).select_from(Message)) or 0)
        return {
            "time_s": elapsed,
            "accounts": outcome.accounts,
            "notices": len(outcome.notices),
            "messages": outcome.messages,
            "queued": queued,
            "levels": outcome.by_level(),
            "peak_mib": _peak_of_this_program(),
        }
    finally:
        await engine.dispose()


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()


def _peak_of_this_program() -> float:
    """Peak resident memory since exec, in MiB (not the parent's, which Linux carries across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mib()


def _pass_in_child(url: str, project_id: int) -> dict[str, object]:
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.notifications", "--pass", url, "--project", str(project_id)],
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the dunning pass failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _rows(database: str, units: int, overdue: int) -> list[dict[str, object]]:
    with postgresql_database() if database == "postgresql" else sqlite_database() as url:
        asyncio.run(_migrated(url))
        project_id = asyncio.run(_seed(url, units, overdue))
        first = _pass_in_child(url, project_id)
        again = _pass_in_child(url, project_id)
    goal = f"≤ {GOAL_SECONDS:g}" if database == "postgresql" else "-"
    return [
        {
            "database": database,
            "pass": name,
            "units": units,
            "overdue accounts": overdue,
            "decided": result["notices"],
            "messages in outbox": result["queued"],
            "time (s)": float(result["time_s"]),  # type: ignore[arg-type]
            "goal (s)": goal,
            "peak memory (MiB)": result["peak_mib"],
        }
        for name, result in (("first", first), ("again, same day", again))
    ]


# --- the relay ---------------------------------------------------------------------------------------

RELAY_MESSAGES = 5_000
RELAY_GOAL = 500.0
LATENCY_GOAL_SECONDS = 2.0
STEADY_RATE = 250
STEADY_SECONDS = 8.0
ARRIVALS_PER_SECOND = 10
RELAY_AT = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
SECRET = "benchmark-secret-key-of-enough-length-0123456789"
ROOT = Path(__file__).resolve().parents[1]


class _RunningClock:
    """10:00 in Shanghai when created, then running with the wall clock: the relay's `now` and the
    messages' enqueue times, so their difference is real time."""

    def __init__(self) -> None:
        self._started = time.monotonic()

    def __call__(self) -> dt.datetime:
        return RELAY_AT + dt.timedelta(seconds=time.monotonic() - self._started)


async def _relay_seed(url: str, owners: int) -> tuple[int, list[int]]:
    """A project with `owners` owners, each with an e-mail address and a mobile number; its id and theirs."""
    cipher = PersonalDataCipher(SECRET)
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    try:
        async with session_factory() as session, session.begin():
            organization = Organization(name="Benchmark Property Co")
            session.add(organization)
            await session.flush()
            project = Project(organization_id=organization.id, name="湖畔花园", timezone="Asia/Shanghai", currency="CNY", settings={})
            session.add(project)
            await session.flush()
            parties = [
                Party(
                    project_id=project.id,
                    name=f"业主{n:06d}",
                    email=f"owner{n}@bench.test",
                    phone_encrypted=cipher.encrypt(f"139{n:08d}"),
                )
                for n in range(owners)
            ]
            session.add_all(parties)
            await session.flush()
            return project.id, [party.id for party in parties]
    finally:
        await engine.dispose()


def _notices(project_id: int, party_ids: Sequence[int], channel: NotificationChannel, tag: str) -> list[Envelope]:
    return [
        Envelope(
            project_id=project_id,
            kind=MessageKind.OVERDUE_NOTICE,
            idempotency_key=f"bench:{tag}:{channel}:{party_id}",
            payload={"amount_due": "1234.50", "due_date": "2026-11-17", "days_overdue": 3, "late_fee": "1.85"},
            party_id=party_id,
            channels=[channel],
        )
        for party_id in party_ids
    ]


async def _enqueue(session_factory: async_sessionmaker[AsyncSession], envelopes: Sequence[Envelope], now: dt.datetime) -> None:
    async with unit_of_work(session_factory) as work:
        await enqueue_many(work.session, envelopes, now=now)


async def _relay_run(url: str, channel: NotificationChannel, smtp_port: int | None, messages: int) -> dict[str, object]:
    """The backlog, then the steady arrivals, through one channel; what was measured."""
    steady = int(STEADY_RATE * STEADY_SECONDS)
    project_id, party_ids = await _relay_seed(url, messages + steady)
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    gateway = SandboxSmsGateway(SECRET)
    sender: ChannelSender = (
        EmailSender(SmtpSettings(host="127.0.0.1", port=smtp_port or 0, start_tls=False, sender="湖畔物业 <noreply@bench.test>"))
        if channel is NotificationChannel.EMAIL
        else SmsSender(gateway, sign_name="湖畔物业")
    )
    channels = {channel: sender}
    cipher = PersonalDataCipher(SECRET)
    clock = _RunningClock()

    async def one_pass() -> RelayReport:
        return await relay_once(session_factory, channels, now=clock(), cipher=cipher, still_wanted=SEND_CHECKS)

    try:
        await _enqueue(session_factory, _notices(project_id, party_ids[:messages], channel, "backlog"), clock())
        started = time.perf_counter()
        sent = 0
        while (report := await one_pass()).claimed:
            sent += report.sent + report.delivered
        backlog_seconds = time.perf_counter() - started

        arrivals = _notices(project_id, party_ids[messages:], channel, "steady")
        per_tick = STEADY_RATE // ARRIVALS_PER_SECOND
        producing = True

        async def produce() -> None:
            nonlocal producing
            tick = time.monotonic()
            for first in range(0, len(arrivals), per_tick):
                await _enqueue(session_factory, arrivals[first : first + per_tick], clock())
                tick += 1 / ARRIVALS_PER_SECOND
                await asyncio.sleep(max(0.0, tick - time.monotonic()))
            producing = False

        async def work_like_the_worker() -> None:
            while True:
                report = await one_pass()
                if report.claimed >= DEFAULT_BATCH_SIZE:
                    continue
                if not producing and not report.claimed:
                    return
                await asyncio.sleep(Settings.outbox_interval)

        await asyncio.gather(produce(), work_like_the_worker())
        async with session_factory() as session:
            rows = (
                await session.execute(
                    select(Message.created_at, Message.sent_at).where(Message.idempotency_key.like("bench:steady:%"))
                )
            ).all()
        latencies = sorted((sent_at - created_at).total_seconds() for created_at, sent_at in rows if sent_at is not None)
        p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] if latencies else float("nan")
        return {
            "sent": sent,
            "backlog_s": backlog_seconds,
            "per_second": sent / backlog_seconds,
            "steady_sent": len(latencies),
            "p99_s": p99,
            "sms_submissions": gateway.submissions,
        }
    finally:
        await sender.aclose()
        await engine.dispose()


def _relay_rows(database: str, messages: int) -> list[dict[str, object]]:
    rows = []
    for channel in (NotificationChannel.EMAIL, NotificationChannel.SMS):
        with postgresql_database() if database == "postgresql" else sqlite_database() as url, tempfile.TemporaryDirectory() as folder:
            asyncio.run(_migrated(url))
            sink = None
            port = None
            if channel is NotificationChannel.EMAIL:
                port = free_port()
                log = Path(folder) / "received.jsonl"
                sink = subprocess.Popen(
                    [sys.executable, "-m", "tests.integration.smtp_sink", "--port", str(port), "--log", str(log)],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                )
                assert sink.stdout is not None
                if sink.stdout.readline().strip() != b"ready":
                    raise RuntimeError("the SMTP server did not start")
            try:
                result = asyncio.run(_relay_run(url, channel, port, messages))
            finally:
                if sink is not None:
                    sink.terminate()
                    sink.wait(timeout=10)
            received = len(log.read_text(encoding="utf-8").splitlines()) if sink is not None else result["sms_submissions"]
        rows.append(
            {
                "database": database,
                "channel": str(channel),
                "backlog": messages,
                "sent": result["sent"],
                "provider got (both phases)": received,
                "time (s)": float(result["backlog_s"]),  # type: ignore[arg-type]
                "messages/s": float(result["per_second"]),  # type: ignore[arg-type]
                "goal (/s)": f"≥ {RELAY_GOAL:g}",
                f"p99 at {STEADY_RATE}/s (s)": float(result["p99_s"]),  # type: ignore[arg-type]
                "goal (s)": f"≤ {LATENCY_GOAL_SECONDS:g}",
                "steady sent": result["steady_sent"],
            }
        )
    return rows


def _relay_part(databases: Sequence[str], messages: int) -> bool:
    """Print the relay's table; whether every figure met its goal."""
    rows = [row for database in databases for row in _relay_rows(database, messages)]
    print_table(
        f"Outbox relay, one worker: a backlog of {messages:,} overdue notices, then {STEADY_RATE}/s arriving for "
        f"{STEADY_SECONDS:g} s (load average {os.getloadavg()[0]:.1f})",
        rows,
    )
    short = [
        row
        for row in rows
        if float(row["messages/s"]) < RELAY_GOAL or float(row[f"p99 at {STEADY_RATE}/s (s)"]) > LATENCY_GOAL_SECONDS  # type: ignore[arg-type]
    ]
    if short:
        print("short of the goal: " + ", ".join(f"{row['database']}/{row['channel']}" for row in short))
    return not short



def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.notifications")
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--overdue", type=int, default=OVERDUE)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], action="append", help="default: PostgreSQL for the dunning pass, both for the relay")
    parser.add_argument("--part", choices=["dunning", "relay"], action="append", help="default: both")
    parser.add_argument("--messages", type=int, default=RELAY_MESSAGES, help="the relay's backlog")
    parser.add_argument("--pass", dest="pass_url", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pass_url:
        print(json.dumps(asyncio.run(_pass(args.pass_url, args.project))))
        return 0
    parts = args.part or ["dunning", "relay"]
    met = True
    if "dunning" in parts:
        met = _dunning_part(args.db or ["postgresql"], args.units, args.overdue) and met
    if "relay" in parts:
        met = _relay_part(args.db or ["postgresql", "sqlite"], args.messages) and met
    return 0 if met else 1


def _dunning_part(databases: Sequence[str], units: int, overdue: int) -> bool:
    rows = [row for database in databases for row in _rows(database, units, overdue)]
    print_table(
        f"Dunning pass: {units:,} units, {overdue:,} overdue accounts, at 09:00 three days after the due date "
        "(decide + enqueue, one transaction)",
        rows,
    )
    slow = [row for row in rows if row["database"] == "postgresql" and row["pass"] == "first" and float(row["time (s)"]) > GOAL_SECONDS]  # type: ignore[arg-type]
    if slow:
        print(f"over the goal of {GOAL_SECONDS:g} s")
    return not slow


if __name__ == "__main__":
    raise SystemExit(main())
