"""Income (收入), read from the journal for a range of days, by day or by month in the project's time zone.

Two views of the same books:

- **revenue by fee kind** (计费收入): what the project charged, on the side that grows its income
  accounts: `INCOME:<rule code>` per fee kind (bill lines net of discounts and waivers), `LATE_FEE_INCOME`
  as `LATE_FEE` (滞纳金, charged when a late bill is paid) and `ADJUSTMENTS` as `ADJUSTMENT` (debit
  adjustments raise it, credit adjustments lower it);
- **money received by channel** (实收): the clearing accounts' postings of payments (in) and of refunds and
  reversals (out), per channel. Settlements, bank receipts, channel fees and write-offs move money that
  was already received between clearing, bank and expense accounts: they are not income.

Each figure is a sum of journal postings, so the report's totals over a range equal the balances of the
same accounts over the same range, which `billing.ledger_check` proves balanced.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from billing.ledger import ADJUSTMENTS, LATE_FEE_INCOME
from billing.reports.collection import ADJUSTMENT_KIND

__all__ = [
    "ADJUSTMENT_KIND",
    "LATE_FEE_KIND",
    "RECEIPT_ENTRY_KINDS",
    "Granularity",
    "IncomeLine",
    "IncomeReport",
    "JournalPosting",
    "income_report",
    "receipt_channel",
    "revenue_kind",
]

_ZERO = Decimal("0.00")
LATE_FEE_KIND = "LATE_FEE"
_INCOME_PREFIX = "INCOME:"
_CLEARING_PREFIX = "CLEARING:"
RECEIPT_ENTRY_KINDS = frozenset({"PAYMENT", "REFUND", "REVERSAL"})
"""The journal entries whose clearing postings are money received or given back."""


class Granularity(StrEnum):
    DAY = "DAY"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class JournalPosting:
    """Journal lines of one account in one entry, summed: when the entry was booked, its kind, the sums."""

    at: dt.datetime
    entry_kind: str
    account: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True, slots=True)
class IncomeLine:
    """An amount for one bucket ("2026-03-05" or "2026-03") and one fee kind or channel."""

    bucket: str
    key: str
    amount: Decimal


@dataclass(frozen=True)
class IncomeReport:
    """Lines by bucket then key; totals by key, by bucket, and overall, for revenue and for money received."""

    first_day: dt.date
    last_day: dt.date
    granularity: Granularity
    buckets: tuple[str, ...]
    revenue: tuple[IncomeLine, ...]
    received: tuple[IncomeLine, ...]

    @property
    def revenue_by_fee_kind(self) -> dict[str, Decimal]:
        return _by_key(self.revenue)

    @property
    def received_by_channel(self) -> dict[str, Decimal]:
        return _by_key(self.received)

    @property
    def revenue_by_bucket(self) -> dict[str, Decimal]:
        return _by_bucket(self.revenue)

    @property
    def received_by_bucket(self) -> dict[str, Decimal]:
        return _by_bucket(self.received)

    @property
    def total_revenue(self) -> Decimal:
        return sum((line.amount for line in self.revenue), _ZERO)

    @property
    def total_received(self) -> Decimal:
        return sum((line.amount for line in self.received), _ZERO)


def _by_key(lines: tuple[IncomeLine, ...]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    for line in lines:
        sums[line.key] += line.amount
    return dict(sorted(sums.items(), key=lambda item: _key_order(item[0])))


def _by_bucket(lines: tuple[IncomeLine, ...]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(lambda: _ZERO)
    for line in lines:
        sums[line.bucket] += line.amount
    return dict(sorted(sums.items()))


def _key_order(key: str) -> tuple[int, str]:
    """Fee kinds by code, then late fees, then adjustments."""
    return ({LATE_FEE_KIND: 1, ADJUSTMENT_KIND: 2}.get(key, 0), key)


def revenue_kind(account: str) -> str | None:
    """The fee kind an income account's postings count under; None for other accounts."""
    if account.startswith(_INCOME_PREFIX):
        return account[len(_INCOME_PREFIX) :]
    if account == LATE_FEE_INCOME:
        return LATE_FEE_KIND
    if account == ADJUSTMENTS:
        return ADJUSTMENT_KIND
    return None


def receipt_channel(account: str, entry_kind: str) -> str | None:
    """The channel whose money a clearing posting of a payment, refund or reversal moved; None otherwise."""
    if entry_kind in RECEIPT_ENTRY_KINDS and account.startswith(_CLEARING_PREFIX):
        return account[len(_CLEARING_PREFIX) :]
    return None


def _bucket(day: dt.date, granularity: Granularity) -> str:
    return day.isoformat() if granularity is Granularity.DAY else f"{day.year:04d}-{day.month:02d}"


def _all_buckets(first_day: dt.date, last_day: dt.date, granularity: Granularity) -> tuple[str, ...]:
    buckets: list[str] = []
    day = first_day
    while day <= last_day:
        bucket = _bucket(day, granularity)
        if not buckets or buckets[-1] != bucket:
            buckets.append(bucket)
        day += dt.timedelta(days=1)
    return tuple(buckets)


def income_report(
    postings: Iterable[JournalPosting],
    *,
    first_day: dt.date,
    last_day: dt.date,
    granularity: Granularity,
    zone: ZoneInfo,
) -> IncomeReport:
    """Revenue by fee kind and money received by channel, booked from the start of `first_day` to the end
    of `last_day`, in buckets of `granularity` (see the module docstring)."""
    if last_day < first_day:
        raise ValueError(f"the range ends ({last_day}) before it starts ({first_day})")
    revenue: dict[tuple[str, str], Decimal] = defaultdict(lambda: _ZERO)
    received: dict[tuple[str, str], Decimal] = defaultdict(lambda: _ZERO)
    for posting in postings:
        day = posting.at.astimezone(zone).date()
        if not first_day <= day <= last_day:
            continue
        bucket = _bucket(day, granularity)
        if (kind := revenue_kind(posting.account)) is not None:
            revenue[(bucket, kind)] += posting.credit - posting.debit
        elif (channel := receipt_channel(posting.account, posting.entry_kind)) is not None:
            received[(bucket, channel)] += posting.debit - posting.credit
    return IncomeReport(
        first_day=first_day,
        last_day=last_day,
        granularity=granularity,
        buckets=_all_buckets(first_day, last_day, granularity),
        revenue=_lines(revenue),
        received=_lines(received),
    )


def _lines(sums: dict[tuple[str, str], Decimal]) -> tuple[IncomeLine, ...]:
    ordered = sorted(sums, key=lambda key: (key[0], _key_order(key[1])))
    return tuple(IncomeLine(bucket, key, sums[(bucket, key)]) for bucket, key in ordered if sums[(bucket, key)] != 0)
