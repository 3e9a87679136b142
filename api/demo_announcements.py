"""The demo's announcement: a water cut (停水通知) in the first tower, published two days before the demo's
day through the same steps as `createAnnouncement` / `publishAnnouncement`, read by most of the tower's
owners who have a demo login (each through `markAnnouncementRead`'s step), its first reminder round sent
the next morning to those who had not read it. The admin's page shows it with its read counts; the
in-process relay delivers its messages when the demo is served."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from announcements.drafting import write_draft
from announcements.publishing import publish_draft
from announcements.reading import record_read
from announcements.reminders import send_round
from kernel.principal import Principal, Role

__all__ = ["DEMO_ANNOUNCEMENT_TITLE", "DemoAnnouncement", "seed_announcements"]

DEMO_ANNOUNCEMENT_TITLE = "停水通知"
_BODY = (
    "因市政供水管网检修，{day} 9:00–17:00 {tower}全楼停水，请各位住户提前储水，关好水龙头。"
    "恢复供水初期水质可能浑浊，请放水片刻后再使用。如有疑问请致电物业服务中心。"
)
_PUBLISHED_AT = dt.time(9, 0)


@dataclass(frozen=True)
class DemoAnnouncement:
    recipients: int
    read: int
    reminded: int


async def seed_announcements(
    session: AsyncSession,
    *,
    project_id: int,
    tower_id: int,
    tower_name: str,
    audience_roles: Sequence[Role],
    admin: Principal,
    readers: Sequence[Principal],
    zone: ZoneInfo,
    today: dt.date,
) -> DemoAnnouncement:
    """Write the announcement. Half the readers read it the first morning, before the reminder round,
    the rest the next morning after it."""
    published_at = dt.datetime.combine(today - dt.timedelta(days=2), _PUBLISHED_AT, zone).astimezone(dt.UTC)
    water_cut_day = (today + dt.timedelta(days=1)).strftime("%m月%d日").lstrip("0")
    draft = await write_draft(
        session,
        admin,
        project_id=project_id,
        title=DEMO_ANNOUNCEMENT_TITLE,
        body=_BODY.format(day=water_cut_day, tower=tower_name),
        roles=audience_roles,
        building_ids=[tower_id],
        unit_ids=[],
        reminder_after_hours=24,
        reminder_limit=2,
        now=published_at - dt.timedelta(minutes=30),
    )
    announcement = await publish_draft(session, admin, announcement_id=draft.id, now=published_at)
    early = len(readers) // 2
    for minutes, reader in enumerate(readers[:early], start=1):
        await record_read(session, reader, announcement_id=announcement.id, now=published_at + dt.timedelta(minutes=7 * minutes))
    reminded_at = published_at + dt.timedelta(hours=24)
    reminded = await send_round(session, announcement, now=reminded_at)
    for minutes, reader in enumerate(readers[early:], start=1):
        await record_read(session, reader, announcement_id=announcement.id, now=reminded_at + dt.timedelta(minutes=11 * minutes))
    return DemoAnnouncement(announcement.recipient_count, announcement.read_count, reminded)
