"""Alipay bills (业务明细 and 账务明细) into statement lines.

The download is a zip of GBK CSV files: the detail file and a summary file whose name carries (汇总); the
summary may come first in the archive, so members are chosen by name. Each CSV opens and closes with
`#` lines (account, period, export time; the 账务明细 footer also states its income and expense totals)
and long numbers carry a trailing TAB so spreadsheets keep them as text. Headers come with full-width or
ASCII brackets (`收入金额（+元）` / `收入金额(+元)`): they are matched by name, folded.

- 业务明细 (one row per trade or refund): 业务类型 交易 or 退款, 订单金额 negative for refunds, 服务费
  negative (what Alipay charged; positive on a refund: the part given back).
- 账务明细 (one row per movement of the Alipay balance): 收入/支出 amounts, 业务类型 在线支付, 交易退款,
  收费 (the fee as its own row), 提现 (paid out to the bank).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.reconciliation.statement import (
    LineKind,
    ParsedStatement,
    SourceKind,
    StatementLine,
    StatementRejected,
    SummaryTotal,
    check_totals,
    file_hash,
)
from billing.reconciliation.tabular import (
    Header,
    clean_cell,
    csv_rows,
    decode_text,
    parse_money,
    parse_time,
    zip_members,
)

__all__ = ["parse_alipay_bill"]

_SUMMARY_MARK = "汇总"
_TOTAL_ROW = "合计"
_LEDGER_FOOTER = re.compile(r"#\s*(收入|支出)合计[:：]\s*(\d+)\s*笔[,，]\s*共\s*(-?[\d,.]+)\s*元")


def parse_alipay_bill(content: bytes, *, account: str, zone: ZoneInfo) -> ParsedStatement:
    """Read an Alipay bill download (the zip, or one detail CSV on its own with its `#` footer)."""
    if content[:4] == b"PK\x03\x04":
        members = zip_members(content)
        details = [name for name in members if _SUMMARY_MARK not in name and name.lower().endswith(".csv")]
        summaries = [name for name in members if _SUMMARY_MARK in name and name.lower().endswith(".csv")]
        if len(details) != 1:
            raise StatementRejected(f"expected one detail CSV in the archive, found {len(details)}")
        detail_text = decode_text(members[details[0]])
        summary_text = decode_text(members[summaries[0]]) if summaries else None
    else:
        detail_text, summary_text = decode_text(content), None

    rows = _numbered(detail_text)
    header = _header(rows)
    data = [(number, cells) for number, cells in rows if number > header.row and not _is_comment(cells)]
    if header.has("账务流水号"):
        lines = [_ledger_line(number, cells, header, account, zone) for number, cells in data]
        totals = _ledger_totals(lines, detail_text, summary_text)
    else:
        header.require("支付宝交易号")
        lines = [_business_line(number, cells, header, account, zone) for number, cells in data]
        totals = _business_totals(lines, summary_text)
    if not totals:
        raise StatementRejected("the bill states no totals (no 汇总 member and no 合计 footer) to check it against")
    return ParsedStatement(
        source=SourceKind.ALIPAY,
        account=account,
        file_hash=file_hash(content),
        lines=tuple(lines),
        totals=check_totals(totals),
    )


def _numbered(text: str) -> list[tuple[int, list[str]]]:
    return [(number, cells) for number, cells in enumerate(csv_rows(text), start=1) if any(c.strip() for c in cells)]


def _is_comment(cells: list[str]) -> bool:
    return cells[0].lstrip().startswith("#")


def _header(rows: Iterable[tuple[int, list[str]]]) -> Header:
    for number, cells in rows:
        if not _is_comment(cells):
            return Header.of(number, cells)
    raise StatementRejected("the file has no header row")


def _cell(cells: list[str], header: Header, *names: str) -> str:
    position = header.find(*names)
    return clean_cell(cells[position]) if position is not None and position < len(cells) else ""


def _raw(cells: list[str], header: Header) -> tuple[tuple[str, str], ...]:
    return tuple((name, clean_cell(cells[i])) for i, name in enumerate(header.names) if i < len(cells) and name)


def _business_line(number: int, cells: list[str], header: Header, account: str, zone: ZoneInfo) -> StatementLine:
    def money(name: str) -> Decimal:
        return parse_money(_cell(cells, header, name), row=number, column=name)

    trade_no = _cell(cells, header, "支付宝交易号")
    if not trade_no:
        raise StatementRejected("a row without 支付宝交易号", row=number, column="支付宝交易号")
    kind_text = _cell(cells, header, "业务类型")
    is_refund = "退款" in kind_text
    amount = money("订单金额（元）")
    received = money("商家实收（元）") if header.has("商家实收（元）") else amount
    service = money("服务费（元）")  # negative: charged; positive on a refund: given back
    refund_no = _cell(cells, header, "退款批次号/请求号") or None
    when = _cell(cells, header, "完成时间") or _cell(cells, header, "创建时间")
    if is_refund and amount > 0:
        raise StatementRejected(f"a refund of {amount} written as money in", row=number, column="订单金额（元）")
    return StatementLine(
        source=SourceKind.ALIPAY,
        account=account,
        line_key=f"ALIPAY:{account}:R:{trade_no}:{refund_no or number}"
        if is_refund
        else f"ALIPAY:{account}:P:{trade_no}",
        row_number=number,
        booked_at=parse_time(when, zone=zone, row=number, column="完成时间"),
        kind=LineKind.REFUND if is_refund else LineKind.PAYMENT,
        amount=amount,
        settled_amount=received,
        fee=-service,
        order_no=_cell(cells, header, "商户订单号") or None,
        transaction_id=trade_no,
        refund_no=refund_no if is_refund else None,
        counterparty_account=_cell(cells, header, "对方账户") or None,
        memo=" ".join(p for p in (_cell(cells, header, "商品名称"), _cell(cells, header, "备注")) if p) or None,
        raw=_raw(cells, header),
    )


def _ledger_line(number: int, cells: list[str], header: Header, account: str, zone: ZoneInfo) -> StatementLine:
    entry_no = _cell(cells, header, "账务流水号")
    if not entry_no:
        raise StatementRejected("a row without 账务流水号", row=number, column="账务流水号")
    income = parse_money(_cell(cells, header, "收入金额（+元）"), row=number, column="收入金额（+元）")
    expense = parse_money(_cell(cells, header, "支出金额（-元）"), row=number, column="支出金额（-元）")
    amount = income - abs(expense)
    kind_text = _cell(cells, header, "业务类型")
    memo = _cell(cells, header, "备注")
    if "退款" in kind_text:
        kind = LineKind.REFUND
    elif "收费" in kind_text or "服务费" in kind_text:
        kind = LineKind.FEE
    elif "提现" in kind_text or amount < 0:
        kind = LineKind.PAYOUT
    else:
        kind = LineKind.PAYMENT
    return StatementLine(
        source=SourceKind.ALIPAY,
        account=account,
        line_key=f"ALIPAY:{account}:L:{entry_no}",
        row_number=number,
        booked_at=parse_time(_cell(cells, header, "发生时间"), zone=zone, row=number, column="发生时间"),
        kind=kind,
        amount=amount,
        settled_amount=amount,
        order_no=_cell(cells, header, "商户订单号") or None,
        transaction_id=_cell(cells, header, "业务流水号") or None,
        counterparty_account=_cell(cells, header, "对方账号") or None,
        memo=" ".join(p for p in (_cell(cells, header, "商品名称"), memo) if p) or None,
        raw=_raw(cells, header),
    )


def _summary_row(summary_text: str) -> tuple[Header, list[str]]:
    """The summary's 合计 row, or its only data row."""
    rows = _numbered(summary_text)
    header = _header(rows)
    data = [cells for number, cells in rows if number > header.row and not _is_comment(cells)]
    totals = [cells for cells in data if any(clean_cell(c) == _TOTAL_ROW for c in cells)]
    if totals:
        return header, totals[0]
    if len(data) == 1:
        return header, data[0]
    raise StatementRejected("the summary has no 合计 row", column=_TOTAL_ROW)


def _business_totals(lines: list[StatementLine], summary_text: str | None) -> list[SummaryTotal]:
    if summary_text is None:
        return []
    header, cells = _summary_row(summary_text)
    parsed = {
        "交易订单总笔数": Decimal(sum(1 for line in lines if line.kind is LineKind.PAYMENT)),
        "退款订单总笔数": Decimal(sum(1 for line in lines if line.kind is LineKind.REFUND)),
        "订单金额（元）": sum((line.amount for line in lines), Decimal("0")),
        "商家实收（元）": sum((line.settled_amount for line in lines), Decimal("0")),
        "服务费（元）": -sum((line.fee for line in lines), Decimal("0")),
        "实收净额（元）": sum((line.settled_amount - line.fee for line in lines), Decimal("0")),
    }
    return _stated_against(header, cells, parsed)


def _ledger_totals(lines: list[StatementLine], detail_text: str, summary_text: str | None) -> list[SummaryTotal]:
    incomes = [line.amount for line in lines if line.amount > 0]
    expenses = [line.amount for line in lines if line.amount < 0]
    totals: list[SummaryTotal] = []
    for match in _LEDGER_FOOTER.finditer(detail_text):
        side, count, amount = match.groups()
        sums = incomes if side == "收入" else expenses
        totals.append(SummaryTotal(f"{side}合计笔数", Decimal(count), Decimal(len(sums))))
        stated = parse_money(amount, row=0, column=f"{side}合计")
        totals.append(SummaryTotal(f"{side}合计", stated if side == "收入" else -abs(stated), sum(sums, Decimal("0"))))
    if summary_text is not None:
        header, cells = _summary_row(summary_text)
        parsed = {
            "收入笔数": Decimal(len(incomes)),
            "收入金额（+元）": sum(incomes, Decimal("0")),
            "支出笔数": Decimal(len(expenses)),
            "支出金额（-元）": sum(expenses, Decimal("0")),
        }
        totals += [
            # Some exports write the expense total unsigned; it is money out either way.
            SummaryTotal(t.name, -abs(t.stated), t.parsed) if t.name.startswith("支出金额") else t
            for t in _stated_against(header, cells, parsed)
        ]
    return totals


def _stated_against(header: Header, cells: list[str], parsed: dict[str, Decimal]) -> list[SummaryTotal]:
    totals = []
    for name, value in parsed.items():
        position = header.find(name)
        if position is None or position >= len(cells):
            continue
        totals.append(SummaryTotal(name, parse_money(cells[position], row=header.row + 1, column=name), value))
    return totals
