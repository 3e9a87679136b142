"""Mutations of the property register: thin calls into `db.property`."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from db import property as register
from db.unit_import import parse_unit_register
from kernel.errors import BadInput
from kernel.principal import Role
from schema.context import Info
from schema.errors import (
    BadUserInputError,
    ConflictError,
    ImportRejectedError,
    NotFoundError,
    error_result,
    run_in_transaction,
)
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, require_principal, requires_role
from schema.scalars import (
    OccupancyRelationEnum,
    OccupancyStatusEnum,
    PartyTypeEnum,
    UnitKindEnum,
)
from schema.units.types import (
    BuildingType,
    OccupancyType,
    PartyType,
    ProjectType,
    UnitType,
)

__all__ = ["UnitMutations"]

MAX_IMPORT_BYTES = 10 * 1024 * 1024

ADMIN_ONLY = [IsAuthenticated, requires_role(Role.ADMIN)]


def _result(payload: type, name: str) -> object:
    return Annotated[payload | BadUserInputError | NotFoundError | ConflictError, strawberry.union(name)]


CreateProjectResult = _result(ProjectType, "CreateProjectResult")
UpdateProjectResult = _result(ProjectType, "UpdateProjectResult")
CreateBuildingResult = _result(BuildingType, "CreateBuildingResult")
UpdateBuildingResult = _result(BuildingType, "UpdateBuildingResult")
CreateUnitResult = _result(UnitType, "CreateUnitResult")
UpdateUnitResult = _result(UnitType, "UpdateUnitResult")
CreatePartyResult = _result(PartyType, "CreatePartyResult")
UpdatePartyResult = _result(PartyType, "UpdatePartyResult")
CreateOccupancyResult = _result(OccupancyType, "CreateOccupancyResult")
UpdateOccupancyResult = _result(OccupancyType, "UpdateOccupancyResult")


@strawberry.input
class CreateProjectInput:
    name: str
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = None
    timezone: str | None = None
    currency: str | None = None


@strawberry.input
class CreateBuildingInput:
    project_id: strawberry.ID
    name: str
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input
class UpdateBuildingInput:
    id: strawberry.ID
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input
class CreateUnitInput:
    building_id: strawberry.ID
    number: str
    floor: int
    floor_area: Decimal
    kind: UnitKindEnum
    occupancy_status: OccupancyStatusEnum = OccupancyStatusEnum.VACANT  # type: ignore[attr-defined]


@strawberry.input
class UpdateUnitInput:
    id: strawberry.ID
    number: str | None = None
    floor: int | None = None
    floor_area: Decimal | None = None
    kind: UnitKindEnum | None = None
    occupancy_status: OccupancyStatusEnum | None = None


@strawberry.input
class CreatePartyInput:
    project_id: strawberry.ID
    name: str
    party_type: PartyTypeEnum = PartyTypeEnum.PERSON  # type: ignore[attr-defined]
    phone: str | None = None
    national_id: str | None = None
    email: str | None = None


@strawberry.input
class UpdatePartyInput:
    id: strawberry.ID
    name: str | None = None
    phone: str | None = None
    national_id: str | None = None
    email: str | None = None


@strawberry.input
class CreateOccupancyInput:
    unit_id: strawberry.ID
    party_id: strawberry.ID
    relation: OccupancyRelationEnum
    start_date: dt.date
    end_date: dt.date | None = None


@strawberry.input
class UpdateOccupancyInput:
    id: strawberry.ID
    relation: OccupancyRelationEnum | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None


@strawberry.type
class ImportUnitsPayload:
    buildings_created: int
    units_created: int
    parties_created: int
    occupancies_created: int


ImportUnitsResult = Annotated[
    ImportUnitsPayload | ImportRejectedError | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union("ImportUnitsResult"),
]


@strawberry.type
class UnitMutations:
    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_project(self, info: Info, input: CreateProjectInput) -> CreateProjectResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.create_project(
                s, principal, name=input.name, timezone=input.timezone, currency=input.currency, organization_id=None
            ),
            ProjectType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_project(self, info: Info, input: UpdateProjectInput) -> UpdateProjectResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.update_project(
                s,
                principal,
                project_id=decode_id(input.id, "Project", field="id"),
                name=input.name,
                timezone=input.timezone,
                currency=input.currency,
            ),
            ProjectType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_building(self, info: Info, input: CreateBuildingInput) -> CreateBuildingResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.create_building(
                s,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                latitude=input.latitude,
                longitude=input.longitude,
            ),
            BuildingType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_building(self, info: Info, input: UpdateBuildingInput) -> UpdateBuildingResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.update_building(
                s,
                principal,
                building_id=decode_id(input.id, "Building", field="id"),
                name=input.name,
                latitude=input.latitude,
                longitude=input.longitude,
            ),
            BuildingType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_unit(self, info: Info, input: CreateUnitInput) -> CreateUnitResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.create_unit(
                s,
                principal,
                building_id=decode_id(input.building_id, "Building", field="buildingId"),
                number=input.number,
                floor=input.floor,
                floor_area=input.floor_area,
                kind=input.kind,
                occupancy_status=input.occupancy_status,
            ),
            UnitType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_unit(self, info: Info, input: UpdateUnitInput) -> UpdateUnitResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.update_unit(
                s,
                principal,
                unit_id=decode_id(input.id, "Unit", field="id"),
                number=input.number,
                floor=input.floor,
                floor_area=input.floor_area,
                kind=input.kind,
                occupancy_status=input.occupancy_status,
            ),
            UnitType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_party(self, info: Info, input: CreatePartyInput) -> CreatePartyResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.create_party(
                s,
                principal,
                info.context.cipher,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                party_type=input.party_type,
                phone=input.phone,
                national_id=input.national_id,
                email=input.email,
            ),
            PartyType.from_row,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
        description="Admins change any party in their project; a person may change their own phone and e-mail.",
    )
    async def update_party(self, info: Info, input: UpdatePartyInput) -> UpdatePartyResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.update_party(
                s,
                principal,
                info.context.cipher,
                party_id=decode_id(input.id, "Party", field="id"),
                name=input.name,
                phone=input.phone,
                national_id=input.national_id,
                email=input.email,
            ),
            PartyType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_occupancy(self, info: Info, input: CreateOccupancyInput) -> CreateOccupancyResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.create_occupancy(
                s,
                principal,
                unit_id=decode_id(input.unit_id, "Unit", field="unitId"),
                party_id=decode_id(input.party_id, "Party", field="partyId"),
                relation=input.relation,
                start_date=input.start_date,
                end_date=input.end_date,
            ),
            OccupancyType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_occupancy(self, info: Info, input: UpdateOccupancyInput) -> UpdateOccupancyResult:  # type: ignore[valid-type]
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: register.update_occupancy(
                s,
                principal,
                occupancy_id=decode_id(input.id, "Occupancy", field="id"),
                relation=input.relation,
                start_date=input.start_date,
                end_date=input.end_date,
            ),
            OccupancyType.from_row,
        )

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="Import a unit register (CSV or XLSX): every row, or none with each bad row's number and reason.",
    )
    async def import_units(self, info: Info, project_id: strawberry.ID, file: Upload) -> ImportUnitsResult:
        principal = await require_principal(info)
        content = await file.read()  # type: ignore[attr-defined]
        filename = getattr(file, "filename", None) or "upload.csv"
        if len(content) > MAX_IMPORT_BYTES:
            return error_result(BadInput(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MiB.", field="file"))
        report = await asyncio.to_thread(parse_unit_register, content, filename)
        return await run_in_transaction(
            info,
            lambda s: register.import_units(
                s,
                principal,
                info.context.cipher,
                project_id=decode_id(project_id, "Project", field="projectId"),
                report=report,
                today=info.context.now().date(),
            ),
            lambda summary: ImportUnitsPayload(
                buildings_created=summary.buildings_created,
                units_created=summary.units_created,
                parties_created=summary.parties_created,
                occupancies_created=summary.occupancies_created,
            ),
        )
