"""Writing journal entries, one by one through the session or as records for the bulk writer, and summing
their lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import BigInteger, ColumnElement, func, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import fen
from billing.ledger import JournalDraft, Posting
from db.models import JournalEntry, JournalLine

__all__ = [
    "JOURNAL_ENTRY_COLUMNS",
    "JOURNAL_LINE_COLUMNS",
    "journal_entry_record",
    "journal_line_record",
    "posted_balance_fen",
    "sum_fen",
    "write_journal",
]


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


JOURNAL_ENTRY_COLUMNS = ("id", "project_id", "kind", "description", "occurred_at", "created_by")
JOURNAL_LINE_COLUMNS = ("entry_id", "line_no", "account", "unit_id", "bill_id", "payment_id", "debit", "credit")


def journal_entry_record(
    entry_id: int, *, project_id: int, draft: JournalDraft, occurred_at: dt.datetime, created_by: int | None
) -> tuple[object, ...]:
    """An entry as a bulk-writer record in `JOURNAL_ENTRY_COLUMNS` order."""
    return (entry_id, project_id, draft.kind, draft.description[:500], occurred_at.astimezone(dt.UTC), created_by)


def journal_line_record(entry_id: int, line_no: int, posting: Posting) -> tuple[object, ...]:
    """A posting as a bulk-writer record in `JOURNAL_LINE_COLUMNS` order."""
    return (
        entry_id,
        line_no,
        posting.account,
        posting.unit_id,
        posting.bill_id,
        posting.payment_id,
        _fen(posting.debit),
        _fen(posting.credit),
    )


async def write_journal(
    session: AsyncSession,
    *,
    project_id: int,
    drafts: Iterable[JournalDraft | None],
    occurred_at: dt.datetime,
    created_by: int | None,
) -> list[JournalEntry]:
    """Add one entry per draft (None drafts are skipped) with its lines, in the caller's transaction."""
    entries: list[tuple[JournalEntry, JournalDraft]] = []
    for draft in drafts:
        if draft is None:
            continue
        entry = JournalEntry(
            project_id=project_id,
            kind=draft.kind,
            description=draft.description[:500],
            occurred_at=occurred_at,
            created_by=created_by,
        )
        session.add(entry)
        entries.append((entry, draft))
    if not entries:
        return []
    await session.flush()
    session.add_all(
        JournalLine(
            entry_id=entry.id,
            line_no=line_no,
            account=posting.account,
            unit_id=posting.unit_id,
            bill_id=posting.bill_id,
            payment_id=posting.payment_id,
            debit=posting.debit,
            credit=posting.credit,
        )
        for entry, draft in entries
        for line_no, posting in enumerate(draft.postings, start=1)
    )
    await session.flush()
    return [entry for entry, _ in entries]


def sum_fen(expression: object) -> ColumnElement[int]:
    """SUM of an integer-fen expression, 0 over no rows."""
    return type_coerce(func.coalesce(func.sum(expression), 0), BigInteger)


def posted_balance_fen(*, credit_normal: bool) -> ColumnElement[int]:
    """The balance of the journal lines summed, on the side that grows the account."""
    debit, credit = fen(JournalLine.debit), fen(JournalLine.credit)
    return sum_fen(credit - debit if credit_normal else debit - credit)
