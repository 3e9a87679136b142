"""One message per row of a query, written into the outbox in one statement, on both databases: the
same message `enqueue` would write for each recipient, written once however often it is asked for."""

from __future__ import annotations

import pytest
from sqlalchemy import literal, select, union_all

from api.state import AppState
from db.models import Message
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.vocabulary import Locale, MessageStatus, NotificationChannel
from notifications.fanout import enqueue_for_each
from notifications.kinds import MessageKind
from tests.integration.notification_world import Channels, relay
from tests.integration.world import World, build_world, statements_run


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_world(state)


def recipients(world: World, *names: str) -> object:
    """A query of (addressee, party_id, user_id) rows: owners by their party, staff by their login."""
    rows = []
    for name in names:
        if f"Party:{name}" in world.ids:
            party = world.ids[f"Party:{name}"]
            rows.append(select(literal(f"party:{party}").label("addressee"), literal(party).label("party_id"), literal(world.users[name]).label("user_id")))
        else:
            user = world.users[name]
            rows.append(select(literal(f"user:{user}").label("addressee"), literal(None).label("party_id"), literal(user).label("user_id")))
    return union_all(*rows).subquery()


async def fan_out(state: AppState, world: World, *names: str, key: str = "notice:1:", payload: dict[str, object] | None = None) -> int:
    async with unit_of_work(state.session_factory) as work:
        return await enqueue_for_each(
            work.session,
            recipients(world, *names),  # type: ignore[arg-type]
            project_id=world.ids["Project:lakeside"],
            kind=MessageKind.ANNOUNCEMENT,
            key_prefix=key,
            payload=payload if payload is not None else {"title": "停水通知", "summary": "11月5日停水", "announcement_id": 7},
            now=state.clock(),
        )


async def test_every_recipient_gets_the_message_enqueue_would_write_in_one_statement(state: AppState, world: World) -> None:
    with statements_run(state.engine) as statements:
        written = await fan_out(state, world, "alice", "bob", "admin_a")

    inserts = [statement for statement in statements if statement.startswith("INSERT INTO message")]
    assert written == 3 and len(inserts) == 1
    async with state.session_factory() as session:
        rows = (await session.scalars(select(Message).order_by(Message.idempotency_key))).all()
    alice, bob, admin = world.ids["Party:alice"], world.ids["Party:bob"], world.users["admin_a"]
    assert sorted((m.idempotency_key, m.addressee, m.party_id, m.user_id) for m in rows) == sorted(
        [
            (f"notice:1:party:{alice}", f"party:{alice}", alice, world.users["alice"]),
            (f"notice:1:party:{bob}", f"party:{bob}", bob, world.users["bob"]),
            (f"notice:1:user:{admin}", f"user:{admin}", None, admin),
        ]
    )
    for message in rows:
        assert message.payload == {"title": "停水通知", "summary": "11月5日停水", "announcement_id": 7}
        assert (message.kind, message.status, message.locale, message.attempts) == (
            MessageKind.ANNOUNCEMENT,
            MessageStatus.QUEUED,
            Locale.ZH_CN,
            0,
        )
        assert message.next_attempt_at == message.created_at == state.clock()


async def test_asking_again_writes_nothing_twice(state: AppState, world: World) -> None:
    await fan_out(state, world, "alice", "bob")

    again = await fan_out(state, world, "alice", "bob", "admin_a")

    assert again == 1
    async with state.session_factory() as session:
        assert len((await session.scalars(select(Message))).all()) == 3


async def test_the_relay_delivers_them_like_any_other_message(state: AppState, world: World) -> None:
    await fan_out(state, world, "alice", "admin_a")

    report = await relay(state, Channels().senders(NotificationChannel.IN_APP))

    assert report.delivered == 2
    async with state.session_factory() as session:
        assert {m.inbox_seq for m in (await session.scalars(select(Message))).all()} == {1}


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"summary": "没有标题"}, "payload.title"), ({"title": "停水", "when": object()}, "payload.when")],
)
async def test_a_payload_the_kind_cannot_use_is_refused_and_nothing_is_written(
    state: AppState, world: World, payload: dict[str, object], field: str
) -> None:
    with pytest.raises(BadInput) as refused:
        await fan_out(state, world, "alice", payload=payload)

    assert refused.value.field == field
    async with state.session_factory() as session:
        assert (await session.scalars(select(Message))).all() == []
