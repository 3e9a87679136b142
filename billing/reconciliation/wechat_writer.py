"""WeChat Pay trade bills (交易账单, ALL) written as WeChat writes them, for a gateway that plays WeChat Pay.

The sandbox gateway answers for its own payments the way WeChat does: one bill per day that had trades,
byte for byte what `parse_wechat_bill` reads in a real one. UTF-8, CRLF line ends, the ALL layout's
columns; every detail and summary value after a backtick (so spreadsheets keep long numbers as text);
merchant text with commas or quotes quoted as CSV; one row per payment and one per refund (交易状态
REFUND, zero order amounts, the refunded amount in 退款金额 and 申请退款金额, and the part of the fee
WeChat gives back as a negative 手续费); fees to the 0.00001 with the rate as text (`0.60%`); then the
summary header and its values. WeChat writes no bill for a day without trades: neither does this.

What WeChat pays into the merchant's bank account for a day (T+1) is the day's orders less its refunds
less its fees, which are added up to the 0.00001 and paid to the fen (`settlement_amount`).

Pure: plain dataclasses in, the file's bytes out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from billing.reconciliation.statement import round_fen

__all__ = [
    "BILL_COLUMNS",
    "SUMMARY_COLUMNS",
    "WechatMerchant",
    "WechatRefund",
    "WechatTrade",
    "settlement_amount",
    "wechat_fee",
    "write_wechat_bill",
]

BILL_COLUMNS = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
    "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
    "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额",
    "费率备注",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额",
)  # fmt: skip

_FEE_PLACES = Decimal("0.00001")
_FEN = Decimal("0.01")
_ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class WechatMerchant:
    """The merchant account a bill is written for: 公众账号ID, 商户号 and the fee rate (0.006 for 0.60%)."""

    app_id: str
    merchant_id: str
    fee_rate: Decimal


@dataclass(frozen=True, slots=True)
class WechatTrade:
    """One paid order: when, WeChat's transaction id, our order number (out_trade_no), the amount the
    payer paid, the payer's openid (用户标识), and the order's 商品名称 and 商户数据包."""

    paid_at: dt.datetime
    transaction_id: str
    out_trade_no: str
    amount: Decimal
    payer: str
    goods: str
    attach: str = ""
    trade_type: str = "JSAPI"
    bank_type: str = "OTHERS"


@dataclass(frozen=True, slots=True)
class WechatRefund:
    """One refund of a paid order: when it succeeded, WeChat's refund id, our refund number, the amount."""

    refunded_at: dt.datetime
    refund_id: str
    out_refund_no: str
    amount: Decimal
    trade: WechatTrade


def wechat_fee(amount: Decimal, rate: Decimal) -> Decimal:
    """WeChat's fee on an amount, to the 0.00001 its bills write, rounded half up."""
    return (amount * rate).quantize(_FEE_PLACES, rounding=ROUND_HALF_UP)


def settlement_amount(merchant: WechatMerchant, *, trades: Sequence[WechatTrade], refunds: Sequence[WechatRefund]) -> Decimal:
    """What WeChat pays the merchant for a day: orders less refunds less the day's fees, paid to the fen."""
    paid = sum((t.amount for t in trades), _ZERO)
    return paid - sum((r.amount for r in refunds), _ZERO) - round_fen(_day_fees(merchant, trades, refunds))


def _day_fees(merchant: WechatMerchant, trades: Sequence[WechatTrade], refunds: Sequence[WechatRefund]) -> Decimal:
    """The fees of the day's orders less what its refunds give back, to the 0.00001."""
    return sum((wechat_fee(t.amount, merchant.fee_rate) for t in trades), _ZERO) - sum(
        (wechat_fee(r.amount, merchant.fee_rate) for r in refunds), _ZERO
    )


def write_wechat_bill(
    merchant: WechatMerchant, *, trades: Sequence[WechatTrade], refunds: Sequence[WechatRefund], zone: ZoneInfo
) -> bytes:
    """The day's ALL bill of `trades` and `refunds` (see the module docstring); times are written in `zone`."""
    for item in [*trades, *refunds]:
        if item.amount <= 0 or item.amount != item.amount.quantize(_FEN):
            raise ValueError(f"{item!r}: an amount is positive, in fen")
    rate = f"{merchant.fee_rate * 100:.2f}%"
    rows = sorted(
        [(t.paid_at, 0, t.transaction_id, _payment_row(merchant, t, rate, zone)) for t in trades]
        + [(r.refunded_at, 1, r.refund_id, _refund_row(merchant, r, rate, zone)) for r in refunds],
        key=lambda row: row[:3],
    )
    paid = sum((t.amount for t in trades), _ZERO)
    refunded = sum((r.amount for r in refunds), _ZERO)
    fees = _day_fees(merchant, trades, refunds)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BILL_COLUMNS)
    writer.writerows([f"`{value}" for value in row] for *_, row in rows)
    writer.writerow(SUMMARY_COLUMNS)
    summary = (str(len(rows)), _money(paid), _money(refunded), "0.00", _fee(fees), _money(paid), _money(refunded))
    writer.writerow(f"`{value}" for value in summary)
    return out.getvalue().encode("utf-8")


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _fee(amount: Decimal) -> str:
    # A fee of nothing is written 0.00000, never -0.00000.
    return f"{amount:.5f}" if amount else "0.00000"


def _common(merchant: WechatMerchant, trade: WechatTrade, at: dt.datetime, zone: ZoneInfo) -> dict[str, str]:
    return {
        "交易时间": at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        "公众账号ID": merchant.app_id,
        "商户号": merchant.merchant_id,
        "特约商户号": "0",
        "设备号": "",
        "微信订单号": trade.transaction_id,
        "商户订单号": trade.out_trade_no,
        "用户标识": trade.payer,
        "交易类型": trade.trade_type,
        "付款银行": trade.bank_type,
        "货币种类": "CNY",
        "代金券金额": "0.00",
        "充值券退款金额": "0.00",
        "商品名称": trade.goods,
        "商户数据包": trade.attach,
        "费率备注": "",
    }


def _payment_row(merchant: WechatMerchant, trade: WechatTrade, rate: str, zone: ZoneInfo) -> list[str]:
    cells = _common(merchant, trade, trade.paid_at, zone) | {
        "交易状态": "SUCCESS",
        "应结订单金额": _money(trade.amount),
        "微信退款单号": "0",
        "商户退款单号": "0",
        "退款金额": "0.00",
        "退款类型": "",
        "退款状态": "",
        "手续费": _fee(wechat_fee(trade.amount, merchant.fee_rate)),
        "费率": rate,
        "订单金额": _money(trade.amount),
        "申请退款金额": "0.00",
    }
    return [cells[column] for column in BILL_COLUMNS]


def _refund_row(merchant: WechatMerchant, refund: WechatRefund, rate: str, zone: ZoneInfo) -> list[str]:
    cells = _common(merchant, refund.trade, refund.refunded_at, zone) | {
        "交易状态": "REFUND",
        "应结订单金额": "0.00",
        "微信退款单号": refund.refund_id,
        "商户退款单号": refund.out_refund_no,
        "退款金额": _money(refund.amount),
        "退款类型": "ORIGINAL",
        "退款状态": "SUCCESS",
        "手续费": _fee(-wechat_fee(refund.amount, merchant.fee_rate)),
        "费率": rate,
        "订单金额": "0.00",
        "申请退款金额": _money(refund.amount),
    }
    return [cells[column] for column in BILL_COLUMNS]
