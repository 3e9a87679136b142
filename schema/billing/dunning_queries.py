"""Queries of dunning for the finance desk: the project's policy, its work queue and where the day's reminders
stand (null / empty for a project that is not yours)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry import relay

from billing.dunning import policies, status, work_queue
from kernel.errors import BadInput
from schema.billing.common import FINANCE_ONLY, read_of_project
from schema.billing.dunning_types import (
    DunningAccountConnection,
    DunningAccountType,
    DunningDayType,
    DunningPolicyType,
)
from schema.context import Info
from schema.pagination import page_size

__all__ = ["DunningQueries"]

_PROJECT = strawberry.argument(description="The project.")
_NOTHING = relay.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


@strawberry.type
class DunningQueries:
    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description="FINANCE, ADMIN: The project's dunning policy (the default until one is saved); null for a project not yours.",
    )
    async def dunning_policy(self, info: Info, project_id: Annotated[strawberry.ID, _PROJECT]) -> DunningPolicyType | None:
        sessions = info.context.session_factory
        settings = await read_of_project(
            info, project_id, lambda principal, project: policies.get_dunning_settings(sessions, principal, project_id=project)
        )
        return None if settings is None else DunningPolicyType.from_settings(settings)

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: Where the reminders of the latest day up to today on which a dunning pass decided any stand, "
            "by level, channel and outbox status; null for a project not yours."
        ),
    )
    async def dunning_day(self, info: Info, project_id: Annotated[strawberry.ID, _PROJECT]) -> DunningDayType | None:
        sessions = info.context.session_factory
        day = await read_of_project(
            info,
            project_id,
            lambda principal, project: status.read_dunning_day(sessions, principal, project_id=project, now=info.context.now()),
        )
        return None if day is None else DunningDayType.from_day(day)

    @strawberry.field(
        permission_classes=FINANCE_ONLY,
        description=(
            "FINANCE, ADMIN: The accounts to chase today, long-overdue and large amounts first (days overdue × amount), "
            "each with its dunning history; accounts held (disputed bills, payment plans) are left out."
        ),
    )
    async def dunning_work_queue(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        first: Annotated[int | None, strawberry.argument(description="Page size (at most 100).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The cursor of the last account of the previous page.")] = None,
    ) -> DunningAccountConnection:
        size, sessions = page_size(first), info.context.session_factory
        try:
            page = await read_of_project(
                info,
                project_id,
                lambda principal, project: work_queue.list_work_queue(
                    sessions, principal, project_id=project, now=info.context.now(), limit=size, after=after
                ),
            )
        except BadInput as error:
            raise GraphQLError(error.message, extensions={"code": "BAD_USER_INPUT", "field": error.field}) from None
        if page is None:
            return DunningAccountConnection(edges=[], page_info=_NOTHING, total_count=0)
        edges = [relay.Edge(node=DunningAccountType.from_account(account), cursor=account.cursor) for account in page.accounts]
        page_info = relay.PageInfo(
            has_next_page=page.next_cursor is not None,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return DunningAccountConnection(edges=edges, page_info=page_info, total_count=page.total)
