"""The background workers: the dispatch jobs, run periodically (each publishes its events as they commit),
the daily dunning passes, the notification outbox's relay (which re-checks dunning and announcement messages
before it sends them), and the announcements' reminder rounds. The dispatch worker also issues the
invoices left PENDING (a process stopped between a payment's commit and its invoice, or more invoices at
once than a request issues itself).

On the embedded default the app runs one in-process (see `create_app(background_jobs=…)`); in production
`courtyard worker` runs it as its own process, as many of them as wanted (the jobs claim their work with
`FOR NO KEY UPDATE SKIP LOCKED` and keep the lock order of ARCHITECTURE.md; the relay leases its messages
the same way). Time comes from the injected clock, so tests call `run_once` after moving it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from announcements.reminders import STILL_WANTED as ANNOUNCEMENT_CHECKS
from announcements.reminders import send_due_reminders
from billing.dunning.jobs import DunningJobReport, run_due_dunning
from billing.dunning.send_check import STILL_WANTED as DUNNING_CHECKS
from db.personal_data import PersonalDataCipher
from dispatch.events import Publisher
from dispatch.jobs import (
    JobReport,
    open_due_maintenance,
    reoptimize_queues,
    run_sla_checks,
)
from invoicing.issuing import issue_pending_invoices
from kernel.vocabulary import NotificationChannel
from notifications.channels import ChannelSender
from notifications.relay import DEFAULT_BATCH_SIZE, RelayReport, StillWanted, relay_once

__all__ = [
    "DEFAULT_DUNNING_INTERVAL",
    "DEFAULT_INTERVAL",
    "DEFAULT_REPLAN_EVERY",
    "AnnouncementReminders",
    "DispatchWorker",
    "DunningWorker",
    "InProcessWorker",
    "OutboxRelay",
    "SEND_CHECKS",
]

SEND_CHECKS: Mapping[str, StillWanted] = {**DUNNING_CHECKS, **ANNOUNCEMENT_CHECKS}
"""What the relay asks again just before it sends a message of each kind: a reminder for bills since paid,
disputed or under a payment plan, or for an announcement since recalled or read, is cancelled, not sent."""

log = logging.getLogger("courtyard.worker")

DEFAULT_INTERVAL = 15.0
DEFAULT_REPLAN_EVERY = dt.timedelta(minutes=5)
DEFAULT_DUNNING_INTERVAL = 300.0
"""Seconds between looks for projects due for their daily dunning pass."""


class _Rounds(ABC):
    """Rounds every `interval` seconds until `stop` is set; a failing round is logged and the next one runs."""

    _failure = "worker round failed"

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], *, clock: Callable[[], dt.datetime], interval: float) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._session_factory = session_factory
        self._clock = clock
        self._interval = interval

    @abstractmethod
    async def run_once(self) -> Any:
        """One round at the clock's `now`; answers what it did."""

    def _again_at_once(self, report: Any) -> bool:
        """Whether the round left work that should not wait for the interval."""
        return False

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.run_once()
            except Exception:
                log.exception(self._failure)
            else:
                if self._again_at_once(report):
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)


class DispatchWorker(_Rounds):
    """SLA checks, due maintenance and pending invoices on every run; queue re-planning every `replan_every`."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], dt.datetime],
        publisher: Publisher | None = None,
        interval: float = DEFAULT_INTERVAL,
        replan_every: dt.timedelta = DEFAULT_REPLAN_EVERY,
    ) -> None:
        super().__init__(session_factory, clock=clock, interval=interval)
        self._publisher = publisher
        self._replan_every = replan_every
        self._last_replan: dt.datetime | None = None

    async def run_once(self) -> JobReport:
        """One round of every job that is due, at the clock's `now`."""
        now, sessions, publisher = self._clock(), self._session_factory, self._publisher
        report = JobReport()
        report.merge(await run_sla_checks(sessions, now=now, publisher=publisher))
        report.merge(await open_due_maintenance(sessions, now=now, publisher=publisher))
        if self._last_replan is None or now - self._last_replan >= self._replan_every:
            report.merge(await reoptimize_queues(sessions, now=now, publisher=publisher))
            self._last_replan = now
        if invoices := await issue_pending_invoices(sessions, now=now):
            log.info("worker round: took up %d pending invoices", invoices)
        if report.sla_events or report.escalations or report.maintenance_tickets or report.replanned or report.failures:
            log.info(
                "worker round: %d SLA events, %d escalations, %d maintenance tickets, %d re-planned, %d failures",
                report.sla_events,
                report.escalations,
                report.maintenance_tickets,
                report.replanned,
                report.failures,
            )
        return report


class DunningWorker(_Rounds):
    """Each project's dunning pass, once a day from 09:00 local time (`billing.dunning.jobs`)."""

    _failure = "dunning round failed"

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], dt.datetime],
        interval: float = DEFAULT_DUNNING_INTERVAL,
    ) -> None:
        super().__init__(session_factory, clock=clock, interval=interval)

    async def run_once(self) -> DunningJobReport:
        report = await run_due_dunning(self._session_factory, now=self._clock())
        if report.passes or report.failures:
            log.info(
                "dunning: %d passes, %d notices, %d messages, %d follow-ups, %d failures",
                report.passes,
                report.notices,
                report.messages,
                report.follow_ups,
                report.failures,
            )
        return report


class OutboxRelay(_Rounds):
    """The notification outbox's relay: a pass at once again while passes find a full batch, otherwise one
    every `interval` seconds (a message waits at most about that long)."""

    _failure = "outbox relay pass failed"

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        channels: Mapping[NotificationChannel, ChannelSender],
        *,
        clock: Callable[[], dt.datetime],
        cipher: PersonalDataCipher,
        publisher: Publisher | None = None,
        interval: float = 1.0,
        batch_size: int = DEFAULT_BATCH_SIZE,
        still_wanted: Mapping[str, StillWanted] | None = None,
    ) -> None:
        super().__init__(session_factory, clock=clock, interval=interval)
        self._channels = channels
        self._still_wanted = still_wanted
        self._cipher = cipher
        self._publisher = publisher
        self._batch_size = batch_size

    async def run_once(self) -> RelayReport:
        report = await relay_once(
            self._session_factory,
            self._channels,
            now=self._clock(),
            cipher=self._cipher,
            publisher=self._publisher,
            batch_size=self._batch_size,
            still_wanted=self._still_wanted,
        )
        if report.claimed:
            log.info(
                "outbox: %d claimed, %d sent, %d delivered, %d deferred, %d retrying, %d failed",
                report.claimed,
                report.sent,
                report.delivered,
                report.deferred,
                report.retrying,
                report.failed,
            )
        return report

    def _again_at_once(self, report: RelayReport) -> bool:
        return report.claimed >= self._batch_size


class AnnouncementReminders(_Rounds):
    """The reminder rounds of published announcements that have fallen due, every `interval` seconds."""

    _failure = "announcement reminder pass failed"

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        clock: Callable[[], dt.datetime],
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        super().__init__(session_factory, clock=clock, interval=interval)

    async def run_once(self) -> int:
        """One pass at the clock's `now`; answers how many reminders it enqueued."""
        enqueued = await send_due_reminders(self._session_factory, now=self._clock())
        if enqueued:
            log.info("announcements: %d reminders enqueued", enqueued)
        return enqueued


class Runnable(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


class InProcessWorker:
    """A worker (`DispatchWorker`, `DunningWorker`, `OutboxRelay`, `AnnouncementReminders`) running as a task of the serving process (the embedded
    default)."""

    def __init__(self, worker: Runnable, *, name: str = "courtyard-dispatch-worker") -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(worker.run(self._stop), name=name)

    async def stop(self) -> None:
        self._stop.set()
        await self._task
