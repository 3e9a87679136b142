"""The daily close as a workbook a person reads: Chinese headings, a frozen header row, yuan formats, one row
per day (closed or not), the period's totals, and a sheet of the exceptions still open."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

import openpyxl  # type: ignore[import-untyped]

from billing.reconciliation.close_workbook import (
    CLOSE_HEADINGS,
    EXCEPTION_HEADINGS,
    YUAN,
    CloseReport,
    ClosedDay,
    OpenException,
    write_close_workbook,
)


def closed(day: int, opening: str, closing: str, matched: int, matched_amount: str, **extra: object) -> ClosedDay:
    values: dict[str, object] = {
        "day": dt.date(2026, 11, day),
        "opening_balance": Decimal(opening),
        "closing_balance": Decimal(closing),
        "matched_count": matched,
        "matched_amount": Decimal(matched_amount),
        "exception_count": 0,
        "exception_amount": Decimal("0.00"),
        "open_exception_count": 0,
        "open_exception_amount": Decimal("0.00"),
        "closed_by": "林晓燕",
        "closed_at": dt.datetime(2026, 11, day + 3, 9, 30),
        "sign_off_reason": None,
    }
    values.update(extra)
    return ClosedDay(**values)  # type: ignore[arg-type]


REPORT = CloseReport(
    project="翠湖花园",
    account="1230000109",
    ledger_account="CLEARING:WECHAT",
    first_day=dt.date(2026, 11, 1),
    last_day=dt.date(2026, 11, 3),
    days=(
        closed(
            1, "0.00", "1530.20", 5, "1580.20",
            exception_count=2, exception_amount=Decimal("150.30"), open_exception_count=1,
            open_exception_amount=Decimal("150.00"), sign_off_reason="渠道单边账待补录", closed_by="沈建华",
        ),
        closed(2, "1530.20", "1234567.89", 12, "1233037.69"),
    ),  # fmt: skip
    open_exceptions=(
        OpenException(
            number=17,
            day=dt.date(2026, 11, 1),
            kind="CHANNEL_ONLY",
            difference=Decimal("150.00"),
            fee_explains=None,
            explanation="渠道收款 150.00 元（订单 CY0001），系统中没有这笔付款",
            lines="11-01 10:00 +150.00 订单 CY0001",
            payments="",
        ),
    ),
)


def read(report: CloseReport = REPORT) -> openpyxl.Workbook:
    target = io.BytesIO()
    write_close_workbook(report, target)
    return openpyxl.load_workbook(io.BytesIO(target.getvalue()))


def test_the_days_sheet_has_chinese_headings_in_a_frozen_bold_first_row() -> None:
    sheet = read()["日结报告"]
    assert [cell.value for cell in sheet[1]] == list(CLOSE_HEADINGS)
    assert CLOSE_HEADINGS[:4] == ("日期", "状态", "期初余额", "期末余额")
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"


def test_each_day_of_the_period_has_a_row_and_a_day_not_closed_says_so() -> None:
    sheet = read()["日结报告"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=4)]
    assert rows[0][:2] == [dt.datetime(2026, 11, 1), "已关账（签字放行）"]
    assert [Decimal(str(value)) for value in rows[0][2:4]] == [Decimal("0"), Decimal("1530.20")]
    assert rows[0][4:10] == [5, 1580.2, 2, 150.3, 1, 150.0]
    assert rows[0][10:] == ["沈建华", dt.datetime(2026, 11, 4, 9, 30), "渠道单边账待补录"]
    assert rows[1][:2] == [dt.datetime(2026, 11, 2), "已关账"]
    assert rows[2] == [dt.datetime(2026, 11, 3), "未关账", *[None] * (len(CLOSE_HEADINGS) - 2)]


def test_money_is_in_yuan_to_the_fen_and_dates_read_as_dates() -> None:
    sheet = read()["日结报告"]
    money = {CLOSE_HEADINGS.index(name) for name in ("期初余额", "期末余额", "已匹配金额", "差异金额", "未结差异金额")}
    for position, cell in enumerate(sheet[3]):
        if position in money:
            assert cell.number_format == YUAN == "¥#,##0.00"
    assert sheet["D3"].value == 1234567.89
    assert sheet["A2"].number_format == "yyyy-mm-dd"


def test_the_totals_row_adds_up_the_closed_days_and_spans_their_balances() -> None:
    sheet = read()["日结报告"]
    totals = [cell.value for cell in sheet[5]]
    assert totals[:2] == ["合计", "2 天已关账，1 天未关账"]
    assert [Decimal(str(value)) for value in totals[2:4]] == [Decimal("0"), Decimal("1234567.89")]
    assert totals[4:10] == [17, 1234617.89, 2, 150.3, 1, 150.0]
    assert sheet.max_row == 5


def test_the_open_exceptions_sheet_names_each_in_words() -> None:
    sheet = read()["未结差异"]
    assert [cell.value for cell in sheet[1]] == list(EXCEPTION_HEADINGS)
    assert sheet.freeze_panes == "A2"
    row = [cell.value for cell in sheet[2]]
    assert row[:4] == [17, dt.datetime(2026, 11, 1), "渠道单边账（系统无此付款）", 150.0]
    assert row[5] == "渠道收款 150.00 元（订单 CY0001），系统中没有这笔付款"
    assert sheet.cell(row=2, column=EXCEPTION_HEADINGS.index("差异金额") + 1).number_format == YUAN


def test_the_workbook_names_its_project_account_and_period() -> None:
    assert read().properties.title == "翠湖花园 1230000109（CLEARING:WECHAT）日结报告 2026-11-01 至 2026-11-03"


def test_a_year_of_days_writes_a_row_each() -> None:
    year = dataclasses.replace(REPORT, last_day=dt.date(2027, 10, 31), open_exceptions=())
    sheet = read(year)["日结报告"]
    assert sheet.max_row == 1 + 365 + 1
