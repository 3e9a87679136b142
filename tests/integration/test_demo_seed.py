"""The demo community of `courtyard serve --demo` / `courtyard seed-demo`, seeded on SQLite and PostgreSQL.

Each database is seeded once per test run, under a secret of its own, by two racing `seed_demo` calls, as two processes starting at
once would (`tests/integration/seeded_demo.py`); the tests read what they left, in a copy of their own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.demo import (
    DEMO_ORGANIZATION,
    DEMO_PASSWORD,
    DEMO_PROJECT,
    DemoSummary,
    demo_logins,
    seed_demo,
)
from db.models import (
    Announcement,
    AnnouncementRecipient,
    Bill,
    Building,
    Invoice,
    Occupancy,
    OccupancyRelation,
    OccupancyStatus,
    Organization,
    Party,
    Payment,
    Project,
    RoleGrant,
    Technician,
    Unit,
    User,
)
from db.personal_data import PersonalDataCipher, normalize_national_id, normalize_phone
from db.session import create_engine, create_session_factory
from kernel.principal import Role
from kernel.vocabulary import AnnouncementStatus, Category, InvoiceColour, PartyType, UnitKind
from register.accounts import load_principal, log_in
from tests.conftest import PostgresServer
from tests.integration.seeded_demo import CIPHERS, TODAY, copy_of_seeded_demo

MOBILE = re.compile(r"1[3-9]\d{9}")
HANGZHOU_LANDLINE = re.compile(r"0571-\d{8}")
CHINESE_PERSONAL_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
ALL_TABLES = (Organization, Project, Building, Unit, Party, Occupancy, Technician, User, RoleGrant)


@contextlib.asynccontextmanager
async def _session_factory(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class SeededDemo:
    database: str
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PersonalDataCipher
    summary: DemoSummary
    progress: list[str]
    losing_result: DemoSummary | None
    losing_progress: list[str]


@contextlib.asynccontextmanager
async def _copy(
    database: str, tmp_path_factory: pytest.TempPathFactory, shared_folder: Path, run_id: str, postgres_server: PostgresServer
) -> AsyncIterator[SeededDemo]:
    async with copy_of_seeded_demo(
        database,
        shared=shared_folder,
        run_id=run_id,
        folder=tmp_path_factory.mktemp("demo"),
        postgres_server=postgres_server,
    ) as demo, _session_factory(demo.url) as session_factory:
        seeding = demo.seeding
        yield SeededDemo(
            database,
            session_factory,
            demo.cipher,
            seeding.summary,
            seeding.progress,
            seeding.losing_result,
            seeding.losing_progress,
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def seeded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    shared_folder: Path,
    run_id: str,
    postgres_server: PostgresServer,
) -> AsyncIterator[SeededDemo]:
    async with _copy(request.param, tmp_path_factory, shared_folder, run_id, postgres_server) as demo:
        yield demo


def _other(database: str) -> str:
    return "postgresql" if database == "sqlite" else "sqlite"


@pytest.fixture(scope="module")
async def other_database_register(
    seeded: SeededDemo,
    tmp_path_factory: pytest.TempPathFactory,
    shared_folder: Path,
    run_id: str,
    postgres_server: PostgresServer,
) -> list[tuple[object, ...]]:
    """The register seeded on the other database, under the other secret."""
    async with _copy(_other(seeded.database), tmp_path_factory, shared_folder, run_id, postgres_server) as demo:
        async with demo.session_factory() as session:
            return await _register_snapshot(session)


async def _table_counts(session: AsyncSession) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model in ALL_TABLES:
        counts[model.__tablename__] = await session.scalar(select(func.count()).select_from(model)) or 0
    return counts


def _metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, point)) for point in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _is_current(occupancy: Occupancy, day: dt.date) -> bool:
    return occupancy.start_date <= day and (occupancy.end_date is None or occupancy.end_date >= day)


async def _unit_by_number(session: AsyncSession, building_name: str, number: str) -> Unit:
    return (
        await session.scalars(
            select(Unit).join(Building, Unit.building_id == Building.id).where(
                Building.name == building_name, Unit.number == number
            )
        )
    ).one()


# --- the fixed list of logins (no database) -------------------------------------------------------


def test_demo_logins_are_three_staff_ten_technicians_and_twenty_owners_in_that_order() -> None:
    emails = [login.email for login in demo_logins()]
    assert emails == [
        "admin@demo.courtyard",
        "finance@demo.courtyard",
        "dispatcher@demo.courtyard",
        *(f"tech{n}@demo.courtyard" for n in range(1, 11)),
        *(f"owner{n}@demo.courtyard" for n in range(1, 21)),
    ]
    assert [login.role for login in demo_logins()][:4] == ["ADMIN", "FINANCE", "DISPATCHER", "TECHNICIAN"]
    assert demo_logins()[-1].role == "OWNER"


def test_owner_logins_name_the_flats_of_building_one_in_number_order() -> None:
    owners = [login for login in demo_logins() if login.role == "OWNER"]
    assert owners[0].description == "owner and resident of 1栋 101"
    assert owners[5].description == "owner and resident of 1栋 106"
    assert owners[6].description == "owner and resident of 1栋 201"
    assert owners[19].description == "owner and resident of 1栋 402"


# --- what one seeding creates ---------------------------------------------------------------------


async def test_summary_counts_match_the_rows_in_the_database(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        counts = await _table_counts(session)
    summary = seeded.summary
    assert counts == {
        "organization": 1,
        "project": 1,
        "building": 3,
        "unit": summary.units,
        "party": summary.parties,
        "occupancy": summary.occupancies,
        "technician": 10,
        "app_user": 33,
        "role_grant": 33,
    }
    assert (summary.buildings, summary.units, summary.technicians, summary.users) == (3, 330, 10, 33)
    assert summary.logins == tuple(demo_logins())


async def test_project_is_a_hangzhou_community_billed_in_yuan(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        organization = (await session.scalars(select(Organization))).one()
        project = (await session.scalars(select(Project))).one()
    assert organization.name == DEMO_ORGANIZATION
    assert (project.name, project.timezone, project.currency) == (DEMO_PROJECT, "Asia/Shanghai", "CNY")
    assert project.organization_id == organization.id == seeded.summary.organization_id


async def test_two_towers_of_apartments_and_a_podium_of_shops_parking_and_storage(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        rows = (await session.execute(select(Building.name, Unit).join(Unit, Unit.building_id == Building.id))).all()
    kinds_by_building: dict[str, Counter[UnitKind]] = defaultdict(Counter)
    for building_name, unit in rows:
        kinds_by_building[building_name][unit.kind] += 1
    assert kinds_by_building == {
        "1栋": Counter({UnitKind.APARTMENT: 120}),
        "2栋": Counter({UnitKind.APARTMENT: 120}),
        "商业裙楼": Counter({UnitKind.SHOP: 20, UnitKind.PARKING_SPACE: 60, UnitKind.STORAGE: 10}),
    }
    tower_numbers = {unit.number for name, unit in rows if name == "1栋"}
    assert {"101", "106", "201", "1503", "2006"} <= tower_numbers
    assert all(unit.floor == int(unit.number[:-2]) for name, unit in rows if name == "1栋")


async def test_floor_areas_are_realistic_and_exact_to_the_hundredth(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        units = (await session.scalars(select(Unit))).all()
    limits = {
        UnitKind.APARTMENT: (Decimal(68), Decimal(145)),
        UnitKind.SHOP: (Decimal(40), Decimal(260)),
        UnitKind.PARKING_SPACE: (Decimal("12.50"), Decimal("12.50")),
        UnitKind.STORAGE: (Decimal(5), Decimal(12)),
    }
    for unit in units:
        low, high = limits[unit.kind]
        assert low <= unit.floor_area <= high, (unit.number, unit.floor_area)
        assert unit.floor_area.as_tuple().exponent == -2
    apartment_areas = {unit.floor_area for unit in units if unit.kind is UnitKind.APARTMENT}
    assert len(apartment_areas) > 100  # surveyed areas differ flat by flat


async def test_buildings_stand_about_100_metres_apart_in_hangzhou(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        buildings = (await session.scalars(select(Building).order_by(Building.name))).all()
    positions = []
    for building in buildings:
        assert building.latitude is not None and building.longitude is not None
        assert abs(building.latitude - 30.27) < 0.01 and abs(building.longitude - 120.15) < 0.01
        positions.append((building.latitude, building.longitude))
    for i, a in enumerate(positions):
        for b in positions[i + 1 :]:
            assert 80 <= _metres_between(a, b) <= 130


# --- logins ---------------------------------------------------------------------------------------


async def test_every_demo_login_exists_with_exactly_its_role_on_the_project(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        users = {user.email: user for user in await session.scalars(select(User))}
        grants = (await session.execute(select(RoleGrant.user_id, RoleGrant.project_id, RoleGrant.role))).all()
    grants_by_user = defaultdict(set)
    for user_id, project_id, role in grants:
        grants_by_user[user_id].add((project_id, role))
    for login in demo_logins():
        user = users[login.email]
        assert user.email == user.email.lower()
        assert user.display_name.strip()
        assert user.is_active
        assert grants_by_user[user.id] == {(seeded.summary.project_id, Role(login.role))}


async def test_all_logins_share_one_hash_that_accepts_the_demo_password(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        hashes = set(await session.scalars(select(User.password_hash)))
    login = await log_in(
        seeded.session_factory, email="Owner1@demo.courtyard", password=DEMO_PASSWORD, client_address="127.0.0.1",
        now=dt.datetime.now(dt.UTC),
    )
    authenticated_email = login.user.email
    assert len(hashes) == 1 and hashes.pop().startswith("$argon2id$")
    assert authenticated_email == "owner1@demo.courtyard"


async def test_tech_n_is_the_nth_technician(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        technicians = (await session.scalars(select(Technician).order_by(Technician.id))).all()
        users = {user.email: user for user in await session.scalars(select(User))}
    for n, technician in enumerate(technicians, start=1):
        user = users[f"tech{n}@demo.courtyard"]
        assert (user.technician_id, user.party_id, user.display_name) == (technician.id, None, technician.name)


async def test_owner_n_owns_and_lives_in_the_nth_flat_of_building_one_today(seeded: SeededDemo) -> None:
    owner_logins = [login for login in demo_logins() if login.role == "OWNER"]
    async with seeded.session_factory() as session:
        for n, login in enumerate(owner_logins, start=1):
            number = login.description.rsplit(" ", 1)[-1]
            flat = await _unit_by_number(session, "1栋", number)
            user = (await session.scalars(select(User).where(User.email == f"owner{n}@demo.courtyard"))).one()
            party = await session.get(Party, user.party_id)
            principal = await load_principal(session, user.id, today=TODAY)
            ownerships = (
                await session.scalars(
                    select(Occupancy).where(
                        Occupancy.unit_id == flat.id, Occupancy.relation == OccupancyRelation.OWNER
                    )
                )
            ).all()
            current_owners = [o.party_id for o in ownerships if _is_current(o, TODAY)]
            assert principal is not None and flat.id in principal.unit_ids
            assert current_owners == [user.party_id]
            assert flat.occupancy_status is OccupancyStatus.SELF_OCCUPIED
            assert party is not None and party.name == user.display_name
    assert owner_logins[0].description.endswith("1栋 101")


async def test_owner1_also_holds_the_first_parking_space_and_storage_room(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        user = (await session.scalars(select(User).where(User.email == "owner1@demo.courtyard"))).one()
        principal = await load_principal(session, user.id, today=TODAY)
        assert principal is not None
        numbers = set(await session.scalars(select(Unit.number).where(Unit.id.in_(principal.unit_ids))))
    assert {"101", "B1-001", "B1-C01"} <= numbers


# --- residents and personal data ------------------------------------------------------------------


async def test_phones_are_encrypted_at_rest_and_decrypt_to_valid_numbers(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        parties = (await session.scalars(select(Party))).all()
        technician_phones = list(await session.scalars(select(Technician.phone_encrypted)))
    phones = []
    for party in parties:
        assert party.phone_encrypted is not None
        phone = seeded.cipher.decrypt(party.phone_encrypted)
        assert phone not in party.phone_encrypted
        assert normalize_phone(phone) == phone
        assert party.phone_lookup == seeded.cipher.lookup_hash(phone)
        shape = MOBILE if party.party_type is PartyType.PERSON else HANGZHOU_LANDLINE
        assert shape.fullmatch(phone), (party.name, phone)
        phones.append(phone)
    for token in technician_phones:
        assert token is not None and MOBILE.fullmatch(seeded.cipher.decrypt(token))
    assert len(set(phones)) == len(phones)


async def test_national_ids_are_valid_unique_and_belong_to_adults(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        parties = (await session.scalars(select(Party))).all()
    seen = set()
    for party in parties:
        if party.party_type is PartyType.COMPANY:
            assert party.national_id_encrypted is None and party.national_id_lookup is None
            continue
        assert party.national_id_encrypted is not None
        national_id = seeded.cipher.decrypt(party.national_id_encrypted)
        assert national_id not in party.national_id_encrypted
        assert normalize_national_id(national_id) == national_id
        assert party.national_id_lookup == seeded.cipher.lookup_hash(national_id)
        birth = dt.date(int(national_id[6:10]), int(national_id[10:12]), int(national_id[12:14]))
        assert dt.date(birth.year + 18, birth.month, min(birth.day, 28)) <= TODAY
        seen.add(national_id)
    persons = [party for party in parties if party.party_type is PartyType.PERSON]
    assert len(seen) == len(persons) > 250


async def test_people_have_chinese_names_and_tenants_of_shops_are_companies(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        parties = (await session.scalars(select(Party))).all()
        shop_tenants = set(
            await session.scalars(
                select(Occupancy.party_id)
                .join(Unit, Occupancy.unit_id == Unit.id)
                .where(Unit.kind == UnitKind.SHOP, Occupancy.relation == OccupancyRelation.TENANT)
            )
        )
    for party in parties:
        if party.party_type is PartyType.PERSON:
            assert CHINESE_PERSONAL_NAME.fullmatch(party.name), party.name
        else:
            assert party.name.startswith("杭州") and party.id in shop_tenants
    assert shop_tenants == {party.id for party in parties if party.party_type is PartyType.COMPANY}
    assert len({party.name for party in parties}) > 200


# --- who lives where ------------------------------------------------------------------------------


async def test_occupancy_status_agrees_with_who_holds_the_unit_today(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        units = (await session.scalars(select(Unit))).all()
        occupancies = (await session.scalars(select(Occupancy))).all()
    by_unit: dict[int, list[Occupancy]] = defaultdict(list)
    for occupancy in occupancies:
        by_unit[occupancy.unit_id].append(occupancy)
    for unit in units:
        current = [o for o in by_unit[unit.id] if _is_current(o, TODAY)]
        owners = [o for o in current if o.relation is OccupancyRelation.OWNER]
        tenants = [o for o in current if o.relation is OccupancyRelation.TENANT]
        assert len(owners) <= 1 and len(tenants) <= 1, unit.number
        if unit.occupancy_status is OccupancyStatus.RENTED:
            assert owners and tenants, unit.number
        elif unit.occupancy_status is OccupancyStatus.SELF_OCCUPIED:
            assert owners and not tenants, unit.number
        else:
            assert unit.occupancy_status is OccupancyStatus.VACANT and not tenants, unit.number
        for relation in OccupancyRelation:
            spans = sorted(
                (o.start_date, o.end_date or dt.date.max) for o in by_unit[unit.id] if o.relation is relation
            )
            assert all(earlier[1] < later[0] for earlier, later in zip(spans, spans[1:])), unit.number


async def test_most_flats_are_owned_and_some_of_those_rented_out(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        flats = (await session.scalars(select(Unit).where(Unit.kind == UnitKind.APARTMENT))).all()
        owned = set(
            await session.scalars(
                select(Occupancy.unit_id).where(
                    Occupancy.relation == OccupancyRelation.OWNER,
                    Occupancy.start_date <= TODAY,
                    Occupancy.end_date.is_(None),
                )
            )
        )
        earlier_tenancies = await session.scalar(
            select(func.count()).select_from(Occupancy).where(Occupancy.end_date < TODAY)
        )
    owned_flats = [flat for flat in flats if flat.id in owned]
    rented = [flat for flat in owned_flats if flat.occupancy_status is OccupancyStatus.RENTED]
    assert 0.80 <= len(owned_flats) / len(flats) <= 0.92
    assert 0.08 <= len(rented) / len(owned_flats) <= 0.22
    assert all(flat.occupancy_status is OccupancyStatus.VACANT for flat in flats if flat.id not in owned)
    assert earlier_tenancies and earlier_tenancies > 10  # resales and ended leases give the register a history


async def test_owned_parking_spaces_belong_to_people_who_own_a_flat(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        rows = (
            await session.execute(
                select(Unit.kind, Occupancy.party_id)
                .join(Unit, Occupancy.unit_id == Unit.id)
                .where(Occupancy.relation == OccupancyRelation.OWNER, Occupancy.end_date.is_(None))
            )
        ).all()
    flat_owners = {party_id for kind, party_id in rows if kind is UnitKind.APARTMENT}
    parking_owners = [party_id for kind, party_id in rows if kind is UnitKind.PARKING_SPACE]
    assert len(parking_owners) == 40
    assert len(set(parking_owners)) == 40 and set(parking_owners) <= flat_owners


# --- technicians ----------------------------------------------------------------------------------


async def test_every_skill_is_covered_by_at_least_two_technicians(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        technicians = (await session.scalars(select(Technician))).all()
    coverage = Counter(skill for technician in technicians for skill in technician.skills)
    assert set(coverage) == {category.value for category in Category}
    assert min(coverage.values()) >= 2
    assert all(technician.skills == sorted(technician.skills) for technician in technicians)


async def test_technicians_live_within_3_km_with_capacities_2_to_5_and_most_on_shift(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        technicians = (await session.scalars(select(Technician))).all()
        podium = (await session.scalars(select(Building).where(Building.name == "商业裙楼"))).one()
    assert podium.latitude is not None and podium.longitude is not None
    community = (podium.latitude, podium.longitude)
    distances = [_metres_between(community, (t.home_latitude, t.home_longitude)) for t in technicians]
    assert all(200 <= distance <= 3_200 for distance in distances)
    assert len({(t.home_latitude, t.home_longitude) for t in technicians}) == 10
    assert {t.capacity for t in technicians} == {2, 3, 4, 5}
    assert sum(t.on_shift for t in technicians) == 8
    assert all(CHINESE_PERSONAL_NAME.fullmatch(t.name) for t in technicians)


# --- seeding again --------------------------------------------------------------------------------


async def test_of_two_racing_seedings_one_creates_the_community_and_the_other_writes_nothing(
    seeded: SeededDemo,
) -> None:
    async with seeded.session_factory() as session:
        organizations = await session.scalar(select(func.count()).select_from(Organization))
    assert seeded.losing_result is None
    assert seeded.losing_progress == []
    assert organizations == 1


async def test_seeding_twice_returns_none_and_adds_nothing(seeded: SeededDemo) -> None:
    async with seeded.session_factory() as session:
        before = await _table_counts(session)
    lines: list[str] = []

    again = await seed_demo(seeded.session_factory, seeded.cipher, today=TODAY, progress=lines.append)

    async with seeded.session_factory() as session:
        after = await _table_counts(session)
    assert again is None
    assert after == before
    assert lines == []


async def test_progress_reports_each_step_with_its_counts(seeded: SeededDemo) -> None:
    summary = seeded.summary
    assert seeded.progress[:-7] == [
        f"organization and project: {DEMO_ORGANIZATION} / {DEMO_PROJECT}",
        "buildings and units: 3 buildings, 330 units (240 apartments, 20 shops, 60 parking spaces, 10 storage rooms)",
        f"owners and tenants: {summary.parties} parties, {summary.occupancies} occupancies",
        "technicians: 10 (8 on shift)",
        f"logins: 33, all with the password {DEMO_PASSWORD}",
    ]
    history = re.fullmatch(
        r"payment history: 21 months before, 6930 bills, all paid after each unit's habit \(always_late (\d+), chronic (\d+), "
        r"late_after_vacancy (\d+), on_time (\d+), sometimes_late (\d+), unsold (\d+) units\)",
        seeded.progress[-7],
    )
    assert history is not None and sum(int(count) for count in history.groups()) == 330, seeded.progress[-7]
    billing = re.fullmatch(
        r"billing: 24 monthly bill runs \(2024-03, 2024-04, .+, 2026-01, 2026-02\), (\d+) bills "
        r"\((\d+) paid, (\d+) partly paid, (\d+) open\), (\d+) payments with receipts",
        seeded.progress[-6],
    )
    assert billing is not None, seeded.progress[-6]
    risk = re.fullmatch(
        r"overdue risk: scorecard trained on (\d+) bills; on the latest quarter AUC (0\.\d+) against the baseline's (0\.\d+), "
        r"top-decile lift (\d\.\d+) against (\d\.\d+): enabled",
        seeded.progress[-5],
    )
    assert risk is not None and float(risk[2]) > float(risk[3]), seeded.progress[-5]
    reconciliation = re.fullmatch(
        r"reconciliation: 2026-02 reconciled each morning: (\d+) WeChat bills from the sandbox and (\d+) bank statements"
        r" imported, (\d+) matches, 53 of 56 account-days closed; open exceptions: AMOUNT_MISMATCH, BANK_UNMATCHED,"
        r" CHANNEL_ONLY, DUPLICATE_CHARGE, REFUND_UNMATCHED, UNRECEIVED; (\d+) payments planted",
        seeded.progress[-4],
    )
    assert reconciliation is not None, seeded.progress[-4]
    dunning = re.fullmatch(
        r"dunning: the default ladder \(repairs wait above ¥2,000.00 overdue\), 31 daily passes: notices .+; "
        r"messages .+; (\d+) owners paid between a pass and the relay",
        seeded.progress[-2],
    )
    assert dunning is not None, seeded.progress[-2]
    invoiced = re.fullmatch(
        r"invoices: (\d+) issued \((\d+) by the batch of 2026-02, one per paying party; the rest automatically after each "
        r"payment\), 1 red-letter correction of a reversed transfer; seller 杭州翠湖物业服务有限公司",
        seeded.progress[-1],
    )
    assert invoiced is not None, seeded.progress[-1]
    async with seeded.session_factory() as session:
        assert int(invoiced[1]) == await session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.colour == InvoiceColour.BLUE)
        )
        assert int(invoiced[2]) == await session.scalar(select(func.count()).select_from(Invoice).where(Invoice.batch_id.is_not(None)))
    bills, paid, partly, still_open, payments = (int(number) for number in billing.groups())
    async with seeded.session_factory() as session:
        assert bills == paid + partly + still_open == await session.scalar(select(func.count()).select_from(Bill))
        planted_or_paid_late = int(reconciliation[4]) + int(dunning[1])
        assert payments + planted_or_paid_late == await session.scalar(select(func.count()).select_from(Payment))
    announced = re.fullmatch(r"announcements: 停水通知 to the residents of 1栋: (\d+) recipients, (\d+) read, (\d+) reminded", seeded.progress[-3])
    assert announced is not None, seeded.progress[-3]
    recipients, read, reminded = (int(number) for number in announced.groups())
    async with seeded.session_factory() as session:
        announcement = (await session.scalars(select(Announcement))).one()
        current_households = await session.scalar(
            select(func.count(func.distinct(Occupancy.party_id)))
            .join(Unit, Unit.id == Occupancy.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(Building.name == "1栋", Occupancy.start_date <= TODAY - dt.timedelta(days=2),
                   or_(Occupancy.end_date.is_(None), Occupancy.end_date >= TODAY - dt.timedelta(days=2)))
        )
        read_receipts = await session.scalar(
            select(func.count()).select_from(AnnouncementRecipient).where(AnnouncementRecipient.read_at.is_not(None))
        )
    assert (announcement.title, announcement.status) == ("停水通知", AnnouncementStatus.PUBLISHED)
    assert recipients == announcement.recipient_count == current_households
    # 14 of the 20 owners with a login read it, 7 before the reminder round and 7 after it.
    assert read == announcement.read_count == read_receipts == 14
    assert reminded == recipients - 7 and announcement.reminders_sent == 1


async def test_the_same_day_gives_the_same_community_on_either_database_under_any_secret(
    seeded: SeededDemo, other_database_register: list[tuple[object, ...]]
) -> None:
    async with seeded.session_factory() as session:
        register = await _register_snapshot(session)
    assert seeded.cipher.lookup_hash("13800000000") != CIPHERS[_other(seeded.database)].lookup_hash("13800000000")
    assert register == other_database_register
    assert len(register) == seeded.summary.occupancies


async def _register_snapshot(session: AsyncSession) -> list[tuple[object, ...]]:
    """Who holds which unit when, by names and numbers (ids and encryption tokens differ between runs)."""
    rows = await session.execute(
        select(
            Unit.number, Unit.floor_area, Unit.occupancy_status, Party.name, Occupancy.relation, Occupancy.start_date
        )
        .join(Occupancy, Occupancy.unit_id == Unit.id)
        .join(Party, Occupancy.party_id == Party.id)
        .order_by(Unit.number, Occupancy.start_date, Party.name)
    )
    return [tuple(row) for row in rows]

