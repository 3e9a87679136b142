"""Use cases for the technician roster: who can be dispatched, with which skills, from where."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Technician
from db.personal_data import (
    InvalidPersonalDataError,
    PersonalDataCipher,
    normalize_phone,
)
from db.unit_of_work import unit_of_work
from dispatch.policy import DISPATCH_STAFF_ONLY, dispatches_in, may_see_technician
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import Category
from register.projects import get_project_for

__all__ = ["MAX_CAPACITY", "create_technician", "update_technician"]

MAX_CAPACITY = 20


def _skills(values: Iterable[str]) -> list[str]:
    known = {category.value for category in Category}
    cleaned = sorted({value.strip().upper() for value in values})
    unknown = [value for value in cleaned if value not in known]
    if unknown:
        raise BadInput(f"Unknown skill(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.", field="skills")
    if not cleaned:
        raise BadInput("A technician needs at least one skill.", field="skills")
    return cleaned


def _capacity(value: int) -> int:
    if not 1 <= value <= MAX_CAPACITY:
        raise BadInput(f"Capacity must be between 1 and {MAX_CAPACITY} open tickets.", field="capacity")
    return value


def _position(latitude: float, longitude: float, prefix: str) -> tuple[float, float]:
    if not -90 <= latitude <= 90:
        raise BadInput("Latitude must be between -90 and 90.", field=f"{prefix}Latitude")
    if not -180 <= longitude <= 180:
        raise BadInput("Longitude must be between -180 and 180.", field=f"{prefix}Longitude")
    return latitude, longitude


def _phone(value: str | None, cipher: PersonalDataCipher) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return cipher.encrypt(normalize_phone(value))
    except InvalidPersonalDataError as error:
        raise BadInput(str(error), field="phone") from None


async def create_technician(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    cipher: PersonalDataCipher,
    project_id: int,
    name: str,
    skills: Iterable[str],
    home_latitude: float,
    home_longitude: float,
    capacity: int = 3,
    phone: str | None = None,
    on_shift: bool = True,
) -> Technician:
    """A technician joins the project's roster, starting out at home (dispatchers and admins)."""
    async with unit_of_work(session_factory) as work:
        await get_project_for(work.session, principal, project_id, allowed=dispatches_in, refusal=DISPATCH_STAFF_ONLY)
        if not name.strip():
            raise BadInput("name must not be empty.", field="name")
        latitude, longitude = _position(home_latitude, home_longitude, "home")
        technician = Technician(
            project_id=project_id,
            name=name.strip()[:200],
            skills=_skills(skills),
            home_latitude=latitude,
            home_longitude=longitude,
            current_latitude=latitude,
            current_longitude=longitude,
            capacity=_capacity(capacity),
            on_shift=on_shift,
            phone_encrypted=_phone(phone, cipher),
        )
        work.session.add(technician)
        await work.session.flush()
    return technician


async def update_technician(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    cipher: PersonalDataCipher,
    technician_id: int,
    name: str | None = None,
    skills: Iterable[str] | None = None,
    capacity: int | None = None,
    on_shift: bool | None = None,
    phone: str | None = None,
    current_latitude: float | None = None,
    current_longitude: float | None = None,
) -> Technician:
    """Dispatchers and admins change the roster; a technician may report their own shift and position."""
    async with unit_of_work(session_factory) as work:
        technician = await work.session.get(Technician, technician_id)
        if technician is None or not may_see_technician(
            principal, project_id=technician.project_id, technician_id=technician.id
        ):
            raise NotFound("No such technician.", field="id")
        manages = dispatches_in(principal, technician.project_id)
        if not manages and (name is not None or skills is not None or capacity is not None or phone is not None):
            raise AccessDenied("Only a dispatcher or admin may change a technician's name, skills, capacity or phone.")
        if name is not None:
            if not name.strip():
                raise BadInput("name must not be empty.", field="name")
            technician.name = name.strip()[:200]
        if skills is not None:
            technician.skills = _skills(skills)
        if capacity is not None:
            technician.capacity = _capacity(capacity)
        if on_shift is not None:
            technician.on_shift = on_shift
        if phone is not None:
            technician.phone_encrypted = _phone(phone, cipher)
        if (current_latitude is None) != (current_longitude is None):
            raise BadInput("Give both latitude and longitude of the current position.", field="currentLatitude")
        if current_latitude is not None and current_longitude is not None:
            technician.current_latitude, technician.current_longitude = _position(
                current_latitude, current_longitude, "current"
            )
        await work.session.flush()
    return technician
