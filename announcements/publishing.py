"""Publishing an announcement to its audience, and recalling it.

Publishing resolves the audience into recipients as of the project's local day (one INSERT … SELECT:
residents by their occupancies, staff by their role grants, one row per addressee), enqueues one
ANNOUNCEMENT message per recipient through the outbox (one more INSERT … SELECT), plans the first
reminder round and publishes the counters, all in one transaction: a community of 10,000 households
publishes in a handful of statements.

Recalling hides the announcement from its recipients, withdraws every message about it that has not gone
out (the announcement itself and any reminder, `notifications.outbox.cancel`) and stops the reminders;
the recipients and their read receipts stay as the record of what was said to whom.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import String, Subquery, and_, case, cast, func, insert, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from announcements.audience import Audience
from announcements.drafting import locked_announcement
from announcements.live import announce_counters, counters_of
from announcements.model import check_may_publish, check_may_recall, summary_of
from announcements.schedule import ReminderPlan, next_reminder_at
from db.models import Announcement, AnnouncementRecipient, Occupancy, Project, RoleGrant, Unit, User
from db.unit_of_work import unit_of_work
from dispatch.events import Publisher
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.validation import optional_text
from kernel.vocabulary import AnnouncementStatus
from notifications.fanout import enqueue_for_each
from notifications.kinds import MessageKind
from notifications.outbox import cancel

__all__ = [
    "announcement_key_prefix",
    "plan_of",
    "publish_draft",
    "recipients_of",
    "publish_announcement",
    "recall_announcement",
    "reminder_key_prefix",
]

_CANCEL_CHUNK = 5_000
"""Keys per `cancel` statement: both databases cap the parameters of one statement."""


def announcement_key_prefix(announcement_id: int) -> str:
    """The outbox key of the announcement's message to a recipient is this followed by their addressee."""
    return f"announcement:{announcement_id}:"


def reminder_key_prefix(announcement_id: int, round_: int) -> str:
    return f"announcement:{announcement_id}:reminder:{round_}:"


def plan_of(announcement: Announcement) -> ReminderPlan:
    return ReminderPlan(dt.timedelta(hours=announcement.reminder_after_hours), announcement.reminder_limit)


async def publish_announcement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    announcement_id: int,
    now: dt.datetime,
    publisher: Publisher | None = None,
) -> Announcement:
    """Publish a DRAFT to everyone its audience takes in today; an audience with no one in it is refused
    (BAD_USER_INPUT on `audience`), a published or recalled one answers CONFLICT."""
    async with unit_of_work(session_factory) as work:
        announcement = await publish_draft(work.session, principal, announcement_id=announcement_id, now=now)
        announce_counters(work, publisher, counters_of(announcement))
        return announcement


async def publish_draft(session: AsyncSession, principal: Principal, *, announcement_id: int, now: dt.datetime) -> Announcement:
    """`publish_announcement`'s step, in the caller's transaction; the caller publishes the counters."""
    announcement = await locked_announcement(session, principal, announcement_id)
    check_may_publish(announcement.status)
    project = await session.get(Project, announcement.project_id)
    assert project is not None
    day = now.astimezone(ZoneInfo(project.timezone)).date()
    audience = Audience.from_stored(announcement.audience)
    recipients = await _snapshot(session, announcement.id, project.id, audience, day)
    if recipients == 0:
        raise BadInput("No one is in this audience today: choose other roles or places.", field="audience")
    announcement.status = AnnouncementStatus.PUBLISHED
    announcement.published_at, announcement.published_by = now, principal.user_id
    announcement.recipient_count, announcement.read_count, announcement.reminders_sent = recipients, 0, 0
    announcement.next_reminder_at = next_reminder_at(now, plan_of(announcement), sent=0)
    announcement.updated_at = now
    await enqueue_for_each(
        session,
        recipients_of(announcement.id),
        project_id=project.id,
        kind=MessageKind.ANNOUNCEMENT,
        key_prefix=announcement_key_prefix(announcement.id),
        payload={"title": announcement.title, "summary": summary_of(announcement.body), "announcement_id": announcement.id},
        now=now,
    )
    await session.flush()
    return announcement


async def recall_announcement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    announcement_id: int,
    reason: str | None,
    now: dt.datetime,
    publisher: Publisher | None = None,
) -> Announcement:
    """Hide a PUBLISHED announcement from its recipients and withdraw its messages not yet sent; a draft
    or a recalled one answers CONFLICT."""
    cleaned_reason = optional_text(reason, "reason", max_length=200)
    async with unit_of_work(session_factory) as work:
        session = work.session
        announcement = await locked_announcement(session, principal, announcement_id)
        check_may_recall(announcement.status)
        addressees = list(
            (
                await session.scalars(
                    select(AnnouncementRecipient.addressee).where(AnnouncementRecipient.announcement_id == announcement.id)
                )
            ).all()
        )
        for keys in _chunks(_message_keys(announcement, addressees)):
            await cancel(session, idempotency_keys=keys)
        announcement.status = AnnouncementStatus.RECALLED
        announcement.recalled_at, announcement.recalled_by = now, principal.user_id
        announcement.recall_reason = cleaned_reason
        announcement.next_reminder_at = None
        announcement.updated_at = now
        await session.flush()
        announce_counters(work, publisher, counters_of(announcement))
        return announcement


def _message_keys(announcement: Announcement, addressees: list[str]) -> Iterator[str]:
    """The outbox keys of every message about the announcement: its own and each reminder round sent."""
    prefixes = [announcement_key_prefix(announcement.id)] + [
        reminder_key_prefix(announcement.id, round_) for round_ in range(1, announcement.reminders_sent + 1)
    ]
    for prefix in prefixes:
        for addressee in addressees:
            yield prefix + addressee


def _chunks(keys: Iterator[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for key in keys:
        chunk.append(key)
        if len(chunk) == _CANCEL_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def recipients_of(announcement_id: int, *, unread_only: bool = False) -> Subquery:
    """The announcement's recipients as the outbox takes them: addressee, party, login."""
    conditions = [AnnouncementRecipient.announcement_id == announcement_id]
    if unread_only:
        conditions.append(AnnouncementRecipient.read_at.is_(None))
    return (
        select(AnnouncementRecipient.addressee, AnnouncementRecipient.party_id, AnnouncementRecipient.user_id)
        .where(*conditions)
        .subquery()
    )


async def _snapshot(session: AsyncSession, announcement_id: int, project_id: int, audience: Audience, day: dt.date) -> int:
    """Write the recipients the audience takes in on `day`, one per addressee; answer how many."""
    sources = []
    if audience.residents:
        sources.append(_residents(project_id, audience, day))
    if audience.staff_roles:
        sources.append(_staff(project_id, audience))
    everyone = union_all(*sources).subquery()
    rows = select(
        literal(announcement_id),
        everyone.c.addressee,
        func.min(everyone.c.party_id),
        func.min(everyone.c.user_id),
    ).group_by(everyone.c.addressee)
    result = await session.execute(
        insert(AnnouncementRecipient).from_select(["announcement_id", "addressee", "party_id", "user_id"], rows)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _party_addressee(party_id: object) -> object:
    """`notifications.outbox.addressee_key` for a party, in SQL."""
    return literal("party:") + cast(party_id, String)


def _residents(project_id: int, audience: Audience, day: dt.date) -> object:
    """Every party whose occupancy covers `day` (`announcements.audience.occupies_on`), of a unit of the
    project in the audience's places, with the party's first login."""
    conditions = [
        Unit.project_id == project_id,
        Occupancy.start_date <= day,
        or_(Occupancy.end_date.is_(None), Occupancy.end_date >= day),
    ]
    if not audience.whole_project:
        places = []
        if audience.building_ids:
            places.append(Unit.building_id.in_(sorted(audience.building_ids)))
        if audience.unit_ids:
            places.append(Unit.id.in_(sorted(audience.unit_ids)))
        conditions.append(or_(*places))
    first_login = select(func.min(User.id)).where(User.party_id == Occupancy.party_id).scalar_subquery()
    return (
        select(
            _party_addressee(Occupancy.party_id).label("addressee"),
            Occupancy.party_id.label("party_id"),
            first_login.label("user_id"),
        )
        .join(Unit, Unit.id == Occupancy.unit_id)
        .where(*conditions)
    )


def _staff(project_id: int, audience: Audience) -> object:
    """Every active login granted one of the audience's staff roles in the project, addressed as the outbox
    addresses it (by its party when it has one)."""
    addressee = case(
        (User.party_id.is_not(None), _party_addressee(User.party_id)),
        else_=literal("user:") + cast(User.id, String),
    )
    return (
        select(addressee.label("addressee"), User.party_id.label("party_id"), User.id.label("user_id"))
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            and_(
                RoleGrant.project_id == project_id,
                RoleGrant.role.in_(sorted(audience.staff_roles)),
                User.is_active.is_(True),
            )
        )
    )
