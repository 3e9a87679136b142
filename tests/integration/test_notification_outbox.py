"""The outbox on both databases: a message exists exactly when its cause committed, and the relay sends
each one once, through a real SMTP server, however the relay or the server is interrupted."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update

from api.state import AppState
from db.models import DeliveryAttempt, Message, Party
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict
from kernel.vocabulary import DeliveryStatus, MessageStatus, NotificationChannel
from notifications.channels import Accepted, ChannelSender, Outgoing
from notifications.email import message_id_for
from notifications.kinds import MessageKind
from notifications.outbox import cancel, enqueue
from notifications.relay import DEFAULT_LEASE
from tests.conftest import Clock
from tests.integration.notification_world import Channels, queue, relay, smtp_server
from tests.integration.world import World, build_world, count_rows

EMAIL = NotificationChannel.EMAIL
PAID = MessageKind.PAYMENT_CONFIRMATION
SENDER = "湖畔物业 <noreply@lakeside.test>"


@pytest.fixture
async def world(state: AppState) -> World:
    world = await build_world(state)
    async with state.session_factory() as session, session.begin():
        for name in ("alice", "bob"):
            await session.execute(
                update(Party).where(Party.id == world.ids[f"Party:{name}"]).values(email=f"{name}@mail.test")
            )
    return world


async def messages(state: AppState) -> list[Message]:
    async with state.session_factory() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def attempts(state: AppState, message_id: int) -> list[DeliveryAttempt]:
    async with state.session_factory() as session:
        rows = await session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.message_id == message_id).order_by(DeliveryAttempt.id)
        )
        return list(rows.all())


# --- the transactional outbox ----------------------------------------------------------------------


async def test_a_message_enqueued_in_a_transaction_that_rolls_back_is_never_there(state: AppState, world: World) -> None:
    # given a change that enqueues a message and then fails
    with pytest.raises(RuntimeError):
        async with unit_of_work(state.session_factory) as work:
            await enqueue(
                work.session,
                project_id=world.ids["Project:lakeside"],
                kind=MessageKind.BILL_REMINDER,
                idempotency_key="reminder:1",
                payload={"amount_due": "10.00", "due_date": "2026-11-30"},
                party_id=world.ids["Party:alice"],
                now=state.clock(),
            )
            raise RuntimeError("the cause of the message failed")
    # then nothing is in the outbox, and a relay pass finds nothing to send
    async with state.session_factory() as session:
        assert await count_rows(session, Message) == 0
    assert (await relay(state, Channels().senders())).claimed == 0


async def test_enqueueing_the_same_key_again_answers_the_same_message_and_another_payload_conflicts(
    state: AppState, world: World
) -> None:
    first = await queue(state, world, "reminder:2")
    assert await queue(state, world, "reminder:2") == first
    with pytest.raises(Conflict):
        await queue(state, world, "reminder:2", payload={"amount_due": "1.00", "due_date": "2026-11-30"})
    assert [m.id for m in await messages(state)] == [first]


async def test_enqueue_refuses_a_payload_without_the_fields_its_kind_needs(state: AppState, world: World) -> None:
    with pytest.raises(BadInput) as refused:
        await queue(state, world, "overdue:1", kind=MessageKind.OVERDUE_NOTICE, payload={"amount_due": "1.00"})
    assert refused.value.field == "payload.days_overdue"
    assert await messages(state) == []


async def test_the_recipient_is_found_from_the_party_or_the_login(state: AppState, world: World) -> None:
    by_party = await queue(state, world, "a", kind=MessageKind.ANNOUNCEMENT)
    by_login = await queue(state, world, "b", kind=MessageKind.ANNOUNCEMENT, party=None, user="alice")
    by_staff_login = await queue(state, world, "c", kind=MessageKind.ANNOUNCEMENT, party=None, user="admin_a")
    rows = {m.id: m for m in await messages(state)}
    assert (rows[by_party].addressee, rows[by_party].user_id) == (f"party:{world.ids['Party:alice']}", world.users["alice"])
    assert rows[by_login].addressee == rows[by_party].addressee
    assert (rows[by_staff_login].addressee, rows[by_staff_login].party_id) == (f"user:{world.users['admin_a']}", None)


async def test_a_cancelled_message_is_not_sent(state: AppState, world: World) -> None:
    await queue(state, world, "reminder:3")
    async with unit_of_work(state.session_factory) as work:
        assert await cancel(work.session, idempotency_keys=["reminder:3"]) == 1
    report = await relay(state, Channels().senders())
    assert report.claimed == 0
    assert [m.status for m in await messages(state)] == [MessageStatus.CANCELLED]


# --- e-mail through a real SMTP server ------------------------------------------------------------


async def test_an_email_goes_through_a_real_smtp_server_with_a_message_id_from_its_key(
    state: AppState, world: World, tmp_path: Path
) -> None:
    async with smtp_server(tmp_path) as server:
        senders = Channels(smtp_port=server.port).senders(EMAIL)
        message_id = await queue(state, world, "reminder:mail")

        report = await relay(state, senders)
        await senders[EMAIL].aclose()

        assert (report.claimed, report.sent) == (1, 1)
        (received,) = server.received()
        assert received["message_id"] == message_id_for("reminder:mail", SENDER)
        assert received["to"] == ["alice@mail.test"]
        assert "¥1,234.50" in received["body"] and "2026年11月30日" in received["body"]
    (message,) = await messages(state)
    assert (message.status, message.channel, message.provider_message_id) == (
        MessageStatus.SENT, EMAIL, received["message_id"]
    )
    (attempt,) = await attempts(state, message_id)
    assert (attempt.status, attempt.template_version, len(attempt.rendered_hash or "")) == (DeliveryStatus.SENT, 0, 64)


class StopsAfterTheProviderCall:
    """A channel whose relay is stopped right after the provider accepted messages and before their
    outcomes are recorded: it sends, notes the message's key, and waits to be cancelled."""

    def __init__(self, inner: ChannelSender, *, stop_after: int) -> None:
        self.channel = inner.channel
        self._inner = inner
        self._stop_after = stop_after
        self.accepted_keys: list[str] = []
        self.provider_accepted = asyncio.Event()

    def reaches(self, recipient: object) -> bool:
        return self._inner.reaches(recipient)  # type: ignore[arg-type]

    async def send(self, outgoing: Outgoing) -> Accepted:
        await self._inner.send(outgoing)
        self.accepted_keys.append(outgoing.idempotency_key)
        if len(self.accepted_keys) == self._stop_after:
            self.provider_accepted.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable: the relay is cancelled here")

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_relay_stopped_between_the_provider_and_its_commit_delivers_every_message_once(
    state: AppState, world: World, clock: Clock, tmp_path: Path
) -> None:
    async with smtp_server(tmp_path) as server:
        keys = [f"reminder:{n}" for n in range(5)]
        for n, key in enumerate(keys):
            # payment confirmations: no frequency cap holds any of them back
            await queue(state, world, key, kind=PAID, party="Party:alice" if n % 2 else "Party:bob")
        # given a relay sending two at a time that is cancelled once the SMTP server accepted two messages
        # (the other three written SENDING, waiting their turn)
        stopping = StopsAfterTheProviderCall(Channels(smtp_port=server.port).senders(EMAIL)[EMAIL], stop_after=2)
        task = asyncio.create_task(relay(state, {EMAIL: stopping}, concurrency=2))
        await asyncio.wait_for(stopping.provider_accepted.wait(), timeout=10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await stopping.aclose()
        for message in await messages(state):
            assert (message.status, message.lease_token is not None) == (MessageStatus.QUEUED, True)
            assert [a.status for a in await attempts(state, message.id)] == [DeliveryStatus.SENDING]
        # when another relay runs before the lease expires, it leaves the claimed messages alone
        senders = Channels(smtp_port=server.port).senders(EMAIL)
        assert (await relay(state, senders)).claimed == 0
        # and once it expired, it finishes them all
        clock.advance(seconds=DEFAULT_LEASE.total_seconds() + 1)
        report = await relay(state, senders)
        await senders[EMAIL].aclose()

        # then every message is SENT, and the mail store holds each exactly once
        assert report.sent == 5
        rows = await messages(state)
        assert [m.status for m in rows] == [MessageStatus.SENT] * 5
        mailbox = server.mailbox()
        assert sorted(mailbox) == sorted(message_id_for(key, SENDER) for key in keys)
        # the two messages whose outcomes were lost went over the wire twice, each with one Message-ID
        transmissions = Counter(entry["message_id"] for entry in server.received())
        assert len(stopping.accepted_keys) == 2
        assert transmissions == {message_id_for(key, SENDER): 2 if key in stopping.accepted_keys else 1 for key in keys}
        for message in rows:
            assert [a.status for a in await attempts(state, message.id)] == [DeliveryStatus.FAILED, DeliveryStatus.SENT]


async def test_an_smtp_server_killed_mid_conversation_loses_nothing_and_duplicates_nothing(
    state: AppState, world: World, clock: Clock, tmp_path: Path
) -> None:
    async with smtp_server(tmp_path) as server:
        server.stop()
        # given a server that dies while the third message's DATA is in flight
        await server.start(die_at=3)
        keys = [f"reminder:{n}" for n in range(6)]
        for n, key in enumerate(keys):
            # payment confirmations: no frequency cap holds any of them back
            await queue(state, world, key, kind=PAID, party="Party:alice" if n % 2 else "Party:bob")
        senders = Channels(smtp_port=server.port).senders(EMAIL)

        first_pass = await relay(state, senders)

        assert server.exited()
        # (sent concurrently, the messages answered before the server died are SENT, the rest wait)
        assert first_pass.sent <= 2 and first_pass.sent + first_pass.retrying == 6
        # when the server is back and the retry delay has passed
        await server.start()
        clock.advance(seconds=31)
        second_pass = await relay(state, senders)
        await senders[EMAIL].aclose()

        # then all six are SENT and the mail store holds each once
        assert second_pass.sent == first_pass.retrying
        assert [m.status for m in await messages(state)] == [MessageStatus.SENT] * 6
        assert sorted(server.mailbox()) == sorted(message_id_for(key, SENDER) for key in keys)
        # the three the dead server logged, then each unanswered one again: the one in flight twice
        assert len(server.received()) == 3 + first_pass.retrying


# --- pacing and preferences -------------------------------------------------------------------------


async def test_quiet_hours_hold_a_reminder_until_eight_in_the_projects_time_zone(
    state: AppState, world: World, clock: Clock
) -> None:
    clock.now = dt.datetime(2026, 11, 2, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai
    channels = Channels()
    message_id = await queue(state, world, "reminder:night")

    report = await relay(state, channels.senders())

    (message,) = await messages(state)
    assert (report.deferred, message.status) == (1, MessageStatus.THROTTLED)
    assert message.next_attempt_at == dt.datetime(2026, 11, 3, 0, 0, tzinfo=dt.UTC)  # 08:00 in Shanghai
    assert channels.wechat_gateway.accepted == {} and channels.sms_gateway.accepted == {}
    assert await attempts(state, message_id) == []
    clock.now = dt.datetime(2026, 11, 3, 0, 0, tzinfo=dt.UTC)
    assert (await relay(state, channels.senders())).sent == 1


async def test_security_and_payment_confirmations_go_out_in_quiet_hours(state: AppState, world: World, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)  # 01:00 in Shanghai
    await queue(state, world, "paid:1", kind=MessageKind.PAYMENT_CONFIRMATION)
    await queue(state, world, "security:1", kind=MessageKind.SECURITY_ALERT)

    report = await relay(state, Channels().senders())

    assert report.deferred == 0
    assert {m.status for m in await messages(state)} <= {MessageStatus.SENT, MessageStatus.DELIVERED}


async def test_a_second_reminder_within_a_day_waits_for_the_cap_and_is_then_sent(
    state: AppState, world: World, clock: Clock
) -> None:
    channels = Channels()
    await queue(state, world, "reminder:a")
    assert (await relay(state, channels.senders())).sent == 1
    clock.advance(hours=1)
    await queue(state, world, "reminder:b")

    assert (await relay(state, channels.senders())).deferred == 1
    held = (await messages(state))[1]
    assert (held.status, held.next_attempt_at) == (MessageStatus.THROTTLED, clock.now + dt.timedelta(hours=23))
    clock.advance(hours=23)
    assert (await relay(state, channels.senders())).sent == 1


class HeldInFlight:
    """The in-app channel, holding the first message in flight until the test lets it go; later ones go
    through at once."""

    channel = NotificationChannel.IN_APP

    def __init__(self) -> None:
        self.in_flight = asyncio.Event()
        self.release = asyncio.Event()
        self.sent: list[str] = []

    def reaches(self, recipient: object) -> bool:
        return True

    async def send(self, outgoing: Outgoing) -> Accepted:
        if not self.in_flight.is_set():
            self.in_flight.set()
            await self.release.wait()
        self.sent.append(outgoing.idempotency_key)
        return Accepted(provider_message_id=None, delivered=True)

    async def aclose(self) -> None:
        return None


async def test_a_relay_counts_what_another_has_in_flight_against_the_cap(state: AppState, world: World, clock: Clock) -> None:
    # given two reminders for Alice (one a day), the first one in flight in one relay
    await queue(state, world, "reminder:first")
    await queue(state, world, "reminder:second")
    held = HeldInFlight()
    first_relay = asyncio.create_task(relay(state, {NotificationChannel.IN_APP: held}, batch_size=1))
    await asyncio.wait_for(held.in_flight.wait(), timeout=10)

    # when a second relay takes the second reminder at the same instant
    second = await relay(state, {NotificationChannel.IN_APP: held}, batch_size=1)
    held.release.set()
    first = await first_relay

    # then only the first goes out; the second waits for the cap's day, counted from the first's start
    assert (first.delivered, second.claimed, second.deferred, held.sent) == (1, 1, 1, ["reminder:first"])
    by_key = {m.idempotency_key: m for m in await messages(state)}
    assert by_key["reminder:first"].status is MessageStatus.DELIVERED
    assert (by_key["reminder:second"].status, by_key["reminder:second"].next_attempt_at) == (
        MessageStatus.THROTTLED, clock.now + dt.timedelta(days=1)
    )
    assert await attempts(state, by_key["reminder:second"].id) == []


class Brief:
    """The in-app channel with a provider's round trip, so concurrent relays overlap."""

    channel = NotificationChannel.IN_APP

    def reaches(self, recipient: object) -> bool:
        return True

    async def send(self, outgoing: Outgoing) -> Accepted:
        await asyncio.sleep(0.05)
        return Accepted(provider_message_id=None, delivered=True)

    async def aclose(self) -> None:
        return None


async def test_relays_starting_one_persons_capped_messages_at_once_send_one(state: AppState, world: World) -> None:
    # given four reminders for Alice and four for Bob, one a day allowed each
    for n in range(4):
        await queue(state, world, f"reminder:alice:{n}")
        await queue(state, world, f"reminder:bob:{n}", party="Party:bob")

    # when four relays start at the same instant, two messages each
    reports = await asyncio.gather(*(relay(state, {NotificationChannel.IN_APP: Brief()}, batch_size=2) for _ in range(4)))

    # then each owner got one, and the other three wait
    assert sum(r.claimed for r in reports) == 8
    assert (sum(r.delivered for r in reports), sum(r.deferred for r in reports)) == (2, 6)
    rows = await messages(state)
    for addressee in {m.addressee for m in rows}:
        statuses = sorted(m.status for m in rows if m.addressee == addressee)
        assert statuses == sorted([MessageStatus.DELIVERED] + [MessageStatus.THROTTLED] * 3)
    async with state.session_factory() as session:
        assert await count_rows(session, DeliveryAttempt) == 2


async def test_what_the_owner_chose_decides_the_channel_and_a_muted_kind_is_disabled(
    state: AppState, world: World
) -> None:
    from db.models import NotificationPreference

    alice = f"party:{world.ids['Party:alice']}"
    async with state.session_factory() as session, session.begin():
        session.add(
            NotificationPreference(
                addressee=alice, channels=["IN_APP"], muted_kinds=["ANNOUNCEMENT"], updated_at=state.clock()
            )
        )
    channels = Channels()
    reminder = await queue(state, world, "reminder:c")
    announcement = await queue(state, world, "announcement:1", kind=MessageKind.ANNOUNCEMENT)

    await relay(state, channels.senders())

    rows = {m.id: m for m in await messages(state)}
    assert (rows[reminder].status, rows[reminder].channel) == (MessageStatus.DELIVERED, NotificationChannel.IN_APP)
    assert rows[reminder].inbox_seq == 1
    assert rows[announcement].status is MessageStatus.DISABLED_BY_USER
    assert channels.sms_gateway.submissions == 0


async def test_one_wechat_consent_buys_one_message_and_then_the_next_channel_is_tried(
    state: AppState, world: World, clock: Clock
) -> None:
    from db.models import WechatConsent

    alice = f"party:{world.ids['Party:alice']}"
    async with state.session_factory() as session, session.begin():
        session.add(WechatConsent(addressee=alice, kind="BILL_REMINDER", open_id="o-alice", remaining=1, updated_at=state.clock()))
    channels = Channels()
    first = await queue(state, world, "reminder:d")
    assert (await relay(state, channels.senders())).sent == 1
    clock.advance(days=1)
    second = await queue(state, world, "reminder:e")

    assert (await relay(state, channels.senders())).sent == 1

    rows = {m.id: m for m in await messages(state)}
    assert (rows[first].channel, rows[second].channel) == (NotificationChannel.WECHAT, NotificationChannel.SMS)
    assert len(channels.wechat_gateway.accepted) == 1
    async with state.session_factory() as session:
        consent = await session.scalar(select(WechatConsent))
        assert consent is not None and consent.remaining == 0


async def test_an_sms_gateway_refusal_falls_through_to_the_next_channel(state: AppState, world: World) -> None:
    from tests.integration.world import ALICE_PHONE

    channels = Channels()
    channels.sms_gateway.refuse_phones = frozenset({ALICE_PHONE})
    message_id = await queue(state, world, "overdue:2", kind=MessageKind.OVERDUE_NOTICE, payload={
        "amount_due": "300.00", "due_date": "2026-10-31", "days_overdue": 2, "late_fee": "0.90"
    })

    await relay(state, channels.senders())

    (message,) = await messages(state)
    assert (message.status, message.channel) == (MessageStatus.DELIVERED, NotificationChannel.IN_APP)
    tried = [(a.channel, a.status) for a in await attempts(state, message_id)]
    assert tried == [(NotificationChannel.SMS, DeliveryStatus.FAILED), (NotificationChannel.IN_APP, DeliveryStatus.DELIVERED)]


async def test_a_message_no_channel_reaches_fails(state: AppState, world: World) -> None:
    await queue(state, world, "security:2", kind=MessageKind.SECURITY_ALERT, party="Party:carol", project="Project:hillside")

    await relay(state, {})

    (message,) = await messages(state)
    assert (message.status, message.last_error) == (MessageStatus.FAILED, "no channel reaches the recipient")


class Unreachable:
    """A channel whose provider cannot be reached."""

    channel = NotificationChannel.SMS

    def reaches(self, recipient: object) -> bool:
        return True

    async def send(self, outgoing: Outgoing) -> Accepted:
        from notifications.channels import SendFailed

        raise SendFailed("connection refused", permanent=False)

    async def aclose(self) -> None:
        return None


async def test_a_message_whose_channels_keep_failing_is_retried_with_growing_delays_then_failed(
    state: AppState, world: World, clock: Clock
) -> None:
    from notifications.relay import MAX_ROUNDS

    await queue(state, world, "security:3", kind=MessageKind.SECURITY_ALERT)
    delays = []
    for _ in range(MAX_ROUNDS):
        await relay(state, {NotificationChannel.SMS: Unreachable()})
        (message,) = await messages(state)
        if message.status is MessageStatus.FAILED:
            break
        delays.append((message.next_attempt_at - clock.now).total_seconds())
        clock.now = message.next_attempt_at

    assert delays == [30, 60, 120, 240, 480, 960, 1920]
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.FAILED, MAX_ROUNDS, "SMS: connection refused")


async def test_two_relays_at_once_share_the_messages_and_deliver_each_once(state: AppState, world: World) -> None:
    for n in range(30):
        await queue(state, world, f"paid:{n}", kind=PAID, party="Party:alice" if n % 2 else "Party:bob")
    senders = Channels().senders(NotificationChannel.IN_APP)

    reports = await asyncio.gather(*(relay(state, senders, batch_size=10) for _ in range(4)))

    assert sum(report.claimed for report in reports) == sum(report.delivered for report in reports) == 30
    rows = await messages(state)
    assert {m.status for m in rows} == {MessageStatus.DELIVERED}
    for addressee in {m.addressee for m in rows}:
        assert sorted(m.inbox_seq for m in rows if m.addressee == addressee) == list(range(1, 16))
    async with state.session_factory() as session:
        assert await count_rows(session, DeliveryAttempt) == 30
