"""Dataloaders of the dispatch domain (reached as `info.context.loaders.dispatch`)."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import (
    Equipment,
    MaintenanceRecord,
    Ticket,
    TicketAttachment,
    TicketEvent,
    User,
)
from dispatch.ticket_state import LOAD_STATUSES
from schema.batching import BatchLoaders, SessionFactory, batched, by_id, grouped

__all__ = ["DispatchLoaders"]


async def _technician_loads(session_factory: SessionFactory, technician_ids: list[int]) -> list[int]:
    """Open tickets each technician is working on (what counts against their capacity)."""
    async with session_factory() as session:
        counts = dict(
            (
                await session.execute(
                    select(Ticket.assignee_id, func.count())
                    .where(Ticket.assignee_id.in_(technician_ids), Ticket.status.in_(sorted(LOAD_STATUSES)))
                    .group_by(Ticket.assignee_id)
                )
            ).all()
        )
    return [int(counts.get(technician_id, 0)) for technician_id in technician_ids]


class DispatchLoaders(BatchLoaders):
    ticket = by_id(Ticket)
    equipment = by_id(Equipment)
    user = by_id(User)
    events_by_ticket = grouped(TicketEvent, TicketEvent.ticket_id, order_by=TicketEvent.seq)
    attachments_by_ticket = grouped(TicketAttachment, TicketAttachment.ticket_id, order_by=TicketAttachment.id)
    maintenance_by_equipment = grouped(
        MaintenanceRecord, MaintenanceRecord.equipment_id, order_by=MaintenanceRecord.performed_on
    )
    technician_load = batched(_technician_loads)
