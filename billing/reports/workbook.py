"""The reports as XLSX workbooks, written row by row (openpyxl's write-only mode keeps one row in memory at
a time, whatever the number of units): headings in the project's language (zh-CN unless it speaks
another), the header row frozen, money in a yuan number format, rates as percentages, totals in bold,
and a sheet with the report's definition.

Amounts are written as their exact decimal text, so a sheet's figures and totals are the report's own to
the fen, and a total row holds the report's total, not a spreadsheet formula. An ageing bucket with nothing
in it, and the arrears of a line without any, are empty cells.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from billing.reports.ageing import AGE_BUCKETS, AgeingFigures
from billing.reports.collection import CollectionLine
from billing.reports.income import Granularity
from billing.reports.texts import ReportKind, bucket_label, channel_label, definition, fee_kind_label, heading
from billing.reports.views import AgeingView, CollectionView, IncomeView, ReportProject
from kernel.vocabulary import Locale

__all__ = ["MONEY_FORMAT", "RATE_FORMAT", "ageing_workbook", "collection_workbook", "export_name", "income_workbook"]

MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'
RATE_FORMAT = "0.00%"
_DATE_FORMAT = "yyyy-mm-dd"
_BOLD = Font(bold=True)

Destination = str | Path | BinaryIO


@dataclass(frozen=True)
class _Column:
    heading: str
    number_format: str | None = None
    width: float = 14
    wrap: bool = False


class _Sheet:
    """A write-only sheet. A row passes plain values for the columns without a style (openpyxl writes them
    through one cell of its own) and reuses one styled cell per styled column: building a styled cell per
    value would double the time a large export takes."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[_Column]) -> None:
        sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = column.width
        self._sheet = sheet
        self._plain = [self._cell(column, bold=False) for column in columns]
        self._bold = [self._cell(column, bold=True) for column in columns]
        header = [WriteOnlyCell(sheet, value=column.heading) for column in columns]
        for cell in header:
            cell.font = _BOLD
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.append(header)

    def _cell(self, column: _Column, *, bold: bool) -> WriteOnlyCell | None:
        if not (column.number_format or column.wrap or bold):
            return None
        cell = WriteOnlyCell(self._sheet)
        if column.number_format:
            cell.number_format = column.number_format
        if column.wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if bold:
            cell.font = _BOLD
        return cell

    def row(self, values: Sequence[object], *, total: bool = False) -> None:
        cells = self._bold if total else self._plain
        written: list[object] = []
        for cell, value in zip(cells, values, strict=True):
            if cell is None or value is None:
                written.append(value)
            else:
                cell.value = value
                written.append(cell)
        self._sheet.append(written)


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


def _save(workbook: Workbook, destination: Destination) -> None:
    workbook.save(destination)  # type: ignore[arg-type]


# --- collection rate ---------------------------------------------------------------------------------


def collection_workbook(view: CollectionView, destination: Destination) -> None:
    """One sheet of every line of the collection report, each period's total first, then its fee kinds,
    then each building with its fee kinds; and the definition."""
    locale = view.project.locale
    report = view.report
    workbook = Workbook(write_only=True)
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
    _save(workbook, destination)


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
    workbook = Workbook(write_only=True)
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
    _save(workbook, destination)


# --- income ------------------------------------------------------------------------------------------


def income_workbook(view: IncomeView, destination: Destination) -> None:
    """Revenue per bucket (rows) and fee kind (columns), money received per bucket and channel, each with
    its totals, and the definition."""
    locale = view.project.locale
    report = view.report
    workbook = Workbook(write_only=True)
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
    _save(workbook, destination)


def export_name(report: ReportKind, project: ReportProject, today: dt.date) -> str:
    """The file name an export is offered under: report, project id and the day, ASCII only."""
    return f"{report.value.lower()}-project{project.id}-{today.isoformat()}.xlsx"
