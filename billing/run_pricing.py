"""Pricing one batch of a bill run: the rule engine's lines for each unit, its bill's status after the
prepaid credit it holds, and the journal entry of the batch, as storage records for the bulk writer.

Pricing is CPU work on plain values, run in a worker thread while the previous batch is written. Units
with equal inputs share one engine line, whose storage values are converted once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from billing import model as engine
from billing.balance import status_for
from billing.bulk import BulkConnection
from billing.journal import (
    JOURNAL_ENTRY_COLUMNS,
    JOURNAL_LINE_COLUMNS,
    journal_entry_record,
    journal_line_record,
)
from billing.ledger import IssuedBill, post_bills
from billing.reports.collection_facts import FactBill
from billing.reports.facts import SPAN_COLUMNS, AgeingBill, Facts, issue_facts
from billing.rules import PreparedRules, compute_unit_lines, usages_to_bill
from billing.run_reader import BatchInput, UsageRow
from billing.texts import encode
from db.models import ArrearsSpan, Bill, BillLine, JournalEntry, JournalLine, OccupancyStatus
from kernel.vocabulary import BillLineKind, PartyType, UnitKind

__all__ = [
    "BILL_COLUMNS",
    "LINE_COLUMNS",
    "BatchDrafts",
    "BillPreview",
    "RunContext",
    "draft_batch",
    "write_batch",
]

_ZERO = Decimal("0.00")

BILL_COLUMNS = (
    "id",
    "project_id",
    "run_id",
    "unit_id",
    "party_id",
    "period",
    "period_start",
    "period_end",
    "issued_on",
    "due_date",
    "status",
    "total_amount",
    "adjustment_amount",
    "late_fee_amount",
    "principal_paid",
    "late_fee_paid",
)
LINE_COLUMNS = (
    "bill_id",
    "position",
    "rule_version_id",
    "rule_code",
    "kind",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "explanation",
)


@dataclass(frozen=True)
class BillPreview:
    """One unit's bill as a dry run computed it."""

    unit_id: int
    total: Decimal
    lines: tuple[engine.BillLineDraft, ...]


def _scaled(value: Decimal, places: int) -> int:
    scaled = value.scaleb(places)
    integral = int(scaled)
    if scaled != integral:
        raise ValueError(f"{value} has more than {places} decimal places")
    return integral


@dataclass
class BatchDrafts:
    """A priced batch: storage records in the column orders above, and what the run reports of it."""

    bills: list[tuple[object, ...]] = field(default_factory=list)
    lines: list[tuple[object, ...]] = field(default_factory=list)
    entries: list[tuple[object, ...]] = field(default_factory=list)
    journal_lines: list[tuple[object, ...]] = field(default_factory=list)
    credit_applied: list[tuple[int, int, Decimal]] = field(default_factory=list)
    facts: Facts = field(default_factory=Facts)
    """The reports' facts of the new bills (`billing.reports.facts`): flows the run adds up over its
    batches, and arrears spans written with the batch."""
    spans: list[tuple[object, ...]] = field(default_factory=list)
    previews: list[BillPreview] = field(default_factory=list)
    total: Decimal = _ZERO
    without_charges: int = 0


@dataclass(frozen=True)
class RunContext:
    """What every batch of one run is priced with."""

    project_id: int
    run_id: int
    period: engine.BillingPeriod
    issued_on: dt.date
    due_date: dt.date
    prepared: PreparedRules
    apportionments: Mapping[int, engine.Apportionment]
    waivers: Mapping[int, Sequence[engine.Waiver]]
    year_to_date_types: frozenset[str]
    keep_previews: int
    now: dt.datetime
    user_id: int | None
    line_records: dict[int, tuple[engine.BillLineDraft, tuple[object, ...]]] = field(default_factory=dict)


_LINE_KINDS = {kind: kind.value for kind in BillLineKind}
_UNIT_KINDS = {kind.value: kind for kind in UnitKind}
_PARTY_TYPES = {party_type.value: party_type for party_type in PartyType}


def _fen(amount: Decimal) -> int:
    # Line amounts come rounded to the fen from the engine, so the shift is exact.
    return int(amount.scaleb(2))


def draft_batch(context: RunContext, batch: BatchInput) -> BatchDrafts:
    """Price a batch of units and turn it into storage records, journal included; pure CPU work, run in
    a worker thread while the previous batch is written."""
    drafts = BatchDrafts()
    period = context.period
    label = period.label
    issued: list[IssuedBill] = []
    usages = _usages_by_unit(batch.usage_rows, context.year_to_date_types)
    line_records = context.line_records
    vacant = OccupancyStatus.VACANT.value
    # Flats of one plan share an area: one Decimal per distinct area.
    areas: dict[int, Decimal] = {}
    bill_fields = (context.project_id, context.run_id)
    period_fields = (label, period.start, period.end, context.issued_on, context.due_date)
    prepared, apportionments = context.prepared, context.apportionments
    for (unit_id, building_id, kind, area, occupancy), bill_id in zip(batch.units, batch.bill_ids, strict=True):
        party = batch.parties.get(unit_id)
        snapshot = engine.UnitSnapshot(
            unit_id,
            building_id,
            _UNIT_KINDS[kind],
            areas.get(area) or areas.setdefault(area, Decimal(area).scaleb(-2)),
            occupancy == vacant,
            _PARTY_TYPES[party[1]] if party else None,
        )
        lines = compute_unit_lines(
            prepared,
            snapshot,
            usages.get(unit_id, ()),
            apportionments=apportionments,
            waivers=context.waivers.get(unit_id, ()),
        )
        if not lines:
            drafts.without_charges += 1
            continue
        total = _ZERO
        net_by_code: dict[str, Decimal] = {}
        for position, line in enumerate(lines, start=1):
            amount = line.amount
            total += amount
            net_by_code[line.rule_code] = net_by_code.get(line.rule_code, _ZERO) + amount
            stored = line_records.get(id(line)) or _line_record(line_records, line)
            drafts.lines.append((bill_id, position, *stored[1]))
        applied = min(batch.credits.get(unit_id, _ZERO), total)
        if applied > 0:
            drafts.credit_applied.append((unit_id, bill_id, applied))
        status = status_for(due=total - applied, paid=applied)
        issue_facts(
            FactBill(bill_id, label, building_id, context.issued_on, tuple((code, _fen(net)) for code, net in net_by_code.items())),
            AgeingBill(context.project_id, unit_id, building_id, party[0] if party else None, context.due_date),
            balance=_fen(total - applied),
            facts=drafts.facts,
            spans=drafts.spans,
        )
        drafts.bills.append(
            (bill_id, *bill_fields, unit_id, party[0] if party else None, *period_fields, status.value, _fen(total), 0, 0, _fen(applied), 0)
        )
        issued.append(IssuedBill(bill_id=bill_id, unit_id=unit_id, net_by_rule_code=net_by_code))
        drafts.total += total
        if len(drafts.previews) < context.keep_previews:
            drafts.previews.append(BillPreview(unit_id=unit_id, total=total, lines=tuple(lines)))
    journal = post_bills(issued, f"bills for {label}")
    if journal is not None:
        drafts.entries.append(
            journal_entry_record(
                batch.entry_id,
                project_id=context.project_id,
                draft=journal,
                occurred_at=context.now,
                created_by=context.user_id,
            )
        )
        drafts.journal_lines = [
            journal_line_record(batch.entry_id, line_no, posting) for line_no, posting in enumerate(journal.postings, start=1)
        ]
    return drafts


_REMEMBERED_RECORDS = 65_536


def _line_record(
    records: dict[int, tuple[engine.BillLineDraft, tuple[object, ...]]], line: engine.BillLineDraft
) -> tuple[engine.BillLineDraft, tuple[object, ...]]:
    """A line's storage values after the bill id and position, kept by the line's identity: the engine
    hands units with equal inputs the same line. Each entry holds its line, so no id is reused while
    the entry lives."""
    if len(records) >= _REMEMBERED_RECORDS:
        records.clear()
    stored = records[id(line)] = (
        line,
        (
            line.rule_id,
            line.rule_code,
            _LINE_KINDS[line.kind],
            line.description[:500],
            _scaled(line.quantity, 4),
            None if line.unit_price is None else _scaled(line.unit_price, 6),
            _fen(line.amount),
            encode(line.explanation),
        ),
    )
    return stored


def _usages_by_unit(rows: Sequence[UsageRow], year_to_date_types: frozenset[str]) -> dict[int, list[engine.MeterUsage]]:
    tallies = (
        engine.ReadingTally(unit_id, meter_type, billed, this_year, Decimal(usage).scaleb(-3), readings)
        for unit_id, meter_type, billed, this_year, usage, readings in rows
    )
    usages: dict[int, list[engine.MeterUsage]] = defaultdict(list)
    for usage in usages_to_bill(tallies, year_to_date_types=year_to_date_types):
        usages[usage.unit_id].append(usage)
    return usages


async def write_batch(writer: BulkConnection, drafts: BatchDrafts) -> None:
    # Foreign keys are checked per statement: bills before their lines, entries before journal lines.
    await writer.write(Bill.__table__, BILL_COLUMNS, drafts.bills)  # type: ignore[arg-type]
    await writer.write(BillLine.__table__, LINE_COLUMNS, drafts.lines)  # type: ignore[arg-type]
    await writer.write(JournalEntry.__table__, JOURNAL_ENTRY_COLUMNS, drafts.entries)  # type: ignore[arg-type]
    await writer.write(JournalLine.__table__, JOURNAL_LINE_COLUMNS, drafts.journal_lines)  # type: ignore[arg-type]
    await writer.write(ArrearsSpan.__table__, SPAN_COLUMNS, drafts.spans)  # type: ignore[arg-type]
