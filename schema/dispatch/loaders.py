"""Dataloaders of the dispatch domain (reached as `info.context.loaders.dispatch`)."""

from __future__ import annotations

from db.models import (
    Equipment,
    MaintenanceRecord,
    OwnerAvailability,
    TechnicianDayOff,
    TechnicianShift,
    Ticket,
    TicketAttachment,
    TicketEvent,
    User,
)
from dispatch.queries import technician_loads
from schema.batching import BatchLoaders, batched, by_id, grouped

__all__ = ["DispatchLoaders"]


class DispatchLoaders(BatchLoaders):
    ticket = by_id(Ticket)
    equipment = by_id(Equipment)
    user = by_id(User)
    events_by_ticket = grouped(TicketEvent, TicketEvent.ticket_id, order_by=TicketEvent.seq)
    attachments_by_ticket = grouped(TicketAttachment, TicketAttachment.ticket_id, order_by=TicketAttachment.id)
    maintenance_by_equipment = grouped(
        MaintenanceRecord, MaintenanceRecord.equipment_id, order_by=MaintenanceRecord.performed_on
    )
    technician_load = batched(technician_loads)
    shifts_by_technician = grouped(TechnicianShift, TechnicianShift.technician_id, order_by=TechnicianShift.id)
    days_off_by_technician = grouped(TechnicianDayOff, TechnicianDayOff.technician_id, order_by=TechnicianDayOff.on_date)
    availability_by_ticket = grouped(OwnerAvailability, OwnerAvailability.ticket_id, order_by=OwnerAvailability.ticket_id)
