"""Reports outside GraphQL: as an XLSX file (the download route and `courtyard report`) and as the /finance
page's SVG charts (the chart route), which also draws the day's dunning reminders.

The arguments arrive as text (a query string, a command line) and are checked here, each refusal naming
the argument; the figures come from the same read use cases as the GraphQL queries, so a file's totals
are the API's. A workbook is written row by row to a file on disk in a worker thread: the event loop
keeps serving, and memory stays flat whatever the number of rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.dunning.status import read_dunning_day
from billing.reports import reading
from billing.reports.charts import (
    Chart,
    ageing_chart,
    collection_by_building_chart,
    collection_by_month_chart,
    dunning_chart,
    income_by_channel_chart,
)
from billing.reports.income import Granularity
from billing.reports.texts import ReportKind
from billing.reports.views import AgeingView, CollectionView, IncomeView
from billing.reports.workbook import (
    ageing_workbook,
    collection_workbook,
    export_name,
    income_workbook,
)
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.vocabulary import Locale

__all__ = ["SVG_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "chart_kind", "export_report", "read_report", "render_chart", "report_kind"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SVG_MEDIA_TYPE = "image/svg+xml"

_NAMES = {"collection": ReportKind.COLLECTION, "ageing": ReportKind.AGEING, "income": ReportKind.INCOME}


def report_kind(name: str) -> ReportKind | None:
    """The report an address or command names (collection, ageing, income); None for anything else."""
    return _NAMES.get(name)


def _required(arguments: Mapping[str, str], name: str) -> str:
    value = arguments.get(name, "").strip()
    if not value:
        raise BadInput(f"`{name}` is required.", field=name)
    return value


def _day(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"`{name}` is not a day like 2026-11-30: {text[:40]!r}.", field=name) from None


def _as_of(arguments: Mapping[str, str]) -> dt.date | None:
    text = arguments.get("asOf", "").strip()
    return _day(text, "asOf") if text else None


def _granularity(arguments: Mapping[str, str]) -> Granularity:
    text = arguments.get("granularity", Granularity.DAY.value).strip().upper()
    try:
        return Granularity(text)
    except ValueError:
        raise BadInput("`granularity` is DAY or MONTH.", field="granularity") from None


async def read_report(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    report: ReportKind,
    project_id: int,
    arguments: Mapping[str, str],
    now: dt.datetime,
) -> CollectionView | AgeingView | IncomeView:
    """The report its text arguments ask for: collection `from`, `to` (periods, YYYY-MM) and `asOf`;
    ageing `asOf`; income `from`, `to` (days) and `granularity` (DAY or MONTH). `principal` None acts on
    the system's own authority (the command line); otherwise the caller must see the project's reports
    (`billing.policy.may_see_reports`)."""
    if report is ReportKind.COLLECTION:
        return await reading.read_collection_rate(
            session_factory,
            principal,
            project_id=project_id,
            first_period=_required(arguments, "from"),
            last_period=_required(arguments, "to"),
            as_of=_as_of(arguments),
            now=now,
        )
    if report is ReportKind.AGEING:
        return await reading.read_arrears_ageing(
            session_factory, principal, project_id=project_id, as_of=_as_of(arguments), top=0, now=now
        )
    return await reading.read_income(
        session_factory,
        principal,
        project_id=project_id,
        first_day=_day(_required(arguments, "from"), "from"),
        last_day=_day(_required(arguments, "to"), "to"),
        granularity=_granularity(arguments),
        now=now,
    )


async def export_report(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    report: ReportKind,
    project_id: int,
    arguments: Mapping[str, str],
    now: dt.datetime,
    destination: Path,
) -> str:
    """Write `report` of the project (arguments as `read_report` takes them) as XLSX to `destination` and
    answer the name to offer it under."""
    view = await read_report(session_factory, principal, report=report, project_id=project_id, arguments=arguments, now=now)
    if isinstance(view, CollectionView):
        await asyncio.to_thread(collection_workbook, view, destination)
    elif isinstance(view, AgeingView):
        await asyncio.to_thread(ageing_workbook, view, destination)
    else:
        await asyncio.to_thread(income_workbook, view, destination)
    return export_name(report, view.project, view.project.today)


_CHARTS: Mapping[Chart, tuple[ReportKind, Callable[..., str]]] = {
    Chart.COLLECTION_BY_MONTH: (ReportKind.COLLECTION, collection_by_month_chart),
    Chart.COLLECTION_BY_BUILDING: (ReportKind.COLLECTION, collection_by_building_chart),
    Chart.AGEING: (ReportKind.AGEING, ageing_chart),
    Chart.INCOME_BY_CHANNEL: (ReportKind.INCOME, income_by_channel_chart),
}


def chart_kind(name: str) -> Chart | None:
    """The chart an address names; None for anything else."""
    try:
        return Chart(name)
    except ValueError:
        return None


async def render_chart(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    chart: Chart,
    project_id: int,
    arguments: Mapping[str, str],
    now: dt.datetime,
) -> str:
    """The chart as SVG, drawn from the report its arguments ask for (as `read_report` takes them), or for
    `Chart.DUNNING` from where the day's dunning reminders stand (`billing.dunning.status`), in the language
    `lang` names (zh-CN, the default, or en), laid out for a phone when `compact` is 1."""
    locale = Locale.EN if arguments.get("lang", "").strip().lower() == "en" else Locale.ZH_CN
    compact = arguments.get("compact", "").strip() == "1"
    if chart is Chart.DUNNING:
        day = await read_dunning_day(session_factory, principal, project_id=project_id, now=now)
        counts = [(count.level_code, None if count.status is None else count.status.value, count.count) for count in day.counts]
        return await asyncio.to_thread(dunning_chart, day.day, counts, locale, compact=compact)
    report, draw = _CHARTS[chart]
    view = await read_report(session_factory, principal, report=report, project_id=project_id, arguments=arguments, now=now)
    return await asyncio.to_thread(draw, view, locale, compact=compact)
