"""GraphQL enums mirroring the domain's, registered once under their plain names, and the scalars we
define differently from strawberry."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import orjson
from strawberry.file_uploads import Upload
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition, scalar

from db.models import OccupancyRelation, OccupancyStatus
from kernel.principal import Role
from kernel.vocabulary import Category, Locale, PartyType, UnitKind
from schema.described_enum import described_enum

__all__ = [
    "CategoryEnum",
    "DateTimeScalar",
    "LocaleEnum",
    "OccupancyRelationEnum",
    "OccupancyStatusEnum",
    "PartyTypeEnum",
    "RoleEnum",
    "UnitKindEnum",
    "UploadScalar",
    "scalar_overrides",
]

UnitKindEnum = described_enum(
    UnitKind,
    name="UnitKind",
    description="What a unit is used as.",
    values={
        "APARTMENT": "A flat (住宅).",
        "SHOP": "A shop (商铺).",
        "OFFICE": "An office (写字楼).",
        "PARKING_SPACE": "A parking space (车位).",
        "STORAGE": "A storage room (储藏室).",
    },
)
OccupancyStatusEnum = described_enum(
    OccupancyStatus,
    name="OccupancyStatus",
    description="How a unit is occupied, as the register records it.",
    values={
        "SELF_OCCUPIED": "Lived in or used by its owner.",
        "RENTED": "Let to a tenant.",
        "VACANT": "Empty.",
        "UNDER_RENOVATION": "Being renovated (装修中).",
    },
)
PartyTypeEnum = described_enum(
    PartyType,
    name="PartyType",
    description="Whether a party is a person or a company.",
    values={
        "PERSON": "A natural person.",
        "COMPANY": "A company or other organisation.",
    },
)
OccupancyRelationEnum = described_enum(
    OccupancyRelation,
    name="OccupancyRelation",
    description="How a party holds a unit.",
    values={
        "OWNER": "Owns it (业主).",
        "TENANT": "Rents it (租户).",
    },
)
RoleEnum = described_enum(
    Role,
    name="Role",
    description="A role a user holds in one project; a user may hold several, in several projects.",
    values={
        "ADMIN": (
            "Runs the project: register (units, parties, accounts), settings, everything a dispatcher and finance may "
            "do."
        ),
        "FINANCE": "Charging: fee rules, bill runs, payments, refunds, adjustments, the ledger.",
        "DISPATCHER": "Repair dispatch: the ticket queue, assignments, triage, technicians, equipment, analytics.",
        "TECHNICIAN": "Works the tickets assigned to them (linked to one Technician).",
        "OWNER": "An owner or tenant: sees and pays their own units' bills, reports and follows their own tickets.",
    },
)
CategoryEnum = described_enum(
    Category,
    name="Category",
    description="The trade a fault belongs to; it decides which technician skill a ticket needs.",
    values={
        "PLUMBING": "Water supply, drains, leaks (水电-水).",
        "ELECTRICAL": "Power, lighting, sockets, switches.",
        "HVAC": "Heating, ventilation, air conditioning.",
        "ELEVATOR": "Lifts.",
        "FIRE_SAFETY": "Alarms, extinguishers, sprinklers, emergency lighting.",
        "LOCKSMITH": "Locks, doors, access cards.",
        "CLEANING": "Cleaning and waste.",
        "APPLIANCE": "Household appliances.",
        "GENERAL": "Anything else.",
    },
)
LocaleEnum = described_enum(
    Locale,
    name="Locale",
    description="The language a project speaks to its owners: ZH_CN (简体中文, the default) or EN (English).",
    values={
        "ZH_CN": "简体中文 (Simplified Chinese), the default.",
        "EN": "English.",
    },
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


def _datetime_text(value: Any) -> str:
    """The text `datetime.isoformat` writes. A time in UTC, as every time read from the database is, is
    written by orjson in a third of the time (0.22 µs against 0.65; the board's 50 tickets carry 200
    times), to the same text: microseconds only when there are some, the offset as +00:00. A time in
    another zone goes to `isoformat`, which keeps an offset's seconds where orjson drops them."""
    if type(value) is dt.datetime and value.tzinfo is dt.UTC:
        return orjson.dumps(value)[1:-1].decode()
    return value.isoformat()  # type: ignore[no-any-return]


# Strawberry's DateTime (its name, description and parsing), written faster.
DateTimeScalar: ScalarDefinition = dataclasses.replace(DateTimeDefinition, serialize=_datetime_text)


def scalar_overrides() -> dict[object, ScalarDefinition]:
    return {Upload: UploadScalar, dt.datetime: DateTimeScalar}
