"""Specification of the journal's posting rules and of payment allocation and late-fee accrual."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.allocation import BillBalance, accrue_late_fee, plan_allocation
from billing.ledger import (
    PREPAID_CREDIT,
    RECEIVABLE,
    AllocationPart,
    IssuedBill,
    JournalDraft,
    Posting,
    UnbalancedJournal,
    post_adjustment,
    post_allocations,
    post_bills,
    post_payment,
    post_refund,
    post_reversal,
)
from billing.model import LateFeePolicy

ROOT = Path(__file__).resolve().parents[3]
POLICY = LateFeePolicy(daily_rate=D("0.0005"), grace_days=5)
money = st.integers(min_value=0, max_value=10_000_000).map(lambda fen: D(fen).scaleb(-2))


def test_a_journal_draft_refuses_unbalanced_postings() -> None:
    with pytest.raises(UnbalancedJournal):
        JournalDraft("X", "x", (Posting(RECEIVABLE, debit=D("1.00")), Posting("INCOME:A", credit=D("0.99"))))


def test_a_posting_with_both_sides_or_neither_is_refused() -> None:
    with pytest.raises(UnbalancedJournal):
        JournalDraft("X", "x", (Posting(RECEIVABLE, debit=D("1.00"), credit=D("1.00")),))
    with pytest.raises(UnbalancedJournal):
        JournalDraft("X", "x", (Posting(RECEIVABLE),))


def test_bills_post_receivable_per_bill_against_income_per_rule_code() -> None:
    draft = post_bills(
        [
            IssuedBill(1, 10, {"PROPERTY": D("247.80"), "COMMON": D("20.40")}),
            IssuedBill(2, 11, {"PROPERTY": D("336.00"), "COMMON": D("27.67")}),
        ],
        "bills",
    )

    assert draft is not None
    assert [(p.account, p.debit, p.credit, p.bill_id) for p in draft.postings] == [
        (RECEIVABLE, D("268.20"), D("0.00"), 1),
        (RECEIVABLE, D("363.67"), D("0.00"), 2),
        ("INCOME:PROPERTY", D("0.00"), D("583.80"), None),
        ("INCOME:COMMON", D("0.00"), D("48.07"), None),
    ]


def test_a_fully_waived_bill_posts_nothing() -> None:
    assert post_bills([IssuedBill(1, 10, {"PROPERTY": D("0.00")})], "bills") is None


def test_a_payment_lands_in_prepaid_credit_and_allocations_move_it_onto_bills() -> None:
    payment = post_payment(payment_id=7, unit_id=10, channel="WECHAT", amount=D("300.00"), description="p")
    allocation = post_allocations(
        payment_id=7, unit_id=10, parts=[AllocationPart(1, D("268.20"), D("2.01"))], kind="ALLOCATION", description="a"
    )

    assert [(p.account, p.debit, p.credit) for p in payment.postings] == [
        ("CLEARING:WECHAT", D("300.00"), D("0.00")),
        (PREPAID_CREDIT, D("0.00"), D("300.00")),
    ]
    assert allocation is not None
    assert [(p.account, p.debit, p.credit, p.bill_id) for p in allocation.postings] == [
        (PREPAID_CREDIT, D("270.21"), D("0.00"), None),
        (RECEIVABLE, D("0.00"), D("270.21"), 1),
    ]


def test_a_credit_adjustment_lowers_the_receivable_and_a_debit_raises_it() -> None:
    credit = post_adjustment(bill_id=1, unit_id=10, amount=D("5.00"), raises_bill=False, description="c")
    debit = post_adjustment(bill_id=1, unit_id=10, amount=D("5.00"), raises_bill=True, description="d")

    assert (credit.postings[0].account, credit.postings[0].credit) == (RECEIVABLE, D("5.00"))
    assert (debit.postings[0].account, debit.postings[0].debit) == (RECEIVABLE, D("5.00"))


def test_a_reversal_restores_each_bill_and_the_credit_against_the_channel() -> None:
    draft = post_reversal(
        payment_id=7,
        unit_id=10,
        channel="BANK_TRANSFER",
        taken_back=[AllocationPart(1, D("268.20"), D("0.00"))],
        credit_left=D("31.80"),
        description="r",
    )
    refund = post_refund(payment_id=7, unit_id=10, channel="CASH", amount=D("1.00"), description="r")

    assert [(p.account, p.debit, p.credit) for p in draft.postings] == [
        (RECEIVABLE, D("268.20"), D("0.00")),
        (PREPAID_CREDIT, D("31.80"), D("0.00")),
        ("CLEARING:BANK_TRANSFER", D("0.00"), D("300.00")),
    ]
    assert refund.total_debit == refund.total_credit == D("1.00")


def test_allocation_pays_each_bills_late_fee_before_its_principal_oldest_first() -> None:
    planned, left = plan_allocation(
        D("300.00"), [BillBalance(1, D("2.01"), D("268.20")), BillBalance(2, D("0.00"), D("268.20"))]
    )

    assert [(a.bill_id, a.late_fee, a.principal) for a in planned] == [(1, D("2.01"), D("268.20")), (2, D("0.00"), D("29.79"))]
    assert left == D("0.00")


def test_an_overpayment_is_left_over() -> None:
    planned, left = plan_allocation(D("500.00"), [BillBalance(1, D("0.00"), D("268.20"))])

    assert [a.amount for a in planned] == [D("268.20")]
    assert left == D("231.80")


@given(amount=money, dues=st.lists(st.tuples(money, money), max_size=6))
def test_allocation_spends_exactly_the_amount_and_never_more_than_a_bill_asks(amount: D, dues: list[tuple[D, D]]) -> None:
    bills = [BillBalance(index, fee, principal) for index, (fee, principal) in enumerate(dues)]

    planned, left = plan_allocation(amount, bills)

    assert sum((a.amount for a in planned), D("0.00")) + left == amount
    assert left >= 0
    for allocation in planned:
        bill = bills[allocation.bill_id]
        assert allocation.late_fee <= bill.late_fee_due and allocation.principal <= bill.principal_due
        # principal is touched only once the bill's late fee is paid in full
        assert allocation.principal == 0 or allocation.late_fee == bill.late_fee_due
    if left > 0:
        assert sum((a.amount for a in planned), D("0.00")) == sum((b.late_fee_due + b.principal_due for b in bills), D("0.00"))


def test_no_late_fee_accrues_within_the_grace_period() -> None:
    fee = accrue_late_fee(
        principal_outstanding=D("268.20"), original_principal=D("268.20"), due_date=date(2026, 11, 17),
        charged_through=None, charged_so_far=D("0.00"), as_of=date(2026, 11, 22), policy=POLICY,
    )

    assert fee == D("0.00")


def test_late_fee_counts_from_the_last_charge_on_what_is_still_owed() -> None:
    # 15 days on 268.20, then 10 more days on the 100.00 left after a payment
    first = accrue_late_fee(
        principal_outstanding=D("268.20"), original_principal=D("268.20"), due_date=date(2026, 11, 17),
        charged_through=None, charged_so_far=D("0.00"), as_of=date(2026, 12, 7), policy=POLICY,
    )
    second = accrue_late_fee(
        principal_outstanding=D("100.00"), original_principal=D("268.20"), due_date=date(2026, 11, 17),
        charged_through=date(2026, 12, 7), charged_so_far=first, as_of=date(2026, 12, 17), policy=POLICY,
    )

    assert (first, second) == (D("2.01"), D("0.50"))


def test_the_cap_bounds_every_late_fee_charged_on_a_bill_together() -> None:
    capped = LateFeePolicy(daily_rate=D("0.01"), grace_days=0, cap_ratio=D("0.1"))

    fee = accrue_late_fee(
        principal_outstanding=D("100.00"), original_principal=D("100.00"), due_date=date(2026, 1, 1),
        charged_through=date(2026, 1, 5), charged_so_far=D("8.00"), as_of=date(2026, 3, 1), policy=capped,
    )

    assert fee == D("2.00")


@given(owed=money, days=st.integers(min_value=0, max_value=800), more=st.integers(min_value=0, max_value=800))
def test_accrued_late_fee_is_never_negative_and_grows_with_time(owed: D, days: int, more: int) -> None:
    due = date(2026, 1, 1)
    as_of = date.fromordinal(due.toordinal() + days)
    later = date.fromordinal(as_of.toordinal() + more)

    def fee(day: date) -> D:
        return accrue_late_fee(
            principal_outstanding=owed, original_principal=owed, due_date=due, charged_through=None,
            charged_so_far=D("0.00"), as_of=day, policy=POLICY,
        )

    assert D(0) <= fee(as_of) <= fee(later)
