"""Writing messages into the outbox: the step every sender calls inside its own unit of work.

    async with unit_of_work(sessions) as work:
        ...                                   # the change that causes the message
        await enqueue(work.session, project_id=…, kind=MessageKind.OVERDUE_NOTICE, party_id=…,
                      payload={…}, idempotency_key=f"dunning:{bill_id}:{level}", now=now)

The message exists exactly when the change commits (a rolled-back change leaves none) and the relay
sends it later. The idempotency key says what the message is about: enqueueing the same key again with
the same content answers the stored message (a re-run of a job sends nothing twice); with other content
it is a CONFLICT. `cancel` withdraws messages that have not gone out (a payment ending a campaign).
`enqueue_many` writes a batch of `Envelope`s set-wise (a dunning pass: thousands in one transaction).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.bulk import bulk_connection
from db.models import Message, Party, Project, User
from kernel.errors import BadInput, Conflict
from kernel.vocabulary import Locale, MessageStatus, NotificationChannel
from notifications.kinds import MessageKind, rules_of

__all__ = ["PENDING", "Envelope", "addressee_key", "cancel", "enqueue", "enqueue_many"]

PENDING = frozenset({MessageStatus.QUEUED, MessageStatus.THROTTLED})
"""Statuses of messages that have not gone out and will be tried again."""

_KEY_LENGTH = 200
_IN_CHUNK = 5_000
_Value = TypeVar("_Value")


def addressee_key(*, party_id: int | None, user_id: int | None) -> str:
    """Whose inbox, preferences and consents: the party when there is one, otherwise the login."""
    if party_id is not None:
        return f"party:{party_id}"
    if user_id is not None:
        return f"user:{user_id}"
    raise ValueError("a message needs a party or a user")


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message for `enqueue_many`: what `enqueue` takes, as a value."""

    project_id: int
    kind: MessageKind | str
    idempotency_key: str
    payload: Mapping[str, Any]
    party_id: int | None = None
    user_id: int | None = None
    not_before: dt.datetime | None = None
    locale: Locale | None = None
    channels: Sequence[NotificationChannel] | None = None
    """The channels to try, in this order, instead of the kind's (a dunning level's choice)."""


async def enqueue(
    session: AsyncSession,
    *,
    project_id: int,
    kind: MessageKind | str,
    idempotency_key: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
    party_id: int | None = None,
    user_id: int | None = None,
    not_before: dt.datetime | None = None,
    locale: Locale | None = None,
    channels: Sequence[NotificationChannel] | None = None,
) -> Message:
    """Add a message for a party (owners, tenants) or a login (staff, technicians) of `project_id` to
    the outbox in the caller's transaction; the relay sends it at `not_before` (default: now) or later.

    `payload` holds what the kind's templates use: plain values, `Decimal` and dates allowed (they are
    stored as text). `locale` defaults to the project's; `channels`, when given, replace the kind's
    channels and their order."""
    envelope = Envelope(project_id, kind, idempotency_key, payload, party_id, user_id, not_before, locale, channels)
    (message_id,) = await enqueue_many(session, [envelope], now=now)
    message = await session.get(Message, message_id)
    assert message is not None
    return message


async def enqueue_many(session: AsyncSession, envelopes: Sequence[Envelope], *, now: dt.datetime) -> list[int]:
    """`enqueue` for many messages at once, reading and writing set-wise (a dunning pass enqueues
    thousands): the ids of the messages, in the order given. Keys already stored answer their message
    (other content under one is a CONFLICT); one unusable envelope refuses the batch."""
    checked = [_checked(envelope) for envelope in envelopes]
    locales = await _project_locales(session, {envelope.project_id for envelope in envelopes})
    recipients = await _recipients(session, envelopes)
    rows: dict[str, dict[str, Any]] = {}
    for envelope, (payload, channels) in zip(envelopes, checked, strict=True):
        party_id, user_id = recipients[(envelope.party_id, envelope.user_id)]
        row = {
            "project_id": envelope.project_id,
            "kind": str(envelope.kind),
            "party_id": party_id,
            "user_id": user_id,
            "addressee": addressee_key(party_id=party_id, user_id=user_id),
            "payload": payload,
            "locale": envelope.locale or locales[envelope.project_id],
            "channels": channels,
            "idempotency_key": envelope.idempotency_key,
            "status": MessageStatus.QUEUED,
            "next_attempt_at": max(envelope.not_before, now) if envelope.not_before is not None else now,
            "attempts": 0,
            "created_at": now,
        }
        earlier = rows.setdefault(envelope.idempotency_key, row)
        if _identity(earlier) != _identity(row):
            raise Conflict("This idempotency key was used for another message.", field="idempotencyKey")
    ids = await _stored_ids(session, rows)
    new = [row for key, row in rows.items() if key not in ids]
    if new:
        ids.update(await _insert(session, new))
    return [ids[envelope.idempotency_key] for envelope in envelopes]


_COLUMNS = (
    "id",
    "project_id",
    "kind",
    "party_id",
    "user_id",
    "addressee",
    "payload",
    "locale",
    "channels",
    "idempotency_key",
    "status",
    "next_attempt_at",
    "attempts",
    "created_at",
)


async def _insert(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Write new messages with ids reserved ahead (COPY on PostgreSQL: a pass writes tens of thousands);
    answer their ids by key. The bulk writer is billing's, which needed one first; it knows nothing of
    billing."""
    writer = await bulk_connection(session)
    table = Message.__table__
    ids = await writer.reserve_ids(table, len(rows))  # type: ignore[arg-type]
    records = [
        (
            message_id,
            row["project_id"],
            row["kind"],
            row["party_id"],
            row["user_id"],
            row["addressee"],
            json.dumps(row["payload"]),
            row["locale"].value,
            json.dumps(row["channels"]) if row["channels"] is not None else None,
            row["idempotency_key"],
            row["status"].value,
            row["next_attempt_at"].astimezone(dt.UTC),
            row["attempts"],
            row["created_at"].astimezone(dt.UTC),
        )
        for message_id, row in zip(ids, rows, strict=True)
    ]
    await writer.write(table, _COLUMNS, records)  # type: ignore[arg-type]
    return {row["idempotency_key"]: message_id for message_id, row in zip(ids, rows, strict=True)}


def _checked(envelope: Envelope) -> tuple[dict[str, Any], list[str] | None]:
    """The payload as stored, and the chosen channels as stored; BadInput naming the field at fault."""
    rules = rules_of(str(envelope.kind))
    if rules is None:
        raise BadInput(f"No kind of message {envelope.kind!r}.", field="kind")
    key = envelope.idempotency_key
    if not key or len(key) > _KEY_LENGTH:
        raise BadInput(f"An idempotency key of 1 to {_KEY_LENGTH} characters is required.", field="idempotencyKey")
    stored_payload = {str(name): _stored(value) for name, value in envelope.payload.items()}
    if missing := sorted(rules.required - set(stored_payload)):
        raise BadInput(f"A {envelope.kind} message needs {', '.join(missing)}.", field=f"payload.{missing[0]}")
    if envelope.party_id is None and envelope.user_id is None:
        raise BadInput("A message needs a party or a user to go to.", field="partyId")
    if envelope.channels is None:
        return stored_payload, None
    channels = [NotificationChannel(channel).value for channel in envelope.channels]
    if not channels or len(set(channels)) != len(channels):
        raise BadInput("Name each channel to try once, at least one.", field="channels")
    return stored_payload, channels


def _identity(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two messages under one key the same message."""
    return (row["project_id"], row["kind"], row["addressee"], row["payload"])


def _chunks(values: Sequence[_Value]) -> Iterator[Sequence[_Value]]:
    # Both databases cap the parameters of one statement (PostgreSQL at 32,767).
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


async def _project_locales(session: AsyncSession, project_ids: set[int]) -> dict[int, Locale]:
    locales = dict((await session.execute(select(Project.id, Project.locale).where(Project.id.in_(sorted(project_ids))))).all())
    if missing := sorted(project_ids - set(locales)):
        raise BadInput(f"No project {missing[0]}.", field="projectId")
    return locales


async def _recipients(
    session: AsyncSession, envelopes: Sequence[Envelope]
) -> dict[tuple[int | None, int | None], tuple[int | None, int | None]]:
    """Per (party, login) given, the party and the login of the recipient, each found from the other
    where it is not given, checked to belong to the envelope's project."""
    given_users = sorted({e.user_id for e in envelopes if e.user_id is not None})
    users: dict[int, int | None] = {}
    for chunk in _chunks(given_users):
        users.update((await session.execute(select(User.id, User.party_id).where(User.id.in_(chunk)))).all())
    resolved: dict[tuple[int | None, int | None], tuple[int | None, int | None]] = {}
    for envelope in envelopes:
        party_id, user_id = envelope.party_id, envelope.user_id
        if user_id is not None:
            if user_id not in users:
                raise BadInput(f"No user {user_id}.", field="userId")
            if party_id is None:
                party_id = users[user_id]
            elif users[user_id] is not None and users[user_id] != party_id:
                raise BadInput("The user belongs to another party.", field="userId")
        resolved[(envelope.party_id, envelope.user_id)] = (party_id, user_id)
    parties = sorted({party for party, _ in resolved.values() if party is not None})
    party_projects: dict[int, int] = {}
    first_logins: dict[int, int] = {}
    for chunk in _chunks(parties):
        party_projects.update((await session.execute(select(Party.id, Party.project_id).where(Party.id.in_(chunk)))).all())
        first_logins.update(
            (
                await session.execute(
                    select(User.party_id, func.min(User.id)).where(User.party_id.in_(chunk)).group_by(User.party_id)
                )
            ).all()
        )
    for envelope in envelopes:
        party_id, user_id = resolved[(envelope.party_id, envelope.user_id)]
        if party_id is None:
            continue
        if party_projects.get(party_id) != envelope.project_id:
            raise BadInput(f"No party {party_id} in project {envelope.project_id}.", field="partyId")
        if user_id is None:
            resolved[(envelope.party_id, envelope.user_id)] = (party_id, first_logins.get(party_id))
    return resolved


async def _stored_ids(session: AsyncSession, rows: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """The messages already stored under these keys (CONFLICT when one holds other content)."""
    ids: dict[str, int] = {}
    columns = (Message.id, Message.idempotency_key, Message.project_id, Message.kind, Message.addressee, Message.payload)
    for chunk in _chunks(sorted(rows)):
        for message_id, key, *identity in (await session.execute(select(*columns).where(Message.idempotency_key.in_(chunk)))).all():
            if tuple(identity) != _identity(rows[key]):
                raise Conflict("This idempotency key was used for another message.", field="idempotencyKey")
            ids[key] = message_id
    return ids


async def cancel(session: AsyncSession, *, idempotency_keys: Collection[str]) -> int:
    """Withdraw the messages with these keys that have not gone out yet; answer how many. A relay that
    claimed one finds it CANCELLED when it locks it to send, and sends nothing."""
    if not idempotency_keys:
        return 0
    result = await session.execute(
        update(Message)
        .where(Message.idempotency_key.in_(sorted(idempotency_keys)), Message.status.in_(sorted(PENDING)))
        .values(status=MessageStatus.CANCELLED, lease_token=None, lease_expires_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _stored(value: Any) -> Any:
    """A payload value as JSON keeps it: money and dates as text, enums by value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stored(v) for v in value]
    return value
