"""Writing messages into the outbox: the step every sender calls inside its own unit of work.

    async with unit_of_work(sessions) as work:
        ...                                   # the change that causes the message
        await enqueue(work.session, project_id=…, kind=MessageKind.OVERDUE_NOTICE, party_id=…,
                      payload={…}, idempotency_key=f"dunning:{bill_id}:{level}", now=now)

The message exists exactly when the change commits (a rolled-back change leaves none) and the relay
sends it later. The idempotency key says what the message is about: enqueueing the same key again with
the same content answers the stored message (a re-run of a job sends nothing twice); with other content
it is a CONFLICT. `cancel` withdraws messages that have not gone out (a payment ending a campaign).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message, Party, Project, User
from kernel.errors import BadInput, Conflict
from kernel.vocabulary import Locale, MessageStatus
from notifications.kinds import MessageKind, rules_of

__all__ = ["PENDING", "addressee_key", "cancel", "enqueue"]

PENDING = frozenset({MessageStatus.QUEUED, MessageStatus.THROTTLED})
"""Statuses of messages that have not gone out and will be tried again."""

_KEY_LENGTH = 200


def addressee_key(*, party_id: int | None, user_id: int | None) -> str:
    """Whose inbox, preferences and consents: the party when there is one, otherwise the login."""
    if party_id is not None:
        return f"party:{party_id}"
    if user_id is not None:
        return f"user:{user_id}"
    raise ValueError("a message needs a party or a user")


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
) -> Message:
    """Add a message for a party (owners, tenants) or a login (staff, technicians) of `project_id` to
    the outbox in the caller's transaction; the relay sends it at `not_before` (default: now) or later.

    `payload` holds what the kind's templates use: plain values, `Decimal` and dates allowed (they are
    stored as text). `locale` defaults to the project's."""
    rules = rules_of(str(kind))
    if rules is None:
        raise BadInput(f"No kind of message {kind!r}.", field="kind")
    if not idempotency_key or len(idempotency_key) > _KEY_LENGTH:
        raise BadInput(f"An idempotency key of 1 to {_KEY_LENGTH} characters is required.", field="idempotencyKey")
    stored_payload = {str(name): _stored(value) for name, value in payload.items()}
    if missing := sorted(rules.required - set(stored_payload)):
        raise BadInput(f"A {kind} message needs {', '.join(missing)}.", field=f"payload.{missing[0]}")
    project = await session.get(Project, project_id)
    if project is None:
        raise BadInput(f"No project {project_id}.", field="projectId")
    party_id, user_id = await _recipient(session, project_id=project_id, party_id=party_id, user_id=user_id)
    addressee = addressee_key(party_id=party_id, user_id=user_id)
    message_locale = locale or project.locale

    existing = await session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
    if existing is not None:
        same = (existing.project_id, existing.kind, existing.addressee, existing.payload) == (
            project_id,
            str(kind),
            addressee,
            stored_payload,
        )
        if not same:
            raise Conflict("This idempotency key was used for another message.", field="idempotencyKey")
        return existing
    message = Message(
        project_id=project_id,
        kind=str(kind),
        party_id=party_id,
        user_id=user_id,
        addressee=addressee,
        payload=stored_payload,
        locale=message_locale,
        idempotency_key=idempotency_key,
        status=MessageStatus.QUEUED,
        next_attempt_at=max(not_before, now) if not_before is not None else now,
        attempts=0,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


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


async def _recipient(
    session: AsyncSession, *, project_id: int, party_id: int | None, user_id: int | None
) -> tuple[int | None, int | None]:
    """The party and the login of the recipient, each found from the other where it is not given."""
    if party_id is None and user_id is None:
        raise BadInput("A message needs a party or a user to go to.", field="partyId")
    if user_id is not None:
        user = await session.get(User, user_id)
        if user is None:
            raise BadInput(f"No user {user_id}.", field="userId")
        if party_id is None:
            party_id = user.party_id
        elif user.party_id is not None and user.party_id != party_id:
            raise BadInput("The user belongs to another party.", field="userId")
    if party_id is not None:
        party_project = await session.scalar(select(Party.project_id).where(Party.id == party_id))
        if party_project != project_id:
            raise BadInput(f"No party {party_id} in project {project_id}.", field="partyId")
        if user_id is None:
            user_id = await session.scalar(select(User.id).where(User.party_id == party_id).order_by(User.id).limit(1))
    return party_id, user_id


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
