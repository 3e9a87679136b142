"""Statement files written the way WeChat Pay, Alipay and banks write them, built in memory for tests."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Mapping, Sequence
from decimal import Decimal

import openpyxl  # type: ignore[import-untyped]

WECHAT_ALL = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
).split(",")
WECHAT_SUCCESS = [
    c
    for c in WECHAT_ALL
    if c not in {"微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "申请退款金额"}
]
WECHAT_REFUND = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
).split(",")
WECHAT_SUMMARY = [
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
]
_SUMMED = {
    "应结订单总金额": "应结订单金额",
    "退款总金额": "退款金额",
    "充值券退款总金额": "充值券退款金额",
    "手续费总金额": "手续费",
    "订单总金额": "订单金额",
    "申请退款总金额": "申请退款金额",
}


def wechat_payment(
    number: int,
    amount: str,
    *,
    fee: str | None = None,
    coupon: str = "0.00",
    time: str = "2026-12-01 09:15:02",
    goods: str = "物业费",
    attach: str = "",
) -> dict[str, str]:
    gross = Decimal(amount)
    fee_value = Decimal(fee) if fee is not None else (gross * Decimal("0.006")).quantize(Decimal("0.01"))
    return {
        "交易时间": time,
        "公众账号ID": "wx2421b1c4370ec43b",
        "商户号": "1900000109",
        "特约商户号": "0",
        "设备号": "",
        "微信订单号": f"42000012342026120{number:011d}",
        "商户订单号": f"CY20261201{number:06d}",
        "用户标识": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "交易类型": "JSAPI",
        "交易状态": "SUCCESS",
        "付款银行": "CMB_DEBIT",
        "货币种类": "CNY",
        "应结订单金额": f"{gross - Decimal(coupon):.2f}",
        "代金券金额": coupon,
        "微信退款单号": "0",
        "商户退款单号": "0",
        "退款金额": "0.00",
        "充值券退款金额": "0.00",
        "退款类型": "",
        "退款状态": "",
        "商品名称": goods,
        "商户数据包": attach,
        "手续费": f"{fee_value:.5f}",
        "费率": "0.60%",
        "订单金额": f"{gross:.2f}",
        "申请退款金额": "0.00",
        "费率备注": "",
    }


def wechat_refund(
    number: int, refund_number: int, amount: str, *, fee: str, time: str = "2026-12-01 15:00:00"
) -> dict[str, str]:
    row = wechat_payment(number, "0.00", fee="0", time=time)
    row.update(
        {
            "交易状态": "REFUND",
            "应结订单金额": "0.00",
            "订单金额": "0.00",
            "微信退款单号": f"50000{refund_number:010d}",
            "商户退款单号": f"RF{refund_number:08d}",
            "退款金额": amount,
            "申请退款金额": amount,
            "退款类型": "ORIGINAL",
            "退款状态": "SUCCESS",
            "手续费": f"-{Decimal(fee):.5f}",
            "退款申请时间": time,
            "退款成功时间": time,
        }
    )
    return row


def _number(text: str | None) -> Decimal:
    """A cell as the summary would count it; a deliberately broken cell counts as zero."""
    try:
        return Decimal(text or "0")
    except ArithmeticError:
        return Decimal("0")


def wechat_bill(
    rows: Sequence[Mapping[str, str]],
    *,
    columns: Sequence[str] = WECHAT_ALL,
    summary: Mapping[str, str] | None = None,
    compress: bool = False,
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([f"`{row.get(column, '')}" for column in columns])
    totals: dict[str, str] = {"总交易单数": str(len(rows))}
    for name, column in _SUMMED.items():
        places = 5 if column == "手续费" else 2
        total = sum((_number(row.get(column)) for row in rows), Decimal("0"))
        totals[name] = f"{total:.{places}f}"
    totals.update(summary or {})
    writer.writerow(WECHAT_SUMMARY)
    writer.writerow([f"`{totals[name]}" for name in WECHAT_SUMMARY])
    data = out.getvalue().encode("utf-8")
    return gzip.compress(data, mtime=0) if compress else data


ALIPAY_BUSINESS = (
    "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
    "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
    "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
).split(",")
ALIPAY_LEDGER = (
    "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,"
    "交易渠道,业务类型,备注"
).split(",")


def alipay_trade(
    number: int, amount: str, *, service: str, refund: bool = False, goods: str = "物业费"
) -> dict[str, str]:
    return {
        "支付宝交易号": f"2026120122001400{number:08d}",
        "商户订单号": f"CY20261201{number:06d}",
        "业务类型": "退款" if refund else "交易",
        "商品名称": goods,
        "创建时间": "2026-12-01 10:00:00",
        "完成时间": "2026-12-01 10:00:05",
        "对方账户": "zha***@163.com",
        "订单金额（元）": amount,
        "商家实收（元）": amount,
        "退款批次号/请求号": f"RF{number:08d}" if refund else "",
        "服务费（元）": service,
        "分润（元）": "0.00",
        "备注": "",
    }


def _gbk_csv(title: str, columns: Sequence[str], rows: Sequence[Mapping[str, str]], footer: Sequence[str]) -> bytes:
    out = io.StringIO()
    out.write(
        f"#{title}\r\n#账号：[20881234567890120156]\r\n"
        "#起始日期：[2026年12月01日 00:00:00]   终止日期：[2026年12月02日 00:00:00]\r\n"
    )
    out.write("#-----------------------------------------明细列表----------------------------------------\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    long_numbers = {"支付宝交易号", "商户订单号", "账务流水号", "业务流水号"}
    for row in rows:
        # Long numbers carry a trailing TAB so that Excel keeps them as text.
        writer.writerow([f"{row.get(c, '')}\t" if c in long_numbers else row.get(c, "") for c in columns])
    out.write("#-----------------------------------------明细列表结束------------------------------------\r\n")
    for line in footer:
        out.write(f"{line}\r\n")
    out.write("#导出时间：[2026年12月02日 10:00:00]\r\n")
    return out.getvalue().encode("gbk")


def _gbk_zip(members: Sequence[tuple[str, bytes]]) -> bytes:
    """A zip as Windows tools write it: GBK member names without the UTF-8 flag."""
    buffer = io.BytesIO()
    placeholders = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for position, (name, data) in enumerate(members):
            raw = name.encode("gbk")
            # Python writes non-ASCII names as flagged UTF-8, so an ASCII stand-in of the same length is
            # written and swapped for the GBK bytes afterwards (names are outside the CRC).
            placeholder = f"{position}".encode().ljust(len(raw), b"_")
            placeholders.append((placeholder, raw))
            archive.writestr(placeholder.decode(), data)
    content = buffer.getvalue()
    for placeholder, raw in placeholders:
        content = content.replace(placeholder, raw)
    return content


def alipay_business_zip(
    rows: Sequence[Mapping[str, str]],
    *,
    summary_first: bool = True,
    stated: Mapping[str, str] | None = None,
    ascii_brackets: bool = False,
) -> bytes:
    columns = [c.replace("（", "(").replace("）", ")") for c in ALIPAY_BUSINESS] if ascii_brackets else ALIPAY_BUSINESS
    rows = [{k.replace("（", "(").replace("）", ")") if ascii_brackets else k: v for k, v in r.items()} for r in rows]
    detail = _gbk_csv("支付宝业务明细查询", columns, rows, ["#交易合计：…", "#退款合计：…"])
    amount = lambda name: sum((Decimal(r[name]) for r in rows), Decimal("0"))  # noqa: E731
    bracket = (lambda s: s.replace("（", "(").replace("）", ")")) if ascii_brackets else (lambda s: s)
    received, service = amount(bracket("商家实收（元）")), amount(bracket("服务费（元）"))
    totals = {
        "交易订单总笔数": str(sum(1 for r in rows if r["业务类型"] == "交易")),
        "退款订单总笔数": str(sum(1 for r in rows if r["业务类型"] == "退款")),
        "订单金额（元）": f"{amount(bracket('订单金额（元）')):.2f}",
        "商家实收（元）": f"{received:.2f}",
        "服务费（元）": f"{service:.2f}",
        "实收净额（元）": f"{received + service:.2f}",
    }
    totals.update(stated or {})
    summary_columns = ["门店编号", "门店名称", *totals]
    summary = _gbk_csv("支付宝业务汇总查询", summary_columns, [{"门店编号": "合计", **totals}], [])
    members = [
        ("20881234567890120156_20261201_业务明细.csv", detail),
        ("20881234567890120156_20261201_业务明细(汇总).csv", summary),
    ]
    return _gbk_zip(members[::-1] if summary_first else members)


def alipay_ledger_zip(rows: Sequence[Mapping[str, str]], *, income_stated: str | None = None) -> bytes:
    incomes = [Decimal(r["收入金额（+元）"]) for r in rows if Decimal(r["收入金额（+元）"]) > 0]
    expenses = [Decimal(r["支出金额（-元）"]) for r in rows if Decimal(r["支出金额（-元）"]) != 0]
    footer = [
        f"#支出合计：{len(expenses)}笔，共{sum(expenses, Decimal('0')):.2f}元",
        f"#收入合计：{len(incomes)}笔，共{income_stated or f'{sum(incomes, Decimal(0)):.2f}'}元",
    ]
    detail = _gbk_csv("支付宝账务明细查询", ALIPAY_LEDGER, rows, footer)
    return _gbk_zip([("20881234567890120156_20261201_账务明细.csv", detail)])


def ledger_row(
    number: int, kind: str, income: str = "0.00", expense: str = "0.00", order: int | None = None
) -> dict[str, str]:
    return {
        "账务流水号": f"2026120110{number:08d}",
        "业务流水号": f"2026120122001400{(order or number):08d}",
        "商户订单号": f"CY20261201{(order or number):06d}" if order is not None or kind == "在线支付" else "",
        "商品名称": "物业费",
        "发生时间": "2026-12-01 10:00:05",
        "对方账号": "zha***@163.com",
        "收入金额（+元）": income,
        "支出金额（-元）": expense,
        "账户余额（元）": "0.00",
        "交易渠道": "支付宝",
        "业务类型": kind,
        "备注": "",
    }


def bank_csv(
    rows: Sequence[Sequence[object]], *, header: Sequence[str], encoding: str = "gbk", preamble: Sequence[str] = ()
) -> bytes:
    out = io.StringIO()
    for line in preamble:
        out.write(f"{line}\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def bank_xlsx(rows: Sequence[Sequence[object]], *, header: Sequence[str], title: str | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
