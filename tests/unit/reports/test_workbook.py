"""The XLSX workbooks read back: Chinese headings, the header row frozen, yuan and percentage formats, and
every figure and total the report's own, to the fen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from billing.reports.ageing import arrears_ageing
from billing.reports.collection import collection_report
from billing.reports.income import Granularity, income_report
from billing.reports.views import AgeingView, CollectionView, IncomeView, ReportProject, UnitLabel
from billing.reports.workbook import MONEY_FORMAT, RATE_FORMAT, ageing_workbook, collection_workbook, income_workbook
from kernel.vocabulary import Locale
from tests.unit.reports import test_ageing, test_collection, test_income

ZONE = ZoneInfo("Asia/Shanghai")
PROJECT = ReportProject(7, "湖畔花园", ZONE, Locale.ZH_CN, dt.date(2026, 7, 1))


def _read(write: Any, view: Any) -> Any:
    buffer = BytesIO()
    write(view, buffer)
    buffer.seek(0)
    return load_workbook(buffer)


def _exact(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_the_collection_sheet_holds_every_line_with_each_periods_total_first() -> None:
    report = collection_report(
        test_collection.BILLS,
        test_collection.CASH,
        test_collection.ADJUSTMENTS,
        periods=[test_collection.JAN, test_collection.FEB, test_collection.MAR],
        as_of=dt.date(2026, 3, 31),
        zone=ZONE,
    )
    view = CollectionView(PROJECT, report, {1: "1栋", 2: "2栋"}, {"PROPERTY": "物业服务费", "WATER": "水费", "PARKING": "车位费"})

    book = _read(collection_workbook, view)
    sheet = book["收缴率"]
    rows = list(sheet.iter_rows(values_only=True))

    assert book.sheetnames == ["收缴率", "口径说明"]
    assert sheet.freeze_panes == "A2"
    assert rows[0] == (
        "账期", "楼栋", "收费项目", "本期应收（元）", "本期实收（元）", "本期未收（元）", "本期收缴率",
        "期初往期欠费（元）", "本期清欠（元）", "清欠率",
    )
    assert len(rows) - 1 == len(report.totals) + len(report.by_fee_kind) + len(report.by_building) + len(report.cells)
    february = next(row for row in rows if row[:3] == ("2026-02", "合计", "合计"))
    assert [_exact(value) for value in february[3:6]] == [Decimal("909.30"), Decimal("150.00"), Decimal("759.30")]
    assert february[6] == 0.165  # 16.50 %
    assert (_exact(february[7]), _exact(february[8]), february[9]) == (Decimal("390.00"), Decimal("100.00"), 0.2564)
    assert next(row for row in rows if row[:3] == ("2026-02", "2栋", "调整"))[3] == -90
    money, rate = sheet.cell(row=2, column=4), sheet.cell(row=2, column=7)
    assert (money.number_format, rate.number_format, money.font.bold) == (MONEY_FORMAT, RATE_FORMAT, True)
    definition = [row[1] for row in book["口径说明"].iter_rows(values_only=True)]
    assert definition[0] == "湖畔花园"
    assert definition[1] == "2026-03-31"
    assert definition[-1].startswith("收缴率按账期计算")


def test_the_ageing_sheets_hold_each_building_and_every_unit_adding_up_to_the_total() -> None:
    report = arrears_ageing(test_ageing.BILLS, as_of=test_ageing.AS_OF, top=2)
    units = {
        1: UnitLabel("1栋", "101", "王丽"), 2: UnitLabel("1栋", "102", "李强"), 3: UnitLabel("2栋", "201", None)
    }
    view = AgeingView(PROJECT, report, {1: "1栋", 2: "2栋"}, units)

    book = _read(ageing_workbook, view)
    buildings = list(book["欠费账龄"].iter_rows(values_only=True))
    unit_rows = list(book["分户欠费"].iter_rows(values_only=True))

    assert buildings[0] == ("楼栋", "0–30天（元）", "31–90天（元）", "91–180天（元）", "181–365天（元）", "365天以上（元）", "欠费合计（元）")
    assert [_exact(value) for value in buildings[-1][1:]] == [*report.total.buckets, report.total.total]
    assert unit_rows[1][:4] == ("2栋", "201", None, 4)
    assert unit_rows[1][4] == dt.datetime(2025, 6, 29)
    assert [row[1] for row in unit_rows[1:-1]] == ["201", "102", "101"]  # every unit, not only the top two
    assert sum((_exact(row[-1]) for row in unit_rows[1:-1]), Decimal(0)) == _exact(unit_rows[-1][-1]) == Decimal("1650.00")
    assert book["分户欠费"].freeze_panes == "A2"
    assert book["分户欠费"].cell(row=2, column=5).number_format == "yyyy-mm-dd"


def test_the_income_sheets_pivot_buckets_against_fee_kinds_and_channels_with_totals() -> None:
    report = income_report(
        test_income.POSTINGS, first_day=test_income.MARCH_1, last_day=test_income.MARCH_31, granularity=Granularity.DAY, zone=ZONE
    )
    view = IncomeView(PROJECT, report, {"PROPERTY": "物业服务费", "WATER": "水费"})

    book = _read(income_workbook, view)
    revenue = list(book["计费收入"].iter_rows(values_only=True))
    received = list(book["实收"].iter_rows(values_only=True))

    assert revenue[0] == ("日期", "物业服务费（元）", "水费（元）", "滞纳金（元）", "调整（元）", "合计（元）")
    assert len(revenue) == 1 + 31 + 1
    assert revenue[1][0] == "2026-03-01"
    assert [_exact(value) for value in revenue[-1][1:]] == [
        Decimal("637.80"), Decimal("61.50"), Decimal("3.21"), Decimal("-90.00"), Decimal("612.51")
    ]
    assert received[0] == ("日期", "支付宝（元）", "微信支付（元）", "合计（元）")
    assert _exact(received[-1][-1]) == report.total_received == Decimal("80.00")
    assert book["实收"].cell(row=2, column=2).number_format == MONEY_FORMAT
