"""The demo community behind `courtyard serve --demo` and `courtyard seed-demo`.

翠湖花园 (Emerald Lake Garden) in Hangzhou: two residential towers and a podium of shops, parking
spaces and storage rooms, their owners and tenants, ten technicians and one login per role. Everything
comes from fixed tables and one `random.Random(2026)`, with dates counted back from `today`, so seeding
on the same day always gives the same community (only the encryption tokens differ).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.demo_announcements import DEMO_ANNOUNCEMENT_TITLE, seed_announcements
from api.demo_billing import seed_billing
from api.demo_dispatch import seed_dispatch
from api.demo_dunning import seed_dunning
from api.demo_invoicing import seed_invoicing
from db.models import (
    Building,
    Occupancy,
    OccupancyRelation,
    OccupancyStatus,
    Organization,
    Party,
    Project,
    RoleGrant,
    Technician,
    Unit,
    User,
)
from db.personal_data import PersonalDataCipher, national_id_check_character
from db.unit_of_work import unit_of_work
from kernel.errors import Conflict
from kernel.principal import Principal, Role
from kernel.vocabulary import Category, Locale, PartyType, UnitKind
from register.accounts import hash_password
from register.parties import set_personal_data

__all__ = [
    "DEMO_EMAIL_DOMAIN",
    "DEMO_ORGANIZATION",
    "DEMO_PASSWORD",
    "DEMO_PROJECT",
    "DemoLogin",
    "DemoSummary",
    "demo_logins",
    "seed_demo",
]

DEMO_PASSWORD = "courtyard-demo"
DEMO_ORGANIZATION = "青苑物业服务有限公司"
DEMO_PROJECT = "翠湖花园 Emerald Lake Garden"
DEMO_EMAIL_DOMAIN = "demo.courtyard"

_SEED = 2026
_OWNER_LOGINS = 20
_TIMEZONE = "Asia/Shanghai"
_CURRENCY = "CNY"


@dataclass(frozen=True)
class DemoLogin:
    """One demo account; `role` is a `Role` value ("ADMIN", …) and the password is `DEMO_PASSWORD`."""

    role: str
    email: str
    description: str


@dataclass(frozen=True)
class DemoSummary:
    """What one `seed_demo` call created."""

    organization_id: int
    project_id: int
    buildings: int
    units: int
    parties: int
    occupancies: int
    technicians: int
    users: int
    logins: tuple[DemoLogin, ...]


# --- the fixed part of the community --------------------------------------------------------------


@dataclass(frozen=True)
class _Tower:
    name: str
    latitude: float
    longitude: float
    floors: int
    stack_areas: tuple[Decimal, ...]
    """Floor area of each stack (the flat at the same position on every floor), before the surveyed
    area of a single flat deviates from it by a few tenths of a square metre."""


def _areas(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


# About 100 m apart (0.00104° of longitude ≈ 100 m at 30°N); the podium sits south of both towers.
_TOWERS = (
    _Tower("1栋", 30.27452, 120.15231, 20, _areas("89.36", "125.48", "68.72", "68.72", "125.48", "89.36")),
    _Tower("2栋", 30.27452, 120.15335, 20, _areas("143.86", "108.25", "76.53", "76.53", "108.25", "143.86")),
)
_PODIUM_NAME = "商业裙楼"
_PODIUM_POSITION = (30.27372, 120.15283)
_COMMUNITY_CENTRE = (30.27425, 120.15283)

_SHOPS_PER_FLOOR = 10
_SHOP_FLOORS = (1, 2)
_PARKING_SPACES = 60
_PARKING_AREA = Decimal("12.50")
_STORAGE_ROOMS = 10


@dataclass(frozen=True)
class _TechnicianProfile:
    name: str
    skills: tuple[Category, ...]
    capacity: int
    on_shift: bool
    home_north_m: int
    home_east_m: int


_TECHNICIANS = (
    _TechnicianProfile("王建国", (Category.PLUMBING, Category.GENERAL), 4, True, 1200, -800),
    _TechnicianProfile("李志强", (Category.ELECTRICAL, Category.APPLIANCE), 4, True, -600, 1500),
    _TechnicianProfile("张海峰", (Category.HVAC, Category.ELECTRICAL, Category.APPLIANCE), 3, True, 2100, 900),
    _TechnicianProfile("刘德明", (Category.ELEVATOR, Category.ELECTRICAL), 2, True, -1800, -1400),
    _TechnicianProfile("陈晓东", (Category.FIRE_SAFETY, Category.ELECTRICAL), 3, True, 300, 2600),
    _TechnicianProfile("杨立新", (Category.LOCKSMITH, Category.GENERAL), 5, True, -2500, 700),
    _TechnicianProfile("赵秀英", (Category.CLEANING, Category.GENERAL), 5, True, 800, 400),
    _TechnicianProfile("周国平", (Category.PLUMBING, Category.HVAC), 3, False, -400, -2200),
    _TechnicianProfile("吴桂芳", (Category.CLEANING, Category.LOCKSMITH), 4, True, 1600, 1900),
    _TechnicianProfile("孙永刚", (Category.ELEVATOR, Category.FIRE_SAFETY, Category.PLUMBING), 2, False, -1100, 2300),
)

# (role, e-mail local part, display name, description)
_STAFF = (
    (Role.ADMIN, "admin", "沈建华", "project administrator: everything in 翠湖花园"),
    (Role.FINANCE, "finance", "林晓燕", "finance desk: fee rules, bills, payments, receipts"),
    (Role.DISPATCHER, "dispatcher", "何文静", "dispatcher: repair tickets and the live board"),
)

# --- what the random residents are made of --------------------------------------------------------

# Ordered roughly by frequency; `_People` weights them so that 王, 李 and 张 dominate as they do in life.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚"
    "卢钟姜崔谭陆范汪廖石金贾夏方邹熊白孟秦邱侯江尹薛段雷龙史陶贺毛郝顾龚邵万钱严戴"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官")
_MALE_GIVEN = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国志文海峰亮东晨博轩睿哲成嘉诚毅振永"
_FEMALE_GIVEN = "芳娜敏静丽艳娟霞燕玲婷雪慧琳颖倩洁琴云莉萍红梅蕾佳欣怡雯晶悦瑶思涵琪彤璐蓉秀兰英"

# Administrative division codes (the first six digits of an ID number) of where residents were born.
_ZHEJIANG_REGIONS = (
    "330102", "330105", "330106", "330108", "330109", "330110", "330182",
    "330203", "330302", "330402", "330502", "330602", "330702", "331002",
)  # fmt: skip
_OTHER_REGIONS = (
    "110105", "310115", "320102", "320583", "340104", "350102", "360102", "370102",
    "410105", "420106", "430104", "500103", "510107", "610113",
)  # fmt: skip
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155",
    "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip
_HANGZHOU_AREA_CODE = "0571"

_SHOP_BRANDS = ("禾丰", "鑫源", "佳和", "德润", "瑞祥", "启航", "悦享", "安然", "一鸣", "福临", "青禾", "星辰", "嘉木", "湖畔")
_SHOP_TRADES = (
    "餐饮管理有限公司", "便利超市有限公司", "洗衣服务有限公司", "口腔门诊部有限公司", "教育咨询有限公司",
    "美容美发有限公司", "房地产经纪有限公司", "大药房有限公司", "烘焙食品有限公司", "宠物用品有限公司",
    "生鲜超市有限公司", "健身服务有限公司", "茶饮店", "快递服务部",
)  # fmt: skip

# Shares of the register; a real community of this age looks much like this.
_FLAT_OWNED_SHARE = 0.85
_FLAT_RENTED_SHARE = 0.15
_OWNED_BUT_EMPTY_SHARE = 0.05
_SECOND_FLAT_SHARE = 0.06
_RESOLD_SHARE = 0.20
_EARLIER_TENANT_SHARE = 0.35
_SHOP_RENTED_SHARE = 0.65
_SHOP_SELF_RUN_SHARE = 0.20
_SHOP_INVESTORS = 12
_OWNED_PARKING_SPACES = 40
_OWNED_STORAGE_ROOMS = 7


def _email(local_part: str) -> str:
    return f"{local_part}@{DEMO_EMAIL_DOMAIN}"


def _flats(tower: _Tower) -> list[tuple[int, str, Decimal]]:
    """(floor, number, stack area) of every flat, in number order: 101 … 106, 201 … on to the top floor."""
    return [
        (floor, f"{floor}{stack:02d}", area)
        for floor in range(1, tower.floors + 1)
        for stack, area in enumerate(tower.stack_areas, start=1)
    ]


def _login_flat_numbers() -> list[str]:
    """The flats of building 1 whose owners get the logins owner1 … owner20, in that order."""
    return [number for _, number, _ in _flats(_TOWERS[0])[:_OWNER_LOGINS]]


def demo_logins() -> list[DemoLogin]:
    """Every demo account, staff first, then tech1 … tech10, then owner1 … owner20."""
    logins = [DemoLogin(role.value, _email(local), description) for role, local, _, description in _STAFF]
    logins += [
        DemoLogin(
            Role.TECHNICIAN.value,
            _email(f"tech{n}"),
            f"technician {profile.name}: {', '.join(skill.value.lower() for skill in profile.skills)}",
        )
        for n, profile in enumerate(_TECHNICIANS, start=1)
    ]
    logins += [
        DemoLogin(Role.OWNER.value, _email(f"owner{n}"), f"owner and resident of {_TOWERS[0].name} {number}")
        for n, number in enumerate(_login_flat_numbers(), start=1)
    ]
    return logins


# --- generation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Person:
    name: str
    phone: str
    national_id: str


class _People:
    """Makes distinct, believable people: sex agrees between name and ID number, age with birth date."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self._rng = rng
        self._today = today
        self._surname_weights = [1 / (rank + 6) for rank in range(len(_SURNAMES))]
        self._phones: set[str] = set()
        self._national_ids: set[str] = set()
        self._company_names: set[str] = set()

    def person(self, *, youngest: int, oldest: int, local_share: float) -> _Person:
        rng = self._rng
        male = rng.random() < 0.5
        given = "".join(rng.sample(_MALE_GIVEN if male else _FEMALE_GIVEN, 2 if rng.random() < 0.7 else 1))
        # 366 days a year keeps the youngest truly of that age whatever the leap years in between.
        birth = self._today - dt.timedelta(days=rng.randint(youngest * 366, oldest * 365))
        region = rng.choice(_ZHEJIANG_REGIONS if rng.random() < local_share else _OTHER_REGIONS)
        while True:
            # The 17th digit is odd for men and even for women.
            body = f"{region}{birth:%Y%m%d}{rng.randrange(100):02d}{rng.choice('13579' if male else '02468')}"
            national_id = body + national_id_check_character(body)
            if national_id not in self._national_ids:
                break
        self._national_ids.add(national_id)
        return _Person(name=self._surname() + given, phone=self.mobile(), national_id=national_id)

    def mobile(self) -> str:
        return self._unique_phone(lambda: f"{self._rng.choice(_MOBILE_PREFIXES)}{self._rng.randrange(10**8):08d}")

    def landline(self) -> str:
        # Hangzhou local numbers have 8 digits; business lines mostly start with 8.
        return self._unique_phone(lambda: f"{_HANGZHOU_AREA_CODE}-8{self._rng.randrange(10**7):07d}")

    def company_name(self) -> str:
        while True:
            name = f"杭州{self._rng.choice(_SHOP_BRANDS)}{self._rng.choice(_SHOP_TRADES)}"
            if name not in self._company_names:
                self._company_names.add(name)
                return name

    def _surname(self) -> str:
        if self._rng.random() < 0.01:
            return self._rng.choice(_COMPOUND_SURNAMES)
        return self._rng.choices(_SURNAMES, weights=self._surname_weights)[0]

    def _unique_phone(self, make: Callable[[], str]) -> str:
        while (phone := make()) in self._phones:
            pass
        self._phones.add(phone)
        return phone


@dataclass(frozen=True)
class _Stay:
    """An occupancy before the unit and party have ids."""

    unit: Unit
    party: Party
    relation: OccupancyRelation
    start: dt.date
    end: dt.date | None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _offset(origin: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    latitude, longitude = origin
    metres_per_degree = 111_320.0
    return (
        round(latitude + north_m / metres_per_degree, 6),
        round(longitude + east_m / (metres_per_degree * math.cos(math.radians(latitude))), 6),
    )


class _Register:
    """Builds the units, parties and occupancies of the project in memory, ready to be added in bulk."""

    def __init__(self, *, project_id: int, cipher: PersonalDataCipher, rng: random.Random, today: dt.date) -> None:
        self._project_id = project_id
        self._cipher = cipher
        self._rng = rng
        self._today = today
        self.people = _People(rng, today)
        # The community was handed over to its buyers about six years ago.
        self._handover = dt.date(today.year - 6, 9, 28)
        self.units: list[Unit] = []
        self.parties: list[Party] = []
        self.stays: list[_Stay] = []
        self.login_owners: list[Party] = []
        self._flat_owners: dict[Party, dt.date] = {}

    def add_tower(self, tower: _Tower, building: Building) -> None:
        login_flats = set(_login_flat_numbers()) if tower is _TOWERS[0] else set()
        for floor, number, stack_area in _flats(tower):
            surveyed = stack_area + Decimal(self._rng.randint(-30, 30)) / 100
            unit = self._unit(building, number, floor, surveyed, UnitKind.APARTMENT)
            if number in login_flats:
                # owner1 … owner20 bought at handover and live there: one obvious home per demo login.
                owner = self._new_owner()
                self.login_owners.append(owner)
                self._own_flat(unit, owner, resold=False)
                unit.occupancy_status = OccupancyStatus.SELF_OCCUPIED
                continue
            if self._rng.random() >= _FLAT_OWNED_SHARE:
                unit.occupancy_status = OccupancyStatus.VACANT  # unsold, still the developer's
                continue
            if self._flat_owners and self._rng.random() < _SECOND_FLAT_SHARE:
                owner = self._rng.choice(list(self._flat_owners))
            else:
                owner = self._new_owner()
            owned_since = self._own_flat(unit, owner, resold=self._rng.random() < _RESOLD_SHARE)
            chance = self._rng.random()
            if chance < _FLAT_RENTED_SHARE:
                self._rent_out(unit, owned_since)
                unit.occupancy_status = OccupancyStatus.RENTED
            elif chance < _FLAT_RENTED_SHARE + _OWNED_BUT_EMPTY_SHARE:
                unit.occupancy_status = OccupancyStatus.VACANT
            else:
                unit.occupancy_status = OccupancyStatus.SELF_OCCUPIED

    def add_podium(self, building: Building) -> None:
        self._add_shops(building)
        self._add_owned_extras(
            building,
            [f"B1-{n:03d}" for n in range(1, _PARKING_SPACES + 1)],
            UnitKind.PARKING_SPACE,
            owned=_OWNED_PARKING_SPACES,
            area=lambda: _PARKING_AREA,
        )
        self._add_owned_extras(
            building,
            [f"B1-C{n:02d}" for n in range(1, _STORAGE_ROOMS + 1)],
            UnitKind.STORAGE,
            owned=_OWNED_STORAGE_ROOMS,
            area=lambda: Decimal(self._rng.randint(500, 1199)) / 100,
        )

    def _add_shops(self, building: Building) -> None:
        investors = [self._person_party(youngest=35, oldest=70, local_share=0.8) for _ in range(_SHOP_INVESTORS)]
        shop_count = _SHOPS_PER_FLOOR * len(_SHOP_FLOORS)
        owners = investors + [self._rng.choice(investors) for _ in range(shop_count - len(investors))]
        self._rng.shuffle(owners)
        numbers = [(floor, f"S{floor}{n:02d}") for floor in _SHOP_FLOORS for n in range(1, _SHOPS_PER_FLOOR + 1)]
        for (floor, number), owner in zip(numbers, owners, strict=True):
            area = Decimal(self._rng.randint(4000, 26000)) / 100
            unit = self._unit(building, number, floor, area, UnitKind.SHOP)
            self.stays.append(_Stay(unit, owner, OccupancyRelation.OWNER, self._handover, None))
            chance = self._rng.random()
            if chance < _SHOP_RENTED_SHARE:
                tenant = self._company_party()
                start = self._today - dt.timedelta(days=self._rng.randint(15, 900))
                end = _add_years(start, 3) - dt.timedelta(days=1)
                self.stays.append(_Stay(unit, tenant, OccupancyRelation.TENANT, start, end))
                unit.occupancy_status = OccupancyStatus.RENTED
            elif chance < _SHOP_RENTED_SHARE + _SHOP_SELF_RUN_SHARE:
                unit.occupancy_status = OccupancyStatus.SELF_OCCUPIED
            else:
                unit.occupancy_status = OccupancyStatus.VACANT  # to let

    def _add_owned_extras(
        self, building: Building, numbers: list[str], kind: UnitKind, *, owned: int, area: Callable[[], Decimal]
    ) -> None:
        """Parking spaces and storage rooms: some bought by flat owners, the rest still unsold."""
        # owner1 gets the first one, so a demo owner can be seen holding more than one unit.
        owned_numbers = {numbers[0], *self._rng.sample(numbers[1:], owned - 1)}
        others = [party for party in self._flat_owners if party is not self.login_owners[0]]
        buyers = iter([self.login_owners[0], *self._rng.sample(others, len(owned_numbers) - 1)])
        for number in numbers:
            unit = self._unit(building, number, -1, area(), kind)
            if number not in owned_numbers:
                unit.occupancy_status = OccupancyStatus.VACANT
                continue
            buyer = next(buyers)
            self.stays.append(_Stay(unit, buyer, OccupancyRelation.OWNER, self._flat_owners[buyer], None))
            unit.occupancy_status = OccupancyStatus.SELF_OCCUPIED

    def _own_flat(self, unit: Unit, owner: Party, *, resold: bool) -> dt.date:
        """Record the current owner (and, for a resale, the first buyer); return the ownership start."""
        start = self._handover
        if resold:
            first_buyer = self._person_party(youngest=35, oldest=80, local_share=0.7)
            start = self._handover + dt.timedelta(days=self._rng.randint(180, (self._today - self._handover).days - 60))
            self.stays.append(
                _Stay(unit, first_buyer, OccupancyRelation.OWNER, self._handover, start - dt.timedelta(days=1))
            )
        self.stays.append(_Stay(unit, owner, OccupancyRelation.OWNER, start, None))
        self._flat_owners.setdefault(owner, start)
        return start

    def _rent_out(self, unit: Unit, owned_since: dt.date) -> None:
        """A current lease of one or two years, sometimes after an earlier tenant's lease."""
        start = max(owned_since + dt.timedelta(days=30), self._today - dt.timedelta(days=self._rng.randint(14, 700)))
        end = _add_years(start, 1) - dt.timedelta(days=1)
        if end < self._today:
            end = _add_years(start, 2) - dt.timedelta(days=1)
        tenant = self._person_party(youngest=22, oldest=45, local_share=0.4)
        self.stays.append(_Stay(unit, tenant, OccupancyRelation.TENANT, start, end))
        earlier_start = _add_years(start, -1)
        if earlier_start >= owned_since and self._rng.random() < _EARLIER_TENANT_SHARE:
            earlier = self._person_party(youngest=22, oldest=45, local_share=0.4)
            self.stays.append(
                _Stay(unit, earlier, OccupancyRelation.TENANT, earlier_start, start - dt.timedelta(days=1))
            )

    def _new_owner(self) -> Party:
        return self._person_party(youngest=28, oldest=75, local_share=0.7)

    def _unit(self, building: Building, number: str, floor: int, area: Decimal, kind: UnitKind) -> Unit:
        unit = Unit(
            project_id=self._project_id, building_id=building.id, number=number, floor=floor, floor_area=area, kind=kind
        )
        self.units.append(unit)
        return unit

    def _person_party(self, *, youngest: int, oldest: int, local_share: float) -> Party:
        person = self.people.person(youngest=youngest, oldest=oldest, local_share=local_share)
        party = Party(project_id=self._project_id, name=person.name, party_type=PartyType.PERSON)
        set_personal_data(party, self._cipher, phone=person.phone, national_id=person.national_id)
        self.parties.append(party)
        return party

    def _company_party(self) -> Party:
        phone = self.people.landline()
        party = Party(project_id=self._project_id, name=self.people.company_name(), party_type=PartyType.COMPANY)
        set_personal_data(party, self._cipher, phone=phone, national_id=None)
        self.parties.append(party)
        return party


# --- writing --------------------------------------------------------------------------------------


_SEEDING_ATTEMPTS = 5


async def _demo_exists(session_factory: async_sessionmaker[AsyncSession]) -> bool:
    async with session_factory() as session:
        found = await session.scalar(select(Organization.id).where(Organization.name == DEMO_ORGANIZATION))
        return found is not None


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    *,
    today: dt.date,
    progress: Callable[[str], None] = lambda _: None,
) -> DemoSummary | None:
    """Create the demo community in one transaction; None, writing nothing, when it already exists."""
    if await _demo_exists(session_factory):
        return None
    # Argon2 is slow on purpose (most of a second here) and releases the GIL: hash once, in a thread,
    # while the rows are generated and written.
    password_hash = asyncio.ensure_future(asyncio.to_thread(hash_password, DEMO_PASSWORD))
    try:
        summary = await _write_demo_unless_a_rival_does(
            session_factory, cipher, today=today, password_hash=password_hash, progress=progress
        )
        if summary is None:
            return None
        finance = next(login.email for login in summary.logins if login.role == Role.FINANCE.value)
        await seed_dunning(
            session_factory, cipher, project_id=summary.project_id, finance_email=finance, today=today, progress=progress
        )
        await seed_invoicing(session_factory, project_id=summary.project_id, finance_email=finance, today=today, progress=progress)
        return summary
    finally:
        password_hash.cancel()


async def _write_demo_unless_a_rival_does(
    session_factory: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    *,
    today: dt.date,
    password_hash: Awaitable[str],
    progress: Callable[[str], None],
) -> DemoSummary | None:
    """The community's one transaction; None when another seeder wrote it first."""
    attempts = 0
    while True:
        attempts += 1
        try:
            async with unit_of_work(session_factory) as work:
                return await _write_demo(
                    work.session, cipher, today=today, password_hash=password_hash, progress=progress
                )
        except Conflict:
            # The rival's organization of the same name stopped us, or (SQLite) the wait for the rival's
            # lock ended at the busy timeout, 30 s, while its seeding takes longer on a loaded machine.
            if await _demo_exists(session_factory):
                return None
            if attempts == _SEEDING_ATTEMPTS:
                raise


async def _write_demo(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    *,
    today: dt.date,
    password_hash: Awaitable[str],
    progress: Callable[[str], None],
) -> DemoSummary:
    rng = random.Random(_SEED)

    organization = Organization(name=DEMO_ORGANIZATION)
    session.add(organization)
    await session.flush()
    # The demo community is Chinese: its owners read bills, explanations and receipts in zh-CN.
    project = Project(
        organization_id=organization.id,
        name=DEMO_PROJECT,
        timezone=_TIMEZONE,
        currency=_CURRENCY,
        locale=Locale.ZH_CN,
        settings={},
    )
    session.add(project)
    await session.flush()
    progress(f"organization and project: {DEMO_ORGANIZATION} / {DEMO_PROJECT}")

    towers = [
        Building(project_id=project.id, name=tower.name, latitude=tower.latitude, longitude=tower.longitude)
        for tower in _TOWERS
    ]
    podium = Building(
        project_id=project.id, name=_PODIUM_NAME, latitude=_PODIUM_POSITION[0], longitude=_PODIUM_POSITION[1]
    )
    session.add_all([*towers, podium])
    await session.flush()

    register = _Register(project_id=project.id, cipher=cipher, rng=rng, today=today)
    for tower, building in zip(_TOWERS, towers, strict=True):
        register.add_tower(tower, building)
    register.add_podium(podium)
    session.add_all(register.units)
    await session.flush()
    kinds = {kind: sum(unit.kind is kind for unit in register.units) for kind in UnitKind}
    progress(
        f"buildings and units: {len(towers) + 1} buildings, {len(register.units)} units "
        f"({kinds[UnitKind.APARTMENT]} apartments, {kinds[UnitKind.SHOP]} shops, "
        f"{kinds[UnitKind.PARKING_SPACE]} parking spaces, {kinds[UnitKind.STORAGE]} storage rooms)"
    )

    session.add_all(register.parties)
    await session.flush()
    session.add_all(
        Occupancy(
            unit_id=stay.unit.id,
            party_id=stay.party.id,
            relation=stay.relation,
            start_date=stay.start,
            end_date=stay.end,
        )
        for stay in register.stays
    )
    await session.flush()
    progress(f"owners and tenants: {len(register.parties)} parties, {len(register.stays)} occupancies")

    technicians = []
    for profile in _TECHNICIANS:
        latitude, longitude = _offset(_COMMUNITY_CENTRE, profile.home_north_m, profile.home_east_m)
        technicians.append(
            Technician(
                project_id=project.id,
                name=profile.name,
                phone_encrypted=cipher.encrypt(register.people.mobile()),
                skills=sorted(skill.value for skill in profile.skills),
                home_latitude=latitude,
                home_longitude=longitude,
                current_latitude=latitude,
                current_longitude=longitude,
                on_shift=profile.on_shift,
                capacity=profile.capacity,
            )
        )
    session.add_all(technicians)
    await session.flush()
    progress(f"technicians: {len(technicians)} ({sum(t.on_shift for t in technicians)} on shift)")

    # (display name, party id, technician id) of each login, in the order of `demo_logins()`.
    bindings: list[tuple[str, int | None, int | None]] = [(name, None, None) for _, _, name, _ in _STAFF]
    bindings += [(technician.name, None, technician.id) for technician in technicians]
    bindings += [(owner.name, owner.id, None) for owner in register.login_owners]
    logins = demo_logins()
    shared_hash = await password_hash
    users = [
        User(
            email=login.email,
            display_name=display_name,
            password_hash=shared_hash,
            party_id=party_id,
            technician_id=technician_id,
        )
        for login, (display_name, party_id, technician_id) in zip(logins, bindings, strict=True)
    ]
    session.add_all(users)
    await session.flush()
    session.add_all(
        RoleGrant(user_id=user.id, project_id=project.id, role=Role(login.role))
        for user, login in zip(users, logins, strict=True)
    )
    await session.flush()
    progress(f"logins: {len(users)}, all with the password {DEMO_PASSWORD}")
    await seed_billing(session, cipher, project_id=project.id, today=today, progress=progress)
    await seed_dispatch(session, project_id=project.id, today=today)
    owners = [
        Principal(user_id=user.id, roles={project.id: frozenset({Role.OWNER})}, party_id=user.party_id)
        for user in users
        if user.party_id is not None
    ]
    announced = await seed_announcements(
        session,
        project_id=project.id,
        tower_id=towers[0].id,
        tower_name=_TOWERS[0].name,
        audience_roles=(Role.OWNER,),
        admin=Principal(user_id=users[0].id, roles={project.id: frozenset({Role.ADMIN})}),
        readers=owners[: len(owners) * 7 // 10],
        zone=ZoneInfo(_TIMEZONE),
        today=today,
    )
    progress(
        f"announcements: {DEMO_ANNOUNCEMENT_TITLE} to the residents of {_TOWERS[0].name}: {announced.recipients} "
        f"recipients, {announced.read} read, {announced.reminded} reminded"
    )

    return DemoSummary(
        organization_id=organization.id,
        project_id=project.id,
        buildings=len(towers) + 1,
        units=len(register.units),
        parties=len(register.parties),
        occupancies=len(register.stays),
        technicians=len(technicians),
        users=len(users),
        logins=tuple(logins),
    )
