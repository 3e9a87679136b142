"""Ticket queries: the filtered, paginated list and a project's dispatch settings."""

from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select
from strawberry import relay

from db.models import Ticket
from dispatch.model import SlaState
from dispatch.ticket_state import project_settings, visible_tickets
from kernel.errors import AccessDenied, NotFound
from kernel.principal import Role
from register.projects import get_project_for
from schema.context import Info
from schema.dispatch.enums import (
    PriorityEnum,
    SlaStateEnum,
    TicketKindEnum,
    TicketStatusEnum,
)
from schema.dispatch.ticket_types import DispatchSettingsType, TicketType
from schema.ids import decode_id
from schema.pagination import after_id, edges_and_page_info, page_size
from schema.permissions import IsAuthenticated, require_principal, requires_role
from schema.scalars import CategoryEnum

__all__ = ["TicketConnection", "TicketFilter", "TicketQueries", "sla_state_condition"]


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


@strawberry.type(name="TicketConnection")
class TicketConnection(relay.Connection[TicketType]):
    total_count: int


def sla_state_condition(state: SlaState, now: dt.datetime) -> ColumnElement[bool]:
    """The SQL form of `ticket_state.sla_state_at`."""
    breached = or_(Ticket.sla_breached, and_(Ticket.sla_breach_at.is_not(None), Ticket.sla_breach_at <= now))
    warning = and_(Ticket.sla_warning_at.is_not(None), Ticket.sla_warning_at <= now)
    if state is SlaState.BREACHED:
        return breached
    if state is SlaState.WARNING:
        return and_(not_(breached), warning)
    return and_(not_(breached), not_(warning))


def _conditions(filter: TicketFilter | None, now: dt.datetime) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    conditions: list[ColumnElement[bool]] = []
    if filter.project_id is not None:
        conditions.append(Ticket.project_id == decode_id(filter.project_id, "Project", field="projectId"))
    if filter.status is not None:
        conditions.append(Ticket.status.in_(filter.status) if filter.status else false())
    if filter.category is not None:
        conditions.append(Ticket.category.in_(filter.category) if filter.category else false())
    if filter.priority is not None:
        conditions.append(Ticket.priority.in_(filter.priority) if filter.priority else false())
    if filter.kind is not None:
        conditions.append(Ticket.kind == filter.kind)
    if filter.building_id is not None:
        conditions.append(Ticket.building_id == decode_id(filter.building_id, "Building", field="buildingId"))
    if filter.technician_id is not None:
        conditions.append(Ticket.assignee_id == decode_id(filter.technician_id, "Technician", field="technicianId"))
    if filter.sla_state is not None:
        conditions.append(sla_state_condition(SlaState(filter.sla_state), now))
    if filter.created_after is not None:
        conditions.append(Ticket.created_at >= filter.created_after)
    if filter.created_before is not None:
        conditions.append(Ticket.created_at < filter.created_before)
    return conditions


def _empty() -> TicketConnection:
    nothing = relay.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)
    return TicketConnection(edges=[], page_info=nothing, total_count=0)


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
            conditions = [visible_tickets(principal), *_conditions(filter, info.context.now())]
        except NotFound:
            return _empty()
        page_conditions = [*conditions, Ticket.id < before_id] if before_id is not None else conditions
        async with info.context.session_factory() as session:
            rows = (
                await session.scalars(select(Ticket).where(*page_conditions).order_by(Ticket.id.desc()).limit(size + 1))
            ).all()
            total = await session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
        info.context.loaders.dispatch.ticket.prime_many({row.id: row for row in rows})
        edges, page_info = edges_and_page_info(rows, size, TicketType.from_row)
        return TicketConnection(edges=edges, page_info=page_info, total_count=total)

    @strawberry.field(
        permission_classes=[IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER)],
        description="Auto-dispatch, triage threshold and SLA promises of a project.",
    )
    async def dispatch_settings(self, info: Info, project_id: strawberry.ID) -> DispatchSettingsType | None:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            try:
                project = decode_id(project_id, "Project", field="projectId")
                await get_project_for(session, principal, project, Role.ADMIN, Role.DISPATCHER)
            except (NotFound, AccessDenied):
                return None
            return DispatchSettingsType.from_settings(await project_settings(session, project))
