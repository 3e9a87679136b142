"""Reading reconciliation for finance staff: exceptions and matches a page at a time, with the statement
lines, payments and refunds they link (one statement each per page), and their explanations rendered in
the project's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.reconciliation.accounts import reconciled_project
from db.models import (
    ExceptionLink,
    ExceptionStatus,
    MatchLink,
    ReconciliationException,
    ReconciliationMatch,
    StatementAccount,
    StatementLineRow,
)
from kernel.principal import Principal
from kernel.vocabulary import Locale

__all__ = ["ExceptionView", "Linked", "MatchView", "Page", "list_exceptions", "list_matches"]


@dataclass
class Linked:
    """What a match or an exception links: its own lines, payments and refunds, and related ones."""

    lines: list[tuple[StatementLineRow, StatementAccount]] = field(default_factory=list)
    payment_ids: list[int] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)
    related_lines: list[tuple[StatementLineRow, StatementAccount]] = field(default_factory=list)
    related_payment_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ExceptionView:
    row: ReconciliationException
    linked: Linked
    locale: Locale


@dataclass(frozen=True)
class MatchView:
    row: ReconciliationMatch
    linked: Linked
    locale: Locale


@dataclass(frozen=True)
class Page:
    items: Sequence[Any]
    total: int


async def _lines(session: AsyncSession, ids: set[int]) -> dict[int, tuple[StatementLineRow, StatementAccount]]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StatementLineRow, StatementAccount)
        .join(StatementAccount, StatementAccount.id == StatementLineRow.account_id)
        .where(StatementLineRow.id.in_(sorted(ids)))
    )
    return {line.id: (line, account) for line, account in rows.all()}


async def list_exceptions(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    status: ExceptionStatus | None = None,
    kinds: Sequence[str] = (),
    limit: int,
    after_id: int | None = None,
) -> Page:
    async with session_factory() as session:
        project = await reconciled_project(session, principal, project_id)
        conditions = [ReconciliationException.project_id == project_id]
        if status is not None:
            conditions.append(ReconciliationException.status == status)
        if kinds:
            conditions.append(ReconciliationException.kind.in_(list(kinds)))
        total = int(await session.scalar(select(func.count()).select_from(ReconciliationException).where(*conditions)) or 0)
        query = select(ReconciliationException).where(*conditions).order_by(ReconciliationException.id).limit(limit + 1)
        if after_id is not None:
            query = query.where(ReconciliationException.id > after_id)
        rows = (await session.scalars(query)).all()
        linked: dict[int, Linked] = {row.id: Linked() for row in rows}
        links = (await session.scalars(select(ExceptionLink).where(ExceptionLink.exception_id.in_(list(linked))))).all() if rows else []
        lines = await _lines(session, {link.line_id for link in links if link.line_id is not None})
        for link in links:
            target = linked[link.exception_id]
            if link.line_id is not None:
                (target.related_lines if link.related else target.lines).append(lines[link.line_id])
            elif link.payment_id is not None:
                (target.related_payment_ids if link.related else target.payment_ids).append(link.payment_id)
            elif link.reversal_id is not None:
                target.refund_ids.append(link.reversal_id)
        return Page([ExceptionView(row, linked[row.id], project.locale) for row in rows], total)


async def list_matches(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    limit: int,
    after_id: int | None = None,
) -> Page:
    """The project's matches that stand (undone ones are left out)."""
    async with session_factory() as session:
        project = await reconciled_project(session, principal, project_id)
        conditions = [ReconciliationMatch.project_id == project_id, ReconciliationMatch.undone_at.is_(None)]
        total = int(await session.scalar(select(func.count()).select_from(ReconciliationMatch).where(*conditions)) or 0)
        query = select(ReconciliationMatch).where(*conditions).order_by(ReconciliationMatch.id).limit(limit + 1)
        if after_id is not None:
            query = query.where(ReconciliationMatch.id > after_id)
        rows = (await session.scalars(query)).all()
        linked: dict[int, Linked] = {row.id: Linked() for row in rows}
        links = (await session.scalars(select(MatchLink).where(MatchLink.match_id.in_(list(linked))))).all() if rows else []
        lines = await _lines(
            session,
            {link.line_id for link in links if link.line_id is not None} | {row.line_id for row in rows if row.line_id is not None},
        )
        for row in rows:
            if row.line_id is not None:
                linked[row.id].lines.append(lines[row.line_id])
            if row.payment_id is not None:
                linked[row.id].payment_ids.append(row.payment_id)
        for link in links:
            target = linked[link.match_id]
            if link.line_id is not None:
                target.lines.append(lines[link.line_id])
            elif link.payment_id is not None:
                target.payment_ids.append(link.payment_id)
            elif link.reversal_id is not None:
                target.refund_ids.append(link.reversal_id)
        return Page([MatchView(row, linked[row.id], project.locale) for row in rows], total)
