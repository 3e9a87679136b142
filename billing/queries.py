"""Read-side use cases of billing: bills and payments with filters, runs with their totals, a unit's
statement, the late fee a bill would be charged today."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import texts
from billing.balance_sql import amount_billed_fen, amount_paid_fen, fen, is_overdue_sql
from billing.guards import get_project
from billing.ledger import PREPAID_CREDIT, RECEIVABLE
from billing.policy import (
    may_manage_charges,
    may_see_unit_billing,
    unit_billing_viewer,
    visible_unit_billing,
)
from db.batch_reads import plain_reader
from db.conditions import given_values
from db.driver import DriverStatement, connection_for_reads
from db.models import (
    Bill,
    BillRun,
    BillStatus,
    JournalEntry,
    JournalLine,
    Payment,
    Project,
    Unit,
)
from db.pages import KeysetPage, parametrized_keyset_page
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import Locale

__all__ = [
    "BillFilterSpec",
    "BillStatusFilter",
    "PaymentFilterSpec",
    "StatementEntry",
    "UnitStatement",
    "get_run_summary",
    "get_unit_statement",
    "list_bill_runs",
    "list_bills",
    "list_payments",
]

_ZERO = Decimal("0.00")
Listed = TypeVar("Listed", Bill, Payment)


class BillStatusFilter(str, enum.Enum):
    OPEN = "OPEN"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    OVERDUE = "OVERDUE"


@dataclass(frozen=True)
class BillFilterSpec:
    project_id: int | None = None
    status: BillStatusFilter | None = None
    period: str | None = None
    building_id: int | None = None
    unit_id: int | None = None
    party_id: int | None = None


@dataclass(frozen=True)
class PaymentFilterSpec:
    project_id: int | None = None
    unit_id: int | None = None


async def list_bills(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    spec: BillFilterSpec,
    today: dt.date,
    limit: int,
    after_id: int | None,
    with_units: bool = False,
) -> KeysetPage[Bill]:
    """One page of the bills the caller may see, oldest first, as plain rows of every column (with
    `with_units`, each bill's unit and its building in the field `unit`, read by the same statement), and
    how many match in all."""
    filters: dict[str, Any] = {
        "project_id": spec.project_id,
        "period": spec.period,
        "unit_id": spec.unit_id,
        "party_id": spec.party_id,
        "building_id": spec.building_id,
    }
    if spec.status == BillStatusFilter.OVERDUE:
        filters["today"] = today
    elif spec.status is not None:
        filters["status"] = BillStatus(spec.status.value)
    # Plain rows: the list's readers (`BillType`, the bill loader they are primed into) read columns only.
    joined = (Bill.unit, Unit.building) if with_units else ()
    return await _visible_page(session_factory, principal, Bill, _BILL_FILTERS, filters, limit=limit, after_id=after_id, joined=joined)


# Each filter of a list of bills, its value a parameter of its name.
_BILL_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "project_id": lambda: Bill.project_id == bindparam("project_id"),
    "period": lambda: Bill.period == bindparam("period"),
    "unit_id": lambda: Bill.unit_id == bindparam("unit_id"),
    "party_id": lambda: Bill.party_id == bindparam("party_id"),
    "building_id": lambda: Bill.unit_id.in_(select(Unit.id).where(Unit.building_id == bindparam("building_id"))),
    "today": lambda: is_overdue_sql(bindparam("today")),
    "status": lambda: Bill.status == bindparam("status"),
}


async def list_payments(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    spec: PaymentFilterSpec,
    limit: int,
    after_id: int | None,
    with_units: bool = False,
) -> KeysetPage[Payment]:
    """One page of the payments the caller may see, oldest first, each with its receipt, as plain rows of
    every column (the receipt's in the field `receipt`; with `with_units`, the unit and its building in
    `unit`), and how many match in all."""
    filters = {"project_id": spec.project_id, "unit_id": spec.unit_id}
    # Plain rows: the list's readers (`PaymentType`, `ReceiptType`) read columns only.
    joined = (Payment.receipt, *((Payment.unit, Unit.building) if with_units else ()))
    return await _visible_page(
        session_factory, principal, Payment, _PAYMENT_FILTERS, filters, limit=limit, after_id=after_id, joined=joined
    )


_PAYMENT_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "project_id": lambda: Payment.project_id == bindparam("project_id"),
    "unit_id": lambda: Payment.unit_id == bindparam("unit_id"),
}


async def _visible_page(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    model: Any,
    conditions_by_filter: dict[str, Callable[[], ColumnElement[bool]]],
    filters: dict[str, Any],
    *,
    limit: int,
    after_id: int | None,
    joined: tuple[Any, ...],
) -> KeysetPage[Any]:
    """One page of `model`'s rows (a bill or a payment: a project's and a unit's) that the caller may see
    under `visible_unit_billing` and the filters given a value, oldest first. The statement is the same
    for every value: one per set of filters given and of the caller's ids that hold any, built once."""
    given = {name: value for name, value in filters.items() if value is not None}
    viewer = unit_billing_viewer(principal)
    viewer_given = given_values(viewer)
    return await parametrized_keyset_page(
        session_factory,
        model,
        shape=(tuple(given), viewer_given),
        conditions=lambda dialect: [
            visible_unit_billing(dialect, viewer_given, project_column=model.project_id, unit_column=model.unit_id),
            *(conditions_by_filter[name]() for name in given),
        ],
        values={**viewer, **given},
        limit=limit,
        beyond_id=after_id,
        joined=joined,
    )


async def list_bill_runs(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> Sequence[BillRun]:
    """The project's runs, newest period first."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_manage_charges)
        return (
            await session.scalars(select(BillRun).where(BillRun.project_id == project_id).order_by(BillRun.period.desc()))
        ).all()


async def get_run_summary(
    session_factory: async_sessionmaker[AsyncSession], *, run_id: int, today: dt.date
) -> dict[str, object]:
    """Counts per status and the amounts billed, paid and outstanding of one run's bills."""
    async with session_factory() as session:
        rows = await session.execute(
            select(
                Bill.status,
                func.count(),
                type_coerce(func.sum(amount_billed_fen()), BigInteger),
                type_coerce(func.sum(amount_paid_fen()), BigInteger),
            )
            .where(Bill.run_id == run_id)
            .group_by(Bill.status)
        )
        counts = {status: 0 for status in BillStatus}
        billed_fen = paid_fen = 0
        for status, count, billed_sum, paid_sum in rows:
            counts[status] = int(count)
            billed_fen += int(billed_sum or 0)
            paid_fen += int(paid_sum or 0)
        overdue = await session.scalar(
            select(func.count()).select_from(Bill).where(Bill.run_id == run_id, is_overdue_sql(today))
        )
        return {
            "open_count": counts[BillStatus.OPEN],
            "partially_paid_count": counts[BillStatus.PARTIALLY_PAID],
            "paid_count": counts[BillStatus.PAID],
            "overdue_count": int(overdue or 0),
            "amount_billed": Decimal(billed_fen).scaleb(-2),
            "amount_paid": Decimal(paid_fen).scaleb(-2),
            "amount_outstanding": Decimal(billed_fen - paid_fen).scaleb(-2),
        }


@dataclass(frozen=True)
class StatementEntry:
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


@dataclass
class _OpenEntry:
    """A journal entry being summed up while its lines are read."""

    entry_id: int
    occurred_at: dt.datetime
    kind: str
    net: int = 0
    bills: set[int] = field(default_factory=set)
    payments: set[int] = field(default_factory=set)
    periods: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)

    def close(self, balance_fen: int, locale: Locale) -> StatementEntry:
        return StatementEntry(
            occurred_at=self.occurred_at,
            kind=self.kind,
            description=texts.statement_entry(
                self.kind, raises_balance=self.net > 0, periods=self.periods, channels=self.channels, locale=locale
            ),
            amount=Decimal(self.net).scaleb(-2),
            balance=Decimal(balance_fen).scaleb(-2),
            bill_ids=tuple(sorted(self.bills)),
            payment_ids=tuple(sorted(self.payments)),
        )


_UNIT_AND_BUILDING, _unit_of = plain_reader(Unit, (Unit.building,))


def _statement_unit_select() -> Select[Any]:
    return (
        _UNIT_AND_BUILDING.add_columns(Project.locale)
        .join(Project, Unit.project_id == Project.id)
        .where(Unit.id == bindparam("unit_id"))
    )


def _statement_lines_select() -> Select[Any]:
    return (
        select(
            JournalEntry.id,
            JournalEntry.occurred_at,
            JournalEntry.kind,
            JournalLine.account,
            fen(JournalLine.debit),
            fen(JournalLine.credit),
            JournalLine.bill_id,
            JournalLine.payment_id,
            Bill.period,
            Payment.channel,
        )
        .join(JournalEntry, JournalLine.entry_id == JournalEntry.id)
        .outerjoin(Bill, JournalLine.bill_id == Bill.id)
        .outerjoin(Payment, JournalLine.payment_id == Payment.id)
        .where(JournalLine.unit_id == bindparam("unit_id"), JournalLine.account.in_(bindparam("accounts", expanding=True)))
        .order_by(JournalEntry.occurred_at, JournalEntry.id, JournalLine.line_no)
    )


# Built once: a statement is read on every visit of a unit's account page, and building these two
# selects cost more than running them.
_STATEMENT_UNIT = DriverStatement(_statement_unit_select())
_STATEMENT_LINES = DriverStatement(_statement_lines_select())
_STATEMENT_ACCOUNTS = [RECEIVABLE, PREPAID_CREDIT]


async def get_unit_statement(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, unit_id: int
) -> UnitStatement:
    """The unit's account from the journal: every bill, late fee, adjustment, payment, refund and
    reversal, in order, with the running balance (receivable minus prepaid credit), each described in the
    project's language. The unit comes as a plain row with its building (what a statement's heading
    shows; `db.batch_reads.plain_row_of`). Its reads need no transaction: each is one statement."""
    async with connection_for_reads(session_factory) as connection:
        found = await _STATEMENT_UNIT.rows(connection, {"unit_id": unit_id})
        unit = _unit_of(found[0][:-1]) if found else None
        if unit is None or not may_see_unit_billing(principal, project_id=unit.project_id, unit_id=unit_id):
            raise NotFound("No such unit.", field="unitId")
        locale = found[0][-1]
        rows = await _STATEMENT_LINES.rows(connection, {"unit_id": unit_id, "accounts": _STATEMENT_ACCOUNTS})
        entries: list[StatementEntry] = []
        owed = credit = 0
        current: _OpenEntry | None = None
        for entry_id, at, kind, account, debit, credit_side, bill_id, payment_id, period, channel in rows:
            if current is None or current.entry_id != entry_id:
                if current is not None and current.net:
                    entries.append(current.close(owed - credit, locale))
                current = _OpenEntry(entry_id, at, kind)
            change = int(debit) - int(credit_side)
            if account == RECEIVABLE:
                owed += change
            else:
                credit -= change
            current.net += change
            if bill_id is not None:
                current.bills.add(bill_id)
                current.periods.add(period)
            if payment_id is not None:
                current.payments.add(payment_id)
                current.channels.add(channel.value)
        if current is not None and current.net:
            entries.append(current.close(owed - credit, locale))
        return UnitStatement(
            unit=unit,
            entries=tuple(entries),
            amount_owed=Decimal(owed).scaleb(-2),
            prepaid_credit=Decimal(credit).scaleb(-2),
        )
