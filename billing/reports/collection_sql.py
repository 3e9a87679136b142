"""The collection report summed in the database from its facts: the SQL twin of `billing.reports.collection`.

The core reads every bill of the periods, with its lines and its whole history; a project of 100,000
units has 1.2 million bills a year. Here the report is a sum over `CollectionFlow` (what the bills of a
period, building and issue day did to each fee kind on each day: `billing.reports.collection_facts` says
why those sums give the core's figures) less `SettledResidual` (the bills the core passes by as settled),
grouped per period × building × fee kind; the core's `assemble_report` then rolls them up exactly as it
rolls up its own, and a test on both databases holds the two readings equal.

- current period P as of day D: the flows of P's bills issued by D, booked by D;
- arrears at the start of a begun period P: the flows of earlier periods' bills issued before P's first
  day, booked before it, receivable less collected; less the residuals of those bills settled before P
  began and still settled at the end of D;
- recovered during P: those bills' collected flows booked from P's first day to its last (or D).

The flows are read per month (`CollectionFlowMonth`) before the report day's month and per day within it
(`_flows`): every window the report cuts the days into ends at a month's end or on the report day, so a
month before the report day's lies wholly in one window. The flows of earlier bills are then summed per
window (before the first begun period, then one window per begun period), so that each begun period adds
up a few windows rather than every month.

`booked_allocations` is here too: the reference reading (`per_bill`) and the facts' check
(`billing.reports.facts`) find each allocation's journal time through it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    String,
    and_,
    case,
    func,
    Select,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Subquery

from billing.balance_sql import fen
from billing.journal import sum_fen
from billing.ledger import RECEIVABLE
from billing.model import BillingPeriod
from billing.money import from_fen
from billing.reports.collection import CollectionFigures, CollectionReport, assemble_report
from db.models import (
    AllocationSource,
    CollectionFlow,
    CollectionFlowMonth,
    JournalEntry,
    JournalLine,
    PaymentAllocation,
    SettledResidual,
)

__all__ = ["ALLOCATION_ENTRY", "booked_allocations", "booked_principal", "collection_in_sql"]

ALLOCATION_ENTRY = {
    AllocationSource.PAYMENT.value: "ALLOCATION",
    AllocationSource.CREDIT.value: "CREDIT_APPLIED",
    AllocationSource.REVERSAL.value: "REVERSAL",
}
"""The journal entry that booked each kind of allocation (`billing.booking`, `billing.credit`, `billing.refunds`)."""

_NOWHERE = 10_000
"""The window of days after the last begun period's end: no begun period reads them."""


def _big(expression: object) -> ColumnElement[int]:
    return type_coerce(expression, BigInteger)


def booked_allocations(project_id: int, booked_when: ColumnElement[bool]) -> Subquery:
    """(payment, bill, entry kind, time) of each allocation's journal entry whose time `booked_when` takes:
    an allocation names its payment and bill, the entry its kind and time (its prepaid-credit or clearing
    posting carries the payment, its receivable posting the bill)."""
    receivable, other = aliased(JournalLine), aliased(JournalLine)
    return (
        select(
            other.payment_id.label("payment_id"),
            receivable.bill_id.label("bill_id"),
            JournalEntry.kind.label("kind"),
            func.min(JournalEntry.occurred_at).label("at"),
        )
        .join(receivable, and_(receivable.entry_id == JournalEntry.id, receivable.account == RECEIVABLE))
        .join(other, and_(other.entry_id == JournalEntry.id, other.payment_id.is_not(None)))
        .where(
            JournalEntry.project_id == project_id,
            JournalEntry.kind.in_(sorted(set(ALLOCATION_ENTRY.values()))),
            booked_when,
            receivable.bill_id.is_not(None),
        )
        .group_by(other.payment_id, receivable.bill_id, JournalEntry.kind)
        .subquery()
    )


def booked_principal(project_id: int, booked_when: ColumnElement[bool]) -> Select[tuple[int, dt.datetime, int]]:
    """(bill, time, fen) of the principal each allocation moved onto a bill (or a reversal took off it),
    summed per bill and time of the journal entry booking it, for the entries `booked_when` takes."""
    booked = booked_allocations(project_id, booked_when)
    entry_kind = case(ALLOCATION_ENTRY, value=PaymentAllocation.source)
    return (
        select(PaymentAllocation.bill_id, booked.c.at, sum_fen(fen(PaymentAllocation.principal)))
        .join(
            booked,
            and_(
                booked.c.payment_id == PaymentAllocation.payment_id,
                booked.c.bill_id == PaymentAllocation.bill_id,
                booked.c.kind == entry_kind,
            ),
        )
        .where(PaymentAllocation.principal != 0)
        .group_by(PaymentAllocation.bill_id, booked.c.at)
    )


def _begun_table(begun: Sequence[tuple[int, BillingPeriod, dt.date]]) -> Subquery:
    """(position, label, first day) of each begun period, as rows the statement joins."""
    rows = [
        select(
            literal(position, Integer).label("position"),
            literal(period.label, String).label("label"),
            literal(period.start, Date).label("first_day"),
        )
        for position, period, _ in begun
    ]
    return union_all(*rows).subquery("begun")


def _window(day: ColumnElement[dt.date], begun: Sequence[tuple[int, BillingPeriod, dt.date]]) -> ColumnElement[int]:
    """0 for a day before the first begun period, position + 1 for a day within one (to its last day or
    the report's day), `_NOWHERE` after the last."""
    whens: list[tuple[ColumnElement[bool], int]] = [(day < begun[0][1].start, 0)]
    whens.extend((day <= last_day, position + 1) for position, _, last_day in begun)
    return case(*whens, else_=_NOWHERE)


def _flows(project_id: int, as_of: dt.date, which: Callable[[Any, Any], list[ColumnElement[bool]]]) -> Subquery:
    """The project's flows booked by the end of `as_of` that `which(period, issued_on)` takes, as (period,
    building id, issue day, fee kind, day, receivable, collected): the months before `as_of`'s month summed
    (each dated on its first day, which lies in the same window as all its days) and that month's days."""
    month = as_of.replace(day=1)
    months = select(
        CollectionFlowMonth.period,
        CollectionFlowMonth.building_id,
        CollectionFlowMonth.issued_on,
        CollectionFlowMonth.fee_kind,
        CollectionFlowMonth.month.label("day"),
        CollectionFlowMonth.receivable,
        CollectionFlowMonth.collected,
    ).where(
        CollectionFlowMonth.project_id == project_id,
        CollectionFlowMonth.month < month,
        *which(CollectionFlowMonth.period, CollectionFlowMonth.issued_on),
    )
    days = select(
        CollectionFlow.period,
        CollectionFlow.building_id,
        CollectionFlow.issued_on,
        CollectionFlow.fee_kind,
        CollectionFlow.day,
        CollectionFlow.receivable,
        CollectionFlow.collected,
    ).where(
        CollectionFlow.project_id == project_id,
        CollectionFlow.day >= month,
        CollectionFlow.day <= as_of,
        *which(CollectionFlow.period, CollectionFlow.issued_on),
    )
    return union_all(months, days).subquery("flows")


def _current_rows(project_id: int, labels: Sequence[str], as_of: dt.date):  # type: ignore[no-untyped-def]
    flows = _flows(project_id, as_of, lambda period, issued_on: [period.in_(labels), issued_on <= as_of])
    return select(
        flows.c.period.label("label"),
        flows.c.building_id.label("building_id"),
        flows.c.fee_kind.label("kind"),
        sum_fen(flows.c.receivable).label("receivable"),
        sum_fen(flows.c.collected).label("collected"),
        _big(literal(0)).label("arrears_at_start"),
        _big(literal(0)).label("arrears_recovered"),
    ).group_by(flows.c.period, flows.c.building_id, flows.c.fee_kind)


def _arrears_rows(project_id: int, as_of: dt.date, begun: Sequence[tuple[int, BillingPeriod, dt.date]]):  # type: ignore[no-untyped-def]
    last = begun[-1][1]
    flows = _flows(project_id, as_of, lambda period, issued_on: [period < last.label, issued_on < last.start])
    window = _window(flows.c.day, begun).label("window")
    windows = (
        select(
            flows.c.period,
            flows.c.building_id,
            flows.c.issued_on,
            flows.c.fee_kind,
            window,
            sum_fen(flows.c.receivable).label("receivable"),
            sum_fen(flows.c.collected).label("collected"),
        )
        .group_by(flows.c.period, flows.c.building_id, flows.c.issued_on, flows.c.fee_kind, window)
        .subquery("windows")
    )
    periods = _begun_table(begun)
    earlier = and_(windows.c.period < periods.c.label, windows.c.issued_on < periods.c.first_day)
    flows = (
        select(
            periods.c.label,
            windows.c.building_id,
            windows.c.fee_kind.label("kind"),
            _big(literal(0)).label("receivable"),
            _big(literal(0)).label("collected"),
            sum_fen(case((windows.c.window <= periods.c.position, windows.c.receivable - windows.c.collected), else_=0)).label(
                "arrears_at_start"
            ),
            sum_fen(case((windows.c.window == periods.c.position + 1, windows.c.collected), else_=0)).label("arrears_recovered"),
        )
        .join(periods, earlier)
        .group_by(periods.c.label, windows.c.building_id, windows.c.fee_kind)
    )
    # A residual counts for a begun period when its bill was issued and settled before the period began:
    # when the later of the two days falls in a window before the period's. Summed per window first, so
    # that each begun period adds up a few windows rather than every residual.
    later = case((SettledResidual.issued_on > SettledResidual.settled_from, SettledResidual.issued_on), else_=SettledResidual.settled_from)
    residual_window = _window(later, begun).label("window")
    residuals = (
        select(
            SettledResidual.period,
            SettledResidual.building_id,
            SettledResidual.fee_kind,
            residual_window,
            sum_fen(SettledResidual.amount).label("amount"),
        )
        .where(
            SettledResidual.project_id == project_id,
            SettledResidual.period < last.label,
            SettledResidual.settled_until > as_of,
        )
        .group_by(SettledResidual.period, SettledResidual.building_id, SettledResidual.fee_kind, residual_window)
        .subquery("residuals")
    )
    settled = (
        select(
            periods.c.label,
            residuals.c.building_id,
            residuals.c.fee_kind.label("kind"),
            _big(literal(0)).label("receivable"),
            _big(literal(0)).label("collected"),
            _big(-sum_fen(residuals.c.amount)).label("arrears_at_start"),
            _big(literal(0)).label("arrears_recovered"),
        )
        .join(periods, and_(residuals.c.period < periods.c.label, residuals.c.window <= periods.c.position))
        .group_by(periods.c.label, residuals.c.building_id, residuals.c.fee_kind)
    )
    return flows, settled


async def collection_in_sql(
    session: AsyncSession,
    *,
    project_id: int,
    periods: Sequence[BillingPeriod],
    as_of: dt.date,
    zone: ZoneInfo,
) -> CollectionReport:
    """`collection.collection_report` of the project's books for `periods` (consecutive, oldest first) as
    of the end of `as_of`. The facts hold local days already: `zone` is the one they were kept in."""
    labels = [period.label for period in periods]
    begun = [(position, period, min(as_of, period.end)) for position, period in enumerate(p for p in periods if p.start <= as_of)]
    parts = [_current_rows(project_id, labels, as_of)]
    if begun:
        parts.extend(_arrears_rows(project_id, as_of, begun))
    rows = union_all(*parts).subquery("contributions")
    sums = await session.execute(
        select(
            rows.c.label,
            rows.c.building_id,
            rows.c.kind,
            sum_fen(rows.c.receivable),
            sum_fen(rows.c.collected),
            sum_fen(rows.c.arrears_at_start),
            sum_fen(rows.c.arrears_recovered),
        ).group_by(rows.c.label, rows.c.building_id, rows.c.kind)
    )
    cells: dict[tuple[str, int, str], CollectionFigures] = {}
    for label, building_id, kind, receivable, collected, at_start, recovered in sums:
        cells[(label, building_id, kind)] = CollectionFigures(
            _yuan(receivable), _yuan(collected), _yuan(at_start), _yuan(recovered)
        )
    return assemble_report(as_of, labels, cells)


def _yuan(fen_amount: object) -> Decimal:
    return from_fen(int(fen_amount))  # type: ignore[call-overload]
