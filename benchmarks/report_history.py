"""A project with months of billing history for the report benchmarks and the reports' agreement test.

One owner per flat, in buildings of 1,000 flats. Every month each flat gets a bill on the first of the
next month, due 15 days later: property fee 2.80/m², a 50.00 service fee, and 300.00 of parking for a third
of the flats; one bill in ten carries a 5 % discount on the property fee. The journal holds what the real
use cases book (`billing.ledger`): the bills issued, each payment as prepaid credit, each allocation, each
credit adjustment; bill rows carry the sums the ledger check holds them to.

Owners keep habits (seeded, so the same arguments give the same books):

- 70 % pay each bill within two weeks of its issue;
- 15 % pay each one 20 to 75 days after its issue;
- 5 % are chronic: late as above, and from some month after the first third of the history on they pay
  nothing (so some arrears are more than a year old);
- 5 % pay half after ten days and the rest 40 to 100 days after issue;
- 5 % have a vacant flat now and then: a quarter of their bills get a credit of half the property fee two
  days after issue, and they pay the rest within two weeks.

A payment that would fall after `now` has not happened, so the latest bills are still open.

The reports' facts (`billing.reports.facts`: collection flows and their months, settled residuals,
arrears spans) are written beside each chunk's books, computed from the same records by
`facts.add_bill_history`, the function the migration and the facts' check compute them with: a bulk load
of what the writers would have left one movement at a time. A building's flats never straddle two chunks,
so each chunk's flows (and months) are whole rows.

    seed_report_history(session, units=..., months=..., now=...)
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from billing.bulk import BulkConnection, bulk_connection
from billing.model import BillingPeriod
from billing.reports.collection_facts import FactBill
from billing.reports.facts import SPAN_COLUMNS, AgeingBill, Facts, add_bill_history, monthly, residual_row, span_row
from db.models import (
    Adjustment,
    ArrearsSpan,
    Bill,
    BillingPolicy,
    BillLine,
    BillRun,
    Building,
    CollectionFlow,
    CollectionFlowMonth,
    FeeRule,
    FeeRuleVersion,
    JournalEntry,
    JournalLine,
    Organization,
    Party,
    Payment,
    PaymentAllocation,
    Project,
    RoleGrant,
    SettledResidual,
    Unit,
    User,
)
from kernel.principal import Role
from kernel.vocabulary import FeeRuleKind

__all__ = ["PROJECT_NAME", "ZONE", "History", "history_periods", "seed_report_history"]

ZONE = ZoneInfo("Asia/Shanghai")
_CHUNK = 2_000
_FLATS_PER_BUILDING = 1_000
assert _CHUNK % _FLATS_PER_BUILDING == 0, "a building's flats are seeded in one chunk"
_CHANNELS = ("WECHAT", "ALIPAY", "BANK_TRANSFER", "CASH")
_RULES = (("PROPERTY", FeeRuleKind.PER_AREA, "物业费"), ("SERVICE", FeeRuleKind.FIXED, "服务费"), ("PARKING", FeeRuleKind.FIXED, "车位费"))


@dataclass
class History:
    """What was seeded: the project, its billed periods (oldest first), and how many rows of each kind."""

    project_id: int
    periods: list[BillingPeriod]
    rows: dict[str, int] = field(default_factory=dict)


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), ZONE).astimezone(dt.UTC)


@dataclass
class _Rows:
    """The records of one chunk of flats (the journal, allocations and ids are made from them when written)."""

    bills: list[tuple[object, ...]] = field(default_factory=list)
    lines: list[tuple[object, ...]] = field(default_factory=list)
    payments: list[tuple[object, ...]] = field(default_factory=list)
    adjustments: list[tuple[object, ...]] = field(default_factory=list)


class _Ids:
    """Ids handed out from blocks reserved per chunk."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    async def reserve(self, writer: BulkConnection, table: object, count: int) -> None:
        self._next[table.name] = await writer.reserve_consecutive_ids(table, count)  # type: ignore[attr-defined, arg-type]

    def take(self, table: object) -> int:
        name = table.name  # type: ignore[attr-defined]
        value = self._next[name]
        self._next[name] = value + 1
        return value


PROJECT_NAME = "报表基准小区"


def history_periods(months: int, now: dt.datetime) -> list[BillingPeriod]:
    """The `months` periods a history seeded at `now` bills, oldest first: the last is `now`'s month's
    predecessor."""
    today = now.astimezone(ZONE).date()
    first = today.year * 12 + today.month - 1 - months
    return [BillingPeriod.parse(f"{month // 12:04d}-{month % 12 + 1:02d}") for month in range(first, first + months)]


async def seed_report_history(
    session: AsyncSession, *, units: int, months: int, now: dt.datetime, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> History:
    """Seed the project described above in the session's transaction: `months` periods ending with the one
    before `now`'s month, `units` flats; `progress` is told how many flats are written after each chunk."""
    rng = random.Random(seed)
    organization = Organization(name="报表基准物业")
    session.add(organization)
    await session.flush()
    project = Project(organization_id=organization.id, name=PROJECT_NAME, timezone=ZONE.key, currency="CNY", settings={})
    session.add(project)
    await session.flush()
    session.add(BillingPolicy(project_id=project.id, due_days=15, cycle_months=1))
    clerk = User(email=f"finance{project.id}@reports.bench", display_name="财务", password_hash="-")
    session.add(clerk)
    buildings = [Building(project_id=project.id, name=f"{n + 1}栋") for n in range((units + _FLATS_PER_BUILDING - 1) // _FLATS_PER_BUILDING)]
    session.add_all(buildings)
    periods = history_periods(months, now)
    runs = [
        BillRun(
            project_id=project.id, period=p.label, period_start=p.start, period_end=p.end, bill_count=units,
            times_run=1, last_run_bill_count=units,
        )
        for p in periods
    ]
    session.add_all(runs)
    rules = [FeeRule(project_id=project.id, code=code, kind=kind) for code, kind, _ in _RULES]
    session.add_all(rules)
    await session.flush()
    session.add(RoleGrant(user_id=clerk.id, project_id=project.id, role=Role.FINANCE))
    versions = [
        FeeRuleVersion(rule_id=rule.id, version=1, name=name, effective_from=periods[0].start)
        for rule, (_, _, name) in zip(rules, _RULES, strict=True)
    ]
    session.add_all(versions)
    await session.flush()
    version_of = {code: version.id for (code, _, _), version in zip(_RULES, versions, strict=True)}

    writer = await bulk_connection(session)
    history = History(project.id, periods)
    ids = _Ids()
    for first in range(0, units, _CHUNK):
        count = min(_CHUNK, units - first)
        unit_rows, party_rows = [], []
        await ids.reserve(writer, Unit.__table__, count)
        await ids.reserve(writer, Party.__table__, count)
        flats = []
        building_of: dict[int, int] = {}
        for index in range(first, first + count):
            unit_id, party_id = ids.take(Unit.__table__), ids.take(Party.__table__)
            area = 6000 + rng.randrange(9000)  # 60.00 to 149.99 m²
            unit_rows.append(
                (unit_id, project.id, buildings[index // _FLATS_PER_BUILDING].id, f"{index % 1000:04d}", index % 1000 // 10 + 1, area, "APARTMENT", "SELF_OCCUPIED")
            )
            party_rows.append((party_id, project.id, f"业主{index:06d}", "PERSON"))
            flats.append((unit_id, party_id, area, index % 3 == 0))
            building_of[unit_id] = buildings[index // _FLATS_PER_BUILDING].id
        await writer.write(
            Unit.__table__,  # type: ignore[arg-type]
            ("id", "project_id", "building_id", "number", "floor", "floor_area", "kind", "occupancy_status"),
            unit_rows,
        )
        await writer.write(Party.__table__, ("id", "project_id", "name", "party_type"), party_rows)  # type: ignore[arg-type]
        rows = _chunk_rows(rng, project.id, clerk.id, flats, periods, runs, version_of, now)
        for name, written in (await _write(writer, ids, rows, building_of)).items():
            history.rows[name] = history.rows.get(name, 0) + written
        if progress is not None:
            progress(first + count)
    return history


def _payments_for(rng: random.Random, habit: str, total: int, issued: dt.date, month: int, months: int, stops: int) -> list[tuple[dt.datetime, int]]:
    def at(days: int) -> dt.datetime:
        return _local(issued + dt.timedelta(days=days), rng.randint(8, 21))

    if habit == "on_time" or habit == "vacant":
        return [(at(rng.randint(1, 14)), total)]
    if habit == "late" or (habit == "chronic" and month < stops):
        return [(at(rng.randint(20, 75)), total)]
    if habit == "partial":
        half = total // 2
        return [(at(10), half), (at(rng.randint(40, 100)), total - half)]
    return []


def _habit(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.70:
        return "on_time"
    if draw < 0.85:
        return "late"
    if draw < 0.90:
        return "chronic"
    if draw < 0.95:
        return "partial"
    return "vacant"


def _chunk_rows(
    rng: random.Random,
    project_id: int,
    clerk_id: int,
    flats: list[tuple[int, int, int, bool]],
    periods: list[BillingPeriod],
    runs: list[BillRun],
    version_of: dict[str, int],
    now: dt.datetime,
) -> _Rows:
    """The chunk's records, each bill named by its place in `bills` until `_write` gives it an id."""
    rows = _Rows()
    months = len(periods)
    for unit_id, party_id, area, parks in flats:
        habit = _habit(rng)
        stops = rng.randrange(months // 3, months)
        for month, (period, run) in enumerate(zip(periods, runs, strict=True)):
            issued = period.end + dt.timedelta(days=1)
            bill = len(rows.bills)
            charges: list[tuple[str, str, int]] = [("PROPERTY", "CHARGE", area * 280 // 100)]
            if rng.random() < 0.1:
                charges.append(("PROPERTY", "DISCOUNT", -(area * 280 // 100) * 5 // 100))
            charges.append(("SERVICE", "CHARGE", 5000))
            if parks:
                charges.append(("PARKING", "CHARGE", 30000))
            total = sum(amount for _, _, amount in charges)
            adjusted = 0
            if habit == "vacant" and rng.random() < 0.25:
                adjusted = -(area * 280 // 100) // 2
                at = _local(issued + dt.timedelta(days=2), 11)
                if at < now:
                    rows.adjustments.append((bill, unit_id, -adjusted, at, clerk_id))
                else:
                    adjusted = 0
            paid = 0
            for at, amount in _payments_for(rng, habit, total + adjusted, issued, month, months, stops):
                if at < now and amount > 0:
                    rows.payments.append((bill, unit_id, party_id, rng.choice(_CHANNELS), amount, at))
                    paid += amount
            due = total + adjusted - paid
            status = "PAID" if due == 0 else "PARTIALLY_PAID" if paid else "OPEN"
            rows.bills.append(
                (bill, project_id, run.id, unit_id, party_id, period.label, period.start, period.end, issued,
                 issued + dt.timedelta(days=15), status, total, adjusted, 0, paid, 0)
            )
            for position, (code, kind, amount) in enumerate(charges, start=1):
                rows.lines.append((bill, position, version_of[code], code, kind, code, 10000, None, amount, ""))
    return rows


async def _write(writer: BulkConnection, ids: _Ids, rows: _Rows, building_of: dict[int, int]) -> dict[str, int]:
    """Give the chunk's records real ids and write them with the journal entries that book them and the
    reports' facts; answer how many rows of each kind were written."""
    for table, count in (
        (Bill.__table__, len(rows.bills)),
        (Payment.__table__, len(rows.payments)),
        (PaymentAllocation.__table__, len(rows.payments)),
        (Adjustment.__table__, len(rows.adjustments)),
        (JournalEntry.__table__, len({record[8] for record in rows.bills}) + 2 * len(rows.payments) + len(rows.adjustments)),
    ):
        if count:
            await ids.reserve(writer, table, count)
    bill_ids = [ids.take(Bill.__table__) for _ in rows.bills]
    bill_of = {index: (bill_ids[index], record) for index, record in enumerate(rows.bills)}
    bills = [(bill_ids[index], *record[1:]) for index, record in enumerate(rows.bills)]
    lines = [(bill_ids[record[0]], *record[1:]) for record in rows.lines]
    entries: list[tuple[object, ...]] = []
    postings: list[tuple[object, ...]] = []
    issued_entry: dict[dt.date, int] = {}
    income: dict[tuple[int, str], int] = {}
    for bill_id, record in bill_of.values():
        issued = record[8]
        if issued not in issued_entry:
            entry = ids.take(JournalEntry.__table__)
            issued_entry[issued] = entry
            entries.append((entry, record[1], "BILLS_ISSUED", f"{record[5]} 账单", _local(issued, 9)))
        postings.append((issued_entry[issued], None, "RECEIVABLE", record[3], bill_id, None, record[11], 0))
    for record in rows.lines:
        key = (issued_entry[bill_of[record[0]][1][8]], record[3])
        income[key] = income.get(key, 0) + record[8]
    for (entry, code), amount in income.items():
        postings.append((entry, None, f"INCOME:{code}", None, None, None, 0, amount))
    adjustments = []
    for bill, unit_id, amount, at, clerk_id in rows.adjustments:
        bill_id, record = bill_of[bill]
        adjustment_id, entry = ids.take(Adjustment.__table__), ids.take(JournalEntry.__table__)
        adjustments.append((adjustment_id, record[1], bill_id, unit_id, "CREDIT", amount, "空置减免", clerk_id, at))
        entries.append((entry, record[1], "ADJUSTMENT", "空置减免", at))
        postings.append((entry, None, "RECEIVABLE", unit_id, bill_id, None, 0, amount))
        postings.append((entry, None, "ADJUSTMENTS", None, None, None, amount, 0))
    payments, allocations = [], []
    for bill, unit_id, party_id, channel, amount, at in rows.payments:
        bill_id, record = bill_of[bill]
        payment_id, allocation_id = ids.take(Payment.__table__), ids.take(PaymentAllocation.__table__)
        received, allocated = ids.take(JournalEntry.__table__), ids.take(JournalEntry.__table__)
        payments.append((payment_id, record[1], unit_id, party_id, f"业主{unit_id}", channel, amount, at))
        allocations.append((allocation_id, payment_id, bill_id, amount, 0, "PAYMENT", at))
        entries.append((received, record[1], "PAYMENT", "收款", at))
        entries.append((allocated, record[1], "ALLOCATION", "冲账", at))
        postings.append((received, None, f"CLEARING:{channel}", unit_id, None, payment_id, amount, 0))
        postings.append((received, None, "PREPAID_CREDIT", unit_id, None, payment_id, 0, amount))
        postings.append((allocated, None, "PREPAID_CREDIT", unit_id, None, payment_id, amount, 0))
        postings.append((allocated, None, "RECEIVABLE", unit_id, bill_id, None, 0, amount))
    numbered: dict[object, int] = {}
    journal_lines = []
    for entry, _, *rest in postings:
        numbered[entry] = numbered.get(entry, 0) + 1
        journal_lines.append((entry, numbered[entry], *rest))
    await writer.write(
        Bill.__table__,  # type: ignore[arg-type]
        ("id", "project_id", "run_id", "unit_id", "party_id", "period", "period_start", "period_end", "issued_on", "due_date",
         "status", "total_amount", "adjustment_amount", "late_fee_amount", "principal_paid", "late_fee_paid"),
        bills,
    )
    await writer.write(
        BillLine.__table__,  # type: ignore[arg-type]
        ("bill_id", "position", "rule_version_id", "rule_code", "kind", "description", "quantity", "unit_price", "amount", "explanation"),
        lines,
    )
    await writer.write(
        Payment.__table__,  # type: ignore[arg-type]
        ("id", "project_id", "unit_id", "payer_party_id", "payer_name", "channel", "amount", "paid_at"),
        payments,
    )
    await writer.write(
        PaymentAllocation.__table__,  # type: ignore[arg-type]
        ("id", "payment_id", "bill_id", "principal", "late_fee", "source", "created_at"),
        allocations,
    )
    await writer.write(
        Adjustment.__table__,  # type: ignore[arg-type]
        ("id", "project_id", "bill_id", "unit_id", "kind", "amount", "reason", "created_by", "created_at"),
        adjustments,
    )
    await writer.write(JournalEntry.__table__, ("id", "project_id", "kind", "description", "occurred_at"), entries)  # type: ignore[arg-type]
    await writer.write(
        JournalLine.__table__,  # type: ignore[arg-type]
        ("entry_id", "line_no", "account", "unit_id", "bill_id", "payment_id", "debit", "credit"),
        journal_lines,
    )
    facts = _facts(bill_ids, rows, building_of)
    project_id = rows.bills[0][1] if rows.bills else 0
    await writer.write(
        CollectionFlow.__table__,  # type: ignore[arg-type]
        ("project_id", "period", "building_id", "issued_on", "fee_kind", "day", "receivable", "collected"),
        [(project_id, *key, receivable, collected) for key, (receivable, collected) in facts.facts.flows.items()],
    )
    await writer.write(
        CollectionFlowMonth.__table__,  # type: ignore[arg-type]
        ("project_id", "period", "building_id", "issued_on", "fee_kind", "month", "receivable", "collected"),
        [(project_id, *key, receivable, collected) for key, (receivable, collected) in monthly(facts.facts.flows).items()],
    )
    residual_columns = ("bill_id", "fee_kind", "settled_from", "settled_until", "project_id", "period", "building_id", "issued_on", "amount")
    await writer.write(
        SettledResidual.__table__,  # type: ignore[arg-type]
        residual_columns,
        [tuple(residual_row(row, facts.bills[row.bill_id], project_id)[c] for c in residual_columns) for row in facts.facts.residuals],
    )
    await writer.write(
        ArrearsSpan.__table__,  # type: ignore[arg-type]
        SPAN_COLUMNS,
        [tuple(span_row(span, facts.ageing[span[0]])[c] for c in SPAN_COLUMNS) for span in facts.facts.spans],
    )
    return {
        "bills": len(bills), "bill lines": len(lines), "payments": len(payments), "allocations": len(allocations),
        "adjustments": len(adjustments), "journal entries": len(entries), "journal lines": len(journal_lines),
        "collection flows": len(facts.facts.flows), "arrears spans": len(facts.facts.spans),
    }


@dataclass
class _ChunkFacts:
    facts: Facts
    bills: dict[int, FactBill]
    ageing: dict[int, AgeingBill]


def _facts(bill_ids: list[int], rows: _Rows, building_of: dict[int, int]) -> _ChunkFacts:
    """The reports' facts of the chunk's bills, from the records `_write` books."""
    charges: dict[int, dict[str, int]] = defaultdict(dict)
    for record in rows.lines:
        merged = charges[record[0]]  # type: ignore[index]
        merged[record[3]] = merged.get(record[3], 0) + record[8]  # type: ignore[index, operator]
    moves: dict[int, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
    postings: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for bill, _, _, _, amount, at in rows.payments:
        moves[bill].append((at, amount, 0))  # type: ignore[arg-type]
        postings[bill].append((at, -amount))  # type: ignore[arg-type, operator]
    for bill, _, amount, at, _ in rows.adjustments:
        moves[bill].append((at, 0, -amount))  # type: ignore[arg-type, operator]
        postings[bill].append((at, -amount))  # type: ignore[arg-type, operator]
    chunk = _ChunkFacts(Facts(), {}, {})
    for index, record in enumerate(rows.bills):
        bill_id, project_id, unit_id, party_id = bill_ids[index], record[1], record[3], record[4]
        period, issued, due, total = record[5], record[8], record[9], record[11]
        building_id = building_of[unit_id]  # type: ignore[index]
        bill = FactBill(bill_id, period, building_id, issued, tuple(charges[index].items()))  # type: ignore[arg-type]
        chunk.bills[bill_id] = bill
        chunk.ageing[bill_id] = AgeingBill(project_id, unit_id, building_id, party_id, due)  # type: ignore[arg-type]
        add_bill_history(chunk.facts, bill, moves[index], [(_local(issued, 9), total), *postings[index]], ZONE)  # type: ignore[arg-type]
    return chunk
