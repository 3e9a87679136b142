"""Dunning run by the worker once a day per project, and by `courtyard dunning run`, on both databases."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from api.dunning_cli import dunning_run
from api.state import AppState
from api.workers import DunningWorker
from db.models import DunningRun
from tests.conftest import Clock
from tests.integration.billing_world import books_balance  # noqa: F401  (the books balance after every test)
from tests.integration.dunning_world import DUE, dunning_world, local, messages
from tests.integration.world import World


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await dunning_world(state, client)


async def runs(state: AppState) -> list[tuple[dt.date, bool, int]]:
    async with state.session_factory() as session:
        rows = await session.execute(select(DunningRun.day, DunningRun.scheduled, DunningRun.notices).order_by(DunningRun.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_the_worker_runs_each_projects_pass_once_a_day_from_nine_local_time(
    state: AppState, world: World, clock: Clock
) -> None:
    worker = DunningWorker(state.session_factory, clock=clock)
    reminder_day = DUE - dt.timedelta(days=7)
    # before nine in Shanghai nothing runs; at ten past nine each project's pass runs once
    clock.now = local(reminder_day, 8, 30)
    assert (await worker.run_once()).passes == 0
    clock.now = local(reminder_day, 9, 10)
    report = await worker.run_once()
    clock.now = local(reminder_day, 15, 0)
    later = await worker.run_once()
    # then Lakeside's owners were reminded once, and Hillside (no bills) had its pass too
    assert (report.passes, report.notices, later.passes) == (2, 2, 0)
    assert [m.payload["amount_due"] for m in await messages(state)] == ["336.00", "247.80"]
    assert await runs(state) == [(reminder_day, True, 2), (reminder_day, True, 0)]
    # and the next morning it runs again, finding nothing new to say
    clock.now = local(reminder_day + dt.timedelta(days=1), 9, 0)
    assert (await worker.run_once()).passes == 2
    assert len(await messages(state)) == 2


async def test_the_command_line_runs_a_pass_at_a_given_time(
    state: AppState, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    at = local(DUE + dt.timedelta(days=3)).isoformat()
    preview = await dunning_run(state.settings, project="Lakeside", now=dt.datetime.fromisoformat(at), dry_run=True)
    assert preview == 0 and await messages(state) == []
    status = await dunning_run(state.settings, project=str(world.ids["Project:lakeside"]), now=dt.datetime.fromisoformat(at))
    printed = capsys.readouterr().out
    assert status == 0
    assert "2026-11-20" in printed and "T+3: 2" in printed and "2 messages" in printed
    assert [m.payload["days_overdue"] for m in await messages(state)] == [3, 3]
    assert await dunning_run(state.settings, project="Nowhere", now=dt.datetime.fromisoformat(at)) == 1
