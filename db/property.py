"""Use cases of the property register: projects, buildings, units, parties and who occupies what.

Every function takes the acting `Principal`, checks it per object (someone else's object answers
NOT_FOUND, a visible object the role may not change answers FORBIDDEN), validates its input and changes
rows in the caller's transaction; the caller commits once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Building,
    Occupancy,
    OccupancyRelation,
    OccupancyStatus,
    Party,
    Project,
    RoleGrant,
    Unit,
)
from db.personal_data import (
    InvalidPersonalDataError,
    PersonalDataCipher,
    normalize_national_id,
    normalize_phone,
)
from db.unit_import import RowError, UnitImportReport
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import PartyType, UnitKind

__all__ = [
    "ImportRejected",
    "ImportSummary",
    "create_building",
    "create_occupancy",
    "create_party",
    "create_project",
    "create_unit",
    "get_project_for",
    "import_units",
    "update_building",
    "update_occupancy",
    "update_party",
    "update_project",
    "update_unit",
]

_CURRENCY = re.compile(r"[A-Z]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_FLOOR_AREA = Decimal("100000")


class ImportRejected(BadInput):
    def __init__(self, message: str, row_errors: tuple[object, ...]) -> None:
        super().__init__(message, field="file")
        self.row_errors = row_errors


@dataclass(frozen=True)
class ImportSummary:
    buildings_created: int
    units_created: int
    parties_created: int
    occupancies_created: int


def _text(value: str, field: str, *, max_length: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise BadInput(f"{field} must not be empty.", field=field)
    if len(cleaned) > max_length:
        raise BadInput(f"{field} must be at most {max_length} characters.", field=field)
    return cleaned


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"Unknown time zone {value!r}; use an IANA name such as Asia/Shanghai.", field="timezone") from None
    return value


def _currency(value: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise BadInput("Currency must be a three-letter ISO 4217 code such as CNY.", field="currency")
    return value


def _coordinate(value: float | None, field: str, limit: float) -> float | None:
    if value is not None and not -limit <= value <= limit:
        raise BadInput(f"{field} must be between -{limit:g} and {limit:g}.", field=field)
    return value


def _floor_area(value: Decimal) -> Decimal:
    try:
        area = Decimal(value)
    except (InvalidOperation, TypeError):
        raise BadInput("Floor area must be a number of square metres.", field="floorArea") from None
    if not area.is_finite() or area <= 0:
        raise BadInput("Floor area must be greater than 0.", field="floorArea")
    if area > MAX_FLOOR_AREA:
        raise BadInput(f"Floor area must be at most {MAX_FLOOR_AREA} m².", field="floorArea")
    quantized = area.quantize(Decimal("0.01"))
    if area != quantized:
        raise BadInput("Floor area may have at most two decimal places.", field="floorArea")
    return quantized


def _floor(value: int) -> int:
    if not -10 <= value <= 200:
        raise BadInput("Floor must be between -10 and 200.", field="floor")
    return value


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip().lower()
    if not _EMAIL.fullmatch(cleaned):
        raise BadInput("E-mail address is not valid.", field="email")
    return cleaned


def _personal(value: str | None, field: str, normalise: Callable[[str], str]) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalise(value)
    except InvalidPersonalDataError as error:
        raise BadInput(str(error), field=field) from None


async def get_project_for(
    session: AsyncSession, principal: Principal, project_id: int, *roles: Role, field: str = "projectId"
) -> Project:
    """The project, if the caller may see it and holds one of `roles` there."""
    project = await session.get(Project, project_id)
    if project is None or project_id not in principal.project_ids:
        raise NotFound("No such project.", field=field)
    if roles and not principal.has_role(project_id, *roles):
        raise AccessDenied(f"Requires one of the roles {', '.join(r.value for r in roles)} in this project.")
    return project


async def _building_for_admin(session: AsyncSession, principal: Principal, building_id: int, field: str) -> Building:
    building = await session.get(Building, building_id)
    if building is None or not principal.can_see_unit(building.project_id, -1):
        raise NotFound("No such building.", field=field)
    if not principal.has_role(building.project_id, Role.ADMIN):
        raise AccessDenied("Requires the ADMIN role in this project.")
    return building


async def _unit_for_admin(session: AsyncSession, principal: Principal, unit_id: int, field: str) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None or not principal.can_see_unit(unit.project_id, unit.id):
        raise NotFound("No such unit.", field=field)
    if not principal.has_role(unit.project_id, Role.ADMIN):
        raise AccessDenied("Requires the ADMIN role in this project.")
    return unit


async def create_project(
    session: AsyncSession,
    principal: Principal,
    *,
    name: str,
    timezone: str,
    currency: str,
    organization_id: int | None,
) -> Project:
    """A new project in an organization where the caller is an admin; the caller becomes its admin."""
    admin_projects = principal.projects_with(Role.ADMIN)
    organizations = set(
        await session.scalars(select(Project.organization_id).where(Project.id.in_(sorted(admin_projects))))
    )
    if not organizations:
        raise AccessDenied("Requires the ADMIN role in a project of the organization.")
    if organization_id is None:
        if len(organizations) > 1:
            raise BadInput("You administer several organizations: name one.", field="organizationId")
        organization_id = organizations.pop()
    elif organization_id not in organizations:
        raise NotFound("No such organization.", field="organizationId")
    name = _text(name, "name", max_length=200)
    if await session.scalar(
        select(Project.id).where(Project.organization_id == organization_id, Project.name == name)
    ):
        raise Conflict(f"A project named {name!r} already exists.", field="name")
    project = Project(
        organization_id=organization_id,
        name=name,
        timezone=_timezone(timezone),
        currency=_currency(currency),
        settings={},
    )
    session.add(project)
    await session.flush()
    session.add(RoleGrant(user_id=principal.user_id, project_id=project.id, role=Role.ADMIN))
    await session.flush()
    return project


async def update_project(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    name: str | None = None,
    timezone: str | None = None,
    currency: str | None = None,
) -> Project:
    project = await get_project_for(session, principal, project_id, Role.ADMIN, field="id")
    if name is not None:
        name = _text(name, "name", max_length=200)
        clash = await session.scalar(
            select(Project.id).where(
                Project.organization_id == project.organization_id, Project.name == name, Project.id != project.id
            )
        )
        if clash:
            raise Conflict(f"A project named {name!r} already exists.", field="name")
        project.name = name
    if timezone is not None:
        project.timezone = _timezone(timezone)
    if currency is not None:
        project.currency = _currency(currency)
    await session.flush()
    return project


async def _check_building_name_free(session: AsyncSession, project_id: int, name: str, exclude: int | None) -> None:
    query = select(Building.id).where(Building.project_id == project_id, Building.name == name)
    if exclude is not None:
        query = query.where(Building.id != exclude)
    if await session.scalar(query):
        raise Conflict(f"A building named {name!r} already exists in this project.", field="name")


async def create_building(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    name: str,
    latitude: float | None,
    longitude: float | None,
) -> Building:
    await get_project_for(session, principal, project_id, Role.ADMIN)
    name = _text(name, "name", max_length=100)
    await _check_building_name_free(session, project_id, name, exclude=None)
    building = Building(
        project_id=project_id,
        name=name,
        latitude=_coordinate(latitude, "latitude", 90),
        longitude=_coordinate(longitude, "longitude", 180),
    )
    session.add(building)
    await session.flush()
    return building


async def update_building(
    session: AsyncSession,
    principal: Principal,
    *,
    building_id: int,
    name: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Building:
    building = await _building_for_admin(session, principal, building_id, "id")
    if name is not None:
        name = _text(name, "name", max_length=100)
        await _check_building_name_free(session, building.project_id, name, exclude=building.id)
        building.name = name
    if latitude is not None:
        building.latitude = _coordinate(latitude, "latitude", 90)
    if longitude is not None:
        building.longitude = _coordinate(longitude, "longitude", 180)
    await session.flush()
    return building


async def _check_unit_number_free(session: AsyncSession, building_id: int, number: str, exclude: int | None) -> None:
    query = select(Unit.id).where(Unit.building_id == building_id, Unit.number == number)
    if exclude is not None:
        query = query.where(Unit.id != exclude)
    if await session.scalar(query):
        raise Conflict(f"Unit {number!r} already exists in this building.", field="number")


async def create_unit(
    session: AsyncSession,
    principal: Principal,
    *,
    building_id: int,
    number: str,
    floor: int,
    floor_area: Decimal,
    kind: UnitKind,
    occupancy_status: OccupancyStatus = OccupancyStatus.VACANT,
) -> Unit:
    building = await _building_for_admin(session, principal, building_id, "buildingId")
    number = _text(number, "number", max_length=32)
    await _check_unit_number_free(session, building.id, number, exclude=None)
    unit = Unit(
        project_id=building.project_id,
        building_id=building.id,
        number=number,
        floor=_floor(floor),
        floor_area=_floor_area(floor_area),
        kind=kind,
        occupancy_status=occupancy_status,
    )
    session.add(unit)
    await session.flush()
    return unit


async def update_unit(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: int,
    number: str | None = None,
    floor: int | None = None,
    floor_area: Decimal | None = None,
    kind: UnitKind | None = None,
    occupancy_status: OccupancyStatus | None = None,
) -> Unit:
    unit = await _unit_for_admin(session, principal, unit_id, "id")
    if number is not None:
        number = _text(number, "number", max_length=32)
        await _check_unit_number_free(session, unit.building_id, number, exclude=unit.id)
        unit.number = number
    if floor is not None:
        unit.floor = _floor(floor)
    if floor_area is not None:
        unit.floor_area = _floor_area(floor_area)
    if kind is not None:
        unit.kind = kind
    if occupancy_status is not None:
        unit.occupancy_status = occupancy_status
    await session.flush()
    return unit


def _set_personal_data(party: Party, cipher: PersonalDataCipher, *, phone: str | None, national_id: str | None) -> None:
    if phone is not None:
        party.phone_encrypted = cipher.encrypt(phone)
        party.phone_lookup = cipher.lookup_hash(phone)
    if national_id is not None:
        party.national_id_encrypted = cipher.encrypt(national_id)
        party.national_id_lookup = cipher.lookup_hash(national_id)


async def _check_national_id_free(
    session: AsyncSession, project_id: int, lookup: str, exclude: int | None
) -> None:
    query = select(Party.id).where(Party.project_id == project_id, Party.national_id_lookup == lookup)
    if exclude is not None:
        query = query.where(Party.id != exclude)
    if await session.scalar(query):
        raise Conflict("A party with this ID number is already registered in this project.", field="nationalId")


async def create_party(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    *,
    project_id: int,
    name: str,
    party_type: PartyType = PartyType.PERSON,
    phone: str | None = None,
    national_id: str | None = None,
    email: str | None = None,
) -> Party:
    await get_project_for(session, principal, project_id, Role.ADMIN)
    phone = _personal(phone, "phone", normalize_phone)
    national_id = _personal(national_id, "nationalId", normalize_national_id)
    if national_id is not None:
        await _check_national_id_free(session, project_id, cipher.lookup_hash(national_id), exclude=None)
    party = Party(
        project_id=project_id, name=_text(name, "name", max_length=200), party_type=party_type, email=_email(email)
    )
    _set_personal_data(party, cipher, phone=phone, national_id=national_id)
    session.add(party)
    await session.flush()
    return party


async def update_party(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    *,
    party_id: int,
    name: str | None = None,
    phone: str | None = None,
    national_id: str | None = None,
    email: str | None = None,
) -> Party:
    """Admins change anything; a person may change their own phone and e-mail."""
    party = await session.get(Party, party_id)
    if party is None or not principal.can_see_party(party.project_id, party.id):
        raise NotFound("No such party.", field="id")
    is_admin = principal.has_role(party.project_id, Role.ADMIN)
    if not is_admin and (party.id != principal.party_id or name is not None or national_id is not None):
        raise AccessDenied("Only an admin may change a party's name or ID number.")
    if name is not None:
        party.name = _text(name, "name", max_length=200)
    if email is not None:
        party.email = _email(email)
    phone = _personal(phone, "phone", normalize_phone)
    national_id = _personal(national_id, "nationalId", normalize_national_id)
    if national_id is not None:
        await _check_national_id_free(session, party.project_id, cipher.lookup_hash(national_id), exclude=party.id)
    _set_personal_data(party, cipher, phone=phone, national_id=national_id)
    await session.flush()
    return party


def _check_dates(start_date: dt.date, end_date: dt.date | None) -> None:
    if end_date is not None and end_date < start_date:
        raise BadInput("End date must not be before the start date.", field="endDate")


async def create_occupancy(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: int,
    party_id: int,
    relation: OccupancyRelation,
    start_date: dt.date,
    end_date: dt.date | None = None,
) -> Occupancy:
    unit = await _unit_for_admin(session, principal, unit_id, "unitId")
    party = await session.get(Party, party_id)
    if party is None or party.project_id != unit.project_id:
        raise NotFound("No such party in this unit's project.", field="partyId")
    _check_dates(start_date, end_date)
    occupancy = Occupancy(
        unit_id=unit.id, party_id=party.id, relation=relation, start_date=start_date, end_date=end_date
    )
    session.add(occupancy)
    await session.flush()
    return occupancy


async def update_occupancy(
    session: AsyncSession,
    principal: Principal,
    *,
    occupancy_id: int,
    relation: OccupancyRelation | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> Occupancy:
    occupancy = await session.get(Occupancy, occupancy_id)
    unit = await session.get(Unit, occupancy.unit_id) if occupancy else None
    if occupancy is None or unit is None or not principal.is_staff_of(unit.project_id):
        raise NotFound("No such occupancy.", field="id")
    if not principal.has_role(unit.project_id, Role.ADMIN):
        raise AccessDenied("Requires the ADMIN role in this project.")
    if relation is not None:
        occupancy.relation = relation
    if start_date is not None:
        occupancy.start_date = start_date
    if end_date is not None:
        occupancy.end_date = end_date
    _check_dates(occupancy.start_date, occupancy.end_date)
    await session.flush()
    return occupancy


async def import_units(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    *,
    project_id: int,
    report: UnitImportReport,
    today: dt.date,
) -> ImportSummary:
    """Create every row's building, unit, owner and occupancy — all rows, or none with every reason."""
    await get_project_for(session, principal, project_id, Role.ADMIN)
    if not report.ok:
        raise ImportRejected(f"{len(report.errors)} problem(s) found; nothing was imported.", report.errors)
    if not report.rows:
        raise BadInput("The file has no data rows.", field="file")

    buildings = {b.name: b for b in await session.scalars(select(Building).where(Building.project_id == project_id))}
    existing_units = {
        (building_name, number)
        for building_name, number in await session.execute(
            select(Building.name, Unit.number).join(Unit, Unit.building_id == Building.id).where(
                Building.project_id == project_id
            )
        )
    }
    parties_by_id_number = {
        p.national_id_lookup: p
        for p in await session.scalars(
            select(Party).where(Party.project_id == project_id, Party.national_id_lookup.is_not(None))
        )
    }
    clashes = tuple(
        RowError(row.row_number, "unit_number", f"unit {row.building}-{row.unit_number} already exists")
        for row in report.rows
        if (row.building, row.unit_number) in existing_units
    )
    if clashes:
        raise ImportRejected(f"{len(clashes)} problem(s) found; nothing was imported.", clashes)

    new_buildings = [
        Building(project_id=project_id, name=name)
        for name in dict.fromkeys(row.building for row in report.rows)
        if name not in buildings
    ]
    session.add_all(new_buildings)
    await session.flush()
    buildings.update({b.name: b for b in new_buildings})

    units: list[Unit] = []
    owners: list[tuple[Unit, Party]] = []
    new_parties: list[Party] = []
    for row in report.rows:
        unit = Unit(
            project_id=project_id,
            building_id=buildings[row.building].id,
            number=row.unit_number,
            floor=row.floor,
            floor_area=row.floor_area,
            kind=UnitKind(row.kind),
            occupancy_status=OccupancyStatus.SELF_OCCUPIED if row.owner_name else OccupancyStatus.VACANT,
        )
        units.append(unit)
        if not row.owner_name:
            continue
        lookup = cipher.lookup_hash(row.national_id) if row.national_id else None
        party = parties_by_id_number.get(lookup) if lookup else None
        if party is None:
            party = Party(project_id=project_id, name=row.owner_name, party_type=PartyType.PERSON)
            _set_personal_data(party, cipher, phone=row.phone, national_id=row.national_id)
            new_parties.append(party)
            if lookup:
                parties_by_id_number[lookup] = party
        owners.append((unit, party))
    session.add_all(units)
    session.add_all(new_parties)
    await session.flush()
    session.add_all(
        Occupancy(unit_id=unit.id, party_id=party.id, relation=OccupancyRelation.OWNER, start_date=today)
        for unit, party in owners
    )
    await session.flush()
    return ImportSummary(
        buildings_created=len(new_buildings),
        units_created=len(units),
        parties_created=len(new_parties),
        occupancies_created=len(owners),
    )
