"""Keeping the reports' facts (`db.models.reports`) in step with the money, in the writer's transaction.

Every writer of a bill's money goes through here: a bill run (`issue_facts` beside its bulk rows and
`add_issue_flows` once it has priced every batch, then `record_bill_changes` for the prepaid credit it
applies), payments, batches, the demo and reconciliation
(`billing.booking.book_payments`), reversals (`billing.refunds`) and adjustments
(`billing.adjustments`). They call `record_bill_changes` after the bills' rows hold their new figures,
naming each bill they moved, when, and by how much principal and adjustment (late fees move the
receivable balance only, which is read from the bill row).

- `CollectionFlow`, `SettledResidual`: the collection rate's (`billing.reports.collection_facts` says
  what they hold and why they suffice).
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import amount_due_fen, fen
from billing.bulk import dialect_insert
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
from db.models import (
    OPEN_UNTIL_FURTHER_NOTICE,
    ArrearsSpan,
    Bill,
    BillLine,
    CollectionFlow,
    JournalEntry,
    JournalLine,
    Project,
    SettledResidual,
    Unit,
)

__all__ = [
    "AgeingBill",
    "BillMoved",
    "Facts",
    "add_bill_history",
    "arrears_spans",
    "facts_discrepancies",
    "history_facts",
    "history_rows",
    "history_statements",
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
    bill_ids = sorted({movement.bill_id for movement in moved})
    bills, ageing, now = await _bills_as_stored(session, bill_ids)
    changes: dict[int, list[BillChange]] = defaultdict(list)
    last_day: dict[int, dt.date] = {}
    for movement in moved:
        day = movement.at.astimezone(zone).date()
        last_day[movement.bill_id] = day
        if movement.principal or movement.adjusted:
            changes[movement.bill_id].append(BillChange(day, to_fen(movement.principal), to_fen(movement.adjusted)))
    settled = await _open_residuals(session, bill_ids)
    flows: Flows = {}
    residual_rows: list[ResidualSpan] = []
    residual_bills: list[int] = []
    for bill_id in bill_ids:
        bill, (cash_now, adjusted_now, _) = bills[bill_id], now[bill_id]
        cash = cash_now - sum(change.cash for change in changes[bill_id])
        adjusted = adjusted_now - sum(change.adjusted for change in changes[bill_id])
        before = settled.get(bill_id)
        bill_flows, closed, after = changed_bill(bill, cash=cash, adjusted=adjusted, settled=before, changes=changes[bill_id])
        for key, (receivable, collected) in bill_flows.items():
            add_flows(flows, key, receivable, collected)
        if before != after or closed:
            residual_bills.append(bill_id)
            residual_rows.extend(closed)
            if after is not None:
                residual_rows.extend(
                    ResidualSpan(bill_id, kind, after.day, None, amount) for kind, amount in after.residual.items()
                )
    await _add_flows(session, project_id, flows)
    await _replace_open_residuals(session, residual_bills, residual_rows, bills)
    await _move_spans(session, {bill_id: (last_day[bill_id], now[bill_id][2]) for bill_id in bill_ids}, ageing)


async def _bills_as_stored(
    session: AsyncSession, bill_ids: Sequence[int]
) -> tuple[dict[int, FactBill], dict[int, AgeingBill], dict[int, tuple[int, int, int]]]:
    """Each bill as the facts see it, its ageing attributes, and its (principal paid, adjustments, amount
    due) as stored now."""
    bills: dict[int, FactBill] = {}
    ageing: dict[int, AgeingBill] = {}
    now: dict[int, tuple[int, int, int]] = {}
    for chunk in _chunks(bill_ids):
        charges = await _charges(session, Bill.id.in_(chunk))
        rows = await session.execute(
            select(
                Bill.id, Bill.project_id, Bill.period, Unit.building_id, Bill.issued_on, Bill.unit_id, Bill.party_id,
                Bill.due_date, fen(Bill.principal_paid), fen(Bill.adjustment_amount), amount_due_fen(),
            )
            .join(Unit, Unit.id == Bill.unit_id)
            .where(Bill.id.in_(chunk))
        )
        for bill_id, project_id, period, building_id, issued_on, unit_id, party_id, due_date, paid, adjusted, due in rows:
            bills[bill_id] = FactBill(bill_id, period, building_id, issued_on, tuple(charges.get(bill_id, ())))
            ageing[bill_id] = AgeingBill(project_id, unit_id, building_id, party_id, due_date)
            now[bill_id] = (int(paid), int(adjusted), int(due))
    return bills, ageing, now


async def _charges(session: AsyncSession, which: Any) -> dict[int, list[tuple[str, int]]]:
    rows = await session.execute(_charges_statement(which))
    charges: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for bill_id, kind, net in rows:
        charges[bill_id].append((kind, int(net)))
    return charges


def _charges_statement(which: Any) -> Select[Any]:
    """Each bill's net charge per fee kind, kinds in the order the bill's lines first name them."""
    return (
        select(BillLine.bill_id, BillLine.rule_code, sum_fen(fen(BillLine.amount)))
        .join(Bill, Bill.id == BillLine.bill_id)
        .where(which)
        .group_by(BillLine.bill_id, BillLine.rule_code)
        .order_by(BillLine.bill_id, func.min(BillLine.position))
    )


async def _open_residuals(session: AsyncSession, bill_ids: Sequence[int]) -> dict[int, SettledSince]:
    open_since: dict[int, dt.date] = {}
    amounts: dict[int, dict[str, int]] = defaultdict(dict)
    for chunk in _chunks(bill_ids):
        rows = await session.execute(
            select(SettledResidual.bill_id, SettledResidual.fee_kind, SettledResidual.settled_from, SettledResidual.amount).where(
                SettledResidual.bill_id.in_(chunk), SettledResidual.settled_until == OPEN_UNTIL_FURTHER_NOTICE
            )
        )
        for bill_id, kind, since, amount in rows:
            open_since[bill_id] = since
            amounts[bill_id][kind] = int(amount)
    return {bill_id: SettledSince(since, amounts[bill_id]) for bill_id, since in open_since.items()}


async def _replace_open_residuals(
    session: AsyncSession, bill_ids: Sequence[int], rows: Sequence[ResidualSpan], bills: Mapping[int, FactBill]
) -> None:
    """Swap the bills' open residuals for `rows` (the spans their changes closed and the ones they opened)."""
    for chunk in _chunks(bill_ids):
        await session.execute(
            delete(SettledResidual).where(
                SettledResidual.bill_id.in_(chunk), SettledResidual.settled_until == OPEN_UNTIL_FURTHER_NOTICE
            )
        )
    project_of = await _project_of(session, bill_ids)
    await _insert_residuals(session, rows, bills, project_of)


async def _project_of(session: AsyncSession, bill_ids: Sequence[int]) -> dict[int, int]:
    project_of: dict[int, int] = {}
    for chunk in _chunks(bill_ids):
        project_of.update(dict((await session.execute(select(Bill.id, Bill.project_id).where(Bill.id.in_(chunk)))).all()))
    return project_of


async def _insert_residuals(
    session: AsyncSession, rows: Sequence[ResidualSpan], bills: Mapping[int, FactBill], project_of: Mapping[int, int]
) -> None:
    if rows:
        await session.execute(
            _RESIDUALS.insert(), [residual_row(row, bills[row.bill_id], project_of[row.bill_id]) for row in rows]
        )


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
    insert = dialect_insert(session, _FLOWS)
    upsert = insert.on_conflict_do_update(
        index_elements=[column.name for column in _FLOWS.primary_key.columns],
        set_={
            "receivable": _FLOWS.c.receivable + insert.excluded.receivable,
            "collected": _FLOWS.c.collected + insert.excluded.collected,
        },
    )
    await session.execute(
        upsert,
        [
            {
                "project_id": project_id,
                "period": period,
                "building_id": building_id,
                "issued_on": issued_on,
                "fee_kind": kind,
                "day": day,
                "receivable": receivable,
                "collected": collected,
            }
            for (period, building_id, issued_on, kind, day), (receivable, collected) in sorted(flows.items())
        ],
    )


async def _move_spans(
    session: AsyncSession, balances: Mapping[int, tuple[dt.date, int]], ageing: Mapping[int, AgeingBill]
) -> None:
    """Each bill's balance is now `balances[bill] = (day, amount due)`: close its open span on that day
    (dropping it when it opened that day), and open one from then when the bill owes something."""
    bill_ids = sorted(balances)
    open_spans: dict[int, tuple[dt.date, int]] = {}
    for chunk in _chunks(bill_ids):
        rows = await session.execute(
            select(ArrearsSpan.bill_id, ArrearsSpan.open_from, ArrearsSpan.balance).where(
                ArrearsSpan.bill_id.in_(chunk), ArrearsSpan.open_until == OPEN_UNTIL_FURTHER_NOTICE
            )
        )
        open_spans.update({bill_id: (since, int(balance)) for bill_id, since, balance in rows})
    closing: list[int] = []
    written: list[tuple[int, dt.date, dt.date, int]] = []
    for bill_id in bill_ids:
        day, balance = balances[bill_id]
        current = open_spans.get(bill_id)
        if current is not None and current[1] == balance:
            continue
        if current is not None:
            closing.append(bill_id)
            if current[0] < day:
                written.append((bill_id, current[0], day, current[1]))
        if balance != 0:
            written.append((bill_id, day, OPEN_UNTIL_FURTHER_NOTICE, balance))
    for chunk in _chunks(closing):
        await session.execute(
            delete(ArrearsSpan).where(ArrearsSpan.bill_id.in_(chunk), ArrearsSpan.open_until == OPEN_UNTIL_FURTHER_NOTICE)
        )
    await _insert_spans(session, written, ageing)


async def _insert_spans(
    session: AsyncSession, spans: Sequence[tuple[int, dt.date, dt.date, int]], ageing: Mapping[int, AgeingBill]
) -> None:
    if spans:
        await session.execute(_SPANS.insert(), [span_row(span, ageing[span[0]]) for span in spans])


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
