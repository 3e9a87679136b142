"""Announcements on both databases, through their use cases: the audience resolved into exact recipients
when published, one message each through the outbox, one read receipt per person however often they
read, reminders only to who has not read (re-checked when sent), and a recall that withdraws what has
not gone out and keeps the record."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from announcements.drafting import create_announcement, update_announcement
from announcements.publishing import publish_announcement, recall_announcement
from announcements.reading import list_my_announcements, mark_announcement_read
from announcements.reminders import STILL_WANTED, send_due_reminders
from api.state import AppState
from db.models import Announcement, AnnouncementRecipient, Message, Occupancy, OccupancyRelation, Party, User
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import AnnouncementStatus, MessageStatus, NotificationChannel
from notifications.kinds import MessageKind
from register.accounts import load_principal
from tests.conftest import Clock
from tests.integration.notification_world import Channels, relay
from tests.integration.world import World, build_world, count_rows

IN_APP = NotificationChannel.IN_APP


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_world(state)


async def principal(state: AppState, world: World, name: str) -> Principal:
    async with state.session_factory() as session:
        found = await load_principal(session, world.users[name], today=state.clock().date())
    assert found is not None
    return found


async def draft(state: AppState, world: World, *, by: str = "admin_a", project: str = "Project:lakeside", **audience: Any) -> int:
    announcement = await create_announcement(
        state.session_factory,
        await principal(state, world, by),
        project_id=world.ids[project],
        title="停水通知",
        body="因管道检修，11月5日 9:00–17:00 停水。\n请提前储水。",
        roles=audience.pop("roles", [Role.OWNER]),
        now=state.clock(),
        **audience,
    )
    return announcement.id


async def publish(state: AppState, world: World, announcement_id: int, *, by: str = "admin_a") -> Announcement:
    return await publish_announcement(
        state.session_factory,
        await principal(state, world, by),
        announcement_id=announcement_id,
        now=state.clock(),
        publisher=state.services.publisher,
    )


async def read(state: AppState, world: World, announcement_id: int, name: str) -> None:
    await mark_announcement_read(
        state.session_factory,
        await principal(state, world, name),
        announcement_id=announcement_id,
        now=state.clock(),
        publisher=state.services.publisher,
    )


async def recipients(state: AppState, announcement_id: int) -> dict[str, dt.datetime | None]:
    async with state.session_factory() as session:
        rows = await session.execute(
            select(AnnouncementRecipient.addressee, AnnouncementRecipient.read_at).where(
                AnnouncementRecipient.announcement_id == announcement_id
            )
        )
        return dict(rows.all())


async def messages(state: AppState, kind: MessageKind | None = None) -> list[Message]:
    async with state.session_factory() as session:
        statement = select(Message).order_by(Message.id)
        if kind is not None:
            statement = statement.where(Message.kind == kind)
        return list((await session.scalars(statement)).all())


async def stored(state: AppState, announcement_id: int) -> Announcement:
    async with state.session_factory() as session:
        announcement = await session.get(Announcement, announcement_id)
    assert announcement is not None
    return announcement


def party(world: World, name: str) -> str:
    return f"party:{world.ids[f'Party:{name}']}"


def user(world: World, name: str) -> str:
    return f"user:{world.users[name]}"


# --- the audience, resolved when published --------------------------------------------------------


async def test_the_whole_project_reaches_every_resident_living_there_today_and_no_one_else(state: AppState, world: World) -> None:
    async with state.session_factory() as session, session.begin():
        lakeside = world.ids["Project:lakeside"]
        moved_out = Party(project_id=lakeside, name="周杰")
        moving_in = Party(project_id=lakeside, name="吴刚")
        session.add_all([moved_out, moving_in])
        await session.flush()
        today = state.clock().date()
        session.add_all(
            [
                Occupancy(unit_id=world.ids["Unit:vacant"], party_id=moved_out.id, relation=OccupancyRelation.TENANT,
                          start_date=dt.date(2024, 1, 1), end_date=today - dt.timedelta(days=1)),
                Occupancy(unit_id=world.ids["Unit:vacant"], party_id=moving_in.id, relation=OccupancyRelation.TENANT,
                          start_date=today + dt.timedelta(days=1)),
                # A second unit of alice's: still one recipient.
                Occupancy(unit_id=world.ids["Unit:shop"], party_id=world.ids["Party:alice"], relation=OccupancyRelation.OWNER,
                          start_date=dt.date(2024, 1, 1)),
            ]
        )
    announcement_id = await draft(state, world)

    published = await publish(state, world, announcement_id)

    assert set(await recipients(state, announcement_id)) == {party(world, "alice"), party(world, "bob")}
    assert (published.status, published.recipient_count, published.read_count) == (AnnouncementStatus.PUBLISHED, 2, 0)
    sent = await messages(state, MessageKind.ANNOUNCEMENT)
    assert sorted(m.idempotency_key for m in sent) == sorted(
        f"announcement:{announcement_id}:{addressee}" for addressee in (party(world, "alice"), party(world, "bob"))
    )
    assert {m.payload["title"] for m in sent} == {"停水通知"}
    assert {m.payload["summary"] for m in sent} == {"因管道检修，11月5日 9:00–17:00 停水。…"}


async def test_places_narrow_the_residents_and_staff_roles_add_their_logins(state: AppState, world: World) -> None:
    by_building = await draft(state, world, building_ids=[world.ids["Building:a1"]], roles=[Role.OWNER, Role.TECHNICIAN])
    by_unit = await draft(state, world, unit_ids=[world.ids["Unit:bob"]])
    staff_only = await draft(state, world, roles=[Role.ADMIN, Role.FINANCE])

    for announcement_id in (by_building, by_unit, staff_only):
        await publish(state, world, announcement_id)

    assert set(await recipients(state, by_building)) == {party(world, "alice"), party(world, "bob"), user(world, "tech_a")}
    assert set(await recipients(state, by_unit)) == {party(world, "bob")}
    assert set(await recipients(state, staff_only)) == {user(world, "admin_a"), user(world, "finance_a")}


async def test_an_audience_with_no_one_in_it_is_refused_and_the_draft_stays_a_draft(state: AppState, world: World) -> None:
    announcement_id = await draft(state, world, unit_ids=[world.ids["Unit:vacant"]])

    with pytest.raises(BadInput) as refused:
        await publish(state, world, announcement_id)

    assert refused.value.field == "audience"
    assert (await stored(state, announcement_id)).status is AnnouncementStatus.DRAFT
    async with state.session_factory() as session:
        assert await count_rows(session, AnnouncementRecipient) == 0
        assert await count_rows(session, Message) == 0


async def test_another_projects_announcement_or_places_answer_not_found(state: AppState, world: World) -> None:
    announcement_id = await draft(state, world)

    with pytest.raises(NotFound):
        await publish(state, world, announcement_id, by="admin_b")
    with pytest.raises(NotFound):
        await update_announcement(
            state.session_factory, await principal(state, world, "admin_b"), announcement_id=announcement_id, now=state.clock(), title="改"
        )
    with pytest.raises(NotFound) as refused:
        await draft(state, world, building_ids=[world.ids["Building:b1"]])
    assert refused.value.field == "audience.buildingIds"
    with pytest.raises(NotFound) as refused:
        await draft(state, world, by="admin_b")
    assert refused.value.field == "projectId"


async def test_a_published_announcement_is_neither_changed_nor_published_again(state: AppState, world: World) -> None:
    announcement_id = await draft(state, world)
    await publish(state, world, announcement_id)

    with pytest.raises(Conflict):
        await update_announcement(
            state.session_factory, await principal(state, world, "admin_a"), announcement_id=announcement_id, now=state.clock(), title="改"
        )
    with pytest.raises(Conflict):
        await publish(state, world, announcement_id)
    assert len(await messages(state)) == 2


# --- read receipts ---------------------------------------------------------------------------------


async def test_reading_twice_and_from_a_second_login_of_the_household_leaves_one_receipt(state: AppState, world: World, clock: Clock) -> None:
    async with state.session_factory() as session, session.begin():
        spouse = User(email="spouse@example.test", display_name="spouse", password_hash="x", party_id=world.ids["Party:alice"])
        session.add(spouse)
        await session.flush()
        world.users["spouse"] = spouse.id
    announcement_id = await draft(state, world)
    await publish(state, world, announcement_id)
    await relay(state, Channels().senders(IN_APP))
    first_read = clock.advance(minutes=5)

    await read(state, world, announcement_id, "alice")
    clock.advance(minutes=5)
    await read(state, world, announcement_id, "alice")
    await read(state, world, announcement_id, "spouse")

    assert await recipients(state, announcement_id) == {party(world, "alice"): first_read, party(world, "bob"): None}
    assert (await stored(state, announcement_id)).read_count == 1
    in_app = {m.addressee: m.read_at for m in await messages(state, MessageKind.ANNOUNCEMENT)}
    assert in_app == {party(world, "alice"): first_read, party(world, "bob"): None}


async def test_someone_not_addressed_or_a_draft_answers_not_found(state: AppState, world: World) -> None:
    to_bob = await draft(state, world, unit_ids=[world.ids["Unit:bob"]])
    unpublished = await draft(state, world)
    await publish(state, world, to_bob)

    for name, announcement_id in (("alice", to_bob), ("carol", to_bob), ("admin_a", to_bob), ("bob", unpublished)):
        with pytest.raises(NotFound):
            await read(state, world, announcement_id, name)
    assert (await stored(state, to_bob)).read_count == 0


async def test_my_announcements_are_only_those_published_to_me(state: AppState, world: World) -> None:
    to_everyone = await draft(state, world)
    to_bob = await draft(state, world, unit_ids=[world.ids["Unit:bob"]])
    await draft(state, world)
    for announcement_id in (to_everyone, to_bob):
        await publish(state, world, announcement_id)
    await read(state, world, to_everyone, "bob")

    async def mine(name: str, unread_only: bool = False) -> tuple[list[tuple[int, bool]], int, int]:
        views, total, unread = await list_my_announcements(
            state.session_factory, await principal(state, world, name), limit=10, before_id=None, unread_only=unread_only
        )
        return [(view.id, view.read_at is not None) for view in views], total, unread

    assert await mine("alice") == ([(to_everyone, False)], 1, 1)
    assert await mine("bob") == ([(to_bob, False), (to_everyone, True)], 2, 1)
    assert await mine("bob", unread_only=True) == ([(to_bob, False)], 1, 1)
    assert await mine("carol") == ([], 0, 0)
    assert await mine("admin_a") == ([], 0, 0)


# --- reminders -------------------------------------------------------------------------------------


async def remind(state: AppState) -> int:
    return await send_due_reminders(state.session_factory, now=state.clock())


async def test_reminders_go_only_to_who_has_not_read_up_to_k_rounds_n_hours_apart(state: AppState, world: World, clock: Clock) -> None:
    announcement_id = await draft(state, world, reminder_after_hours=24, reminder_limit=2)
    await publish(state, world, announcement_id)
    await read(state, world, announcement_id, "alice")

    clock.advance(hours=23)
    assert await remind(state) == 0
    clock.advance(hours=1)
    assert await remind(state) == 1
    assert await remind(state) == 0
    clock.advance(hours=24)
    assert await remind(state) == 1
    clock.advance(days=10)
    assert await remind(state) == 0

    reminders = await messages(state, MessageKind.ANNOUNCEMENT_REMINDER)
    assert [(m.idempotency_key, m.addressee) for m in reminders] == [
        (f"announcement:{announcement_id}:reminder:1:{party(world, 'bob')}", party(world, "bob")),
        (f"announcement:{announcement_id}:reminder:2:{party(world, 'bob')}", party(world, "bob")),
    ]
    announcement = await stored(state, announcement_id)
    assert (announcement.reminders_sent, announcement.next_reminder_at) == (2, None)


async def test_a_reminder_to_someone_who_read_meanwhile_is_cancelled_when_it_would_be_sent(
    state: AppState, world: World, clock: Clock
) -> None:
    announcement_id = await draft(state, world, reminder_after_hours=24, reminder_limit=1)
    await publish(state, world, announcement_id)
    clock.advance(hours=24)
    assert await remind(state) == 2
    await read(state, world, announcement_id, "bob")

    report = await relay(state, Channels().senders(IN_APP), still_wanted=STILL_WANTED)

    outcomes = {(m.kind, m.addressee): m.status for m in await messages(state)}
    assert outcomes == {
        (MessageKind.ANNOUNCEMENT, party(world, "alice")): MessageStatus.DELIVERED,
        (MessageKind.ANNOUNCEMENT, party(world, "bob")): MessageStatus.DELIVERED,
        (MessageKind.ANNOUNCEMENT_REMINDER, party(world, "alice")): MessageStatus.DELIVERED,
        (MessageKind.ANNOUNCEMENT_REMINDER, party(world, "bob")): MessageStatus.CANCELLED,
    }
    assert (report.delivered, report.cancelled) == (3, 1)


async def test_reminders_wait_in_the_outbox_through_quiet_hours(state: AppState, world: World, clock: Clock) -> None:
    # Published at 17:00 in Shanghai: the first round falls due at 23:00, inside the quiet hours.
    announcement_id = await draft(state, world, reminder_after_hours=6, reminder_limit=1)
    await publish(state, world, announcement_id)
    await relay(state, Channels().senders(IN_APP), still_wanted=STILL_WANTED)
    clock.advance(hours=6)
    await remind(state)

    report = await relay(state, Channels().senders(IN_APP), still_wanted=STILL_WANTED)

    assert report.deferred == 2
    morning = dt.datetime(2026, 11, 3, 0, 0, tzinfo=dt.UTC)  # 08:00 in Shanghai
    assert {m.next_attempt_at for m in await messages(state, MessageKind.ANNOUNCEMENT_REMINDER)} == {morning}


# --- recall ----------------------------------------------------------------------------------------


async def test_a_recall_withdraws_what_has_not_gone_out_hides_it_and_keeps_the_record(
    state: AppState, world: World, clock: Clock
) -> None:
    announcement_id = await draft(state, world, reminder_after_hours=24, reminder_limit=2)
    await publish(state, world, announcement_id)
    await relay(state, Channels().senders(IN_APP), still_wanted=STILL_WANTED)
    await read(state, world, announcement_id, "alice")
    clock.advance(hours=24)
    await remind(state)

    recalled = await recall_announcement(
        state.session_factory,
        await principal(state, world, "admin_a"),
        announcement_id=announcement_id,
        reason="通知有误",
        now=clock(),
    )

    assert (recalled.status, recalled.recall_reason, recalled.next_reminder_at) == (AnnouncementStatus.RECALLED, "通知有误", None)
    statuses = {(m.kind, m.addressee): m.status for m in await messages(state)}
    assert statuses == {
        (MessageKind.ANNOUNCEMENT, party(world, "alice")): MessageStatus.DELIVERED,
        (MessageKind.ANNOUNCEMENT, party(world, "bob")): MessageStatus.DELIVERED,
        (MessageKind.ANNOUNCEMENT_REMINDER, party(world, "bob")): MessageStatus.CANCELLED,
    }
    assert set(await recipients(state, announcement_id)) == {party(world, "alice"), party(world, "bob")}
    assert (await recipients(state, announcement_id))[party(world, "alice")] is not None
    with pytest.raises(NotFound):
        await read(state, world, announcement_id, "bob")
    views, total, _ = await list_my_announcements(
        state.session_factory, await principal(state, world, "bob"), limit=10, before_id=None, unread_only=False
    )
    assert (views, total) == ([], 0)
    clock.advance(days=3)
    assert await remind(state) == 0
    with pytest.raises(Conflict):
        await recall_announcement(
            state.session_factory, await principal(state, world, "admin_a"), announcement_id=announcement_id, reason=None, now=clock()
        )


async def test_a_message_a_relay_claimed_before_the_recall_is_not_sent(state: AppState, world: World) -> None:
    announcement_id = await draft(state, world)
    await publish(state, world, announcement_id)
    async with state.session_factory() as session, session.begin():
        # As if the recall had come between the relay's claim and its send-time check.
        announcement = await session.get(Announcement, announcement_id)
        assert announcement is not None
        announcement.status = AnnouncementStatus.RECALLED

    report = await relay(state, Channels().senders(IN_APP), still_wanted=STILL_WANTED)

    assert report.cancelled == 2
    assert {m.status for m in await messages(state)} == {MessageStatus.CANCELLED}


async def test_two_reads_at_once_by_one_household_leave_one_receipt_and_count_once(state: AppState, world: World) -> None:
    announcement_id = await draft(state, world)
    await publish(state, world, announcement_id)

    await asyncio.gather(*(read(state, world, announcement_id, "alice") for _ in range(4)))

    receipts = await recipients(state, announcement_id)
    assert receipts[party(world, "alice")] is not None and receipts[party(world, "bob")] is None
    assert (await stored(state, announcement_id)).read_count == 1
