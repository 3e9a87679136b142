"""What the reports say in words, zh-CN first: each report's definition (written into the report itself,
its export and its page), bucket and fee-kind labels, and the headings of the exported sheets."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from billing import texts as billing_texts
from billing.reports.collection import ADJUSTMENT_KIND
from billing.reports.income import LATE_FEE_KIND
from kernel.vocabulary import Locale

__all__ = ["ReportKind", "bucket_label", "channel_label", "definition", "fee_kind_label", "heading"]


class ReportKind(StrEnum):
    COLLECTION = "COLLECTION"
    AGEING = "AGEING"
    INCOME = "INCOME"


_DEFINITIONS: Mapping[Locale, Mapping[ReportKind, str]] = {
    Locale.ZH_CN: {
        ReportKind.COLLECTION: (
            "收缴率按账期计算，以所选日期日终（项目所在时区）的账务为准，之后入账的不计。"
            "本期收缴率 = 截至该日已冲抵本期账单本金的实收 ÷ 本期应收；本期应收 = 截至该日已开具的该账期账单的收费明细"
            "（已扣除折扣和减免），加上截至该日登记的调账（调增为正、调减为负，单列为“调整”）。"
            "预收款在冲抵本期账单之前不计入本期实收；滞纳金既不计入应收，也不计入实收。"
            "清欠率 = 本账期内（自账期首日至末日，所选日期更早则至该日）冲抵往期账单本金的实收 ÷ 账期开始时往期账单"
            "（账期首日之前开具）尚欠的本金。一张账单的实收按账单所列收费项目的顺序依次冲抵，前一项收清再收下一项，"
            "超出收费明细的部分冲抵调增；冲正的付款记为负数。各楼栋、各收费项目之和等于项目合计，分毫不差；"
            "比率由合计数相除，四舍五入到 0.01%，无应收时不计比率。"
        ),
        ReportKind.AGEING: (
            "欠费账龄以所选日期日终（项目所在时区）为准，由账务日记账回溯重建，而不是看账单今天的状态："
            "每张账单的欠费 = 截至该日记入应收账款的金额（收费、已计收的滞纳金、调账）减去已冲抵的实收。"
            "到期日早于该日且仍有欠费的账单计入欠费，按逾期天数（该日减去到期日）分为 0–30 天、31–90 天、"
            "91–180 天、181–365 天和 365 天以上五档；每张账单的欠费只落入一档，各档之和等于欠费合计，"
            "各户、各楼栋之和等于项目合计，分毫不差。尚未到期的应收单列，不计入欠费。"
        ),
        ReportKind.INCOME: (
            "收入取自账务日记账，按所选日期范围（项目所在时区）逐日或逐月汇总。"
            "计费收入按收费项目：各收费项目的收入（已扣除折扣和减免）、已计收的滞纳金、调账（调增为正、调减为负）。"
            "实收按支付渠道：收款记为正数，退款和冲正记为负数；渠道结算入银行、渠道手续费和对账差错核销只是已收款项的转移，"
            "不算收入。各项合计等于同期相应账户的发生额，账簿平衡由账簿核对（ledgerCheck）证明。"
        ),
    },
    Locale.EN: {
        ReportKind.COLLECTION: (
            "Collection rates per billing period, from the books as they stood at the end of the chosen day (the "
            "project's time zone); anything booked later is not counted. Current-period rate = cash applied to "
            "the principal of the period's bills by that day ÷ the period's receivable: the lines of the "
            "period's bills issued by that day (net of discounts and waivers) plus the adjustments booked on "
            "them by that day (debits positive, credits negative, shown as their own fee kind ADJUSTMENT). "
            "Prepaid money counts once a bill of the period takes it; late fees are neither receivable nor "
            "collected. Arrears-recovery rate = cash applied during the period (its first day to its last, or "
            "to the chosen day if earlier) to bills of earlier periods ÷ what those bills (issued before the "
            "period's first day) still owed when it began. A bill's cash pays its fee kinds in the order the "
            "bill lists them, each in full before the next, and beyond its lines its debit adjustments; a "
            "reversed payment counts negative. Buildings and fee kinds add up to the project's totals to the "
            "fen; rates divide the totals, rounded half up to 0.01 %, and are empty where nothing is receivable."
        ),
        ReportKind.AGEING: (
            "Arrears as the journal stood at the end of the chosen day (the project's time zone), read back "
            "from it rather than from the bills' statuses today: a bill owes what its receivable postings "
            "booked by then add up to (charges, late fees charged, adjustments, less cash applied). A bill still "
            "owing with a due date before that day is in arrears, aged by the days since its due date into "
            "0–30, 31–90, 91–180, 181–365 and over 365 days; each bill falls in exactly one bucket, so the "
            "buckets add up to the total arrears, and units and buildings to the project's, to the fen. Amounts "
            "not yet due are shown beside the arrears, not in them."
        ),
        ReportKind.INCOME: (
            "Income from the journal over the chosen days (the project's time zone), by day or by month. "
            "Revenue by fee kind: each fee kind's income (net of discounts and waivers), late fees charged, "
            "and adjustments (debits raise it, credits lower it). Money received by channel: payments in, "
            "refunds and reversals out. Settlements into the bank, channel fees and reconciliation write-offs "
            "only move money already received: they are not income. The totals equal the same accounts' "
            "postings over the same days, which ledgerCheck proves balanced."
        ),
    },
}

_BUCKETS: Mapping[Locale, tuple[str, ...]] = {
    Locale.ZH_CN: ("0–30天", "31–90天", "91–180天", "181–365天", "365天以上"),
    Locale.EN: ("0–30 days", "31–90 days", "91–180 days", "181–365 days", "over 365 days"),
}

_OWN_FEE_KINDS: Mapping[Locale, Mapping[str, str]] = {
    Locale.ZH_CN: {ADJUSTMENT_KIND: "调整", LATE_FEE_KIND: "滞纳金"},
    Locale.EN: {ADJUSTMENT_KIND: "adjustments", LATE_FEE_KIND: "late fees"},
}

_HEADINGS: Mapping[Locale, Mapping[str, str]] = {
    Locale.ZH_CN: {
        "collection.sheet": "收缴率",
        "ageing.sheet": "欠费账龄",
        "ageing.units.sheet": "分户欠费",
        "income.revenue.sheet": "计费收入",
        "income.received.sheet": "实收",
        "definition.sheet": "口径说明",
        "project": "项目",
        "as_of": "截至日期",
        "range": "日期范围",
        "period": "账期",
        "building": "楼栋",
        "fee_kind": "收费项目",
        "all": "合计",
        "receivable": "本期应收（元）",
        "collected": "本期实收（元）",
        "outstanding": "本期未收（元）",
        "current_rate": "本期收缴率",
        "arrears_at_start": "期初往期欠费（元）",
        "arrears_recovered": "本期清欠（元）",
        "recovery_rate": "清欠率",
        "unit": "房号",
        "debtor": "欠费人",
        "bills": "欠费账单数",
        "oldest_due": "最早到期日",
        "arrears_total": "欠费合计（元）",
        "not_yet_due": "未到期应收（元）",
        "in_yuan": "{name}（元）",
        "day": "日期",
        "month": "月份",
        "channel": "支付渠道",
        "amount": "金额（元）",
    },
    Locale.EN: {
        "collection.sheet": "Collection",
        "ageing.sheet": "Ageing",
        "ageing.units.sheet": "Units",
        "income.revenue.sheet": "Revenue",
        "income.received.sheet": "Received",
        "definition.sheet": "Definitions",
        "project": "Project",
        "as_of": "As of",
        "range": "Days",
        "period": "Period",
        "building": "Building",
        "fee_kind": "Fee kind",
        "all": "Total",
        "receivable": "Receivable (CNY)",
        "collected": "Collected (CNY)",
        "outstanding": "Outstanding (CNY)",
        "current_rate": "Current-period rate",
        "arrears_at_start": "Arrears at start (CNY)",
        "arrears_recovered": "Arrears recovered (CNY)",
        "recovery_rate": "Recovery rate",
        "unit": "Unit",
        "debtor": "Debtor",
        "bills": "Bills in arrears",
        "oldest_due": "Oldest due date",
        "arrears_total": "Arrears (CNY)",
        "not_yet_due": "Not yet due (CNY)",
        "in_yuan": "{name} (CNY)",
        "day": "Day",
        "month": "Month",
        "channel": "Channel",
        "amount": "Amount (CNY)",
    },
}


def definition(report: ReportKind, locale: Locale = Locale.ZH_CN) -> str:
    """How the report's figures are defined, in `locale`."""
    return _DEFINITIONS[locale][report]


def bucket_label(index: int, locale: Locale = Locale.ZH_CN) -> str:
    """The label of `AGE_BUCKETS[index]`."""
    return _BUCKETS[locale][index]


def fee_kind_label(code: str, rule_names: Mapping[str, str], locale: Locale = Locale.ZH_CN) -> str:
    """A fee kind's name: the rule's own name (as the project wrote it), or the report's for late fees
    and adjustments, or the bare code."""
    return _OWN_FEE_KINDS[locale].get(code) or rule_names.get(code) or code


def channel_label(code: str, locale: Locale = Locale.ZH_CN) -> str:
    return billing_texts.language(locale).CHANNELS.get(code, code)  # type: ignore[no-any-return]


def heading(key: str, locale: Locale = Locale.ZH_CN, **values: str) -> str:
    return _HEADINGS[locale][key].format(**values)

