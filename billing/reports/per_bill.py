"""The collection rate and the arrears ageing read bill by bill, for the pure cores alone: every bill of
the periods with its net charges, every allocation and adjustment with the time the journal booked it
(`collection.collection_report`), and every bill's receivable postings up to the cut-off
(`reading.receivable_balances_sql`, `ageing.arrears_ageing`).

This is how the reports were read before the database summed them (`reading.read_collection_rate`,
`reading.read_arrears_ageing`). It stays as the reference those readings are tested against on both
databases, and as the "per bill" figures of `benchmarks/reports.py`. It asks no policy: its callers are a
test and a benchmark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import fen
from billing.journal import sum_fen
from billing.ledger import RECEIVABLE
from billing.model import BillingPeriod
from billing.money import from_fen
from billing.reports.ageing import AgeingReport, OpenBill, arrears_ageing
from billing.reports.collection import (
    BillMovement,
    ChargedBill,
    CollectionReport,
    FeeCharge,
    collection_report,
    day_end,
)
from billing.reports.collection_sql import booked_principal
from billing.reports.reading import receivable_balances_sql
from db.models import Bill, BillLine, JournalEntry, JournalLine, Unit

__all__ = ["ageing_per_bill", "collection_per_bill"]


async def collection_per_bill(
    session: AsyncSession,
    *,
    project_id: int,
    periods: Sequence[BillingPeriod],
    as_of: dt.date,
    zone: ZoneInfo,
) -> CollectionReport:
    """The collection report of `periods` as of the end of `as_of`, every bill up to the last period read into Python."""
    cutoff = day_end(as_of, zone)
    return collection_report(
        await _charged_bills(session, project_id, last_period=periods[-1].label, as_of=as_of),
        await _principal_cash(session, project_id, cutoff),
        await _adjustments(session, project_id, cutoff),
        periods=periods,
        as_of=as_of,
        zone=zone,
    )


def _known_bills(project_id: int, *, last_period: str, as_of: dt.date) -> Select[tuple[int]]:
    return select(Bill.id).where(
        Bill.project_id == project_id,
        Bill.period <= last_period,
        Bill.issued_on <= as_of,
    )


async def _charged_bills(
    session: AsyncSession, project_id: int, *, last_period: str, as_of: dt.date
) -> list[ChargedBill]:
    """The bills issued by `as_of` of periods up to `last_period`, with their net charge per rule code in
    the order of their lines: one grouped statement."""
    first_line = func.min(BillLine.position)
    rows = await session.execute(
        select(
            Bill.id,
            Bill.period,
            Unit.building_id,
            Bill.issued_on,
            BillLine.rule_code,
            sum_fen(fen(BillLine.amount)),
        )
        .join(Unit, Unit.id == Bill.unit_id)
        .join(BillLine, BillLine.bill_id == Bill.id)
        .where(Bill.id.in_(_known_bills(project_id, last_period=last_period, as_of=as_of)))
        .group_by(Bill.id, Bill.period, Unit.building_id, Bill.issued_on, BillLine.rule_code)
        .order_by(Bill.id, first_line)
    )
    bills: list[ChargedBill] = []
    charges: list[FeeCharge] = []
    current: tuple[int, str, int, dt.date] | None = None
    for bill_id, period, building_id, issued_on, rule_code, net in rows:
        if current is not None and current[0] != bill_id:
            bills.append(ChargedBill(*current, charges=tuple(charges)))
            charges = []
        current = (bill_id, period, building_id, issued_on)
        charges.append(FeeCharge(rule_code, from_fen(int(net))))
    if current is not None:
        bills.append(ChargedBill(*current, charges=tuple(charges)))
    return bills


async def _principal_cash(session: AsyncSession, project_id: int, cutoff: dt.datetime) -> list[BillMovement]:
    """The principal each allocation moved onto (or a reversal took off) a bill, at the time the journal
    entry booking it was written: an allocation names its payment and bill, the entry its kind and time
    (its prepaid-credit or clearing posting carries the payment, its receivable posting the bill)."""
    rows = await session.execute(booked_principal(project_id, JournalEntry.occurred_at < cutoff))
    return [BillMovement(bill_id, at, from_fen(int(principal))) for bill_id, at, principal in rows]


async def _adjustments(session: AsyncSession, project_id: int, cutoff: dt.datetime) -> list[BillMovement]:
    """Each adjustment's change of its bill's receivable, from the journal's ADJUSTMENT entries."""
    rows = await session.execute(
        select(
            JournalLine.bill_id,
            JournalEntry.occurred_at,
            sum_fen(fen(JournalLine.debit) - fen(JournalLine.credit)),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.project_id == project_id,
            JournalEntry.kind == "ADJUSTMENT",
            JournalEntry.occurred_at < cutoff,
            JournalLine.account == RECEIVABLE,
            JournalLine.bill_id.is_not(None),
        )
        .group_by(JournalLine.bill_id, JournalEntry.occurred_at)
    )
    return [BillMovement(bill_id, at, from_fen(int(amount))) for bill_id, at, amount in rows]


async def ageing_per_bill(
    session: AsyncSession, *, project_id: int, as_of: dt.date, zone: ZoneInfo, top: int
) -> AgeingReport:
    """The ageing report of the project as of the end of `as_of`, every open bill read into Python."""
    balances = receivable_balances_sql(project_id, day_end(as_of, zone)).subquery()
    rows = await session.execute(
        select(Bill.id, Bill.unit_id, Unit.building_id, Bill.due_date, balances.c.balance)
        .join(balances, balances.c.bill_id == Bill.id)
        .join(Unit, Unit.id == Bill.unit_id)
    )
    bills = (
        OpenBill(bill_id, unit_id, building_id, due, from_fen(int(balance)))
        for bill_id, unit_id, building_id, due, balance in rows
    )
    return arrears_ageing(bills, as_of=as_of, top=top)
