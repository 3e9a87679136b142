"""Dataloaders of the dispatch domain (reached as `info.context.loaders.dispatch`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from db.models import Equipment, MaintenanceRecord, Ticket, TicketAttachment, TicketEvent, User
from dispatch.ticket_state import LOAD_STATUSES

__all__ = ["DispatchLoaders"]


class DispatchLoaders:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self.ticket: DataLoader[int, Ticket | None] = self._by_id(Ticket)
        self.equipment: DataLoader[int, Equipment | None] = self._by_id(Equipment)
        self.user: DataLoader[int, User | None] = self._by_id(User)
        self.events_by_ticket: DataLoader[int, list[TicketEvent]] = self._grouped(
            TicketEvent, TicketEvent.ticket_id, TicketEvent.seq
        )
        self.attachments_by_ticket: DataLoader[int, list[TicketAttachment]] = self._grouped(
            TicketAttachment, TicketAttachment.ticket_id, TicketAttachment.id
        )
        self.maintenance_by_equipment: DataLoader[int, list[MaintenanceRecord]] = self._grouped(
            MaintenanceRecord, MaintenanceRecord.equipment_id, MaintenanceRecord.performed_on
        )
        self.technician_load: DataLoader[int, int] = DataLoader(load_fn=self._loads)

    async def _rows(self, statement: Select[Any]) -> Sequence[Any]:
        async with self._session_factory() as session:
            return (await session.scalars(statement)).all()

    def _by_id(self, model: Any) -> DataLoader[int, Any]:
        async def load(ids: list[int]) -> list[Any]:
            found = {row.id: row for row in await self._rows(select(model).where(model.id.in_(ids)))}
            return [found.get(key) for key in ids]

        return DataLoader(load_fn=load)

    def _grouped(self, model: Any, key_column: Any, order_by: Any) -> DataLoader[int, list[Any]]:
        async def load(keys: list[int]) -> list[list[Any]]:
            rows = await self._rows(select(model).where(key_column.in_(keys)).order_by(order_by, model.id))
            groups: dict[int, list[Any]] = defaultdict(list)
            for row in rows:
                groups[getattr(row, key_column.key)].append(row)
            return [groups.get(key, []) for key in keys]

        return DataLoader(load_fn=load)

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
