"""Queries of reconciliation for the project's finance staff: nothing (an empty list) for a project they
do not work in, as every list answers a wrong ID."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import relay

from billing.reconciliation import accounts, closing, reading, rules
from db.models import ExceptionStatus
from schema.billing.common import FINANCE_ONLY, read_of_project
from schema.billing.reconciliation_types import (
    DailyCloseType,
    ExceptionKindEnum,
    ExceptionStatusEnum,
    ReconciliationExceptionConnection,
    ReconciliationExceptionType,
    ReconciliationMatchConnection,
    ReconciliationMatchType,
    ReconciliationRuleType,
    StatementAccountType,
)
from schema.context import Info
from schema.pagination import after_id, edges_and_page_info, page_size

__all__ = ["ReconciliationExceptionFilter", "ReconciliationQueries"]

_PROJECT = strawberry.argument(description="The project.")
_FIRST = strawberry.argument(description="Page size (at most 100).")
_AFTER = strawberry.argument(description="The cursor of the last item of the previous page.")
_NOTHING = relay.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


@strawberry.input(description="Which exceptions to list.")
class ReconciliationExceptionFilter:
    status: ExceptionStatusEnum | None = strawberry.field(default=None, description="OPEN or RESOLVED; both when left out.")
    kinds: list[ExceptionKindEnum] | None = strawberry.field(default=None, description="Only these kinds.")


class _Paged:
    """A page of views with their ids, as `edges_and_page_info` wants them."""

    def __init__(self, view: object, row_id: int) -> None:
        self.view = view
        self.id = row_id


@strawberry.type
class ReconciliationQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: The project's statement accounts.")
    async def statement_accounts(
        self, info: Info, project_id: Annotated[strawberry.ID, _PROJECT]
    ) -> list[StatementAccountType]:
        sessions = info.context.session_factory
        rows = await read_of_project(
            info, project_id, lambda principal, project: accounts.list_statement_accounts(sessions, principal, project_id=project)
        )
        return [] if rows is None else [StatementAccountType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: The project's matching rules in the order they are tried.")
    async def reconciliation_rules(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        include_disabled: Annotated[bool, strawberry.argument(description="Also the disabled rules.")] = False,
    ) -> list[ReconciliationRuleType]:
        sessions = info.context.session_factory
        rows = await read_of_project(
            info,
            project_id,
            lambda principal, project: rules.list_rules(sessions, principal, project_id=project, include_disabled=include_disabled),
        )
        return [] if rows is None else [ReconciliationRuleType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: The project's reconciliation exceptions, oldest first.")
    async def reconciliation_exceptions(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        filter: Annotated[ReconciliationExceptionFilter | None, strawberry.argument(description="Status and kinds.")] = None,
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> ReconciliationExceptionConnection:
        size, start_after = page_size(first), after_id(after)
        wanted = filter or ReconciliationExceptionFilter()
        sessions = info.context.session_factory
        page = await read_of_project(
            info,
            project_id,
            lambda principal, project: reading.list_exceptions(
                sessions,
                principal,
                project_id=project,
                status=ExceptionStatus(wanted.status.value) if wanted.status else None,
                kinds=[kind.value for kind in wanted.kinds or []],
                limit=size,
                after_id=start_after,
            ),
        )
        if page is None:
            return ReconciliationExceptionConnection(edges=[], page_info=_NOTHING, total_count=0)
        edges, page_info = edges_and_page_info(
            [_Paged(view, view.row.id) for view in page.items], size, lambda paged: ReconciliationExceptionType.from_view(paged.view)
        )
        return ReconciliationExceptionConnection(edges=edges, page_info=page_info, total_count=page.total)

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: The project's matches that stand, oldest first, each explained.")
    async def reconciliation_matches(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        first: Annotated[int | None, _FIRST] = None,
        after: Annotated[str | None, _AFTER] = None,
    ) -> ReconciliationMatchConnection:
        size, start_after = page_size(first), after_id(after)
        sessions = info.context.session_factory
        page = await read_of_project(
            info,
            project_id,
            lambda principal, project: reading.list_matches(sessions, principal, project_id=project, limit=size, after_id=start_after),
        )
        if page is None:
            return ReconciliationMatchConnection(edges=[], page_info=_NOTHING, total_count=0)
        edges, page_info = edges_and_page_info(
            [_Paged(view, view.row.id) for view in page.items], size, lambda paged: ReconciliationMatchType.from_view(paged.view)
        )
        return ReconciliationMatchConnection(edges=edges, page_info=page_info, total_count=page.total)

    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: The project's closed days (日清日结 reports), by day and account.")
    async def daily_closes(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, _PROJECT],
        first_day: Annotated[dt.date | None, strawberry.argument(name="from", description="First day; the earliest when left out.")] = None,
        last_day: Annotated[dt.date | None, strawberry.argument(name="to", description="Last day; the latest when left out.")] = None,
    ) -> list[DailyCloseType]:
        sessions = info.context.session_factory
        rows = await read_of_project(
            info,
            project_id,
            lambda principal, project: closing.list_daily_closes(
                sessions, principal, project_id=project, first_day=first_day, last_day=last_day
            ),
        )
        return [] if rows is None else [DailyCloseType.from_row(close, account) for close, account in rows]
