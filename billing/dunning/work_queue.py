"""The finance desk's work queue: the accounts to chase, the likeliest to pay more than 30 days late first
(the overdue-risk score of the account's riskiest overdue bill, `billing.reports.risk_scoring`), then
long-overdue and large amounts (days overdue × amount overdue), each with its dunning history as the outbox recorded it (every notice, the
status and channel of the message that carried it, the follow-up and the call made), and the calls the
desk records. Accounts held back (every overdue bill disputed, or the owner on a payment plan) are left
out: there is nothing to chase there. FINANCE and ADMIN of the project.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from billing.balance_sql import amount_due_fen, is_overdue_sql
from billing.dunning.passes import project_today, unit_labels
from billing.guards import get_project
from billing.money import from_fen
from billing.policy import knows_project_records, may_manage_dunning
from billing.reports.risk import Reason
from billing.reports.risk_scoring import (
    read_history,
    score_open_bills,
    scorecard_in_force,
)
from db.models import Bill, BillDispute, DunningNotice, Message, Party, PaymentPlan
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.validation import required_text
from kernel.vocabulary import DunningEscalation, MessageStatus, NotificationChannel

__all__ = ["HISTORY_LENGTH", "HistoryEntry", "QueuedAccount", "WorkQueuePage", "list_work_queue", "record_dunning_call"]

HISTORY_LENGTH = 20
"""Notices shown per account, newest first."""
NOTE_MAX_LENGTH = 500


@dataclass(frozen=True)
class HistoryEntry:
    notice_id: int
    level_code: str
    kind: str | None
    escalation: DunningEscalation
    decided_at: dt.datetime
    amount_due: Decimal
    late_fee: Decimal
    days_overdue: int
    message_status: MessageStatus | None
    channel: NotificationChannel | None
    sent_at: dt.datetime | None
    delivered_at: dt.datetime | None
    attempts: int
    last_error: str | None
    follow_up_user_id: int | None
    follow_up_status: MessageStatus | None
    follow_up_done_at: dt.datetime | None
    follow_up_note: str | None


@dataclass(frozen=True)
class QueuedAccount:
    project_id: int
    unit_id: int
    party_id: int
    unit_label: str
    owner: str
    amount_overdue: Decimal
    days_overdue: int
    overdue_bills: int
    oldest_due: dt.date
    risk: float
    """The overdue-risk probability of its riskiest overdue bill: the first key of the queue's order."""
    risk_reasons: tuple[Reason, ...]
    """That bill's three weightiest reasons."""
    history: tuple[HistoryEntry, ...]
    cursor: str
    """Where the queue goes on after this account (`after`)."""

    @property
    def score(self) -> Decimal:
        """Days overdue × amount overdue: the order of the queue among accounts of equal risk."""
        return self.days_overdue * self.amount_overdue

    @property
    def open_follow_up(self) -> int | None:
        """The notice whose follow-up call is still to be made, if any (the newest)."""
        return next(
            (
                entry.notice_id
                for entry in self.history
                if entry.escalation is DunningEscalation.PHONE_FOLLOW_UP and entry.follow_up_done_at is None
            ),
            None,
        )


@dataclass(frozen=True)
class WorkQueuePage:
    accounts: tuple[QueuedAccount, ...]
    total: int
    next_cursor: str | None


_RISK_STEPS = 1_000_000
"""The risk is ranked in millionths, so that the cursor holds it exactly."""


@dataclass(frozen=True, order=True)
class _Rank:
    """Queue order: the highest risk first, then the highest score, then by unit and party."""

    negative_risk: int
    negative_score: int
    unit_id: int
    party_id: int

    def cursor(self) -> str:
        text = f"queue:{self.negative_risk}:{self.negative_score}:{self.unit_id}:{self.party_id}"
        return base64.urlsafe_b64encode(text.encode()).decode()

    @classmethod
    def from_cursor(cls, cursor: str) -> _Rank:
        try:
            prefix, risk, score, unit, party = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
            if prefix != "queue":
                raise ValueError(prefix)
            return cls(int(risk), int(score), int(unit), int(party))
        except ValueError:
            raise BadInput("`after` is not a cursor of this queue.", field="after") from None


async def list_work_queue(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    now: dt.datetime,
    limit: int,
    after: str | None = None,
) -> WorkQueuePage:
    """One page of the project's accounts to chase on its local today."""
    start = _Rank.from_cursor(after) if after is not None else None
    async with session_factory() as session:
        project = await get_project(session, principal, project_id, allowed=may_manage_dunning)
        today = project_today(project, now)
        ranked = await _ranked(session, project_id, today, ZoneInfo(project.timezone))
        total = len(ranked)
        beyond = [item for item in ranked if start is None or item[0] > start]
        page = beyond[:limit]
        accounts = await _accounts(session, project_id, page)
    next_cursor = page[-1][0].cursor() if len(beyond) > limit else None
    return WorkQueuePage(tuple(accounts), total, next_cursor)


_Ranked = tuple[_Rank, int, int, int, dt.date, float, tuple[Reason, ...]]
"""(rank, amount overdue in fen, days overdue, overdue bills, oldest due date, risk, its reasons)."""


async def _ranked(session: AsyncSession, project_id: int, today: dt.date, zone: ZoneInfo) -> list[_Ranked]:
    disputed = select(BillDispute.bill_id).where(BillDispute.project_id == project_id, BillDispute.resolved_at.is_(None))
    on_plan = select(PaymentPlan.party_id).where(
        PaymentPlan.project_id == project_id,
        PaymentPlan.cancelled_at.is_(None),
        PaymentPlan.starts_on <= today,
        PaymentPlan.ends_on >= today,
    )
    rows = await session.execute(
        select(Bill.unit_id, Bill.party_id, func.sum(amount_due_fen()), func.count(), func.min(Bill.due_date))
        .where(
            Bill.project_id == project_id,
            is_overdue_sql(today),
            Bill.party_id.is_not(None),
            Bill.id.not_in(disputed),
            Bill.party_id.not_in(on_plan),
        )
        .group_by(Bill.unit_id, Bill.party_id)
    )
    accounts = [row for row in rows if int(row[2]) > 0]
    riskiest = await _riskiest_overdue_bills(session, project_id, today, zone, {unit_id for unit_id, *_ in accounts})
    ranked = []
    for unit_id, party_id, owed, count, oldest in accounts:
        days = (today - oldest).days
        risk, reasons = riskiest.get((unit_id, party_id), (0.0, ()))
        rank = _Rank(-round(risk * _RISK_STEPS), -days * int(owed), unit_id, party_id)
        ranked.append((rank, int(owed), days, int(count), oldest, risk, reasons))
    ranked.sort()
    return ranked


async def _riskiest_overdue_bills(
    session: AsyncSession, project_id: int, today: dt.date, zone: ZoneInfo, unit_ids: set[int]
) -> dict[tuple[int, int | None], tuple[float, tuple[Reason, ...]]]:
    """Per account, the probability and reasons of its riskiest overdue bill, as the scorecard in force
    scores them."""
    if not unit_ids:
        return {}
    history = await read_history(session, project_id, zone, unit_ids=unit_ids)
    riskiest: dict[tuple[int, int | None], tuple[float, tuple[Reason, ...]]] = {}
    # the ranking comes riskiest first: the first bill seen of an account is its riskiest
    for item in score_open_bills(history, await scorecard_in_force(session, project_id)):
        if item.due_date < today:
            riskiest.setdefault((item.unit_id, item.party_id), (item.risk.probability, item.risk.top_reasons()))
    return riskiest


async def _accounts(session: AsyncSession, project_id: int, page: Sequence[_Ranked]) -> list[QueuedAccount]:
    if not page:
        return []
    pairs = [(rank.unit_id, rank.party_id) for rank, *_ in page]
    units = {rank.unit_id for rank, *_ in page}
    labels = await unit_labels(session, units)
    owners = dict((await session.execute(select(Party.id, Party.name).where(Party.id.in_(sorted({p for _, p in pairs}))))).all())
    history = await _history(session, project_id, pairs)
    accounts = []
    for rank, owed, days, count, oldest, risk, reasons in page:
        accounts.append(
            QueuedAccount(
                project_id=project_id,
                unit_id=rank.unit_id,
                party_id=rank.party_id,
                unit_label=labels[rank.unit_id],
                owner=owners.get(rank.party_id, ""),
                amount_overdue=from_fen(owed),
                days_overdue=days,
                overdue_bills=count,
                oldest_due=oldest,
                risk=risk,
                risk_reasons=reasons,
                history=tuple(history.get((rank.unit_id, rank.party_id), ())),
                cursor=rank.cursor(),
            )
        )
    return accounts


async def _history(
    session: AsyncSession, project_id: int, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[HistoryEntry]]:
    owner_message, follow_up_message = aliased(Message), aliased(Message)
    rows = await session.execute(
        select(DunningNotice, owner_message, follow_up_message.status)
        .outerjoin(owner_message, owner_message.id == DunningNotice.message_id)
        .outerjoin(follow_up_message, follow_up_message.id == DunningNotice.follow_up_message_id)
        .where(DunningNotice.project_id == project_id, tuple_(DunningNotice.unit_id, DunningNotice.party_id).in_(pairs))
        .order_by(DunningNotice.decided_at.desc(), DunningNotice.id.desc())
    )
    history: dict[tuple[int, int], list[HistoryEntry]] = defaultdict(list)
    for notice, message, follow_up_status in rows:
        entries = history[(notice.unit_id, notice.party_id)]
        if len(entries) >= HISTORY_LENGTH:
            continue
        entries.append(
            HistoryEntry(
                notice_id=notice.id,
                level_code=notice.level_code,
                kind=notice.kind,
                escalation=notice.escalation,
                decided_at=notice.decided_at,
                amount_due=notice.amount_due,
                late_fee=notice.late_fee,
                days_overdue=notice.days_overdue,
                message_status=message.status if message is not None else None,
                channel=message.channel if message is not None else None,
                sent_at=message.sent_at if message is not None else None,
                delivered_at=message.delivered_at if message is not None else None,
                attempts=message.attempts if message is not None else 0,
                last_error=message.last_error if message is not None else None,
                follow_up_user_id=notice.follow_up_user_id,
                follow_up_status=follow_up_status,
                follow_up_done_at=notice.follow_up_done_at,
                follow_up_note=notice.follow_up_note,
            )
        )
    return history


async def record_dunning_call(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    notice_id: int,
    note: str,
    now: dt.datetime,
) -> DunningNotice:
    """Record the follow-up call a notice asked for: who made it, when, and what came of it (a later call
    on the same notice replaces the record)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        notice = await session.get(DunningNotice, notice_id, with_for_update=True)
        if notice is None or not knows_project_records(principal, project_id=notice.project_id):
            raise NotFound("No such dunning notice.", field="noticeId")
        if not may_manage_dunning(principal, project_id=notice.project_id):
            raise AccessDenied("Requires one of the roles ADMIN, FINANCE in this project.")
        if notice.escalation is not DunningEscalation.PHONE_FOLLOW_UP:
            raise BadInput("This notice asked for no follow-up call.", field="noticeId")
        notice.follow_up_note = required_text(note, "note", max_length=NOTE_MAX_LENGTH)
        notice.follow_up_done_at, notice.follow_up_done_by = now, principal.user_id
        await session.flush()
        return notice
