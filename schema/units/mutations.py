"""Mutations of the property register: thin calls into the `register` use cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, TypeVar

import strawberry
from strawberry.file_uploads import Upload

from kernel.errors import BadInput
from kernel.vocabulary import Locale
from register import occupancies, parties, projects, units
from register.policy import administers_register, changes_parties
from register.unit_import import ImportSummary, import_units
from schema.context import Info
from schema.errors import (
    BadUserInputError,
    ConflictError,
    ImportRejectedError,
    NotFoundError,
    error_result,
)
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, allowed_if
from schema.scalars import (
    LocaleEnum,
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
from schema.use_cases import run_for_caller

__all__ = ["UnitMutations"]

MAX_IMPORT_BYTES = 10 * 1024 * 1024

ADMIN_ONLY = [IsAuthenticated, allowed_if(administers_register, "Requires one of the roles ADMIN.")]

Row = TypeVar("Row")
Payload = TypeVar("Payload")


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
    locale: LocaleEnum = strawberry.field(
        default=Locale.ZH_CN, description="The language of owners' bill explanations and receipts."
    )


@strawberry.input
class UpdateProjectInput:
    id: strawberry.ID
    name: str | None = None
    timezone: str | None = None
    currency: str | None = None
    locale: LocaleEnum | None = strawberry.field(
        default=None, description="The language of owners' bill explanations and receipts."
    )


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


def _import_payload(summary: ImportSummary) -> ImportUnitsPayload:
    return ImportUnitsPayload(
        buildings_created=summary.buildings_created,
        units_created=summary.units_created,
        parties_created=summary.parties_created,
        occupancies_created=summary.occupancies_created,
    )


@strawberry.type
class UnitMutations:
    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_project(self, info: Info, input: CreateProjectInput) -> CreateProjectResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: projects.create_project(
                info.context.session_factory,
                principal,
                name=input.name,
                timezone=input.timezone,
                currency=input.currency,
                organization_id=None,
                locale=input.locale,
            ),
            ProjectType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def update_project(self, info: Info, input: UpdateProjectInput) -> UpdateProjectResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: projects.update_project(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.id, "Project", field="id"),
                name=input.name,
                timezone=input.timezone,
                currency=input.currency,
                locale=input.locale,
            ),
            ProjectType.from_row,
        )

    @strawberry.mutation(permission_classes=ADMIN_ONLY)
    async def create_building(self, info: Info, input: CreateBuildingInput) -> CreateBuildingResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: units.create_building(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: units.update_building(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: units.create_unit(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: units.update_unit(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: parties.create_party(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
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
        permission_classes=[
            IsAuthenticated,
            allowed_if(changes_parties, "Requires the ADMIN role, or a login of the party being changed."),
        ],
        description="Admins change any party in their project; a person may change their own phone and e-mail.",
    )
    async def update_party(self, info: Info, input: UpdatePartyInput) -> UpdatePartyResult:  # type: ignore[valid-type]
        return await run_for_caller(
            info,
            lambda principal: parties.update_party(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
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
        return await run_for_caller(
            info,
            lambda principal: occupancies.create_occupancy(
                info.context.session_factory,
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
        return await run_for_caller(
            info,
            lambda principal: occupancies.update_occupancy(
                info.context.session_factory,
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
        content = await file.read()  # type: ignore[attr-defined]
        if len(content) > MAX_IMPORT_BYTES:
            return error_result(BadInput(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MiB.", field="file"))
        return await run_for_caller(
            info,
            lambda principal: import_units(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
                now=info.context.now(),
                project_id=decode_id(project_id, "Project", field="projectId"),
                content=content,
                filename=getattr(file, "filename", None) or "upload.csv",
            ),
            _import_payload,
        )
