"""Dataloaders of the dispatch domain (reached as `info.context.loaders.dispatch`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.models import (
    Equipment,
    MaintenanceRecord,
    Ticket,
    TicketAttachment,
    TicketEvent,
    User,
)
from dispatch.ticket_state import LOAD_STATUSES
from schema.batching import BatchLoaders

__all__ = ["DispatchLoaders"]


class DispatchLoaders(BatchLoaders):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(session_factory)
        self.ticket: DataLoader[int, Ticket | None] = self._by_id(Ticket)
        self.equipment: DataLoader[int, Equipment | None] = self._by_id(Equipment)
        self.user: DataLoader[int, User | None] = self._by_id(User)
        self.events_by_ticket: DataLoader[int, list[TicketEvent]] = self._grouped(
            TicketEvent, TicketEvent.ticket_id, order_by=TicketEvent.seq
        )
        self.attachments_by_ticket: DataLoader[int, list[TicketAttachment]] = self._grouped(
            TicketAttachment, TicketAttachment.ticket_id, order_by=TicketAttachment.id
        )
        self.maintenance_by_equipment: DataLoader[int, list[MaintenanceRecord]] = self._grouped(
            MaintenanceRecord, MaintenanceRecord.equipment_id, order_by=MaintenanceRecord.performed_on
        )
        self.technician_load: DataLoader[int, int] = DataLoader(load_fn=self._loads)

    async def _loads(self, technician_ids: list[int]) -> list[int]:
        """Open tickets each technician is working on (what counts against their capacity)."""
        async with self._session_factory() as session:
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
