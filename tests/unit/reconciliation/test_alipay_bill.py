"""Alipay 业务明细 and 账务明细: GBK zips, `#` lines, trailing TABs, summary members, bracket variants."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.reconciliation.alipay import parse_alipay_bill
from billing.reconciliation.statement import LineKind, SourceKind, StatementRejected
from tests.unit.reconciliation.statements import (
    alipay_business_zip,
    alipay_ledger_zip,
    alipay_trade,
    ledger_row,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse(content: bytes):
    return parse_alipay_bill(content, account="2088123456789012", zone=SHANGHAI)


def trades():
    return [
        alipay_trade(1, "100.00", service="-0.60"),
        alipay_trade(2, "50.00", service="-0.30"),
        alipay_trade(1, "-40.00", service="0.24", refund=True),
    ]


def test_a_gbk_zip_with_the_summary_first_reads_the_detail_member() -> None:
    statement = parse(alipay_business_zip(trades(), summary_first=True))
    assert statement.source is SourceKind.ALIPAY
    assert [line.kind for line in statement.lines] == [LineKind.PAYMENT, LineKind.PAYMENT, LineKind.REFUND]
    assert {total.name for total in statement.totals} >= {"订单金额（元）", "服务费（元）", "实收净额（元）"}


def test_the_member_order_does_not_matter() -> None:
    assert parse(alipay_business_zip(trades(), summary_first=False)).lines == parse(alipay_business_zip(trades())).lines


def test_long_numbers_lose_their_trailing_tab() -> None:
    line = parse(alipay_business_zip(trades())).lines[0]
    assert line.transaction_id == "202612012200140000000001"
    assert line.order_no == "CY20261201000001"
    assert line.line_key == "ALIPAY:2088123456789012:P:202612012200140000000001"


def test_the_negative_service_charge_becomes_a_positive_fee_and_a_refund_gives_it_back() -> None:
    payment, _, refund = parse(alipay_business_zip(trades())).lines
    assert payment.fee == Decimal("0.60")
    assert refund.amount == Decimal("-40.00")
    assert refund.fee == Decimal("-0.24")
    assert refund.refund_no == "RF00000001"


def test_ascii_brackets_in_headers_read_like_full_width_ones() -> None:
    ascii_lines = parse(alipay_business_zip(trades(), ascii_brackets=True)).lines
    full_width_lines = parse(alipay_business_zip(trades())).lines
    # Only the raw fields keep the headers as written.
    assert [replace(line, raw=()) for line in ascii_lines] == [replace(line, raw=()) for line in full_width_lines]


def test_a_summary_that_disagrees_is_refused_with_the_difference() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse(alipay_business_zip(trades(), stated={"订单金额（元）": "120.00"}))
    assert refused.value.column == "订单金额（元）"
    assert refused.value.difference == Decimal("-10.00")


def test_a_wrong_refund_count_is_refused() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse(alipay_business_zip(trades(), stated={"退款订单总笔数": "0"}))
    assert refused.value.column == "退款订单总笔数"
    assert refused.value.difference == Decimal("1")


def test_the_account_ledger_sorts_payments_fees_refunds_and_withdrawals() -> None:
    rows = [
        ledger_row(1, "在线支付", income="100.00", order=1),
        ledger_row(2, "收费", expense="-0.60", order=1),
        ledger_row(3, "交易退款", expense="-40.00", order=1),
        ledger_row(4, "提现", expense="-59.40"),
    ]
    statement = parse(alipay_ledger_zip(rows))
    assert [(line.kind, line.amount) for line in statement.lines] == [
        (LineKind.PAYMENT, Decimal("100.00")),
        (LineKind.FEE, Decimal("-0.60")),
        (LineKind.REFUND, Decimal("-40.00")),
        (LineKind.PAYOUT, Decimal("-59.40")),
    ]
    assert statement.lines[1].order_no == "CY20261201000001"


def test_the_ledger_footer_totals_are_checked() -> None:
    rows = [ledger_row(1, "在线支付", income="100.00", order=1), ledger_row(2, "收费", expense="-0.60", order=1)]
    with pytest.raises(StatementRejected) as refused:
        parse(alipay_ledger_zip(rows, income_stated="100.01"))
    assert refused.value.column == "收入合计"
    assert refused.value.difference == Decimal("-0.01")


def test_a_zip_without_a_detail_member_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    with pytest.raises(StatementRejected, match="one detail CSV"):
        parse(buffer.getvalue())


def test_a_zip_member_that_expands_too_far_is_refused_unread() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("业务明细.csv", b"0" * 5_000_000)
    with pytest.raises(StatementRejected, match="decompression bomb"):
        parse(buffer.getvalue())
