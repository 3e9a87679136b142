"""Reading announcements: a person's own (those published to them) and their read receipt; a project's
staff's view (every announcement with its counters, and who has read it and who has not).

A read receipt is exact: the recipient row's `read_at` is set once, by the first read, under the
announcement's row lock, and only then does `read_count` grow; reading again changes nothing and
publishes nothing. A first read also marks the person's in-app messages about the announcement read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from announcements.live import announce_counters, counters_of
from announcements.policy import addressed_to, may_follow_announcements, may_receive, visible_to_staff
from announcements.publishing import announcement_key_prefix, reminder_key_prefix
from db.models import Announcement, AnnouncementRecipient, Message, Party, User
from db.unit_of_work import unit_of_work
from dispatch.events import Publisher
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import AnnouncementStatus
from notifications.policy import addressee_of

__all__ = [
    "AnnouncementView",
    "RecipientEntry",
    "get_announcement_to_follow",
    "get_visible_announcements",
    "list_announcements",
    "list_my_announcements",
    "list_recipients",
    "mark_announcement_read",
    "record_read",
]


@dataclass(frozen=True)
class AnnouncementView:
    """An announcement as the caller may see it: `staff` when they see its counters and recipients;
    `read_at` their own receipt (None when unread or not addressed to them)."""

    announcement: Announcement
    staff: bool
    read_at: dt.datetime | None = None

    @property
    def id(self) -> int:
        return self.announcement.id


@dataclass(frozen=True)
class RecipientEntry:
    id: int
    addressee: str
    name: str
    read_at: dt.datetime | None


async def mark_announcement_read(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    announcement_id: int,
    now: dt.datetime,
    publisher: Publisher | None = None,
) -> AnnouncementView:
    """Mark an announcement published to the caller read; again changes nothing (the first read counts).
    A draft, a recalled one, or one not addressed to the caller answers NOT_FOUND."""
    async with unit_of_work(session_factory) as work:
        view, first = await record_read(work.session, principal, announcement_id=announcement_id, now=now)
        if first:
            announce_counters(work, publisher, counters_of(view.announcement))
        return view


async def record_read(
    session: AsyncSession, principal: Principal, *, announcement_id: int, now: dt.datetime
) -> tuple[AnnouncementView, bool]:
    """`mark_announcement_read`'s step, in the caller's transaction: the caller's view, and whether this was
    their first read (the one that counts, after which the caller publishes the counters)."""
    addressee = addressee_of(principal)
    statement = select(Announcement).where(Announcement.id == announcement_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(key_share=True)
    announcement = await session.scalar(statement)
    recipient = (
        await session.scalar(
            select(AnnouncementRecipient).where(
                AnnouncementRecipient.announcement_id == announcement_id, AnnouncementRecipient.addressee == addressee
            )
        )
        if announcement is not None
        else None
    )
    if announcement is None or recipient is None or not may_receive(
        principal, status=announcement.status, recipient=recipient.addressee
    ):
        raise NotFound(f"No announcement {announcement_id}.", field="id")
    first = recipient.read_at is None
    if first:
        recipient.read_at, recipient.read_by = now, principal.user_id
        announcement.read_count += 1
        await _mark_messages_read(session, announcement, addressee, now)
        await session.flush()
    view = AnnouncementView(announcement, staff=may_follow_announcements(principal, announcement.project_id), read_at=recipient.read_at)
    return view, first


async def _mark_messages_read(session: AsyncSession, announcement: Announcement, addressee: str, now: dt.datetime) -> None:
    keys = [announcement_key_prefix(announcement.id) + addressee] + [
        reminder_key_prefix(announcement.id, round_) + addressee for round_ in range(1, announcement.reminders_sent + 1)
    ]
    await session.execute(
        update(Message).where(Message.idempotency_key.in_(keys), Message.read_at.is_(None)).values(read_at=now)
    )


async def list_my_announcements(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    limit: int,
    before_id: int | None,
    unread_only: bool,
) -> tuple[list[AnnouncementView], int, int]:
    """The published announcements addressed to the caller, newest first, below `before_id`: up to
    `limit` + 1 (the extra one says another page follows), how many there are, how many are unread."""
    mine = [addressed_to(principal)]
    unread = [*mine, AnnouncementRecipient.read_at.is_(None)]
    page = list(unread if unread_only else mine)
    if before_id is not None:
        page.append(Announcement.id < before_id)
    joined = select(Announcement, AnnouncementRecipient.read_at).join(
        AnnouncementRecipient, AnnouncementRecipient.announcement_id == Announcement.id
    )
    counted = select(func.count()).select_from(Announcement).join(
        AnnouncementRecipient, AnnouncementRecipient.announcement_id == Announcement.id
    )
    async with session_factory() as session:
        rows = (await session.execute(joined.where(*page).order_by(Announcement.id.desc()).limit(limit + 1))).all()
        total = await session.scalar(counted.where(*(unread if unread_only else mine)))
        unread_count = await session.scalar(counted.where(*unread))
    views = [
        AnnouncementView(row, staff=may_follow_announcements(principal, row.project_id), read_at=read_at) for row, read_at in rows
    ]
    return views, int(total or 0), int(unread_count or 0)


async def list_announcements(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    status: AnnouncementStatus | None,
    limit: int,
    before_id: int | None,
) -> tuple[list[AnnouncementView], int]:
    """Every announcement of a project the caller is staff of, newest first (another project's: none),
    with its counters: up to `limit` + 1, and how many match."""
    if not may_follow_announcements(principal, project_id):
        return [], 0
    conditions = [Announcement.project_id == project_id, visible_to_staff(principal)]
    if status is not None:
        conditions.append(Announcement.status == status)
    page = list(conditions)
    if before_id is not None:
        page.append(Announcement.id < before_id)
    async with session_factory() as session:
        rows = (await session.scalars(select(Announcement).where(*page).order_by(Announcement.id.desc()).limit(limit + 1))).all()
        total = await session.scalar(select(func.count()).select_from(Announcement).where(*conditions))
        own = await _own_receipts(session, principal, [row.id for row in rows])
    return [AnnouncementView(row, staff=True, read_at=own.get(row.id)) for row in rows], int(total or 0)


async def get_visible_announcements(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, ids: Sequence[int]
) -> dict[int, AnnouncementView]:
    """Those of `ids` the caller may see, by id: their project's as staff, those published to them as a
    recipient; anything else is left out."""
    if not ids:
        return {}
    addressee = addressee_of(principal)
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(Announcement, AnnouncementRecipient.addressee, AnnouncementRecipient.read_at)
                .outerjoin(
                    AnnouncementRecipient,
                    (AnnouncementRecipient.announcement_id == Announcement.id) & (AnnouncementRecipient.addressee == addressee),
                )
                .where(Announcement.id.in_(sorted(set(ids))))
            )
        ).all()
    views = {}
    for announcement, recipient, read_at in rows:
        staff = may_follow_announcements(principal, announcement.project_id)
        if staff or may_receive(principal, status=announcement.status, recipient=recipient):
            views[announcement.id] = AnnouncementView(announcement, staff=staff, read_at=read_at)
    return views


async def list_recipients(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    announcement: Announcement,
    read: bool | None,
    limit: int,
    after_id: int | None,
) -> tuple[list[RecipientEntry], int]:
    """The announcement's recipients in the order they were resolved, with their names as the register
    has them now: only who has read it (`read`), who has not (`not read`), or all (None). Staff of its
    project only; anyone else gets none."""
    if not may_follow_announcements(principal, announcement.project_id):
        return [], 0
    conditions = [AnnouncementRecipient.announcement_id == announcement.id]
    if read is not None:
        conditions.append(AnnouncementRecipient.read_at.is_not(None) if read else AnnouncementRecipient.read_at.is_(None))
    page = list(conditions)
    if after_id is not None:
        page.append(AnnouncementRecipient.id > after_id)
    name = func.coalesce(Party.name, User.display_name, AnnouncementRecipient.addressee)
    async with session_factory() as session:
        rows = (
            await session.execute(
                select(AnnouncementRecipient.id, AnnouncementRecipient.addressee, name, AnnouncementRecipient.read_at)
                .outerjoin(Party, Party.id == AnnouncementRecipient.party_id)
                .outerjoin(User, User.id == AnnouncementRecipient.user_id)
                .where(*page)
                .order_by(AnnouncementRecipient.id)
                .limit(limit + 1)
            )
        ).all()
        total = await session.scalar(select(func.count()).select_from(AnnouncementRecipient).where(*conditions))
    return [RecipientEntry(row_id, addressee, str(shown), read_at) for row_id, addressee, shown, read_at in rows], int(total or 0)


async def _own_receipts(session: AsyncSession, principal: Principal, ids: list[int]) -> dict[int, dt.datetime | None]:
    if not ids:
        return {}
    rows = await session.execute(
        select(AnnouncementRecipient.announcement_id, AnnouncementRecipient.read_at).where(
            AnnouncementRecipient.announcement_id.in_(ids), AnnouncementRecipient.addressee == addressee_of(principal)
        )
    )
    return dict(rows.all())


async def get_announcement_to_follow(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, announcement_id: int
) -> Announcement:
    """The announcement whose counters the caller may follow (staff of its project); else NOT_FOUND."""
    async with session_factory() as session:
        announcement = await session.get(Announcement, announcement_id)
    if announcement is None or not may_follow_announcements(principal, announcement.project_id):
        raise NotFound(f"No announcement {announcement_id}.", field="announcementId")
    return announcement
