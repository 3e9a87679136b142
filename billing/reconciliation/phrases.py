"""The matcher's explanations, stored as phrases (a code and its facts), in words for finance staff.

Pure. zh-CN is what a Chinese finance desk reads; en for projects that speak English. A code without a
template is shown with its facts, so a new code is never lost, only plainer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernel.vocabulary import Locale

__all__ = ["render_phrase"]

_KEYS_ZH = {
    "order_no": "商户订单号",
    "transaction_id": "渠道交易号",
    "bank_reference": "银行流水号",
    "end_to_end_id": "端到端编号",
    "refund_no": "商户退款单号",
    "provider_refund_id": "渠道退款单号",
}
# The line fields a rule's pattern is searched in (`PATTERN_FOUND`'s field).
_FIELDS_ZH = {"memo": "摘要", "counterparty_name": "付款人户名"}
_FIELDS_EN = {"memo": "memo", "counterparty_name": "payer name"}

_ZH: Mapping[str, str] = {
    "KEY_EQUAL": "{key_name}一致",
    "AMOUNT_EQUAL": "金额一致",
    "ALREADY_MATCHED": "付款 {payment} 已与流水 {line} 对上，这是第二笔扣款（{amount} 元）",
    "AMOUNT_DIFFERS": "流水金额 {line_amount} 元，系统金额 {payment_amount} 元，相差 {difference} 元",
    "REFUND_OF_ORDER": "按订单找到退款（付款 {payment}）",
    "REFUND_AMOUNT_DIFFERS": "流水退款 {line_amount} 元，系统退款 {refund_amount} 元，相差 {difference} 元",
    "CHANNEL_FEE": "渠道手续费 {amount} 元",
    "SAME_CHARGE": "与付款 {first_payment} 为同一笔账单（{charge}）的重复付款，{amount} 元",
    "SETTLES_CHANNEL_DAYS": "结算 {account} {first_day} 至 {last_day} 的 {lines} 笔流水",
    "SETTLEMENT_AMOUNT": "订单 {gross} 元 − 代金券 {coupons} 元 + 退款 {refunds} 元 − 手续费 {fees} 元 = 到账 {net} 元",
    "ARRIVED_AFTER_DAYS": "T+{days} 到账",
    "PAYOUT_ARRIVED": "提现 {amount} 元于 {sent} 发出，{days} 天后到账",
    "RULE": "按第 {position} 条规则「{rule}」匹配",
    "PATTERN_FOUND": "在{field}中找到「{text}」",
    "AMOUNT_WITHIN": "金额相差 {difference} 元，在允许的 {tolerance} 元之内",
    "DATE_WITHIN": "日期相差 {days} 天",
    "NAME_SIMILAR": "付款人「{line_name}」与「{payer_name}」相似（{score}）",
    "PAYOUT_NOT_ARRIVED": "提现 {amount} 元应于 {due} 前到账，银行流水中没有",
    "REFUND_NOT_IN_COURTYARD": "流水中有退款 {amount} 元，系统中没有",
    "BANK_LINE_NOT_MATCHED": "银行入账 {amount} 元未找到对应付款",
    "PAID_AT_CHANNEL_ONLY": "渠道收款 {amount} 元（订单 {order_no}），系统中没有这笔付款",
    "NO_STATEMENT_LINE": "系统收款 {amount} 元（{channel}），到 {due} 仍无对账单流水：未到账",
    "REFUND_NOT_IN_STATEMENT": "系统退款 {amount} 元，对账单中没有",
    "MATCHED_BY_HAND": "人工匹配（异常 {exception}，差额 {difference} 元）",
    "RECORDED_FROM_LINE": "由流水 {line} 补录付款 {payment}",
    "DUPLICATE_REFUNDED": "重复扣款已退款 {amount} 元（付款 {payment}）",
}

_EN: Mapping[str, str] = {
    "KEY_EQUAL": "same {key_name}",
    "AMOUNT_EQUAL": "same amount",
    "ALREADY_MATCHED": "payment {payment} already matches line {line}: a second charge of {amount}",
    "AMOUNT_DIFFERS": "statement {line_amount}, Courtyard {payment_amount}, difference {difference}",
    "REFUND_OF_ORDER": "refund found by its order (payment {payment})",
    "REFUND_AMOUNT_DIFFERS": "statement refund {line_amount}, Courtyard {refund_amount}, difference {difference}",
    "CHANNEL_FEE": "channel fee {amount}",
    "SAME_CHARGE": "pays the same bills ({charge}) as payment {first_payment}: {amount} twice",
    "SETTLES_CHANNEL_DAYS": "settles {lines} lines of {account}, {first_day} to {last_day}",
    "SETTLEMENT_AMOUNT": "orders {gross} − coupons {coupons} + refunds {refunds} − fees {fees} = {net} received",
    "ARRIVED_AFTER_DAYS": "arrived T+{days}",
    "PAYOUT_ARRIVED": "payout of {amount} sent {sent}, arrived {days} days later",
    "RULE": "rule {position} ({rule})",
    "PATTERN_FOUND": "found '{text}' in the {field}",
    "AMOUNT_WITHIN": "amounts differ by {difference}, within {tolerance}",
    "DATE_WITHIN": "{days} days apart",
    "NAME_SIMILAR": "payer '{line_name}' resembles '{payer_name}' ({score})",
    "PAYOUT_NOT_ARRIVED": "payout of {amount} due by {due} is not in the bank statement",
    "REFUND_NOT_IN_COURTYARD": "refund of {amount} in the statement, not in Courtyard",
    "BANK_LINE_NOT_MATCHED": "bank credit of {amount} matches no payment",
    "PAID_AT_CHANNEL_ONLY": "{amount} paid at the channel (order {order_no}), not recorded in Courtyard",
    "NO_STATEMENT_LINE": "{amount} recorded in Courtyard ({channel}), no statement line by {due}: not received",
    "REFUND_NOT_IN_STATEMENT": "refund of {amount} in Courtyard, not in the statement",
    "MATCHED_BY_HAND": "matched by hand (exception {exception}, difference {difference})",
    "RECORDED_FROM_LINE": "payment {payment} recorded from line {line}",
    "DUPLICATE_REFUNDED": "duplicate charge refunded: {amount} (payment {payment})",
}


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


def render_phrase(code: str, facts: Mapping[str, Any], locale: Locale) -> str:
    """One stored phrase in words."""
    templates = _ZH if locale is Locale.ZH_CN else _EN
    values = _Facts(facts)
    key = str(facts.get("key", ""))
    values["key_name"] = _KEYS_ZH.get(key, key) if locale is Locale.ZH_CN else key.replace("_", " ")
    if "field" in facts:
        field = str(facts["field"])
        values["field"] = (_FIELDS_ZH if locale is Locale.ZH_CN else _FIELDS_EN).get(field, field)
    template = templates.get(code)
    if template is None:
        return code + (" " + ", ".join(f"{name}={value}" for name, value in facts.items()) if facts else "")
    return template.format_map(values)
