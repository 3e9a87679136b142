"""The finance desk's work queue on both databases: the accounts to chase, long-overdue and large amounts
first, each with its dunning history as the outbox recorded it, and the follow-up calls made."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from api.state import AppState
from billing.dunning.holds import set_payment_plan
from billing.dunning.work_queue import list_work_queue, record_dunning_call
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import MessageStatus, NotificationChannel
from tests.conftest import Clock
from tests.integration.billing_world import books_balance, pay, run_billing  # noqa: F401  (books checked after every test)
from tests.integration.dunning_world import DUE, dun, dunning_world, finance, local, relay_dunning
from tests.integration.world import World

IN_APP = NotificationChannel.IN_APP


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient, clock: Clock) -> World:
    world = await dunning_world(state, client)
    # October: overdue notices to both owners three days after the due date, delivered in-app
    await dun(state, world, clock, DUE + dt.timedelta(days=3))
    await relay_dunning(state, IN_APP)
    # bob pays October with its late fee; November is billed on 1 December, due on the 16th
    await pay(client, world, "bob", "336.50", "bob-october", payerName="李强")  # 336.00 and 0.50 late fee
    clock.now = local(dt.date(2026, 12, 1))
    await run_billing(client, world, "2026-11")
    # on 27 December alice owes both months (October 40 days overdue), bob November (11 days)
    await dun(state, world, clock, dt.date(2026, 12, 27))
    await relay_dunning(state, IN_APP)
    return world


async def queue(state: AppState, world: World, clock: Clock, **options: object):  # type: ignore[no-untyped-def]
    return await list_work_queue(
        state.session_factory, finance(world), project_id=world.ids["Project:lakeside"], now=clock(), **options
    )


async def test_the_accounts_to_chase_come_long_overdue_and_large_first_with_their_history(
    state: AppState, world: World, clock: Clock
) -> None:
    page = await queue(state, world, clock, limit=10)
    assert page.total == 2
    alice, bob = page.accounts
    # alice: 2 × 247.80 over 40 days; her new bill joined the set, so the month-old account went to the desk
    assert (alice.unit_label, alice.owner, alice.amount_overdue, alice.days_overdue, alice.overdue_bills) == (
        "A1 101", "王丽", Decimal("495.60"), 40, 2,
    )
    assert alice.score == Decimal("495.60") * 40
    assert [(h.level_code, h.message_status, h.channel, h.follow_up_status) for h in alice.history] == [
        ("T+30", None, None, MessageStatus.DELIVERED),
        ("T+3", MessageStatus.DELIVERED, IN_APP, None),
    ]
    assert alice.history[0].follow_up_user_id == world.users["finance_a"] and alice.open_follow_up == alice.history[0].notice_id
    # bob: November's 336.00 after 11 days, told of it, and October's notice before that
    assert (bob.amount_overdue, bob.days_overdue, bob.open_follow_up) == (Decimal("336.00"), 11, None)
    assert [(h.level_code, h.amount_due, h.message_status) for h in bob.history] == [
        ("T+3", Decimal("336.00"), MessageStatus.DELIVERED),
        ("T+3", Decimal("336.00"), MessageStatus.DELIVERED),
    ]


async def test_a_page_at_a_time_and_accounts_on_a_payment_plan_left_out(
    state: AppState, world: World, clock: Clock
) -> None:
    first = await queue(state, world, clock, limit=1)
    assert [a.unit_label for a in first.accounts] == ["A1 101"] and first.next_cursor is not None
    second = await queue(state, world, clock, limit=1, after=first.next_cursor)
    assert [a.unit_label for a in second.accounts] == ["A1 102"] and second.next_cursor is None
    await set_payment_plan(
        state.session_factory, finance(world), party_id=world.ids["Party:bob"], ends_on=dt.date(2027, 3, 31), note="分期", now=clock()
    )
    assert [a.unit_label for a in (await queue(state, world, clock, limit=10)).accounts] == ["A1 101"]


async def test_a_follow_up_call_is_recorded_on_the_account(state: AppState, world: World, clock: Clock) -> None:
    (alice, _) = (await queue(state, world, clock, limit=10)).accounts
    done = await record_dunning_call(
        state.session_factory, finance(world), notice_id=alice.open_follow_up, note="已电话联系，业主承诺月底前缴清", now=clock()
    )
    assert (done.follow_up_done_by, done.follow_up_note) == (world.users["finance_a"], "已电话联系，业主承诺月底前缴清")
    (alice, _) = (await queue(state, world, clock, limit=10)).accounts
    assert alice.open_follow_up is None and alice.history[0].follow_up_done_at == clock()
    with pytest.raises(BadInput) as empty:
        await record_dunning_call(state.session_factory, finance(world), notice_id=alice.history[0].notice_id, note=" ", now=clock())
    assert empty.value.field == "note"
    with pytest.raises(BadInput) as not_a_follow_up:
        await record_dunning_call(state.session_factory, finance(world), notice_id=alice.history[1].notice_id, note="x", now=clock())
    assert not_a_follow_up.value.field == "noticeId"


async def test_another_projects_staff_see_none_of_it(state: AppState, world: World, clock: Clock) -> None:
    outsider = Principal(world.users["admin_b"], {world.ids["Project:hillside"]: frozenset({Role.ADMIN})})
    with pytest.raises(NotFound):
        await list_work_queue(state.session_factory, outsider, project_id=world.ids["Project:lakeside"], now=clock(), limit=10)
    (alice, _) = (await queue(state, world, clock, limit=10)).accounts
    with pytest.raises(NotFound):
        await record_dunning_call(state.session_factory, outsider, notice_id=alice.open_follow_up, note="x", now=clock())
