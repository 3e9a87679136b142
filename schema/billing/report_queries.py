"""Queries of the morning reports, for the project's finance staff: null for a project the caller does not
work in; input the report cannot answer (a malformed period, a range too long, a day not yet come) is a
top-level BAD_USER_INPUT error naming the argument."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import strawberry
from graphql import GraphQLError

from billing.reports import reading
from billing.reports.income import Granularity
from kernel.errors import BadInput
from kernel.principal import Principal
from schema.billing.common import FINANCE_ONLY, read_of_project
from schema.billing.report_types import (
    ArrearsAgeingType,
    CollectionRateType,
    IncomeGranularityEnum,
    IncomeReportType,
)
from schema.context import Info

__all__ = ["ReportQueries"]

View = TypeVar("View")

_PROJECT = strawberry.argument(description="The project; null when it is not yours.")
_AS_OF = strawberry.argument(description="Read the books as of the end of this day (project time zone); today when left out.")


async def _report(
    info: Info, project_id: strawberry.ID, read: Callable[[Principal, int], Awaitable[View]]
) -> View | None:
    try:
        return await read_of_project(info, project_id, read)
    except BadInput as error:
        raise GraphQLError(error.message, extensions={"code": "BAD_USER_INPUT", "field": error.field}) from None


@strawberry.type
class ReportQueries:
    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: 收缴率, the collection rate of billing periods per building and fee kind, as of a day.",
    )
    async def collection_rate(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        first_period: Annotated[str, strawberry.argument(name="from", description="The first period, YYYY-MM.")],
        last_period: Annotated[
            str, strawberry.argument(name="to", description=f"The last period, YYYY-MM (at most {reading.MAX_PERIODS} periods).")
        ],
        as_of: Annotated[dt.date | None, _AS_OF] = None,
    ) -> CollectionRateType | None:
        sessions, now = info.context.session_factory, info.context.now()
        view = await _report(
            info,
            project_id,
            lambda principal, project: reading.read_collection_rate(
                sessions, principal, project_id=project, first_period=first_period, last_period=last_period, as_of=as_of, now=now
            ),
        )
        if view is None:
            return None
        return CollectionRateType.from_view(view, first_period=first_period, last_period=last_period, as_of=as_of)

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: 欠费账龄, arrears by age per building and unit with the top debtors, as of a day.",
    )
    async def arrears_ageing(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        as_of: Annotated[dt.date | None, _AS_OF] = None,
        top: Annotated[
            int, strawberry.argument(description=f"How many of the units owing most to list (0–{reading.MAX_TOP_DEBTORS}).")
        ] = 10,
    ) -> ArrearsAgeingType | None:
        sessions, now = info.context.session_factory, info.context.now()
        view = await _report(
            info,
            project_id,
            lambda principal, project: reading.read_arrears_ageing(
                sessions, principal, project_id=project, as_of=as_of, top=top, now=now
            ),
        )
        return None if view is None else ArrearsAgeingType.from_view(view, as_of=as_of)

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: 收入, revenue by fee kind and money received by channel, by day or month.",
    )
    async def income_report(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        first_day: Annotated[dt.date, strawberry.argument(name="from", description="The first day (project time zone).")],
        last_day: Annotated[
            dt.date,
            strawberry.argument(
                name="to",
                description=f"The last day: at most {reading.MAX_INCOME_DAYS[Granularity.DAY]} days by day, "
                f"{reading.MAX_INCOME_DAYS[Granularity.MONTH]} by month.",
            ),
        ],
        granularity: Annotated[IncomeGranularityEnum, strawberry.argument(description="DAY (the default) or MONTH.")] = Granularity.DAY,  # type: ignore[valid-type]
    ) -> IncomeReportType | None:
        sessions, now = info.context.session_factory, info.context.now()
        view = await _report(
            info,
            project_id,
            lambda principal, project: reading.read_income(
                sessions, principal, project_id=project, first_day=first_day, last_day=last_day, granularity=granularity, now=now
            ),
        )
        return None if view is None else IncomeReportType.from_view(view)
