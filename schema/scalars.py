"""GraphQL enums mirroring the domain's, registered once under their plain names, and the scalars we
define differently from strawberry."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types.scalar import ScalarDefinition, scalar

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
    "UploadScalar",
    "scalar_overrides",
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


def _parse_upload(value: Any) -> Any:
    # Strawberry's Upload takes any value, so a number or a string where a file belongs reached the
    # import code as an object without `read`. A file arrives only as a multipart part.
    if not callable(getattr(value, "read", None)):
        raise ValueError("Upload: send the file as a part of a multipart request (GraphQL multipart request spec).")
    return value


UploadScalar: ScalarDefinition = scalar(
    name="Upload",
    description="A file, sent as a part of a multipart request (the GraphQL multipart request spec).",
    serialize=lambda value: value,
    parse_value=_parse_upload,
)


def scalar_overrides() -> dict[object, ScalarDefinition]:
    return {Upload: UploadScalar}
