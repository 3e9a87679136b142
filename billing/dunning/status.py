"""Where the latest dunning reminders stand: how many notices each level decided, counted by the channel their
message went out on and its status in the outbox (sent, queued, held back by quiet hours or a cap,
failed, …). The day shown is the latest day up to the project's local today on which a pass decided any
notice: today's once the 09:00 pass has reminded someone, else the last day that did (most days remind
nobody new: the ladder's levels are days apart). FINANCE and ADMIN of the project; it writes nothing. The
/finance page draws it beside the top of the work queue (`billing.dunning.work_queue`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.dunning.passes import project_today
from billing.guards import get_project
from billing.policy import may_manage_dunning
from db.models import DunningNotice, DunningRun, Message
from kernel.principal import Principal
from kernel.vocabulary import MessageStatus, NotificationChannel

__all__ = ["DunningDay", "ReminderCount", "read_dunning_day"]


@dataclass(frozen=True)
class ReminderCount:
    """How many notices of one level stand at one outbox status on one channel. `channel` is None while
    no channel has taken the message yet; `status` None for a level that sends no message (a phone
    follow-up only)."""

    level_code: str
    level_position: int
    channel: NotificationChannel | None
    status: MessageStatus | None
    count: int


@dataclass(frozen=True)
class DunningDay:
    """The day shown (None: no pass has decided any notice yet) and its counts, gentlest level first."""

    day: dt.date | None
    today: dt.date
    counts: tuple[ReminderCount, ...]

    @property
    def notices(self) -> int:
        return sum(count.count for count in self.counts)


async def read_dunning_day(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int, now: dt.datetime
) -> DunningDay:
    """The reminders of the project's latest dunning day with notices up to today (see the module docstring)."""
    async with session_factory() as session:
        project = await get_project(session, principal, project_id, allowed=may_manage_dunning)
        today = project_today(project, now)
        day = await session.scalar(
            select(func.max(DunningRun.day)).where(
                DunningRun.project_id == project_id, DunningRun.day <= today, DunningRun.notices > 0
            )
        )
        if day is None:
            return DunningDay(None, today, ())
        rows = await session.execute(
            select(DunningNotice.level_code, DunningNotice.level_position, Message.channel, Message.status, func.count())
            .join(DunningRun, DunningRun.id == DunningNotice.run_id)
            .outerjoin(Message, Message.id == DunningNotice.message_id)
            .where(DunningNotice.project_id == project_id, DunningRun.project_id == project_id, DunningRun.day == day)
            .group_by(DunningNotice.level_code, DunningNotice.level_position, Message.channel, Message.status)
        )
        counts = sorted(
            (ReminderCount(code, position, channel, status, int(count)) for code, position, channel, status, count in rows),
            key=lambda item: (item.level_position, item.level_code, item.channel or "", item.status or ""),
        )
        return DunningDay(day, today, tuple(counts))
