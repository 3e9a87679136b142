"""The /finance page's charts: SVG that loads and runs nothing, numbers written from the reports' Decimals."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.reports.ageing import arrears_ageing
from billing.reports.charts import ageing_chart, collection_by_month_chart, dunning_chart, reminder_group, yuan
from billing.reports.collection import collection_report
from billing.reports.views import AgeingView, CollectionView, ReportProject
from kernel.vocabulary import Locale
from tests.unit.reports import test_ageing, test_collection

ZONE = ZoneInfo("Asia/Shanghai")
PROJECT = ReportProject(7, "湖畔花园", ZONE, Locale.ZH_CN, dt.date(2026, 7, 1))


def test_yuan_groups_thousands_and_keeps_the_fen() -> None:
    assert [yuan(Decimal(text)) for text in ("0.00", "1234.5", "-90.00", "1000000.01")] == [
        "¥0.00", "¥1,234.50", "-¥90.00", "¥1,000,000.01"
    ]


def test_a_chart_is_svg_of_its_own_size_with_no_script_and_nothing_fetched() -> None:
    report = collection_report(
        test_collection.BILLS, test_collection.CASH, test_collection.ADJUSTMENTS,
        periods=[test_collection.JAN, test_collection.FEB, test_collection.MAR], as_of=dt.date(2026, 3, 31), zone=ZONE,
    )
    view = CollectionView(PROJECT, report, {1: "1栋", 2: "2栋"}, {})

    wide, compact = collection_by_month_chart(view), collection_by_month_chart(view, Locale.EN, compact=True)

    assert wide.startswith("<svg") and 'width="720"' in wide and 'width="440"' in compact
    assert "<script" not in wide + compact
    assert re.findall(r'(?:href|src)="(?!#)[^"]*"', wide) == []
    assert "收缴率（按账期）" in wide and "Collection rate by period" in compact
    assert "16.50%" in wide and "25.64%" in wide and "79.17%" in wide


def test_the_ageing_chart_writes_each_buckets_amount_to_the_fen() -> None:
    view = AgeingView(PROJECT, arrears_ageing(test_ageing.BILLS, as_of=test_ageing.AS_OF), {}, {})

    svg = ageing_chart(view)

    assert all(text in svg for text in ("¥150.00", "¥270.00", "¥700.00", "¥510.00", "¥20.00", "365天以上", "截至 2026-06-30"))


def test_the_dunning_chart_stacks_each_levels_reminders_by_where_they_stand() -> None:
    counts = [("T-7", "DELIVERED", 3), ("T-7", "SENT", 2), ("T+3", "THROTTLED", 4), ("T+3", "FAILED", 1), ("T+30", None, 2)]

    svg = dunning_chart(dt.date(2026, 11, 20), counts)
    english = dunning_chart(None, [], Locale.EN, compact=True)

    assert [reminder_group(status) for status in ("SENT", "DELIVERED", "QUEUED", "THROTTLED", "FAILED", "CANCELLED", None)] == [
        "sent", "sent", "queued", "throttled", "failed", "other", "other",
    ]
    assert "催缴提醒（2026-11-20）" in svg and "<script" not in svg
    # the series drawn are the groups that occur (no queued reminders: no 排队中), levels in the order given
    assert all(word in svg for word in ("已发送", "暂缓（免打扰/频次上限）", "失败", "其他")) and "排队中" not in svg
    assert svg.index(">T-7<") < svg.index(">T+3<") < svg.index(">T+30<")
    assert "Dunning reminders (no pass yet)" in english and 'width="440"' in english
