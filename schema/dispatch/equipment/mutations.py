"""Mutations of the equipment ledger: thin calls into `dispatch.equipment`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from db.models import Equipment, MaintenanceRecord
from dispatch import equipment as ledger
from schema.context import Info
from schema.dispatch.enums import EquipmentKindEnum
from schema.dispatch.equipment.types import EquipmentType, MaintenanceRecordType
from schema.dispatch.permissions import DISPATCHERS
from schema.errors import BadUserInputError, NotFoundError
from schema.ids import decode_id, decode_optional_id
from schema.permissions import require_principal
from schema.use_cases import run_mutation

__all__ = ["EquipmentMutations"]

CreateEquipmentResult = Annotated[
    EquipmentType | BadUserInputError | NotFoundError, strawberry.union("CreateEquipmentResult")
]
UpdateEquipmentResult = Annotated[
    EquipmentType | BadUserInputError | NotFoundError, strawberry.union("UpdateEquipmentResult")
]
RecordMaintenanceResult = Annotated[
    MaintenanceRecordType | BadUserInputError | NotFoundError, strawberry.union("RecordMaintenanceResult")
]


@strawberry.input
class CreateEquipmentInput:
    project_id: strawberry.ID
    name: str
    kind: EquipmentKindEnum
    install_date: dt.date
    maintenance_interval_days: int
    building_id: strawberry.ID | None = None
    model: str | None = None
    serial_number: str | None = None
    location: str | None = None
    last_maintained_on: dt.date | None = None


@strawberry.input
class UpdateEquipmentInput:
    id: strawberry.ID
    name: str | None = None
    model: str | None = None
    serial_number: str | None = None
    location: str | None = None
    building_id: strawberry.ID | None = None
    maintenance_interval_days: int | None = None
    next_due_on: dt.date | None = None
    is_active: bool | None = None


@strawberry.input
class RecordMaintenanceInput:
    equipment_id: strawberry.ID
    performed_on: dt.date
    notes: str | None = None
    technician_id: strawberry.ID | None = None


@strawberry.type
class EquipmentMutations:
    @strawberry.mutation(permission_classes=DISPATCHERS, description="Add plant to the maintenance ledger.")
    async def create_equipment(self, info: Info, input: CreateEquipmentInput) -> CreateEquipmentResult:
        principal = await require_principal(info)

        async def create() -> Equipment:
            return await ledger.create_equipment(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                kind=input.kind,
                install_date=input.install_date,
                maintenance_interval_days=input.maintenance_interval_days,
                building_id=decode_optional_id(input.building_id, "Building", field="buildingId"),
                model=input.model,
                serial_number=input.serial_number,
                location=input.location,
                last_maintained_on=input.last_maintained_on,
            )

        return await run_mutation(create, EquipmentType.from_row)

    @strawberry.mutation(permission_classes=DISPATCHERS)
    async def update_equipment(self, info: Info, input: UpdateEquipmentInput) -> UpdateEquipmentResult:
        principal = await require_principal(info)

        async def update() -> Equipment:
            return await ledger.update_equipment(
                info.context.session_factory,
                principal,
                equipment_id=decode_id(input.id, "Equipment", field="id"),
                name=input.name,
                model=input.model,
                serial_number=input.serial_number,
                location=input.location,
                building_id=decode_optional_id(input.building_id, "Building", field="buildingId"),
                maintenance_interval_days=input.maintenance_interval_days,
                next_due_on=input.next_due_on,
                is_active=input.is_active,
            )

        return await run_mutation(update, EquipmentType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="Record maintenance done outside a ticket (an inspection, a contractor).",
    )
    async def record_maintenance(self, info: Info, input: RecordMaintenanceInput) -> RecordMaintenanceResult:
        principal = await require_principal(info)

        async def record() -> MaintenanceRecord:
            return await ledger.record_maintenance(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                equipment_id=decode_id(input.equipment_id, "Equipment", field="equipmentId"),
                performed_on=input.performed_on,
                notes=input.notes,
                technician_id=decode_optional_id(input.technician_id, "Technician", field="technicianId"),
            )

        return await run_mutation(record, MaintenanceRecordType.from_row)
