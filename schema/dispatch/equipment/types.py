"""GraphQL types of the equipment ledger: plant with its maintenance history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import strawberry
from strawberry import relay

from db.models import Equipment, MaintenanceRecord
from dispatch.policy import may_see_equipment
from schema.context import Info
from schema.dispatch.enums import EquipmentKindEnum
from schema.dispatch.technicians.types import TechnicianType
from schema.ids import encode_optional_id
from schema.nodes import resolve_visible_nodes
from schema.units.types import BuildingType

__all__ = ["EquipmentType", "MaintenanceRecordType"]


@strawberry.type(name="MaintenanceRecord")
class MaintenanceRecordType:
    performed_on: dt.date
    notes: str | None
    ticket_id: strawberry.ID | None
    technician_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: MaintenanceRecord) -> MaintenanceRecordType:
        return cls(
            performed_on=row.performed_on,
            notes=row.notes,
            ticket_id=encode_optional_id("Ticket", row.ticket_id),
            technician_pk=row.technician_id,
        )

    @strawberry.field
    async def technician(self, info: Info) -> TechnicianType | None:
        if self.technician_pk is None:
            return None
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(name="Equipment", description="Plant in the maintenance ledger.")
class EquipmentType(relay.Node):
    id: relay.NodeID[int]
    name: str
    kind: EquipmentKindEnum
    model: str | None
    serial_number: str | None
    location: str | None
    install_date: dt.date
    maintenance_interval_days: int
    last_maintained_on: dt.date | None
    next_due_on: dt.date
    is_active: bool
    project_id: strawberry.Private[int]
    building_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Equipment) -> EquipmentType:
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            model=row.model,
            serial_number=row.serial_number,
            location=row.location,
            install_date=row.install_date,
            maintenance_interval_days=row.maintenance_interval_days,
            last_maintained_on=row.last_maintained_on,
            next_due_on=row.next_due_on,
            is_active=row.is_active,
            project_id=row.project_id,
            building_pk=row.building_id,
        )

    @strawberry.field
    async def building(self, info: Info) -> BuildingType | None:
        if self.building_pk is None:
            return None
        return BuildingType.from_row(await info.context.loaders.building.load(self.building_pk))

    @strawberry.field(description="Maintenance done, oldest first.")
    async def maintenance_history(self, info: Info) -> list[MaintenanceRecordType]:
        rows = await info.context.loaders.dispatch.maintenance_by_equipment.load(self.id)
        return [MaintenanceRecordType.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[EquipmentType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.dispatch.equipment,
            lambda principal, row: may_see_equipment(principal, row.project_id),
            cls.from_row,
        )
