"""Buildings and the units in them.

Someone else's building or unit answers NOT_FOUND; one the caller sees but may not administer answers
FORBIDDEN.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Building, OccupancyStatus, Unit
from db.uniqueness import taken_by_another
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.validation import required_text
from kernel.vocabulary import UnitKind
from register.policy import (
    REGISTER_ADMINS_ONLY,
    may_administer_project,
    may_see_all_units,
    may_see_unit,
)
from register.projects import get_project_for
from register.unit_spreadsheet import MAX_FLOOR_AREA

__all__ = ["create_building", "create_unit", "get_unit_for_admin", "update_building", "update_unit"]

_ADMIN_ONLY = "Requires the ADMIN role in this project."


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


async def _get_building_for_admin(session: AsyncSession, principal: Principal, building_id: int, field: str) -> Building:
    building = await session.get(Building, building_id)
    if building is None or not may_see_all_units(principal, building.project_id):
        raise NotFound("No such building.", field=field)
    if not may_administer_project(principal, building.project_id):
        raise AccessDenied(_ADMIN_ONLY)
    return building


async def get_unit_for_admin(session: AsyncSession, principal: Principal, unit_id: int, *, field: str) -> Unit:
    """The unit, if the caller sees it (else NOT_FOUND) and administers its project (else FORBIDDEN); a step
    inside the caller's transaction."""
    unit = await session.get(Unit, unit_id)
    if unit is None or not may_see_unit(principal, project_id=unit.project_id, unit_id=unit.id):
        raise NotFound("No such unit.", field=field)
    if not may_administer_project(principal, unit.project_id):
        raise AccessDenied(_ADMIN_ONLY)
    return unit


async def _check_building_name_free(session: AsyncSession, project_id: int, name: str, exclude: int | None) -> None:
    if await taken_by_another(
        session, Building.id, Building.project_id == project_id, Building.name == name, exclude=exclude
    ):
        raise Conflict(f"A building named {name!r} already exists in this project.", field="name")


async def create_building(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    name: str,
    latitude: float | None,
    longitude: float | None,
) -> Building:
    """A new building in a project the caller administers."""
    async with unit_of_work(session_factory) as work:
        await get_project_for(
            work.session, principal, project_id, allowed=may_administer_project, refusal=REGISTER_ADMINS_ONLY
        )
        name = required_text(name, "name", max_length=100)
        await _check_building_name_free(work.session, project_id, name, exclude=None)
        building = Building(
            project_id=project_id,
            name=name,
            latitude=_coordinate(latitude, "latitude", 90),
            longitude=_coordinate(longitude, "longitude", 180),
        )
        work.session.add(building)
    return building


async def update_building(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    building_id: int,
    name: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Building:
    """Rename or move a building; project admins only."""
    async with unit_of_work(session_factory) as work:
        building = await _get_building_for_admin(work.session, principal, building_id, "id")
        if name is not None:
            name = required_text(name, "name", max_length=100)
            await _check_building_name_free(work.session, building.project_id, name, exclude=building.id)
            building.name = name
        if latitude is not None:
            building.latitude = _coordinate(latitude, "latitude", 90)
        if longitude is not None:
            building.longitude = _coordinate(longitude, "longitude", 180)
    return building


async def _check_unit_number_free(session: AsyncSession, building_id: int, number: str, exclude: int | None) -> None:
    if await taken_by_another(session, Unit.id, Unit.building_id == building_id, Unit.number == number, exclude=exclude):
        raise Conflict(f"Unit {number!r} already exists in this building.", field="number")


async def create_unit(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    building_id: int,
    number: str,
    floor: int,
    floor_area: Decimal,
    kind: UnitKind,
    occupancy_status: OccupancyStatus = OccupancyStatus.VACANT,
) -> Unit:
    """A new unit in a building of a project the caller administers."""
    async with unit_of_work(session_factory) as work:
        building = await _get_building_for_admin(work.session, principal, building_id, "buildingId")
        number = required_text(number, "number", max_length=32)
        await _check_unit_number_free(work.session, building.id, number, exclude=None)
        unit = Unit(
            project_id=building.project_id,
            building_id=building.id,
            number=number,
            floor=_floor(floor),
            floor_area=_floor_area(floor_area),
            kind=kind,
            occupancy_status=occupancy_status,
        )
        work.session.add(unit)
    return unit


async def update_unit(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    unit_id: int,
    number: str | None = None,
    floor: int | None = None,
    floor_area: Decimal | None = None,
    kind: UnitKind | None = None,
    occupancy_status: OccupancyStatus | None = None,
) -> Unit:
    """Change a unit's number, floor, area, kind or occupancy status; project admins only."""
    async with unit_of_work(session_factory) as work:
        unit = await get_unit_for_admin(work.session, principal, unit_id, field="id")
        if number is not None:
            number = required_text(number, "number", max_length=32)
            await _check_unit_number_free(work.session, unit.building_id, number, exclude=unit.id)
            unit.number = number
        if floor is not None:
            unit.floor = _floor(floor)
        if floor_area is not None:
            unit.floor_area = _floor_area(floor_area)
        if kind is not None:
            unit.kind = kind
        if occupancy_status is not None:
            unit.occupancy_status = occupancy_status
    return unit
