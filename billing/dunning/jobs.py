"""The daily dunning passes, run by the worker: once a day per project, from 09:00 in the project's own
time zone (so the messages go out in the morning, not in the quiet hours), each project in a transaction
of its own. A project that already had its scheduled pass today is skipped; two workers reaching one
project at once queue on the pass's lock, and the second finds the pass done.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.dunning.passes import project_today, run_dunning, scheduled_pass_ran
from db.models import Project

__all__ = ["DUNNING_STARTS_AT", "DunningJobReport", "run_due_dunning"]

log = logging.getLogger("courtyard.dunning")

DUNNING_STARTS_AT = dt.time(9, 0)
"""Local time from which a project's daily pass runs."""


@dataclass
class DunningJobReport:
    passes: int = 0
    notices: int = 0
    messages: int = 0
    follow_ups: int = 0
    failures: int = 0


async def run_due_dunning(session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime) -> DunningJobReport:
    """Run today's pass of every project that is due for one at `now`."""
    report = DunningJobReport()
    async with session_factory() as session:
        projects = list((await session.scalars(select(Project).order_by(Project.id))).all())
        due = [project.id for project in projects if await _due(session, project, now)]
    for project_id in due:
        try:
            outcome = await run_dunning(session_factory, None, project_id=project_id, now=now, scheduled=True)
        except Exception:
            log.exception("the dunning pass of project %s failed", project_id)
            report.failures += 1
            continue
        if outcome.run_id is None:
            continue
        report.passes += 1
        report.notices += len(outcome.notices)
        report.messages += outcome.messages
        report.follow_ups += outcome.follow_ups
    return report


async def _due(session: AsyncSession, project: Project, now: dt.datetime) -> bool:
    if now.astimezone(ZoneInfo(project.timezone)).time() < DUNNING_STARTS_AT:
        return False
    return not await scheduled_pass_ran(session, project.id, project_today(project, now))
