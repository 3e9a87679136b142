"""简体中文 texts for owners: explanations of bill lines and late fees, and the receipt.

Amounts read as ¥ with two decimals; meters in the units Chinese tariffs print (度 for kWh, 立方米 or 吨
for water as the rule's unit says).
"""

from __future__ import annotations

SEPARATOR = "；"
ATTACHED_SEPARATOR = ""
# Phrases that qualify the one before them rather than adding to it.
ATTACHED = frozenset({"monthly_tiers_widened"})

UNITS = {"kWh": "度", "m³": "立方米", "t": "吨"}
METERS = {"electricity": "电", "water": "水", "gas": "燃气", "hot_water": "热水"}


def money(amount: str) -> str:
    return f"¥{amount}"


TEMPLATES = {
    "per_area": "{area} 平方米 × ¥{rate}/平方米/月 × {months} 个月 = {amount}",
    "fixed": "每 {months} 个月计费周期固定收取 {amount}",
    "fixed/one_month": "每个计费周期固定收取 {amount}",
    "used_earlier": "本年度此前已用 {quantity}",
    "used": "用量 {quantity} = {amount}",
    "priced": "{quantity} × ¥{price} = {amount}",
    "tier": "第{tier}档：{quantity} × ¥{price} = {amount}",
    "monthly_tiers_widened": "（月度阶梯 × {months} 个月）",
    "share_by_area": "公摊总额 {total}，按建筑面积分摊：{area} 平方米 / {total_area} 平方米 = {share}",
    "share_equally": "公摊总额 {total}，由 {units} 户平均分摊 = {share}",
    "share_by_usage": "公摊总额 {total}，按{meter}用量分摊：{quantity} / {total_quantity} = {share}",
    "discount": "{name}：{base} × {percent}% = -{cut}",
    "waived_in_full": "全额减免 {amount}（{reason}）",
    "waiver_capped": "减免 {waiver}，以尚欠的 {amount} 为限（{reason}）",
    "waiver": "减免 {amount}（{reason}）",
    "late_fee_days": (
        "滞纳金：本金 {principal} × 日费率 {rate} × {days} 天（{first_day} 至 {last_day}，"
        "宽限期 {grace_days} 天后）= {amount}"
    ),
    "late_fee_cap": "以本金的 {ratio}% 为上限：{cap}",
    "no_late_fee": "无滞纳金：未超过到期日 {due_date} 及宽限期",
}

RECEIPT = {
    "title": "收款收据 {number}",
    "unit": "房号：{building} {unit}",
    "payer": "付款人：{payer}",
    "channel": "付款方式：{channel}    参考号：{reference}",
    "paid_at": "付款时间：{paid_at}",
    "amount": "金额：{amount}",
    "lines_heading": "账期              滞纳金            本金",
    "line": "{period:<16} {late_fee:>12} {principal:>16}",
    "credit": "预存余额：{credit}",
    "issued": "开具时间：{issued_at}",
}

CHANNELS = {
    "WECHAT": "微信支付",
    "ALIPAY": "支付宝",
    "UNIONPAY": "银联",
    "BANK_TRANSFER": "银行转账",
    "CASH": "现金",
    "POS": "刷卡（POS）",
}


def receipt_money(amount: str) -> str:
    return f"¥{amount}"


# A unit statement's entries, by journal kind; {periods} are the bills' periods, {channels} the payments'.
STATEMENT = {
    "BILLS_ISSUED": "{periods} 账单",
    "LATE_FEE": "滞纳金（{periods} 账单）",
    "PAYMENT": "缴费（{channels}）",
    "ADJUSTMENT/raise": "调增（{periods} 账单）",
    "ADJUSTMENT/lower": "调减（{periods} 账单）",
    "REFUND": "退款（{channels}）",
    "REVERSAL": "撤销缴费（{channels}）",
    "OTHER": "账务调整",
}
# What a payment gateway shows the payer for an online order of their bills.
ORDER = "{project} {periods} 账单缴费"
LIST_SEPARATOR = "、"
