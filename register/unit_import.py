"""Importing a unit register spreadsheet: every row's building, unit, owner and occupancy, or nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Building,
    Occupancy,
    OccupancyRelation,
    OccupancyStatus,
    Party,
    Unit,
)
from db.personal_data import PersonalDataCipher
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.vocabulary import PartyType, UnitKind
from register.parties import set_personal_data
from register.policy import REGISTER_ADMINS_ONLY, may_administer_project
from register.projects import get_project_for
from register.unit_spreadsheet import (
    ImportRejected,
    RowError,
    UnitImportReport,
    parse_unit_register,
)

__all__ = ["ImportSummary", "import_units"]


@dataclass(frozen=True)
class ImportSummary:
    buildings_created: int
    units_created: int
    parties_created: int
    occupancies_created: int


async def import_units(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    cipher: PersonalDataCipher,
    now: dt.datetime,
    project_id: int,
    content: bytes,
    filename: str,
) -> ImportSummary:
    """Create every row's building, unit, owner and occupancy — all rows, or none with every reason."""
    # Read before the transaction opens: a large workbook takes seconds, and on SQLite the unit of work
    # holds the database's write lock.
    report = await asyncio.to_thread(parse_unit_register, content, filename)
    async with unit_of_work(session_factory) as work:
        await get_project_for(
            work.session, principal, project_id, allowed=may_administer_project, refusal=REGISTER_ADMINS_ONLY
        )
        if not report.ok:
            raise ImportRejected(f"{len(report.errors)} problem(s) found; nothing was imported.", report.errors)
        if not report.rows:
            raise BadInput("The file has no data rows.", field="file")
        summary = await _write(work.session, cipher, project_id=project_id, report=report, today=now.date())
    return summary


async def _write(
    session: AsyncSession, cipher: PersonalDataCipher, *, project_id: int, report: UnitImportReport, today: dt.date
) -> ImportSummary:
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
            set_personal_data(party, cipher, phone=row.phone, national_id=row.national_id)
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
    return ImportSummary(
        buildings_created=len(new_buildings),
        units_created=len(units),
        parties_created=len(new_parties),
        occupancies_created=len(owners),
    )
