"""Keeping the reports' facts (`db.models.reports`) in step with the money, in the writer's transaction.

Every writer of a bill's money goes through here: a bill run (`issue_facts` beside its bulk rows and
`add_issue_flows` once it has priced every batch, then `record_bill_changes` for the prepaid credit it
applies), reversals (`billing.refunds`) and adjustments (`billing.adjustments`) call
`record_bill_changes` after the bills' rows hold their new figures, naming each bill they moved, when,
and by how much principal and adjustment (late fees move the receivable balance only, which is read from
the bill row). Payments, batches, the demo and reconciliation (`billing.booking.book_payments`) hold their
bills' new figures already: they ask `bill_changes` for the rows and write them with their own.

- `CollectionFlow`, `SettledResidual`: the collection rate's (`billing.reports.collection_facts` says
  what they hold and why they suffice). `CollectionFlowMonth` holds the flows again, summed per calendar
  month of their day, written beside them by the same statements (`monthly`).
- `ArrearsSpan`: the ageing's. A bill's receivable balance (its amount due, which the ledger check holds
  equal to its receivable postings) from the day it took it until the day it next changed. The ageing as
  of day D reads the spans open on D: those that began by D and end after it.

`history_facts` computes the same rows from the books at once (the journal's times, the allocations and
the bills' lines), for the migration that fills them and for `facts_discrepancies`, the check that holds
them equal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import fen
from billing.bulk import TableRows, bulk_connection, dialect_insert
from billing.journal import sum_fen
from billing.ledger import RECEIVABLE
from billing.money import to_fen
from billing.reports.collection_sql import booked_principal
from billing.reports.collection_facts import (
    BillChange,
    FactBill,
    Flows,
    ResidualSpan,
    SettledSince,
    add_flows,
    bill_history,
    changed_bill,
)
from db.driver import DriverStatement, session_connection
from db.models import (
    OPEN_UNTIL_FURTHER_NOTICE,
    ArrearsSpan,
    Bill,
    BillLine,
    CollectionFlow,
    CollectionFlowMonth,
    JournalEntry,
    JournalLine,
    Project,
    SettledResidual,
    Unit,
)

__all__ = [
    "AgeingBill",
    "BillMoved",
    "BillNow",
    "FactChanges",
    "Facts",
    "add_bill_history",
    "arrears_spans",
    "bill_changes",
    "facts_discrepancies",
    "history_facts",
    "history_rows",
    "history_statements",
    "monthly",
    "months_from_flows",
    "SPAN_COLUMNS",
    "add_issue_flows",
    "issue_facts",
    "record_bill_changes",
    "residual_row",
    "span_row",
]

_IN_LIST = 5_000
"""Bills per IN list (SQLite allows 32,766 bound parameters in a statement)."""

_FLOWS = CollectionFlow.__table__
_MONTHS = CollectionFlowMonth.__table__
_RESIDUALS = SettledResidual.__table__
_SPANS = ArrearsSpan.__table__


@dataclass(frozen=True, slots=True)
class BillMoved:
    """A movement a writer booked on a bill: principal applied (negative when taken back) and adjustment
    (positive for a debit), at the time its journal entry carries. Zero and zero: only its late fee moved."""

    bill_id: int
    at: dt.datetime
    principal: Decimal = Decimal(0)
    adjusted: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class AgeingBill:
    """What an arrears span carries of its bill besides the balance."""

    project_id: int
    unit_id: int
    building_id: int
    party_id: int | None
    due_date: dt.date


@dataclass
class Facts:
    """Rows of the three fact tables, as `history_facts` computes them or a bill run's batch adds them."""

    flows: Flows = field(default_factory=dict)
    residuals: list[ResidualSpan] = field(default_factory=list)
    spans: list[tuple[int, dt.date, dt.date, int]] = field(default_factory=list)
    """(bill id, open from, open until, balance) of each arrears span."""


def arrears_spans(bill_id: int, balances: Iterable[tuple[dt.date, int]]) -> list[tuple[int, dt.date, dt.date, int]]:
    """A bill's arrears spans from its receivable postings summed per day (in day order): each day its
    balance changes to something other than zero opens a span, which the next change closes."""
    spans: list[tuple[int, dt.date, dt.date, int]] = []
    balance = 0
    since: dt.date | None = None
    for day, moved in balances:
        if moved == 0:
            continue
        if since is not None and since < day:
            spans.append((bill_id, since, day, balance))
        balance += moved
        since = day if balance != 0 else None
    if since is not None:
        spans.append((bill_id, since, OPEN_UNTIL_FURTHER_NOTICE, balance))
    return spans


def monthly(flows: Flows) -> Flows:
    """`flows` summed per calendar month of their day: the rows of `CollectionFlowMonth`, each keyed by its
    month's first day where the flow's key has its day."""
    months: Flows = {}
    for (period, building_id, issued_on, kind, day), (receivable, collected) in flows.items():
        add_flows(months, (period, building_id, issued_on, kind, day.replace(day=1)), receivable, collected)
    return months


def months_from_flows(dialect: str) -> Any:
    """INSERT … SELECT of `CollectionFlowMonth`'s rows from the stored flows, for a database whose month rows
    are still empty (the migration that adds them, and the benchmark's seeded history)."""
    day = _FLOWS.c.day
    month = func.date(day, "start of month") if dialect == "sqlite" else cast(func.date_trunc("month", day), Date)
    keys = [_FLOWS.c.project_id, _FLOWS.c.period, _FLOWS.c.building_id, _FLOWS.c.issued_on, _FLOWS.c.fee_kind]
    summed = select(*keys, month, func.sum(_FLOWS.c.receivable), func.sum(_FLOWS.c.collected)).group_by(*keys, month)
    return _MONTHS.insert().from_select([*(column.name for column in keys), "month", "receivable", "collected"], summed)


# --- a bill run ------------------------------------------------------------------------------------------

SPAN_COLUMNS = ("bill_id", "open_from", "open_until", "project_id", "unit_id", "building_id", "party_id", "due_date", "balance")


def issue_facts(bill: FactBill, ageing: AgeingBill, *, balance: int, facts: Facts, spans: list[tuple[object, ...]]) -> None:
    """Add a new bill's facts: its receivable per fee kind on its issue day to `facts`, and, when it owes
    something after the prepaid credit it was priced with, its first arrears span to `spans` (records in
    `SPAN_COLUMNS` order for the bulk writer)."""
    for kind, amount in bill.charges:
        add_flows(facts.flows, bill.key(kind, bill.issued_on), amount, 0)
    if balance != 0:
        row = span_row((bill.bill_id, bill.issued_on, OPEN_UNTIL_FURTHER_NOTICE, balance), ageing)
        spans.append(tuple(row[column] for column in SPAN_COLUMNS))


async def add_issue_flows(session: AsyncSession, *, project_id: int, flows: Flows) -> None:
    """Add a run's receivable flows (`issue_facts`) to the stored sums, once for the whole run."""
    await _add_flows(session, project_id, flows)


# --- every other writer ----------------------------------------------------------------------------------


async def record_bill_changes(session: AsyncSession, *, project_id: int, moved: Sequence[BillMoved]) -> None:
    """Bring the facts of the bills `moved` names up to the books, in the writer's transaction, after the
    bills' rows hold their new figures. `moved` is in the order the writer booked it."""
    if not moved:
        return
    await session.flush()
    zone = ZoneInfo(await session.scalar(select(Project.timezone).where(Project.id == project_id)) or "UTC")
    bills = await _bills_now(session, sorted({movement.bill_id for movement in moved}))
    writer = await bulk_connection(session)
    changes = await bill_changes(session, zone=zone, moved=moved, bills=bills)
    await writer.write_together([*changes.of_bills, *changes.running_sums])


@dataclass(frozen=True, slots=True)
class BillNow:
    """A bill as its writer leaves it: where its facts are summed and aged, and its principal paid,
    adjustments and amount due after the writer's change, in fen."""

    bill_id: int
    period: str
    issued_on: dt.date
    ageing: AgeingBill
    paid: int
    adjusted: int
    due: int


@dataclass(frozen=True)
class FactChanges:
    """The facts' rows of some bills' changes, in two parts a writer may send apart: `of_bills`, the
    bills' own rows (settled residuals, arrears spans), which only a writer holding the bills touches, and
    `running_sums`, the collection flows' daily and monthly sums, rows every writer of a project's day
    adds to (locked until commit once written)."""

    of_bills: list[TableRows]
    running_sums: list[TableRows]


async def bill_changes(
    session: AsyncSession, *, zone: ZoneInfo, moved: Sequence[BillMoved], bills: Mapping[int, BillNow]
) -> FactChanges:
    """The facts' rows `record_bill_changes` writes, for a writer that holds the new figures of the bills
    `moved` names (`bills`) and writes the rows with its own (`BulkConnection.write_together`, which on
    PostgreSQL sends them in one statement). Reads the bills' charges and open facts in one statement;
    the session's changes must be flushed."""
    if not moved:
        return FactChanges([], [])
    bill_ids = sorted({movement.bill_id for movement in moved})
    charges, settled, open_spans = await _open_facts(session, bill_ids)
    changes: dict[int, list[BillChange]] = defaultdict(list)
    last_day: dict[int, dt.date] = {}
    for movement in moved:
        day = movement.at.astimezone(zone).date()
        last_day[movement.bill_id] = day
        if movement.principal or movement.adjusted:
            changes[movement.bill_id].append(BillChange(day, to_fen(movement.principal), to_fen(movement.adjusted)))
    flows: Flows = {}
    residuals: list[tuple[object, ...]] = []
    residuals_ended: set[tuple[int, str, dt.date]] = set()
    for bill_id in bill_ids:
        now = bills[bill_id]
        bill = FactBill(bill_id, now.period, now.ageing.building_id, now.issued_on, tuple(charges.get(bill_id, ())))
        cash = now.paid - sum(change.cash for change in changes[bill_id])
        adjusted = now.adjusted - sum(change.adjusted for change in changes[bill_id])
        before = settled.get(bill_id)
        bill_flows, closed, after = changed_bill(bill, cash=cash, adjusted=adjusted, settled=before, changes=changes[bill_id])
        for key, (receivable, collected) in bill_flows.items():
            add_flows(flows, key, receivable, collected)
        if before != after or closed:
            # The bill's open residuals give way to those its changes closed and opened.
            if before is not None:
                residuals_ended.update((bill_id, kind, before.day) for kind in before.residual)
            opened = [] if after is None else [ResidualSpan(bill_id, kind, after.day, None, amount) for kind, amount in after.residual.items()]
            for row in (*closed, *opened):
                record = residual_row(row, bill, now.ageing.project_id)
                residuals.append(tuple(record[column] for column in _RESIDUAL_COLUMNS))
    spans, spans_ended = _moved_spans({bill_id: (last_day[bill_id], bills[bill_id].due) for bill_id in bill_ids}, open_spans)
    span_records = [tuple(span_row(span, bills[span[0]].ageing)[column] for column in SPAN_COLUMNS) for span in spans]
    project_id = bills[bill_ids[0]].ageing.project_id
    # Rows rewritten in place are not deleted: one statement's parts must not touch the same row.
    residuals_ended -= {(record[0], record[1], record[2]) for record in residuals}
    spans_ended -= {(span[0], span[1]) for span in spans}
    return FactChanges(
        of_bills=[
            TableRows(_RESIDUALS, _RESIDUAL_KEY, sorted(residuals_ended), delete=True),
            TableRows(_RESIDUALS, _RESIDUAL_COLUMNS, residuals, on_conflict="replace"),
            TableRows(_SPANS, _SPAN_KEY, sorted(spans_ended), delete=True),
            TableRows(_SPANS, SPAN_COLUMNS, span_records, on_conflict="replace"),
        ],
        running_sums=[
            TableRows(
                table,
                columns,
                [(project_id, *key, receivable, collected) for key, (receivable, collected) in sorted(sums.items())],
                on_conflict="add",
            )
            for table, columns, sums in ((_FLOWS, _FLOW_COLUMNS, flows), (_MONTHS, _MONTH_COLUMNS, monthly(flows)))
        ],
    )


_FLOW_COLUMNS = ("project_id", "period", "building_id", "issued_on", "fee_kind", "day", "receivable", "collected")
_MONTH_COLUMNS = ("project_id", "period", "building_id", "issued_on", "fee_kind", "month", "receivable", "collected")
_RESIDUAL_COLUMNS = ("bill_id", "fee_kind", "settled_from", "settled_until", "project_id", "period", "building_id", "issued_on", "amount")
_RESIDUAL_KEY = ("bill_id", "fee_kind", "settled_from")
_SPAN_KEY = ("bill_id", "open_from")


def _among_bills(column: Any, dialect: str) -> ColumnElement[bool]:
    """`column` is one of the bills given as `bill_ids`: on PostgreSQL an array, so that the statement is
    compiled once for any number of bills (a batch names a different number each time)."""
    if dialect == "postgresql":
        return column == any_(bindparam("bill_ids", type_=ARRAY(Integer)))
    return column.in_(bindparam("bill_ids", expanding=True))  # type: ignore[no-any-return]


def _for_each_dialect(statement: Callable[[str], DriverStatement]) -> dict[str, DriverStatement]:
    return {dialect: statement(dialect) for dialect in ("postgresql", "sqlite")}


def _bills_statement(dialect: str) -> DriverStatement:
    bill, unit = Bill.__table__, Unit.__table__
    return DriverStatement(
        select(
            bill.c.id, bill.c.project_id, bill.c.period, unit.c.building_id, bill.c.issued_on, bill.c.unit_id,
            bill.c.party_id, bill.c.due_date, fen(bill.c.principal_paid), fen(bill.c.adjustment_amount),
            fen(bill.c.total_amount) + fen(bill.c.adjustment_amount) + fen(bill.c.late_fee_amount)
            - fen(bill.c.principal_paid) - fen(bill.c.late_fee_paid),
        )
        .join(unit, unit.c.id == bill.c.unit_id)
        .where(_among_bills(bill.c.id, dialect)),
    )


_BILLS_NOW = _for_each_dialect(_bills_statement)


async def _bills_now(session: AsyncSession, bill_ids: Sequence[int]) -> dict[int, BillNow]:
    """Each bill as stored now, as the facts see it."""
    connection = await session.connection()
    statement = _BILLS_NOW[connection.dialect.name]
    bills: dict[int, BillNow] = {}
    for chunk in _chunks(bill_ids):
        rows = await statement.rows(connection, {"bill_ids": list(chunk)})
        for bill_id, project_id, period, building_id, issued_on, unit_id, party_id, due_date, paid, adjusted, due in rows:
            ageing = AgeingBill(project_id, unit_id, building_id, party_id, due_date)
            bills[bill_id] = BillNow(bill_id, period, issued_on, ageing, int(paid), int(adjusted), int(due))
    return bills


_CHARGE, _RESIDUAL, _SPAN = 0, 1, 2


def _open_facts_statement(dialect: str) -> DriverStatement:
    """Each bill's net charge per fee kind (with the position of the first line naming it), its open
    settled residuals and its open arrears span, as rows of one shape: (what, bill, fee kind, since,
    amount, position)."""
    lines, residuals, spans = BillLine.__table__, _RESIDUALS, _SPANS
    open_until = literal(OPEN_UNTIL_FURTHER_NOTICE, Date)
    no_day, no_position = cast(null(), Date), cast(null(), Integer)
    return DriverStatement(
        union_all(
            select(
                literal_column(str(_CHARGE), Integer), lines.c.bill_id, lines.c.rule_code, no_day,
                sum_fen(fen(lines.c.amount)), func.min(lines.c.position),
            )
            .where(_among_bills(lines.c.bill_id, dialect))
            .group_by(lines.c.bill_id, lines.c.rule_code),
            select(
                literal_column(str(_RESIDUAL), Integer), residuals.c.bill_id, residuals.c.fee_kind, residuals.c.settled_from,
                residuals.c.amount, no_position,
            ).where(_among_bills(residuals.c.bill_id, dialect), residuals.c.settled_until == open_until),
            select(
                literal_column(str(_SPAN), Integer), spans.c.bill_id, cast(null(), String), spans.c.open_from, spans.c.balance,
                no_position,
            ).where(_among_bills(spans.c.bill_id, dialect), spans.c.open_until == open_until),
        ),
    )


_OPEN_FACTS = _for_each_dialect(_open_facts_statement)


async def _open_facts(
    session: AsyncSession, bill_ids: Sequence[int]
) -> tuple[dict[int, list[tuple[str, int]]], dict[int, SettledSince], dict[int, tuple[dt.date, int]]]:
    """The bills' charges per fee kind (in the order their lines first name the kinds), open settled
    residuals and open arrears spans (since when, balance)."""
    connection = await session_connection(session)
    charged: list[tuple[int, int, str, int]] = []
    open_since: dict[int, dt.date] = {}
    amounts: dict[int, dict[str, int]] = defaultdict(dict)
    spans: dict[int, tuple[dt.date, int]] = {}
    statement = _OPEN_FACTS[connection.dialect.name]
    for chunk in _chunks(bill_ids):
        for what, bill_id, kind, since, amount, position in await statement.rows(connection, {"bill_ids": list(chunk)}):
            if what == _CHARGE:
                charged.append((bill_id, position, kind, int(amount)))
            elif what == _RESIDUAL:
                open_since[bill_id] = since
                amounts[bill_id][kind] = int(amount)
            else:
                spans[bill_id] = (since, int(amount))
    charges: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for bill_id, _, kind, net in sorted(charged):
        charges[bill_id].append((kind, net))
    settled = {bill_id: SettledSince(since, amounts[bill_id]) for bill_id, since in open_since.items()}
    return charges, settled, spans


def _moved_spans(
    balances: Mapping[int, tuple[dt.date, int]], open_spans: Mapping[int, tuple[dt.date, int]]
) -> tuple[list[tuple[int, dt.date, dt.date, int]], set[tuple[int, dt.date]]]:
    """Each bill's balance is now `balances[bill] = (day, amount due)`: its open span closes on that day
    (dropped when it opened that day), and one opens from then when the bill owes something. The spans
    to write, and the keys of the open spans that end."""
    written: list[tuple[int, dt.date, dt.date, int]] = []
    ended: set[tuple[int, dt.date]] = set()
    for bill_id in sorted(balances):
        day, balance = balances[bill_id]
        current = open_spans.get(bill_id)
        if current is not None and current[1] == balance:
            continue
        if current is not None:
            ended.add((bill_id, current[0]))
            if current[0] < day:
                written.append((bill_id, current[0], day, current[1]))
        if balance != 0:
            written.append((bill_id, day, OPEN_UNTIL_FURTHER_NOTICE, balance))
    return written, ended


def residual_row(row: ResidualSpan, bill: FactBill, project_id: int) -> dict[str, object]:
    return {
        "bill_id": row.bill_id,
        "fee_kind": row.fee_kind,
        "settled_from": row.settled_from,
        "settled_until": row.settled_until or OPEN_UNTIL_FURTHER_NOTICE,
        "project_id": project_id,
        "period": bill.period,
        "building_id": bill.building_id,
        "issued_on": bill.issued_on,
        "amount": row.amount,
    }


async def _add_flows(session: AsyncSession, project_id: int, flows: Flows) -> None:
    """Add `flows` to the stored sums, in key order (two writers adding to the same rows lock them in the
    same order, so they queue rather than deadlock)."""
    if not flows:
        return
    for table, columns, sums in ((_FLOWS, _FLOW_COLUMNS, flows), (_MONTHS, _MONTH_COLUMNS, monthly(flows))):
        insert = dialect_insert(session, table)
        upsert = insert.on_conflict_do_update(
            index_elements=[column.name for column in table.primary_key.columns],
            set_={
                "receivable": table.c.receivable + insert.excluded.receivable,
                "collected": table.c.collected + insert.excluded.collected,
            },
        )
        await session.execute(
            upsert,
            [dict(zip(columns, (project_id, *key, receivable, collected), strict=True)) for key, (receivable, collected) in sorted(sums.items())],
        )


def span_row(span: tuple[int, dt.date, dt.date, int], bill: AgeingBill) -> dict[str, object]:
    bill_id, since, until, balance = span
    return {
        "bill_id": bill_id,
        "open_from": since,
        "open_until": until,
        "project_id": bill.project_id,
        "unit_id": bill.unit_id,
        "building_id": bill.building_id,
        "party_id": bill.party_id,
        "due_date": bill.due_date,
        "balance": balance,
    }


def _charges_statement(which: Any) -> Select[Any]:
    """Each bill's net charge per fee kind, kinds in the order the bill's lines first name them."""
    return (
        select(BillLine.bill_id, BillLine.rule_code, sum_fen(fen(BillLine.amount)))
        .join(Bill, Bill.id == BillLine.bill_id)
        .where(which)
        .group_by(BillLine.bill_id, BillLine.rule_code)
        .order_by(BillLine.bill_id, func.min(BillLine.position))
    )


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for first in range(0, len(ids), _IN_LIST):
        yield ids[first : first + _IN_LIST]


# --- from the books at once ------------------------------------------------------------------------------


def history_statements(project_id: int) -> dict[str, Select[Any]]:
    """What `history_facts` reads of a project's books, as statements any connection (the migration's
    synchronous one, a session) can run."""
    return {
        "bills": select(
            Bill.id, Bill.project_id, Bill.period, Unit.building_id, Bill.issued_on, Bill.unit_id, Bill.party_id, Bill.due_date
        )
        .join(Unit, Unit.id == Bill.unit_id)
        .where(Bill.project_id == project_id),
        "charges": _charges_statement(Bill.project_id == project_id),
        "cash": booked_principal(project_id, true()),
        "receivable": select(
            JournalLine.bill_id, JournalEntry.kind, JournalEntry.occurred_at, sum_fen(fen(JournalLine.debit) - fen(JournalLine.credit))
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.project_id == project_id, JournalLine.account == RECEIVABLE, JournalLine.bill_id.is_not(None))
        .group_by(JournalLine.bill_id, JournalEntry.kind, JournalEntry.occurred_at),
        "zone": select(Project.timezone).where(Project.id == project_id),
    }


def history_facts(rows: Mapping[str, Iterable[Sequence[Any]]]) -> tuple[Facts, dict[int, AgeingBill], dict[int, FactBill]]:
    """The facts of a project's whole books from the rows of `history_statements`."""
    (zone_name,) = next(iter(rows["zone"]))
    zone = ZoneInfo(zone_name)
    charges: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for bill_id, kind, net in rows["charges"]:
        charges[bill_id].append((kind, int(net)))
    bills: dict[int, FactBill] = {}
    ageing: dict[int, AgeingBill] = {}
    for bill_id, project_id, period, building_id, issued_on, unit_id, party_id, due_date in rows["bills"]:
        bills[bill_id] = FactBill(bill_id, period, building_id, _date(issued_on), tuple(charges.get(bill_id, ())))
        ageing[bill_id] = AgeingBill(project_id, unit_id, building_id, party_id, _date(due_date))
    moves: dict[int, list[tuple[dt.datetime, int, int]]] = defaultdict(list)
    for bill_id, at, principal in rows["cash"]:
        if bill_id in bills:
            moves[bill_id].append((_utc(at), int(principal), 0))
    postings: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for bill_id, kind, at, amount in rows["receivable"]:
        postings[bill_id].append((_utc(at), int(amount)))
        if kind == "ADJUSTMENT":
            moves[bill_id].append((_utc(at), 0, int(amount)))
    facts = Facts()
    for bill_id, bill in bills.items():
        add_bill_history(facts, bill, moves[bill_id], postings[bill_id], zone)
    return facts, ageing, bills


def add_bill_history(
    facts: Facts,
    bill: FactBill,
    moves: Iterable[tuple[dt.datetime, int, int]],
    postings: Iterable[tuple[dt.datetime, int]],
    zone: ZoneInfo,
) -> None:
    """Add one bill's facts from its whole history to `facts`: `moves` its (time, principal, adjustment)
    movements, `postings` its receivable postings (time, debit less credit), in fen."""
    history = [BillChange(at.astimezone(zone).date(), cash, adjusted) for at, cash, adjusted in sorted(moves)]
    flows, residuals = bill_history(bill, history)
    for key, (receivable, collected) in flows.items():
        add_flows(facts.flows, key, receivable, collected)
    facts.residuals.extend(residuals)
    balances: dict[dt.date, int] = defaultdict(int)
    for at, amount in postings:
        balances[at.astimezone(zone).date()] += amount
    facts.spans.extend(arrears_spans(bill.bill_id, sorted(balances.items())))


def history_rows(project_id: int, rows: Mapping[str, Iterable[Sequence[Any]]]) -> dict[str, list[dict[str, object]]]:
    """The fact rows of a project's whole books, per table name, from the rows of `history_statements`
    (what the migration that fills the facts inserts)."""
    facts, ageing, bills = history_facts(rows)
    return {
        _FLOWS.name: [
            {
                "project_id": project_id, "period": period, "building_id": building_id, "issued_on": issued_on,
                "fee_kind": kind, "day": day, "receivable": receivable, "collected": collected,
            }
            for (period, building_id, issued_on, kind, day), (receivable, collected) in sorted(facts.flows.items())
        ],
        _RESIDUALS.name: [residual_row(row, bills[row.bill_id], project_id) for row in facts.residuals],
        _SPANS.name: [span_row(span, ageing[span[0]]) for span in facts.spans],
    }


def _utc(value: Any) -> dt.datetime:
    """A time as SQLite or PostgreSQL hands it to a plain connection (text or naive on SQLite), in UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


async def stored_facts(session: AsyncSession, project_id: int) -> Facts:
    """The project's fact rows as stored, in the shape `history_facts` answers (zero flows left out)."""
    facts = Facts()
    for period, building_id, issued_on, kind, day, receivable, collected in await session.execute(
        select(
            CollectionFlow.period, CollectionFlow.building_id, CollectionFlow.issued_on, CollectionFlow.fee_kind,
            CollectionFlow.day, CollectionFlow.receivable, CollectionFlow.collected,
        ).where(CollectionFlow.project_id == project_id)
    ):
        add_flows(facts.flows, (period, building_id, issued_on, kind, day), int(receivable), int(collected))
    for bill_id, kind, since, until, amount in await session.execute(
        select(
            SettledResidual.bill_id, SettledResidual.fee_kind, SettledResidual.settled_from, SettledResidual.settled_until,
            SettledResidual.amount,
        ).where(SettledResidual.project_id == project_id)
    ):
        facts.residuals.append(
            ResidualSpan(bill_id, kind, since, None if until == OPEN_UNTIL_FURTHER_NOTICE else until, int(amount))
        )
    facts.spans.extend(
        (bill_id, since, until, int(balance))
        for bill_id, since, until, balance in await session.execute(
            select(ArrearsSpan.bill_id, ArrearsSpan.open_from, ArrearsSpan.open_until, ArrearsSpan.balance).where(
                ArrearsSpan.project_id == project_id
            )
        )
    )
    return facts


async def _stored_months(session: AsyncSession, project_id: int) -> Flows:
    months: Flows = {}
    for period, building_id, issued_on, kind, month, receivable, collected in await session.execute(
        select(
            CollectionFlowMonth.period, CollectionFlowMonth.building_id, CollectionFlowMonth.issued_on,
            CollectionFlowMonth.fee_kind, CollectionFlowMonth.month, CollectionFlowMonth.receivable, CollectionFlowMonth.collected,
        ).where(CollectionFlowMonth.project_id == project_id)
    ):
        add_flows(months, (period, building_id, issued_on, kind, month), int(receivable), int(collected))
    return months


async def facts_discrepancies(session: AsyncSession, project_id: int) -> list[str]:
    """How the project's stored facts differ from the facts of its books (none: they agree)."""
    statements = history_statements(project_id)
    rows = {name: (await session.execute(statement)).all() for name, statement in statements.items()}
    expected, _, _ = history_facts(rows)
    stored = await stored_facts(session, project_id)
    problems: list[str] = []
    wanted_flows = _without_zeros(expected.flows)
    kept_flows = _without_zeros(stored.flows)
    for key in sorted(wanted_flows.keys() | kept_flows.keys()):
        if wanted_flows.get(key) != kept_flows.get(key):
            problems.append(f"collection flow {key}: books {wanted_flows.get(key)}, stored {kept_flows.get(key)}")
    wanted_months = _without_zeros(monthly(expected.flows))
    kept_months = _without_zeros(await _stored_months(session, project_id))
    for key in sorted(wanted_months.keys() | kept_months.keys()):
        if wanted_months.get(key) != kept_months.get(key):
            problems.append(f"collection flow month {key}: books {wanted_months.get(key)}, stored {kept_months.get(key)}")
    for name, wanted, kept in (
        ("settled residual", expected.residuals, stored.residuals),
        ("arrears span", _merged(expected.spans), _merged(stored.spans)),
    ):
        for row in sorted(set(wanted) ^ set(kept), key=str):
            problems.append(f"{name} {row}: {'missing' if row in wanted else 'not in the books'}")
    return problems


def _merged(spans: Iterable[tuple[int, dt.date, dt.date, int]]) -> list[tuple[int, dt.date, dt.date, int]]:
    """Spans with one after another of the same bill and balance made one: a bill whose balance changed and
    changed back on one day (a payment reversed the day it came) keeps its balance on every day."""
    merged: list[tuple[int, dt.date, dt.date, int]] = []
    for span in sorted(spans):
        if merged and merged[-1][0] == span[0] and merged[-1][2] == span[1] and merged[-1][3] == span[3]:
            merged[-1] = (span[0], merged[-1][1], span[2], span[3])
        else:
            merged.append(span)
    return merged


def _without_zeros(flows: Flows) -> dict[tuple[Any, ...], tuple[int, int]]:
    """Flows that add nothing, left out: a row whose movements cancelled out stays stored at zero, and the
    report shows no line whose figures are all zero."""
    return {key: (receivable, collected) for key, (receivable, collected) in flows.items() if receivable or collected}
