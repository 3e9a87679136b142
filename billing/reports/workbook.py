"""The reports as XLSX workbooks, written row by row with XlsxWriter in its constant-memory mode (each row
goes to disk as it is written, whatever the number of units): headings in the project's language (zh-CN
unless it speaks another), the header row frozen, money in a yuan number format, rates as percentages,
totals in bold, and a sheet with the report's definition.

XlsxWriter, not openpyxl: openpyxl's write-only mode builds a cell object and an XML element per value, and
that was most of a 100,000-row export's time (`benchmarks/reports.py`); XlsxWriter writes each value as
text straight into the sheet.

Amounts are written as numbers with up to 16 significant digits, which is every amount in fen below
¥10^13 exactly, so a sheet's figures and totals are the report's own to the fen, and a total row holds the
report's total, not a spreadsheet formula. An ageing bucket with nothing in it, and the arrears of a line
without any, are empty cells.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from xlsxwriter import Workbook  # type: ignore[import-untyped]

from billing.reports.ageing import AGE_BUCKETS, AgeingFigures
from billing.reports.collection import CollectionLine
from billing.reports.income import Granularity
from billing.reports.texts import (
    ReportKind,
    bucket_label,
    channel_label,
    definition,
    fee_kind_label,
    heading,
)
from billing.reports.views import AgeingView, CollectionView, IncomeView, ReportProject
from kernel.vocabulary import Locale

__all__ = ["MONEY_FORMAT", "RATE_FORMAT", "ageing_workbook", "collection_workbook", "export_name", "income_workbook"]

MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'
RATE_FORMAT = "0.00%"
_DATE_FORMAT = "yyyy-mm-dd"

Destination = str | Path | BinaryIO


@dataclass(frozen=True)
class _Column:
    heading: str
    number_format: str | None = None
    width: float = 14
    wrap: bool = False


def _workbook(destination: Destination) -> Workbook:
    """A workbook that streams its rows to a temporary file (a file-like destination is filled at the end)."""
    target = str(destination) if isinstance(destination, Path) else destination
    return Workbook(target, {"constant_memory": True})


class _Sheet:
    """A sheet whose columns each keep one plain and one bold format; a row's value is written by the
    XlsxWriter method for its type, picked once per value without XlsxWriter's own type sniffing."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[_Column]) -> None:
        sheet = workbook.add_worksheet(title)
        sheet.freeze_panes(1, 0)
        self._plain = [self._format(workbook, column, bold=False) for column in columns]
        self._bold = [self._format(workbook, column, bold=True) for column in columns]
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column.width)
        header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
        for index, column in enumerate(columns):
            sheet.write_string(0, index, column.heading, header)
        self._sheet = sheet
        self._next_row = 1
        self._writers: dict[type, Callable[..., Any]] = {
            str: sheet.write_string,
            Decimal: lambda row, col, value, style: sheet.write_number(row, col, float(value), style),
            int: sheet.write_number,
            float: sheet.write_number,
            dt.date: sheet.write_datetime,
        }

    @staticmethod
    def _format(workbook: Workbook, column: _Column, *, bold: bool) -> Any:
        properties: dict[str, object] = {}
        if column.number_format:
            properties["num_format"] = column.number_format
        if column.wrap:
            properties.update(text_wrap=True, valign="top")
        if bold:
            properties["bold"] = True
        return workbook.add_format(properties) if properties else None

    def row(self, values: Sequence[object], *, total: bool = False) -> None:
        formats = self._bold if total else self._plain
        row = self._next_row
        writers = self._writers
        for column, (value, style) in enumerate(zip(values, formats, strict=True)):
            if value is not None:
                writers[type(value)](row, column, value, style)
        self._next_row = row + 1


def _money(heading_text: str, width: float = 16) -> _Column:
    return _Column(heading_text, MONEY_FORMAT, width)


def _definition_sheet(workbook: Workbook, report: ReportKind, project: ReportProject, facts: Sequence[tuple[str, object]]) -> None:
    locale = project.locale
    sheet = _Sheet(
        workbook,
        heading("definition.sheet", locale),
        [_Column(heading("project", locale), None, 16), _Column(project.name, None, 100, wrap=True)],
    )
    for label, value in facts:
        sheet.row((label, value))
    sheet.row((heading("definition.sheet", locale), definition(report, locale)))


def _save(workbook: Workbook) -> None:
    workbook.close()


# --- collection rate ---------------------------------------------------------------------------------


def collection_workbook(view: CollectionView, destination: Destination) -> None:
    """One sheet of every line of the collection report, each period's total first, then its fee kinds,
    then each building with its fee kinds; and the definition."""
    locale = view.project.locale
    report = view.report
    workbook = _workbook(destination)
    sheet = _Sheet(
        workbook,
        heading("collection.sheet", locale),
        [
            _Column(heading("period", locale), None, 10),
            _Column(heading("building", locale), None, 12),
            _Column(heading("fee_kind", locale), None, 24),
            _money(heading("receivable", locale)),
            _money(heading("collected", locale)),
            _money(heading("outstanding", locale)),
            _Column(heading("current_rate", locale), RATE_FORMAT, 12),
            _money(heading("arrears_at_start", locale), 18),
            _money(heading("arrears_recovered", locale)),
            _Column(heading("recovery_rate", locale), RATE_FORMAT, 10),
        ],
    )
    everything = heading("all", locale)

    def write(line: CollectionLine, *, total: bool = False) -> None:
        figures = line.figures
        # A line without arrears leaves their cells empty rather than writing zeros (most lines have none);
        # a total line shows its zeros.
        arrears: tuple[Decimal | None, Decimal | None] = (figures.arrears_at_start, figures.arrears_recovered)
        if not (total or any(arrears)):
            arrears = (None, None)
        sheet.row(
            (
                line.period,
                everything if line.building_id is None else view.buildings.get(line.building_id, ""),
                everything if line.fee_kind is None else fee_kind_label(line.fee_kind, view.rule_names, locale),
                figures.receivable,
                figures.collected,
                figures.outstanding,
                figures.current_rate,
                *arrears,
                figures.recovery_rate,
            ),
            total=total,
        )

    kinds_of: dict[str, list[CollectionLine]] = defaultdict(list)
    buildings_of: dict[str, list[CollectionLine]] = defaultdict(list)
    cells_of: dict[tuple[str, int | None], list[CollectionLine]] = defaultdict(list)
    for line in report.by_fee_kind:
        kinds_of[line.period].append(line)
    for line in report.by_building:
        buildings_of[line.period].append(line)
    for line in report.cells:
        cells_of[(line.period, line.building_id)].append(line)
    for period_total in report.totals:
        write(period_total, total=True)
        for line in kinds_of[period_total.period]:
            write(line)
        for building in buildings_of[period_total.period]:
            write(building, total=True)
            for line in cells_of[(building.period, building.building_id)]:
                write(line)
    _definition_sheet(
        workbook,
        ReportKind.COLLECTION,
        view.project,
        [(heading("as_of", locale), report.as_of.isoformat()), (heading("period", locale), f"{report.periods[0]} – {report.periods[-1]}")],
    )
    _save(workbook)


# --- arrears ageing ----------------------------------------------------------------------------------


def _bucket_columns(locale: Locale) -> list[_Column]:
    return [_money(heading("in_yuan", locale, name=bucket_label(index, locale))) for index in range(len(AGE_BUCKETS))]


def _figures(figures: AgeingFigures, *, blank_zeros: bool = True) -> tuple[Decimal | None, ...]:
    """The buckets, an empty cell for a bucket with nothing in it (a unit owes in one or two; a total row
    shows its zeros), and the total."""
    return (*(amount or None if blank_zeros else amount for amount in figures.buckets), figures.total)


def ageing_workbook(view: AgeingView, destination: Destination) -> None:
    """The buildings' arrears by age with the project's total, every unit in arrears (most owed first),
    and the definition."""
    locale = view.project.locale
    report = view.report
    workbook = _workbook(destination)
    buildings = _Sheet(
        workbook,
        heading("ageing.sheet", locale),
        [_Column(heading("building", locale), None, 14), *_bucket_columns(locale), _money(heading("arrears_total", locale))],
    )
    for building_id, figures in report.buildings:
        buildings.row((view.buildings.get(building_id, ""), *_figures(figures)))
    buildings.row((heading("all", locale), *_figures(report.total, blank_zeros=False)), total=True)

    units = _Sheet(
        workbook,
        heading("ageing.units.sheet", locale),
        [
            _Column(heading("building", locale), None, 12),
            _Column(heading("unit", locale), None, 10),
            _Column(heading("debtor", locale), None, 16),
            _Column(heading("bills", locale), None, 10),
            _Column(heading("oldest_due", locale), _DATE_FORMAT, 12),
            *_bucket_columns(locale),
            _money(heading("arrears_total", locale)),
        ],
    )
    for unit in report.units:
        label = view.units[unit.unit_id]
        units.row((label.building, label.number, label.debtor, unit.bills, unit.oldest_due_date, *_figures(unit.figures)))
    units.row(
        (heading("all", locale), None, None, sum(unit.bills for unit in report.units), None, *_figures(report.total, blank_zeros=False)),
        total=True,
    )
    _definition_sheet(
        workbook,
        ReportKind.AGEING,
        view.project,
        [(heading("as_of", locale), report.as_of.isoformat()), (heading("not_yet_due", locale), f"¥{report.not_yet_due:,}")],
    )
    _save(workbook)


# --- income ------------------------------------------------------------------------------------------


def income_workbook(view: IncomeView, destination: Destination) -> None:
    """Revenue per bucket (rows) and fee kind (columns), money received per bucket and channel, each with
    its totals, and the definition."""
    locale = view.project.locale
    report = view.report
    workbook = _workbook(destination)
    bucket_heading = heading("day" if report.granularity is Granularity.DAY else "month", locale)
    for title, lines, totals, by_bucket, name in (
        (
            heading("income.revenue.sheet", locale),
            report.revenue,
            report.revenue_by_fee_kind,
            report.revenue_by_bucket,
            lambda key: fee_kind_label(key, view.rule_names, locale),
        ),
        (
            heading("income.received.sheet", locale),
            report.received,
            report.received_by_channel,
            report.received_by_bucket,
            lambda key: channel_label(key, locale),
        ),
    ):
        keys = list(totals)
        sheet = _Sheet(
            workbook,
            title,
            [
                _Column(bucket_heading, None, 12),
                *(_money(heading("in_yuan", locale, name=name(key))) for key in keys),
                _money(heading("in_yuan", locale, name=heading("all", locale))),
            ],
        )
        amounts = {(line.bucket, line.key): line.amount for line in lines}
        zero = Decimal("0.00")
        for bucket in report.buckets:
            sheet.row((bucket, *(amounts.get((bucket, key), zero) for key in keys), by_bucket.get(bucket, zero)))
        sheet.row((heading("all", locale), *(totals[key] for key in keys), sum(totals.values(), zero)), total=True)
    _definition_sheet(
        workbook,
        ReportKind.INCOME,
        view.project,
        [(heading("range", locale), f"{report.first_day} – {report.last_day}")],
    )
    _save(workbook)


def export_name(report: ReportKind, project: ReportProject, today: dt.date) -> str:
    """The file name an export is offered under: report, project id and the day, ASCII only."""
    return f"{report.value.lower()}-project{project.id}-{today.isoformat()}.xlsx"
