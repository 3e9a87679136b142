"""GraphQL types of dispatch analytics: volumes, response times, SLA compliance, technicians, hot spots."""

from __future__ import annotations

import strawberry

from dispatch import analytics
from schema.context import Info
from schema.dispatch.technicians.types import TechnicianType
from schema.described_enum import described_enum

__all__ = ["AnalyticsPeriodEnum", "DispatchAnalyticsType"]

AnalyticsPeriodEnum = described_enum(
    analytics.AnalyticsPeriod,
    name="AnalyticsPeriod",
    description="How dispatch analytics are bucketed, by the project's local calendar.",
    values={
        "DAY": "Per local day (bucket key YYYY-MM-DD).",
        "WEEK": "Per ISO week, Monday to Sunday (bucket key YYYY-Www).",
        "MONTH": "Per calendar month (bucket key YYYY-MM).",
    },
)


@strawberry.type(name="CountByKey", description="A count under a key.")
class CountByKeyType:
    key: str = strawberry.field(description="What was counted.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(name="Durations", description="Minutes from submission, over the tickets that got that far.")
class DurationsType:
    count: int = strawberry.field(description="Tickets measured.")
    mean_minutes: float | None = strawberry.field(description="Mean, minutes; null when none.")
    p90_minutes: float | None = strawberry.field(description="90th percentile, minutes; null when none.")

    @classmethod
    def of(cls, value: analytics.Durations) -> DurationsType:
        return cls(count=value.count, mean_minutes=value.mean_minutes, p90_minutes=value.p90_minutes)


@strawberry.type(name="TechnicianPerformance", description="One technician's figures in dispatch analytics.")
class TechnicianPerformanceType:
    tickets: int = strawberry.field(description="Tickets assigned to them.")
    resolved: int = strawberry.field(description="Of those, resolved.")
    time_to_accept: DurationsType = strawberry.field(description="Minutes from submission to acceptance.")
    time_to_arrive: DurationsType = strawberry.field(description="Minutes from submission to on site.")
    time_to_resolve: DurationsType = strawberry.field(description="Minutes from submission to resolution.")
    average_rating: float | None = strawberry.field(description="Mean owner rating, 1 to 5; null without ratings.")
    ratings: int = strawberry.field(description="How many ratings.")
    technician_pk: strawberry.Private[int]

    @strawberry.field(description="The technician.")
    async def technician(self, info: Info) -> TechnicianType | None:
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(
    name="DispatchAnalytics", description="How a project's dispatch went over a time range (dispatchers and admins)."
)
class DispatchAnalyticsType:
    ticket_count: int = strawberry.field(description="Tickets submitted in the range.")
    by_category: list[CountByKeyType] = strawberry.field(description="Tickets per category (key: the Category value).")
    by_building: list[CountByKeyType] = strawberry.field(description="Tickets per building (key: its name).")
    by_period: list[CountByKeyType] = strawberry.field(
        description="Tickets per day, ISO week or month (key as AnalyticsPeriod says)."
    )
    time_to_accept: DurationsType = strawberry.field(description="Minutes from submission to acceptance.")
    time_to_arrive: DurationsType = strawberry.field(description="Minutes from submission to on site.")
    time_to_resolve: DurationsType = strawberry.field(description="Minutes from submission to resolution.")
    sla_judged: int = strawberry.field(description="Tickets resolved or closed, plus open ones already breached.")
    sla_met: int = strawberry.field(description="Judged tickets resolved with no promise broken.")
    sla_compliance_rate: float | None = strawberry.field(
        description="slaMet / slaJudged, 0 to 1; null when nothing was judged."
    )
    technicians: list[TechnicianPerformanceType] = strawberry.field(
        description="Each technician's figures over the tickets assigned to them."
    )
    fault_sites: list[CountByKeyType] = strawberry.field(description="Where faults were reported most often.")

    @classmethod
    def of(cls, report: analytics.DispatchAnalytics) -> DispatchAnalyticsType:
        def counts(items: tuple[tuple[str, int], ...]) -> list[CountByKeyType]:
            return [CountByKeyType(key=key, count=count) for key, count in items]

        return cls(
            ticket_count=report.ticket_count,
            by_category=counts(report.by_category),
            by_building=counts(report.by_building),
            by_period=counts(report.by_period),
            time_to_accept=DurationsType.of(report.time_to_accept),
            time_to_arrive=DurationsType.of(report.time_to_arrive),
            time_to_resolve=DurationsType.of(report.time_to_resolve),
            sla_judged=report.sla_judged,
            sla_met=report.sla_met,
            sla_compliance_rate=report.sla_compliance_rate,
            technicians=[
                TechnicianPerformanceType(
                    tickets=item.tickets,
                    resolved=item.resolved,
                    time_to_accept=DurationsType.of(item.time_to_accept),
                    time_to_arrive=DurationsType.of(item.time_to_arrive),
                    time_to_resolve=DurationsType.of(item.time_to_resolve),
                    average_rating=item.average_rating,
                    ratings=item.ratings,
                    technician_pk=item.technician_id,
                )
                for item in report.technicians
            ],
            fault_sites=[CountByKeyType(key=site.site, count=site.count) for site in report.fault_sites],
        )
