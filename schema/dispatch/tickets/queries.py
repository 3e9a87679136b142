"""Queries of repair tickets: the filtered, paginated list."""

from __future__ import annotations

import datetime as dt

import strawberry

from dispatch.model import SlaState
from dispatch.queries import TicketFilterSpec, list_tickets
from kernel.errors import NotFound
from schema.context import Info
from schema.dispatch.enums import (
    PriorityEnum,
    SlaStateEnum,
    TicketKindEnum,
    TicketStatusEnum,
)
from schema.dispatch.tickets.types import TicketType
from schema.ids import decode_optional_id
from schema.pagination import (
    CountedConnection,
    after_id,
    connection_of,
    empty_connection,
    page_size,
)
from schema.permissions import IsAuthenticated, require_principal
from schema.scalars import CategoryEnum

__all__ = ["TicketConnection", "TicketFilter", "TicketQueries"]


@strawberry.input
class TicketFilter:
    project_id: strawberry.ID | None = None
    status: list[TicketStatusEnum] | None = strawberry.field(default=None, description="Any of these statuses.")
    category: list[CategoryEnum] | None = None
    priority: list[PriorityEnum] | None = None
    kind: TicketKindEnum | None = None
    building_id: strawberry.ID | None = None
    technician_id: strawberry.ID | None = strawberry.field(
        default=None, description="Tickets assigned to this technician."
    )
    sla_state: SlaStateEnum | None = None
    created_after: dt.datetime | None = strawberry.field(default=None, description="Submitted at or after (inclusive).")
    created_before: dt.datetime | None = strawberry.field(default=None, description="Submitted before (exclusive).")

    def spec(self) -> TicketFilterSpec:
        """The filter as the domain reads it; a malformed or foreign ID is NOT_FOUND."""
        return TicketFilterSpec(
            project_id=decode_optional_id(self.project_id, "Project", field="projectId"),
            statuses=self.status,
            categories=self.category,
            priorities=self.priority,
            kind=self.kind,
            building_id=decode_optional_id(self.building_id, "Building", field="buildingId"),
            technician_id=decode_optional_id(self.technician_id, "Technician", field="technicianId"),
            sla_state=SlaState(self.sla_state) if self.sla_state is not None else None,
            created_after=self.created_after,
            created_before=self.created_before,
        )


@strawberry.type(name="TicketConnection")
class TicketConnection(CountedConnection[TicketType]):
    pass


@strawberry.type
class TicketQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description=(
            "Tickets you may see, newest first: staff their projects', technicians those assigned to them, "
            "owners their own."
        ),
    )
    async def tickets(
        self, info: Info, filter: TicketFilter | None = None, first: int | None = None, after: str | None = None
    ) -> TicketConnection:
        principal = await require_principal(info)
        size, before_id = page_size(first), after_id(after)
        try:
            spec = filter.spec() if filter is not None else TicketFilterSpec()
        except NotFound:
            return empty_connection(TicketConnection)
        page = await list_tickets(
            info.context.session_factory, principal, now=info.context.now(), spec=spec, limit=size, before_id=before_id
        )
        info.context.loaders.dispatch.ticket.prime_many({row.id: row for row in page.rows})
        return connection_of(TicketConnection, page, size, TicketType.from_row)
