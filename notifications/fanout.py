"""One message for every recipient a query names, written into the outbox in one INSERT … SELECT.

`enqueue` writes one message and reads what it needs for it; an announcement to a community of 10,000
households would be 10,000 of those. `enqueue_for_each` takes the recipients as a query instead (columns
`addressee`, `party_id`, `user_id`, as `addressee_key` addresses them) and lets the database write the
messages in the sender's transaction:

    async with unit_of_work(sessions) as work:
        await enqueue_for_each(work.session, unread_recipients, project_id=…, kind=MessageKind.ANNOUNCEMENT_REMINDER,
                               key_prefix=f"announcement:{id}:reminder:1:", payload={…}, now=now)

Every message carries the same payload; its idempotency key is `key_prefix` followed by the addressee. A
key already stored is left as it is, so a sender asked twice writes nothing twice. The relay sends these
messages like any other (routing, pacing, the sender's send-time check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Subquery, exists, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message, Project
from kernel.errors import BadInput
from kernel.vocabulary import MessageStatus
from notifications.kinds import MessageKind, rules_of

__all__ = ["PayloadValue", "enqueue_for_each"]

PayloadValue = str | int | bool | None
"""What a fanned-out payload holds: values JSON keeps as they are (money and dates as text)."""

_KEY_PREFIX_LENGTH = 160
"""Room is left in the 200-character key for the longest addressee."""


async def enqueue_for_each(
    session: AsyncSession,
    recipients: Subquery,
    *,
    project_id: int,
    kind: MessageKind,
    key_prefix: str,
    payload: Mapping[str, PayloadValue],
    now: dt.datetime,
    not_before: dt.datetime | None = None,
) -> int:
    """Add a message of `kind` for each row of `recipients` to the outbox in the caller's transaction, in
    the project's locale; answer how many were new."""
    rules = rules_of(str(kind))
    if rules is None:
        raise BadInput(f"No kind of message {kind!r}.", field="kind")
    if not key_prefix or len(key_prefix) > _KEY_PREFIX_LENGTH:
        raise BadInput(f"A key prefix of 1 to {_KEY_PREFIX_LENGTH} characters is required.", field="idempotencyKey")
    if missing := sorted(rules.required - set(payload)):
        raise BadInput(f"A {kind} message needs {', '.join(missing)}.", field=f"payload.{missing[0]}")
    for name, value in payload.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise BadInput("Give every payload value as text, a number, true/false or null.", field=f"payload.{name}")
    locale = await session.scalar(select(Project.locale).where(Project.id == project_id))
    if locale is None:
        raise BadInput(f"No project {project_id}.", field="projectId")

    columns = Message.__table__.c
    key = literal(key_prefix, columns.idempotency_key.type) + recipients.c.addressee
    due = max(not_before, now) if not_before is not None else now
    rows = select(
        literal(project_id, columns.project_id.type),
        literal(str(kind), columns.kind.type),
        recipients.c.party_id,
        recipients.c.user_id,
        recipients.c.addressee,
        literal(dict(payload), columns.payload.type),
        literal(locale, columns.locale.type),
        key,
        literal(MessageStatus.QUEUED, columns.status.type),
        literal(due, columns.next_attempt_at.type),
        literal(0, columns.attempts.type),
        literal(now, columns.created_at.type),
    ).where(~exists().where(columns.idempotency_key == key))
    result = await session.execute(
        insert(Message).from_select(
            [
                "project_id",
                "kind",
                "party_id",
                "user_id",
                "addressee",
                "payload",
                "locale",
                "idempotency_key",
                "status",
                "next_attempt_at",
                "attempts",
                "created_at",
            ],
            rows,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
