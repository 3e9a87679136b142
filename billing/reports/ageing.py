"""Arrears ageing (欠费账龄): what the units owe past their bills' due dates, in five age buckets, per unit,
per building and for the project, as the journal stood at the end of any day.

A bill's open amount as of day D is the balance of its receivable postings booked by the end of D (its
net charges, late fees charged, adjustments, less the cash applied to it, plus cash a reversal took
back): the journal read back to that instant, not the bill's status today. A bill is in arrears on D when
it is still open and its due date is before D (as `billing.balance.is_overdue` says); its age is the days
from the due date to D, so 1 to 30 days past due fall in the first bucket. Open bills not yet due are
reported beside the arrears, not in them.

Buckets: 0–30, 31–90, 91–180, 181–365 and over 365 days past due. Every bill's whole open amount falls in
exactly one bucket, so a unit's buckets add up to its arrears, a building's to the sum of its units', and
the project's to its total arrears, to the fen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "AGE_BUCKETS",
    "AgeBucket",
    "AgeingFigures",
    "AgeingReport",
    "OpenBill",
    "ReceivableMovement",
    "UnitAgeing",
    "age_bucket",
    "ageing_report",
    "arrears_ageing",
    "open_amounts_as_of",
]

_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class AgeBucket:
    """Days past due from `first_day` to `last_day` inclusive (None: no upper end)."""

    key: str
    first_day: int
    last_day: int | None


AGE_BUCKETS: tuple[AgeBucket, ...] = (
    AgeBucket("DAYS_0_30", 0, 30),
    AgeBucket("DAYS_31_90", 31, 90),
    AgeBucket("DAYS_91_180", 91, 180),
    AgeBucket("DAYS_181_365", 181, 365),
    AgeBucket("OVER_365", 366, None),
)


def age_bucket(days_past_due: int) -> int:
    """The index in `AGE_BUCKETS` of an amount `days_past_due` days past due (≥ 0)."""
    if days_past_due < 0:
        raise ValueError(f"not past due: {days_past_due} days")
    for index, bucket in enumerate(AGE_BUCKETS):
        if bucket.last_day is None or days_past_due <= bucket.last_day:
            return index
    raise AssertionError("the last bucket has no upper end")


@dataclass(frozen=True, slots=True)
class ReceivableMovement:
    """One receivable posting of a bill: debit positive, credit negative, at the time it was booked."""

    bill_id: int
    at: dt.datetime
    amount: Decimal


def open_amounts_as_of(movements: Iterable[ReceivableMovement], cutoff: dt.datetime) -> dict[int, Decimal]:
    """Each bill's receivable balance from the postings booked before `cutoff` (bills with none left out)."""
    balances: dict[int, Decimal] = defaultdict(lambda: _ZERO)
    for movement in movements:
        if movement.at < cutoff:
            balances[movement.bill_id] += movement.amount
    return dict(balances)


@dataclass(frozen=True, slots=True)
class OpenBill:
    """A bill the ageing reads: whose it is, when it falls due, and what it owes as of the report's day."""

    bill_id: int
    unit_id: int
    building_id: int
    due_date: dt.date
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class AgeingFigures:
    """Amounts per bucket of `AGE_BUCKETS`, in that order, and their total."""

    buckets: tuple[Decimal, ...] = (_ZERO,) * len(AGE_BUCKETS)

    def __add__(self, other: AgeingFigures) -> AgeingFigures:
        return AgeingFigures(tuple(a + b for a, b in zip(self.buckets, other.buckets, strict=True)))

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, _ZERO)

    @classmethod
    def single(cls, index: int, amount: Decimal) -> AgeingFigures:
        buckets = [_ZERO] * len(AGE_BUCKETS)
        buckets[index] = amount
        return cls(tuple(buckets))


@dataclass(frozen=True, slots=True)
class UnitAgeing:
    """A unit's arrears: per bucket, how many bills, and the oldest due date among them."""

    unit_id: int
    building_id: int
    figures: AgeingFigures
    bills: int
    oldest_due_date: dt.date

    @property
    def total(self) -> Decimal:
        return self.figures.total


@dataclass(frozen=True)
class AgeingReport:
    """`units` holds every unit in arrears, most owed first (then by unit id); `top_debtors` the first of them."""

    as_of: dt.date
    total: AgeingFigures
    not_yet_due: Decimal
    buildings: tuple[tuple[int, AgeingFigures], ...]
    units: tuple[UnitAgeing, ...]
    top: int

    @property
    def top_debtors(self) -> tuple[UnitAgeing, ...]:
        return self.units[: self.top]


def arrears_ageing(bills: Iterable[OpenBill], *, as_of: dt.date, top: int = 10) -> AgeingReport:
    """Age the open amounts of `bills` as of the end of `as_of` (see the module docstring)."""
    not_yet_due = _ZERO
    per_unit: dict[int, list[OpenBill]] = defaultdict(list)
    for bill in bills:
        if bill.open_amount == 0:
            continue
        if bill.due_date >= as_of:
            not_yet_due += bill.open_amount
        else:
            per_unit[bill.unit_id].append(bill)
    units = [_unit_ageing(unit_bills, as_of) for unit_bills in per_unit.values()]
    return ageing_report(units, not_yet_due=not_yet_due, as_of=as_of, top=top)


def ageing_report(units: Iterable[UnitAgeing], *, not_yet_due: Decimal, as_of: dt.date, top: int = 10) -> AgeingReport:
    """The report from each unit's arrears already aged (by `arrears_ageing`, or by the database with the
    same buckets): units most owed first, each building the sum of its units, the total the sum of all."""
    if top < 0:
        raise ValueError(f"top must not be negative, got {top}")
    ordered = sorted(units, key=lambda unit: (-unit.total, unit.unit_id))
    by_building: dict[int, AgeingFigures] = defaultdict(AgeingFigures)
    for unit in ordered:
        by_building[unit.building_id] = by_building[unit.building_id] + unit.figures
    total = sum((unit.figures for unit in ordered), AgeingFigures())
    return AgeingReport(
        as_of=as_of,
        total=total,
        not_yet_due=not_yet_due,
        buildings=tuple(sorted(by_building.items())),
        units=tuple(ordered),
        top=top,
    )


def _unit_ageing(bills: Sequence[OpenBill], as_of: dt.date) -> UnitAgeing:
    figures = AgeingFigures()
    for bill in bills:
        figures = figures + AgeingFigures.single(age_bucket((as_of - bill.due_date).days), bill.open_amount)
    return UnitAgeing(
        unit_id=bills[0].unit_id,
        building_id=bills[0].building_id,
        figures=figures,
        bills=len(bills),
        oldest_due_date=min(bill.due_date for bill in bills),
    )
