"""Senders that write many messages at once (a dunning pass), and senders that choose a message's
channels, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from api.state import AppState
from db.models import Message, Party, WechatConsent
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict
from kernel.vocabulary import MessageStatus, NotificationChannel
from notifications.kinds import MessageKind
from notifications.outbox import Envelope, enqueue_many
from tests.integration.notification_world import Channels, relay
from tests.integration.world import World, build_world, count_rows

REMINDER = {"amount_due": "300.00", "due_date": "2026-11-30"}


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_world(state)


def envelope(world: World, key: str, **overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "project_id": world.ids["Project:lakeside"],
        "kind": MessageKind.BILL_REMINDER,
        "idempotency_key": key,
        "payload": REMINDER,
        "party_id": world.ids["Party:alice"],
    }
    fields.update(overrides)
    return Envelope(**fields)  # type: ignore[arg-type]


async def messages(state: AppState) -> list[Message]:
    async with state.session_factory() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def test_many_messages_are_written_at_once_each_to_its_party_and_login(state: AppState, world: World) -> None:
    # given reminders for two owners and a note for a member of staff
    batch = [
        envelope(world, "bulk:alice"),
        envelope(world, "bulk:bob", party_id=world.ids["Party:bob"], payload={"amount_due": "12.50", "due_date": "2026-12-01"}),
        envelope(world, "bulk:staff", kind=MessageKind.ANNOUNCEMENT, payload={"title": "盘点"}, party_id=None, user_id=world.users["finance_a"]),
    ]
    # when they are enqueued in one transaction
    async with unit_of_work(state.session_factory) as work:
        queued = await enqueue_many(work.session, batch, now=state.clock())
    # then each is a QUEUED message addressed as `enqueue` would, in the order given
    rows = await messages(state)
    assert [row.id for row in rows] == queued
    assert [(row.idempotency_key, row.addressee, row.user_id, row.status, row.payload) for row in rows] == [
        ("bulk:alice", f"party:{world.ids['Party:alice']}", world.users["alice"], MessageStatus.QUEUED, REMINDER),
        ("bulk:bob", f"party:{world.ids['Party:bob']}", world.users["bob"], MessageStatus.QUEUED, {"amount_due": "12.50", "due_date": "2026-12-01"}),
        ("bulk:staff", f"user:{world.users['finance_a']}", world.users["finance_a"], MessageStatus.QUEUED, {"title": "盘点"}),
    ]


async def test_a_repeated_batch_writes_nothing_new_and_other_content_under_a_key_conflicts(state: AppState, world: World) -> None:
    async with unit_of_work(state.session_factory) as work:
        first = await enqueue_many(work.session, [envelope(world, "bulk:1"), envelope(world, "bulk:2")], now=state.clock())
    async with unit_of_work(state.session_factory) as work:
        again = await enqueue_many(work.session, [envelope(world, "bulk:2"), envelope(world, "bulk:1")], now=state.clock())
    assert again == first[::-1]
    with pytest.raises(Conflict):
        async with unit_of_work(state.session_factory) as work:
            await enqueue_many(
                work.session,
                [envelope(world, "bulk:3"), envelope(world, "bulk:1", payload={"amount_due": "1.00", "due_date": "2026-11-30"})],
                now=state.clock(),
            )
    assert [row.idempotency_key for row in await messages(state)] == ["bulk:1", "bulk:2"]


async def test_one_unusable_message_refuses_the_whole_batch(state: AppState, world: World) -> None:
    with pytest.raises(BadInput) as refused:
        async with unit_of_work(state.session_factory) as work:
            await enqueue_many(
                work.session,
                [envelope(world, "bulk:ok"), envelope(world, "bulk:foreign", party_id=world.ids["Party:carol"])],
                now=state.clock(),
            )
    assert refused.value.field == "partyId"
    async with state.session_factory() as session:
        assert await count_rows(session, Message) == 0


async def test_a_message_goes_out_on_the_channels_its_sender_chose_in_their_order(state: AppState, world: World) -> None:
    # given alice could take a WeChat message (the reminder's first channel) and has an inbox
    alice = f"party:{world.ids['Party:alice']}"
    async with state.session_factory() as session, session.begin():
        session.add(WechatConsent(addressee=alice, kind="BILL_REMINDER", open_id="o-alice", remaining=3, updated_at=state.clock()))
        await session.execute(update(Party).where(Party.id == world.ids["Party:alice"]).values(email="alice@mail.test"))
    # when one reminder names the in-app inbox only, another e-mail then in-app (no e-mail channel runs)
    async with unit_of_work(state.session_factory) as work:
        await enqueue_many(
            work.session,
            [
                envelope(world, "chosen:inbox", channels=(NotificationChannel.IN_APP,)),
                envelope(
                    world,
                    "chosen:mail",
                    party_id=world.ids["Party:bob"],
                    channels=(NotificationChannel.EMAIL, NotificationChannel.IN_APP),
                ),
            ],
            now=state.clock(),
        )
    channels = Channels()
    await relay(state, channels.senders())
    # then each went out on the first of its channels that reaches the person, and WeChat was never asked
    rows = {row.idempotency_key: row for row in await messages(state)}
    assert rows["chosen:inbox"].channel is NotificationChannel.IN_APP
    assert rows["chosen:inbox"].channels == ["IN_APP"]
    assert rows["chosen:mail"].channel is NotificationChannel.IN_APP
    assert channels.wechat_gateway.accepted == {}
