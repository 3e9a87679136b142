"""GraphQL types of dispatch analytics: volumes, response times, SLA compliance, technicians, hot spots."""

from __future__ import annotations

import strawberry

from dispatch import analytics
from schema.context import Info
from schema.dispatch.technicians.types import TechnicianType

__all__ = ["AnalyticsPeriodEnum", "DispatchAnalyticsType"]

AnalyticsPeriodEnum = strawberry.enum(analytics.AnalyticsPeriod, name="AnalyticsPeriod")


@strawberry.type(name="CountByKey")
class CountByKeyType:
    key: str
    count: int


@strawberry.type(name="Durations", description="Minutes from submission, over the tickets that got that far.")
class DurationsType:
    count: int
    mean_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, value: analytics.Durations) -> DurationsType:
        return cls(count=value.count, mean_minutes=value.mean_minutes, p90_minutes=value.p90_minutes)


@strawberry.type(name="TechnicianPerformance")
class TechnicianPerformanceType:
    tickets: int
    resolved: int
    time_to_accept: DurationsType
    time_to_arrive: DurationsType
    time_to_resolve: DurationsType
    average_rating: float | None
    ratings: int
    technician_pk: strawberry.Private[int]

    @strawberry.field
    async def technician(self, info: Info) -> TechnicianType | None:
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(name="DispatchAnalytics")
class DispatchAnalyticsType:
    ticket_count: int
    by_category: list[CountByKeyType]
    by_building: list[CountByKeyType]
    by_period: list[CountByKeyType]
    time_to_accept: DurationsType
    time_to_arrive: DurationsType
    time_to_resolve: DurationsType
    sla_judged: int = strawberry.field(description="Tickets resolved or closed, plus open ones already breached.")
    sla_met: int = strawberry.field(description="Judged tickets resolved with no promise broken.")
    sla_compliance_rate: float | None
    technicians: list[TechnicianPerformanceType]
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
