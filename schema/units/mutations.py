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
    result_union,
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
    return result_union(payload, name)


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


@strawberry.input(description="A new project.")
class CreateProjectInput:
    name: str = strawberry.field(description="Its name.")
    timezone: str = strawberry.field(default="Asia/Shanghai", description="IANA time zone; Asia/Shanghai unless given.")
    currency: str = strawberry.field(default="CNY", description="ISO 4217 code; CNY unless given.")
    locale: LocaleEnum = strawberry.field(
        default=Locale.ZH_CN, description="The language of owners' bill explanations and receipts."
    )


@strawberry.input(description="Changes to a project; fields left out stay as they are.")
class UpdateProjectInput:
    id: strawberry.ID = strawberry.field(description="The project.")
    name: str | None = strawberry.field(default=None, description="New name.")
    timezone: str | None = strawberry.field(default=None, description="New IANA time zone.")
    currency: str | None = strawberry.field(default=None, description="New ISO 4217 currency code.")
    locale: LocaleEnum | None = strawberry.field(
        default=None, description="The language of owners' bill explanations and receipts."
    )


@strawberry.input(description="A new building.")
class CreateBuildingInput:
    project_id: strawberry.ID = strawberry.field(description="Its project.")
    name: str = strawberry.field(description="Its name, unique in the project.")
    latitude: float | None = strawberry.field(
        default=None, description="WGS-84 latitude (−90 to 90); dispatch needs it to weigh distances."
    )
    longitude: float | None = strawberry.field(default=None, description="WGS-84 longitude (−180 to 180).")


@strawberry.input(description="Changes to a building; fields left out stay as they are.")
class UpdateBuildingInput:
    id: strawberry.ID = strawberry.field(description="The building.")
    name: str | None = strawberry.field(default=None, description="New name.")
    latitude: float | None = strawberry.field(default=None, description="New latitude.")
    longitude: float | None = strawberry.field(default=None, description="New longitude.")


@strawberry.input(description="A new unit.")
class CreateUnitInput:
    building_id: strawberry.ID = strawberry.field(description="Its building.")
    number: str = strawberry.field(description="Its number, unique in the building.")
    floor: int = strawberry.field(description="Its floor.")
    floor_area: Decimal = strawberry.field(
        description="Floor area in m², a positive decimal string (per-area fees and apportioning use it)."
    )
    kind: UnitKindEnum = strawberry.field(description="What it is used as.")
    occupancy_status: OccupancyStatusEnum = strawberry.field(
        default=OccupancyStatusEnum.VACANT, description="How it is occupied; VACANT unless given."
    )  # type: ignore[attr-defined]


@strawberry.input(description="Changes to a unit; fields left out stay as they are.")
class UpdateUnitInput:
    id: strawberry.ID = strawberry.field(description="The unit.")
    number: str | None = strawberry.field(default=None, description="New number.")
    floor: int | None = strawberry.field(default=None, description="New floor.")
    floor_area: Decimal | None = strawberry.field(
        default=None, description="New floor area in m² (bills already issued keep theirs)."
    )
    kind: UnitKindEnum | None = strawberry.field(default=None, description="New kind.")
    occupancy_status: OccupancyStatusEnum | None = strawberry.field(default=None, description="New occupancy status.")


@strawberry.input(description="A new person or company in a project.")
class CreatePartyInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    name: str = strawberry.field(description="Full name or company name.")
    party_type: PartyTypeEnum = strawberry.field(default=PartyTypeEnum.PERSON, description="PERSON unless given.")  # type: ignore[attr-defined]
    phone: str | None = strawberry.field(default=None, description="Mobile number (stored encrypted).")
    national_id: str | None = strawberry.field(default=None, description="National ID number (stored encrypted).")
    email: str | None = strawberry.field(default=None, description="E-mail address.")


@strawberry.input(
    description=(
        "Changes to a party; fields left out stay as they are. A person may change their own phone and e-mail; name "
        "and ID number only admins."
    ),
)
class UpdatePartyInput:
    id: strawberry.ID = strawberry.field(description="The party.")
    name: str | None = strawberry.field(default=None, description="New name (admins only).")
    phone: str | None = strawberry.field(default=None, description="New mobile number.")
    national_id: str | None = strawberry.field(default=None, description="New national ID number (admins only).")
    email: str | None = strawberry.field(default=None, description="New e-mail address.")


@strawberry.input(description="A party starting to own or rent a unit.")
class CreateOccupancyInput:
    unit_id: strawberry.ID = strawberry.field(description="The unit.")
    party_id: strawberry.ID = strawberry.field(description="The party (of the same project).")
    relation: OccupancyRelationEnum = strawberry.field(description="Owner or tenant.")
    start_date: dt.date = strawberry.field(description="First day (project time zone).")
    end_date: dt.date | None = strawberry.field(default=None, description="Last day; leave out while it lasts.")


@strawberry.input(description="Changes to an occupancy (for example its end date when someone moves out).")
class UpdateOccupancyInput:
    id: strawberry.ID = strawberry.field(description="The occupancy.")
    relation: OccupancyRelationEnum | None = strawberry.field(default=None, description="New relation.")
    start_date: dt.date | None = strawberry.field(default=None, description="New first day.")
    end_date: dt.date | None = strawberry.field(default=None, description="New last day.")


@strawberry.type(description="A unit register imported: how many of each were created.")
class ImportUnitsPayload:
    buildings_created: int = strawberry.field(description="Buildings created.")
    units_created: int = strawberry.field(description="Units created.")
    parties_created: int = strawberry.field(description="Owners (parties) created.")
    occupancies_created: int = strawberry.field(description="Occupancies created.")


ImportUnitsResult = Annotated[
    ImportUnitsPayload | ImportRejectedError | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union(
        "ImportUnitsResult",
        description=(
            "What `importUnits` answers: ImportUnitsPayload; ImportRejectedError with every bad row (nothing written); "
            "BadUserInputError for a file that is not CSV or XLSX, too large or a decompression bomb; NotFoundError; "
            "ConflictError."
        ),
    ),
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
    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="ADMIN: create a project.")
    async def create_project(
        self,
        info: Info,
        input: Annotated[CreateProjectInput, strawberry.argument(description="The new project.")],
    ) -> CreateProjectResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY,
        description="ADMIN of the project: change its name, time zone, currency or language.",
    )
    async def update_project(
        self,
        info: Info,
        input: Annotated[UpdateProjectInput, strawberry.argument(description="What changes.")],
    ) -> UpdateProjectResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="ADMIN of the project: add a building.")
    async def create_building(
        self,
        info: Info,
        input: Annotated[CreateBuildingInput, strawberry.argument(description="The new building.")],
    ) -> CreateBuildingResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="ADMIN of the project: change a building.")
    async def update_building(
        self,
        info: Info,
        input: Annotated[UpdateBuildingInput, strawberry.argument(description="What changes.")],
    ) -> UpdateBuildingResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="ADMIN of the project: add a unit.")
    async def create_unit(
        self,
        info: Info,
        input: Annotated[CreateUnitInput, strawberry.argument(description="The new unit.")],
    ) -> CreateUnitResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="ADMIN of the project: change a unit.")
    async def update_unit(
        self,
        info: Info,
        input: Annotated[UpdateUnitInput, strawberry.argument(description="What changes.")],
    ) -> UpdateUnitResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(permission_classes=ADMIN_ONLY, description="ADMIN of the project: add a person or company.")
    async def create_party(
        self,
        info: Info,
        input: Annotated[CreatePartyInput, strawberry.argument(description="The new party.")],
    ) -> CreatePartyResult:  # type: ignore[valid-type]
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
        description="ADMIN: Admins change any party in their project; a person may change their own phone and e-mail.",
    )
    async def update_party(
        self,
        info: Info,
        input: Annotated[UpdatePartyInput, strawberry.argument(description="What changes.")],
    ) -> UpdatePartyResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY, description="ADMIN of the project: record that a party owns or rents a unit."
    )
    async def create_occupancy(
        self,
        info: Info,
        input: Annotated[CreateOccupancyInput, strawberry.argument(description="The new occupancy.")],
    ) -> CreateOccupancyResult:  # type: ignore[valid-type]
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

    @strawberry.mutation(
        permission_classes=ADMIN_ONLY, description="ADMIN of the project: change an occupancy (e.g. end it)."
    )
    async def update_occupancy(
        self,
        info: Info,
        input: Annotated[UpdateOccupancyInput, strawberry.argument(description="What changes.")],
    ) -> UpdateOccupancyResult:  # type: ignore[valid-type]
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
        description="ADMIN: Import a unit register (CSV or XLSX): every row, or none with each bad row's number and reason.",
    )
    async def import_units(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project to import into.")],
        file: Annotated[
            Upload,
            strawberry.argument(
                description=(
                    "The file, as a GraphQL multipart upload: CSV (UTF-8 or GB18030/GBK) or XLSX with the columns 楼栋, "
                    "房号, 楼层, 建筑面积, 类型, 业主姓名, 联系电话, 身份证号 or their English names."
                ),
            ),
        ],
    ) -> ImportUnitsResult:
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
