"""English texts for owners: explanations of bill lines and late fees, and the receipt."""

from __future__ import annotations

SEPARATOR = "; "
ATTACHED_SEPARATOR = " "
# Phrases that qualify the one before them rather than adding to it.
ATTACHED = frozenset({"monthly_tiers_widened"})

UNITS = {"kWh": "kWh", "m³": "m³", "t": "t"}
METERS = {"electricity": "electricity", "water": "water", "gas": "gas", "hot_water": "hot water"}


def money(amount: str) -> str:
    return amount


TEMPLATES = {
    "per_area": "{area} m² × {rate}/m²/month × {months} months = {amount}",
    "per_area/one_month": "{area} m² × {rate}/m²/month × 1 month = {amount}",
    "fixed": "fixed {amount} per billing cycle of {months} months",
    "fixed/one_month": "fixed {amount} per billing cycle",
    "used_earlier": "{quantity} used earlier this year",
    "used": "{quantity} used = {amount}",
    "priced": "{quantity} × {price} = {amount}",
    "tier": "tier {tier}: {quantity} × {price} = {amount}",
    "monthly_tiers_widened": "(monthly tiers × {months} months)",
    "share_by_area": "shared total {total} split by floor area: {area} m² of {total_area} m² = {share}",
    "share_equally": "shared total {total} split equally among {units} units = {share}",
    "share_by_usage": "shared total {total} split by {meter} usage: {quantity} of {total_quantity} = {share}",
    "discount": "{name}: {percent}% of {base} = -{cut}",
    "waived_in_full": "waived in full: {amount} ({reason})",
    "waiver_capped": "waiver of {waiver} capped at the {amount} still due ({reason})",
    "waiver": "waiver of {amount} ({reason})",
    "late_fee_days": (
        "late fee: {principal} × {rate} a day × {days} days ({first_day} to {last_day},"
        " after {grace_days} days' grace) = {amount}"
    ),
    "late_fee_cap": "capped at {ratio}% of the principal: {cap}",
    "no_late_fee": "no late fee: not past the due date {due_date} and its grace period",
}

RECEIPT = {
    "title": "Receipt {number}",
    "unit": "Unit: {building} {unit}",
    "payer": "Payer: {payer}",
    "channel": "Channel: {channel}   Reference: {reference}",
    "paid_at": "Paid at: {paid_at}",
    "amount": "Amount: {amount}",
    "lines_heading": "Period            Late fee         Principal",
    "line": "{period:<16} {late_fee:>12} {principal:>16}",
    "credit": "Prepaid credit: {credit}",
    "issued": "Issued: {issued_at}",
}

CHANNELS = {
    "WECHAT": "WeChat Pay",
    "ALIPAY": "Alipay",
    "UNIONPAY": "UnionPay",
    "BANK_TRANSFER": "bank transfer",
    "CASH": "cash",
    "POS": "card (POS)",
}


def receipt_money(amount: str) -> str:
    return f"¥{amount}"


# A unit statement's entries, by journal kind; {periods} are the bills' periods, {channels} the payments'.
STATEMENT = {
    "BILLS_ISSUED": "bill for {periods}",
    "LATE_FEE": "late fee on the {periods} bill",
    "PAYMENT": "payment ({channels})",
    "ADJUSTMENT/raise": "adjustment raising the {periods} bill",
    "ADJUSTMENT/lower": "adjustment lowering the {periods} bill",
    "REFUND": "refund ({channels})",
    "REVERSAL": "payment reversed ({channels})",
    "OTHER": "account entry",
}
# What a payment gateway shows the payer for an online order of their bills.
ORDER = "{project}: bills for {periods}"
LIST_SEPARATOR = ", "
