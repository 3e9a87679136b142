"""GraphQL enums mirroring the domain's, registered once under their plain names."""

from __future__ import annotations

import strawberry

from db.models import OccupancyRelation, OccupancyStatus
from kernel.principal import Role
from kernel.vocabulary import Category, Locale, PartyType, UnitKind

__all__ = [
    "CategoryEnum",
    "LocaleEnum",
    "OccupancyRelationEnum",
    "OccupancyStatusEnum",
    "PartyTypeEnum",
    "RoleEnum",
    "UnitKindEnum",
]

UnitKindEnum = strawberry.enum(UnitKind, name="UnitKind")
OccupancyStatusEnum = strawberry.enum(OccupancyStatus, name="OccupancyStatus")
PartyTypeEnum = strawberry.enum(PartyType, name="PartyType")
OccupancyRelationEnum = strawberry.enum(OccupancyRelation, name="OccupancyRelation")
RoleEnum = strawberry.enum(Role, name="Role")
CategoryEnum = strawberry.enum(Category, name="Category")
LocaleEnum = strawberry.enum(
    Locale,
    name="Locale",
    description="The language a project speaks to its owners: ZH_CN (简体中文, the default) or EN (English).",
)
