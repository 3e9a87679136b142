"""Queries of bills: those the caller may see, filtered."""

from __future__ import annotations

from typing import Annotated

import strawberry

from billing import queries
from kernel.errors import NotFound
from schema.billing.bill_types import BillType
from schema.billing.enums import BillStatusFilterEnum
from schema.context import Info
from schema.ids import decode_id
from schema.pagination import (
    CountedConnection,
    after_id,
    connection_of,
    empty_connection,
    page_size,
    selected_on_nodes,
)
from schema.permissions import IsAuthenticated, require_principal

__all__ = ["BillConnection", "BillFilter", "BillQueries"]


@strawberry.input(description="Which bills a list keeps; every field set must match.")
class BillFilter:
    project_id: strawberry.ID | None = strawberry.field(default=None, description="Only this project.")
    status: BillStatusFilterEnum | None = strawberry.field(
        default=None, description="OVERDUE: unpaid and past the due date."
    )
    period: str | None = strawberry.field(default=None, description="Only this period, YYYY-MM.")
    building_id: strawberry.ID | None = strawberry.field(default=None, description="Only this building.")
    unit_id: strawberry.ID | None = strawberry.field(default=None, description="Only this unit.")
    party_id: strawberry.ID | None = strawberry.field(default=None, description="Only bills addressed to this party.")


@strawberry.type(name="BillConnection", description="A page of bills.")
class BillConnection(CountedConnection[BillType]):
    pass


@strawberry.type
class BillQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Bills you may see: your units', or your project's as finance staff.")
    async def bills(
        self,
        info: Info,
        filter: Annotated[BillFilter | None, strawberry.argument(description="Narrow the list.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> BillConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        filter = filter or BillFilter()
        try:
            spec = queries.BillFilterSpec(
                project_id=decode_id(filter.project_id, "Project", field="projectId") if filter.project_id else None,
                status=filter.status,
                period=filter.period,
                building_id=decode_id(filter.building_id, "Building", field="buildingId") if filter.building_id else None,
                unit_id=decode_id(filter.unit_id, "Unit", field="unitId") if filter.unit_id else None,
                party_id=decode_id(filter.party_id, "Party", field="partyId") if filter.party_id else None,
            )
        except NotFound:
            return empty_connection(BillConnection)
        selected = selected_on_nodes(info)
        page = await queries.list_bills(
            info.context.session_factory,
            principal,
            spec=spec,
            today=info.context.now().date(),
            limit=size,
            after_id=start_after,
            with_units="unit" in selected,
        )
        bills = await BillType.read_for_page(info, page.rows, selected)
        return connection_of(BillConnection, page, size, bills.present)
