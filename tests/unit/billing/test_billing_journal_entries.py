"""Specification of every journal entry the ledger drafts, whole: kind, description, each posting's
account, side, amount to the fen and tags, and the refusals with what they say."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from billing.ledger import (
    ADJUSTMENTS,
    CHANNEL_COUPONS,
    CHANNEL_FEES,
    LATE_FEE_INCOME,
    PREPAID_CREDIT,
    RECEIVABLE,
    RECONCILIATION_WRITE_OFF,
    AllocationPart,
    IssuedBill,
    JournalDraft,
    Posting,
    UnbalancedJournal,
    bank_account,
    clearing_account,
    income_account,
    post_adjustment,
    post_allocations,
    post_bank_receipt,
    post_bills,
    post_channel_fee,
    post_late_fee,
    post_payment,
    post_refund,
    post_reversal,
    post_settlement,
    post_write_off,
)


def refusal(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(UnbalancedJournal) as refused:
        call()
    return str(refused.value)


def test_account_names() -> None:
    assert (clearing_account("WECHAT"), income_account("PROPERTY"), bank_account("ICBC 0101")) == (
        "CLEARING:WECHAT",
        "INCOME:PROPERTY",
        "BANK:ICBC 0101",
    )
    # the account column holds 48 characters
    assert bank_account("x" * 60) == "BANK:" + "x" * 43


def test_bills_post_receivable_per_bill_and_income_per_code_leaving_out_what_is_zero() -> None:
    draft = post_bills(
        [
            IssuedBill(1, 10, {"PROPERTY": D("337.40"), "PARKING": D("300.00")}),
            IssuedBill(2, 11, {"PROPERTY": D("0.00"), "ELEVATOR": D("0.00")}),
            IssuedBill(3, 12, {"PROPERTY": D("0.50"), "WATER": D("0.40")}),
        ],
        "bills of 2026-11",
    )

    assert draft == JournalDraft(
        "BILLS_ISSUED",
        "bills of 2026-11",
        (
            Posting(RECEIVABLE, debit=D("637.40"), unit_id=10, bill_id=1),
            Posting(RECEIVABLE, debit=D("0.90"), unit_id=12, bill_id=3),
            Posting("INCOME:PROPERTY", credit=D("337.90")),
            Posting("INCOME:PARKING", credit=D("300.00")),
            Posting("INCOME:WATER", credit=D("0.40")),
        ),
    )


def test_a_bill_whose_rule_nets_below_zero_is_refused() -> None:
    message = refusal(lambda: post_bills([IssuedBill(4, 10, {"PROPERTY": D("-0.01")})], "bills"))

    assert message == "bill 4: rule PROPERTY nets to -0.01"


def test_a_payment_lands_on_its_channel_and_in_the_units_prepaid_credit() -> None:
    assert post_payment(payment_id=7, unit_id=10, channel="WECHAT", amount=D("0.50"), description="pay") == JournalDraft(
        "PAYMENT",
        "pay",
        (
            Posting("CLEARING:WECHAT", debit=D("0.50"), unit_id=10, payment_id=7),
            Posting(PREPAID_CREDIT, credit=D("0.50"), unit_id=10, payment_id=7),
        ),
    )
    assert refusal(
        lambda: post_payment(payment_id=7, unit_id=10, channel="CASH", amount=D("0.00"), description="pay")
    ) == "payment 7: amount 0.00 is not positive"


def test_allocations_move_prepaid_credit_onto_each_bill_that_receives_something() -> None:
    draft = post_allocations(
        payment_id=7,
        unit_id=10,
        parts=[
            AllocationPart(1, D("268.20"), D("2.01")),
            AllocationPart(2, D("0.00"), D("0.00")),
            AllocationPart(3, D("0.50"), D("0.00")),
            AllocationPart(4, D("0.00"), D("0.30")),
        ],
        kind="ALLOCATION",
        description="paid on bills",
    )

    assert draft == JournalDraft(
        "ALLOCATION",
        "paid on bills",
        (
            Posting(PREPAID_CREDIT, debit=D("271.01"), unit_id=10, payment_id=7),
            Posting(RECEIVABLE, credit=D("270.21"), unit_id=10, bill_id=1),
            Posting(RECEIVABLE, credit=D("0.50"), unit_id=10, bill_id=3),
            Posting(RECEIVABLE, credit=D("0.30"), unit_id=10, bill_id=4),
        ),
    )


def test_allocations_of_nothing_post_nothing() -> None:
    parts = [AllocationPart(1, D("0.00"), D("0.00"))]

    assert post_allocations(payment_id=7, unit_id=10, parts=parts, kind="ALLOCATION", description="d") is None
    assert post_allocations(payment_id=7, unit_id=10, parts=[], kind="ALLOCATION", description="d") is None


@pytest.mark.parametrize(("principal", "late_fee"), [("-0.01", "1.00"), ("1.00", "-0.01"), ("-1.00", "-1.00")])
def test_a_negative_allocation_is_refused(principal: str, late_fee: str) -> None:
    part = AllocationPart(5, D(principal), D(late_fee))

    message = refusal(
        lambda: post_allocations(payment_id=7, unit_id=10, parts=[part], kind="ALLOCATION", description="d")
    )

    assert message == "allocation to bill 5 is negative"


def test_a_late_fee_is_receivable_against_late_fee_income() -> None:
    assert post_late_fee(bill_id=1, unit_id=10, amount=D("2.01"), description="fee") == JournalDraft(
        "LATE_FEE",
        "fee",
        (Posting(RECEIVABLE, debit=D("2.01"), unit_id=10, bill_id=1), Posting(LATE_FEE_INCOME, credit=D("2.01"))),
    )


def test_adjustments_raise_or_lower_the_bills_receivable_against_adjustments() -> None:
    raised = post_adjustment(bill_id=1, unit_id=10, amount=D("5.00"), raises_bill=True, description="meter misread")
    lowered = post_adjustment(bill_id=1, unit_id=10, amount=D("5.00"), raises_bill=False, description="goodwill")

    assert raised == JournalDraft(
        "ADJUSTMENT",
        "meter misread",
        (Posting(RECEIVABLE, debit=D("5.00"), unit_id=10, bill_id=1), Posting(ADJUSTMENTS, credit=D("5.00"))),
    )
    assert lowered == JournalDraft(
        "ADJUSTMENT",
        "goodwill",
        (Posting(RECEIVABLE, credit=D("5.00"), unit_id=10, bill_id=1), Posting(ADJUSTMENTS, debit=D("5.00"))),
    )


def test_a_refund_gives_prepaid_credit_back_on_the_payments_channel() -> None:
    assert post_refund(payment_id=7, unit_id=10, channel="ALIPAY", amount=D("31.80"), description="refund") == JournalDraft(
        "REFUND",
        "refund",
        (
            Posting(PREPAID_CREDIT, debit=D("31.80"), unit_id=10, payment_id=7),
            Posting("CLEARING:ALIPAY", credit=D("31.80"), unit_id=10, payment_id=7),
        ),
    )


def test_a_reversal_makes_each_bill_owe_again_and_takes_the_unused_credit() -> None:
    draft = post_reversal(
        payment_id=7,
        unit_id=10,
        channel="BANK_TRANSFER",
        taken_back=[AllocationPart(1, D("268.20"), D("2.01")), AllocationPart(2, D("0.00"), D("0.00")), AllocationPart(3, D("0.40"), D("0.00"))],
        credit_left=D("0.39"),
        description="bounced",
    )

    assert draft == JournalDraft(
        "REVERSAL",
        "bounced",
        (
            Posting(RECEIVABLE, debit=D("270.21"), unit_id=10, bill_id=1),
            Posting(RECEIVABLE, debit=D("0.40"), unit_id=10, bill_id=3),
            Posting(PREPAID_CREDIT, debit=D("0.39"), unit_id=10, payment_id=7),
            Posting("CLEARING:BANK_TRANSFER", credit=D("271.00"), unit_id=10, payment_id=7),
        ),
    )


def test_a_reversal_of_a_payment_no_bill_took_only_takes_the_credit() -> None:
    draft = post_reversal(
        payment_id=7, unit_id=10, channel="CASH", taken_back=[], credit_left=D("50.00"), description="void"
    )

    assert draft.postings == (
        Posting(PREPAID_CREDIT, debit=D("50.00"), unit_id=10, payment_id=7),
        Posting("CLEARING:CASH", credit=D("50.00"), unit_id=10, payment_id=7),
    )


# --- reconciliation --------------------------------------------------------------------------------


def test_a_bank_line_moves_money_from_clearing_to_the_bank_and_a_bank_debit_back() -> None:
    assert post_bank_receipt(bank="ICBC", channel="BANK_TRANSFER", amount=D("0.50"), description="in") == JournalDraft(
        "BANK_RECEIPT",
        "in",
        (Posting("BANK:ICBC", debit=D("0.50")), Posting("CLEARING:BANK_TRANSFER", credit=D("0.50"))),
    )
    assert post_bank_receipt(bank="ICBC", channel="BANK_TRANSFER", amount=D("-31.80"), description="out") == JournalDraft(
        "BANK_RECEIPT",
        "out",
        (Posting("CLEARING:BANK_TRANSFER", debit=D("31.80")), Posting("BANK:ICBC", credit=D("31.80"))),
    )


def test_a_settlement_banks_the_net_and_books_fees_and_coupons_as_expenses() -> None:
    draft = post_settlement(
        bank="ICBC", channel="WECHAT", cleared=D("1000.00"), fees=D("0.60"), coupons=D("0.40"), description="T+1"
    )

    assert draft == JournalDraft(
        "SETTLEMENT",
        "T+1",
        (
            Posting("BANK:ICBC", debit=D("999.00")),
            Posting(CHANNEL_FEES, debit=D("0.60")),
            Posting(CHANNEL_COUPONS, debit=D("0.40")),
            Posting("CLEARING:WECHAT", credit=D("1000.00")),
        ),
    )


def test_a_settlement_leaves_out_the_sides_that_are_zero() -> None:
    small = post_settlement(bank="ICBC", channel="WECHAT", cleared=D("0.50"), fees=D("0.00"), coupons=D("0.00"), description="d")
    all_fees = post_settlement(bank="ICBC", channel="ALIPAY", cleared=D("6.00"), fees=D("6.00"), coupons=D("0.00"), description="d")
    all_coupons = post_settlement(bank="ICBC", channel="ALIPAY", cleared=D("6.00"), fees=D("0.00"), coupons=D("6.00"), description="d")

    assert small.postings == (Posting("BANK:ICBC", debit=D("0.50")), Posting("CLEARING:WECHAT", credit=D("0.50")))
    assert all_fees.postings == (Posting(CHANNEL_FEES, debit=D("6.00")), Posting("CLEARING:ALIPAY", credit=D("6.00")))
    assert all_coupons.postings == (Posting(CHANNEL_COUPONS, debit=D("6.00")), Posting("CLEARING:ALIPAY", credit=D("6.00")))


def test_a_channels_own_fee_line_is_an_expense_whatever_its_sign() -> None:
    expected = JournalDraft(
        "CHANNEL_FEE", "服务费", (Posting(CHANNEL_FEES, debit=D("0.60")), Posting("CLEARING:ALIPAY", credit=D("0.60")))
    )

    assert post_channel_fee(channel="ALIPAY", amount=D("-0.60"), description="服务费") == expected
    assert post_channel_fee(channel="ALIPAY", amount=D("0.60"), description="服务费") == expected


def test_a_write_off_books_money_found_or_lost_against_the_account() -> None:
    found = post_write_off(account="CLEARING:WECHAT", difference=D("0.50"), description="found")
    lost = post_write_off(account="BANK:ICBC", difference=D("-2.00"), description="lost")

    assert found == JournalDraft(
        "WRITE_OFF",
        "found",
        (Posting("CLEARING:WECHAT", debit=D("0.50")), Posting(RECONCILIATION_WRITE_OFF, credit=D("0.50"))),
    )
    assert lost == JournalDraft(
        "WRITE_OFF",
        "lost",
        (Posting(RECONCILIATION_WRITE_OFF, debit=D("2.00")), Posting("BANK:ICBC", credit=D("2.00"))),
    )
    assert refusal(lambda: post_write_off(account="BANK:ICBC", difference=D("0.00"), description="d")) == (
        "nothing to write off"
    )


# --- what a draft refuses --------------------------------------------------------------------------


def test_a_draft_says_why_it_refuses_its_postings() -> None:
    debit = Posting(RECEIVABLE, debit=D("1.00"))

    assert refusal(lambda: JournalDraft("PAYMENT", "d", ())) == "PAYMENT: an entry needs postings"
    assert refusal(lambda: JournalDraft("PAYMENT", "d", (debit, Posting("INCOME:A", credit=D("0.99"))))) == (
        "PAYMENT: debits 1.00 ≠ credits 0.99"
    )
    two_sided = Posting(RECEIVABLE, debit=D("-1.00"), credit=D("1.00"))
    assert refusal(lambda: JournalDraft("PAYMENT", "d", (two_sided, debit))) == (
        f"PAYMENT: {two_sided} is not one positive side"
    )


@pytest.mark.parametrize(("debit", "credit"), [("-1.00", "1.00"), ("1.00", "-1.00"), ("-1.00", "0.00"), ("0.00", "-1.00")])
def test_a_posting_with_a_negative_side_is_refused(debit: str, credit: str) -> None:
    posting = Posting(RECEIVABLE, debit=D(debit), credit=D(credit))
    # a valid posting that balances the entry, so that only the negative side is wrong
    gap = D(credit) - D(debit)
    balancing = Posting("INCOME:A", debit=gap) if gap > 0 else Posting("INCOME:A", credit=-gap)

    with pytest.raises(UnbalancedJournal):
        JournalDraft("X", "x", (posting, balancing))


def test_a_reversal_with_no_credit_left_takes_back_only_what_the_bills_received() -> None:
    draft = post_reversal(
        payment_id=7,
        unit_id=10,
        channel="CASH",
        taken_back=[AllocationPart(1, D("50.00"), D("0.00"))],
        credit_left=D("0.00"),
        description="void",
    )

    assert draft.postings == (
        Posting(RECEIVABLE, debit=D("50.00"), unit_id=10, bill_id=1),
        Posting("CLEARING:CASH", credit=D("50.00"), unit_id=10, payment_id=7),
    )
