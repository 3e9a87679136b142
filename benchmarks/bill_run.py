"""Bill run of 100,000 units × 5 rules, end to end, on PostgreSQL and on SQLite.

Each database runs in its own process, so that peak memory is the run's own. A run reads the units and
their readings, prices every unit with the rule engine (per-area fee, fixed parking rent, tiered
electricity and water, an apportioned common-area total), and writes bills, bill lines and journal
lines. On PostgreSQL the same rows are then read back, deleted, and written again by a bare COPY
(asyncpg `copy_records_to_table`, the run's own writer) into the same schema with its keys, indexes and
foreign keys: the floor the run is compared with. The PostgreSQL database is a throwaway one, created and dropped here.

    python -m benchmarks.bill_run            # both databases
    python -m benchmarks.bill_run --db sqlite --units 20000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.table import peak_rss_mib, print_table
from benchmarks.throwaway import postgresql_database, sqlite_database
from billing.bulk import bulk_connection
from billing.model import ApportionBasis, TierPeriod
from billing.rule_book import (
    RuleDefinition,
    ScopeDefinition,
    TierDefinition,
    insert_fee_rule,
)
from billing.runs import run_billing
from db.migrate import upgrade_to_head
from db.models import Building, MeterReading, Organization, Project, Unit
from db.session import create_engine, create_session_factory
from kernel.vocabulary import FeeRuleKind

UNITS = 100_000
PERIOD = "2026-11"
NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
SEED_CHUNK = 20_000
WRITTEN_TABLES = ("bill", "bill_line", "journal_entry", "journal_line")


def _rules() -> list[tuple[str, FeeRuleKind, RuleDefinition]]:
    start = dt.date(2026, 1, 1)
    return [
        ("PROPERTY", FeeRuleKind.PER_AREA, RuleDefinition("Property fee", start, rate_per_square_metre=Decimal("2.80"))),
        ("PARKING", FeeRuleKind.FIXED, RuleDefinition("Parking space", start, amount_per_cycle=Decimal("300.00"))),
        (
            "ELECTRICITY",
            FeeRuleKind.METERED_TIERED,
            RuleDefinition(
                "Electricity", start, meter_type="electricity", tier_period=TierPeriod.MONTH,
                tiers=(
                    TierDefinition(Decimal(0), Decimal(240), Decimal("0.5283")),
                    TierDefinition(Decimal(240), Decimal(400), Decimal("0.5783")),
                    TierDefinition(Decimal(400), None, Decimal("0.8283")),
                ),
            ),
        ),
        (
            "WATER",
            FeeRuleKind.METERED_TIERED,
            RuleDefinition(
                "Water", start, meter_type="water", tier_period=TierPeriod.YEAR_TO_DATE,
                tiers=(
                    TierDefinition(Decimal(0), Decimal(216), Decimal("2.90")),
                    TierDefinition(Decimal(216), Decimal(300), Decimal("3.85")),
                    TierDefinition(Decimal(300), None, Decimal("6.70")),
                ),
            ),
        ),
        (
            "COMMON",
            FeeRuleKind.APPORTIONED,
            RuleDefinition(
                "Common-area electricity", start, scope=ScopeDefinition(), apportion_total=Decimal("500000.00"),
                apportion_basis=ApportionBasis.AREA,
            ),
        ),
    ]


async def _seed(url: str, units: int) -> int:
    """A project of `units` flats in buildings of 1,000, two readings per meter; returns the project id."""
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    rng = random.Random(2026)
    baseline_at = dt.datetime(2026, 10, 31, 10, tzinfo=dt.UTC)
    read_at = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    try:
        async with session_factory() as session, session.begin():
            organization = Organization(name="Benchmark Property Co")
            session.add(organization)
            await session.flush()
            project = Project(organization_id=organization.id, name="Benchmark", timezone="Asia/Shanghai", currency="CNY", settings={})
            session.add(project)
            await session.flush()
            buildings = [Building(project_id=project.id, name=f"B{n:03d}") for n in range((units + 999) // 1000)]
            session.add_all(buildings)
            await session.flush()
            for code, kind, definition in _rules():
                await insert_fee_rule(session, project_id=project.id, code=code, kind=kind, definition=definition, created_by=None)
            writer = await bulk_connection(session)
            unit_table, reading_table = Unit.__table__, MeterReading.__table__
            reading_id = 0
            for first in range(0, units, SEED_CHUNK):
                count = min(SEED_CHUNK, units - first)
                ids = await writer.reserve_ids(unit_table, count)  # type: ignore[arg-type]
                unit_rows = []
                reading_rows = []
                for offset, unit_id in enumerate(ids):
                    index = first + offset
                    unit_rows.append(
                        (unit_id, project.id, buildings[index // 1000].id, f"{index % 1000:04d}", index % 1000 // 10 + 1,
                         rng.randint(5000, 15000), "APARTMENT", "SELF_OCCUPIED")
                    )
                    for meter, low, high in (("electricity", 80, 600), ("water", 5, 40)):
                        start_value = rng.randint(1000, 50000) * 1000
                        usage = rng.randint(low, high) * 1000
                        for at, value, used in ((baseline_at, start_value, 0), (read_at, start_value + usage, usage)):
                            reading_id += 1
                            reading_rows.append((reading_id, project.id, unit_id, meter, value, at, used, False, False))
                await writer.write(
                    unit_table,  # type: ignore[arg-type]
                    ("id", "project_id", "building_id", "number", "floor", "floor_area", "kind", "occupancy_status"),
                    unit_rows,
                )
                await writer.write(
                    reading_table,  # type: ignore[arg-type]
                    ("id", "project_id", "unit_id", "meter_type", "reading", "read_at", "usage", "is_replacement", "flagged_for_review"),
                    reading_rows,
                )
            if engine.dialect.name == "postgresql":
                for table in ("unit", "meter_reading"):
                    await session.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                    )
            project_id = project.id
        if engine.dialect.name == "postgresql":
            # A live database has statistics and a quiet checkpointer; give the fresh one the same.
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
                await autocommit.execute(text("CHECKPOINT"))
        return project_id
    finally:
        await engine.dispose()


async def _run(url: str, project_id: int) -> tuple[float, int, int]:
    """The timed bill run; (seconds, bills, rows written)."""
    engine = create_engine(url)
    session_factory = create_session_factory(engine)
    try:
        started = time.perf_counter()
        outcome = await run_billing(session_factory, None, now=NOW, project_id=project_id, period=PERIOD, dry_run=False)
        elapsed = time.perf_counter() - started
        async with session_factory() as session:
            counts = [
                int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
                for table in WRITTEN_TABLES
            ]
        return elapsed, outcome.bills_created, sum(counts)
    finally:
        await engine.dispose()


async def _copy_floor(url: str) -> float:
    """Read back exactly the rows the run wrote, delete them, and time a bare COPY of those records into
    the same schema (keys, indexes, foreign keys), as the run's writer sends them: the floor."""
    connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        dumped = {}
        for table in WRITTEN_TABLES:
            columns = [
                row["column_name"]
                for row in await connection.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
                    table,
                )
            ]
            records = [tuple(record) for record in await connection.fetch(f"SELECT {', '.join(columns)} FROM {table}")]
            dumped[table] = (columns, records)
        await connection.execute(f"TRUNCATE {', '.join(WRITTEN_TABLES)} CASCADE")
        await connection.execute("CHECKPOINT")
        started = time.perf_counter()
        async with connection.transaction():
            for table in WRITTEN_TABLES:
                columns, records = dumped[table]
                await connection.copy_records_to_table(table, records=records, columns=columns)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def _migrated(url: str) -> None:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await engine.dispose()


def _peak_of_this_program() -> float:
    """Peak resident memory since exec, in MiB. (`ru_maxrss` would also count the parent's peak before
    the fork, which Linux carries across exec: the parent holds the seeding's memory.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mib()


def _timed_run_in_child(url: str, project_id: int) -> dict[str, object]:
    """The bill run in a process of its own, so that its peak memory is the run's alone."""
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.bill_run", "--run", url, "--project", str(project_id)],
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the bill run failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _row(database: str, result: dict[str, object], floor: float | None) -> dict[str, object]:
    elapsed = float(result["time_s"])  # type: ignore[arg-type]
    rows = int(result["rows"])  # type: ignore[call-overload]
    return {
        "database": database,
        "units": result["bills"],
        "rows": rows,
        "time (s)": elapsed,
        "rows/s": int(rows / elapsed),
        "COPY floor (s)": floor if floor is not None else "-",
        "ratio to floor": elapsed / floor if floor else "-",
        "peak memory (MiB)": result["peak_mib"],
    }


def _postgresql(units: int) -> dict[str, object]:
    with postgresql_database() as url:
        asyncio.run(_migrated(url))
        project_id = asyncio.run(_seed(url, units))
        result = _timed_run_in_child(url, project_id)
        floor = asyncio.run(_copy_floor(url))
        return _row("postgresql", result, floor)


def _sqlite(units: int) -> dict[str, object]:
    with sqlite_database() as url:
        asyncio.run(_migrated(url))
        project_id = asyncio.run(_seed(url, units))
        return _row("sqlite", _timed_run_in_child(url, project_id), None)


def main() -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.bill_run")
    parser.add_argument("--units", type=int, default=UNITS)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], action="append", help="default: both")
    parser.add_argument("--run", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        elapsed, bills, rows = asyncio.run(_run(args.run, args.project))
        print(json.dumps({"time_s": elapsed, "bills": bills, "rows": rows, "peak_mib": _peak_of_this_program()}))
        return 0
    measures = {"postgresql": _postgresql, "sqlite": _sqlite}
    rows = [measures[database](args.units) for database in args.db or ("postgresql", "sqlite")]
    print_table(f"Bill run: {args.units:,} units × 5 rules, period {PERIOD}, end to end", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
