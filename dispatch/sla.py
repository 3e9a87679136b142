"""Service-level promises: deadlines per priority, the warning/breach events due, escalation.

Pure and clock-free: the caller passes `now` and the ticket's history as an `SlaClock`; every datetime
must be timezone-aware UTC. Each ticket carries three promises, counted from when it was submitted
(or last reopened): RESPOND is met when a technician ACCEPTs, ON_SITE when one checks in, RESOLVE when
the work is RESOLVED. Time spent WAITING_FOR_OWNER stops every running promise, so deadlines move later
by exactly the paused time. A warning is due at `warning_percent` (80 %) of a promise's time, a breach at
100 %; a promise met at or before its deadline is kept.

Default targets (respond / on site / resolve): URGENT 10 min / 1 h / 4 h, HIGH 20 min / 2 h / 8 h,
NORMAL 30 min / 2 h / 24 h, LOW 2 h / 24 h / 72 h. The resolve targets are ours: half a working day
for an urgent fault (a burst pipe, people stuck in a lift), a working day for a high one, a day for
normal repairs and three days for low ones, which often wait for parts or the owner's availability.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.lifecycle import ESCALATABLE_STATUSES
from dispatch.model import SlaState
from kernel.vocabulary import Priority, SlaTarget, TicketEventType, TicketStatus

__all__ = [
    "DEFAULT_SLA_POLICY",
    "PauseInterval",
    "SlaClock",
    "SlaDeadlines",
    "SlaEvent",
    "SlaPolicy",
    "SlaReport",
    "SlaTargets",
    "TargetReport",
    "current_deadlines",
    "deadlines",
    "due_sla_events",
    "evaluate",
    "should_escalate",
    "sla_state",
]


@dataclass(frozen=True)
class SlaTargets:
    """Time allowed, from submission, to respond, to be on site and to resolve."""

    respond: timedelta
    on_site: timedelta
    resolve: timedelta

    def __post_init__(self) -> None:
        if self.respond <= timedelta(0):
            raise ValueError("SLA targets must be positive")
        if not self.respond <= self.on_site <= self.resolve:
            raise ValueError("SLA targets must not decrease: respond ≤ on site ≤ resolve")

    def allowed(self, target: SlaTarget) -> timedelta:
        match target:
            case SlaTarget.RESPOND:
                return self.respond
            case SlaTarget.ON_SITE:
                return self.on_site
            case SlaTarget.RESOLVE:
                return self.resolve


_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_URGENT_TARGETS = SlaTargets(respond=10 * _MINUTE, on_site=1 * _HOUR, resolve=4 * _HOUR)
_HIGH_TARGETS = SlaTargets(respond=20 * _MINUTE, on_site=2 * _HOUR, resolve=8 * _HOUR)
_NORMAL_TARGETS = SlaTargets(respond=30 * _MINUTE, on_site=2 * _HOUR, resolve=24 * _HOUR)
_LOW_TARGETS = SlaTargets(respond=2 * _HOUR, on_site=24 * _HOUR, resolve=72 * _HOUR)


@dataclass(frozen=True)
class SlaPolicy:
    """A project's promises, one `SlaTargets` per priority, and when to warn (percent of the time)."""

    urgent: SlaTargets = _URGENT_TARGETS
    high: SlaTargets = _HIGH_TARGETS
    normal: SlaTargets = _NORMAL_TARGETS
    low: SlaTargets = _LOW_TARGETS
    warning_percent: int = 80

    def __post_init__(self) -> None:
        if not 1 <= self.warning_percent <= 99:
            raise ValueError("warning_percent must be between 1 and 99")

    def targets_for(self, priority: Priority | str) -> SlaTargets:
        """The targets of a priority; accepts any enum or string with a `Priority` value."""
        match Priority(priority):
            case Priority.URGENT:
                return self.urgent
            case Priority.HIGH:
                return self.high
            case Priority.NORMAL:
                return self.normal
            case Priority.LOW:
                return self.low

    def warning_after(self, allowed: timedelta) -> timedelta:
        """How far into `allowed` the warning falls (rounded down to the microsecond)."""
        return allowed * self.warning_percent // 100


DEFAULT_SLA_POLICY = SlaPolicy()


@dataclass(frozen=True)
class SlaDeadlines:
    respond: datetime
    on_site: datetime
    resolve: datetime

    def for_target(self, target: SlaTarget) -> datetime:
        match target:
            case SlaTarget.RESPOND:
                return self.respond
            case SlaTarget.ON_SITE:
                return self.on_site
            case SlaTarget.RESOLVE:
                return self.resolve


def deadlines(
    started_at: datetime,
    priority: Priority | str,
    policy: SlaPolicy = DEFAULT_SLA_POLICY,
    paused: timedelta = timedelta(0),
) -> SlaDeadlines:
    """Deadlines of a ticket submitted at `started_at` whose clock has been stopped for `paused` in all.

    Every deadline moves by the whole pause; use `current_deadlines` when a pause may have come after
    an earlier deadline."""
    _require_utc(started_at, "started_at")
    if paused < timedelta(0):
        raise ValueError("paused time cannot be negative")
    targets = policy.targets_for(priority)
    return SlaDeadlines(
        respond=started_at + targets.respond + paused,
        on_site=started_at + targets.on_site + paused,
        resolve=started_at + targets.resolve + paused,
    )


@dataclass(frozen=True)
class PauseInterval:
    """A stretch of WAITING_FOR_OWNER; `end` is None while the ticket is still waiting."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class SlaClock:
    """A ticket's history as the SLA sees it: when its promises started, when each milestone was first
    reached, when it waited for the owner, and when it was cancelled (no promise runs after that).

    A later milestone counts for the earlier ones too: a ticket checked in is also responded to."""

    started_at: datetime
    priority: Priority
    accepted_at: datetime | None = None
    on_site_at: datetime | None = None
    resolved_at: datetime | None = None
    pauses: tuple[PauseInterval, ...] = ()
    cancelled_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_utc(self.started_at, "started_at")
        for name in ("accepted_at", "on_site_at", "resolved_at", "cancelled_at"):
            moment = getattr(self, name)
            if moment is not None:
                _require_utc(moment, name)
                if moment < self.started_at:
                    raise ValueError(f"{name} is before the clock started")
        previous_end = self.started_at
        for position, pause in enumerate(self.pauses):
            _require_utc(pause.start, "pause start")
            if pause.start < previous_end:
                raise ValueError("pauses must be in order, not overlap, and start after the clock")
            if pause.end is None:
                if position != len(self.pauses) - 1:
                    raise ValueError("only the last pause can still be open")
                break
            _require_utc(pause.end, "pause end")
            if pause.end < pause.start:
                raise ValueError("a pause cannot end before it starts")
            previous_end = pause.end

    @classmethod
    def from_history(
        cls,
        started_at: datetime,
        priority: Priority | str,
        history: Iterable[tuple[TicketEventType, datetime]],
    ) -> SlaClock:
        """Build the clock from the ticket's events in order. A REOPENED event restarts every promise
        from the reopening (the owner is promised a fresh response); other event types are ignored.
        SLA events emitted before that restart no longer count as already emitted."""
        start = started_at
        reached: dict[TicketEventType, datetime] = {}
        pauses: list[PauseInterval] = []
        waiting_since: datetime | None = None
        cancelled_at: datetime | None = None
        last = started_at
        for event_type, at in history:
            _require_utc(at, "event time")
            if at < last:
                raise ValueError("history must be in chronological order, after the clock started")
            last = at
            match event_type:
                case TicketEventType.REOPENED:
                    start, reached, pauses, waiting_since = at, {}, [], None
                case TicketEventType.ACCEPTED | TicketEventType.CHECKED_IN | TicketEventType.RESOLVED:
                    reached.setdefault(event_type, at)
                case TicketEventType.WAITING_FOR_OWNER:
                    if waiting_since is not None:
                        raise ValueError("a ticket already waiting for the owner cannot start waiting again")
                    waiting_since = at
                case TicketEventType.RESUMED:
                    if waiting_since is None:
                        raise ValueError("RESUMED without WAITING_FOR_OWNER before it")
                    pauses.append(PauseInterval(waiting_since, at))
                    waiting_since = None
                case TicketEventType.CANCELLED:
                    if waiting_since is not None:
                        pauses.append(PauseInterval(waiting_since, at))
                        waiting_since = None
                    cancelled_at = at
        if waiting_since is not None:
            pauses.append(PauseInterval(waiting_since))
        return cls(
            started_at=start,
            priority=Priority(priority),
            accepted_at=reached.get(TicketEventType.ACCEPTED),
            on_site_at=reached.get(TicketEventType.CHECKED_IN),
            resolved_at=reached.get(TicketEventType.RESOLVED),
            pauses=tuple(pauses),
            cancelled_at=cancelled_at,
        )

    def reached_at(self, target: SlaTarget) -> datetime | None:
        """When the milestone of `target` (or a later one, which implies it) was first reached."""
        candidates = {
            SlaTarget.RESPOND: (self.accepted_at, self.on_site_at, self.resolved_at),
            SlaTarget.ON_SITE: (self.on_site_at, self.resolved_at),
            SlaTarget.RESOLVE: (self.resolved_at,),
        }[target]
        reached = [moment for moment in candidates if moment is not None]
        return min(reached) if reached else None


@dataclass(frozen=True)
class SlaEvent:
    """An SLA ticket event that has fallen due; `at` is when the threshold was crossed."""

    kind: TicketEventType
    target: SlaTarget
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in (TicketEventType.SLA_WARNING, TicketEventType.SLA_BREACHED):
            raise ValueError("an SLA event is SLA_WARNING or SLA_BREACHED")


@dataclass(frozen=True)
class TargetReport:
    """One promise as of `now`: its deadline, when it warns, whether and when it was met."""

    target: SlaTarget
    warning_at: datetime
    deadline: datetime
    reached_at: datetime | None
    state: SlaState


@dataclass(frozen=True)
class SlaReport:
    """All three promises as of `now`; `state` is the worst of them, so a broken promise stays visible."""

    state: SlaState
    targets: tuple[TargetReport, ...]

    @property
    def next_due(self) -> TargetReport | None:
        """The first promise not yet met (what a countdown shows), None when all are met."""
        return next((report for report in self.targets if report.reached_at is None), None)


def evaluate(clock: SlaClock, policy: SlaPolicy, now: datetime) -> SlaReport:
    """Where each promise of the ticket stands at `now`."""
    _require_utc(now, "now")
    targets = policy.targets_for(clock.priority)
    reports = []
    for target in SlaTarget:
        allowed = targets.allowed(target)
        warning = policy.warning_after(allowed)
        reached = _reached_by(clock, target, now)
        if reached is not None:
            state = SlaState.OK if _running_time(clock, reached) <= allowed else SlaState.BREACHED
        else:
            running = _running_time(clock, _stop(clock, now))
            if running >= allowed:
                state = SlaState.BREACHED
            elif running >= warning:
                state = SlaState.WARNING
            else:
                state = SlaState.OK
        # A promise already met ignores pauses that came after it.
        horizon = reached if reached is not None else now
        reports.append(
            TargetReport(
                target=target,
                warning_at=_instant_after(clock, warning, horizon),
                deadline=_instant_after(clock, allowed, horizon),
                reached_at=reached,
                state=state,
            )
        )
    worst = max((report.state for report in reports), key=_SEVERITY.index)
    return SlaReport(state=worst, targets=tuple(reports))


def sla_state(clock: SlaClock, policy: SlaPolicy, now: datetime) -> SlaState:
    """OK, WARNING or BREACHED: the worst state of the ticket's three promises at `now`."""
    return evaluate(clock, policy, now).state


def current_deadlines(clock: SlaClock, policy: SlaPolicy, now: datetime) -> SlaDeadlines:
    """The deadlines as of `now`, each moved by the pauses that came before it and before its milestone
    was reached (an open pause counts up to `now`, so a waiting ticket's deadlines keep moving until it
    resumes)."""
    report = evaluate(clock, policy, now)
    by_target = {item.target: item.deadline for item in report.targets}
    return SlaDeadlines(
        respond=by_target[SlaTarget.RESPOND],
        on_site=by_target[SlaTarget.ON_SITE],
        resolve=by_target[SlaTarget.RESOLVE],
    )


def due_sla_events(
    clock: SlaClock,
    policy: SlaPolicy,
    now: datetime,
    already_emitted: Collection[tuple[TicketEventType, SlaTarget]] = (),
) -> list[SlaEvent]:
    """The SLA events to append now, oldest first: for each promise not yet met, its breach once the
    deadline has passed, otherwise its warning once 80 % of the time is used, never one that is in
    `already_emitted` as `(kind, target)`. A run that finds a promise already past its deadline emits
    only the breach: a warning after the fact helps nobody."""
    _require_utc(now, "now")
    if clock.cancelled_at is not None and clock.cancelled_at <= now:
        return []
    targets = policy.targets_for(clock.priority)
    running = _running_time(clock, now)
    due = []
    for target in SlaTarget:
        if _reached_by(clock, target, now) is not None:
            continue
        allowed = targets.allowed(target)
        warning = policy.warning_after(allowed)
        if running >= allowed:
            kind, threshold = TicketEventType.SLA_BREACHED, allowed
        elif running >= warning:
            kind, threshold = TicketEventType.SLA_WARNING, warning
        else:
            continue
        if (kind, target) not in already_emitted:
            due.append(SlaEvent(kind=kind, target=target, at=_instant_after(clock, threshold, now)))
    return sorted(due, key=lambda event: (event.at, list(SlaTarget).index(event.target)))


def should_escalate(
    clock: SlaClock,
    policy: SlaPolicy,
    now: datetime,
    status: TicketStatus,
    last_dispatched_at: datetime | None = None,
) -> bool:
    """Whether the SLA job should ESCALATE the ticket (take it from an unresponsive technician and
    dispatch it again): it has not been accepted, its respond deadline has passed, its status allows
    escalation, and — when it was assigned or escalated before (`last_dispatched_at`) — whoever has it
    now has had a full respond time of their own."""
    _require_utc(now, "now")
    if status not in ESCALATABLE_STATUSES or clock.cancelled_at is not None:
        return False
    if _reached_by(clock, SlaTarget.RESPOND, now) is not None:
        return False
    respond = policy.targets_for(clock.priority).respond
    if _running_time(clock, now) < respond:
        return False
    if last_dispatched_at is None:
        return True
    _require_utc(last_dispatched_at, "last_dispatched_at")
    return now - last_dispatched_at >= respond


_SEVERITY = (SlaState.OK, SlaState.WARNING, SlaState.BREACHED)


def _require_utc(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be a timezone-aware UTC datetime")


def _reached_by(clock: SlaClock, target: SlaTarget, now: datetime) -> datetime | None:
    reached = clock.reached_at(target)
    return reached if reached is not None and reached <= now else None


def _stop(clock: SlaClock, now: datetime) -> datetime:
    """Promises stop running when the ticket is cancelled."""
    if clock.cancelled_at is not None and clock.cancelled_at < now:
        return clock.cancelled_at
    return now


def _pauses_until(clock: SlaClock, until: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The pauses as known at `until`, clipped to it; an open pause lasts until `until`."""
    for pause in clock.pauses:
        if pause.start >= until:
            return
        end = until if pause.end is None else min(pause.end, until)
        yield pause.start, end


def _running_time(clock: SlaClock, until: datetime) -> timedelta:
    """How long the promises have run from the start to `until`, pauses excluded."""
    running = until - clock.started_at
    for start, end in _pauses_until(clock, until):
        running -= end - start
    return running


def _instant_after(clock: SlaClock, running: timedelta, horizon: datetime) -> datetime:
    """The moment the promises will have run for `running`, counting the pauses up to `horizon`."""
    moment = clock.started_at
    remaining = running
    for start, end in _pauses_until(clock, horizon):
        if start >= moment + remaining:
            break
        remaining -= start - moment
        moment = end
    return moment + remaining
