"""A report as its readers receive it: the core's figures with the names they are shown under (project,
buildings, units and their debtors, fee kinds). The GraphQL types, the XLSX workbooks and the charts are
all drawn from these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from billing.reports.ageing import AgeingReport
from billing.reports.collection import CollectionReport
from billing.reports.income import IncomeReport
from kernel.vocabulary import Locale

__all__ = ["AgeingView", "CollectionView", "IncomeView", "ReportProject", "UnitLabel"]


@dataclass(frozen=True)
class ReportProject:
    """What a report shows of its project."""

    id: int
    name: str
    zone: ZoneInfo
    locale: Locale
    today: dt.date


@dataclass(frozen=True)
class CollectionView:
    project: ReportProject
    report: CollectionReport
    buildings: Mapping[int, str]
    rule_names: Mapping[str, str]


@dataclass(frozen=True)
class UnitLabel:
    building: str
    number: str
    debtor: str | None


@dataclass(frozen=True)
class AgeingView:
    project: ReportProject
    report: AgeingReport
    buildings: Mapping[int, str]
    units: Mapping[int, UnitLabel]


@dataclass(frozen=True)
class IncomeView:
    project: ReportProject
    report: IncomeReport
    rule_names: Mapping[str, str]
