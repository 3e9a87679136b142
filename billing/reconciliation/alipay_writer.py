"""Alipay business bills (业务明细) written as Alipay writes them, for a gateway that plays Alipay.

The download of one day is a zip of two GBK CSV files named by the merchant's account (PID) and the day:
`…_业务明细.csv`, one row per trade and one per refund, and `…_业务明细(汇总).csv`, the day's totals in a
合计 row. Member names are stored in GBK without the zip's UTF-8 flag, as Chinese Windows tools write
them. Each file opens with `#` lines (title, account, period) and closes with `#` lines (the detail's
trade and refund totals, the export time); CRLF line ends; long numbers (支付宝交易号, 商户订单号, the
refund's request number) carry a trailing TAB so spreadsheets keep them as text.

A trade row has 业务类型 交易, its amount in 订单金额 and 商家实收, and what Alipay charged as a negative
服务费 (rounded to the fen per trade, half up). A refund is its own row: 业务类型 退款, negative amounts,
and the part of the fee Alipay gives back as a positive 服务费. The export time is 09:00 of the next day,
when Alipay makes the bill, so the same trades give the same bytes.

Pure: plain dataclasses in, the archive's bytes out. `parse_alipay_bill` reads it back whole.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "BUSINESS_COLUMNS",
    "SUMMARY_COLUMNS",
    "AlipayMerchant",
    "AlipayRefund",
    "AlipayTrade",
    "alipay_fee",
    "write_alipay_business_bill",
]

BUSINESS_COLUMNS = (
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员",
    "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
    "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
    "服务费（元）", "分润（元）", "备注",
)  # fmt: skip
SUMMARY_COLUMNS = (
    "门店编号", "门店名称", "交易订单总笔数", "退款订单总笔数", "订单金额（元）", "商家实收（元）", "支付宝优惠（元）",
    "商家优惠（元）", "卡消费金额（元）", "服务费（元）", "分润（元）", "实收净额（元）",
)  # fmt: skip
_TEXT_NUMBERS = frozenset({"支付宝交易号", "商户订单号", "退款批次号/请求号"})
_FEN = Decimal("0.01")
_ZERO = Decimal("0.00")
_BILL_MADE_AT = dt.time(9, 0)


@dataclass(frozen=True, slots=True)
class AlipayMerchant:
    """The merchant account a bill is written for: its PID (2088…) and the fee rate (0.006 for 0.6%)."""

    account: str
    fee_rate: Decimal


@dataclass(frozen=True, slots=True)
class AlipayTrade:
    """One paid order: when it was created and paid, Alipay's trade number, our order number, the amount,
    the payer's masked account (对方账户) and the order's 商品名称."""

    created_at: dt.datetime
    paid_at: dt.datetime
    trade_no: str
    out_trade_no: str
    amount: Decimal
    payer: str
    goods: str


@dataclass(frozen=True, slots=True)
class AlipayRefund:
    """One refund of a paid order: when it succeeded, our refund request number and the amount."""

    refunded_at: dt.datetime
    out_request_no: str
    amount: Decimal
    trade: AlipayTrade


def alipay_fee(amount: Decimal, rate: Decimal) -> Decimal:
    """Alipay's fee on an amount, to the fen, rounded half up (positive: the bill writes it negated)."""
    return (amount * rate).quantize(_FEN, rounding=ROUND_HALF_UP)


def write_alipay_business_bill(
    merchant: AlipayMerchant,
    *,
    day: dt.date,
    trades: Sequence[AlipayTrade],
    refunds: Sequence[AlipayRefund],
    zone: ZoneInfo,
) -> bytes:
    """The day's 业务明细 zip of `trades` and `refunds` (see the module docstring); times in `zone`."""
    for item in [*trades, *refunds]:
        if item.amount <= 0 or item.amount != item.amount.quantize(_FEN):
            raise ValueError(f"{item!r}: an amount is positive, in fen")
    rows = sorted(
        [(t.paid_at, 0, t.trade_no, _trade_row(merchant, t, zone)) for t in trades]
        + [(r.refunded_at, 1, r.out_request_no, _refund_row(merchant, r, zone)) for r in refunds],
        key=lambda row: row[:3],
    )
    cells = [row for *_, row in rows]
    paid = sum((t.amount for t in trades), _ZERO)
    refunded = sum((r.amount for r in refunds), _ZERO)
    service = sum((Decimal(row["服务费（元）"]) for row in cells), _ZERO)
    made_at = dt.datetime.combine(day + dt.timedelta(days=1), _BILL_MADE_AT)
    period = f"#起始日期：[{_chinese_time(dt.datetime.combine(day, dt.time()))}]   终止日期：[{_chinese_time(made_at.replace(hour=0))}]"
    detail_footer = (
        f"#交易合计：{len(trades)}笔，商家实收共{paid:.2f}元，商家优惠共0.00元",
        f"#退款合计：{len(refunds)}笔，商家实收退款共{-refunded:.2f}元，商家优惠退款共0.00元",
    )
    detail = _gbk_csv("#支付宝业务明细查询", merchant.account, period, "业务明细列表", BUSINESS_COLUMNS, cells, detail_footer, made_at)
    total = {
        "门店编号": "合计",
        "交易订单总笔数": str(len(trades)),
        "退款订单总笔数": str(len(refunds)),
        "订单金额（元）": f"{paid - refunded:.2f}",
        "商家实收（元）": f"{paid - refunded:.2f}",
        "服务费（元）": f"{service:.2f}",
        "实收净额（元）": f"{paid - refunded + service:.2f}",
    }
    summary = _gbk_csv("#支付宝业务汇总查询", merchant.account, period, "业务汇总列表", SUMMARY_COLUMNS, [total], (), made_at)
    stem = f"{merchant.account}_{day:%Y%m%d}"
    return _gbk_zip([(f"{stem}_业务明细.csv", detail), (f"{stem}_业务明细(汇总).csv", summary)], made_at)


def _chinese_time(moment: dt.datetime) -> str:
    return f"{moment:%Y}年{moment:%m}月{moment:%d}日 {moment:%H:%M:%S}"


def _time(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _common(trade: AlipayTrade, zone: ZoneInfo) -> dict[str, str]:
    return {
        "支付宝交易号": trade.trade_no,
        "商户订单号": trade.out_trade_no,
        "商品名称": trade.goods,
        "创建时间": _time(trade.created_at, zone),
        "对方账户": trade.payer,
    }


def _trade_row(merchant: AlipayMerchant, trade: AlipayTrade, zone: ZoneInfo) -> dict[str, str]:
    return _common(trade, zone) | {
        "业务类型": "交易",
        "完成时间": _time(trade.paid_at, zone),
        "订单金额（元）": f"{trade.amount:.2f}",
        "商家实收（元）": f"{trade.amount:.2f}",
        "服务费（元）": f"{-alipay_fee(trade.amount, merchant.fee_rate):.2f}",
    }


def _refund_row(merchant: AlipayMerchant, refund: AlipayRefund, zone: ZoneInfo) -> dict[str, str]:
    return _common(refund.trade, zone) | {
        "业务类型": "退款",
        "完成时间": _time(refund.refunded_at, zone),
        "订单金额（元）": f"{-refund.amount:.2f}",
        "商家实收（元）": f"{-refund.amount:.2f}",
        "退款批次号/请求号": refund.out_request_no,
        "服务费（元）": f"{alipay_fee(refund.amount, merchant.fee_rate):.2f}",
    }


def _blank(column: str) -> str:
    """What Alipay writes in a column the row has nothing in: 0.00 for money, else nothing."""
    return "0.00" if column.endswith("（元）") else ""


def _gbk_csv(
    title: str,
    account: str,
    period: str,
    list_name: str,
    columns: Sequence[str],
    rows: Sequence[dict[str, str]],
    footer: Sequence[str],
    made_at: dt.datetime,
) -> bytes:
    out = io.StringIO()
    rule = "-" * 41
    for line in (title, f"#账号：[{account}]", period, f"#{rule}{list_name}{rule}"):
        out.write(f"{line}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [f"{row[column]}\t" if column in _TEXT_NUMBERS and row.get(column) else row.get(column, _blank(column)) for column in columns]
        )
    for line in (f"#{rule}{list_name}结束{rule}", *footer, f"#导出时间：[{_chinese_time(made_at)}]"):
        out.write(f"{line}\r\n")
    return out.getvalue().encode("gbk")


class _GbkName(zipfile.ZipInfo):
    """A member whose name is stored in GBK without the UTF-8 flag, as Chinese Windows tools write it
    (Python's own `ZipInfo` writes any non-ASCII name as flagged UTF-8)."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile asks for it by this name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _gbk_zip(members: Sequence[tuple[str, bytes]], made_at: dt.datetime) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            member = _GbkName(name, date_time=made_at.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            archive.writestr(member, data)
    return buffer.getvalue()
