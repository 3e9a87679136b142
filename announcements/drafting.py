"""Writing an announcement: a draft is created and changed by its project's administrators until it is
published. Its audience is checked when written (the places must be the project's) and resolved into
recipients only when it is published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from announcements.audience import Audience, audience_of
from announcements.model import check_may_edit, draft_text
from announcements.policy import may_write_announcements
from announcements.schedule import DEFAULT_REMINDER_AFTER_HOURS, DEFAULT_REMINDER_LIMIT, reminder_plan
from db.models import Announcement, Building, Unit
from db.unit_of_work import unit_of_work
from kernel.errors import NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import AnnouncementStatus

__all__ = ["create_announcement", "locked_announcement", "update_announcement", "write_draft"]


async def create_announcement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    title: str,
    body: str,
    roles: Sequence[Role],
    building_ids: Sequence[int] = (),
    unit_ids: Sequence[int] = (),
    reminder_after_hours: int = DEFAULT_REMINDER_AFTER_HOURS,
    reminder_limit: int = DEFAULT_REMINDER_LIMIT,
    now: dt.datetime,
) -> Announcement:
    """A new DRAFT in `project_id`, seen by the project's staff only until it is published."""
    async with unit_of_work(session_factory) as work:
        return await write_draft(
            work.session,
            principal,
            project_id=project_id,
            title=title,
            body=body,
            roles=roles,
            building_ids=building_ids,
            unit_ids=unit_ids,
            reminder_after_hours=reminder_after_hours,
            reminder_limit=reminder_limit,
            now=now,
        )


async def write_draft(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    title: str,
    body: str,
    roles: Sequence[Role],
    building_ids: Sequence[int],
    unit_ids: Sequence[int],
    reminder_after_hours: int,
    reminder_limit: int,
    now: dt.datetime,
) -> Announcement:
    """`create_announcement`'s step, in the caller's transaction (the demo writes its announcement so)."""
    text = draft_text(title=title, body=body)
    audience = audience_of(roles=roles, building_ids=building_ids, unit_ids=unit_ids)
    plan = reminder_plan(after_hours=reminder_after_hours, limit=reminder_limit)
    if not may_write_announcements(principal, project_id):
        raise NotFound("No such project.", field="projectId")
    await _check_places(session, project_id, audience)
    announcement = Announcement(
        project_id=project_id,
        title=text.title,
        body=text.body,
        status=AnnouncementStatus.DRAFT,
        audience=audience.stored(),
        reminder_after_hours=int(plan.after.total_seconds()) // 3600,
        reminder_limit=plan.limit,
        reminders_sent=0,
        recipient_count=0,
        read_count=0,
        created_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(announcement)
    await session.flush()
    return announcement


async def update_announcement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    announcement_id: int,
    now: dt.datetime,
    title: str | None = None,
    body: str | None = None,
    roles: Sequence[Role] | None = None,
    building_ids: Sequence[int] | None = None,
    unit_ids: Sequence[int] | None = None,
    reminder_after_hours: int | None = None,
    reminder_limit: int | None = None,
) -> Announcement:
    """Change a DRAFT; what is left out stays as it was (an audience part left out keeps its stored value).
    A published or recalled announcement answers CONFLICT."""
    async with unit_of_work(session_factory) as work:
        announcement = await locked_announcement(work.session, principal, announcement_id)
        check_may_edit(announcement.status)
        text = draft_text(
            title=announcement.title if title is None else title, body=announcement.body if body is None else body
        )
        stored = Audience.from_stored(announcement.audience)
        audience = audience_of(
            roles=stored.roles if roles is None else roles,
            building_ids=stored.building_ids if building_ids is None else building_ids,
            unit_ids=stored.unit_ids if unit_ids is None else unit_ids,
        )
        plan = reminder_plan(
            after_hours=announcement.reminder_after_hours if reminder_after_hours is None else reminder_after_hours,
            limit=announcement.reminder_limit if reminder_limit is None else reminder_limit,
        )
        await _check_places(work.session, announcement.project_id, audience)
        announcement.title, announcement.body = text.title, text.body
        announcement.audience = audience.stored()
        announcement.reminder_after_hours = int(plan.after.total_seconds()) // 3600
        announcement.reminder_limit = plan.limit
        announcement.updated_at = now
        await work.session.flush()
        return announcement


async def locked_announcement(session: AsyncSession, principal: Principal, announcement_id: int) -> Announcement:
    """The announcement, locked until the transaction ends, when the caller writes its project's; else
    NOT_FOUND. Every change of an announcement (and every first read, which counts) takes this lock
    first, so they run one after another."""
    statement = select(Announcement).where(Announcement.id == announcement_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(key_share=True)
    announcement = await session.scalar(statement)
    if announcement is None or not may_write_announcements(principal, announcement.project_id):
        raise NotFound(f"No announcement {announcement_id}.", field="id")
    return announcement


async def _check_places(session: AsyncSession, project_id: int, audience: Audience) -> None:
    """Every named building and unit is the project's: another project's answers NOT_FOUND."""
    await _all_in_project(session, Building, audience.building_ids, project_id, "audience.buildingIds")
    await _all_in_project(session, Unit, audience.unit_ids, project_id, "audience.unitIds")


async def _all_in_project(
    session: AsyncSession, model: type[Building] | type[Unit], ids: Collection[int], project_id: int, field: str
) -> None:
    if not ids:
        return
    found = await session.scalar(
        select(func.count()).select_from(model).where(model.id.in_(sorted(ids)), model.project_id == project_id)
    )
    if found != len(ids):
        raise NotFound(f"Not every one of these {model.__tablename__}s is in the project.", field=field)
