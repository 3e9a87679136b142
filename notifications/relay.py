"""The relay: claims due messages of the outbox, paces, routes, renders and sends them, and records every
attempt. It works a batch at a time, in three transactions however large the batch, with the sends in
between running concurrently.

One pass (`relay_once`) at an injected `now`:

1. **Claim** up to `batch_size` due messages (QUEUED or THROTTLED, `next_attempt_at` reached, no live
   lease) by giving them a lease, in one statement's transaction: PostgreSQL picks them `FOR NO KEY
   UPDATE SKIP LOCKED`, so any number of `courtyard worker` processes share the work; SQLite's `BEGIN
   IMMEDIATE` lets one claimer in at a time.
2. **Start** the batch in one transaction that locks its messages again and keeps those whose lease is
   still this pass's. What every message needs (projects, preferences, recipients, consents, recent
   sends, templates) is read set-wise. Per message: the sender's send-time check may cancel it; quiet
   hours and the frequency cap may defer it (THROTTLED, never dropped); the addressee's choices and reach
   pick the channels (`notifications.routing`); the first one's template is rendered (compiled once per
   text, `notifications.rendering`) and an attempt is written SENDING. All attempts are inserted in one
   statement and committed *before* any provider is called.
3. The channels **send** outside any transaction, at most `concurrency` at a time per channel (the
   e-mail channel reuses a small pool of SMTP connections).
4. The outcomes are **recorded** in one transaction: each attempt SENT / DELIVERED / FAILED with the
   provider's id or the error; on success the message too (an in-app delivery numbers it in the
   addressee's inbox there, exactly once); on failure the next channel's attempt is prepared in the same
   transaction and step 3 runs again for those. When every channel failed, the message is tried again
   after a growing delay, and FAILED after `MAX_ROUNDS`, or at once when no failure could pass by waiting.

A relay that stops between 2 and 4 (killed, or its task cancelled) leaves its messages leased and their
attempts SENDING. Once the lease expires the next pass claims them and resends each on the *same channel*
with the *same idempotency key*, marked `resumed`: gateways that can be asked whether they took it already
are asked; the e-mail goes out again with the same Message-ID, which mail stores keep once.

**Frequency caps across relays.** A cap counts what went out of a kind to an addressee lately *and what
is in flight* (an attempt SENDING). Two relays starting messages of one capped kind for one addressee at
the same instant take turns: on PostgreSQL the start transaction takes a transaction-scoped advisory
lock per (addressee, kind) before it counts, on SQLite the transaction's `BEGIN IMMEDIATE` already
serializes them, so the second counts the first's SENDING attempt and defers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, text, update
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
from notifications.rendering import Rendered, TemplateFailed, TemplateText, render
from notifications.routing import Choices, RouteOutcome, choose_route
from notifications.templates import current_template
from notifications.wechat import NO_CONSENT

_T = TypeVar("_T")

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_LEASE",
    "MAX_ROUNDS",
    "RelayReport",
    "SendCheck",
    "StillWanted",
    "inbox_channel",
    "quiet_hours_of",
    "relay_once",
]

log = logging.getLogger("courtyard.notifications.relay")

DEFAULT_BATCH_SIZE = 200
DEFAULT_CONCURRENCY = 32
"""Sends in flight at once per channel: enough to hide a provider's round trip, few enough not to flood it."""
DEFAULT_LEASE = dt.timedelta(minutes=2)
"""How long a claim holds: longer than a batch's sends (the SMTP timeout is 30 s)."""
MAX_ROUNDS = 8
"""Rounds of trying every channel before a message is FAILED: with the backoff about two hours."""



@dataclass(frozen=True)
class SendCheck:
    """A sender's check at send time for a batch at once: of `messages`, the ids of those still wanted
    at `now`; the rest are cancelled. One round of queries for a batch, where a check per message costs
    a round per message."""

    still_wanted: Callable[[AsyncSession, Sequence[Message], dt.datetime], Awaitable[Collection[int]]]


StillWanted = Callable[[AsyncSession, Message, dt.datetime], Awaitable[bool]] | SendCheck
"""A sender's check at send time, at the pass's `now` (e.g. "is this bill still unpaid?"), per message
(False cancels it) or per batch (`SendCheck`)."""

_ERROR_LENGTH = 500
_IN_CHUNK = 5_000


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
    templates: dict[tuple[int, str, NotificationChannel, Locale], TemplateText] = field(default_factory=dict)
    """The templates this pass used, by project, kind, channel and locale: read once per pass."""


@dataclass
class _Send:
    """An attempt written SENDING: what to hand the channel, and what to try after it."""

    message_id: int
    attempt: DeliveryAttempt
    channel: NotificationChannel
    outgoing: Outgoing
    recipient: Recipient
    project_name: str
    rest: tuple[NotificationChannel, ...]
    transient_failures: int = 0
    consent_taken: bool = False
    attempt_id: int = 0
    """The attempt's id, known once the batch's attempts are inserted."""


@dataclass
class _Done:
    status: MessageStatus | None
    """None: the message was not this pass's to finish (another relay holds it, or it was withdrawn)."""


@dataclass(frozen=True)
class _Failure:
    reason: str
    permanent: bool


_Step = _Send | _Done


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
    concurrency: int = DEFAULT_CONCURRENCY,
) -> RelayReport:
    """One pass over the due messages; see the module's docstring."""
    if concurrency < 1:
        raise ValueError("at least one send at a time")
    work = _Pass(session_factory, channels, cipher, now, uuid.uuid4().hex, lease, publisher, still_wanted or {})
    report = RelayReport()
    claimed = await _claim(work, batch_size)
    report.claimed = len(claimed)
    if not claimed:
        return report
    limits = {channel: asyncio.Semaphore(concurrency) for channel in channels}
    steps = await _start(work, claimed)
    while True:
        sends = [step for step in steps if isinstance(step, _Send)]
        for step in steps:
            if isinstance(step, _Done):
                _count(report, step.status)
        if not sends:
            return report
        outcomes = await asyncio.gather(*(_send(work, limits[send.channel], send) for send in sends))
        steps = await _record(work, list(zip(sends, outcomes, strict=True)))


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
        if _dialect(session) == "postgresql":
            due = due.with_for_update(skip_locked=True, key_share=True)
        ids = list((await session.scalars(due)).all())
        if ids:
            await session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values(lease_token=work.token, lease_expires_at=work.now + work.lease)
            )
    return ids


async def _send(work: _Pass, limit: asyncio.Semaphore, step: _Send) -> Accepted | _Failure:
    async with limit:
        try:
            return await work.channels[step.channel].send(step.outgoing)
        except SendFailed as failure:
            return _Failure(failure.reason, failure.permanent)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a channel's bug must not stop the pass; the message is retried later
            log.exception("channel %s failed unexpectedly on message %s", step.channel, step.message_id)
            return _Failure(f"{error.__class__.__name__}: {error}", permanent=False)


# --- the transaction before the sends --------------------------------------------------------------


@dataclass
class _Batch:
    """What the start of a batch reads set-wise about its messages."""

    projects: dict[int, Project]
    preferences: dict[str, NotificationPreference]
    unfinished: dict[int, DeliveryAttempt]
    recipients: dict[int, Recipient]
    recent: dict[tuple[str, str], list[dt.datetime]]
    """Per (addressee, kind) of a capped kind: when messages went out lately or started going out."""


async def _start(work: _Pass, message_ids: Sequence[int]) -> list[_Step]:
    async with unit_of_work(work.session_factory) as uow:
        session = uow.session
        locked = await _locked(session, message_ids)
        mine = [m for m in locked.values() if m.lease_token == work.token and m.status in PENDING]
        steps: list[_Step] = [_Done(None)] * (len(message_ids) - len(mine))
        # One order for every relay (addressee, kind, id): rows that two batches both lock (consents,
        # advisory locks) are taken in the same order, so the batches wait for each other, never deadlock.
        mine.sort(key=lambda m: (m.addressee, m.kind, m.id))
        unwanted = await _unwanted(session, work, mine)
        wanted = []
        for message in mine:
            if message.id in unwanted:
                steps.append(_finish(message, MessageStatus.CANCELLED, None))
            else:
                wanted.append(message)
        batch = await _read_batch(session, work, wanted)
        for message in wanted:
            steps.append(await _start_one(session, work, batch, message))
        await _inserted(session, steps)
    return steps


async def _unwanted(session: AsyncSession, work: _Pass, messages: Sequence[Message]) -> set[int]:
    """The messages whose sender's send-time check says no."""
    by_check: dict[int, list[Message]] = defaultdict(list)
    checks: dict[int, StillWanted] = {}
    for message in messages:
        check = work.still_wanted.get(message.kind)
        if check is not None and rules_of(message.kind) is not None:
            by_check[id(check)].append(message)
            checks[id(check)] = check
    unwanted: set[int] = set()
    for key, checked in by_check.items():
        check = checks[key]
        if isinstance(check, SendCheck):
            still = set(await check.still_wanted(session, checked, work.now))
            unwanted.update(m.id for m in checked if m.id not in still)
        else:
            for message in checked:
                if not await check(session, message, work.now):
                    unwanted.add(message.id)
    return unwanted


async def _start_one(session: AsyncSession, work: _Pass, batch: _Batch, message: Message) -> _Step:
    rules = rules_of(message.kind)
    if rules is None:
        return _finish(message, MessageStatus.FAILED, f"no kind of message {message.kind!r} in this version")
    if message.channels:
        # The sender chose the channels and their order (a dunning level): they replace the kind's.
        rules = replace(rules, channels=tuple(NotificationChannel(channel) for channel in message.channels))
    project = batch.projects[message.project_id]
    preference = batch.preferences.get(message.addressee)
    recipient = batch.recipients[message.id]
    recent = batch.recent.get((message.addressee, message.kind))
    unfinished = batch.unfinished.get(message.id)
    if unfinished is not None and unfinished.channel in work.channels:
        # Finish what a stopped relay began, on its channel and key, before anything else.
        unfinished.status = DeliveryStatus.FAILED
        unfinished.error = "the relay stopped before recording the outcome; resent with the same idempotency key"
        unfinished.finished_at = work.now
        rest = tuple(c for c in rules.channels if c != unfinished.channel)
        _counted(recent, work.now)
        return await _begin_attempt(
            session, work, message, project.name, recipient, unfinished.channel, rest, resumed=True, failures=0
        )
    later = earliest_send(
        work.now,
        zone=ZoneInfo(project.timezone),
        quiet=quiet_hours_of(preference),
        recent=recent or (),
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
    _counted(recent, work.now)
    return await _begin_attempt(session, work, message, project.name, recipient, first, tuple(rest), resumed=False, failures=0)


def _counted(recent: list[dt.datetime] | None, now: dt.datetime) -> None:
    """A message of a capped kind starts going out: the addressee's next one of the kind in this batch
    counts it."""
    if recent is not None:
        recent.append(now)


async def _begin_attempt(
    session: AsyncSession,
    work: _Pass,
    message: Message,
    project_name: str,
    recipient: Recipient,
    channel: NotificationChannel,
    rest: tuple[NotificationChannel, ...],
    *,
    resumed: bool,
    failures: int,
) -> _Step:
    """Render for `channel` and add its attempt SENDING (or, when the template fails, FAILED and go on
    to the next channel); with no channel left, end the round."""
    while True:
        template = await _template(session, work, message, channel)
        try:
            rendered = render(template, {**message.payload, "project": project_name}, message.locale)
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
        outgoing = Outgoing(
            message_id=message.id,
            idempotency_key=message.idempotency_key,
            kind=message.kind,
            locale=message.locale,
            recipient=recipient,
            rendered=rendered,
            resumed=resumed,
        )
        return _Send(message.id, attempt, channel, outgoing, recipient, project_name, rest, failures, consent_taken)


async def _inserted(session: AsyncSession, steps: Iterable[_Step]) -> None:
    """Write the attempts added (one INSERT for the batch) and note each send's attempt id."""
    await session.flush()
    for step in steps:
        if isinstance(step, _Send):
            step.attempt_id = step.attempt.id


async def _template(session: AsyncSession, work: _Pass, message: Message, channel: NotificationChannel) -> TemplateText:
    key = (message.project_id, message.kind, channel, message.locale)
    template = work.templates.get(key)
    if template is None:
        template = await current_template(session, message.project_id, MessageKind(message.kind), channel, Locale(message.locale))
        work.templates[key] = template
    return template


# --- the transaction after the sends ---------------------------------------------------------------


async def _record(work: _Pass, outcomes: Sequence[tuple[_Send, Accepted | _Failure]]) -> list[_Step]:
    async with unit_of_work(work.session_factory) as uow:
        session = uow.session
        messages = await _locked(session, [send.message_id for send, _ in outcomes])
        attempt_ids = [send.attempt_id for send, _ in outcomes]
        attempts: dict[int, DeliveryAttempt] = {}
        for chunk in _chunks(attempt_ids):
            attempts.update((a.id, a) for a in (await session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.id.in_(chunk)))).all())
        steps: list[_Step] = []
        # The same order as the start's: inbox counters and consents are locked addressee by addressee.
        ordered = sorted(outcomes, key=lambda pair: (messages[pair[0].message_id].addressee, messages[pair[0].message_id].kind, pair[0].message_id))
        for send, outcome in ordered:
            message, attempt = messages[send.message_id], attempts[send.attempt_id]
            if isinstance(outcome, Accepted):
                steps.append(await _succeeded(uow, work, send, message, attempt, outcome))
            else:
                steps.append(await _failed(session, work, send, message, attempt, outcome))
        await _inserted(session, steps)
    return steps


async def _succeeded(
    uow: UnitOfWork, work: _Pass, step: _Send, message: Message, attempt: DeliveryAttempt, accepted: Accepted
) -> _Done:
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
        message.inbox_seq = await _next_inbox_seq(uow.session, message.addressee)
        _announce(uow, work.publisher, message.addressee, message.inbox_seq)
    return _finish(message, status, None)


async def _failed(
    session: AsyncSession, work: _Pass, step: _Send, message: Message, attempt: DeliveryAttempt, failure: _Failure
) -> _Step:
    attempt.status = DeliveryStatus.FAILED
    attempt.error = failure.reason[:_ERROR_LENGTH]
    attempt.finished_at = work.now
    if step.channel is NotificationChannel.WECHAT:
        await _settle_consent(session, message, refused=failure.reason.startswith(NO_CONSENT), taken=step.consent_taken)
    if message.lease_token != work.token:
        return _Done(None)
    failures = step.transient_failures + (0 if failure.permanent else 1)
    if not step.rest:
        return _end_round(message, work, failures, f"{step.channel}: {failure.reason}")
    channel, *rest = step.rest
    return await _begin_attempt(
        session, work, message, step.project_name, step.recipient, channel, tuple(rest), resumed=False, failures=failures
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


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _chunks(values: Sequence[_T]) -> Iterable[Sequence[_T]]:
    # Both databases cap the parameters of one statement.
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


async def _locked(session: AsyncSession, message_ids: Sequence[int]) -> dict[int, Message]:
    """The messages, read afresh and locked against a concurrent cancel until the transaction ends."""
    found: dict[int, Message] = {}
    for chunk in _chunks(sorted(set(message_ids))):
        statement = select(Message).where(Message.id.in_(chunk)).order_by(Message.id).execution_options(populate_existing=True)
        if _dialect(session) == "postgresql":
            statement = statement.with_for_update(key_share=True)
        found.update((m.id, m) for m in (await session.scalars(statement)).all())
    return found


async def _read_batch(session: AsyncSession, work: _Pass, messages: Sequence[Message]) -> _Batch:
    ids = [m.id for m in messages]
    addressees = sorted({m.addressee for m in messages})
    projects: dict[int, Project] = {}
    preferences: dict[str, NotificationPreference] = {}
    unfinished: dict[int, DeliveryAttempt] = {}
    for chunk in _chunks(sorted({m.project_id for m in messages})):
        projects.update((p.id, p) for p in (await session.scalars(select(Project).where(Project.id.in_(chunk)))).all())
    for chunk in _chunks(addressees):
        rows = await session.scalars(select(NotificationPreference).where(NotificationPreference.addressee.in_(chunk)))
        preferences.update((p.addressee, p) for p in rows.all())
    for chunk in _chunks(ids):
        rows = await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.message_id.in_(chunk), DeliveryAttempt.status == DeliveryStatus.SENDING)
            .order_by(DeliveryAttempt.id)
        )
        # The latest unfinished attempt of each message is the one to finish.
        unfinished.update((a.message_id, a) for a in rows.all())
    return _Batch(
        projects=projects,
        preferences=preferences,
        unfinished=unfinished,
        recipients=await _recipients(session, work, messages),
        recent=await _recent(session, work, messages),
    )


async def _recent(session: AsyncSession, work: _Pass, messages: Sequence[Message]) -> dict[tuple[str, str], list[dt.datetime]]:
    """For each (addressee, kind) of a capped kind in the batch, when messages of the kind went to the
    addressee within the cap's window, and when those in flight (an attempt SENDING, here or in another
    relay) started; the batch's own messages left out. On PostgreSQL each pair is locked first (see the
    module's docstring), so a concurrent start of the same pair counts what this one starts."""
    windows: dict[tuple[str, str], dt.timedelta] = {}
    for message in messages:
        rules = rules_of(message.kind)
        if rules is not None and rules.cap is not None and not rules.urgent:
            windows[(message.addressee, message.kind)] = rules.cap.window
    if not windows:
        return {}
    pairs = sorted(windows)
    if _dialect(session) == "postgresql":
        await _lock_pairs(session, pairs)
    since = work.now - max(windows.values())
    ids = [m.id for m in messages]
    kinds = sorted({kind for _, kind in pairs})
    found: dict[tuple[str, str], list[dt.datetime]] = {pair: [] for pair in pairs}
    for chunk in _chunks(sorted({addressee for addressee, _ in pairs})):
        sent = select(Message.addressee, Message.kind, Message.sent_at).where(
            Message.addressee.in_(chunk), Message.kind.in_(kinds), Message.sent_at > since, Message.id.not_in(ids)
        )
        in_flight = (
            select(Message.addressee, Message.kind, DeliveryAttempt.started_at)
            .join(DeliveryAttempt, DeliveryAttempt.message_id == Message.id)
            .where(
                Message.addressee.in_(chunk),
                Message.kind.in_(kinds),
                Message.status.in_(sorted(PENDING)),
                Message.id.not_in(ids),
                DeliveryAttempt.status == DeliveryStatus.SENDING,
                DeliveryAttempt.started_at > since,
            )
        )
        for query in (sent, in_flight):
            for addressee, kind, at in (await session.execute(query)).all():
                times = found.get((addressee, kind))
                if times is not None and at is not None and at > work.now - windows[(addressee, kind)]:
                    times.append(at)
    return found


async def _lock_pairs(session: AsyncSession, pairs: Sequence[tuple[str, str]]) -> None:
    """Take PostgreSQL's transaction-scoped advisory lock of each (addressee, kind), in the order of their
    keys (every relay the same order: no deadlock)."""
    keys = sorted({f"{addressee}|{kind}" for addressee, kind in pairs})
    await session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(key)) FROM "
            "(SELECT hashtextextended(pair, 0) AS key FROM unnest(CAST(:pairs AS text[])) AS pair ORDER BY 1) AS ordered"
        ),
        {"pairs": keys},
    )


async def _recipients(session: AsyncSession, work: _Pass, messages: Sequence[Message]) -> dict[int, Recipient]:
    """How each message's addressee can be reached now."""
    party_ids = sorted({m.party_id for m in messages if m.party_id is not None})
    user_ids = sorted({m.user_id for m in messages if m.user_id is not None})
    addressees = sorted({m.addressee for m in messages})
    parties: dict[int, Party] = {}
    with_login: set[int] = set()
    users: dict[int, User] = {}
    technicians: dict[int, Technician] = {}
    consents: dict[tuple[str, str], WechatConsent] = {}
    for chunk in _chunks(party_ids):
        parties.update((p.id, p) for p in (await session.scalars(select(Party).where(Party.id.in_(chunk)))).all())
        with_login.update((await session.scalars(select(User.party_id).where(User.party_id.in_(chunk)).distinct())).all())
    for chunk in _chunks(user_ids):
        users.update((u.id, u) for u in (await session.scalars(select(User).where(User.id.in_(chunk)))).all())
    technician_ids = sorted({u.technician_id for u in users.values() if u.technician_id is not None and u.is_active})
    for chunk in _chunks(technician_ids):
        technicians.update((t.id, t) for t in (await session.scalars(select(Technician).where(Technician.id.in_(chunk)))).all())
    for chunk in _chunks(addressees):
        rows = await session.scalars(select(WechatConsent).where(WechatConsent.addressee.in_(chunk)))
        consents.update(((c.addressee, c.kind), c) for c in rows.all())
    phones: dict[str, str] = {}

    def phone_of(encrypted: str | None) -> str | None:
        if not encrypted:
            return None
        if encrypted not in phones:
            phones[encrypted] = work.cipher.decrypt(encrypted)
        return phones[encrypted]

    recipients: dict[int, Recipient] = {}
    for message in messages:
        name, email, phone = "", None, None
        has_inbox = False
        party = parties.get(message.party_id) if message.party_id is not None else None
        if party is not None:
            name, email, phone = party.name, party.email, phone_of(party.phone_encrypted)
        if message.party_id is not None:
            has_inbox = message.party_id in with_login
        user = users.get(message.user_id) if message.user_id is not None else None
        if user is not None and user.is_active:
            has_inbox = True
            name = name or user.display_name
            email = email or user.email
            if phone is None and user.technician_id is not None and (technician := technicians.get(user.technician_id)):
                phone = phone_of(technician.phone_encrypted)
        consent = consents.get((message.addressee, message.kind))
        open_id = consent.open_id if consent is not None and consent.remaining > 0 else None
        recipients[message.id] = Recipient(
            addressee=message.addressee, name=name, has_inbox=has_inbox, email=email, phone=phone, wechat_open_id=open_id
        )
    return recipients


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

