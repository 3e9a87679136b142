"""The collection rate (收缴率) of billing periods, per building and fee kind, as the books stood on any day.

Two rates for each period P, read as of the end of day D in the project's time zone (the journal cut
there: whatever was booked later is not known yet):

- **current-period rate** (本期收缴率) = cash applied to P's charges by D ÷ P's receivable: the bills of
  period P issued by D, their lines net of discounts and waivers (the bill's net per fee kind) and the
  adjustments booked on them by D. Money paid ahead counts once a bill of P takes it (a bill run applies
  prepaid credit to the new bill): unapplied prepaid credit (预收款) is nobody's collection yet.
- **arrears-recovery rate** (清欠率) = cash applied during P (from P's first day to its last, or to D if
  earlier) to bills of earlier periods ÷ what those bills still owed when P began (issued before P's
  first day). Before P has begun both figures are zero.

Late fees are neither receivable nor collection here (the income report has them): a bill's cash is
its allocations' principal, negative where a reversal took it back. Within a bill, principal pays the
fee kinds in the order the bill lists them (its first charge first, each in full before the next): the
waterfall makes every kind's share exact to the fen and the shares add up to the bill's cash. A bill's
adjustments are a fee kind of their own (`ADJUSTMENT`, 调整): a debit adjustment is receivable that
principal beyond the bill's lines pays, a credit adjustment a negative receivable that nothing pays.

Every line of the report is a sum of per-bill figures, and every subtotal a sum of lines, so building,
fee-kind and period totals add up to the project's exactly; a line whose figures are all zero is left out
(the period totals are always there). Rates are computed from the sums, rounded
half up to 0.0001 (0.01 %), and are None where there is nothing to collect.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from billing.model import BillingPeriod

__all__ = [
    "ADJUSTMENT_KIND",
    "BillMovement",
    "ChargedBill",
    "CollectionFigures",
    "CollectionLine",
    "CollectionReport",
    "FeeCharge",
    "assemble_report",
    "collection_report",
    "day_end",
    "day_start",
    "rate",
]

ADJUSTMENT_KIND = "ADJUSTMENT"
"""The fee kind that carries a bill's adjustments."""

_ZERO = Decimal("0.00")
_RATE_PLACES = Decimal("0.0001")


def day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant of `day` in the project's time zone."""
    return dt.datetime.combine(day, dt.time(0), zone)


def day_end(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant after `day` ends in the project's time zone: "as of `day`" means before it."""
    return day_start(day + dt.timedelta(days=1), zone)


def rate(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """`numerator ÷ denominator` rounded half up to 0.0001 (0.01 %); None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return (numerator / denominator).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class FeeCharge:
    """What one fee kind (a rule code) of a bill asks for, net of its discounts and waivers (≥ 0)."""

    fee_kind: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ChargedBill:
    """A bill as the collection report sees it: its period, building, issue day and net charges in bill order."""

    bill_id: int
    period: str
    building_id: int
    issued_on: dt.date
    charges: tuple[FeeCharge, ...]


@dataclass(frozen=True, slots=True)
class BillMovement:
    """A dated change of a bill's principal: cash applied (negative when reversed) or an adjustment
    (positive for a debit, negative for a credit), at the time its journal entry was booked."""

    bill_id: int
    at: dt.datetime
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CollectionFigures:
    """The four sums a line of the report is made of, and the two rates that follow from them."""

    receivable: Decimal = _ZERO
    collected: Decimal = _ZERO
    arrears_at_start: Decimal = _ZERO
    arrears_recovered: Decimal = _ZERO

    def __add__(self, other: CollectionFigures) -> CollectionFigures:
        return CollectionFigures(
            self.receivable + other.receivable,
            self.collected + other.collected,
            self.arrears_at_start + other.arrears_at_start,
            self.arrears_recovered + other.arrears_recovered,
        )

    @property
    def current_rate(self) -> Decimal | None:
        return rate(self.collected, self.receivable)

    @property
    def recovery_rate(self) -> Decimal | None:
        return rate(self.arrears_recovered, self.arrears_at_start)

    @property
    def outstanding(self) -> Decimal:
        """The period's receivable not collected yet."""
        return self.receivable - self.collected


@dataclass(frozen=True, slots=True)
class CollectionLine:
    """One line: a period's figures for one building (None: every building) and one fee kind (None: every kind)."""

    period: str
    building_id: int | None
    fee_kind: str | None
    figures: CollectionFigures


@dataclass(frozen=True)
class CollectionReport:
    """The report's lines at four levels, each level adding up to the next exactly.

    `cells`: period × building × fee kind; `by_building`: period × building; `by_fee_kind`: period × fee
    kind; `totals`: one per period (the project's). Periods in the order asked, buildings by id, fee kinds
    by code with `ADJUSTMENT` last.
    """

    as_of: dt.date
    periods: tuple[str, ...]
    cells: tuple[CollectionLine, ...]
    by_building: tuple[CollectionLine, ...]
    by_fee_kind: tuple[CollectionLine, ...]
    totals: tuple[CollectionLine, ...]

    def total_of(self, period: str) -> CollectionFigures:
        return next((line.figures for line in self.totals if line.period == period), CollectionFigures())


@dataclass
class _BillHistory:
    """A bill's principal cash and adjustments, each as (time, amount) in time order."""

    cash: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)
    adjustments: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)


def _sum_before(movements: Sequence[tuple[dt.datetime, Decimal]], instant: dt.datetime) -> Decimal:
    return sum((amount for at, amount in movements if at < instant), _ZERO)


def _net_charges(bill: ChargedBill) -> list[tuple[str, Decimal]]:
    """The bill's charges per fee kind in the order each kind first appears."""
    merged: dict[str, Decimal] = {}
    for charge in bill.charges:
        merged[charge.fee_kind] = merged.get(charge.fee_kind, _ZERO) + charge.amount
    return list(merged.items())


def _receivable(charges: list[tuple[str, Decimal]], adjusted: Decimal) -> dict[str, Decimal]:
    receivable = dict(charges)
    if adjusted:
        receivable[ADJUSTMENT_KIND] = adjusted
    return receivable


def _paid_by_kind(cash: Decimal, charges: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """The waterfall: cash pays each fee kind in bill order, in full before the next; what is left beyond
    the bill's lines pays its adjustments."""
    left = max(cash, _ZERO)
    paid: dict[str, Decimal] = {}
    for kind, amount in charges:
        take = min(left, amount)
        paid[kind] = take
        left -= take
    if left:
        paid[ADJUSTMENT_KIND] = left
    return paid


def collection_report(
    bills: Iterable[ChargedBill],
    cash: Iterable[BillMovement],
    adjustments: Iterable[BillMovement],
    *,
    periods: Sequence[BillingPeriod],
    as_of: dt.date,
    zone: ZoneInfo,
) -> CollectionReport:
    """The collection report of `periods` as of the end of `as_of` (see the module docstring)."""
    cutoff = day_end(as_of, zone)
    histories: dict[int, _BillHistory] = defaultdict(_BillHistory)
    for movement in cash:
        if movement.at < cutoff:
            histories[movement.bill_id].cash.append((movement.at, movement.amount))
    for movement in adjustments:
        if movement.at < cutoff:
            histories[movement.bill_id].adjustments.append((movement.at, movement.amount))
    known = sorted((bill for bill in bills if bill.issued_on <= as_of), key=lambda bill: bill.period)
    charges_of = {bill.bill_id: _net_charges(bill) for bill in known}
    settled = _settled_at(known, charges_of, histories)
    cells: dict[tuple[str, int, str], CollectionFigures] = defaultdict(CollectionFigures)

    labels = [bill.period for bill in known]
    for period in periods:
        first, beyond = bisect_left(labels, period.label), bisect_right(labels, period.label)
        for bill in known[first:beyond]:
            history = histories.get(bill.bill_id, _BillHistory())
            charges = charges_of[bill.bill_id]
            receivable = _receivable(charges, _sum_before(history.adjustments, cutoff))
            paid = _paid_by_kind(_sum_before(history.cash, cutoff), charges)
            for kind in receivable.keys() | paid.keys():
                key = (period.label, bill.building_id, kind)
                cells[key] = cells[key] + CollectionFigures(receivable=receivable.get(kind, _ZERO), collected=paid.get(kind, _ZERO))
        if period.start > as_of:
            continue
        start = day_start(period.start, zone)
        end = min(cutoff, day_end(period.end, zone))
        for bill in known[:first]:
            quiet_since = settled.get(bill.bill_id)
            if bill.issued_on >= period.start or (quiet_since is not None and quiet_since < start):
                continue
            history = histories.get(bill.bill_id, _BillHistory())
            charges = charges_of[bill.bill_id]
            owed = _receivable(charges, _sum_before(history.adjustments, start))
            paid_before = _paid_by_kind(_sum_before(history.cash, start), charges)
            paid_by_end = _paid_by_kind(_sum_before(history.cash, end), charges)
            for kind in owed.keys() | paid_by_end.keys():
                open_at_start = owed.get(kind, _ZERO) - paid_before.get(kind, _ZERO)
                recovered = paid_by_end.get(kind, _ZERO) - paid_before.get(kind, _ZERO)
                if open_at_start or recovered:
                    key = (period.label, bill.building_id, kind)
                    cells[key] = cells[key] + CollectionFigures(arrears_at_start=open_at_start, arrears_recovered=recovered)
    return assemble_report(as_of, [period.label for period in periods], cells)


_LineKey = tuple[str, int | None, str | None]


_LONG_AGO = dt.datetime.min.replace(tzinfo=dt.UTC)


def _settled_at(
    bills: Sequence[ChargedBill], charges_of: Mapping[int, list[tuple[str, Decimal]]], histories: Mapping[int, _BillHistory]
) -> dict[int, dt.datetime]:
    """The bills that owe nothing at the report's cut-off, each with the time of its last movement: from
    then on it owes no period's arrears and recovers nothing, so the arrears loop passes it by."""
    settled: dict[int, dt.datetime] = {}
    for bill in bills:
        history = histories.get(bill.bill_id, _BillHistory())
        owed = sum((amount for _, amount in charges_of[bill.bill_id]), _ZERO) + sum((a for _, a in history.adjustments), _ZERO)
        if owed == sum((amount for _, amount in history.cash), _ZERO):
            settled[bill.bill_id] = max((at for at, _ in (*history.cash, *history.adjustments)), default=_LONG_AGO)
    return settled


def _kind_order(kind: str | None) -> tuple[bool, str]:
    return (kind == ADJUSTMENT_KIND, kind or "")


def assemble_report(
    as_of: dt.date, labels: Sequence[str], cells: Mapping[tuple[str, int, str], CollectionFigures]
) -> CollectionReport:
    """The report from its cells (period label × building × fee kind): each level the exact sum of the one
    below, lines in the order `CollectionReport` gives. A cell whose four figures are all zero is no line:
    whether one bill's +5.00 and another's -5.00 met in it is nothing a reader can use, and sums kept per
    cell (`collection_sql`) cannot tell."""
    position = {label: index for index, label in enumerate(labels)}
    cells = {key: figures for key, figures in cells.items() if figures != CollectionFigures()}

    def rolled_up(key_of: Callable[[str, int, str], _LineKey]) -> tuple[CollectionLine, ...]:
        sums: dict[_LineKey, CollectionFigures] = defaultdict(CollectionFigures)
        for (period, building, kind), figures in cells.items():
            key = key_of(period, building, kind)
            sums[key] = sums[key] + figures
        ordered = sorted(sums, key=lambda k: (position[k[0]], k[1] or 0, _kind_order(k[2])))
        return tuple(CollectionLine(period, building, kind, sums[(period, building, kind)]) for period, building, kind in ordered)

    totals = {line.period: line for line in rolled_up(lambda p, b, k: (p, None, None))}
    return CollectionReport(
        as_of=as_of,
        periods=tuple(labels),
        cells=rolled_up(lambda p, b, k: (p, b, k)),
        by_building=rolled_up(lambda p, b, k: (p, b, None)),
        by_fee_kind=rolled_up(lambda p, b, k: (p, None, k)),
        totals=tuple(totals.get(label, CollectionLine(label, None, None, CollectionFigures())) for label in labels),
    )
