"""A small, fully known world for integration tests: two projects, their staff, owners and units."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strawberry import relay

from api.state import AppState
from db.driver import listen_to_driver
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
from kernel.principal import Role
from kernel.vocabulary import UnitKind
from register.accounts import hash_password
from register.parties import set_personal_data

PASSWORD = "secret-password"
_PASSWORD_HASH = hash_password(PASSWORD)
ALICE_PHONE = "13812345678"
ALICE_NATIONAL_ID = "11010519491231002X"


def gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


@dataclass
class World:
    state: AppState
    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def token(self, user: str) -> str:
        return self.state.tokens.issue(self.users[user], now=self.state.clock())

    def gid(self, name: str) -> str:
        type_name = name.split(":")[0]
        return gid(type_name, self.ids[name])


async def add_project(session: AsyncSession, organization: str = "物业公司", name: str = "小区") -> Project:
    """A project of a new organization, flushed (its id known), in the caller's transaction: for tests that
    need a project and nothing of `build_world`'s."""
    owner = Organization(name=organization)
    session.add(owner)
    await session.flush()
    project = Project(organization_id=owner.id, name=name, timezone="Asia/Shanghai", currency="CNY", settings={})
    session.add(project)
    await session.flush()
    return project


async def build_world(state: AppState) -> World:
    world = World(state)
    cipher = state.cipher
    async with state.session_factory() as session, session.begin():
        org = Organization(name="Test Property Co")
        session.add(org)
        await session.flush()
        lakeside = Project(organization_id=org.id, name="Lakeside", timezone="Asia/Shanghai", currency="CNY", settings={})
        hillside = Project(organization_id=org.id, name="Hillside", timezone="Asia/Shanghai", currency="CNY", settings={})
        session.add_all([lakeside, hillside])
        await session.flush()
        a1 = Building(project_id=lakeside.id, name="A1", latitude=30.2700, longitude=120.1500)
        a2 = Building(project_id=lakeside.id, name="A2", latitude=30.2710, longitude=120.1510)
        b1 = Building(project_id=hillside.id, name="B1", latitude=30.3000, longitude=120.2000)
        session.add_all([a1, a2, b1])
        await session.flush()

        def unit(building: Building, number: str, area: str, kind: UnitKind = UnitKind.APARTMENT) -> Unit:
            return Unit(
                project_id=building.project_id,
                building_id=building.id,
                number=number,
                floor=int(number[0]) if number[0].isdigit() else 1,
                floor_area=Decimal(area),
                kind=kind,
                occupancy_status=OccupancyStatus.SELF_OCCUPIED,
            )

        u_alice, u_bob, u_vacant, u_shop = (
            unit(a1, "101", "88.50"),
            unit(a1, "102", "120.00"),
            unit(a2, "201", "75.25"),
            unit(a2, "S01", "150.00", UnitKind.SHOP),
        )
        u_vacant.occupancy_status = OccupancyStatus.VACANT
        u_carol = unit(b1, "101", "99.00")
        session.add_all([u_alice, u_bob, u_vacant, u_shop, u_carol])

        def party(project: Project, name: str, phone: str | None = None, national_id: str | None = None) -> Party:
            p = Party(project_id=project.id, name=name)
            set_personal_data(p, cipher, phone=phone, national_id=national_id)
            return p

        alice = party(lakeside, "王丽", ALICE_PHONE, ALICE_NATIONAL_ID)
        bob = party(lakeside, "李强", "13987654321")
        carol = party(hillside, "张敏", "13700001111")
        session.add_all([alice, bob, carol])
        await session.flush()
        since = dt.date(2020, 1, 1)
        occupancies = {
            name: Occupancy(unit_id=u.id, party_id=p.id, relation=OccupancyRelation.OWNER, start_date=since)
            for name, u, p in (("alice", u_alice, alice), ("bob", u_bob, bob), ("carol", u_carol, carol))
        }
        session.add_all(occupancies.values())
        tech_a = Technician(
            project_id=lakeside.id, name="陈师傅", skills=["PLUMBING", "ELECTRICAL"], home_latitude=30.27,
            home_longitude=120.15, current_latitude=30.27, current_longitude=120.15, capacity=3,
            phone_encrypted=cipher.encrypt("13600002222"),
        )
        tech_b = Technician(
            project_id=hillside.id, name="刘师傅", skills=["HVAC"], home_latitude=30.30, home_longitude=120.20, capacity=2
        )
        session.add_all([tech_a, tech_b])
        await session.flush()

        accounts: list[tuple[str, Role, Project, dict[str, Any]]] = [
            ("admin_a", Role.ADMIN, lakeside, {}),
            ("finance_a", Role.FINANCE, lakeside, {}),
            ("dispatcher_a", Role.DISPATCHER, lakeside, {}),
            ("tech_a", Role.TECHNICIAN, lakeside, {"technician_id": tech_a.id}),
            ("alice", Role.OWNER, lakeside, {"party_id": alice.id}),
            ("bob", Role.OWNER, lakeside, {"party_id": bob.id}),
            ("admin_b", Role.ADMIN, hillside, {}),
            ("carol", Role.OWNER, hillside, {"party_id": carol.id}),
        ]
        for name, role, project, links in accounts:
            user = User(email=f"{name}@example.test", display_name=name, password_hash=_PASSWORD_HASH, **links)
            session.add(user)
            await session.flush()
            session.add(RoleGrant(user_id=user.id, project_id=project.id, role=role))
            world.users[name] = user.id
        await session.flush()

    world.ids.update(
        {
            "Project:lakeside": lakeside.id,
            "Project:hillside": hillside.id,
            "Building:a1": a1.id,
            "Building:a2": a2.id,
            "Building:b1": b1.id,
            "Unit:alice": u_alice.id,
            "Unit:bob": u_bob.id,
            "Unit:vacant": u_vacant.id,
            "Unit:shop": u_shop.id,
            "Unit:carol": u_carol.id,
            "Party:alice": alice.id,
            "Party:bob": bob.id,
            "Party:carol": carol.id,
            "Technician:a": tech_a.id,
            "Technician:b": tech_b.id,
            **{f"Occupancy:{name}": occupancy.id for name, occupancy in occupancies.items()},
        }
    )
    return world


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def error_codes(result: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in result.get("errors") or []]


async def count_rows(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@contextlib.contextmanager
def statements_run(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect the SQL the engine sends while the block runs, and what goes to the driver past it
    (`db.driver`), whitespace collapsed, in order."""
    statements: list[str] = []

    def record(connection: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        with listen_to_driver(lambda statement: statements.append(" ".join(statement.split()))):
            yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
