"""WeChat Pay trade bills (交易账单: ALL, SUCCESS or REFUND; plain CSV or gzip) into statement lines.

The layout, as the merchant platform and the `downloadbill` API write it: a header row, one row per
order or refund with every value prefixed by a backtick (so spreadsheets keep long numbers as text),
then a summary header (总交易单数, 应结订单总金额, 退款总金额, 充值券退款总金额, 手续费总金额, 订单总金额,
申请退款总金额) and its values. SUCCESS and REFUND bills have different columns, so every cell is read by
its header's name. A refund is its own row (交易状态 REFUND in ALL bills, every row of a REFUND bill) and
becomes a negative line; its 手续费 is the part of the fee WeChat gives back. Summary totals are the sums
of their columns over the detail rows as written, and must agree to the fen (fees to the 0.00001).
"""

from __future__ import annotations

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
    gunzip,
    is_gzip,
    parse_money,
    parse_time,
)

__all__ = ["parse_wechat_bill"]

_SUMMARY_FIRST = "总交易单数"
_FEE_PLACES = 5
# summary name → the detail column it sums (places: fees are written to 0.00001)
_SUMMED = (
    ("应结订单总金额", "应结订单金额", 2),
    ("退款总金额", "退款金额", 2),
    ("充值券退款总金额", "充值券退款金额", 2),
    ("手续费总金额", "手续费", _FEE_PLACES),
    ("订单总金额", "订单金额", 2),
    ("申请退款总金额", "申请退款金额", 2),
)
_REFUND_STATUS = "REFUND"
_PAID_STATUS = "SUCCESS"


def parse_wechat_bill(content: bytes, *, account: str, zone: ZoneInfo) -> ParsedStatement:
    """Read one WeChat Pay trade bill; raises `StatementRejected` naming the row and column at fault."""
    text = decode_text(gunzip(content) if is_gzip(content) else content)
    rows = [(number, cells) for number, cells in enumerate(csv_rows(text), start=1) if any(c.strip() for c in cells)]
    if not rows:
        raise StatementRejected("the bill is empty")
    header = Header.of(*rows[0])
    for name in ("交易时间", "微信订单号", "商户订单号", "交易状态", "订单金额", "手续费"):
        header.require(name)
    summary_at = next(
        (position for position, (_, cells) in enumerate(rows) if clean_cell(cells[0]) == _SUMMARY_FIRST), None
    )
    if summary_at is None or summary_at + 1 >= len(rows):
        raise StatementRejected("the bill has no summary (总交易单数 …) at its end", column=_SUMMARY_FIRST)
    details = rows[1:summary_at]
    summary_header = Header.of(*rows[summary_at])
    summary_number, summary_cells = rows[summary_at + 1]

    lines = tuple(_line(number, cells, header, account=account, zone=zone) for number, cells in details)
    totals = [
        SummaryTotal(
            _SUMMARY_FIRST,
            parse_money(
                summary_cells[summary_header.require(_SUMMARY_FIRST)], row=summary_number, column=_SUMMARY_FIRST
            ),
            Decimal(len(details)),
        )
    ]
    for summary_name, column, places in _SUMMED:
        position = summary_header.find(summary_name)
        column_position = header.find(column)
        if position is None or column_position is None:
            continue
        stated = parse_money(summary_cells[position], row=summary_number, column=summary_name, places=places)
        parsed = sum(
            (
                parse_money(_cell(cells, column_position), row=number, column=column, places=places)
                for number, cells in details
            ),
            Decimal("0"),
        )
        totals.append(SummaryTotal(summary_name, stated, parsed))
    return ParsedStatement(
        source=SourceKind.WECHAT,
        account=account,
        file_hash=file_hash(content),
        lines=tuple(line for line in lines if line is not None),
        totals=check_totals(totals, row=summary_number),
    )


def _cell(cells: list[str], position: int | None) -> str:
    return clean_cell(cells[position]) if position is not None and position < len(cells) else ""


def _line(number: int, cells: list[str], header: Header, *, account: str, zone: ZoneInfo) -> StatementLine | None:
    def text(*names: str) -> str:
        return _cell(cells, header.find(*names))

    def money(name: str, places: int = 2) -> Decimal:
        return parse_money(text(name), row=number, column=name, places=places)

    status = text("交易状态").upper()
    transaction_id = text("微信订单号") or None
    order_no = text("商户订单号") or None
    memo = " ".join(part for part in (text("商品名称"), text("商户数据包")) if part) or None
    raw = tuple(
        (name, clean_cell(cells[position]))
        for position, name in enumerate(header.names)
        if position < len(cells) and name
    )
    fee = money("手续费", _FEE_PLACES)
    if status == _REFUND_STATUS or (status != _PAID_STATUS and header.has("退款成功时间") and text("微信退款单号")):
        refund_id = text("微信退款单号") or None
        refunded = money("退款金额")
        coupon_refund = money("充值券退款金额") if header.has("充值券退款金额") else Decimal("0")
        when_text = text("退款成功时间") or text("交易时间")
        if refund_id is None:
            raise StatementRejected("a refund row without 微信退款单号", row=number, column="微信退款单号")
        return StatementLine(
            source=SourceKind.WECHAT,
            account=account,
            line_key=f"WECHAT:{account}:R:{refund_id}",
            row_number=number,
            booked_at=parse_time(when_text, zone=zone, row=number, column="退款成功时间"),
            kind=LineKind.REFUND,
            amount=-refunded,
            settled_amount=-(refunded - coupon_refund),
            fee=-abs(fee),
            order_no=order_no,
            transaction_id=transaction_id,
            refund_no=text("商户退款单号") or None,
            provider_refund_id=refund_id,
            memo=memo,
            raw=raw,
        )
    if status != _PAID_STATUS:
        # Revoked or closed orders move no money; they still count in 总交易单数.
        return None
    if transaction_id is None:
        raise StatementRejected("a payment row without 微信订单号", row=number, column="微信订单号")
    return StatementLine(
        source=SourceKind.WECHAT,
        account=account,
        line_key=f"WECHAT:{account}:P:{transaction_id}",
        row_number=number,
        booked_at=parse_time(text("交易时间"), zone=zone, row=number, column="交易时间"),
        kind=LineKind.PAYMENT,
        amount=money("订单金额"),
        settled_amount=money("应结订单金额") if header.has("应结订单金额") else money("订单金额"),
        fee=fee,
        order_no=order_no,
        transaction_id=transaction_id,
        memo=memo,
        raw=raw,
    )
