"""The background worker: runs the dispatch jobs periodically (each publishes its events as they commit),
and issues the invoices left PENDING (a process stopped between a payment's commit and its invoice, or
more invoices at once than a request issues itself).

On the embedded default the app runs one in-process (see `create_app(background_jobs=…)`); in production
`courtyard worker` runs it as its own process, as many of them as wanted (the jobs claim their work with
`FOR NO KEY UPDATE SKIP LOCKED` and keep the lock order of ARCHITECTURE.md). Time comes from the injected
clock, so tests call `run_once` after moving it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch.events import Publisher
from dispatch.jobs import (
    JobReport,
    open_due_maintenance,
    reoptimize_queues,
    run_sla_checks,
)
from invoicing.issuing import issue_pending_invoices

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_REPLAN_EVERY", "DispatchWorker", "InProcessWorker"]

log = logging.getLogger("courtyard.worker")

DEFAULT_INTERVAL = 15.0
DEFAULT_REPLAN_EVERY = dt.timedelta(minutes=5)


class DispatchWorker:
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
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._session_factory = session_factory
        self._clock = clock
        self._publisher = publisher
        self._interval = interval
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

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds every `interval` seconds until `stop` is set; a failing round is logged and retried."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("worker round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)


class InProcessWorker:
    """A `DispatchWorker` running as a task of the serving process (the embedded default)."""

    def __init__(self, worker: DispatchWorker) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(worker.run(self._stop), name="courtyard-dispatch-worker")

    async def stop(self) -> None:
        self._stop.set()
        await self._task
