"""Reminding those who have not read an announcement: the periodic job, and the relay's check at send time.

`send_due_reminders` runs from the worker (in-process on the embedded default, `courtyard worker`
elsewhere) like the outbox relay. Each pass takes the published announcements whose next round has
fallen due, one transaction each (PostgreSQL: `FOR NO KEY UPDATE SKIP LOCKED`, so several workers
share them), asks `announcements.schedule` which round is due, and enqueues one ANNOUNCEMENT_REMINDER
per recipient who has not read it yet, in one INSERT … SELECT through the outbox. Quiet hours and the
frequency cap hold them in the outbox.

Someone may read the announcement after their reminder was enqueued and before it goes out, and a
recall may come in between: the relay asks `STILL_WANTED` just before sending, in the transaction that
would send it, and cancels a reminder to someone who has read it meanwhile, and any message about an
announcement that is no longer published.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from announcements.publishing import plan_of, recipients_of, reminder_key_prefix
from announcements.schedule import due_round, next_reminder_at
from db.models import Announcement, AnnouncementRecipient, Message
from db.unit_of_work import unit_of_work
from kernel.vocabulary import AnnouncementStatus
from notifications.fanout import enqueue_for_each
from notifications.kinds import MessageKind
from notifications.relay import StillWanted

__all__ = [
    "MAX_ANNOUNCEMENTS_PER_PASS",
    "STILL_WANTED",
    "send_due_reminders",
    "send_round",
    "still_published",
    "still_unread",
]

MAX_ANNOUNCEMENTS_PER_PASS = 100


async def send_due_reminders(session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime) -> int:
    """One pass at `now`: every announcement whose round is due gets it; answer how many reminders were
    enqueued."""
    enqueued = 0
    for _ in range(MAX_ANNOUNCEMENTS_PER_PASS):
        async with unit_of_work(session_factory) as work:
            announcement = await _claim_due(work.session, now)
            if announcement is None:
                break
            enqueued += await send_round(work.session, announcement, now=now)
    return enqueued


async def _claim_due(session: AsyncSession, now: dt.datetime) -> Announcement | None:
    statement = (
        select(Announcement)
        .where(Announcement.status == AnnouncementStatus.PUBLISHED, Announcement.next_reminder_at <= now)
        .order_by(Announcement.next_reminder_at, Announcement.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True, key_share=True)
    return await session.scalar(statement)


async def send_round(session: AsyncSession, announcement: Announcement, *, now: dt.datetime) -> int:
    """The step of one announcement: the round due at `now` (if any) to those who have not read it; answers
    how many reminders it enqueued. The caller holds the announcement's lock."""
    assert announcement.published_at is not None
    due = due_round(announcement.published_at, plan_of(announcement), sent=announcement.reminders_sent, now=now)
    if due is None:
        # Its stored time said due, its plan says not yet: the plan decides.
        announcement.next_reminder_at = next_reminder_at(
            announcement.published_at, plan_of(announcement), sent=announcement.reminders_sent
        )
        return 0
    written = await enqueue_for_each(
        session,
        recipients_of(announcement.id, unread_only=True),
        project_id=announcement.project_id,
        kind=MessageKind.ANNOUNCEMENT_REMINDER,
        key_prefix=reminder_key_prefix(announcement.id, due.round),
        payload={"title": announcement.title, "announcement_id": announcement.id, "round": due.round},
        now=now,
    )
    announcement.reminders_sent = due.round
    announcement.next_reminder_at = due.next_at
    return written


async def still_published(session: AsyncSession, message: Message, now: dt.datetime | None = None) -> bool:
    """An announcement's message goes out while the announcement is published (a recall withdraws the
    pending ones; this catches one a relay had claimed already). A message of the kind that names no
    announcement is wanted as it is. The time of the pass does not matter."""
    announcement_id = _announcement_id(message)
    if announcement_id is None:
        return True
    status = await session.scalar(select(Announcement.status).where(Announcement.id == announcement_id))
    return status is AnnouncementStatus.PUBLISHED


async def still_unread(session: AsyncSession, message: Message, now: dt.datetime | None = None) -> bool:
    """A reminder goes out while the announcement is published and its addressee has not read it."""
    announcement_id = _announcement_id(message)
    if announcement_id is None:
        return True
    if not await still_published(session, message):
        return False
    read_at = await session.scalar(
        select(AnnouncementRecipient.read_at).where(
            AnnouncementRecipient.announcement_id == announcement_id,
            AnnouncementRecipient.addressee == message.addressee,
        )
    )
    return read_at is None


def _announcement_id(message: Message) -> int | None:
    value = message.payload.get("announcement_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


STILL_WANTED: Mapping[str, StillWanted] = {
    MessageKind.ANNOUNCEMENT: still_published,
    MessageKind.ANNOUNCEMENT_REMINDER: still_unread,
}
"""The relay's send-time checks for the kinds announcements send."""
