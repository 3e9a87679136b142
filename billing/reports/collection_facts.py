"""The collection report's facts: what every money movement on a bill does to the report, worked out once,
when the movement is written, so that the report as of any day is a sum over a few small rows.

The report (`billing.reports.collection`) is per bill: a bill's cash pays its fee kinds in bill order
(the waterfall), and each kind's share is read at the cut-off, at period starts and at period ends. The
waterfall is not a sum, but its change is: when a bill's cash goes from `before` to `after`, each kind's
share changes by `paid(after) - paid(before)`, and those changes, added up over the movements booked by
any instant, give the shares at that instant. So each movement leaves, per fee kind, what it changed
and the local day it was booked on (a **flow**), and the flows of all bills are kept summed per period ×
building × issue day × fee kind × day (`CollectionFlow`):

- a bill's issue: each fee kind's net charge as receivable, on its issue day (the report counts a bill
  from its issue day on);
- cash applied or taken back: each kind's change of its share as collected, on the day it was booked;
- an adjustment: its amount as receivable of the `ADJUSTMENT` kind, on the day it was booked.

The current-period figures of period P as of day D are then the flows of P's bills up to D; the arrears
at P's start are the flows of earlier bills before P's first day (receivable less collected), and what
was recovered during P their collected flows from P's first day to its last (or D).

One thing a sum cannot see: the report passes by a bill that owes nothing at the cut-off and has not
moved since before the period began. Such a bill can still show a fee kind open and its credit
adjustment negative (300.00 of property fee, a credit of 100.00 and 200.00 paid leave the property fee
100.00 short and the adjustment -100.00), which the sums would count as arrears. While a bill is settled
like that, the mirror of those amounts is kept per bill and fee kind with the days it was settled from
and until (`SettledResidual`), and the arrears take it off where the bill was settled before the period
began and still is at the cut-off.

This relies on a bill's movements being written in the order of the times they are booked at: every
writer books at the moment it writes (the demo's history books its days in order).

Amounts here are integer fen; days are in the project's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from billing.reports.collection import ADJUSTMENT_KIND

__all__ = [
    "BillChange",
    "FactBill",
    "FlowKey",
    "Flows",
    "ResidualSpan",
    "SettledSince",
    "add_flows",
    "bill_history",
    "changed_bill",
    "issue_flows",
    "paid_by_kind",
    "settled_residual",
    "summed",
]

FlowKey = tuple[str, int, dt.date, str, dt.date]
"""(period, building id, issue day, fee kind, day)."""

Flows = dict[FlowKey, list[int]]
"""Each flow key's [receivable, collected]."""


@dataclass(frozen=True, slots=True)
class FactBill:
    """What the facts need of a bill: where its flows are summed, and its net charge per fee kind in the
    order its lines first name each kind."""

    bill_id: int
    period: str
    building_id: int
    issued_on: dt.date
    charges: tuple[tuple[str, int], ...]

    def key(self, kind: str, day: dt.date) -> FlowKey:
        return (self.period, self.building_id, self.issued_on, kind, day)

    @property
    def lines(self) -> int:
        return sum(amount for _, amount in self.charges)


@dataclass(frozen=True, slots=True)
class BillChange:
    """One movement of a bill's principal: cash applied (negative when taken back) and adjustment (positive
    for a debit), on the local day it was booked. Both may be zero where movements booked at one instant
    cancel out: it is still a movement, after which a settled bill counts as moved."""

    day: dt.date
    cash: int = 0
    adjusted: int = 0


@dataclass(frozen=True, slots=True)
class SettledSince:
    """A bill that owes nothing and shows kinds open against its credit: since when, and the amounts."""

    day: dt.date
    residual: dict[str, int]


@dataclass(frozen=True, slots=True)
class ResidualSpan:
    """A bill's settled residual of one fee kind from `settled_from` until `settled_until` (None: still)."""

    bill_id: int
    fee_kind: str
    settled_from: dt.date
    settled_until: dt.date | None
    amount: int


def paid_by_kind(cash: int, charges: Sequence[tuple[str, int]]) -> dict[str, int]:
    """The waterfall of `collection._paid_by_kind` in fen: cash pays each kind in order, in full before the
    next; what is left beyond the lines pays the adjustments."""
    left = max(cash, 0)
    paid: dict[str, int] = {}
    for kind, amount in charges:
        take = min(left, amount)
        paid[kind] = paid.get(kind, 0) + take
        left -= take
    paid[ADJUSTMENT_KIND] = left
    return paid


def settled_residual(bill: FactBill, cash: int, adjusted: int) -> dict[str, int] | None:
    """What each kind of a bill that owes nothing shows open (receivable less paid; the kinds that show
    nothing left out), or None when the bill owes something or was overpaid."""
    if bill.lines + adjusted != cash:
        return None
    paid = paid_by_kind(cash, bill.charges)
    owed = {kind: amount for kind, amount in bill.charges}
    owed[ADJUSTMENT_KIND] = owed.get(ADJUSTMENT_KIND, 0) + adjusted
    return {kind: owed[kind] - paid.get(kind, 0) for kind in owed if owed[kind] != paid.get(kind, 0)}


def issue_flows(bill: FactBill) -> Flows:
    """A new bill's receivable per fee kind on its issue day (every kind, also one that nets to zero)."""
    flows: Flows = {}
    for kind, amount in bill.charges:
        add_flows(flows, bill.key(kind, bill.issued_on), amount, 0)
    return flows


def add_flows(flows: Flows, key: FlowKey, receivable: int, collected: int) -> None:
    sums = flows.setdefault(key, [0, 0])
    sums[0] += receivable
    sums[1] += collected


def changed_bill(
    bill: FactBill, *, cash: int, adjusted: int, settled: SettledSince | None, changes: Iterable[BillChange]
) -> tuple[Flows, list[ResidualSpan], SettledSince | None]:
    """The flows of `changes` on a bill whose cash and adjustments were `cash` and `adjusted` before them,
    and how its settled residual goes: the spans that `changes` closed, and the one open after them."""
    flows: Flows = {}
    closed: list[ResidualSpan] = []
    for change in changes:
        before = paid_by_kind(cash, bill.charges)
        cash += change.cash
        adjusted += change.adjusted
        after = paid_by_kind(cash, bill.charges)
        for kind in after:
            if after[kind] != before.get(kind, 0):
                add_flows(flows, bill.key(kind, change.day), 0, after[kind] - before.get(kind, 0))
        if change.adjusted:
            add_flows(flows, bill.key(ADJUSTMENT_KIND, change.day), change.adjusted, 0)
        if settled is not None and settled.day < change.day:
            closed.extend(
                ResidualSpan(bill.bill_id, kind, settled.day, change.day, amount) for kind, amount in settled.residual.items()
            )
        residual = settled_residual(bill, cash, adjusted)
        settled = SettledSince(change.day, residual) if residual else None
    return flows, closed, settled


def bill_history(bill: FactBill, changes: Iterable[BillChange]) -> tuple[Flows, list[ResidualSpan]]:
    """All the facts of a bill from its issue on, `changes` in the order they were booked: what the writers
    leave one movement at a time, computed at once (for the migration that fills the facts, and for the
    check that holds them equal to the books)."""
    flows = issue_flows(bill)
    moved, spans, settled = changed_bill(bill, cash=0, adjusted=0, settled=None, changes=changes)
    for key, (receivable, collected) in moved.items():
        add_flows(flows, key, receivable, collected)
    if settled is not None:
        spans.extend(ResidualSpan(bill.bill_id, kind, settled.day, None, amount) for kind, amount in settled.residual.items())
    return flows, spans


def summed(flows: Iterable[Flows]) -> Flows:
    """Flows of many bills added up per key."""
    total: Flows = defaultdict(lambda: [0, 0])
    for one in flows:
        for key, (receivable, collected) in one.items():
            add_flows(total, key, receivable, collected)
    return dict(total)
