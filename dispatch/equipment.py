"""The equipment ledger and preventive maintenance: plant with a maintenance interval, its history, and
the maintenance tickets Courtyard opens when a piece falls due (closing one records the maintenance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Building,
    Equipment,
    EquipmentKind,
    LocationKind,
    MaintenanceRecord,
    Project,
    Ticket,
    TicketEvent,
    TicketKind,
)
from db.unit_of_work import unit_of_work
from dispatch.intake import file_ticket
from dispatch.policy import DISPATCH_STAFF_ONLY, dispatches_in, may_see_equipment
from dispatch.ticket_state import (
    SYSTEM,
    project_settings,
    technician_in_project,
)
from dispatch.unit_of_work import TicketChanges
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.validation import optional_text, required_text
from kernel.vocabulary import Category, Priority, TicketEventType, TicketStatus
from register.projects import get_project_for

__all__ = [
    "EQUIPMENT_SKILLS",
    "MAX_INTERVAL_DAYS",
    "create_equipment",
    "get_equipment_for",
    "local_today",
    "open_maintenance_ticket",
    "record_maintenance",
    "record_ticket_maintenance",
    "update_equipment",
]

MAX_INTERVAL_DAYS = 3660
# The skill a maintenance job on each kind of plant needs.
EQUIPMENT_SKILLS: Mapping[EquipmentKind, Category] = {
    EquipmentKind.LIFT: Category.ELEVATOR,
    EquipmentKind.WATER_PUMP: Category.PLUMBING,
    EquipmentKind.FIRE_SYSTEM: Category.FIRE_SAFETY,
    EquipmentKind.GENERATOR: Category.ELECTRICAL,
    EquipmentKind.HVAC_PLANT: Category.HVAC,
    EquipmentKind.ACCESS_GATE: Category.LOCKSMITH,
    EquipmentKind.OTHER: Category.GENERAL,
}


def local_today(timezone: str, now: dt.datetime) -> dt.date:
    """The calendar date at `now` where the project is."""
    return now.astimezone(ZoneInfo(timezone)).date()


def _interval(days: int) -> int:
    if not 1 <= days <= MAX_INTERVAL_DAYS:
        raise BadInput(
            f"The maintenance interval must be between 1 and {MAX_INTERVAL_DAYS} days.", field="maintenanceIntervalDays"
        )
    return days


async def _building_in(session: AsyncSession, building_id: int | None, project_id: int) -> int | None:
    if building_id is None:
        return None
    building = await session.get(Building, building_id)
    if building is None or building.project_id != project_id:
        raise NotFound("No such building in this project.", field="buildingId")
    return building.id


async def _name_free(session: AsyncSession, project_id: int, name: str, exclude: int | None) -> None:
    query = select(Equipment.id).where(Equipment.project_id == project_id, Equipment.name == name)
    if exclude is not None:
        query = query.where(Equipment.id != exclude)
    if await session.scalar(query):
        raise BadInput(f"Equipment named {name!r} is already in the ledger.", field="name")


async def get_equipment_for(
    session: AsyncSession, principal: Principal, equipment_id: int, *, field: str = "equipmentId"
) -> Equipment:
    """Equipment is seen by the project's staff and technicians."""
    equipment = await session.get(Equipment, equipment_id)
    if equipment is None or not may_see_equipment(principal, equipment.project_id):
        raise NotFound("No such equipment.", field=field)
    return equipment


async def _ledger_entry_for(session: AsyncSession, principal: Principal, equipment_id: int, *, field: str) -> Equipment:
    """Equipment whose ledger the caller keeps (dispatchers and admins of its project)."""
    equipment = await get_equipment_for(session, principal, equipment_id, field=field)
    if not dispatches_in(principal, equipment.project_id):
        raise AccessDenied("Only dispatchers and admins keep the equipment ledger.")
    return equipment


async def create_equipment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    name: str,
    kind: EquipmentKind,
    install_date: dt.date,
    maintenance_interval_days: int,
    building_id: int | None = None,
    model: str | None = None,
    serial_number: str | None = None,
    location: str | None = None,
    last_maintained_on: dt.date | None = None,
) -> Equipment:
    """A new ledger entry; its first maintenance falls due one interval after the last (or installation)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        await get_project_for(session, principal, project_id, allowed=dispatches_in, refusal=DISPATCH_STAFF_ONLY)
        cleaned = required_text(name, "name", max_length=200)
        await _name_free(session, project_id, cleaned, exclude=None)
        interval = _interval(maintenance_interval_days)
        if last_maintained_on is not None and last_maintained_on < install_date:
            raise BadInput("Maintenance cannot predate installation.", field="lastMaintainedOn")
        equipment = Equipment(
            project_id=project_id,
            building_id=await _building_in(session, building_id, project_id),
            name=cleaned,
            kind=kind,
            model=optional_text(model, "model", max_length=200),
            serial_number=optional_text(serial_number, "serialNumber", max_length=100),
            location=optional_text(location, "location", max_length=200),
            install_date=install_date,
            maintenance_interval_days=interval,
            last_maintained_on=last_maintained_on,
            next_due_on=(last_maintained_on or install_date) + dt.timedelta(days=interval),
        )
        session.add(equipment)
        await session.flush()
    return equipment


async def update_equipment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    equipment_id: int,
    name: str | None = None,
    model: str | None = None,
    serial_number: str | None = None,
    location: str | None = None,
    building_id: int | None = None,
    maintenance_interval_days: int | None = None,
    next_due_on: dt.date | None = None,
    is_active: bool | None = None,
) -> Equipment:
    """Change a ledger entry; a new interval moves the next due date, `next_due_on` sets it outright."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        equipment = await _ledger_entry_for(session, principal, equipment_id, field="id")
        if name is not None:
            cleaned = required_text(name, "name", max_length=200)
            await _name_free(session, equipment.project_id, cleaned, exclude=equipment.id)
            equipment.name = cleaned
        if model is not None:
            equipment.model = optional_text(model, "model", max_length=200)
        if serial_number is not None:
            equipment.serial_number = optional_text(serial_number, "serialNumber", max_length=100)
        if location is not None:
            equipment.location = optional_text(location, "location", max_length=200)
        if building_id is not None:
            equipment.building_id = await _building_in(session, building_id, equipment.project_id)
        if maintenance_interval_days is not None:
            equipment.maintenance_interval_days = _interval(maintenance_interval_days)
            base = equipment.last_maintained_on or equipment.install_date
            equipment.next_due_on = base + dt.timedelta(days=equipment.maintenance_interval_days)
        if next_due_on is not None:
            equipment.next_due_on = next_due_on
        if is_active is not None:
            equipment.is_active = is_active
        await session.flush()
    return equipment


def _maintained(equipment: Equipment, performed_on: dt.date) -> None:
    if equipment.last_maintained_on is None or performed_on >= equipment.last_maintained_on:
        equipment.last_maintained_on = performed_on
        equipment.next_due_on = performed_on + dt.timedelta(days=equipment.maintenance_interval_days)


async def record_maintenance(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    equipment_id: int,
    performed_on: dt.date,
    notes: str | None = None,
    technician_id: int | None = None,
) -> MaintenanceRecord:
    """Maintenance done outside a ticket (a contractor's visit, an inspection), entered by staff; it may
    not be dated after `now`'s (UTC) date."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        equipment = await _ledger_entry_for(session, principal, equipment_id, field="equipmentId")
        if performed_on > now.date():
            raise BadInput("Maintenance cannot be recorded for a future date.", field="performedOn")
        if performed_on < equipment.install_date:
            raise BadInput("Maintenance cannot predate installation.", field="performedOn")
        if technician_id is not None:
            await technician_in_project(session, technician_id, equipment.project_id, field="technicianId")
        record = MaintenanceRecord(
            equipment_id=equipment.id,
            performed_on=performed_on,
            notes=optional_text(notes, "notes", max_length=2000),
            technician_id=technician_id,
            recorded_by_user_id=principal.user_id,
        )
        session.add(record)
        _maintained(equipment, performed_on)
        await session.flush()
    return record


async def record_ticket_maintenance(
    session: AsyncSession, ticket: Ticket, *, recorded_by_user_id: int | None, today: dt.date
) -> MaintenanceRecord | None:
    """Closing a maintenance ticket records the maintenance: done on the day it was resolved, by the
    technician who resolved it, with their resolution notes."""
    if ticket.kind is not TicketKind.MAINTENANCE or ticket.equipment_id is None:
        return None
    equipment = await session.get(Equipment, ticket.equipment_id, with_for_update={"key_share": True})
    if equipment is None:
        return None
    project = await session.get(Project, ticket.project_id)
    assert project is not None
    resolved_on = local_today(project.timezone, ticket.resolved_at) if ticket.resolved_at else today
    note = await session.scalar(
        select(TicketEvent.payload)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.type == TicketEventType.RESOLVED)
        .order_by(TicketEvent.seq.desc())
        .limit(1)
    )
    record = MaintenanceRecord(
        equipment_id=equipment.id,
        ticket_id=ticket.id,
        technician_id=ticket.assignee_id,
        performed_on=resolved_on,
        notes=(note or {}).get("note"),
        recorded_by_user_id=recorded_by_user_id,
    )
    session.add(record)
    _maintained(equipment, resolved_on)
    return record


def _location_kind(kind: EquipmentKind) -> LocationKind:
    if kind is EquipmentKind.LIFT:
        return LocationKind.LIFT
    if kind is EquipmentKind.ACCESS_GATE:
        return LocationKind.LOBBY
    return LocationKind.PLANT_ROOM


async def open_maintenance_ticket(changes: TicketChanges, equipment: Equipment, *, now: dt.datetime) -> Ticket:
    """A NEW maintenance ticket for equipment that fell due, filed by Courtyard itself and dispatched like
    any other."""
    skill = EQUIPMENT_SKILLS[EquipmentKind(equipment.kind)]
    described = " ".join(part for part in (equipment.name, equipment.model and f"({equipment.model})") if part)
    where = f" at {equipment.location}" if equipment.location else ""
    return await file_ticket(
        changes,
        Ticket(
            project_id=equipment.project_id,
            kind=TicketKind.MAINTENANCE,
            location_kind=_location_kind(EquipmentKind(equipment.kind)),
            building_id=equipment.building_id,
            location_detail=equipment.location,
            equipment_id=equipment.id,
            description=f"Scheduled maintenance of {described}{where}, due {equipment.next_due_on.isoformat()}.",
            category=skill,
            priority=Priority.NORMAL,
            status=TicketStatus.NEW,
        ),
        actor=SYSTEM,
        settings=await project_settings(changes.session, equipment.project_id),
        now=now,
        details={"equipment": equipment.id, "dueOn": equipment.next_due_on.isoformat()},
    )
