"""The collection report summed in the database: the SQL twin of `billing.reports.collection`.

The core reads every bill of the periods, with its lines and its whole history, into Python; a project of
100,000 units has 1.2 million bills in a year. Here the database computes each bill's figures per fee
kind and adds them up per period × building × fee kind, and only those sums come back; the core's
`assemble_report` then rolls them up exactly as it rolls up its own. The rules are the core's, line for
line (its module docstring defines them); a test on both databases holds the two readings equal.

How a bill's cash and adjustments as of an instant T are found without reading its history: the bill row
holds its principal paid and its adjustments today (the ledger check holds them equal to its allocations
and to its receivable postings), so as of T they are today's less what was booked from T on. Only the
movements booked since the earliest instant the report needs are read (the index on journal entries by
project and time), and only the bills those movements touch or that owe principal today can owe any
period's arrears.

The core's waterfall (principal pays the fee kinds in bill order, each in full before the next, and what
is left beyond the lines pays the adjustments) is a clamp here: a kind whose lines come after `before`
yuan of earlier kinds takes `min(max(cash - before, 0), net)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
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
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import CTE, Subquery

from billing.balance_sql import amount_due_fen, fen
from billing.journal import sum_fen
from billing.ledger import RECEIVABLE
from billing.model import BillingPeriod
from billing.money import from_fen
from billing.reports.collection import (
    ADJUSTMENT_KIND,
    CollectionFigures,
    CollectionReport,
    assemble_report,
    day_end,
    day_start,
)
from db.base import UtcDateTime
from db.models import (
    Adjustment,
    AllocationSource,
    Bill,
    BillLine,
    JournalEntry,
    JournalLine,
    PaymentAllocation,
    Unit,
)

__all__ = ["ALLOCATION_ENTRY", "collection_in_sql"]

ALLOCATION_ENTRY = {
    AllocationSource.PAYMENT.value: "ALLOCATION",
    AllocationSource.CREDIT.value: "CREDIT_APPLIED",
    AllocationSource.REVERSAL.value: "REVERSAL",
}
"""The journal entry that booked each kind of allocation (`billing.booking`, `billing.credit`, `billing.refunds`)."""


@dataclass(frozen=True)
class _Instants:
    """The instants the report reads the books at: the cut-off, and each begun period's start and end."""

    cutoff: dt.datetime
    periods: Sequence[tuple[int, str, dt.datetime, dt.datetime, dt.date]]
    """(index, label, start, end, first day) of each period that began by the report's day."""

    @property
    def earliest(self) -> dt.datetime:
        return min([self.cutoff, *(start for _, _, start, _, _ in self.periods)])


def _big(expression: object) -> ColumnElement[int]:
    return type_coerce(expression, BigInteger)


def _at_least_zero(expression: ColumnElement[int]) -> ColumnElement[int]:
    return _big(case((expression > 0, expression), else_=0))


def _waterfall(left: ColumnElement[int], before: ColumnElement[int], net: ColumnElement[int]) -> ColumnElement[int]:
    """What `left` (≥ 0) pays of a kind that comes after `before` of earlier kinds and asks for `net`."""
    beyond = left - before
    return _big(case((beyond <= 0, 0), (beyond >= net, net), else_=beyond))


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


def _movements_since(project_id: int, since: dt.datetime, name: str) -> CTE:
    """Each principal allocation and each adjustment booked from `since` on: (bill, time, cash, adjustment),
    the time that of the journal entry booking it (as the core's readers take it)."""
    booked = booked_allocations(project_id, JournalEntry.occurred_at >= since)
    entry_kind = case(ALLOCATION_ENTRY, value=PaymentAllocation.source)
    cash = (
        select(
            PaymentAllocation.bill_id.label("bill_id"),
            booked.c.at.label("at"),
            _big(fen(PaymentAllocation.principal)).label("cash"),
            _big(literal(0)).label("adjusted"),
        )
        .join(
            booked,
            and_(
                booked.c.payment_id == PaymentAllocation.payment_id,
                booked.c.bill_id == PaymentAllocation.bill_id,
                booked.c.kind == entry_kind,
            ),
        )
        .where(PaymentAllocation.principal != 0)
    )
    adjustments = (
        select(
            JournalLine.bill_id.label("bill_id"),
            JournalEntry.occurred_at.label("at"),
            _big(literal(0)).label("cash"),
            _big(fen(JournalLine.debit) - fen(JournalLine.credit)).label("adjusted"),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalEntry.project_id == project_id,
            JournalEntry.kind == "ADJUSTMENT",
            JournalEntry.occurred_at >= since,
            JournalLine.account == RECEIVABLE,
            JournalLine.bill_id.is_not(None),
        )
    )
    return union_all(cash, adjustments).cte(name)


def _kinds(bills: Subquery | CTE, name: str) -> CTE:
    """The net charge of each fee kind of `bills` (a subquery with `bill_id`), in bill order: `before` is what
    the bill's earlier kinds ask for, `lines` what all its kinds ask for."""
    per_kind = (
        select(
            BillLine.bill_id.label("bill_id"),
            BillLine.rule_code.label("kind"),
            sum_fen(fen(BillLine.amount)).label("net"),
            func.min(BillLine.position).label("first"),
        )
        .join(bills, bills.c.bill_id == BillLine.bill_id)
        .group_by(BillLine.bill_id, BillLine.rule_code)
        .subquery()
    )
    running = func.sum(per_kind.c.net).over(partition_by=per_kind.c.bill_id, order_by=per_kind.c.first)
    return select(
        per_kind.c.bill_id,
        per_kind.c.kind,
        per_kind.c.net,
        _big(running - per_kind.c.net).label("before"),
        _big(func.sum(per_kind.c.net).over(partition_by=per_kind.c.bill_id)).label("lines"),
    ).cte(name)


def _period_table(instants: _Instants) -> Subquery:
    rows = [
        select(
            literal(index, Integer).label("position"),
            literal(label, String).label("label"),
            literal(start, UtcDateTime()).label("start_at"),
            literal(end, UtcDateTime()).label("end_at"),
            literal(first_day, Date).label("first_day"),
        )
        for index, label, start, end, first_day in instants.periods
    ]
    return union_all(*rows).subquery("begun")


def _current_rows(project_id: int, labels: Sequence[str], as_of: dt.date, moved: CTE):  # type: ignore[no-untyped-def]
    """Receivable and collected per fee kind for the bills of the report's periods (the core's first loop).

    Most bills were paid in full by the cut-off, had no adjustment and moved no more since: each of their
    kinds was collected as charged. So every line counts as receivable and as collected in one plain
    aggregate, and a correction follows for the bills that may differ (`_maybe_not_as_charged`): what the
    waterfall leaves unpaid of each kind, and the adjustments with what pays them."""
    in_report = and_(Bill.project_id == project_id, Bill.period.in_(labels), Bill.issued_on <= as_of)
    as_charged = (
        select(
            Bill.period.label("label"),
            Unit.building_id.label("building_id"),
            BillLine.rule_code.label("kind"),
            sum_fen(fen(BillLine.amount)).label("receivable"),
            sum_fen(fen(BillLine.amount)).label("collected"),
            _big(literal(0)).label("arrears_at_start"),
            _big(literal(0)).label("arrears_recovered"),
        )
        .join(Bill, Bill.id == BillLine.bill_id)
        .join(Unit, Unit.id == Bill.unit_id)
        .where(in_report)
        .group_by(Bill.period, Unit.building_id, BillLine.rule_code)
    )
    after = (
        select(moved.c.bill_id, sum_fen(moved.c.cash).label("cash"), sum_fen(moved.c.adjusted).label("adjusted"))
        .group_by(moved.c.bill_id)
        .subquery()
    )
    maybe = _maybe_not_as_charged(project_id, moved)
    bills = (
        select(
            Bill.id.label("bill_id"),
            Bill.period.label("label"),
            Unit.building_id.label("building_id"),
            _big(fen(Bill.principal_paid) - func.coalesce(after.c.cash, 0)).label("cash"),
            _big(fen(Bill.adjustment_amount) - func.coalesce(after.c.adjusted, 0)).label("adjusted"),
        )
        .join(maybe, maybe.c.bill_id == Bill.id)
        .join(Unit, Unit.id == Bill.unit_id)
        .outerjoin(after, after.c.bill_id == Bill.id)
        .where(in_report)
        .cte("current_bills")
    )
    kinds = _kinds(bills, "current_kinds")
    left = _at_least_zero(bills.c.cash)
    unpaid = (
        select(
            bills.c.label,
            bills.c.building_id,
            kinds.c.kind,
            _big(literal(0)).label("receivable"),
            _big(_waterfall(left, kinds.c.before, kinds.c.net) - kinds.c.net).label("collected"),
            _big(literal(0)).label("arrears_at_start"),
            _big(literal(0)).label("arrears_recovered"),
        )
        .join(kinds, kinds.c.bill_id == bills.c.bill_id)
        .where(left < kinds.c.before + kinds.c.net)
    )
    one_per_bill = select(kinds.c.bill_id, func.max(kinds.c.lines).label("lines")).group_by(kinds.c.bill_id).subquery()
    beyond_lines = _at_least_zero(left - one_per_bill.c.lines)
    adjustments = (
        select(
            bills.c.label,
            bills.c.building_id,
            literal(ADJUSTMENT_KIND, String).label("kind"),
            bills.c.adjusted.label("receivable"),
            beyond_lines.label("collected"),
            _big(literal(0)).label("arrears_at_start"),
            _big(literal(0)).label("arrears_recovered"),
        )
        .join(one_per_bill, one_per_bill.c.bill_id == bills.c.bill_id)
        .where(or_(bills.c.adjusted != 0, beyond_lines > 0))
    )
    return as_charged, unpaid, adjustments


def _maybe_not_as_charged(project_id: int, moved: CTE) -> Subquery:
    """The bills whose cash or adjustments as of the cut-off may differ from their lines: those owing
    principal today (found through `ix_bill_owing`: owing principal is owing), those ever adjusted, and
    those the journal moved since the cut-off (`moved`). Any other bill has no adjustment and was paid
    exactly its lines by the cut-off."""
    owing_principal = and_(
        Bill.project_id == project_id,
        amount_due_fen() != 0,
        fen(Bill.total_amount) + fen(Bill.adjustment_amount) - fen(Bill.principal_paid) != 0,
    )
    return (
        select(Bill.id.label("bill_id"))
        .where(owing_principal)
        .union(
            select(Adjustment.bill_id).where(Adjustment.project_id == project_id),
            select(moved.c.bill_id),
        )
        .subquery("maybe")
    )


def _arrears_rows(  # type: ignore[no-untyped-def]
    project_id: int, last_label: str, as_of: dt.date, moved: CTE, instants: _Instants
):
    """Arrears at each begun period's start and what of them was recovered during it, per bill × fee kind,
    for the bills issued before the period that owed at its start or moved during it (the core's second loop)."""
    cutoff = instants.cutoff
    history = (
        select(
            moved.c.bill_id,
            sum_fen(case((moved.c.at >= cutoff, moved.c.cash), else_=0)).label("cash_after"),
            sum_fen(case((moved.c.at >= cutoff, moved.c.adjusted), else_=0)).label("adjusted_after"),
            func.max(case((moved.c.at < cutoff, moved.c.at)), type_=UtcDateTime()).label("quiet_since"),
        )
        .group_by(moved.c.bill_id)
        .subquery()
    )
    owing_principal = and_(
        amount_due_fen() != 0, fen(Bill.total_amount) + fen(Bill.adjustment_amount) - fen(Bill.principal_paid) != 0
    )
    candidates = (
        select(Bill.id.label("bill_id"))
        .where(Bill.project_id == project_id, owing_principal)
        .union(select(history.c.bill_id))
        .subquery()
    )
    # Settled at the cut-off: the bill's charges and adjustments by then equal its cash by then.
    settled = fen(Bill.total_amount) + fen(Bill.adjustment_amount) - func.coalesce(history.c.adjusted_after, 0) == fen(
        Bill.principal_paid
    ) - func.coalesce(history.c.cash_after, 0)
    bills = (
        select(
            Bill.id.label("bill_id"),
            Bill.period.label("label"),
            Bill.issued_on.label("issued_on"),
            Unit.building_id.label("building_id"),
            _big(fen(Bill.principal_paid)).label("paid"),
            _big(fen(Bill.adjustment_amount)).label("adjusted"),
            case((settled, 1), else_=0).label("settled"),
            history.c.quiet_since,
        )
        .join(candidates, candidates.c.bill_id == Bill.id)
        .join(Unit, Unit.id == Bill.unit_id)
        .outerjoin(history, history.c.bill_id == Bill.id)
        .where(Bill.period <= last_label, Bill.issued_on <= as_of)
        .cte("arrears_bills")
    )
    begun = _period_table(instants)
    pairs = (
        select(bills, begun.c.label.label("period"), begun.c.start_at, begun.c.end_at)
        .join(
            begun,
            and_(
                bills.c.label < begun.c.label,
                bills.c.issued_on < begun.c.first_day,
                or_(bills.c.settled == 0, bills.c.quiet_since >= begun.c.start_at),
            ),
        )
        .subquery("pairs")
    )
    at_pair = (
        select(
            pairs.c.bill_id,
            pairs.c.period,
            pairs.c.building_id,
            _big(pairs.c.paid - sum_fen(case((moved.c.at >= pairs.c.start_at, moved.c.cash), else_=0))).label(
                "cash_start"
            ),
            _big(pairs.c.paid - sum_fen(case((moved.c.at >= pairs.c.end_at, moved.c.cash), else_=0))).label("cash_end"),
            _big(pairs.c.adjusted - sum_fen(case((moved.c.at >= pairs.c.start_at, moved.c.adjusted), else_=0))).label(
                "adjusted_start"
            ),
        )
        .outerjoin(moved, moved.c.bill_id == pairs.c.bill_id)
        .group_by(
            pairs.c.bill_id,
            pairs.c.period,
            pairs.c.building_id,
            pairs.c.paid,
            pairs.c.adjusted,
        )
        .cte("at_pair")
    )
    kinds = _kinds(select(pairs.c.bill_id).distinct().subquery(), "arrears_kinds")
    left_start, left_end = (
        _at_least_zero(at_pair.c.cash_start),
        _at_least_zero(at_pair.c.cash_end),
    )
    paid_before = _waterfall(left_start, kinds.c.before, kinds.c.net)
    paid_by_end = _waterfall(left_end, kinds.c.before, kinds.c.net)
    per_kind = (
        select(
            at_pair.c.period.label("label"),
            at_pair.c.building_id,
            kinds.c.kind,
            _big(literal(0)).label("receivable"),
            _big(literal(0)).label("collected"),
            _big(kinds.c.net - paid_before).label("arrears_at_start"),
            _big(paid_by_end - paid_before).label("arrears_recovered"),
        )
        .join(kinds, kinds.c.bill_id == at_pair.c.bill_id)
        .where(or_(kinds.c.net != paid_before, paid_by_end != paid_before))
    )
    one_per_bill = select(kinds.c.bill_id, func.max(kinds.c.lines).label("lines")).group_by(kinds.c.bill_id).subquery()
    adjustment_before = _at_least_zero(left_start - one_per_bill.c.lines)
    adjustment_by_end = _at_least_zero(left_end - one_per_bill.c.lines)
    adjustments = (
        select(
            at_pair.c.period.label("label"),
            at_pair.c.building_id,
            literal(ADJUSTMENT_KIND, String).label("kind"),
            _big(literal(0)).label("receivable"),
            _big(literal(0)).label("collected"),
            _big(at_pair.c.adjusted_start - adjustment_before).label("arrears_at_start"),
            _big(adjustment_by_end - adjustment_before).label("arrears_recovered"),
        )
        .join(one_per_bill, one_per_bill.c.bill_id == at_pair.c.bill_id)
        .where(
            or_(at_pair.c.adjusted_start != 0, adjustment_by_end > 0),
            or_(
                at_pair.c.adjusted_start != adjustment_before,
                adjustment_by_end != adjustment_before,
            ),
        )
    )
    return per_kind, adjustments


async def collection_in_sql(
    session: AsyncSession,
    *,
    project_id: int,
    periods: Sequence[BillingPeriod],
    as_of: dt.date,
    zone: ZoneInfo,
) -> CollectionReport:
    """`collection.collection_report` of the project's books for `periods` as of the end of `as_of`."""
    cutoff = day_end(as_of, zone)
    labels = [period.label for period in periods]
    instants = _Instants(
        cutoff,
        [
            (
                index,
                period.label,
                day_start(period.start, zone),
                min(cutoff, day_end(period.end, zone)),
                period.start,
            )
            for index, period in enumerate(periods)
            if period.start <= as_of
        ],
    )
    parts = [*_current_rows(project_id, labels, as_of, _movements_since(project_id, cutoff, "moved_since_cutoff"))]
    if instants.periods:
        moved = _movements_since(project_id, instants.earliest, "moved_since_first_start")
        parts.extend(_arrears_rows(project_id, labels[-1], as_of, moved, instants))
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
