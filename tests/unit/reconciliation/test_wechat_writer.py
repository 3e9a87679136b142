"""The WeChat Pay trade bill a gateway playing WeChat (the sandbox) writes: byte for byte the layout WeChat
writes, read back by our own parser to the same lines, and paid out as the matcher settles it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from billing.reconciliation.matching import reconcile
from billing.reconciliation.statement import LineKind
from billing.reconciliation.wechat import parse_wechat_bill
from billing.reconciliation.wechat_writer import (
    WechatMerchant,
    WechatRefund,
    WechatTrade,
    settlement_amount,
    wechat_fee,
    write_wechat_bill,
)
from tests.unit.reconciliation.builders import SHANGHAI, TERMS
from tests.unit.reconciliation.statements import wechat_bill, wechat_payment, wechat_refund

MERCHANT = WechatMerchant(app_id="wx2421b1c4370ec43b", merchant_id="1900000109", fee_rate=Decimal("0.006"))
PAYER = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def trade(number: int, amount: str, *, at: dt.datetime, goods: str = "物业费", attach: str = "") -> WechatTrade:
    return WechatTrade(
        paid_at=at,
        transaction_id=f"42000012342026120{number:011d}",
        out_trade_no=f"CY20261201{number:06d}",
        amount=Decimal(amount),
        payer=PAYER,
        goods=goods,
        attach=attach,
        bank_type="CMB_DEBIT",
    )


def refund(of: WechatTrade, number: int, amount: str, *, at: dt.datetime) -> WechatRefund:
    return WechatRefund(
        refunded_at=at, refund_id=f"50000{number:010d}", out_refund_no=f"RF{number:08d}", amount=Decimal(amount), trade=of
    )


PAID = dt.datetime(2026, 12, 1, 9, 15, 2, tzinfo=SHANGHAI)
REFUNDED = dt.datetime(2026, 12, 1, 15, 0, tzinfo=SHANGHAI)

# As WeChat writes an ALL bill: UTF-8, CRLF, every value after a backtick, refund rows with zero order
# amounts and a negative fee, and the two summary lines at the end.
EXPECTED = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2026-12-01 09:15:02,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001234202612000000000001,`CY20261201000001,"
    "`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`CMB_DEBIT,`CNY,`100.00,`0.00,`0,`0,`0.00,`0.00,`,`,`物业费,`,"
    "`0.60000,`0.60%,`100.00,`0.00,`\r\n"
    "`2026-12-01 15:00:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200001234202612000000000001,`CY20261201000001,"
    "`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`CMB_DEBIT,`CNY,`0.00,`0.00,`500000000000007,`RF00000007,`40.00,`0.00,"
    "`ORIGINAL,`SUCCESS,`物业费,`,`-0.24000,`0.60%,`0.00,`40.00,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`2,`100.00,`40.00,`0.00,`0.36000,`100.00,`40.00\r\n"
).encode("utf-8")


def test_a_day_with_a_payment_and_its_refund_is_written_as_wechat_writes_it() -> None:
    paid = trade(1, "100.00", at=PAID)
    assert write_wechat_bill(MERCHANT, trades=[paid], refunds=[refund(paid, 7, "40.00", at=REFUNDED)], zone=SHANGHAI) == EXPECTED


def test_the_bill_equals_the_hand_built_wechat_bill_of_the_parser_tests() -> None:
    paid = [trade(1, "100.00", at=PAID), trade(2, "88.88", at=PAID + dt.timedelta(hours=2))]
    written = write_wechat_bill(MERCHANT, trades=paid, refunds=[refund(paid[0], 7, "40.00", at=REFUNDED)], zone=SHANGHAI)
    hand_built = wechat_bill(
        [
            wechat_payment(1, "100.00", fee="0.60000"),
            wechat_payment(2, "88.88", fee="0.53328", time="2026-12-01 11:15:02"),
            wechat_refund(1, 7, "40.00", fee="0.24"),
        ]
    )
    assert written == hand_built


def test_our_parser_reads_the_bill_back_to_the_trades_and_refunds() -> None:
    paid = trade(1, "100.00", at=PAID, goods="物业费,2026年12月", attach="unit=3-1-502,bill=88")
    content = write_wechat_bill(MERCHANT, trades=[paid], refunds=[refund(paid, 7, "40.00", at=REFUNDED)], zone=SHANGHAI)

    payment, given_back = parse_wechat_bill(content, account="1900000109", zone=SHANGHAI).lines

    assert (payment.kind, payment.amount, payment.fee, payment.booked_at) == (LineKind.PAYMENT, Decimal("100.00"), Decimal("0.6"), PAID)
    assert (payment.order_no, payment.transaction_id) == (paid.out_trade_no, paid.transaction_id)
    assert payment.memo == "物业费,2026年12月 unit=3-1-502,bill=88"
    assert (given_back.kind, given_back.amount, given_back.fee) == (LineKind.REFUND, Decimal("-40.00"), Decimal("-0.24"))
    assert (given_back.order_no, given_back.refund_no, given_back.provider_refund_id) == (
        paid.out_trade_no,
        "RF00000007",
        "500000000000007",
    )
    assert given_back.booked_at == REFUNDED


def test_the_fee_is_the_rate_to_the_fifth_decimal_rounded_half_up() -> None:
    assert wechat_fee(Decimal("88.88"), Decimal("0.006")) == Decimal("0.53328")
    assert wechat_fee(Decimal("0.01"), Decimal("0.006")) == Decimal("0.00006")
    assert wechat_fee(Decimal("123.45"), Decimal("0.0038")) == Decimal("0.46911")
    assert wechat_fee(Decimal("0.03"), Decimal("0.0025")) == Decimal("0.00008")


def test_rows_are_in_time_order_whatever_order_they_come_in() -> None:
    early, late = trade(1, "10.00", at=PAID), trade(2, "20.00", at=PAID - dt.timedelta(hours=1))
    lines = parse_wechat_bill(
        write_wechat_bill(MERCHANT, trades=[early, late], refunds=[], zone=SHANGHAI), account="m", zone=SHANGHAI
    ).lines
    assert [line.amount for line in lines] == [Decimal("20.00"), Decimal("10.00")]


def test_the_day_is_paid_out_as_orders_less_refunds_less_the_days_fees_to_the_fen() -> None:
    paid = [trade(n, "33.33", at=PAID) for n in range(1, 4)]  # fees 0.19998 each: 0.59994 → 0.60
    given_back = [refund(paid[0], 1, "10.00", at=REFUNDED)]  # gives back 0.06000 of fee
    assert settlement_amount(MERCHANT, trades=paid, refunds=given_back) == Decimal("99.99") - Decimal("10.00") - Decimal("0.54")


_amounts = st.integers(min_value=1, max_value=5_000_000).map(lambda fen: Decimal(fen).scaleb(-2))


@st.composite
def _days(draw: st.DrawFn) -> tuple[list[WechatTrade], list[WechatRefund]]:
    amounts = draw(st.lists(_amounts, min_size=1, max_size=30))
    seconds = draw(st.lists(st.integers(0, 86_399), min_size=len(amounts), max_size=len(amounts)))
    midnight = dt.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    trades = [
        trade(n, f"{amount}", at=midnight + dt.timedelta(seconds=second), goods=draw(st.sampled_from(["物业费", "车位费,12月", '水费"电费'])))
        for n, (amount, second) in enumerate(zip(amounts, seconds, strict=True), start=1)
    ]
    refunds = []
    for n, paid in enumerate(draw(st.lists(st.sampled_from(trades), max_size=5, unique_by=lambda t: t.transaction_id)), start=1):
        part = Decimal(draw(st.integers(1, int(paid.amount.scaleb(2))))).scaleb(-2)
        refunds.append(refund(paid, n, f"{part}", at=max(paid.paid_at, midnight + dt.timedelta(hours=23))))
    return trades, refunds


@given(_days(), st.sampled_from([Decimal("0.006"), Decimal("0.0038"), Decimal("0.002"), Decimal("0.0025")]))
def test_any_day_reads_back_whole_and_settles_as_the_matcher_settles_it(
    day: tuple[list[WechatTrade], list[WechatRefund]], rate: Decimal
) -> None:
    trades, refunds = day
    merchant = WechatMerchant(app_id=MERCHANT.app_id, merchant_id=MERCHANT.merchant_id, fee_rate=rate)

    statement = parse_wechat_bill(write_wechat_bill(merchant, trades=trades, refunds=refunds, zone=SHANGHAI), account="m", zone=SHANGHAI)

    assert sorted(line.amount for line in statement.lines) == sorted(
        [t.amount for t in trades] + [-r.amount for r in refunds]
    )
    assert sum(line.fee for line in statement.lines) == sum(
        (wechat_fee(t.amount, rate) for t in trades), Decimal(0)
    ) - sum((wechat_fee(r.amount, rate) for r in refunds), Decimal(0))
    (settled_day,) = reconcile(
        lines=statement.lines, payments=[], terms=TERMS, as_of=dt.datetime(2026, 12, 2, tzinfo=SHANGHAI), zone=SHANGHAI
    ).settlements
    assert settled_day.net == settlement_amount(merchant, trades=trades, refunds=refunds)
