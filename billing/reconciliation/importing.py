"""Importing a statement file: parse it, refuse it whole when it contradicts itself, store its lines once.

The same file twice (its SHA-256 per account) changes nothing and answers the first import; a file that
overlaps one imported before (yesterday's bill again inside this week's) adds only the lines whose
`line_key` the account does not have yet. A refused file (unreadable, a bad cell, totals that differ from
its own summary) writes nothing: the parser's `StatementRejected` names the row, the column and by how
much, as BAD_USER_INPUT on `file`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.bulk import bulk_connection
from billing.reconciliation.accounts import bank_profile_of, get_account
from billing.reconciliation.formats import StatementFormat, detect_format, parse_statement
from billing.reconciliation.statement import StatementLine
from db.models import Project, StatementAccount, StatementFile, StatementLineRow
from db.unit_of_work import unit_of_work
from kernel.principal import Principal

__all__ = ["LINE_COLUMNS", "ImportOutcome", "import_statement", "import_statement_in", "line_record"]

_KEYS_PER_QUERY = 1000
MAX_STATEMENT_BYTES = 20 * 2**20


@dataclass(frozen=True)
class ImportOutcome:
    """The stored file, how many lines it has and how many of them were new; `already_imported` when the
    very same file had been imported before (nothing was written)."""

    file: StatementFile
    account: StatementAccount
    line_count: int
    new_line_count: int
    already_imported: bool


LINE_COLUMNS = (
    "account_id",
    "file_id",
    "line_key",
    "row_number",
    "source",
    "kind",
    "booked_at",
    "amount",
    "settled_amount",
    "fee",
    "order_no",
    "transaction_id",
    "bank_reference",
    "end_to_end_id",
    "refund_no",
    "provider_refund_id",
    "counterparty_name",
    "counterparty_account",
    "memo",
)


def _units(value: Decimal, places: int) -> int:
    """`value` as an integer count of 10**-places, as the column stores it; refuses what would not fit."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(scaled)


def line_record(line: StatementLine, *, account_id: int, file_id: int) -> tuple[object, ...]:
    """A parsed line as the bulk writer's record in `LINE_COLUMNS` order: storage values (fen, fees in
    0.00001, UTC), texts cut to their columns."""
    return (
        account_id,
        file_id,
        line.line_key,
        line.row_number,
        line.source.value,
        line.kind.value,
        line.booked_at.astimezone(dt.UTC),
        _units(line.amount, 2),
        _units(line.settled_amount, 2),
        _units(line.fee, 5),
        line.order_no,
        line.transaction_id,
        line.bank_reference,
        line.end_to_end_id,
        line.refund_no,
        line.provider_refund_id,
        (line.counterparty_name or None) and line.counterparty_name[:200],
        (line.counterparty_account or None) and line.counterparty_account[:100],
        (line.memo or None) and line.memo[:500],
    )


async def _known_keys(session: AsyncSession, account_id: int, keys: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        known.update(
            await session.scalars(
                select(StatementLineRow.line_key).where(
                    StatementLineRow.account_id == account_id, StatementLineRow.line_key.in_(chunk)
                )
            )
        )
    return known


async def import_statement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    account_id: int,
    content: bytes,
    filename: str,
    statement_format: StatementFormat | None = None,
    now: dt.datetime,
) -> ImportOutcome:
    """Import one statement file into an account (see the module docstring)."""
    async with unit_of_work(session_factory) as work:
        return await import_statement_in(
            work.session,
            principal,
            account_id=account_id,
            content=content,
            filename=filename,
            statement_format=statement_format,
            now=now,
        )


async def import_statement_in(
    session: AsyncSession,
    principal: Principal | None,
    *,
    account_id: int,
    content: bytes,
    filename: str,
    statement_format: StatementFormat | None = None,
    now: dt.datetime,
) -> ImportOutcome:
    """`import_statement` inside the caller's transaction (the demo imports its month with it)."""
    account = await get_account(session, principal, account_id)
    project = await session.get(Project, account.project_id)
    assert project is not None
    chosen = statement_format or detect_format(content)
    parsed = parse_statement(
        content,
        filename,
        account=account.name,
        zone=ZoneInfo(project.timezone),
        statement_format=chosen,
        profile=bank_profile_of(account),
    )
    earlier = await session.scalar(
        select(StatementFile).where(StatementFile.account_id == account.id, StatementFile.file_hash == parsed.file_hash)
    )
    if earlier is not None:
        return ImportOutcome(earlier, account, earlier.line_count, 0, already_imported=True)
    known = await _known_keys(session, account.id, [line.line_key for line in parsed.lines])
    new_lines = [line for line in parsed.lines if line.line_key not in known]
    stored = StatementFile(
        account_id=account.id,
        file_hash=parsed.file_hash,
        filename=filename[:200],
        statement_format=chosen.value,
        line_count=len(parsed.lines),
        new_line_count=len(new_lines),
        imported_by=principal.user_id if principal else None,
        imported_at=now,
    )
    session.add(stored)
    await session.flush()
    writer = await bulk_connection(session)
    await writer.write(
        StatementLineRow.__table__,  # type: ignore[arg-type]
        LINE_COLUMNS,
        [line_record(line, account_id=account.id, file_id=stored.id) for line in new_lines],
    )
    return ImportOutcome(stored, account, len(parsed.lines), len(new_lines), already_imported=False)
