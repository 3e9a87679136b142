"""Laws of the matcher over generated days with every kind of anomaly: each payment, refund and line ends
up in exactly one place, the answer does not depend on the order of the inputs, and pairs the database
joins by order number before the call (by the rule `billing.reconciliation.key_join` applies) change
nothing but where their matches come from."""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.reconciliation.matching import (
    Match,
    MatchRule,
    MatchStep,
    PairedLines,
    Reconciliation,
    exact_key_explanation,
    reconcile,
)
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine
from tests.unit.reconciliation.builders import (
    SHANGHAI,
    TERMS,
    at,
    bank_line,
    channel_line,
    payment,
    refund,
    refund_line,
)

AMOUNTS = ["100.00", "250.50", "1000.00", "88.80"]
NAMES = ["张三", "李四", "王小明", None]
FATES = ["line", "other_amount", "no_line", "twice", "bank_no_key", "refunded", "refund_missing"]
RULES = (
    MatchRule(name="unit in memo", pattern=r"(?P<unit>\d+-\d+-\d+)", days_after=3),
    MatchRule(name="name", min_name_similarity=0.8, amount_tolerance=Decimal("1.00")),
    MatchRule(name="amount and date", days_before=1, days_after=2),
)

scenario = st.lists(
    st.tuples(
        st.sampled_from(FATES),
        st.sampled_from(AMOUNTS),
        st.integers(min_value=1, max_value=4),
        st.sampled_from(NAMES),
        st.booleans(),
    ),
    max_size=14,
)
strays = st.lists(
    st.tuples(st.sampled_from(["channel_only", "bank", "refund"]), st.sampled_from(AMOUNTS), st.integers(1, 5)),
    max_size=5,
)


def build(plan, extra):
    payments, lines = [], []
    for number, (fate, amount, day, name, same_charge) in enumerate(plan, start=1):
        charge = "bills:1" if same_charge else None
        if fate == "bank_no_key":
            payments.append(
                payment(number, amount, channel=Channel.BANK_TRANSFER, order=False, day=day, unit=number, payer=name)
            )
            memo = f"3-1-{number:03d}" if number % 2 else None
            lines.append(
                bank_line(number, amount, day=day + 1, memo=memo, name="ZHANG SAN" if name == "张三" else name)
            )
            continue
        refunds = (refund(1000 + number, "10.00", day=day),) if fate in ("refunded", "refund_missing") else ()
        # One charge is one unit's bills: a second payment of it comes from the same unit.
        unit = 900 if same_charge else number
        payments.append(payment(number, amount, day=day, unit=unit, charge=charge, refunds=refunds))
        if fate == "no_line":
            continue
        line_amount = str(Decimal(amount) + 1) if fate == "other_amount" else amount
        lines.append(channel_line(number, line_amount, day=day, fee=f"{Decimal(amount) * Decimal('0.006'):.2f}"))
        if fate == "twice":
            lines.append(
                dataclasses.replace(channel_line(number, amount, day=day, hour=11), line_key=f"WECHAT:P:{number}b")
            )
        if fate == "refunded":
            lines.append(refund_line(number, "10.00", order=number, day=day))
    for position, (kind, amount, day) in enumerate(extra, start=500):
        if kind == "channel_only":
            lines.append(channel_line(position, amount, day=day))
        elif kind == "bank":
            lines.append(bank_line(position, amount, day=day))
        else:
            lines.append(refund_line(position, amount, order=position, day=day))
    return payments, lines


def run(payments, lines, as_of_day: int, paired=()) -> Reconciliation:
    return reconcile(
        lines=lines,
        payments=payments,
        paired=paired,
        terms=TERMS,
        rules=RULES,
        unit_codes={f"3-1-{n:03d}": n for n in range(1, 20)},
        as_of=at(as_of_day),
        zone=SHANGHAI,
    )


@settings(max_examples=150, deadline=None)
@given(plan=scenario, extra=strays, as_of_day=st.integers(min_value=2, max_value=12))
def test_every_payment_refund_and_line_ends_up_in_exactly_one_place(plan, extra, as_of_day) -> None:
    payments, lines = build(plan, extra)
    result = run(payments, lines, as_of_day)
    owners = [*result.matches, *result.exceptions]
    payment_places = Counter(p for owner in owners for p in owner.payment_ids) + Counter(result.pending_payment_ids)
    refund_places = Counter(r for owner in owners for r in owner.refund_ids) + Counter(result.pending_refund_ids)
    line_places = Counter(k for owner in owners for k in owner.line_keys) + Counter(result.pending_line_keys)
    assert payment_places == Counter(p.id for p in payments)
    assert refund_places == Counter(r.id for p in payments for r in p.refunds)
    assert line_places == Counter(line.line_key for line in lines)


@settings(max_examples=100, deadline=None)
@given(plan=scenario, extra=strays, data=st.data())
def test_the_result_does_not_depend_on_the_order_of_the_inputs(plan, extra, data) -> None:
    payments, lines = build(plan, extra)
    shuffled_payments = data.draw(st.permutations(payments))
    shuffled_lines = data.draw(st.permutations(lines))
    assert run(shuffled_payments, shuffled_lines, 8) == run(payments, lines, 8)


@settings(max_examples=100, deadline=None)
@given(plan=scenario)
def test_clean_days_produce_no_exception(plan) -> None:
    clean = [
        (("line" if fate != "bank_no_key" else fate), amount, day, name, False) for fate, amount, day, name, _ in plan
    ]
    # A clean bank transfer carries its unit in the memo, so nothing is left to chance.
    payments, lines = build([(f, a, d, n, c) for f, a, d, n, c in clean], [])
    lines = [
        dataclasses.replace(line, memo=f"3-1-{int(line.line_key.split(':')[1]):03d}")
        if line.line_key.startswith("BANK")
        else line
        for line in lines
    ]
    assert run(payments, lines, 12).exceptions == ()


def sure_pairs(payments, lines) -> list[tuple[StatementLine, object]]:
    """The pairs `key_join` takes out before the core, by its rule in plain Python: a channel payment line
    and the one payment whose order number it carries, same amount; no other line carries that order
    number or the payment's transaction id (a line carrying the transaction id is that line); the payment
    has no refund and shares its unit and amount with no other payment."""
    order_values = Counter(v for line in lines for v in (line.order_no, line.end_to_end_id) if v)
    transaction_values = Counter(v for line in lines for v in (line.transaction_id, line.bank_reference) if v)
    by_order = Counter(p.order_no for p in payments if p.order_no)
    same_charge = Counter((p.unit_id, p.amount) for p in payments)
    payment_of_order = {p.order_no: p for p in payments if p.order_no}
    pairs = []
    for line in lines:
        found = payment_of_order.get(line.order_no) if line.order_no else None
        if found is None or line.kind is not LineKind.PAYMENT or line.source is SourceKind.BANK:
            continue
        if line.amount != found.amount or order_values[line.order_no] > 1 or by_order[line.order_no] > 1:
            continue
        if found.refunds or same_charge[(found.unit_id, found.amount)] > 1:
            continue
        transaction = found.provider_transaction_id
        carried = transaction in (line.transaction_id, line.bank_reference)
        if transaction and (transaction_values[transaction] > 1 or (transaction_values[transaction] and not carried)):
            continue
        pairs.append((line, found))
    return pairs


def without_keys(result: Reconciliation) -> Reconciliation:
    """The result with each settlement's lines counted rather than listed."""

    def counted(settlement):
        return dataclasses.replace(settlement, line_keys=(), paired_lines=settlement.line_count)

    return dataclasses.replace(
        result,
        matches=tuple(
            dataclasses.replace(m, settlement=counted(m.settlement)) if m.settlement else m for m in result.matches
        ),
        settlements=tuple(counted(s) for s in result.settlements),
    )


@settings(max_examples=150, deadline=None)
@given(plan=scenario, extra=strays, as_of_day=st.integers(min_value=2, max_value=12))
def test_pairs_joined_before_the_call_change_nothing_but_where_their_matches_come_from(plan, extra, as_of_day) -> None:
    payments, lines = build(plan, extra)
    whole = run(payments, lines, as_of_day)
    pairs = sure_pairs(payments, lines)
    paired_days: dict[tuple, list[StatementLine]] = {}
    for line, _ in pairs:
        paired_days.setdefault((line.source, line.account, line.booked_at.date()), []).append(line)
    paired = [
        PairedLines(
            source=source,
            account=account,
            day=day,
            count=len(day_lines),
            gross=sum((line.amount for line in day_lines), Decimal(0)),
            coupons=sum((line.amount - line.settled_amount for line in day_lines), Decimal(0)),
            fees=sum((line.fee for line in day_lines), Decimal(0)),
        )
        for (source, account, day), day_lines in paired_days.items()
    ]
    taken_lines = {line.line_key for line, _ in pairs}
    taken_payments = {p.id for _, p in pairs}
    rest = run(
        [p for p in payments if p.id not in taken_payments],
        [line for line in lines if line.line_key not in taken_lines],
        as_of_day,
        paired,
    )
    joined = [
        Match(MatchStep.EXACT_KEY, (line.line_key,), (p.id,), explanation=exact_key_explanation("order_no"))
        for line, p in pairs
    ]
    assert without_keys(whole) == without_keys(
        dataclasses.replace(rest, matches=tuple(sorted([*rest.matches, *joined], key=lambda m: m.line_keys[0])))
    )
