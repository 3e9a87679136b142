"""The /finance page's charts, drawn on the server as SVG with pygal: the collection rate by month and by
building, arrears by age, money received by channel and month, and the day's dunning reminders by level
and where they stand.

Each chart is a picture of a report the page also shows as figures: positions are drawn from floats
(pygal's geometry), while every number written on a chart is formatted from the report's own Decimal.
The SVG loads nothing from anywhere (no pygal scripts, no fonts from outside, and the inline
configuration script pygal adds is removed): the page shows it as an image, which never runs scripts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pygal
from lxml import etree
from pygal.style import Style

from billing.reports.ageing import AGE_BUCKETS
from billing.reports.texts import bucket_label, channel_label
from billing.reports.views import AgeingView, CollectionView, IncomeView
from kernel.vocabulary import Locale

__all__ = [
    "REMINDER_GROUPS",
    "Chart",
    "ageing_chart",
    "collection_by_building_chart",
    "collection_by_month_chart",
    "dunning_chart",
    "income_by_channel_chart",
    "reminder_group",
    "yuan",
]


class Chart(StrEnum):
    """The charts the page shows, by the name in their address."""

    COLLECTION_BY_MONTH = "collection-by-month"
    COLLECTION_BY_BUILDING = "collection-by-building"
    AGEING = "ageing"
    INCOME_BY_CHANNEL = "income-by-channel"
    DUNNING = "dunning"


REMINDER_GROUPS: tuple[tuple[str, frozenset[str | None]], ...] = (
    ("sent", frozenset({"SENT", "DELIVERED"})),
    ("queued", frozenset({"QUEUED"})),
    ("throttled", frozenset({"THROTTLED"})),
    ("failed", frozenset({"FAILED"})),
)
"""How the dunning chart groups a reminder's outbox status; anything else (cancelled, turned off by the
person, or a level that sends no message) is "other"."""


_FONTS = "'Noto Sans CJK SC', 'WenQuanYi Zen Hei', 'PingFang SC', 'Microsoft YaHei', sans-serif"
_STYLE = Style(
    font_family=_FONTS,
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#2f6fb3", "#e07b39", "#3f9c6d", "#8e6cc0", "#c9a227", "#d0505a", "#5b8a99"),
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    value_label_font_size=12,
    tooltip_font_size=13,
)
_WORDS: dict[Locale, dict[str, str]] = {
    Locale.ZH_CN: {
        "current_rate": "本期收缴率",
        "recovery_rate": "清欠率",
        "collection_by_month": "收缴率（按账期）",
        "collection_by_building": "{period} 各楼栋收缴率",
        "ageing": "欠费账龄（截至 {as_of}）",
        "arrears": "欠费",
        "income_by_channel": "实收（按支付渠道）",
        "no_data": "暂无数据",
        "dunning": "催缴提醒（{day}）",
        "dunning_none": "催缴提醒（尚未运行）",
        "sent": "已发送",
        "queued": "排队中",
        "throttled": "暂缓（免打扰/频次上限）",
        "failed": "失败",
        "other": "其他",
    },
    Locale.EN: {
        "current_rate": "Current-period rate",
        "recovery_rate": "Arrears recovery",
        "collection_by_month": "Collection rate by period",
        "collection_by_building": "Collection rate by building, {period}",
        "ageing": "Arrears by age (as of {as_of})",
        "arrears": "Arrears",
        "income_by_channel": "Money received by channel",
        "no_data": "No data yet",
        "dunning": "Dunning reminders ({day})",
        "dunning_none": "Dunning reminders (no pass yet)",
        "sent": "Sent",
        "queued": "Queued",
        "throttled": "Held (quiet hours, caps)",
        "failed": "Failed",
        "other": "Other",
    },
}


def yuan(amount: Decimal) -> str:
    """¥1,234.56 (negative: -¥1,234.56)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def _percent(rate: Decimal) -> str:
    return f"{rate * 100:.2f}%"


def _chart(kind: type[Any], locale: Locale, title: str, compact: bool, **options: Any) -> Any:
    """A chart of 720 × 360, or 440 × 330 for a phone (the same text is larger on a narrower picture)."""
    return kind(
        style=_STYLE,
        js=[],
        disable_xml_declaration=True,
        width=440 if compact else 720,
        height=330 if compact else 360,
        title=title,
        legend_at_bottom=True,
        no_data_text=_WORDS[locale]["no_data"],
        truncate_label=-1,
        explicit_size=True,
        x_label_rotation=30 if compact and kind is not pygal.HorizontalBar else 0,
        **options,
    )


def _svg(chart: Any) -> str:
    tree = chart.render_tree()
    for script in list(tree.iter("script")):
        script.getparent().remove(script)
    return etree.tostring(tree, encoding="unicode")  # type: ignore[no-any-return]


def _rate_point(rate: Decimal | None) -> dict[str, object] | None:
    if rate is None:
        return None
    return {"value": float(rate * 100), "formatter": lambda _value, text=_percent(rate): text}


def collection_by_month_chart(view: CollectionView, locale: Locale = Locale.ZH_CN, *, compact: bool = False) -> str:
    """The current-period and arrears-recovery rates of each period, as bars side by side."""
    words = _WORDS[locale]
    chart = _chart(pygal.Bar, locale, words["collection_by_month"], compact, range=(0, 100), print_values=True, y_labels=[0, 25, 50, 75, 100])
    chart.x_labels = list(view.report.periods)
    totals = view.report.totals
    chart.add(words["current_rate"], [_rate_point(line.figures.current_rate) for line in totals])
    chart.add(words["recovery_rate"], [_rate_point(line.figures.recovery_rate) for line in totals])
    return _svg(chart)


def collection_by_building_chart(view: CollectionView, locale: Locale = Locale.ZH_CN, *, compact: bool = False) -> str:
    """Each building's current-period rate in the report's last period."""
    words = _WORDS[locale]
    period = view.report.periods[-1]
    lines = [line for line in view.report.by_building if line.period == period]
    chart = _chart(
        pygal.HorizontalBar,
        locale,
        words["collection_by_building"].format(period=period),
        compact,
        range=(0, 100),
        print_values=True,
        show_legend=False,
    )
    chart.x_labels = [view.buildings.get(line.building_id or 0, "") for line in lines]
    chart.add(words["current_rate"], [_rate_point(line.figures.current_rate) for line in lines])
    return _svg(chart)


def ageing_chart(view: AgeingView, locale: Locale = Locale.ZH_CN, *, compact: bool = False) -> str:
    """The project's arrears in each age bucket."""
    words = _WORDS[locale]
    chart = _chart(
        pygal.Bar, locale, words["ageing"].format(as_of=view.report.as_of.isoformat()), compact, print_values=True, show_legend=False
    )
    chart.x_labels = [bucket_label(index, locale) for index in range(len(AGE_BUCKETS))]
    chart.value_formatter = lambda value: yuan(Decimal(str(value)).quantize(Decimal("0.01")))
    chart.add(words["arrears"], [_money_point(amount) for amount in view.report.total.buckets])
    return _svg(chart)


def _money_point(amount: Decimal) -> dict[str, object]:
    return {"value": float(amount), "formatter": lambda _value, text=yuan(amount): text}


def income_by_channel_chart(view: IncomeView, locale: Locale = Locale.ZH_CN, *, compact: bool = False) -> str:
    """Money received in each bucket, stacked by channel."""
    words = _WORDS[locale]
    report = view.report
    chart = _chart(pygal.StackedBar, locale, words["income_by_channel"], compact)
    chart.x_labels = list(report.buckets)
    chart.value_formatter = lambda value: yuan(Decimal(str(value)).quantize(Decimal("0.01")))
    amounts = {(line.bucket, line.key): line.amount for line in report.received}
    channels: Sequence[str] = list(report.received_by_channel)
    for channel in channels:
        chart.add(channel_label(channel, locale), [_money_point(amounts.get((bucket, channel), Decimal("0.00"))) for bucket in report.buckets])
    return _svg(chart)


def reminder_group(status: str | None) -> str:
    """The group of `REMINDER_GROUPS` a reminder with this outbox status is counted in ("other" if none)."""
    return next((name for name, statuses in REMINDER_GROUPS if status in statuses), "other")


def dunning_chart(
    day: dt.date | None, counts: Sequence[tuple[str, str | None, int]], locale: Locale = Locale.ZH_CN, *, compact: bool = False
) -> str:
    """The reminders of a dunning day per level (`counts`: level code, outbox status, notices; in level
    order), stacked by where they stand."""
    words = _WORDS[locale]
    title = words["dunning"].format(day=day.isoformat()) if day is not None else words["dunning_none"]
    chart = _chart(pygal.StackedBar, locale, title, compact)
    levels = list(dict.fromkeys(level for level, _, _ in counts))
    totals: dict[tuple[str, str], int] = {}
    for level, status, count in counts:
        key = (level, reminder_group(status))
        totals[key] = totals.get(key, 0) + count
    chart.x_labels = levels
    chart.value_formatter = lambda value: f"{int(value):,}"
    for group in (*(name for name, _ in REMINDER_GROUPS), "other"):
        if any(group == name for _, name in totals):
            chart.add(words[group], [totals.get((level, group)) for level in levels])
    return _svg(chart)
