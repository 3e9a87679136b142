"""GraphQL types of the property register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay

from db.batch_reads import plain_row_of
from db.models import Building, Occupancy, Party, Project, Unit
from db.personal_data import mask_national_id, mask_phone
from register.policy import (
    may_see_occupancy,
    may_see_party,
    may_see_personal_data,
    may_see_project,
    may_see_unit,
)
from schema.context import Info
from schema.ids import database_id
from schema.nodes import resolve_visible_nodes
from schema.scalars import (
    LocaleEnum,
    OccupancyRelationEnum,
    OccupancyStatusEnum,
    PartyTypeEnum,
    UnitKindEnum,
)

__all__ = ["BuildingType", "OccupancyType", "PartyType", "ProjectType", "UnitType"]


@strawberry.type(
    name="Project",
    description=(
        "A community, mall or park the company manages, with its own time zone, currency and language. Visible to "
        "whoever holds a role in it."
    ),
)
class ProjectType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name.")
    timezone: str = strawberry.field(
        description="IANA time zone (e.g. Asia/Shanghai): dates of bills, periods and analytics are in it."
    )
    currency: str = strawberry.field(
        description="ISO 4217 currency code (CNY); amounts are decimal strings in its main unit (yuan)."
    )
    locale: LocaleEnum = strawberry.field(description="The language of owners' bill explanations and receipts.")

    @classmethod
    def from_row(cls, row: Project) -> ProjectType:
        return cls(id=row.id, name=row.name, timezone=row.timezone, currency=row.currency, locale=row.locale)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ProjectType | None]:
        return await resolve_visible_nodes(
            info, node_ids, info.context.loaders.project, lambda p, row: may_see_project(p, row.id), cls.from_row
        )


@strawberry.type(name="Building", description="A building of a project, with its position for dispatch.")
class BuildingType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Its name (e.g. 3号楼).")
    latitude: float | None = strawberry.field(description="WGS-84 latitude, degrees.")
    longitude: float | None = strawberry.field(description="WGS-84 longitude, degrees.")
    project_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Building) -> BuildingType:
        return cls(
            id=row.id, name=row.name, latitude=row.latitude, longitude=row.longitude, project_id=row.project_id
        )

    @strawberry.field(description="Its project.")
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[BuildingType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.building,
            lambda p, row: may_see_project(p, row.project_id),
            cls.from_row,
        )


@strawberry.type(name="Party", description="A person or company; phone and ID number are masked unless you may see them.")
class PartyType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Full name or company name.")
    party_type: PartyTypeEnum = strawberry.field(description="Person or company.")
    email: str | None = strawberry.field(description="E-mail address.")
    project_id: strawberry.Private[int]
    phone_encrypted: strawberry.Private[str | None]
    national_id_encrypted: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Party) -> PartyType:
        return cls(
            id=row.id,
            name=row.name,
            party_type=row.party_type,
            email=row.email,
            project_id=row.project_id,
            phone_encrypted=row.phone_encrypted,
            national_id_encrypted=row.national_id_encrypted,
        )

    async def _reveal(self, info: Info, token: str | None, mask: Any) -> str | None:
        if token is None:
            return None
        plain = info.context.cipher.decrypt(token)
        principal = await info.context.principal()
        if principal is not None and may_see_personal_data(principal, project_id=self.project_id, party_id=self.id):
            return plain
        return str(mask(plain))

    @strawberry.field(
        description="Mobile number; masked (138****5678) unless you are an admin of the project or the person themself."
    )
    async def phone(self, info: Info) -> str | None:
        return await self._reveal(info, self.phone_encrypted, mask_phone)

    @strawberry.field(
        description=(
            "National ID number; masked (110***********1234) unless you are an admin of the project or the person "
            "themself."
        ),
    )
    async def national_id(self, info: Info) -> str | None:
        return await self._reveal(info, self.national_id_encrypted, mask_national_id)

    @strawberry.field(description="The units the party owns or rents, past and current (as far as you may see them).")
    async def occupancies(self, info: Info) -> list[OccupancyType]:
        rows = await info.context.loaders.occupancies_by_party.load(self.id)
        return [OccupancyType.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[PartyType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.party,
            lambda p, row: may_see_party(p, project_id=row.project_id, party_id=row.id),
            cls.from_row,
        )


@strawberry.type(name="Occupancy", description="A party owning or renting a unit for a date range.")
class OccupancyType(relay.Node):
    id: relay.NodeID[int]
    relation: OccupancyRelationEnum = strawberry.field(description="Owner or tenant.")
    start_date: dt.date = strawberry.field(description="First day (project time zone).")
    end_date: dt.date | None = strawberry.field(description="Last day; null while it lasts.")
    unit_id: strawberry.Private[int]
    party_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Occupancy) -> OccupancyType:
        return cls(
            id=row.id,
            relation=row.relation,
            start_date=row.start_date,
            end_date=row.end_date,
            unit_id=row.unit_id,
            party_id=row.party_id,
        )

    @strawberry.field(description="Who.")
    async def party(self, info: Info) -> PartyType:
        return PartyType.from_row(await info.context.loaders.party.load(self.party_id))

    @strawberry.field(description="Which unit.")
    async def unit(self, info: Info) -> UnitType:
        return UnitType.from_row(await info.context.loaders.unit.load(self.unit_id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[OccupancyType | None]:
        principal = await info.context.principal()
        ids = [pk for pk in map(database_id, node_ids) if pk is not None]
        rows = {row.id: row for row in await info.context.loaders.occupancy.load_many(ids) if row is not None}
        units = {u.id: u for u in await info.context.loaders.unit.load_many([r.unit_id for r in rows.values()]) if u}
        result: list[OccupancyType | None] = []
        for node_id in node_ids:
            pk = database_id(node_id)
            row = rows.get(pk) if pk is not None else None
            unit = units.get(row.unit_id) if row is not None else None
            visible = (
                row is not None
                and unit is not None
                and principal is not None
                and may_see_occupancy(principal, project_id=unit.project_id, party_id=row.party_id)
            )
            result.append(cls.from_row(row) if visible and row is not None else None)
        return result


@strawberry.type(
    name="Unit",
    description=(
        "A flat, shop, office, parking space or storage room. Owners see the units they occupy; staff their project's."
    ),
)
class UnitType(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Its number within the building (e.g. 1502).")
    floor: int = strawberry.field(description="Its floor.")
    floor_area: Decimal = strawberry.field(description="Floor area in square metres.")
    kind: UnitKindEnum = strawberry.field(description="What it is used as.")
    occupancy_status: OccupancyStatusEnum = strawberry.field(description="How it is occupied.")
    building_id: strawberry.Private[int]
    project_id: strawberry.Private[int]
    building_row: strawberry.Private[Building | None] = None

    @classmethod
    def from_row(cls, row: Unit) -> UnitType:
        return cls(
            id=row.id,
            number=row.number,
            floor=row.floor,
            floor_area=row.floor_area,
            kind=row.kind,
            occupancy_status=row.occupancy_status,
            building_id=row.building_id,
            project_id=row.project_id,
            # Present when the unit was read with its building (the unit loader does): no second read.
            building_row=plain_row_of(row, "building"),
        )

    @strawberry.field(description="Its building.")
    def building(self, info: Info) -> BuildingType:
        if self.building_row is not None:
            return BuildingType.from_row(self.building_row)
        return self._load_building(info)  # type: ignore[return-value]  # an awaitable, which GraphQL awaits

    async def _load_building(self, info: Info) -> BuildingType:
        return BuildingType.from_row(await info.context.loaders.building.load(self.building_id))

    @strawberry.field(description="Its project.")
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))

    @strawberry.field(description="Current and past occupancies; owners see only their own.")
    async def occupancies(self, info: Info) -> list[OccupancyType]:
        principal = await info.context.principal()
        rows = await info.context.loaders.occupancies_by_unit.load(self.id)
        if principal is None:
            return []
        return [
            OccupancyType.from_row(row)
            for row in rows
            if may_see_occupancy(principal, project_id=self.project_id, party_id=row.party_id)
        ]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UnitType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.unit,
            lambda p, row: may_see_unit(p, project_id=row.project_id, unit_id=row.id),
            cls.from_row,
        )
