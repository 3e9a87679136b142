"""The daily close (日清日结): per project, statement account and day, a report written once.

A close records the account's clearing balance (the channel's `CLEARING:<channel>`, or the bank's
`BANK:<account>`) at the start and end of the day, what of the day's lines is matched, the day's
exceptions and how many of them are still open, and who closed it. A day with open exceptions closes only
when FINANCE or ADMIN of the project signs it off with a reason. A closed day is never closed again and its
report never changes: a later correction of its items is booked on the day it is made and names the
closed day (`billing.reconciliation.resolving`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance_sql import fen
from billing.journal import sum_fen
from billing.ledger import bank_account, clearing_account
from billing.money import from_fen
from billing.reconciliation.accounts import get_account, reconciled_project
from billing.reconciliation.holdings import held_line_ids
from billing.reconciliation.matching_run import day_bounds
from db.models import (
    DailyClose,
    ExceptionLink,
    ExceptionStatus,
    JournalEntry,
    JournalLine,
    Payment,
    ReconciliationException,
    StatementAccount,
    StatementAccountKind,
    StatementLineRow,
)
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict
from kernel.principal import Principal
from kernel.validation import optional_text

__all__ = [
    "DayFigures",
    "close_day",
    "close_day_in",
    "day_figures",
    "exceptions_about",
    "ledger_account_of",
    "list_daily_closes",
    "open_exception_count",
]

_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class DayFigures:
    opening_balance: Decimal
    closing_balance: Decimal
    matched_count: int
    matched_amount: Decimal
    exception_count: int
    exception_amount: Decimal
    open_exception_count: int
    open_exception_amount: Decimal


def ledger_account_of(account: StatementAccount) -> str:
    """The journal account whose balance a statement account's close reports."""
    if account.kind is StatementAccountKind.BANK:
        return bank_account(account.name)
    return clearing_account(account.channel.value)


async def _balances(
    session: AsyncSession, project_id: int, ledger_account: str, start: dt.datetime, end: dt.datetime
) -> tuple[Decimal, Decimal]:
    """The account's balance when the day began and when it ended, read in one pass over its lines."""
    movement = fen(JournalLine.debit) - fen(JournalLine.credit)
    opening, closing = (
        await session.execute(
            select(sum_fen(case((JournalEntry.occurred_at < start, movement), else_=0)), sum_fen(movement))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalEntry.project_id == project_id, JournalLine.account == ledger_account, JournalEntry.occurred_at < end)
        )
    ).one()
    return from_fen(int(opening)), from_fen(int(closing))


def exceptions_about(account: StatementAccount, *, first_day: dt.date, last_day: dt.date) -> tuple[ColumnElement[bool], ...]:
    """Conditions on `ReconciliationException`: of the days `first_day` to `last_day`, and about the
    account's own lines or its channel's payments."""
    concerns = or_(
        ExceptionLink.line_id.in_(select(StatementLineRow.id).where(StatementLineRow.account_id == account.id)),
        ExceptionLink.payment_id.in_(select(Payment.id).where(Payment.project_id == account.project_id, Payment.channel == account.channel)),
    )
    return (
        ReconciliationException.project_id == account.project_id,
        ReconciliationException.day >= first_day,
        ReconciliationException.day <= last_day,
        ReconciliationException.id.in_(select(ExceptionLink.exception_id).where(ExceptionLink.related.is_(False), concerns)),
    )


async def open_exception_count(session: AsyncSession, account: StatementAccount, day: dt.date) -> int:
    """How many of the day's exceptions about the account are open: the day closes without a sign-off at none."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ReconciliationException)
            .where(*exceptions_about(account, first_day=day, last_day=day), ReconciliationException.status == ExceptionStatus.OPEN)
        )
        or 0
    )


async def day_figures(session: AsyncSession, account: StatementAccount, day: dt.date, zone: ZoneInfo) -> DayFigures:
    """The day's figures for one account, as they stand now."""
    start, end = day_bounds(day, day, zone)
    ledger_account = ledger_account_of(account)
    day_lines = select(StatementLineRow.id).where(
        StatementLineRow.account_id == account.id, StatementLineRow.booked_at >= start, StatementLineRow.booked_at < end
    )
    matched = (
        await session.execute(
            select(func.count(StatementLineRow.id), sum_fen(fen(StatementLineRow.amount)))
            .where(StatementLineRow.id.in_(day_lines))
            .where(StatementLineRow.id.in_(held_line_ids()))
        )
    ).one()
    exceptions = (
        await session.scalars(select(ReconciliationException).where(*exceptions_about(account, first_day=day, last_day=day)))
    ).all()
    open_ones = [e for e in exceptions if e.status is ExceptionStatus.OPEN]
    opening_balance, closing_balance = await _balances(session, account.project_id, ledger_account, start, end)
    return DayFigures(
        opening_balance=opening_balance,
        closing_balance=closing_balance,
        matched_count=int(matched[0]),
        matched_amount=from_fen(int(matched[1])),
        exception_count=len(exceptions),
        exception_amount=sum((abs(e.difference or _ZERO) for e in exceptions), _ZERO),
        open_exception_count=len(open_ones),
        open_exception_amount=sum((abs(e.difference or _ZERO) for e in open_ones), _ZERO),
    )


async def close_day(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    day: dt.date,
    account_id: int | None = None,
    sign_off_reason: str | None = None,
    now: dt.datetime,
) -> list[tuple[DailyClose, StatementAccount]]:
    """Close `day` for one account of the project, or for every account it has (see the module docstring)."""
    async with unit_of_work(session_factory) as work:
        return await close_day_in(
            work.session, principal, project_id=project_id, day=day, account_id=account_id, sign_off_reason=sign_off_reason, now=now
        )


async def close_day_in(
    session: AsyncSession,
    principal: Principal | None,
    *,
    project_id: int,
    day: dt.date,
    account_id: int | None = None,
    sign_off_reason: str | None = None,
    now: dt.datetime,
) -> list[tuple[DailyClose, StatementAccount]]:
    """`close_day` inside the caller's transaction (the demo closes its reconciled month with it)."""
    project = await reconciled_project(session, principal, project_id)
    zone = ZoneInfo(project.timezone)
    if day >= now.astimezone(zone).date():
        raise BadInput("Only a day that has ended can be closed.", field="day")
    reason = optional_text(sign_off_reason, "signOffReason", max_length=500)
    if account_id is not None:
        account = await get_account(session, principal, account_id)
        if account.project_id != project.id:
            raise BadInput("The account belongs to another project.", field="accountId")
        accounts: Sequence[StatementAccount] = [account]
    else:
        accounts = (
            await session.scalars(select(StatementAccount).where(StatementAccount.project_id == project.id).order_by(StatementAccount.id))
        ).all()
        if not accounts:
            raise BadInput("The project has no statement accounts to close.", field="projectId")
    closed = await session.scalar(
        select(DailyClose.id).where(DailyClose.account_id.in_([a.id for a in accounts]), DailyClose.day == day).limit(1)
    )
    if closed is not None:
        raise Conflict(f"{day} is closed already; a closed day never changes.", field="day")
    closes = []
    for account in accounts:
        figures = await day_figures(session, account, day, zone)
        if figures.open_exception_count and reason is None:
            raise BadInput(
                f"{account.name} has {figures.open_exception_count} open exceptions on {day}"
                f" ({figures.open_exception_amount}); closing it needs a sign-off reason by FINANCE or ADMIN.",
                field="signOffReason",
            )
        if figures.open_exception_count and principal is None:
            raise BadInput("A day with open exceptions is signed off by a person: name who.", field="signOffReason")
        close = DailyClose(
            project_id=project.id,
            account_id=account.id,
            day=day,
            clearing_account=ledger_account_of(account),
            opening_balance=figures.opening_balance,
            closing_balance=figures.closing_balance,
            matched_count=figures.matched_count,
            matched_amount=figures.matched_amount,
            exception_count=figures.exception_count,
            exception_amount=figures.exception_amount,
            open_exception_count=figures.open_exception_count,
            open_exception_amount=figures.open_exception_amount,
            sign_off_reason=reason,
            closed_by=principal.user_id if principal else None,
            closed_at=now,
        )
        session.add(close)
        closes.append((close, account))
    await session.flush()
    return closes


async def list_daily_closes(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
) -> Sequence[tuple[DailyClose, StatementAccount]]:
    async with session_factory() as session:
        await reconciled_project(session, principal, project_id)
        query = (
            select(DailyClose, StatementAccount)
            .join(StatementAccount, StatementAccount.id == DailyClose.account_id)
            .where(DailyClose.project_id == project_id)
            .order_by(DailyClose.day, DailyClose.account_id)
        )
        if first_day is not None:
            query = query.where(DailyClose.day >= first_day)
        if last_day is not None:
            query = query.where(DailyClose.day <= last_day)
        return [(close, account) for close, account in (await session.execute(query)).all()]

