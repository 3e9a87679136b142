"""Parties: the people and companies who own or rent units, with their personal data encrypted at rest."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Party
from db.personal_data import (
    InvalidPersonalDataError,
    PersonalDataCipher,
    normalize_national_id,
    normalize_phone,
)
from db.uniqueness import taken_by_another
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.validation import required_text
from kernel.vocabulary import PartyType
from register.policy import (
    REGISTER_ADMINS_ONLY,
    may_administer_project,
    may_change_party,
    may_see_party,
)
from register.projects import get_project_for

__all__ = ["create_party", "set_personal_data", "update_party"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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


def set_personal_data(party: Party, cipher: PersonalDataCipher, *, phone: str | None, national_id: str | None) -> None:
    """Store a phone and an ID number, both already normalised, encrypted and with the lookup hashes that
    find them; None leaves a value as it is. Every writer of a party's personal data goes through here."""
    if phone is not None:
        party.phone_encrypted = cipher.encrypt(phone)
        party.phone_lookup = cipher.lookup_hash(phone)
    if national_id is not None:
        party.national_id_encrypted = cipher.encrypt(national_id)
        party.national_id_lookup = cipher.lookup_hash(national_id)


async def _check_national_id_free(
    session: AsyncSession, project_id: int, lookup: str, exclude: int | None
) -> None:
    if await taken_by_another(
        session, Party.id, Party.project_id == project_id, Party.national_id_lookup == lookup, exclude=exclude
    ):
        raise Conflict("A party with this ID number is already registered in this project.", field="nationalId")


async def create_party(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    cipher: PersonalDataCipher,
    project_id: int,
    name: str,
    party_type: PartyType = PartyType.PERSON,
    phone: str | None = None,
    national_id: str | None = None,
    email: str | None = None,
) -> Party:
    """A new person or company in a project the caller administers."""
    async with unit_of_work(session_factory) as work:
        await get_project_for(
            work.session, principal, project_id, allowed=may_administer_project, refusal=REGISTER_ADMINS_ONLY
        )
        phone = _personal(phone, "phone", normalize_phone)
        national_id = _personal(national_id, "nationalId", normalize_national_id)
        if national_id is not None:
            await _check_national_id_free(work.session, project_id, cipher.lookup_hash(national_id), exclude=None)
        party = Party(
            project_id=project_id,
            name=required_text(name, "name", max_length=200),
            party_type=party_type,
            email=_email(email),
        )
        set_personal_data(party, cipher, phone=phone, national_id=national_id)
        work.session.add(party)
    return party


async def update_party(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    cipher: PersonalDataCipher,
    party_id: int,
    name: str | None = None,
    phone: str | None = None,
    national_id: str | None = None,
    email: str | None = None,
) -> Party:
    """Admins change anything; a person may change their own phone and e-mail."""
    async with unit_of_work(session_factory) as work:
        party = await work.session.get(Party, party_id)
        if party is None or not may_see_party(principal, project_id=party.project_id, party_id=party.id):
            raise NotFound("No such party.", field="id")
        identity = name is not None or national_id is not None
        if not may_change_party(principal, project_id=party.project_id, party_id=party.id, identity=identity):
            raise AccessDenied("Only an admin may change a party's name or ID number.")
        if name is not None:
            party.name = required_text(name, "name", max_length=200)
        if email is not None:
            party.email = _email(email)
        phone = _personal(phone, "phone", normalize_phone)
        national_id = _personal(national_id, "nationalId", normalize_national_id)
        if national_id is not None:
            await _check_national_id_free(
                work.session, party.project_id, cipher.lookup_hash(national_id), exclude=party.id
            )
        set_personal_data(party, cipher, phone=phone, national_id=national_id)
    return party
