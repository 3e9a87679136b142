"""Queries of dispatch analytics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from dispatch import analytics
from kernel.errors import AccessDenied, NotFound
from schema.context import Info
from schema.dispatch.analytics.types import AnalyticsPeriodEnum, DispatchAnalyticsType
from schema.dispatch.permissions import DISPATCHERS
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["AnalyticsQueries"]

DEFAULT_ANALYTICS_DAYS = 30


@strawberry.type
class AnalyticsQueries:
    @strawberry.field(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Tickets submitted in [from, to) (default: the last 30 days): volumes, times, SLA, technicians.",
    )
    async def dispatch_analytics(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        from_: Annotated[
            dt.datetime | None,
            strawberry.argument(
                name="from", description="Start, inclusive (UTC timestamp); default 30 days before `to`."
            ),
        ] = None,
        to: Annotated[
            dt.datetime | None,
            strawberry.argument(description="End, exclusive (UTC timestamp); default now."),
        ] = None,
        period: Annotated[
            AnalyticsPeriodEnum,
            strawberry.argument(description="How byPeriod is bucketed (by the project's local calendar)."),
        ] = analytics.AnalyticsPeriod.DAY,  # type: ignore[valid-type]
    ) -> DispatchAnalyticsType | None:
        principal = await require_principal(info)
        until = to or info.context.now()
        since = from_ or until - dt.timedelta(days=DEFAULT_ANALYTICS_DAYS)
        try:
            report = await analytics.dispatch_analytics(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                since=since,
                until=until,
                period=analytics.AnalyticsPeriod(period),
            )
        except (NotFound, AccessDenied):
            return None
        return DispatchAnalyticsType.of(report)
