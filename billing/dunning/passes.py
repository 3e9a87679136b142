"""A dunning pass over one project: read every account's unpaid bills set-wise, let the ladder decide,
and write what it decided in one transaction: the owners' messages and the finance desk's follow-ups
into the outbox (`notifications.outbox.enqueue_many`), and a notice per account with the bills it was
about, under the message's idempotency key.

The worker runs a pass once a day per project (`billing.dunning.jobs`); `courtyard dunning run` and the
`runDunning` mutation run one on demand. Passes of one project queue behind each other (an advisory lock
on PostgreSQL, the write lock on SQLite), so a second pass finds the first one's notices and decides
nothing twice; were two to race anyway, the notices' unique keys refuse the second.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from billing.allocation import late_fee_now
from billing.balance_sql import amount_due_fen, fen
from billing.dunning.ladder import (
    NOTICE_KINDS,
    AccountFacts,
    BillFacts,
    Decision,
    Policy,
    decide,
    heard_levels,
    notice_key,
)
from billing.dunning.policies import load_settings
from billing.guards import get_project
from billing.bulk import bulk_connection
from billing.money import from_fen, to_fen
from billing.policy import may_manage_dunning
from billing.rule_book import load_policies
from billing.rules import LateFeePolicies
from db.models import (
    Bill,
    BillDispute,
    BillStatus,
    Building,
    DunningNotice,
    DunningNoticeBill,
    DunningRun,
    Message,
    Party,
    PaymentPlan,
    Project,
    RoleGrant,
    Unit,
    User,
)
from db.unit_of_work import unit_of_work
from kernel.errors import NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import DunningEscalation, MessageStatus
from notifications.kinds import MessageKind
from notifications.outbox import Envelope, enqueue_many

__all__ = [
    "DunningPass",
    "PlannedNotice",
    "dun_project",
    "project_today",
    "run_dunning",
    "scheduled_pass_ran",
    "unit_labels",
]

# Key space of the PostgreSQL advisory locks that queue passes of one project behind each other.
_PASS_LOCK_CLASS = 7302
_CHUNK = 5_000


@dataclass(frozen=True)
class PlannedNotice:
    """A decision with what its messages say."""

    decision: Decision
    key: str
    unit_label: str
    late_fee: Decimal
    """The late fee the bills would be charged if paid today (overdue notices), else zero."""
    follow_up_user_id: int | None


@dataclass(frozen=True)
class DunningPass:
    project_id: int
    day: dt.date
    """The project's local date the pass decided for."""
    enabled: bool
    run_id: int | None
    """None for a dry run, and when the project does not dun."""
    accounts: int
    """Accounts with bills to chase that day, held ones included."""
    held: int
    notices: tuple[PlannedNotice, ...]
    """Long-overdue and large amounts first."""
    messages: int
    follow_ups: int

    def by_level(self) -> dict[str, int]:
        return dict(Counter(notice.decision.level.code for notice in self.notices))


def project_today(project: Project, now: dt.datetime) -> dt.date:
    """Dunning counts days by the project's own calendar."""
    return now.astimezone(ZoneInfo(project.timezone)).date()


async def run_dunning(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    now: dt.datetime,
    dry_run: bool = False,
    scheduled: bool = False,
) -> DunningPass:
    """Run a pass over the project at `now`, in one transaction (a dry run writes nothing). `principal`
    None is the worker or the command line, acting on the system's authority; a caller needs
    `may_manage_dunning` in the project."""
    async with _session_for(session_factory, writing=not dry_run) as session:
        return await dun_project(session, principal, project_id=project_id, now=now, dry_run=dry_run, scheduled=scheduled)


@asynccontextmanager
async def _session_for(session_factory: async_sessionmaker[AsyncSession], *, writing: bool) -> AsyncIterator[AsyncSession]:
    if writing:
        async with unit_of_work(session_factory) as work:
            yield work.session
    else:
        async with session_factory() as session:
            yield session


async def dun_project(
    session: AsyncSession,
    principal: Principal | None,
    *,
    project_id: int,
    now: dt.datetime,
    dry_run: bool = False,
    scheduled: bool = False,
) -> DunningPass:
    """`run_dunning` inside the caller's transaction."""
    if principal is None:
        project = await session.get(Project, project_id)
        if project is None:
            raise NotFound("No such project.", field="projectId")
    else:
        project = await get_project(session, principal, project_id, allowed=may_manage_dunning)
    if not dry_run and session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_PASS_LOCK_CLASS, project_id)))
    today = project_today(project, now)
    settings = await load_settings(session, project_id)
    if not settings.enabled:
        return DunningPass(project_id, today, False, None, 0, 0, (), 0, 0)
    if scheduled and not dry_run and await scheduled_pass_ran(session, project_id, today):
        # Another worker ran today's pass while this one waited for the lock.
        return DunningPass(project_id, today, True, None, 0, 0, (), 0, 0)
    reader = _Reader(session, project_id, today, settings.policy)
    accounts, figures = await reader.accounts()
    outcome = decide(settings.policy, accounts, today)
    late_fees = (await load_policies(session, project_id)).late_fee_versions
    labels = await unit_labels(session, {decision.unit_id for decision in outcome.decisions})
    finance = await _finance_users(session, project_id)
    planned = tuple(
        PlannedNotice(
            decision,
            notice_key(decision),
            labels[decision.unit_id],
            _late_fee(decision, figures, late_fees, today),
            _assignee(decision, finance),
        )
        for decision in outcome.decisions
    )
    messages = sum(1 for notice in planned if notice.decision.level.kind is not None)
    follow_ups = sum(1 for notice in planned if notice.follow_up_user_id is not None)
    if dry_run:
        return DunningPass(project_id, today, True, None, len(accounts), len(outcome.held), planned, messages, follow_ups)
    run = DunningRun(
        project_id=project_id,
        day=today,
        scheduled=scheduled,
        started_at=now,
        run_by=principal.user_id if principal is not None else None,
        accounts=len(accounts),
        notices=len(planned),
        messages=messages,
        follow_ups=follow_ups,
        held=len(outcome.held),
    )
    session.add(run)
    await session.flush()
    await _write(session, project, run, planned, now)
    return DunningPass(project_id, today, True, run.id, len(accounts), len(outcome.held), planned, messages, follow_ups)


async def scheduled_pass_ran(session: AsyncSession, project_id: int, day: dt.date) -> bool:
    """Whether the worker's pass of `day` over the project is done."""
    found = await session.scalar(
        select(DunningRun.id)
        .where(DunningRun.project_id == project_id, DunningRun.day == day, DunningRun.scheduled.is_(True))
        .limit(1)
    )
    return found is not None


# --- reading the facts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Figures:
    """What `billing.allocation.late_fee_now` reads of a bill."""

    due_date: dt.date
    late_fee_through: dt.date | None
    total_amount: Decimal
    adjustment_amount: Decimal
    late_fee_amount: Decimal
    principal_paid: Decimal
    late_fee_paid: Decimal


class _Reader:
    """The unpaid bills that can matter on `today` (overdue, or due within the policy's earliest
    reminder), with their disputes, their owners' payment plans and the levels they heard."""

    def __init__(self, session: AsyncSession, project_id: int, today: dt.date, policy: Policy) -> None:
        self.session, self.project_id, self.today = session, project_id, today
        lead = max((-level.trigger.days_from_due for level in policy.levels), default=0)
        self.horizon = today + dt.timedelta(days=max(lead, 0))

    def _unpaid(self) -> list[object]:
        return [
            Bill.project_id == self.project_id,
            Bill.status != BillStatus.PAID,
            Bill.party_id.is_not(None),
            Bill.due_date <= self.horizon,
        ]

    async def accounts(self) -> tuple[list[AccountFacts], dict[int, _Figures]]:
        disputed = exists().where(BillDispute.bill_id == Bill.id, BillDispute.resolved_at.is_(None))
        rows = await self.session.execute(
            select(
                Bill.id,
                Bill.unit_id,
                Bill.party_id,
                Bill.due_date,
                Bill.late_fee_through,
                amount_due_fen(),
                fen(Bill.total_amount),
                fen(Bill.adjustment_amount),
                fen(Bill.late_fee_amount),
                fen(Bill.principal_paid),
                fen(Bill.late_fee_paid),
                disputed,
            ).where(*self._unpaid())
        )
        bills: dict[tuple[int, int], list[BillFacts]] = defaultdict(list)
        figures: dict[int, _Figures] = {}
        for bill_id, unit_id, party_id, due, through, due_fen, total, adjusted, fee, paid, fee_paid, is_disputed in rows:
            if due_fen <= 0:
                continue
            bills[(unit_id, party_id)].append(BillFacts(bill_id, due, from_fen(due_fen), bool(is_disputed)))
            figures[bill_id] = _Figures(
                due, through, from_fen(total), from_fen(adjusted), from_fen(fee), from_fen(paid), from_fen(fee_paid)
            )
        on_plan = await self._parties_on_a_plan()
        heard = heard_levels(await self._heard())
        accounts = [
            AccountFacts(
                unit_id,
                party_id,
                tuple(account_bills),
                party_id in on_plan,
                {bill.bill_id: heard[bill.bill_id] for bill in account_bills if bill.bill_id in heard},
            )
            for (unit_id, party_id), account_bills in bills.items()
        ]
        return accounts, figures

    async def _parties_on_a_plan(self) -> set[int]:
        rows = await self.session.scalars(
            select(PaymentPlan.party_id).where(
                PaymentPlan.project_id == self.project_id,
                PaymentPlan.cancelled_at.is_(None),
                PaymentPlan.starts_on <= self.today,
                PaymentPlan.ends_on >= self.today,
            )
        )
        return set(rows.all())

    async def _heard(self) -> list[tuple[int, str]]:
        """(bill, level) for every notice about the bills read, unless the message that carried it was
        withdrawn before it went out (a payment, a dispute): those bills have not heard it."""
        owner_message, follow_up_message = aliased(Message), aliased(Message)
        rows = await self.session.execute(
            select(DunningNoticeBill.bill_id, DunningNotice.level_code)
            .join(DunningNotice, DunningNotice.id == DunningNoticeBill.notice_id)
            .join(Bill, Bill.id == DunningNoticeBill.bill_id)
            .outerjoin(owner_message, owner_message.id == DunningNotice.message_id)
            .outerjoin(follow_up_message, follow_up_message.id == DunningNotice.follow_up_message_id)
            .where(
                *self._unpaid(),
                or_(owner_message.id.is_(None), owner_message.status != MessageStatus.CANCELLED),
                or_(follow_up_message.id.is_(None), follow_up_message.status != MessageStatus.CANCELLED),
            )
        )
        return [(bill_id, code) for bill_id, code in rows]


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def unit_labels(session: AsyncSession, unit_ids: set[int]) -> dict[int, str]:
    """What owners call their unit: the building and the number (1栋 101)."""
    labels: dict[int, str] = {}
    for chunk in _chunks(sorted(unit_ids)):
        rows = await session.execute(
            select(Unit.id, Building.name, Unit.number).join(Building, Building.id == Unit.building_id).where(Unit.id.in_(chunk))
        )
        labels.update({unit_id: f"{building} {number}" for unit_id, building, number in rows})
    return labels


async def _finance_users(session: AsyncSession, project_id: int) -> list[int]:
    """The project's active FINANCE logins, in id order (its ADMINs when it has none)."""
    for role in (Role.FINANCE, Role.ADMIN):
        users = await session.scalars(
            select(User.id)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.project_id == project_id, RoleGrant.role == role, User.is_active.is_(True))
            .order_by(User.id)
        )
        found = list(users.all())
        if found:
            return found
    return []


def _assignee(decision: Decision, finance: Sequence[int]) -> int | None:
    """A follow-up's FINANCE user: spread over the desk by unit, so one unit always has the same one."""
    if decision.level.escalation is not DunningEscalation.PHONE_FOLLOW_UP or not finance:
        return None
    return finance[decision.unit_id % len(finance)]


def _late_fee(decision: Decision, figures: Mapping[int, _Figures], policy: LateFeePolicies, today: dt.date) -> Decimal:
    """The late fee the decision's bills would be charged if paid today (shown, not charged)."""
    if decision.days_overdue == 0:
        return Decimal("0.00")
    return sum((late_fee_now(figures[bill_id], policy, today) for bill_id in decision.bill_ids), Decimal("0.00"))


# --- writing what was decided ---------------------------------------------------------------------


def _payload(notice: PlannedNotice) -> dict[str, object]:
    decision = notice.decision
    payload: dict[str, object] = {
        "amount_due": decision.amount_due,
        "due_date": decision.oldest_due,
        "unit": notice.unit_label,
        "bills": len(decision.bill_ids),
    }
    if decision.level.kind in NOTICE_KINDS:
        payload.update(days_overdue=decision.days_overdue, late_fee=notice.late_fee)
    return payload


async def _party_names(session: AsyncSession, party_ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for chunk in _chunks(sorted(party_ids)):
        names.update((await session.execute(select(Party.id, Party.name).where(Party.id.in_(chunk)))).all())
    return names


async def _write(
    session: AsyncSession, project: Project, run: DunningRun, planned: Sequence[PlannedNotice], now: dt.datetime
) -> None:
    owners = [notice for notice in planned if notice.decision.level.kind is not None]
    follow_ups = [notice for notice in planned if notice.follow_up_user_id is not None]
    names = await _party_names(session, {notice.decision.party_id for notice in follow_ups})
    envelopes = [
        Envelope(
            project_id=project.id,
            kind=notice.decision.level.kind,  # type: ignore[arg-type]
            idempotency_key=notice.key,
            payload=_payload(notice),
            party_id=notice.decision.party_id,
            channels=notice.decision.level.channels or None,
        )
        for notice in owners
    ] + [
        Envelope(
            project_id=project.id,
            kind=MessageKind.DUNNING_FOLLOW_UP,
            idempotency_key=f"{notice.key}:follow-up",
            payload={
                "unit": notice.unit_label,
                "owner": names.get(notice.decision.party_id, ""),
                "amount_due": notice.decision.amount_due,
                "days_overdue": notice.decision.days_overdue,
            },
            user_id=notice.follow_up_user_id,
        )
        for notice in follow_ups
    ]
    message_ids = await enqueue_many(session, envelopes, now=now) if envelopes else []
    owner_ids = dict(zip((notice.key for notice in owners), message_ids[: len(owners)], strict=True))
    follow_up_ids = dict(zip((notice.key for notice in follow_ups), message_ids[len(owners) :], strict=True))
    if not planned:
        return
    # Notices and their bills go in by COPY on PostgreSQL (a pass writes tens of thousands), ids reserved ahead.
    writer = await bulk_connection(session)
    notice_ids = await writer.reserve_ids(DunningNotice.__table__, len(planned))  # type: ignore[arg-type]
    decided_at = now.astimezone(dt.UTC)
    await writer.write(
        DunningNotice.__table__,  # type: ignore[arg-type]
        _NOTICE_COLUMNS,
        [
            (
                notice_id,
                project.id,
                run.id,
                notice.decision.unit_id,
                notice.decision.party_id,
                notice.key,
                notice.decision.level.code,
                notice.decision.position,
                notice.decision.level.kind.value if notice.decision.level.kind is not None else None,
                notice.decision.level.escalation.value,
                notice.decision.oldest_due,
                notice.decision.days_overdue,
                to_fen(notice.decision.amount_due),
                to_fen(notice.late_fee),
                owner_ids.get(notice.key),
                notice.follow_up_user_id,
                follow_up_ids.get(notice.key),
                decided_at,
            )
            for notice_id, notice in zip(notice_ids, planned, strict=True)
        ],
    )
    await writer.write(
        DunningNoticeBill.__table__,  # type: ignore[arg-type]
        ("notice_id", "bill_id"),
        [(notice_id, bill_id) for notice_id, notice in zip(notice_ids, planned, strict=True) for bill_id in notice.decision.bill_ids],
    )


_NOTICE_COLUMNS = (
    "id",
    "project_id",
    "run_id",
    "unit_id",
    "party_id",
    "idempotency_key",
    "level_code",
    "level_position",
    "kind",
    "escalation",
    "due_date",
    "days_overdue",
    "amount_due",
    "late_fee",
    "message_id",
    "follow_up_user_id",
    "follow_up_message_id",
    "decided_at",
)
