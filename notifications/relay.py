"""The relay: claims due messages of the outbox, paces, routes, renders and sends them, and records every
attempt.

One pass (`relay_once`) at an injected `now`:

1. **Claim** up to `batch_size` due messages (QUEUED or THROTTLED, `next_attempt_at` reached, no live
   lease) by giving them a lease: PostgreSQL picks them `FOR NO KEY UPDATE SKIP LOCKED`, so any number
   of `courtyard worker` processes share the work; SQLite's `BEGIN IMMEDIATE` lets one claimer in at a
   time.
2. For each message, in one transaction that locks it again and checks the lease is still this pass's:
   quiet hours and the frequency cap may defer it (THROTTLED, never dropped); the addressee's choices
   and reach pick the channels (`notifications.routing`); the first one's template is rendered and an
   attempt is written SENDING, and committed, *before* the provider is called.
3. The channel sends, outside any transaction. The outcome is recorded in the next transaction: the
   attempt SENT / DELIVERED / FAILED with the provider's id or the error; on success the message too
   (an in-app delivery numbers it in the addressee's inbox there, exactly once); on failure the next
   channel's attempt is prepared in the same transaction. When every channel failed, the message is
   tried again after a growing delay, and FAILED after `MAX_ROUNDS`, or at once when no failure could
   pass by waiting.

A relay that stops between 2 and 3 (killed, or its task cancelled) leaves the message leased and its
attempt SENDING. Once the lease expires the next pass claims it and resends on the *same channel* with
the *same idempotency key*, marked `resumed`: gateways that can be asked whether they took it already
are asked; the e-mail goes out again with the same Message-ID, which mail stores keep once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    DeliveryAttempt,
    InboxCounter,
    Message,
    NotificationPreference,
    Party,
    Project,
    Technician,
    User,
    WechatConsent,
)
from db.personal_data import PersonalDataCipher
from db.unit_of_work import UnitOfWork, unit_of_work
from dispatch.events import Publisher
from kernel.vocabulary import DeliveryStatus, Locale, MessageStatus, NotificationChannel
from notifications.channels import Accepted, Channels, Outgoing, Recipient, SendFailed
from notifications.kinds import MessageKind, rules_of
from notifications.outbox import PENDING
from notifications.pacing import DEFAULT_QUIET_HOURS, QuietHours, earliest_send, retry_delay
from notifications.rendering import Rendered, TemplateFailed, render
from notifications.routing import Choices, RouteOutcome, choose_route
from notifications.templates import current_template
from notifications.wechat import NO_CONSENT

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LEASE",
    "MAX_ROUNDS",
    "RelayReport",
    "StillWanted",
    "inbox_channel",
    "quiet_hours_of",
    "relay_once",
]

log = logging.getLogger("courtyard.notifications.relay")

DEFAULT_BATCH_SIZE = 100
DEFAULT_LEASE = dt.timedelta(minutes=2)
"""How long a claim holds: longer than one message's send (the SMTP timeout is 30 s)."""
MAX_ROUNDS = 8
"""Rounds of trying every channel before a message is FAILED: with the backoff about two hours."""

StillWanted = Callable[[AsyncSession, Message, dt.datetime], Awaitable[bool]]
"""A sender's check at send time, at the pass's `now` (e.g. "is this bill still unpaid?"): False cancels
the message."""

_ERROR_LENGTH = 500


def inbox_channel(addressee: str) -> str:
    """The event-bus channel that announces new in-app messages of one addressee."""
    return f"inbox:{addressee}"


@dataclass
class RelayReport:
    claimed: int = 0
    sent: int = 0
    delivered: int = 0
    deferred: int = 0
    disabled: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Pass:
    session_factory: async_sessionmaker[AsyncSession]
    channels: Channels
    cipher: PersonalDataCipher
    now: dt.datetime
    token: str
    lease: dt.timedelta
    publisher: Publisher | None
    still_wanted: Mapping[str, StillWanted]


@dataclass
class _Send:
    """An attempt written SENDING and committed: what to hand the channel, and what to try after it."""

    message_id: int
    attempt_id: int
    channel: NotificationChannel
    outgoing: Outgoing
    recipient: Recipient
    rest: tuple[NotificationChannel, ...]
    transient_failures: int = 0
    consent_taken: bool = False


@dataclass
class _Done:
    status: MessageStatus | None
    """None: the message was not this pass's to finish (another relay holds it, or it was withdrawn)."""


async def relay_once(
    session_factory: async_sessionmaker[AsyncSession],
    channels: Channels,
    *,
    now: dt.datetime,
    cipher: PersonalDataCipher,
    publisher: Publisher | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lease: dt.timedelta = DEFAULT_LEASE,
    still_wanted: Mapping[str, StillWanted] | None = None,
) -> RelayReport:
    """One pass over the due messages; see the module's docstring."""
    work = _Pass(session_factory, channels, cipher, now, uuid.uuid4().hex, lease, publisher, still_wanted or {})
    report = RelayReport()
    claimed = await _claim(work, batch_size)
    report.claimed = len(claimed)
    for message_id in claimed:
        status = await _deliver(work, message_id)
        _count(report, status)
    return report


def _count(report: RelayReport, status: MessageStatus | None) -> None:
    if status is MessageStatus.SENT:
        report.sent += 1
    elif status is MessageStatus.DELIVERED:
        report.delivered += 1
    elif status is MessageStatus.THROTTLED:
        report.deferred += 1
    elif status is MessageStatus.DISABLED_BY_USER:
        report.disabled += 1
    elif status is MessageStatus.CANCELLED:
        report.cancelled += 1
    elif status is MessageStatus.QUEUED:
        report.retrying += 1
    elif status is MessageStatus.FAILED:
        report.failed += 1


async def _claim(work: _Pass, limit: int) -> list[int]:
    async with unit_of_work(work.session_factory) as uow:
        session = uow.session
        due = (
            select(Message.id)
            .where(
                Message.status.in_(sorted(PENDING)),
                Message.next_attempt_at <= work.now,
                or_(Message.lease_expires_at.is_(None), Message.lease_expires_at <= work.now),
            )
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, key_share=True)
        ids = list((await session.scalars(due)).all())
        if ids:
            await session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(lease_token=work.token, lease_expires_at=work.now + work.lease)
            )
    return ids


async def _deliver(work: _Pass, message_id: int) -> MessageStatus | None:
    step: _Send | _Done = await _start(work, message_id)
    while isinstance(step, _Send):
        try:
            accepted = await work.channels[step.channel].send(step.outgoing)
        except SendFailed as failure:
            step = await _after_failure(work, step, failure.reason, permanent=failure.permanent)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a channel's bug must not stop the pass; the message is retried later
            log.exception("channel %s failed unexpectedly on message %s", step.channel, step.message_id)
            step = await _after_failure(work, step, f"{error.__class__.__name__}: {error}", permanent=False)
        else:
            step = await _after_success(work, step, accepted)
    return step.status


# --- the transaction before the first send ---------------------------------------------------------


async def _start(work: _Pass, message_id: int) -> _Send | _Done:
    async with unit_of_work(work.session_factory) as uow:
        session = uow.session
        message = await _locked(session, message_id)
        if message is None or message.lease_token != work.token or message.status not in PENDING:
            return _Done(None)
        rules = rules_of(message.kind)
        if rules is None:
            return _finish(message, MessageStatus.FAILED, f"no kind of message {message.kind!r} in this version")
        if message.channels:
            # The sender chose the channels and their order (a dunning level): they replace the kind's.
            rules = replace(rules, channels=tuple(NotificationChannel(channel) for channel in message.channels))
        check = work.still_wanted.get(message.kind)
        if check is not None and not await check(session, message, work.now):
            return _finish(message, MessageStatus.CANCELLED, None)
        project = await session.get(Project, message.project_id)
        assert project is not None
        preference = await session.scalar(
            select(NotificationPreference).where(NotificationPreference.addressee == message.addressee)
        )
        unfinished = await session.scalar(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.message_id == message.id, DeliveryAttempt.status == DeliveryStatus.SENDING)
            .order_by(DeliveryAttempt.id.desc())
            .limit(1)
        )
        recipient = await _recipient(session, work, message)
        if unfinished is not None and unfinished.channel in work.channels:
            # Finish what a stopped relay began, on its channel and key, before anything else.
            unfinished.status = DeliveryStatus.FAILED
            unfinished.error = "the relay stopped before recording the outcome; resent with the same idempotency key"
            unfinished.finished_at = work.now
            rest = tuple(c for c in rules.channels if c != unfinished.channel)
            return await _begin_attempt(
                session, work, message, project, recipient, unfinished.channel, rest, resumed=True, failures=0
            )
        later = earliest_send(
            work.now,
            zone=ZoneInfo(project.timezone),
            quiet=quiet_hours_of(preference),
            recent=await _recently_sent(session, message, work.now - rules.cap.window) if rules.cap else (),
            limit=rules.cap.limit if rules.cap else None,
            window=rules.cap.window if rules.cap else None,
            urgent=rules.urgent,
        )
        if later is not None:
            message.status = MessageStatus.THROTTLED
            message.next_attempt_at = later
            message.lease_token = message.lease_expires_at = None
            return _Done(MessageStatus.THROTTLED)
        reachable = {channel for channel, sender in work.channels.items() if sender.reaches(recipient)}
        route = choose_route(message.kind, rules, _choices(preference), reachable)
        if route.outcome is RouteOutcome.DISABLED_BY_USER:
            return _finish(message, MessageStatus.DISABLED_BY_USER, None)
        if route.outcome is RouteOutcome.UNREACHABLE:
            return _finish(message, MessageStatus.FAILED, "no channel reaches the recipient")
        message.attempts += 1
        first, *rest = route.channels
        return await _begin_attempt(session, work, message, project, recipient, first, tuple(rest), resumed=False, failures=0)


async def _begin_attempt(
    session: AsyncSession,
    work: _Pass,
    message: Message,
    project: Project,
    recipient: Recipient,
    channel: NotificationChannel,
    rest: tuple[NotificationChannel, ...],
    *,
    resumed: bool,
    failures: int,
) -> _Send | _Done:
    """Render for `channel` and write its attempt SENDING (or, when the template fails, FAILED and go on
    to the next channel); with no channel left, end the round."""
    while True:
        template = await current_template(session, message.project_id, MessageKind(message.kind), channel, Locale(message.locale))
        try:
            rendered = render(template, {**message.payload, "project": project.name}, message.locale)
        except TemplateFailed as failure:
            session.add(_attempt(message, channel, template.version, None, DeliveryStatus.FAILED, work.now, failure.message))
            if not rest:
                return _end_round(message, work, failures, f"{channel}: {failure.message}")
            channel, *remaining = rest
            rest = tuple(remaining)
            continue
        consent_taken = False
        if channel is NotificationChannel.WECHAT and not resumed:
            consent_taken = await _take_consent(session, message)
        attempt = _attempt(message, channel, rendered.version, rendered, DeliveryStatus.SENDING, work.now, None)
        session.add(attempt)
        message.lease_expires_at = work.now + work.lease
        await session.flush()
        outgoing = Outgoing(
            message_id=message.id,
            idempotency_key=message.idempotency_key,
            kind=message.kind,
            locale=message.locale,
            recipient=recipient,
            rendered=rendered,
            resumed=resumed,
        )
        return _Send(message.id, attempt.id, channel, outgoing, recipient, rest, failures, consent_taken)


# --- the transaction after a send ------------------------------------------------------------------


async def _after_success(work: _Pass, step: _Send, accepted: Accepted) -> _Done:
    async with unit_of_work(work.session_factory) as uow:
        session = uow.session
        attempt = await session.get(DeliveryAttempt, step.attempt_id)
        message = await _locked(session, step.message_id)
        assert attempt is not None and message is not None
        status = MessageStatus.DELIVERED if accepted.delivered else MessageStatus.SENT
        attempt.status = DeliveryStatus.DELIVERED if accepted.delivered else DeliveryStatus.SENT
        attempt.provider_message_id = accepted.provider_message_id
        attempt.finished_at = work.now
        if message.lease_token != work.token:
            return _Done(None)
        message.channel = step.channel
        message.provider_message_id = accepted.provider_message_id
        message.sent_at = work.now
        message.delivered_at = work.now if accepted.delivered else None
        message.last_error = None
        if step.channel is NotificationChannel.IN_APP:
            message.inbox_seq = await _next_inbox_seq(session, message.addressee)
            _announce(uow, work.publisher, message.addressee, message.inbox_seq)
        return _finish(message, status, None)


async def _after_failure(work: _Pass, step: _Send, reason: str, *, permanent: bool) -> _Send | _Done:
    async with unit_of_work(work.session_factory) as uow:
        session = uow.session
        attempt = await session.get(DeliveryAttempt, step.attempt_id)
        message = await _locked(session, step.message_id)
        assert attempt is not None and message is not None
        attempt.status = DeliveryStatus.FAILED
        attempt.error = reason[:_ERROR_LENGTH]
        attempt.finished_at = work.now
        if step.channel is NotificationChannel.WECHAT:
            await _settle_consent(session, message, refused=reason.startswith(NO_CONSENT), taken=step.consent_taken)
        if message.lease_token != work.token:
            return _Done(None)
        failures = step.transient_failures + (0 if permanent else 1)
        if not step.rest:
            return _end_round(message, work, failures, f"{step.channel}: {reason}")
        project = await session.get(Project, message.project_id)
        assert project is not None
        channel, *rest = step.rest
        return await _begin_attempt(
            session, work, message, project, step.recipient, channel, tuple(rest), resumed=False, failures=failures
        )


def _end_round(message: Message, work: _Pass, transient_failures: int, error: str) -> _Done:
    """Every channel of the round failed: wait and try again while waiting can help, else give up."""
    if transient_failures and message.attempts < MAX_ROUNDS:
        message.status = MessageStatus.QUEUED
        message.next_attempt_at = work.now + retry_delay(max(message.attempts, 1))
        message.last_error = error[:_ERROR_LENGTH]
        message.lease_token = message.lease_expires_at = None
        return _Done(MessageStatus.QUEUED)
    return _finish(message, MessageStatus.FAILED, error)


def _finish(message: Message, status: MessageStatus, error: str | None) -> _Done:
    message.status = status
    message.lease_token = message.lease_expires_at = None
    if error is not None:
        message.last_error = error[:_ERROR_LENGTH]
    return _Done(status)


# --- reads and small writes ------------------------------------------------------------------------


async def _locked(session: AsyncSession, message_id: int) -> Message | None:
    statement = select(Message).where(Message.id == message_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(key_share=True)
    return await session.scalar(statement)


def quiet_hours_of(preference: NotificationPreference | None) -> QuietHours:
    """The addressee's quiet hours, or the default 22:00–08:00."""
    if preference is None or preference.quiet_start is None or preference.quiet_end is None:
        return DEFAULT_QUIET_HOURS
    start, end = preference.quiet_start, preference.quiet_end
    return QuietHours(dt.time(start // 60, start % 60), dt.time(end // 60, end % 60))


def _choices(preference: NotificationPreference | None) -> Choices:
    if preference is None:
        return Choices()
    channels = frozenset(NotificationChannel(c) for c in preference.channels if c in NotificationChannel.__members__)
    return Choices(channels=channels, muted_kinds=frozenset(preference.muted_kinds))


async def _recently_sent(session: AsyncSession, message: Message, since: dt.datetime) -> list[dt.datetime]:
    """When messages of this kind went to this addressee after `since` (the start of the cap's window)."""
    rows = await session.scalars(
        select(Message.sent_at).where(
            Message.addressee == message.addressee,
            Message.kind == message.kind,
            Message.sent_at.is_not(None),
            Message.sent_at > since,
            Message.id != message.id,
        )
    )
    return [sent for sent in rows.all() if sent is not None]


async def _recipient(session: AsyncSession, work: _Pass, message: Message) -> Recipient:
    name, email, phone = "", None, None
    has_inbox = False
    if message.party_id is not None:
        party = await session.get(Party, message.party_id)
        if party is not None:
            name, email = party.name, party.email
            phone = work.cipher.decrypt(party.phone_encrypted) if party.phone_encrypted else None
        has_inbox = (await session.scalar(select(func.count()).select_from(User).where(User.party_id == message.party_id))) > 0
    if message.user_id is not None:
        user = await session.get(User, message.user_id)
        if user is not None and user.is_active:
            has_inbox = True
            name = name or user.display_name
            email = email or user.email
            if phone is None and user.technician_id is not None:
                technician = await session.get(Technician, user.technician_id)
                if technician is not None and technician.phone_encrypted:
                    phone = work.cipher.decrypt(technician.phone_encrypted)
    consent = await session.scalar(
        select(WechatConsent).where(WechatConsent.addressee == message.addressee, WechatConsent.kind == message.kind)
    )
    open_id = consent.open_id if consent is not None and consent.remaining > 0 else None
    return Recipient(
        addressee=message.addressee, name=name, has_inbox=has_inbox, email=email, phone=phone, wechat_open_id=open_id
    )


def _attempt(
    message: Message,
    channel: NotificationChannel,
    version: int,
    rendered: Rendered | None,
    status: DeliveryStatus,
    now: dt.datetime,
    error: str | None,
) -> DeliveryAttempt:
    return DeliveryAttempt(
        message_id=message.id,
        channel=channel,
        template_version=version,
        rendered_hash=rendered.digest if rendered is not None else None,
        status=status,
        error=error[:_ERROR_LENGTH] if error else None,
        started_at=now,
        finished_at=None if status is DeliveryStatus.SENDING else now,
    )


async def _take_consent(session: AsyncSession, message: Message) -> bool:
    result = await session.execute(
        update(WechatConsent)
        .where(WechatConsent.addressee == message.addressee, WechatConsent.kind == message.kind, WechatConsent.remaining > 0)
        .values(remaining=WechatConsent.remaining - 1)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _settle_consent(session: AsyncSession, message: Message, *, refused: bool, taken: bool) -> None:
    """After a failed WeChat send: WeChat said the person has none left (so count none), or the send did
    not use the consent it took (so give it back)."""
    where = (WechatConsent.addressee == message.addressee, WechatConsent.kind == message.kind)
    if refused:
        await session.execute(update(WechatConsent).where(*where).values(remaining=0))
    elif taken:
        await session.execute(update(WechatConsent).where(*where).values(remaining=WechatConsent.remaining + 1))


async def _next_inbox_seq(session: AsyncSession, addressee: str) -> int:
    """The addressee's next inbox number; the counter row stays locked until this transaction commits."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(InboxCounter).values(addressee=addressee, last_seq=0).on_conflict_do_nothing())
    seq = await session.scalar(
        update(InboxCounter)
        .where(InboxCounter.addressee == addressee)
        .values(last_seq=InboxCounter.last_seq + 1)
        .returning(InboxCounter.last_seq)
    )
    assert seq is not None
    return int(seq)


def _announce(uow: UnitOfWork, publisher: Publisher | None, addressee: str, seq: int) -> None:
    if publisher is None:
        return

    async def publish() -> None:
        await publisher.publish(inbox_channel(addressee), json.dumps({"seq": seq}, separators=(",", ":")))

    uow.after_commit(publish)

