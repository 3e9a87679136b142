"""Exporting the reports as XLSX: 100,000 units in arrears written to the ageing workbook (one row each on
the units sheet, eleven cells a row), and a collection workbook of 100,000 lines (period × building × fee
kind), each timed and read back.

Printed per export: rows, wall and CPU time (a shared machine disturbs CPU time less), the goal beside
the figure (≤ 10 s for 100,000 rows), the file's size, the process's peak memory before the write and
after it (the writer adds little: openpyxl's write-only mode holds one row at a time), and whether the
totals read back from the file equal the report's.

    python -m benchmarks.reports                # 100,000 rows each
    python -m benchmarks.reports --rows 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from benchmarks.table import peak_rss_mib, print_table
from billing.model import BillingPeriod
from billing.reports.ageing import OpenBill, arrears_ageing
from billing.reports.collection import BillMovement, ChargedBill, FeeCharge, collection_report
from billing.reports.views import AgeingView, CollectionView, ReportProject, UnitLabel
from billing.reports.workbook import ageing_workbook, collection_workbook
from kernel.vocabulary import Locale

ZONE = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2026, 12, 31)
GOAL_SECONDS = 10.0
PROJECT = ReportProject(1, "基准小区", ZONE, Locale.ZH_CN, AS_OF)
FEE_KINDS = ("PROPERTY", "PARKING", "WATER", "ELECTRICITY", "COMMON_ELECTRICITY")


def _fen(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low, high)).scaleb(-2)


def ageing_view(rows: int, rng: random.Random) -> AgeingView:
    """`rows` units in arrears, one to three overdue bills each, in 200 buildings."""
    bills: list[OpenBill] = []
    for unit_id in range(1, rows + 1):
        for _ in range(rng.randint(1, 3)):
            due = AS_OF - dt.timedelta(days=rng.randint(1, 900))
            bills.append(OpenBill(len(bills) + 1, unit_id, unit_id % 200 + 1, due, _fen(rng, 100, 500_000)))
    report = arrears_ageing(bills, as_of=AS_OF, top=10)
    labels = {unit_id: UnitLabel(f"{unit_id % 200 + 1}栋", f"{unit_id:06d}", "王丽") for unit_id in range(1, rows + 1)}
    return AgeingView(PROJECT, report, {b: f"{b}栋" for b in range(1, 201)}, labels)


def collection_view(rows: int, rng: random.Random) -> CollectionView:
    """Twelve periods of enough buildings for about `rows` lines, one bill per building and period: each
    period writes its total, its fee kinds, and each building's total and fee kinds."""
    periods = [BillingPeriod.parse(f"2026-{month:02d}") for month in range(1, 13)]
    per_building = len(periods) * (1 + len(FEE_KINDS))
    buildings = max(1, (rows - per_building) // per_building)
    bills, cash = [], []
    for period in periods:
        issued = period.end + dt.timedelta(days=1)
        for building in range(1, buildings + 1):
            bill_id = len(bills) + 1
            charges = tuple(FeeCharge(kind, _fen(rng, 1_000, 90_000)) for kind in FEE_KINDS)
            bills.append(ChargedBill(bill_id, period.label, building, issued, charges))
            paid = _fen(rng, 0, int(sum(c.amount for c in charges) * 100))
            cash.append(BillMovement(bill_id, dt.datetime.combine(issued, dt.time(12), ZONE), paid))
    report = collection_report(bills, cash, [], periods=periods, as_of=AS_OF, zone=ZONE)
    return CollectionView(PROJECT, report, {b: f"{b}栋" for b in range(1, buildings + 1)}, {k: k for k in FEE_KINDS})


def _timed_export(name: str, write: Callable[[Any, Path], None], view: Any, rows: int, check: Callable[[Path], bool]) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.xlsx"
        before = peak_rss_mib()
        wall, cpu = time.perf_counter(), time.process_time()
        write(view, path)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = peak_rss_mib()
        size = path.stat().st_size / 2**20
        agrees = check(path)
    return {
        "export": name,
        "rows": rows,
        "wall s": wall,
        "cpu s": cpu,
        "goal s": f"≤ {GOAL_SECONDS:.0f}",
        "met": "yes" if wall <= GOAL_SECONDS else "NO",
        "file MiB": size,
        "peak MiB before": before,
        "peak MiB after": after,
        "totals agree": "yes" if agrees else "NO",
    }


def _ageing_totals_agree(view: AgeingView) -> Callable[[Path], bool]:
    def check(path: Path) -> bool:
        sheet = load_workbook(path, read_only=True)["分户欠费"]
        last = None
        count = -1
        for last in sheet.iter_rows(min_row=1, values_only=True):
            count += 1
        assert last is not None
        return count - 1 == len(view.report.units) and Decimal(str(last[-1])) == view.report.total.total

    return check


def _collection_totals_agree(view: CollectionView) -> Callable[[Path], bool]:
    def check(path: Path) -> bool:
        sheet = load_workbook(path, read_only=True)["收缴率"]
        totals = {
            row[0]: Decimal(str(row[3])).quantize(Decimal("0.01"))
            for row in sheet.iter_rows(min_row=2, values_only=True)
            if row[1] == row[2] == "合计"
        }
        return totals == {line.period: line.figures.receivable for line in view.report.totals}

    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows per export (default 100,000)")
    rows = parser.parse_args().rows
    rng = random.Random(2026)
    started = time.perf_counter()
    ageing = ageing_view(rows, rng)
    collection = collection_view(rows, rng)
    print(f"built the reports in {time.perf_counter() - started:.1f} s (not part of the exports' time)")
    print_table(
        f"XLSX exports, {rows:,} rows each (openpyxl write-only)",
        [
            _timed_export("ageing units", ageing_workbook, ageing, len(ageing.report.units), _ageing_totals_agree(ageing)),
            _timed_export(
                "collection lines",
                collection_workbook,
                collection,
                len(collection.report.cells) + len(collection.report.by_building) + len(collection.report.by_fee_kind) + len(collection.report.totals),
                _collection_totals_agree(collection),
            ),
        ],
    )


if __name__ == "__main__":
    main()
