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


@strawberry.type(name="MaintenanceRecord", description="Maintenance done on a piece of equipment.")
class MaintenanceRecordType:
    performed_on: dt.date = strawberry.field(description="When (project time zone).")
    notes: str | None = strawberry.field(description="What was done.")
    ticket_id: strawberry.ID | None = strawberry.field(
        description="The maintenance ticket it closed, if it came from one."
    )
    technician_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: MaintenanceRecord) -> MaintenanceRecordType:
        return cls(
            performed_on=row.performed_on,
            notes=row.notes,
            ticket_id=encode_optional_id("Ticket", row.ticket_id),
            technician_pk=row.technician_id,
        )

    @strawberry.field(description="Who did it, if recorded.")
    async def technician(self, info: Info) -> TechnicianType | None:
        if self.technician_pk is None:
            return None
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(name="Equipment", description="Plant in the maintenance ledger.")
class EquipmentType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name.")
    kind: EquipmentKindEnum = strawberry.field(description="What it is.")
    model: str | None = strawberry.field(description="Make and model.")
    serial_number: str | None = strawberry.field(description="Serial number.")
    location: str | None = strawberry.field(description="Where it stands, in words.")
    install_date: dt.date = strawberry.field(description="Installed on (project time zone).")
    maintenance_interval_days: int = strawberry.field(description="Days between preventive maintenance.")
    last_maintained_on: dt.date | None = strawberry.field(description="Last maintained on (project time zone).")
    next_due_on: dt.date = strawberry.field(description="Next due on; the worker opens a MAINTENANCE ticket then.")
    is_active: bool = strawberry.field(description="False once retired: no more maintenance tickets.")
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

    @strawberry.field(description="Its building, if any.")
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
