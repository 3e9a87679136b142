"""A unit's journal lines folded into statement entries with the running balance (`billing.unit_statement`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.ledger import PREPAID_CREDIT, RECEIVABLE
from billing.unit_statement import StatementEntry, statement_entries
from kernel.vocabulary import Locale

_DAY = dt.datetime(2026, 11, 1, 1, tzinfo=dt.UTC)


def _at(days: int) -> dt.datetime:
    return _DAY + dt.timedelta(days=days)


def test_entries_carry_the_running_balance_of_receivable_less_prepaid_credit_to_the_fen() -> None:
    # given two bills, a payment landing as credit, its allocation onto the first bill, a late fee and a refund
    lines = [
        (1, _at(0), "BILLS_ISSUED", RECEIVABLE, 26820, 0, 11, None, "2026-11", None),
        (1, _at(0), "BILLS_ISSUED", RECEIVABLE, 1, 0, 12, None, "2026-12", None),
        (2, _at(5), "PAYMENT", PREPAID_CREDIT, 0, 30000, None, 7, None, "WECHAT"),
        (3, _at(5), "ALLOCATION", PREPAID_CREDIT, 26820, 0, None, 7, None, "WECHAT"),
        (3, _at(5), "ALLOCATION", RECEIVABLE, 0, 26820, 11, None, "2026-11", None),
        (4, _at(40), "LATE_FEE", RECEIVABLE, 3, 0, 12, None, "2026-12", None),
        (5, _at(41), "REFUND", PREPAID_CREDIT, 3180, 0, None, 7, None, "WECHAT"),
    ]

    # when they are folded
    entries, owed, credit = statement_entries(lines, Locale.ZH_CN)

    # then the allocation, which moves credit onto a bill, is no entry, and every other one is, in order
    assert entries == [
        StatementEntry(_at(0), "BILLS_ISSUED", "2026-11、2026-12 账单", Decimal("268.21"), Decimal("268.21"), (11, 12), ()),
        StatementEntry(_at(5), "PAYMENT", "缴费（微信支付）", Decimal("-300.00"), Decimal("-31.79"), (), (7,)),
        StatementEntry(_at(40), "LATE_FEE", "滞纳金（2026-12 账单）", Decimal("0.03"), Decimal("-31.76"), (12,), ()),
        StatementEntry(_at(41), "REFUND", "退款（微信支付）", Decimal("31.80"), Decimal("0.04"), (), (7,)),
    ]
    assert [str(entry.amount) for entry in entries] == ["268.21", "-300.00", "0.03", "31.80"]
    # and what is owed and prepaid after them, in fen
    assert (owed, credit) == (4, 0)


def test_an_entry_names_each_bill_and_payment_once_in_order_in_the_projects_language() -> None:
    # given a reversal that gives two bills their amounts back and takes the payment's credit
    lines = [
        (9, _at(3), "REVERSAL", RECEIVABLE, 500, 0, 22, None, "2026-12", None),
        (9, _at(3), "REVERSAL", RECEIVABLE, 700, 0, 21, None, "2026-11", None),
        (9, _at(3), "REVERSAL", RECEIVABLE, 100, 0, 22, None, "2026-12", None),
        (9, _at(3), "REVERSAL", PREPAID_CREDIT, 200, 0, None, 8, None, "ALIPAY"),
    ]

    # when they are folded in English
    entries, owed, credit = statement_entries(lines, Locale.EN)

    # then one entry raises the balance by the bills' amounts and the credit taken
    (entry,) = entries
    assert (entry.amount, entry.balance, entry.bill_ids, entry.payment_ids) == (
        Decimal("15.00"), Decimal("15.00"), (21, 22), (8,)
    )
    assert entry.description == "payment reversed (Alipay)"
    assert (owed, credit) == (1300, -200)


def test_no_lines_make_an_empty_statement_owing_nothing() -> None:
    assert statement_entries([], Locale.ZH_CN) == ([], 0, 0)


def test_two_lines_of_one_entry_name_their_bill_once_and_two_bills_in_order() -> None:
    # given a bill's late fee booked in two lines, and an adjustment over two bills listed newest first
    lines = [
        (4, _at(40), "LATE_FEE", RECEIVABLE, 3, 0, 12, None, "2026-12", None),
        (4, _at(40), "LATE_FEE", RECEIVABLE, 2, 0, 12, None, "2026-12", None),
        (6, _at(42), "ADJUSTMENT", RECEIVABLE, 0, 100, 12, None, "2026-12", None),
        (6, _at(42), "ADJUSTMENT", RECEIVABLE, 0, 100, 11, None, "2026-11", None),
    ]

    # when they are folded
    entries, _, _ = statement_entries(lines, Locale.ZH_CN)

    # then each entry names each bill and period once, in order
    assert [(entry.amount, entry.bill_ids) for entry in entries] == [(Decimal("0.05"), (12,)), (Decimal("-2.00"), (11, 12))]
    assert entries[0].description == "滞纳金（2026-12 账单）"
    assert "2026-11、2026-12" in entries[1].description
