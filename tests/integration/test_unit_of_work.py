"""The unit of work: one commit per use case, nothing written on failure, after-commit actions only after
commit, and check-then-write use cases serialised on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from api.state import AppState
from db.models import Organization
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict


async def _organizations(state: AppState) -> list[str]:
    async with state.session_factory() as session:
        return list(await session.scalars(select(Organization.name).order_by(Organization.id)))


async def test_the_block_commits_once_and_then_runs_its_after_commit_actions_in_order(state: AppState) -> None:
    # given
    seen: list[tuple[str, list[str]]] = []

    async def remember(label: str) -> None:
        seen.append((label, await _organizations(state)))

    # when
    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Lakeside Property"))
        work.after_commit(lambda: remember("first"))
        work.after_commit(lambda: remember("second"))
        assert seen == []
    # then: each action saw the committed row
    assert seen == [("first", ["Lakeside Property"]), ("second", ["Lakeside Property"])]


async def test_an_expected_failure_writes_nothing_and_runs_no_after_commit_action(state: AppState) -> None:
    ran: list[str] = []

    async def note() -> None:
        ran.append("ran")

    with pytest.raises(BadInput):
        async with unit_of_work(state.session_factory) as work:
            work.session.add(Organization(name="Half-written"))
            await work.session.flush()
            work.after_commit(note)
            raise BadInput("name is wrong", field="name")
    assert await _organizations(state) == []
    assert ran == []


async def test_a_failing_after_commit_action_keeps_the_commit_and_the_later_actions(state: AppState) -> None:
    ran: list[str] = []

    async def fail() -> None:
        raise RuntimeError("broadcast backend down")

    async def note() -> None:
        ran.append("ran")

    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Kept"))
        work.after_commit(fail)
        work.after_commit(note)
    assert await _organizations(state) == ["Kept"]
    assert ran == ["ran"]


async def test_a_unique_constraint_race_answers_conflict_and_writes_nothing(state: AppState) -> None:
    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Taken"))
    with pytest.raises(Conflict) as raised:
        async with unit_of_work(state.session_factory) as work:
            work.session.add(Organization(name="Other"))
            work.session.add(Organization(name="Taken"))
    assert raised.value.field is None
    assert await _organizations(state) == ["Taken"]


async def test_concurrent_units_of_work_that_check_then_write_see_each_others_commits(state: AppState) -> None:
    # given: twenty writers that each read how many organizations exist and then add the next one, with
    # an await between reading and writing where another writer could slip in
    async def next_organization() -> None:
        async with unit_of_work(state.session_factory) as work:
            if state.engine.dialect.name == "postgresql":
                # PostgreSQL use cases lock what they check; a table lock stands in for that row lock here.
                await work.session.execute(func.pg_advisory_xact_lock(42).select())
            count = await work.session.scalar(select(func.count()).select_from(Organization))
            await asyncio.sleep(0.005)
            work.session.add(Organization(name=f"Organization {count}"))

    # when
    await asyncio.gather(*(next_organization() for _ in range(20)))
    # then: no two writers read the same count (on SQLite the write lock taken first makes it so)
    assert await _organizations(state) == [f"Organization {n}" for n in range(20)]


async def test_a_writer_that_waits_too_long_for_the_lock_answers_conflict_and_writes_nothing(state: AppState) -> None:
    # given another transaction holding the write lock (SQLite) or the rows (PostgreSQL), and a writer
    # that may wait far less than that transaction holds them
    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Held"))
    on_sqlite = state.engine.dialect.name == "sqlite"

    def impatient(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    async def waiting_writer() -> None:
        async with unit_of_work(state.session_factory) as work:
            if not on_sqlite:
                await work.session.execute(text("SET LOCAL lock_timeout = '50ms'"))
                await work.session.execute(select(Organization).with_for_update())
            work.session.add(Organization(name="Waiting"))

    async with state.engine.connect() as holder:
        if on_sqlite:
            await holder.exec_driver_sql("BEGIN IMMEDIATE")
            await state.engine.dispose()  # the writer's connection is opened anew, impatient
            event.listen(state.engine.sync_engine, "connect", impatient)
        else:
            await holder.execute(select(Organization).with_for_update())
        try:
            # when
            with pytest.raises(Conflict) as raised:
                await waiting_writer()
        finally:
            if on_sqlite:
                event.remove(state.engine.sync_engine, "connect", impatient)
            await holder.rollback()
    # then
    assert "try again" in raised.value.message
    assert await _organizations(state) == ["Held"]


async def test_writers_of_one_process_take_turns_on_sqlite_without_sleeping_in_its_busy_handler(state: AppState) -> None:
    # given SQLite connections that never wait for its write lock (a busy timeout of 0: a writer that
    # finds the lock taken fails at once), and writers that each hold the lock for a while
    if state.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")

    def impatient(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout = 0")

    await state.engine.dispose()  # the writers' connections are opened anew, impatient
    event.listen(state.engine.sync_engine, "connect", impatient)

    async def writer(number: int) -> None:
        async with unit_of_work(state.session_factory) as work:
            work.session.add(Organization(name=f"Organization {number}"))
            await work.session.flush()
            await asyncio.sleep(0.01)

    try:
        # when five write at once
        await asyncio.gather(*(writer(number) for number in range(5)))
    finally:
        event.remove(state.engine.sync_engine, "connect", impatient)
    # then each waited for the one before it in the process, not on SQLite's lock: none failed
    assert sorted(await _organizations(state)) == [f"Organization {number}" for number in range(5)]
