"""Queries of repair tickets: the filtered, paginated list."""

from __future__ import annotations

import datetime as dt

from typing import Annotated

import strawberry

from db.models import Ticket
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
from schema.dispatch.tickets.types import TicketPageShares, TicketType
from schema.ids import decode_optional_id
from schema.pagination import (
    CountedConnection,
    after_id,
    connection_of,
    empty_connection,
    page_size,
    selected_on_nodes,
)
from schema.permissions import IsAuthenticated, require_principal
from schema.scalars import CategoryEnum

__all__ = ["TicketConnection", "TicketFilter", "TicketQueries"]


@strawberry.input(description="Which tickets a list keeps; every field set must match.")
class TicketFilter:
    project_id: strawberry.ID | None = strawberry.field(default=None, description="Only this project.")
    status: list[TicketStatusEnum] | None = strawberry.field(default=None, description="Any of these statuses.")
    category: list[CategoryEnum] | None = strawberry.field(default=None, description="Any of these categories.")
    priority: list[PriorityEnum] | None = strawberry.field(default=None, description="Any of these priorities.")
    kind: TicketKindEnum | None = strawberry.field(default=None, description="Only repairs or only maintenance.")
    building_id: strawberry.ID | None = strawberry.field(default=None, description="Only this building.")
    technician_id: strawberry.ID | None = strawberry.field(
        default=None, description="Tickets assigned to this technician."
    )
    sla_state: SlaStateEnum | None = strawberry.field(default=None, description="Only tickets in this SLA state now.")
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


@strawberry.type(name="TicketConnection", description="A page of tickets.")
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
        self,
        info: Info,
        filter: Annotated[TicketFilter | None, strawberry.argument(description="Narrow the list.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
    ) -> TicketConnection:
        principal = await require_principal(info)
        size, before_id = page_size(first), after_id(after)
        try:
            spec = filter.spec() if filter is not None else TicketFilterSpec()
        except NotFound:
            return empty_connection(TicketConnection)
        selected, now = selected_on_nodes(info), info.context.now()
        with_evidence = not selected.keys().isdisjoint(("classifierEvidence", "classifierPriorityEvidence"))
        page = await list_tickets(
            info.context.session_factory, principal, now=now, spec=spec, limit=size, before_id=before_id,
            with_units="unit" in selected, with_classifier_evidence=with_evidence,
        )
        await TicketType.read_for_page(info, page.rows, selected, complete=with_evidence)
        shares = TicketPageShares.of(info, page.rows, selected)

        def ticket_of(row: Ticket) -> TicketType:
            ticket = TicketType.from_row(row, as_of=now)
            ticket.shares = shares
            return ticket

        return connection_of(TicketConnection, page, size, ticket_of)
