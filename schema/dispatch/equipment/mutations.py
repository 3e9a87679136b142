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
    EquipmentType | BadUserInputError | NotFoundError, strawberry.union(
        "CreateEquipmentResult",
        description=(
            "What `createEquipment` answers: the Equipment; BadUserInputError (`field` names the input at fault); "
            "NotFoundError (a project or building not yours)."
        ),
    )
]
UpdateEquipmentResult = Annotated[
    EquipmentType | BadUserInputError | NotFoundError, strawberry.union(
        "UpdateEquipmentResult",
        description="What `updateEquipment` answers: the Equipment; BadUserInputError; NotFoundError.",
    )
]
RecordMaintenanceResult = Annotated[
    MaintenanceRecordType | BadUserInputError | NotFoundError, strawberry.union(
        "RecordMaintenanceResult",
        description=(
            "What `recordMaintenance` answers: the MaintenanceRecord; BadUserInputError; NotFoundError (equipment or "
            "technician not yours)."
        ),
    )
]


@strawberry.input(description="New equipment for the maintenance ledger.")
class CreateEquipmentInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    name: str = strawberry.field(description="Its name.")
    kind: EquipmentKindEnum = strawberry.field(description="What it is.")
    install_date: dt.date = strawberry.field(description="Installed on.")
    maintenance_interval_days: int = strawberry.field(description="Days between preventive maintenance (positive).")
    building_id: strawberry.ID | None = strawberry.field(default=None, description="Its building, if any.")
    model: str | None = strawberry.field(default=None, description="Make and model.")
    serial_number: str | None = strawberry.field(default=None, description="Serial number.")
    location: str | None = strawberry.field(default=None, description="Where it stands, in words.")
    last_maintained_on: dt.date | None = strawberry.field(
        default=None, description="Last maintained on; the next due date counts from it (or from the install date)."
    )


@strawberry.input(description="Changes to equipment; fields left out stay as they are.")
class UpdateEquipmentInput:
    id: strawberry.ID = strawberry.field(description="The equipment.")
    name: str | None = strawberry.field(default=None, description="New name.")
    model: str | None = strawberry.field(default=None, description="New make and model.")
    serial_number: str | None = strawberry.field(default=None, description="New serial number.")
    location: str | None = strawberry.field(default=None, description="New location.")
    building_id: strawberry.ID | None = strawberry.field(default=None, description="New building.")
    maintenance_interval_days: int | None = strawberry.field(default=None, description="New interval, days.")
    next_due_on: dt.date | None = strawberry.field(default=None, description="Move the next due date.")
    is_active: bool | None = strawberry.field(default=None, description="False retires it.")


@strawberry.input(description="Maintenance done outside a ticket.")
class RecordMaintenanceInput:
    equipment_id: strawberry.ID = strawberry.field(description="The equipment.")
    performed_on: dt.date = strawberry.field(description="When (project time zone); moves the next due date on.")
    notes: str | None = strawberry.field(default=None, description="What was done.")
    technician_id: strawberry.ID | None = strawberry.field(
        default=None, description="Who did it, if one of the project's technicians."
    )


@strawberry.type
class EquipmentMutations:
    @strawberry.mutation(permission_classes=DISPATCHERS, description="DISPATCHER, ADMIN: Add plant to the maintenance ledger.")
    async def create_equipment(
        self,
        info: Info,
        input: Annotated[CreateEquipmentInput, strawberry.argument(description="The new equipment.")],
    ) -> CreateEquipmentResult:
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

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER or ADMIN: change equipment, move its next due date, or retire it.",
    )
    async def update_equipment(
        self,
        info: Info,
        input: Annotated[UpdateEquipmentInput, strawberry.argument(description="What changes.")],
    ) -> UpdateEquipmentResult:
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
        description="DISPATCHER, ADMIN: Record maintenance done outside a ticket (an inspection, a contractor).",
    )
    async def record_maintenance(
        self,
        info: Info,
        input: Annotated[RecordMaintenanceInput, strawberry.argument(description="What was done.")],
    ) -> RecordMaintenanceResult:
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
