"""The collection facts of a bill, summed up to any day, give the report's per-bill figures: each fee kind's
waterfall share of the cash booked by then, and the settled residual exactly where the report passes a
settled bill by (generated bills and movements, hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from billing.reports.collection import ADJUSTMENT_KIND
from billing.reports.collection_facts import (
    BillChange,
    FactBill,
    ResidualSpan,
    SettledSince,
    bill_history,
    changed_bill,
    paid_by_kind,
    settled_residual,
)

ISSUED = dt.date(2026, 3, 1)


def _bill(*charges: tuple[str, int]) -> FactBill:
    return FactBill(7, "2026-02", 1, ISSUED, charges)


def test_a_payment_short_of_the_bill_pays_its_kinds_in_bill_order() -> None:
    bill = _bill(("PROPERTY", 30000), ("PARKING", 20000))

    flows, spans = bill_history(bill, [BillChange(dt.date(2026, 3, 5), cash=40000)])

    assert flows == {
        ("2026-02", 1, ISSUED, "PROPERTY", ISSUED): [30000, 0],
        ("2026-02", 1, ISSUED, "PARKING", ISSUED): [20000, 0],
        ("2026-02", 1, ISSUED, "PROPERTY", dt.date(2026, 3, 5)): [0, 30000],
        ("2026-02", 1, ISSUED, "PARKING", dt.date(2026, 3, 5)): [0, 10000],
    }
    assert spans == []


def test_a_bill_settled_against_its_credit_keeps_the_mirror_of_what_its_kinds_show_open_until_it_moves() -> None:
    # 300.00 of property fee, a credit of 100.00 on 3-03, 200.00 paid on 3-05, the payment reversed on 4-10
    bill = _bill(("PROPERTY", 30000),)
    changes = [
        BillChange(dt.date(2026, 3, 3), adjusted=-10000),
        BillChange(dt.date(2026, 3, 5), cash=20000),
        BillChange(dt.date(2026, 4, 10), cash=-20000),
    ]

    _, spans = bill_history(bill, changes)

    assert sorted((s.fee_kind, s.settled_from, s.settled_until, s.amount) for s in spans) == [
        (ADJUSTMENT_KIND, dt.date(2026, 3, 5), dt.date(2026, 4, 10), -10000),
        ("PROPERTY", dt.date(2026, 3, 5), dt.date(2026, 4, 10), 10000),
    ]
    assert settled_residual(bill, 20000, -10000) == {"PROPERTY": 10000, ADJUSTMENT_KIND: -10000}
    assert settled_residual(bill, 19999, -10000) is None


_DAYS = st.integers(min_value=0, max_value=40)


@st.composite
def bills_and_changes(draw: st.DrawFn) -> tuple[FactBill, list[BillChange]]:
    kinds = draw(st.lists(st.sampled_from(["PROPERTY", "SERVICE", "PARKING"]), min_size=1, max_size=3, unique=True))
    bill = _bill(*((kind, draw(st.integers(min_value=0, max_value=500))) for kind in kinds))
    offsets = sorted(draw(st.lists(_DAYS, max_size=8)))
    cash = adjusted = 0
    changes = []
    for offset in offsets:
        if draw(st.booleans()):
            step = draw(st.integers(min_value=-cash, max_value=600))
            cash += step
            changes.append(BillChange(ISSUED + dt.timedelta(days=offset), cash=step))
        else:
            step = draw(st.integers(min_value=-(bill.lines + adjusted), max_value=200))
            adjusted += step
            changes.append(BillChange(ISSUED + dt.timedelta(days=offset), adjusted=step))
    return bill, changes


@given(bills_and_changes(), _DAYS)
def test_the_flows_up_to_any_day_are_the_waterfall_of_the_cash_booked_by_then(
    drawn: tuple[FactBill, list[BillChange]], offset: int
) -> None:
    bill, changes = drawn
    day = ISSUED + dt.timedelta(days=offset)
    flows, _ = bill_history(bill, changes)

    booked = [change for change in changes if change.day <= day]
    cash = sum(change.cash for change in booked)
    adjusted = sum(change.adjusted for change in booked)
    collected: dict[str, int] = {}
    receivable: dict[str, int] = {}
    for (_, _, _, kind, on), (owed, paid) in flows.items():
        if on <= day:
            collected[kind] = collected.get(kind, 0) + paid
            receivable[kind] = receivable.get(kind, 0) + owed
    assert {k: v for k, v in collected.items() if v} == {k: v for k, v in paid_by_kind(cash, bill.charges).items() if v}
    expected = dict(bill.charges)
    expected[ADJUSTMENT_KIND] = adjusted
    assert {k: v for k, v in receivable.items() if v} == {k: v for k, v in expected.items() if v}


@given(bills_and_changes(), _DAYS, _DAYS)
def test_the_residual_counts_where_the_bill_is_settled_at_the_cut_off_and_quiet_since_before_the_start(
    drawn: tuple[FactBill, list[BillChange]], first: int, second: int
) -> None:
    bill, changes = drawn
    start, cutoff = sorted((ISSUED + dt.timedelta(days=first), ISSUED + dt.timedelta(days=second)))
    _, spans = bill_history(bill, changes)

    counted: dict[str, int] = {}
    for span in spans:
        if span.settled_from < start and (span.settled_until is None or span.settled_until > cutoff):
            counted[span.fee_kind] = counted.get(span.fee_kind, 0) + span.amount
    booked = [change for change in changes if change.day <= cutoff]
    residual = settled_residual(bill, sum(c.cash for c in booked), sum(c.adjusted for c in booked))
    quiet_since = max((change.day for change in booked), default=ISSUED)
    assert counted == (residual if residual and quiet_since < start else {})


@given(bills_and_changes(), st.integers(min_value=0, max_value=8))
def test_facts_kept_movement_by_movement_equal_the_facts_of_the_whole_history(
    drawn: tuple[FactBill, list[BillChange]], split: int
) -> None:
    bill, changes = drawn
    earlier, later = changes[:split], changes[split:]
    whole_flows, whole_spans = bill_history(bill, earlier + later)

    flows, spans = bill_history(bill, earlier)
    open_spans = [span for span in spans if span.settled_until is None]
    settled = None
    if open_spans:
        settled = SettledSince(open_spans[0].settled_from, {span.fee_kind: span.amount for span in open_spans})
    moved, closed, after = changed_bill(
        bill,
        cash=sum(c.cash for c in earlier),
        adjusted=sum(c.adjusted for c in earlier),
        settled=settled,
        changes=later,
    )
    for key, (owed, paid) in moved.items():
        sums = flows.setdefault(key, [0, 0])
        sums[0] += owed
        sums[1] += paid
    kept = [span for span in spans if span.settled_until is not None] + closed
    if after is not None:
        kept.extend(ResidualSpan(bill.bill_id, kind, after.day, None, amount) for kind, amount in after.residual.items())
    assert {k: v for k, v in flows.items() if v != [0, 0]} == {k: v for k, v in whole_flows.items() if v != [0, 0]}
    assert sorted(kept, key=str) == sorted(whole_spans, key=str)
