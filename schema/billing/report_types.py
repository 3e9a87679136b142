"""GraphQL types of the morning reports: collection rate, arrears ageing and income, each with its
definition in words (zh-CN unless asked otherwise) and the address of its XLSX export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode

import strawberry

from billing.reports import texts
from billing.reports.ageing import AGE_BUCKETS, AgeingFigures, UnitAgeing
from billing.reports.collection import CollectionLine
from billing.reports.income import Granularity, IncomeLine
from billing.reports.views import AgeingView, CollectionView, IncomeView
from billing.reports.texts import ReportKind
from kernel.vocabulary import Locale
from schema.billing.common import gid
from schema.described_enum import described_enum
from schema.scalars import LocaleEnum

__all__ = [
    "ArrearsAgeingType",
    "CollectionRateType",
    "IncomeGranularityEnum",
    "IncomeReportType",
]

IncomeGranularityEnum = described_enum(
    Granularity,
    name="IncomeGranularity",
    description="How an income report buckets its days.",
    values={"DAY": "One bucket per day (YYYY-MM-DD).", "MONTH": "One bucket per calendar month (YYYY-MM)."},
)

_LANGUAGE = strawberry.argument(description="The language of the text: ZH_CN (the default) or EN.")


def _export_url(project_id: int, report: str, **query: object) -> str:
    wanted = {key: str(value) for key, value in query.items() if value is not None}
    return f"/reports/{project_id}/{report}.xlsx?{urlencode(wanted)}"


Names = Callable[[Locale], str]
"""What something is called in each language."""


@strawberry.type(name="FeeKind", description="What a charge is for: a fee rule's code, or LATE_FEE and ADJUSTMENT.")
class FeeKindType:
    code: str = strawberry.field(description="The rule code (e.g. PROPERTY), LATE_FEE (滞纳金) or ADJUSTMENT (调整).")
    names: strawberry.Private[Names]

    @strawberry.field(description="Its name: the rule's own (as the project wrote it), or 滞纳金 / 调整 (late fees / adjustments).")
    def name(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return self.names(language)


@strawberry.type(
    name="CollectionLine",
    description="A period's collection figures for one building (or all) and one fee kind (or all). Money in yuan.",
)
class CollectionLineType:
    period: str = strawberry.field(description="The billing period, YYYY-MM (its first month).")
    building_id: strawberry.ID | None = strawberry.field(description="The building; null on a line of every building.")
    building_name: str | None = strawberry.field(description="The building's name; null on a line of every building.")
    fee_kind: FeeKindType | None = strawberry.field(description="The fee kind; null on a line of every fee kind.")
    receivable: Decimal = strawberry.field(description="本期应收: the period's net charges and adjustments.")
    collected: Decimal = strawberry.field(description="本期实收: principal applied to the period's bills.")
    outstanding: Decimal = strawberry.field(description="receivable − collected.")
    current_rate: Decimal | None = strawberry.field(
        description="本期收缴率, collected ÷ receivable as a fraction to 4 places (0.9312 = 93.12 %); null when nothing is receivable."
    )
    arrears_at_start: Decimal = strawberry.field(description="期初往期欠费: what bills of earlier periods owed when the period began.")
    arrears_recovered: Decimal = strawberry.field(description="本期清欠: principal applied to them during the period.")
    recovery_rate: Decimal | None = strawberry.field(
        description="清欠率, arrearsRecovered ÷ arrearsAtStart to 4 places; null without arrears."
    )

    @classmethod
    def from_line(cls, line: CollectionLine, view: CollectionView) -> CollectionLineType:
        figures = line.figures
        return cls(
            period=line.period,
            building_id=None if line.building_id is None else gid("Building", line.building_id),
            building_name=None if line.building_id is None else view.buildings.get(line.building_id, ""),
            fee_kind=None if line.fee_kind is None else FeeKindType(code=line.fee_kind, names=_fee_kind_names(line.fee_kind, view.rule_names)),
            receivable=figures.receivable,
            collected=figures.collected,
            outstanding=figures.outstanding,
            current_rate=figures.current_rate,
            arrears_at_start=figures.arrears_at_start,
            arrears_recovered=figures.arrears_recovered,
            recovery_rate=figures.recovery_rate,
        )


@strawberry.type(
    name="CollectionRate",
    description="收缴率: per billing period, building and fee kind, as the books stood at the end of `asOf`. "
    "Every level adds up to the next to the fen; `definition` says exactly what is counted.",
)
class CollectionRateType:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    as_of: dt.date = strawberry.field(description="The day the books are read as of (its end, in the project's time zone).")
    periods: list[str] = strawberry.field(description="The periods reported, oldest first.")
    totals: list[CollectionLineType] = strawberry.field(description="The project's figures, one line per period.")
    by_building: list[CollectionLineType] = strawberry.field(description="Per period and building, every fee kind.")
    by_fee_kind: list[CollectionLineType] = strawberry.field(description="Per period and fee kind, every building.")
    lines: list[CollectionLineType] = strawberry.field(description="Per period, building and fee kind.")
    export_url: str = strawberry.field(description="The same report as an XLSX file: GET it with your bearer token.")

    @strawberry.field(description="How the figures are defined, in words.")
    def definition(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return texts.definition(ReportKind.COLLECTION, language)

    @classmethod
    def from_view(cls, view: CollectionView, *, first_period: str, last_period: str, as_of: dt.date | None) -> CollectionRateType:
        report = view.report

        def lines(of: tuple[CollectionLine, ...]) -> list[CollectionLineType]:
            return [CollectionLineType.from_line(line, view) for line in of]

        return cls(
            project_id=gid("Project", view.project.id),
            as_of=report.as_of,
            periods=list(report.periods),
            totals=lines(report.totals),
            by_building=lines(report.by_building),
            by_fee_kind=lines(report.by_fee_kind),
            lines=lines(report.cells),
            export_url=_export_url(view.project.id, "collection", **{"from": first_period, "to": last_period, "asOf": as_of}),
        )


@strawberry.type(name="AgeBucket", description="An age bucket of arrears: days past due from firstDay to lastDay.")
class AgeBucketType:
    key: str = strawberry.field(description="DAYS_0_30, DAYS_31_90, DAYS_91_180, DAYS_181_365 or OVER_365.")
    first_day: int = strawberry.field(description="Fewest days past due in the bucket.")
    last_day: int | None = strawberry.field(description="Most days past due in the bucket; null for the last.")

    @strawberry.field(description="Its label, e.g. 0–30天.")
    def label(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        index = next(i for i, bucket in enumerate(AGE_BUCKETS) if bucket.key == self.key)
        return texts.bucket_label(index, language)


@strawberry.type(name="AgeingFigures", description="Arrears per age bucket in yuan; the buckets add up to `total`.")
class AgeingFiguresType:
    days_0_to_30: Decimal = strawberry.field(name="days0To30", description="0–30 days past due.")
    days_31_to_90: Decimal = strawberry.field(name="days31To90", description="31–90 days past due.")
    days_91_to_180: Decimal = strawberry.field(name="days91To180", description="91–180 days past due.")
    days_181_to_365: Decimal = strawberry.field(name="days181To365", description="181–365 days past due.")
    over_365: Decimal = strawberry.field(name="over365", description="More than 365 days past due.")
    total: Decimal = strawberry.field(description="All arrears.")

    @classmethod
    def from_figures(cls, figures: AgeingFigures) -> AgeingFiguresType:
        first, second, third, fourth, fifth = figures.buckets
        return cls(
            days_0_to_30=first, days_31_to_90=second, days_91_to_180=third, days_181_to_365=fourth, over_365=fifth, total=figures.total
        )


@strawberry.type(name="BuildingAgeing", description="A building's arrears by age.")
class BuildingAgeingType:
    building_id: strawberry.ID = strawberry.field(description="The building.")
    building_name: str = strawberry.field(description="Its name.")
    arrears: AgeingFiguresType = strawberry.field(description="Its units' arrears by age.")


@strawberry.type(name="UnitAgeing", description="A unit's arrears by age, with whom its latest overdue bill was made out to.")
class UnitAgeingType:
    unit_id: strawberry.ID = strawberry.field(description="The unit.")
    building_name: str = strawberry.field(description="Its building's name.")
    number: str = strawberry.field(description="Its number.")
    debtor: str | None = strawberry.field(description="The party billed on its latest-due bill in arrears; null when none was.")
    bills: int = strawberry.field(description="How many of its bills are in arrears.")
    oldest_due_date: dt.date = strawberry.field(description="The earliest due date among them.")
    arrears: AgeingFiguresType = strawberry.field(description="Its arrears by age.")

    @classmethod
    def from_unit(cls, unit: UnitAgeing, view: AgeingView) -> UnitAgeingType:
        label = view.units[unit.unit_id]
        return cls(
            unit_id=gid("Unit", unit.unit_id),
            building_name=label.building,
            number=label.number,
            debtor=label.debtor,
            bills=unit.bills,
            oldest_due_date=unit.oldest_due_date,
            arrears=AgeingFiguresType.from_figures(unit.figures),
        )


@strawberry.type(
    name="ArrearsAgeing",
    description="欠费账龄: arrears by age per building and unit, read back from the journal as of the end of `asOf`.",
)
class ArrearsAgeingType:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    as_of: dt.date = strawberry.field(description="The day the books are read as of (its end, in the project's time zone).")
    buckets: list[AgeBucketType] = strawberry.field(description="The five age buckets, youngest first.")
    total: AgeingFiguresType = strawberry.field(description="The project's arrears by age.")
    not_yet_due: Decimal = strawberry.field(description="Open amounts not yet due (not arrears), yuan.")
    buildings: list[BuildingAgeingType] = strawberry.field(description="Each building with arrears.")
    units_in_arrears: int = strawberry.field(description="How many units owe past due (all of them are in the export).")
    top_debtors: list[UnitAgeingType] = strawberry.field(description="The units owing most, most first (as many as `top` asked).")
    export_url: str = strawberry.field(description="Every unit's arrears as an XLSX file: GET it with your bearer token.")

    @strawberry.field(description="How the figures are defined, in words.")
    def definition(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return texts.definition(ReportKind.AGEING, language)

    @classmethod
    def from_view(cls, view: AgeingView, *, as_of: dt.date | None) -> ArrearsAgeingType:
        report = view.report
        return cls(
            project_id=gid("Project", view.project.id),
            as_of=report.as_of,
            buckets=[AgeBucketType(key=b.key, first_day=b.first_day, last_day=b.last_day) for b in AGE_BUCKETS],
            total=AgeingFiguresType.from_figures(report.total),
            not_yet_due=report.not_yet_due,
            buildings=[
                BuildingAgeingType(
                    building_id=gid("Building", building_id),
                    building_name=view.buildings.get(building_id, ""),
                    arrears=AgeingFiguresType.from_figures(figures),
                )
                for building_id, figures in report.buildings
            ],
            units_in_arrears=len(report.units),
            top_debtors=[UnitAgeingType.from_unit(unit, view) for unit in report.top_debtors],
            export_url=_export_url(view.project.id, "ageing", asOf=as_of),
        )


@strawberry.type(name="IncomeLine", description="An amount for one bucket and one fee kind or channel, yuan.")
class IncomeLineType:
    bucket: str = strawberry.field(description="The day (YYYY-MM-DD) or month (YYYY-MM).")
    key: str = strawberry.field(description="The fee kind's code or the channel (WECHAT, ALIPAY, …).")
    amount: Decimal = strawberry.field(description="Yuan; negative where refunds, reversals or credit adjustments outweigh.")
    names: strawberry.Private[Names]

    @strawberry.field(description="Its name (物业服务费…, 微信支付…).")
    def name(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return self.names(language)


@strawberry.type(name="IncomeTotal", description="A fee kind's or channel's total over the range, yuan.")
class IncomeTotalType:
    key: str = strawberry.field(description="The fee kind's code or the channel.")
    amount: Decimal = strawberry.field(description="Yuan.")
    names: strawberry.Private[Names]

    @strawberry.field(description="Its name (物业服务费…, 微信支付…).")
    def name(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return self.names(language)


def _fee_kind_names(code: str, rule_names: Mapping[str, str]) -> Names:
    return lambda language: texts.fee_kind_label(code, rule_names, language)


def _channel_names(code: str) -> Names:
    return lambda language: texts.channel_label(code, language)


@strawberry.type(
    name="IncomeReport",
    description="收入: revenue by fee kind and money received by channel, from the journal, by day or month.",
)
class IncomeReportType:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    first_day: dt.date = strawberry.field(name="from", description="The first day (the project's time zone).")
    last_day: dt.date = strawberry.field(name="to", description="The last day.")
    granularity: IncomeGranularityEnum = strawberry.field(description="DAY or MONTH.")  # type: ignore[valid-type]
    buckets: list[str] = strawberry.field(description="Every day or month of the range, in order.")
    revenue: list[IncomeLineType] = strawberry.field(description="计费收入 per bucket and fee kind.")
    received: list[IncomeLineType] = strawberry.field(description="实收 per bucket and channel.")
    revenue_by_fee_kind: list[IncomeTotalType] = strawberry.field(description="Revenue per fee kind over the range.")
    received_by_channel: list[IncomeTotalType] = strawberry.field(description="Money received per channel over the range.")
    total_revenue: Decimal = strawberry.field(description="All revenue, yuan.")
    total_received: Decimal = strawberry.field(description="All money received less given back, yuan.")
    export_url: str = strawberry.field(description="The same report as an XLSX file: GET it with your bearer token.")

    @strawberry.field(description="How the figures are defined, in words.")
    def definition(self, language: Annotated[LocaleEnum, _LANGUAGE] = Locale.ZH_CN) -> str:  # type: ignore[valid-type]
        return texts.definition(ReportKind.INCOME, language)

    @classmethod
    def from_view(cls, view: IncomeView) -> IncomeReportType:
        report = view.report

        def fee_kind(code: str) -> Names:
            return _fee_kind_names(code, view.rule_names)

        def lines(of: tuple[IncomeLine, ...], names: Callable[[str], Names]) -> list[IncomeLineType]:
            return [IncomeLineType(bucket=line.bucket, key=line.key, names=names(line.key), amount=line.amount) for line in of]

        return cls(
            project_id=gid("Project", view.project.id),
            first_day=report.first_day,
            last_day=report.last_day,
            granularity=report.granularity,
            buckets=list(report.buckets),
            revenue=lines(report.revenue, fee_kind),
            received=lines(report.received, _channel_names),
            revenue_by_fee_kind=[IncomeTotalType(key=k, names=fee_kind(k), amount=v) for k, v in report.revenue_by_fee_kind.items()],
            received_by_channel=[IncomeTotalType(key=k, names=_channel_names(k), amount=v) for k, v in report.received_by_channel.items()],
            total_revenue=report.total_revenue,
            total_received=report.total_received,
            export_url=_export_url(
                view.project.id,
                "income",
                **{"from": report.first_day, "to": report.last_day, "granularity": report.granularity.value},
            ),
        )
