"""Queries of bill runs."""

from __future__ import annotations

import strawberry

from billing import queries
from kernel.errors import NotFound
from schema.billing.common import FINANCE_ONLY
from schema.billing.run_types import BillRunType
from schema.context import Info
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["RunQueries"]


@strawberry.type
class RunQueries:
    @strawberry.field(permission_classes=FINANCE_ONLY, description="A project's bill runs, newest period first.")
    async def bill_runs(self, info: Info, project_id: strawberry.ID) -> list[BillRunType]:
        principal = await require_principal(info)
        try:
            rows = await queries.list_bill_runs(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except NotFound:
            return []
        return [BillRunType.from_row(row) for row in rows]
