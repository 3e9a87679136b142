"""Dataloaders of the dispatch domain (reached as `info.context.loaders.dispatch`)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from db.models import (
    Equipment,
    MaintenanceRecord,
    OwnerAvailability,
    Technician,
    TechnicianDayOff,
    TechnicianShift,
    Ticket,
    TicketAttachment,
    TicketEvent,
    User,
)
from dispatch.queries import technician_loads, technicians_with_loads
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

    async def read_technicians_with_loads(
        self, technicians: DataLoader[int, Technician | None], technician_ids: list[int]
    ) -> None:
        """Read the technicians into `technicians` (the technician loader) and their loads into
        `technician_load` with one statement (`technicians_with_loads`), for those either loader does not
        hold yet: what a page of tickets showing its assignees' loads reads for them."""
        loads = self.technician_load
        missing = [key for key in technician_ids if not (technicians.cache_map.holds(key) and loads.cache_map.holds(key))]
        if not missing:
            return
        read = await technicians_with_loads(self._session_factory, missing)
        technicians.prime_many({key: technician for key, (technician, _) in zip(missing, read, strict=True)})
        loads.prime_many({key: load for key, (_, load) in zip(missing, read, strict=True)})
