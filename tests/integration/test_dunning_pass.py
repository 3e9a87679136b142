"""A dunning pass on both databases: which messages exist, with which status and text, after passes on
given days, payments, and the relay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from api.state import AppState
from billing.dunning.ladder import DEFAULT_POLICY
from billing.dunning.policies import set_dunning_settings
from kernel.vocabulary import MessageStatus, NotificationChannel
from notifications.kinds import MessageKind
from tests.conftest import Clock
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books balance after every test)
from tests.integration.dunning_world import DUE, dun, dunning_world, finance, messages, notices, relay_dunning
from tests.integration.world import World, gql

IN_APP, SMS = NotificationChannel.IN_APP, NotificationChannel.SMS
INBOX = "{ myNotifications(first: 10) { edges { node { kind title body payload } } } }"


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await dunning_world(state, client)


def day(offset: int) -> dt.date:
    return DUE + dt.timedelta(days=offset)


async def test_seven_days_before_the_due_date_each_owner_is_reminded_once(state: AppState, world: World, clock: Clock) -> None:
    # given October's bills, due on 17 November
    # when the pass runs a week before, again that day, and two days later
    first = await dun(state, world, clock, day(-7))
    again = await dun(state, world, clock, day(-7))
    later = await dun(state, world, clock, day(-5))
    # then alice and bob were each reminded once, of what their bill asks and when it falls due
    assert (first.messages, again.messages, later.messages) == (2, 0, 0)
    reminders = await messages(state)
    assert [(m.kind, m.party_id, m.status, m.payload) for m in reminders] == [
        (
            MessageKind.BILL_REMINDER,
            world.ids[f"Party:{owner}"],
            MessageStatus.QUEUED,
            {"amount_due": amount, "due_date": "2026-11-17", "unit": f"A1 {unit}", "bills": 1},
        )
        for owner, unit, amount in (("bob", "102", "336.00"), ("alice", "101", "247.80"))
    ]
    assert [notice.level_code for notice in await notices(state)] == ["T-7", "T-7"]


async def test_an_overdue_notice_states_the_days_overdue_and_the_late_fee_as_of_today_to_the_fen(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    # given nothing paid three days after the due date (0.05 % a day from the due date)
    report = await dun(state, world, clock, day(3))
    assert report.by_level() == {"T+3": 2}
    # when the relay delivers to the inbox
    await relay_dunning(state, IN_APP)
    # then alice reads what she owes, the days overdue and the late fee as of today, to the fen
    answer = await gql(client, INBOX, token=world.token("alice"))
    (notice,) = [edge["node"] for edge in answer["data"]["myNotifications"]["edges"]]
    assert notice["kind"] == "OVERDUE_NOTICE"
    assert notice["body"] == (
        "尊敬的业主（A1 101）：您的物业费¥247.80已于2026年11月17日到期，已逾期3天，截至今日滞纳金¥0.37。"
        "请尽快缴纳，如有疑问请联系物业服务中心。"
    )
    # 336.00 × 0.0005 × 3 days = 0.504
    bob = await gql(client, INBOX, token=world.token("bob"))
    assert bob["data"]["myNotifications"]["edges"][0]["node"]["payload"]["late_fee"] == "0.50"
    assert [m.status for m in await messages(state)] == [MessageStatus.DELIVERED, MessageStatus.DELIVERED]


async def test_a_payment_before_the_relay_sends_cancels_the_notice_and_the_next_pass_speaks_of_what_is_left(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    # given overdue notices queued for both owners
    await dun(state, world, clock, day(3))
    # when alice pays everything and bob a part before the relay gets to them
    await pay(client, world, "alice", "300.00", "alice-all")
    await pay(client, world, "bob", "100.00", "bob-part", payerName="李强")
    await relay_dunning(state, IN_APP, SMS)
    # then both queued notices are cancelled, not sent
    assert [m.status for m in await messages(state)] == [MessageStatus.CANCELLED, MessageStatus.CANCELLED]
    # when the next pass runs: alice owes nothing; bob is told what is left (336.00 + 0.50 late fee − 100.00)
    after = await dun(state, world, clock, day(3))
    await relay_dunning(state, IN_APP, SMS)
    rows = await messages(state)
    assert after.by_level() == {"T+3": 1}
    assert [(m.party_id, m.status, m.payload["amount_due"]) for m in rows] == [
        (world.ids["Party:bob"], MessageStatus.CANCELLED, "336.00"),
        (world.ids["Party:alice"], MessageStatus.CANCELLED, "247.80"),
        (world.ids["Party:bob"], MessageStatus.SENT, "236.50"),
    ]
    assert rows[2].channel is SMS
    # and a week later nothing more: bob's bills heard T+3, alice's are paid
    assert (await dun(state, world, clock, day(10))).notices == ()


async def test_a_month_overdue_account_gets_a_phone_follow_up_for_the_finance_desk(
    state: AppState, world: World, clock: Clock
) -> None:
    # given the firmer notice sent a fortnight after the due date
    fortnight = await dun(state, world, clock, day(15))
    assert fortnight.by_level() == {"T+15": 2}
    # when a month has passed
    month = await dun(state, world, clock, day(30))
    # then each account is handed to the project's FINANCE user to phone, and no owner is messaged
    assert month.by_level() == {"T+30": 2} and (month.messages, month.follow_ups) == (0, 2)
    follow_ups = [m for m in await messages(state) if m.kind == MessageKind.DUNNING_FOLLOW_UP]
    assert [(m.user_id, m.party_id, m.payload["unit"], m.payload["amount_due"], m.payload["days_overdue"]) for m in follow_ups] == [
        (world.users["finance_a"], None, "A1 102", "336.00", 30),
        (world.users["finance_a"], None, "A1 101", "247.80", 30),
    ]
    assert [n.follow_up_user_id for n in await notices(state) if n.level_code == "T+30"] == [world.users["finance_a"]] * 2


async def test_the_firmer_notice_goes_on_its_levels_own_channels(state: AppState, world: World, clock: Clock) -> None:
    await dun(state, world, clock, day(20))
    assert {(m.kind, tuple(m.channels or ())) for m in await messages(state)} == {(MessageKind.FINAL_NOTICE, ("SMS", "IN_APP"))}
    assert DEFAULT_POLICY.levels[3].code == "T+15"


async def test_a_dry_run_decides_and_writes_nothing(state: AppState, world: World, clock: Clock) -> None:
    preview = await dun(state, world, clock, day(3), dry_run=True)
    assert preview.run_id is None and preview.by_level() == {"T+3": 2}
    assert [notice.late_fee for notice in preview.notices] == [Decimal("0.50"), Decimal("0.37")]
    assert await messages(state) == [] and await notices(state) == []


async def test_a_project_that_does_not_dun_sends_nothing(state: AppState, world: World, clock: Clock) -> None:
    await set_dunning_settings(
        state.session_factory, finance(world), project_id=world.ids["Project:lakeside"], now=clock(), enabled=False
    )
    report = await dun(state, world, clock, day(3))
    assert (report.enabled, report.notices) == (False, ())
    assert await messages(state) == []
