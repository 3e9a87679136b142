"""Queries of bill runs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from billing import queries
from schema.billing.common import FINANCE_ONLY, read_of_project
from schema.billing.run_types import BillRunType
from schema.context import Info

__all__ = ["RunQueries"]


@strawberry.type
class RunQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="FINANCE, ADMIN: A project's bill runs, newest period first.")
    async def bill_runs(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> list[BillRunType]:
        sessions = info.context.session_factory
        rows = await read_of_project(
            info, project_id, lambda principal, project: queries.list_bill_runs(sessions, principal, project_id=project)
        )
        return [BillRunType.from_row(row) for row in rows or []]
