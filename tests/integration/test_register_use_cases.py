"""The register's use cases own their unit of work: what they return is committed, a refused change writes
nothing (not even what it had flushed), and a failed login still counts towards the lock-out."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from api.state import AppState
from db.models import Building, LoginThrottle, Occupancy, OccupancyRelation, Party, RoleGrant, Unit
from kernel.errors import Conflict, InvalidCredentials
from kernel.principal import Principal, Role
from kernel.vocabulary import UnitKind
from register.accounts import (
    LoginThrottled,
    load_principal,
    log_in,
)
from register.login_throttle import ACCOUNT_LIMITS
from register.parties import update_party
from register.units import create_building, create_unit
from tests.conftest import Clock
from tests.integration.world import (
    ALICE_NATIONAL_ID,
    PASSWORD,
    World,
    build_world,
    statements_run,
)


async def _principal(state: AppState, world: World, user: str) -> Principal:
    async with state.session_factory() as session:
        principal = await load_principal(session, world.users[user], today=state.clock().date())
    assert principal is not None
    return principal


async def test_a_created_unit_is_committed_by_the_use_case_itself(state: AppState) -> None:
    # given
    world = await build_world(state)
    admin = await _principal(state, world, "admin_a")
    # when
    unit = await create_unit(
        state.session_factory,
        admin,
        building_id=world.ids["Building:a1"],
        number="0901",
        floor=9,
        floor_area=Decimal("90.00"),
        kind=UnitKind.APARTMENT,
    )
    # then: a session of its own sees it
    async with state.session_factory() as session:
        stored = await session.get(Unit, unit.id)
    assert stored is not None and (stored.number, stored.floor_area) == ("0901", Decimal("90.00"))


async def test_a_refused_update_leaves_even_its_flushed_changes_unwritten(state: AppState) -> None:
    # given: the new name is flushed before the ID number check finds Alice's number taken
    world = await build_world(state)
    admin = await _principal(state, world, "admin_a")
    # when
    with statements_run(state.engine) as statements, pytest.raises(Conflict):
        await update_party(
            state.session_factory,
            admin,
            cipher=state.cipher,
            party_id=world.ids["Party:bob"],
            name="李强强",
            national_id=ALICE_NATIONAL_ID,
        )
    # then
    assert any(statement.startswith("UPDATE party SET name") for statement in statements)
    async with state.session_factory() as session:
        bob = await session.get(Party, world.ids["Party:bob"])
    assert bob is not None and bob.name == "李强" and bob.national_id_lookup is None


async def test_two_admins_creating_the_same_building_at_once_get_one_building_and_one_conflict(
    state: AppState,
) -> None:
    # given
    world = await build_world(state)
    admin = await _principal(state, world, "admin_a")

    async def create() -> Building:
        return await create_building(
            state.session_factory,
            admin,
            project_id=world.ids["Project:lakeside"],
            name="A9",
            latitude=None,
            longitude=None,
        )

    # when
    outcomes = await asyncio.gather(create(), create(), return_exceptions=True)
    # then
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Building", "Conflict"]
    async with state.session_factory() as session:
        names = list(await session.scalars(select(Building.name).where(Building.name == "A9")))
    assert names == ["A9"]


async def _failures(state: AppState) -> list[int]:
    async with state.session_factory() as session:
        return sorted((await session.scalars(select(LoginThrottle.failures))).all())


async def test_a_wrong_password_is_counted_although_the_login_fails(state: AppState, clock: Clock) -> None:
    # given
    await build_world(state)
    # when
    with pytest.raises(InvalidCredentials):
        await log_in(state.session_factory, email="bob@example.test", password="wrong", client_address="192.0.2.1", now=clock())
    # then the account and the address have one failure each
    assert await _failures(state) == [1, 1]


async def test_a_throttled_attempt_checks_no_password_and_counts_nothing(state: AppState, clock: Clock) -> None:
    # given
    await build_world(state)
    for _ in range(ACCOUNT_LIMITS.free_failures):
        with pytest.raises(InvalidCredentials):
            await log_in(state.session_factory, email="bob@example.test", password="wrong", client_address="192.0.2.1", now=clock())
    # when the right password follows inside the window
    with pytest.raises(LoginThrottled) as throttled:
        await log_in(state.session_factory, email="bob@example.test", password=PASSWORD, client_address="192.0.2.1", now=clock())
    # then
    assert throttled.value.retry_after == ACCOUNT_LIMITS.first_delay
    assert await _failures(state) == [ACCOUNT_LIMITS.free_failures] * 2


async def test_a_callers_roles_and_occupied_units_load_in_one_statement(state: AppState) -> None:
    # given alice, owner of her flat and of the shop, whose tenancy of the vacant flat ended yesterday,
    # and who also works as FINANCE in Lakeside
    world = await build_world(state)
    today = state.clock().date()
    async with state.session_factory() as session, session.begin():
        alice = world.ids["Party:alice"]
        session.add_all(
            [
                Occupancy(unit_id=world.ids["Unit:shop"], party_id=alice, relation=OccupancyRelation.OWNER,
                          start_date=dt.date(2021, 1, 1)),
                Occupancy(unit_id=world.ids["Unit:vacant"], party_id=alice, relation=OccupancyRelation.TENANT,
                          start_date=dt.date(2022, 1, 1), end_date=today - dt.timedelta(days=1)),
                RoleGrant(user_id=world.users["alice"], project_id=world.ids["Project:lakeside"], role=Role.FINANCE),
            ]
        )
    # when her principal is loaded
    with statements_run(state.engine) as statements:
        principal = await _principal(state, world, "alice")
    # then one statement brings both roles and exactly the units she occupies today
    assert len(statements) == 1
    assert principal.roles == {world.ids["Project:lakeside"]: frozenset({Role.OWNER, Role.FINANCE})}
    assert principal.unit_ids == frozenset({world.ids["Unit:alice"], world.ids["Unit:shop"]})
