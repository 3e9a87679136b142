"""WeChat Pay trade bills: backticks, summary totals, refunds, coupons, gzip, SUCCESS and REFUND layouts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.reconciliation.statement import LineKind, SourceKind, StatementRejected
from billing.reconciliation.wechat import parse_wechat_bill
from tests.unit.reconciliation.statements import (
    WECHAT_REFUND,
    WECHAT_SUCCESS,
    wechat_bill,
    wechat_payment,
    wechat_refund,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse(content: bytes):
    return parse_wechat_bill(content, account="1900000109", zone=SHANGHAI)


def test_a_payment_row_becomes_a_line_with_the_backticks_gone() -> None:
    statement = parse(wechat_bill([wechat_payment(1, "100.00", fee="0.60")]))
    (line,) = statement.lines
    assert line.source is SourceKind.WECHAT
    assert line.kind is LineKind.PAYMENT
    assert line.amount == Decimal("100.00")
    assert line.fee == Decimal("0.60000")
    assert line.order_no == "CY20261201000001"
    assert line.transaction_id == "4200001234202612000000000001"
    assert line.line_key == "WECHAT:1900000109:P:4200001234202612000000000001"
    assert line.booked_at == dt.datetime(2026, 12, 1, 9, 15, 2, tzinfo=SHANGHAI)
    assert ("费率", "0.60%") in line.raw


def test_the_file_hash_and_line_keys_are_the_same_on_a_second_import() -> None:
    content = wechat_bill([wechat_payment(1, "100.00"), wechat_payment(2, "50.00")])
    first, second = parse(content), parse(content)
    assert first.file_hash == second.file_hash
    assert [line.line_key for line in first.lines] == [line.line_key for line in second.lines]


def test_a_gzip_bill_reads_like_the_plain_one() -> None:
    rows = [wechat_payment(1, "100.00"), wechat_payment(2, "88.80")]
    assert parse(wechat_bill(rows, compress=True)).lines == parse(wechat_bill(rows)).lines


def test_a_bill_whose_order_total_disagrees_is_refused_naming_the_total_and_the_difference() -> None:
    content = wechat_bill([wechat_payment(1, "100.00"), wechat_payment(2, "50.00")], summary={"订单总金额": "150.10"})
    with pytest.raises(StatementRejected) as refused:
        parse(content)
    assert refused.value.column == "订单总金额"
    assert refused.value.difference == Decimal("-0.10")
    assert "150.10" in refused.value.message and "-0.10" in refused.value.message


def test_a_bill_whose_row_count_disagrees_is_refused() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse(wechat_bill([wechat_payment(1, "100.00")], summary={"总交易单数": "2"}))
    assert refused.value.column == "总交易单数"
    assert refused.value.difference == Decimal("-1")


def test_fee_totals_are_compared_to_the_fifth_decimal() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse(wechat_bill([wechat_payment(1, "100.00", fee="0.60")], summary={"手续费总金额": "0.60001"}))
    assert refused.value.column == "手续费总金额"
    assert refused.value.difference == Decimal("-0.00001")


def test_a_refund_is_its_own_negative_line_that_gives_back_part_of_the_fee() -> None:
    statement = parse(wechat_bill([wechat_payment(1, "100.00", fee="0.60"), wechat_refund(1, 7, "40.00", fee="0.24")]))
    payment, refund = statement.lines
    assert refund.kind is LineKind.REFUND
    assert refund.amount == Decimal("-40.00")
    assert refund.fee == Decimal("-0.24000")
    assert refund.order_no == payment.order_no
    assert refund.refund_no == "RF00000007"
    assert refund.provider_refund_id == "500000000000007"
    assert refund.line_key.startswith("WECHAT:1900000109:R:")


def test_a_coupon_makes_the_settled_amount_smaller_than_the_order_amount() -> None:
    (line,) = parse(wechat_bill([wechat_payment(1, "100.00", coupon="10.00")])).lines
    assert line.amount == Decimal("100.00")
    assert line.settled_amount == Decimal("90.00")
    assert line.coupon_amount == Decimal("10.00")


def test_merchant_text_with_commas_stays_in_its_column() -> None:
    row = wechat_payment(1, "100.00", goods="物业费,2026年12月", attach="unit=3-1-502,bill=88")
    (line,) = parse(wechat_bill([row])).lines
    assert line.memo == "物业费,2026年12月 unit=3-1-502,bill=88"
    assert line.amount == Decimal("100.00")


def test_a_success_bill_has_no_refund_columns_and_still_reads() -> None:
    statement = parse(wechat_bill([wechat_payment(1, "66.00")], columns=WECHAT_SUCCESS))
    assert [line.amount for line in statement.lines] == [Decimal("66.00")]


def test_a_refund_bill_reads_the_refund_success_time() -> None:
    row = wechat_refund(1, 3, "20.00", fee="0.12", time="2026-12-01 16:30:00")
    (line,) = parse(wechat_bill([row], columns=WECHAT_REFUND)).lines
    assert line.kind is LineKind.REFUND
    assert line.booked_at == dt.datetime(2026, 12, 1, 16, 30, tzinfo=SHANGHAI)


def test_columns_are_read_by_name_whatever_their_order() -> None:
    rows = [wechat_payment(1, "100.00")]
    shuffled = list(reversed(WECHAT_SUCCESS))
    assert parse(wechat_bill(rows, columns=shuffled)).lines[0].amount == Decimal("100.00")


def test_a_bill_without_its_summary_is_refused() -> None:
    content = wechat_bill([wechat_payment(1, "100.00")])
    truncated = b"\r\n".join(content.split(b"\r\n")[:2])
    with pytest.raises(StatementRejected, match="summary"):
        parse(truncated)


def test_a_bill_missing_the_order_amount_column_is_refused_naming_it() -> None:
    columns = [c for c in WECHAT_SUCCESS if c != "订单金额"]
    with pytest.raises(StatementRejected) as refused:
        parse(wechat_bill([wechat_payment(1, "1.00")], columns=columns))
    assert refused.value.column == "订单金额"


def test_a_bad_amount_names_its_row_and_column() -> None:
    row = wechat_payment(1, "100.00")
    row["订单金额"] = "10O.00"
    with pytest.raises(StatementRejected) as refused:
        parse(wechat_bill([row], summary={"订单总金额": "100.00"}))
    assert (refused.value.row, refused.value.column) == (2, "订单金额")


def test_a_gzip_bomb_is_refused_before_it_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from billing.reconciliation import tabular

    monkeypatch.setattr(tabular, "MAX_EXPANDED_BYTES", 1000)
    with pytest.raises(StatementRejected, match="expands beyond"):
        parse(gzip.compress(b"0" * 10_000))
