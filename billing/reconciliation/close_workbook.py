"""The daily close (日清日结) as a workbook a person reads and files: one sheet of days, one of what is open.

Sheet 日结报告: a row per day of the period, closed or not, with the account's opening and closing
clearing balance, the day's matched lines and exceptions (counts and amounts), who closed it and when,
and the sign-off reason of a day closed with exceptions open; then the period's totals (合计) over the
closed days. Sheet 未结差异: the exceptions still open, each in words. Headings in a frozen, bold first
row, in the report's language (zh-CN, the default, or en: sheet names, headings, statuses and kinds,
`WORDS`); money as yuan to the fen (`¥#,##0.00`, written from `Decimal` exactly); dates as dates.

Written in openpyxl's write-only mode, which streams rows out instead of holding a cell tree: a year of
days or thousands of exceptions cost the same memory.

Pure: plain dataclasses in, the workbook written to a path or a binary stream.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from kernel.vocabulary import Locale

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet  # type: ignore[import-untyped]

__all__ = [
    "CLOSE_HEADINGS",
    "EXCEPTION_HEADINGS",
    "EXCEPTION_KIND_NAMES",
    "WORDS",
    "YUAN",
    "CloseReport",
    "ClosedDay",
    "OpenException",
    "write_close_workbook",
]

YUAN = "¥#,##0.00"
_DATE = "yyyy-mm-dd"
_TIME = "yyyy-mm-dd hh:mm"
_COUNT = "#,##0"
_ZERO = Decimal("0.00")

CLOSE_HEADINGS = (
    "日期", "状态", "期初余额", "期末余额", "已匹配笔数", "已匹配金额", "差异笔数", "差异金额", "未结差异笔数",
    "未结差异金额", "关账人", "关账时间", "签字说明",
)  # fmt: skip
_CLOSE_WIDTHS = (12, 18, 16, 16, 11, 16, 10, 14, 13, 14, 12, 17, 40)
EXCEPTION_HEADINGS = ("编号", "日期", "类型", "差异金额", "手续费可解释", "说明", "对账单流水", "系统付款")
_EXCEPTION_WIDTHS = (8, 12, 24, 14, 13, 60, 48, 48)
EXCEPTION_KIND_NAMES = {
    "UNRECEIVED": "未到账",
    "CHANNEL_ONLY": "渠道单边账（系统无此付款）",
    "DUPLICATE_CHARGE": "重复扣款",
    "AMOUNT_MISMATCH": "金额不符",
    "BANK_UNMATCHED": "银行流水未匹配",
    "REFUND_UNMATCHED": "退款未匹配",
}


@dataclass(frozen=True, slots=True)
class _Words:
    """Everything the workbook says in one language."""

    title: str  # of the file: project, account, ledger account, first and last day
    days_sheet: str
    exceptions_sheet: str
    close_headings: tuple[str, ...]
    exception_headings: tuple[str, ...]
    kind_names: Mapping[str, str]
    not_closed: str
    closed: str
    signed_off: str
    total: str
    total_days: str  # closed and open day counts
    yes: str
    no: str


WORDS: Mapping[Locale, _Words] = {
    Locale.ZH_CN: _Words(
        title="{project} {account}（{ledger}）日结报告 {first} 至 {last}",
        days_sheet="日结报告",
        exceptions_sheet="未结差异",
        close_headings=CLOSE_HEADINGS,
        exception_headings=EXCEPTION_HEADINGS,
        kind_names=EXCEPTION_KIND_NAMES,
        not_closed="未关账",
        closed="已关账",
        signed_off="已关账（签字放行）",
        total="合计",
        total_days="{closed} 天已关账，{open} 天未关账",
        yes="是",
        no="否",
    ),
    Locale.EN: _Words(
        title="{project} {account} ({ledger}) daily closes {first} to {last}",
        days_sheet="Daily closes",
        exceptions_sheet="Open exceptions",
        close_headings=(
            "Date", "Status", "Opening balance", "Closing balance", "Matched", "Matched amount", "Exceptions",
            "Exception amount", "Open exceptions", "Open exception amount", "Closed by", "Closed at", "Sign-off reason",
        ),
        exception_headings=(
            "No.", "Date", "Kind", "Difference", "Explained by the fee", "Explanation", "Statement lines", "Payments",
        ),
        kind_names={
            "UNRECEIVED": "Not received",
            "CHANNEL_ONLY": "At the channel only (no payment in Courtyard)",
            "DUPLICATE_CHARGE": "Duplicate charge",
            "AMOUNT_MISMATCH": "Amount mismatch",
            "BANK_UNMATCHED": "Bank credit unmatched",
            "REFUND_UNMATCHED": "Refund unmatched",
        },
        not_closed="Open",
        closed="Closed",
        signed_off="Closed (signed off)",
        total="Total",
        total_days="{closed} days closed, {open} open",
        yes="yes",
        no="no",
    ),
}


@dataclass(frozen=True, slots=True)
class ClosedDay:
    """One closed day of the account, as its close recorded it; `closed_at` in the project's local time."""

    day: dt.date
    opening_balance: Decimal
    closing_balance: Decimal
    matched_count: int
    matched_amount: Decimal
    exception_count: int
    exception_amount: Decimal
    open_exception_count: int
    open_exception_amount: Decimal
    closed_by: str
    closed_at: dt.datetime
    sign_off_reason: str | None


@dataclass(frozen=True, slots=True)
class OpenException:
    """An exception still open, in words: its explanation and the statement lines and payments it is about."""

    number: int
    day: dt.date
    kind: str
    difference: Decimal | None
    fee_explains: bool | None
    explanation: str
    lines: str
    payments: str


@dataclass(frozen=True, slots=True)
class CloseReport:
    """The closes of one statement account over a period, and its exceptions still open in it, in the
    language the workbook is written in (its explanations and descriptions already in it)."""

    project: str
    account: str
    ledger_account: str
    first_day: dt.date
    last_day: dt.date
    days: Sequence[ClosedDay]
    open_exceptions: Sequence[OpenException]
    locale: Locale = Locale.ZH_CN


def write_close_workbook(report: CloseReport, target: Path | BinaryIO) -> None:
    """Write the report's workbook (see the module docstring) to `target`, in the report's language."""
    words = WORDS[report.locale]
    workbook = Workbook(write_only=True)
    workbook.properties.title = words.title.format(
        project=report.project, account=report.account, ledger=report.ledger_account, first=report.first_day, last=report.last_day
    )
    days = _sheet(workbook, words.days_sheet, words.close_headings, _CLOSE_WIDTHS)
    closed = {close.day: close for close in report.days}
    period = [report.first_day + dt.timedelta(days=n) for n in range((report.last_day - report.first_day).days + 1)]
    for day in period:
        close = closed.get(day)
        if close is None:
            days.append([_cell(days, day, _DATE), words.not_closed])
            continue
        days.append(
            [
                _cell(days, day, _DATE),
                words.signed_off if close.sign_off_reason else words.closed,
                *_figures(days, close),
                close.closed_by,
                _cell(days, close.closed_at, _TIME),
                close.sign_off_reason,
            ]
        )
    days.append(_totals(days, words, [closed[day] for day in period if day in closed], len(period)))

    exceptions = _sheet(workbook, words.exceptions_sheet, words.exception_headings, _EXCEPTION_WIDTHS)
    wrapped = Alignment(wrap_text=True, vertical="top")
    for exception in report.open_exceptions:
        exceptions.append(
            [
                exception.number,
                _cell(exceptions, exception.day, _DATE),
                words.kind_names.get(exception.kind, exception.kind),
                _cell(exceptions, exception.difference, YUAN),
                {True: words.yes, False: words.no, None: ""}[exception.fee_explains],
                _cell(exceptions, exception.explanation, alignment=wrapped),
                _cell(exceptions, exception.lines, alignment=wrapped),
                _cell(exceptions, exception.payments, alignment=wrapped),
            ]
        )
    workbook.save(target)


def _sheet(workbook: Workbook, title: str, headings: Sequence[str], widths: Sequence[int]) -> WriteOnlyWorksheet:
    # A write-only sheet takes its frozen panes and column widths before its first row.
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for position, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = width
    bold, shaded = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    heading_cells = []
    for heading in headings:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font, cell.fill = bold, shaded
        heading_cells.append(cell)
    sheet.append(heading_cells)
    return sheet


def _cell(sheet: WriteOnlyWorksheet, value: object, number_format: str | None = None, *, alignment: Alignment | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format is not None:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = alignment
    return cell


def _figures(sheet: WriteOnlyWorksheet, close: ClosedDay) -> list[WriteOnlyCell]:
    return [
        _cell(sheet, close.opening_balance, YUAN),
        _cell(sheet, close.closing_balance, YUAN),
        _cell(sheet, close.matched_count, _COUNT),
        _cell(sheet, close.matched_amount, YUAN),
        _cell(sheet, close.exception_count, _COUNT),
        _cell(sheet, close.exception_amount, YUAN),
        _cell(sheet, close.open_exception_count, _COUNT),
        _cell(sheet, close.open_exception_amount, YUAN),
    ]


def _totals(sheet: WriteOnlyWorksheet, words: _Words, closes: Sequence[ClosedDay], days: int) -> list[WriteOnlyCell]:
    """合计 over the closed days: the first one's opening and the last one's closing balance, the flows added up."""
    bold = Font(bold=True)
    cells = [
        _cell(sheet, words.total),
        _cell(sheet, words.total_days.format(closed=len(closes), open=days - len(closes))),
        _cell(sheet, closes[0].opening_balance if closes else None, YUAN),
        _cell(sheet, closes[-1].closing_balance if closes else None, YUAN),
        _cell(sheet, sum(c.matched_count for c in closes), _COUNT),
        _cell(sheet, sum((c.matched_amount for c in closes), _ZERO), YUAN),
        _cell(sheet, sum(c.exception_count for c in closes), _COUNT),
        _cell(sheet, sum((c.exception_amount for c in closes), _ZERO), YUAN),
        _cell(sheet, sum(c.open_exception_count for c in closes), _COUNT),
        _cell(sheet, sum((c.open_exception_amount for c in closes), _ZERO), YUAN),
    ]
    for cell in cells:
        cell.font = bold
    return cells
