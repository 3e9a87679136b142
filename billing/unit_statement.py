"""A unit's statement: its account from the journal, every change of what it owes with the running
balance, described in the project's language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import CompoundSelect, String, bindparam, literal, null, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import texts
from billing.balance_sql import fen
from billing.ledger import PREPAID_CREDIT, RECEIVABLE
from billing.policy import may_see_unit_billing
from db.batch_reads import plain_reader
from db.driver import DriverStatement, connection_for_reads
from db.models import Bill, JournalEntry, JournalLine, Payment, Project, Unit
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import Locale

__all__ = ["StatementEntry", "UnitStatement", "get_unit_statement", "statement_entries"]


class StatementEntry(NamedTuple):
    """One event that changed what a unit owes; `amount` > 0 raises the balance, < 0 lowers it."""

    occurred_at: dt.datetime
    kind: str
    description: str
    amount: Decimal
    balance: Decimal
    bill_ids: tuple[int, ...]
    payment_ids: tuple[int, ...]


@dataclass(frozen=True)
class UnitStatement:
    unit: Any  # a plain row of the unit's columns, its building in `building`
    entries: tuple[StatementEntry, ...]
    amount_owed: Decimal
    prepaid_credit: Decimal

    @property
    def balance(self) -> Decimal:
        """What the unit owes net of its prepaid credit (negative: the unit is in credit)."""
        return self.amount_owed - self.prepaid_credit


# One journal line of the unit, as `statement_entries` folds them: the entry's id, time and kind, the
# line's account, debit and credit in fen, its bill and payment, the bill's period, the payment's channel.
StatementLine = tuple[int, dt.datetime, str, str, int, int, int | None, int | None, str | None, str | None]


def statement_entries(lines: Iterable[StatementLine], locale: Locale) -> tuple[list[StatementEntry], int, int]:
    """The unit's journal lines on its receivable and prepaid-credit accounts (in journal order, an
    entry's lines together) as statement entries, with what it owes and its prepaid credit after them,
    in fen. An entry that leaves the balance where it was (credit moved onto a bill) is no entry of the
    statement; its lines still move the two amounts."""
    entries: list[StatementEntry] = []
    owed = credit = net = 0
    current: int | None = None
    at: dt.datetime | None = None
    kind = ""
    bills: list[int] = []
    payments: list[int] = []
    periods: list[str | None] = []
    channels: list[str | None] = []

    def close() -> None:
        entries.append(
            StatementEntry(
                at,  # type: ignore[arg-type]
                kind,
                _description(kind, net > 0, _distinct(periods), _distinct(channels), locale),  # type: ignore[arg-type]
                Decimal(net).scaleb(-2),
                Decimal(owed - credit).scaleb(-2),
                _distinct(bills),
                _distinct(payments),
            )
        )

    for entry_id, occurred_at, entry_kind, account, debit, credit_side, bill_id, payment_id, period, channel in lines:
        if entry_id != current:
            if net:
                close()
            current, at, kind, net = entry_id, occurred_at, entry_kind, 0
            bills, payments, periods, channels = [], [], [], []
        change = debit - credit_side
        net += change
        if account == RECEIVABLE:
            owed += change
        else:
            credit -= change
        if bill_id is not None:
            bills.append(bill_id)
            periods.append(period)
        if payment_id is not None:
            payments.append(payment_id)
            channels.append(channel)
    if net:
        close()
    return entries, owed, credit


def _distinct(values: list[Any]) -> tuple[Any, ...]:
    """The values once each, in order. Most entries name one bill or payment, or none: those need no set
    and no sort (a third of a statement's folding)."""
    return tuple(values) if len(values) < 2 else tuple(sorted(set(values)))


@lru_cache(maxsize=4096)
def _description(kind: str, raises_balance: bool, periods: tuple[str, ...], channels: tuple[str, ...], locale: Locale) -> str:
    """`texts.statement_entry`, kept once worked out: it depends on nothing else, and a unit's
    statement repeats a few kinds of entries (every payment on a channel reads alike)."""
    return texts.statement_entry(kind, raises_balance=raises_balance, periods=periods, channels=channels, locale=locale)


_UNIT_AND_BUILDING, _unit_of = plain_reader(Unit, (Unit.building,))


def _journal_lines() -> list[Any]:
    """The columns of a `StatementLine`. The bill's period and the payment's channel come by their primary
    keys, one look-up per line that has one: as outer joins, PostgreSQL hashed every bill and payment of
    the database for a unit's sixty lines."""
    period = select(Bill.period).where(Bill.id == JournalLine.bill_id).scalar_subquery()
    channel = select(type_coerce(Payment.channel, String)).where(Payment.id == JournalLine.payment_id).scalar_subquery()
    return [
        JournalEntry.id.label("entry_id"),
        JournalEntry.occurred_at.label("occurred_at"),
        JournalEntry.kind.label("entry_kind"),
        JournalLine.account.label("account"),
        fen(JournalLine.debit).label("debit"),
        fen(JournalLine.credit).label("credit"),
        JournalLine.bill_id.label("bill_id"),
        JournalLine.payment_id.label("payment_id"),
        period.label("period"),
        channel.label("channel"),
        JournalLine.line_no.label("line_no"),
    ]


def _nulls_like(columns: list[Any]) -> list[Any]:
    return [type_coerce(null(), column.type).label(column.name) for column in columns]


def _statement_select() -> CompoundSelect:
    """Part 0: the unit with its building and its project's language; part 1: its journal lines on the
    receivable and prepaid-credit accounts, in journal order. One statement: a round trip and a pooled
    connection fewer than two."""
    unit_columns = [*_UNIT_AND_BUILDING.selected_columns, Project.locale.label("locale")]
    line_columns = _journal_lines()
    unit = (
        _UNIT_AND_BUILDING.add_columns(Project.locale.label("locale"), *_nulls_like(line_columns))
        .add_columns(literal(0).label("part"))
        .join(Project, Unit.project_id == Project.id)
        .where(Unit.id == bindparam("unit_id"))
    )
    lines = (
        select(*_nulls_like(unit_columns), *line_columns, literal(1).label("part"))
        .select_from(JournalLine)
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .where(JournalLine.unit_id == bindparam("unit_id"), JournalLine.account.in_(bindparam("accounts", expanding=True)))
    )
    union = union_all(unit, lines)
    columns = union.selected_columns
    return union.order_by(columns.part, columns.occurred_at, columns.entry_id, columns.line_no)


# Built once: a statement is read on every visit of a unit's account page, and building it cost more
# than running it.
_STATEMENT = DriverStatement(_statement_select())
_UNIT_WIDTH = len(_UNIT_AND_BUILDING.selected_columns)
_STATEMENT_ACCOUNTS = [RECEIVABLE, PREPAID_CREDIT]


async def get_unit_statement(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, unit_id: int
) -> UnitStatement:
    """The unit's account from the journal: every bill, late fee, adjustment, payment, refund and
    reversal, in order, with the running balance (receivable minus prepaid credit), each described in the
    project's language. The unit comes as a plain row with its building (what a statement's heading
    shows; `db.batch_reads.plain_row_of`). Its reads need no transaction: each is one statement."""
    async with connection_for_reads(session_factory) as connection:
        rows = await _STATEMENT.rows(connection, {"unit_id": unit_id, "accounts": _STATEMENT_ACCOUNTS})
    # The unit's row comes first when there is one; a unit the caller may not see gives away nothing.
    unit = _unit_of(rows[0][:_UNIT_WIDTH]) if rows and rows[0][-1] == 0 else None
    if unit is None or not may_see_unit_billing(principal, project_id=unit.project_id, unit_id=unit_id):
        raise NotFound("No such unit.", field="unitId")
    lines = [row[_UNIT_WIDTH + 1 : -2] for row in rows[1:]]
    entries, owed, credit = statement_entries(lines, rows[0][_UNIT_WIDTH])
    return UnitStatement(
        unit=unit,
        entries=tuple(entries),
        amount_owed=Decimal(owed).scaleb(-2),
        prepaid_credit=Decimal(credit).scaleb(-2),
    )
