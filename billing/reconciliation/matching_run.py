"""Matching a project's statements with its payments for a window of days, and storing what was found.

One transaction, in two passes:

1. The database pairs the window's channel payment lines with the online orders whose numbers they carry,
   wherever nothing else in the window could change that pairing (`key_join`), and stores the new pairs
   as EXACT_KEY matches with INSERT … SELECT: the bulk of a busy window never leaves the database.
2. What is left — the other lines of the window's accounts (and bank lines up to the longest payout lag
   after it, which may settle the window's channel days), the other payments of the channels the project
   has accounts for, and their refunds — is read as plain data, a batch of rows at a time, into the pure
   `matching.reconcile`, with each channel day's totals of the pairs for its settlements. The matches it
   finds that are new, their journal entries and its exceptions are written in bulk, replacing the
   window's OPEN exceptions.

Running it again changes nothing that was decided: a line, payment or refund owned by a match (automatic
or by hand) or by a resolved exception stays where it is, and the core's result for it is left aside; a
channel day a settlement holds (`SettledDay`) is not settled again.

What is stored stays lean because a busy day is mostly exact pairs: a match of one line and one payment
holds both in its own row, the other matches hold theirs through links, and a settlement holds its
channel days, not each of their lines (a row with foreign keys per line and payment cost more than the
matching itself).

Matches that move money post their journal entries (`billing.ledger`): a bank line matched to a transfer
(`post_bank_receipt`), a channel's days settled by one bank credit (`post_settlement`: the fee to
CHANNEL_FEES, never a mismatch), a channel's own fee line (`post_channel_fee`). A channel line matched to
its payment posts nothing: the money stays in clearing until the channel pays it out.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, ColumnElement, Date, Integer, any_, delete, exists, insert, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.bulk import bulk_connection
from billing.journal import JOURNAL_ENTRY_COLUMNS, JOURNAL_LINE_COLUMNS, journal_entry_record, journal_line_record
from billing.ledger import (
    JournalDraft,
    clearing_account,
    post_bank_receipt,
    post_channel_fee,
    post_settlement,
    post_write_off,
)
from billing.money import to_fen
from billing.reconciliation.accounts import account_channel, channel_terms_of, get_account, reconciled_project
from billing.reconciliation.holdings import held_line_ids, held_payment_ids
from billing.reconciliation.key_join import KeyJoin, RunWindow
from billing.reconciliation.matching import (
    ChannelTerms,
    Explanation,
    Match,
    MatchStep,
    RecordedPayment,
    RecordedRefund,
    exact_key_explanation,
    reconcile,
)
from billing.reconciliation.matching import ReconciliationException as Finding
from billing.reconciliation.rules import captures_unit, match_rules, unit_codes
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine
from db.base import utcnow
from db.models import (
    DailyClose,
    ExceptionLink,
    ExceptionStatus,
    JournalEntry,
    JournalLine,
    MatchLink,
    Payment,
    PaymentIntent,
    PaymentReversal,
    Project,
    ReconciliationException,
    ReconciliationMatch,
    ReversalKind,
    SettledDay,
    StatementAccount,
    StatementAccountKind,
    StatementLineRow,
)
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal

__all__ = [
    "MAX_WINDOW_DAYS",
    "ReconciliationRun",
    "WindowItems",
    "day_bounds",
    "explanation_json",
    "reconcile_window",
    "run_reconciliation",
    "run_reconciliation_in",
]

MAX_WINDOW_DAYS = 92
_Item = TypeVar("_Item")
_SELECTS_PER_STATEMENT = 400
"""Settlements checked or linked by one statement (SQLite joins at most 500 SELECTs in a compound one)."""
_ROWS_PER_FETCH = 10_000
_CHANNEL_KINDS = (LineKind.PAYMENT.value, LineKind.REFUND.value, LineKind.FEE.value)
_MATCH_COLUMNS = (
    "id",
    "project_id",
    "step",
    "rule",
    "explanation",
    "channel_fee",
    "amount_difference",
    "settlement",
    "journal_entry_id",
    "line_id",
    "payment_id",
    "corrects_closed_day",
    "created_by",
    "created_at",
)
_LINK_COLUMNS = ("match_id", "line_id", "payment_id", "reversal_id")
_EXCEPTION_COLUMNS = (
    "id",
    "project_id",
    "kind",
    "status",
    "difference",
    "fee_explains",
    "explanation",
    "suggested_payment_ids",
    "day",
    "created_at",
)
_EXCEPTION_LINK_COLUMNS = ("exception_id", "line_id", "payment_id", "reversal_id", "related")


@dataclass(frozen=True)
class ReconciliationRun:
    """What one run found: new matches, the exceptions now open for the window by kind, and how many
    payments, refunds and lines are still inside their channel's window."""

    project_id: int
    first_day: dt.date
    last_day: dt.date
    new_matches: int
    exceptions_by_kind: dict[str, int]
    pending_payments: int
    pending_refunds: int
    pending_lines: int

    @property
    def open_exceptions(self) -> int:
        return sum(self.exceptions_by_kind.values())


def day_bounds(first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants a run of local days begins and ends (the end excluded)."""
    start = dt.datetime.combine(first_day, dt.time(), zone)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone)
    return start, end


def _fact(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def explanation_json(parts: Iterable[Explanation]) -> list[dict[str, Any]]:
    """The matcher's explanation as stored phrases: a code and its facts as JSON values."""
    return [{"code": part.code, "facts": {name: _fact(value) for name, value in part.facts}} for part in parts]


@dataclass
class WindowItems:
    """What the core gets of the window, by stored id (the core knows a line by its id as text), and
    what is already decided about it."""

    accounts: dict[int, StatementAccount]
    lines: dict[int, StatementLine] = field(default_factory=dict)
    line_accounts: dict[int, int] = field(default_factory=dict)
    payments: dict[int, RecordedPayment] = field(default_factory=dict)
    refunds: dict[int, tuple[int, dt.datetime]] = field(default_factory=dict)
    """refund id → (payment id, when it was refunded)"""
    taken_lines: set[int] = field(default_factory=set)
    taken_payments: set[int] = field(default_factory=set)
    taken_refunds: set[int] = field(default_factory=set)
    closed_days: dict[int, set[dt.date]] = field(default_factory=dict)


async def run_reconciliation(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    first_day: dt.date,
    last_day: dt.date,
    account_id: int | None = None,
    now: dt.datetime,
) -> ReconciliationRun:
    """Match the project's statements of `first_day`–`last_day` (local days) with its payments; see the
    module docstring. `account_id` narrows the run to one account and the accounts that settle with it."""
    async with unit_of_work(session_factory) as work:
        return await run_reconciliation_in(
            work.session, principal, project_id=project_id, first_day=first_day, last_day=last_day, account_id=account_id, now=now
        )


async def run_reconciliation_in(
    session: AsyncSession,
    principal: Principal | None,
    *,
    project_id: int,
    first_day: dt.date,
    last_day: dt.date,
    account_id: int | None = None,
    now: dt.datetime,
) -> ReconciliationRun:
    """`run_reconciliation` inside the caller's transaction (the demo reconciles its month with it)."""
    if last_day < first_day:
        raise BadInput("to must not be before from.", field="to")
    if (last_day - first_day).days >= MAX_WINDOW_DAYS:
        raise BadInput(f"A run covers at most {MAX_WINDOW_DAYS} days; split the period.", field="to")
    project = await reconciled_project(session, principal, project_id)
    only = await get_account(session, principal, account_id) if account_id is not None else None
    if only is not None and only.project_id != project.id:
        raise BadInput("The account belongs to another project.", field="accountId")
    return await reconcile_window(session, principal, project=project, first_day=first_day, last_day=last_day, only=only, now=now)


def _accounts_in_run(accounts: Sequence[StatementAccount], only: StatementAccount | None) -> list[StatementAccount]:
    # A channel's days settle into a bank account: a run of one side needs the other side's lines too.
    if only is None:
        return list(accounts)
    is_bank = only.kind is StatementAccountKind.BANK
    return [a for a in accounts if a.id == only.id or (a.kind is StatementAccountKind.BANK) != is_bank]


async def reconcile_window(
    session: AsyncSession,
    principal: Principal | None,
    *,
    project: Project,
    first_day: dt.date,
    last_day: dt.date,
    only: StatementAccount | None = None,
    now: dt.datetime,
) -> ReconciliationRun:
    """The matching of `run_reconciliation`, for a project and an account already checked."""
    zone = ZoneInfo(project.timezone)
    all_accounts = (
        await session.scalars(select(StatementAccount).where(StatementAccount.project_id == project.id).order_by(StatementAccount.id))
    ).all()
    accounts = _accounts_in_run(all_accounts, only)
    if not accounts:
        raise BadInput("The project has no statement accounts; create one first.", field="projectId")
    terms = _terms(accounts)
    days = _days(first_day, last_day, zone)
    window = RunWindow(
        project_id=project.id,
        channel_accounts=tuple(a.id for a in accounts if a.kind is not StatementAccountKind.BANK),
        bank_accounts=tuple(a.id for a in accounts if a.kind is StatementAccountKind.BANK),
        channels=tuple(channel.value for channel in terms),
        days=tuple(days),
        bank_end=days[-1][2] + dt.timedelta(days=max((t.payout_max_days for t in terms.values()), default=7)),
    )
    items = WindowItems(accounts={account.id: account for account in accounts})
    items.closed_days = await _closed_days(session, list(items.accounts), first_day)
    user_id = principal.user_id if principal else None

    join = KeyJoin(session, window)
    await join.pair()
    paired_matches = await join.store_new(
        project_id=project.id,
        user_id=user_id,
        now=now,
        explanation=explanation_json(exact_key_explanation("order_no")),
        closed_days={
            account_id: [(day, day_start, day_end) for day, day_start, day_end in days if day in closed]
            for account_id, closed in items.closed_days.items()
            if account_id in window.channel_accounts
        },
    )
    paired = await join.day_totals({a.id: (SourceKind(a.kind.value), a.name) for a in accounts if a.id in window.channel_accounts})
    await _load(session, window, join, items, zone)
    await join.drop()

    rules = await match_rules(session, project.id)
    result = reconcile(
        lines=list(items.lines.values()),
        payments=list(items.payments.values()),
        paired=paired,
        terms=list(terms.values()),
        rules=rules,
        unit_codes=await unit_codes(session, project.id) if any(captures_unit(rule) for rule in rules) else None,
        as_of=now,
        zone=zone,
    )
    await _drop_open_exceptions(session, window)
    new_matches = paired_matches + await _store_matches(session, principal, project, window, items, result.matches, zone, now)
    by_kind = await _store_exceptions(session, project, window, items, result.exceptions, zone)
    return ReconciliationRun(
        project_id=project.id,
        first_day=first_day,
        last_day=last_day,
        new_matches=new_matches,
        exceptions_by_kind=by_kind,
        pending_payments=len(result.pending_payment_ids),
        pending_refunds=len(result.pending_refund_ids),
        pending_lines=len(result.pending_line_keys),
    )


def _days(first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """Each local day of the window with the instants it begins and ends."""
    return [
        (day, *day_bounds(day, day, zone))
        for day in (first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1))
    ]


def _terms(accounts: Sequence[StatementAccount]) -> dict[Channel, ChannelTerms]:
    terms: dict[Channel, ChannelTerms] = {}
    for account in accounts:
        terms.setdefault(account_channel(account), channel_terms_of(account))
    return terms


async def _closed_days(session: AsyncSession, account_ids: list[int], first_day: dt.date) -> dict[int, set[dt.date]]:
    closed: dict[int, set[dt.date]] = {}
    for close in await session.scalars(
        select(DailyClose).where(DailyClose.account_id.in_(account_ids), DailyClose.day >= first_day - dt.timedelta(days=1))
    ):
        closed.setdefault(close.account_id, set()).add(close.day)
    return closed


async def _load(session: AsyncSession, window: RunWindow, join: KeyJoin, items: WindowItems, zone: ZoneInfo) -> None:
    """The window's lines, payments and refunds the database did not pair, read a batch of rows at a
    time into plain data, and which of them are decided already."""
    line = StatementLineRow
    rows = _streamed(
        session,
        select(
            line.id,
            line.account_id,
            line.source,
            line.row_number,
            line.booked_at,
            line.kind,
            line.amount,
            line.settled_amount,
            line.fee,
            line.order_no,
            line.transaction_id,
            line.bank_reference,
            line.end_to_end_id,
            line.refund_no,
            line.provider_refund_id,
            line.counterparty_name,
            line.counterparty_account,
            line.memo,
        )
        .where(window.lines(), join.unpaired_line()),
    )
    async for row in rows:
        items.line_accounts[row.id] = row.account_id
        items.lines[row.id] = StatementLine(
            source=SourceKind(row.source),
            account=items.accounts[row.account_id].name,
            line_key=str(row.id),
            row_number=row.row_number,
            booked_at=row.booked_at.astimezone(zone),
            kind=LineKind(row.kind),
            amount=row.amount,
            settled_amount=row.settled_amount,
            fee=row.fee,
            order_no=row.order_no,
            transaction_id=row.transaction_id,
            bank_reference=row.bank_reference,
            end_to_end_id=row.end_to_end_id,
            refund_no=row.refund_no,
            provider_refund_id=row.provider_refund_id,
            counterparty_name=row.counterparty_name,
            counterparty_account=row.counterparty_account,
            memo=row.memo,
        )
    refunds_of: dict[int, list[RecordedRefund]] = {}
    refund_rows = _streamed(
        session,
        select(PaymentReversal.id, PaymentReversal.payment_id, PaymentReversal.amount, PaymentReversal.created_at)
        .join(Payment, Payment.id == PaymentReversal.payment_id)
        .where(window.payments(), join.unpaired_payment(), PaymentReversal.kind == ReversalKind.REFUND),
    )
    async for refund_id, payment_id, amount, created_at in refund_rows:
        refunded_at = created_at.astimezone(zone)
        items.refunds[refund_id] = (payment_id, refunded_at)
        refunds_of.setdefault(payment_id, []).append(RecordedRefund(id=refund_id, amount=amount, refunded_at=refunded_at))
    payment_rows = _streamed(
        session,
        select(
            Payment.id,
            Payment.channel,
            Payment.amount,
            Payment.paid_at,
            Payment.unit_id,
            Payment.payer_party_id,
            Payment.payer_name,
            Payment.external_reference,
            PaymentIntent.out_trade_no,
            PaymentIntent.provider_transaction_id,
            PaymentIntent.bill_ids,
        )
        .outerjoin(PaymentIntent, PaymentIntent.payment_id == Payment.id)
        .where(window.payments(), join.unpaired_payment()),
    )
    async for row in payment_rows:
        # A payment the desk recorded carries the channel's reference it was given (an order number or a
        # transaction id); an online order's payment, the order number and the gateway's transaction id.
        online = row.out_trade_no is not None
        items.payments[row.id] = RecordedPayment(
            id=row.id,
            channel=Channel(row.channel.value),
            amount=row.amount,
            paid_at=row.paid_at.astimezone(zone),
            unit_id=row.unit_id,
            party_id=row.payer_party_id,
            order_no=row.out_trade_no if online else row.external_reference,
            provider_transaction_id=(row.provider_transaction_id if online else None) or row.external_reference,
            payer_name=row.payer_name,
            # Two orders for the same bills paid: the owner was charged twice.
            charge_key=("bills:" + ",".join(map(str, sorted(row.bill_ids)))) if online and row.bill_ids else None,
            refunds=tuple(refunds_of.get(row.id, ())),
        )
    await _decided(session, items)


async def _streamed(session: AsyncSession, statement: Any) -> AsyncIterator[Any]:
    """The rows of `statement`, fetched `_ROWS_PER_FETCH` at a time (a server-side cursor on PostgreSQL)."""
    result = await session.stream(statement.execution_options(yield_per=_ROWS_PER_FETCH))
    try:
        async for row in result:
            yield row
    finally:
        await result.close()


async def _decided(session: AsyncSession, items: WindowItems) -> None:
    """Which of the items a match (not undone) or a resolved exception already owns."""
    postgresql = (await session.connection()).dialect.name == "postgresql"
    for among in _picking(list(items.lines), postgresql):
        items.taken_lines.update(await session.scalars(held_line_ids(among)))
        items.taken_lines.update(await session.scalars(_resolved_links(ExceptionLink.line_id, among)))
    for among in _picking(list(items.payments), postgresql):
        items.taken_payments.update(await session.scalars(held_payment_ids(among)))
        items.taken_payments.update(await session.scalars(_resolved_links(ExceptionLink.payment_id, among)))
    for among in _picking(list(items.refunds), postgresql):
        items.taken_refunds.update(await session.scalars(select(MatchLink.reversal_id).where(among(MatchLink.reversal_id))))
        items.taken_refunds.update(await session.scalars(_resolved_links(ExceptionLink.reversal_id, among)))


def _picking(ids: list[int], postgresql: bool) -> Iterable[Callable[[Any], ColumnElement[bool]]]:
    """Conditions on an id column that together pick `ids`: on PostgreSQL one array parameter (a group's
    day's 70,000 unpaired items were 160 statements of IN lists of 1,000, each list rendered parameter by
    parameter), on SQLite IN lists of 1,000."""
    if not ids:
        return
    if postgresql:
        yield lambda column: column == any_(literal(ids, ARRAY(Integer)))
        return
    for chunk in _chunks(ids):
        yield _in_list(chunk)


def _in_list(ids: list[int]) -> Callable[[Any], ColumnElement[bool]]:
    return lambda column: column.in_(ids)


def _resolved_links(column: Any, among: Callable[[Any], ColumnElement[bool]]) -> Any:
    return (
        select(column)
        .join(ReconciliationException, ReconciliationException.id == ExceptionLink.exception_id)
        .where(among(column), ExceptionLink.related.is_(False), ReconciliationException.status == ExceptionStatus.RESOLVED)
    )


def _chunks(items: list[_Item], size: int = 1000) -> Iterable[list[_Item]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


async def _drop_open_exceptions(session: AsyncSession, window: RunWindow) -> None:
    """The window's OPEN exceptions give way to what this run finds: those owning a line booked in the
    window, a payment of it or a refund of such a payment."""
    link = ExceptionLink
    owning = exists().where(
        link.exception_id == ReconciliationException.id,
        link.related.is_(False),
        or_(
            exists().where(StatementLineRow.id == link.line_id, window.lines_within()),
            exists().where(Payment.id == link.payment_id, window.payments()),
            exists().where(
                PaymentReversal.id == link.reversal_id,
                PaymentReversal.kind == ReversalKind.REFUND,
                exists().where(Payment.id == PaymentReversal.payment_id, window.payments()),
            ),
        ),
    )
    await session.execute(
        delete(ReconciliationException)
        .where(
            ReconciliationException.project_id == window.project_id,
            ReconciliationException.status == ExceptionStatus.OPEN,
            owning,
        )
        .execution_options(synchronize_session=False)
    )


def _ids(keys: Iterable[str]) -> list[int]:
    return [int(key) for key in keys]


def _line_day(items: WindowItems, line_id: int, zone: ZoneInfo) -> dt.date:
    return items.lines[line_id].booked_at.astimezone(zone).date()


def _settled_lines(window: RunWindow, account_id: int, first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> Any:
    """The stored lines a settlement of `account_id`'s days holds: every channel line of those days in
    the window, paired by the database or not (the core's channel days)."""
    start = max(window.start, day_bounds(first_day, first_day, zone)[0])
    end = min(window.end, day_bounds(last_day, last_day, zone)[1])
    line = StatementLineRow
    return select(line.id).where(
        line.account_id == account_id, line.kind.in_(_CHANNEL_KINDS), line.booked_at >= start, line.booked_at < end
    )


async def _settled_before(session: AsyncSession, window: RunWindow, items: WindowItems, matches: Sequence[Match]) -> set[int]:
    """The positions in `matches` of the settlements one of whose channel days a settlement holds already."""
    rows = await session.execute(
        select(SettledDay.account_id, SettledDay.day).where(
            SettledDay.account_id.in_(window.channel_accounts), SettledDay.day.between(window.days[0][0], window.days[-1][0])
        )
    )
    settled_days = {(account_id, day) for account_id, day in rows}
    settled: set[int] = set()
    for position, match in enumerate(matches):
        settlement = match.settlement
        if settlement is None:
            continue
        account = _account_named(items, settlement.source, settlement.account)
        assert account is not None
        if any((account.id, day) in settled_days for day in _days_of(settlement.first_day, settlement.last_day)):
            settled.add(position)
    return settled


def _days_of(first_day: dt.date, last_day: dt.date) -> list[dt.date]:
    return [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]


async def _closed_day(
    session: AsyncSession,
    window: RunWindow,
    items: WindowItems,
    match: Match,
    settled_account: StatementAccount | None,
    zone: ZoneInfo,
) -> dt.date | None:
    """The earliest closed day among the days of the lines a match owns or settles: what a match made
    now corrects."""
    closed = [
        day
        for line_id in _ids(match.line_keys)
        if (day := _line_day(items, line_id, zone)) in items.closed_days.get(items.line_accounts[line_id], ())
    ]
    settlement = match.settlement
    if settlement is not None and settled_account is not None:
        for day in sorted(items.closed_days.get(settled_account.id, ())):
            if settlement.first_day <= day <= settlement.last_day and await session.scalar(
                _settled_lines(window, settled_account.id, day, day, zone).limit(1)
            ):
                closed.append(day)
                break
    return min(closed, default=None)


async def _store_matches(
    session: AsyncSession,
    principal: Principal | None,
    project: Project,
    window: RunWindow,
    items: WindowItems,
    matches: Sequence[Match],
    zone: ZoneInfo,
    now: dt.datetime,
) -> int:
    """Write the core's matches that take nothing decided, with their journal entries, in bulk; a
    settlement's channel lines are linked by one INSERT … SELECT."""
    settled_before = await _settled_before(session, window, items, matches)
    kept: list[tuple[Match, StatementAccount | None]] = []
    for position, match in enumerate(matches):
        owned_lines = _ids(match.line_keys)
        if (
            any(line_id in items.taken_lines for line_id in owned_lines)
            or any(payment_id in items.taken_payments for payment_id in match.payment_ids)
            or any(refund_id in items.taken_refunds for refund_id in match.refund_ids)
        ):
            continue
        settled_account = None
        if match.settlement is not None:
            if position in settled_before:
                continue
            settled_account = _account_named(items, match.settlement.source, match.settlement.account)
            assert settled_account is not None
        kept.append((match, settled_account))
        items.taken_lines.update(owned_lines)
        items.taken_payments.update(match.payment_ids)
        items.taken_refunds.update(match.refund_ids)
    if not kept:
        return 0
    user_id = principal.user_id if principal else None
    writer = await bulk_connection(session)
    drafts = [_posting(items, match) for match, _ in kept]
    entries_table, matches_table = JournalEntry.__table__, ReconciliationMatch.__table__
    ids = await writer.reserve_id_blocks(
        {entries_table: sum(1 for d in drafts if d is not None), matches_table: len(kept)}  # type: ignore[dict-item]
    )
    entry_ids, match_ids = iter(ids[entries_table]), ids[matches_table]  # type: ignore[index]
    entries: list[tuple[object, ...]] = []
    journal_lines: list[tuple[object, ...]] = []
    rows: list[tuple[object, ...]] = []
    links: list[tuple[object, ...]] = []
    created_at = now.astimezone(dt.UTC)
    for (match, settled_account), draft, match_id in zip(kept, drafts, match_ids, strict=True):
        pair = _pair_of(match)
        entry_id = None
        if draft is not None:
            entry_id = next(entry_ids)
            entries.append(journal_entry_record(entry_id, project_id=project.id, draft=draft, occurred_at=now, created_by=user_id))
            journal_lines.extend(
                journal_line_record(entry_id, line_no, posting) for line_no, posting in enumerate(draft.postings, start=1)
            )
        rows.append(
            (
                match_id,
                project.id,
                match.step.value,
                match.rule,
                json.dumps(explanation_json(match.explanation), ensure_ascii=False),
                to_fen(match.channel_fee),
                to_fen(match.amount_difference),
                None if match.settlement is None else json.dumps(_settlement_json(match), ensure_ascii=False),
                entry_id,
                *(pair or (None, None)),
                await _closed_day(session, window, items, match, settled_account, zone),
                user_id,
                created_at,
            )
        )
        if pair is None:
            links.extend((match_id, line_id, None, None) for line_id in _ids(match.line_keys))
            links.extend((match_id, None, payment_id, None) for payment_id in match.payment_ids)
            links.extend((match_id, None, None, refund_id) for refund_id in match.refund_ids)
    # Foreign keys are checked per statement: entries before their lines, matches before their links.
    await writer.write(JournalEntry.__table__, JOURNAL_ENTRY_COLUMNS, entries)  # type: ignore[arg-type]
    await writer.write(JournalLine.__table__, JOURNAL_LINE_COLUMNS, journal_lines)  # type: ignore[arg-type]
    await writer.write(ReconciliationMatch.__table__, _MATCH_COLUMNS, rows)  # type: ignore[arg-type]
    await writer.write(MatchLink.__table__, _LINK_COLUMNS, links)  # type: ignore[arg-type]
    # A settlement holds the days of its account that have channel lines in the window.
    settled_days = [
        select(literal(match_id), literal(account.id), literal(day, Date)).where(_settled_lines(window, account.id, day, day, zone).exists())
        for (match, account), match_id in zip(kept, match_ids, strict=True)
        if match.settlement is not None and account is not None
        for day in _days_of(match.settlement.first_day, match.settlement.last_day)
    ]
    for chunk in _chunks(settled_days, _SELECTS_PER_STATEMENT):
        await session.execute(insert(SettledDay.__table__).from_select(["match_id", "account_id", "day"], union_all(*chunk)))
    return len(kept)


def _pair_of(match: Match) -> tuple[int, int] | None:
    """The line and payment a match of exactly those two holds in its own row (no links)."""
    if len(match.line_keys) == 1 and len(match.payment_ids) == 1 and not match.refund_ids and match.settlement is None:
        return int(match.line_keys[0]), match.payment_ids[0]
    return None


def _settlement_json(match: Match) -> dict[str, Any] | None:
    settlement = match.settlement
    if settlement is None:
        return None
    return {
        "account": settlement.account,
        "first_day": settlement.first_day.isoformat(),
        "last_day": settlement.last_day.isoformat(),
        "gross": str(settlement.gross),
        "coupons": str(settlement.coupons),
        "refunds": str(settlement.refunds),
        "fees": str(settlement.fees),
        "net": str(settlement.net),
    }


def _account_named(items: WindowItems, source: SourceKind, name: str) -> StatementAccount | None:
    return next(
        (a for a in items.accounts.values() if a.name == name and a.kind.value == source.value),
        None,
    )


def _posting(items: WindowItems, match: Match) -> JournalDraft | None:
    """The journal entry a match posts, if it moves money (see the module docstring)."""
    line_ids = _ids(match.line_keys)
    banked = [line_id for line_id in line_ids if items.accounts[items.line_accounts[line_id]].kind is StatementAccountKind.BANK]

    def account_of(line_id: int) -> StatementAccount:
        return items.accounts[items.line_accounts[line_id]]

    if match.step is MatchStep.SETTLEMENT and match.settlement is not None:
        settled = _account_named(items, match.settlement.source, match.settlement.account)
        assert settled is not None and banked
        s = match.settlement
        return post_settlement(
            bank=account_of(banked[0]).name,
            channel=settled.channel.value,
            cleared=s.gross + s.refunds,
            fees=s.fees,
            coupons=s.coupons,
            description=f"settlement of {settled.name} {s.first_day}–{s.last_day} (bank line {banked[0]})",
        )
    if match.step is MatchStep.CHANNEL_FEE:
        return post_channel_fee(
            channel=account_of(line_ids[0]).channel.value, amount=match.channel_fee, description=f"channel fee, line {line_ids[0]}"
        )
    if match.step is MatchStep.PAYOUT:
        payout = next(line_id for line_id in line_ids if line_id not in banked)
        return post_bank_receipt(
            bank=account_of(banked[0]).name,
            channel=account_of(payout).channel.value,
            amount=items.lines[banked[0]].amount,
            description=f"payout of {account_of(payout).name} (lines {payout}, {banked[0]})",
        )
    if banked and (match.payment_ids or match.refund_ids):
        line_id = banked[0]
        amount = items.lines[line_id].amount
        payment_channel = (
            items.payments[match.payment_ids[0]].channel
            if match.payment_ids
            else items.payments[items.refunds[match.refund_ids[0]][0]].channel
        )
        if match.amount_difference:
            # A rule's tolerance let a slightly different amount through: the difference is written off
            # with the receipt, in one entry, so that clearing holds nothing of the payment.
            receipt = post_bank_receipt(bank=account_of(line_id).name, channel=payment_channel.value, amount=amount, description="")
            write_off = post_write_off(
                account=clearing_account(payment_channel.value), difference=match.amount_difference, description=""
            )
            return JournalDraft(
                "BANK_RECEIPT",
                f"bank line {line_id} received for payment {match.payment_ids[0]}, difference {match.amount_difference}",
                receipt.postings + write_off.postings,
            )
        return post_bank_receipt(
            bank=account_of(line_id).name,
            channel=payment_channel.value,
            amount=amount,
            description=f"bank line {line_id} received for payment(s) {', '.join(map(str, match.payment_ids or match.refund_ids))}",
        )
    return None


def _exception_day(items: WindowItems, finding: Finding, zone: ZoneInfo) -> dt.date:
    for key in finding.line_keys:
        return _line_day(items, int(key), zone)
    for payment_id in finding.payment_ids:
        return items.payments[payment_id].paid_at.astimezone(zone).date()
    for refund_id in finding.refund_ids:
        return items.refunds[refund_id][1].astimezone(zone).date()
    raise ValueError("an exception owns nothing")


async def _store_exceptions(
    session: AsyncSession,
    project: Project,
    window: RunWindow,
    items: WindowItems,
    findings: Sequence[Finding],
    zone: ZoneInfo,
) -> dict[str, int]:
    """Write the core's exceptions about what nothing decided yet, in bulk; how many of each kind."""
    kept = [
        finding
        for finding in findings
        if not (
            any(
                line_id in items.taken_lines or items.lines[line_id].booked_at >= window.end
                for line_id in _ids(finding.line_keys)
            )
            or any(payment_id in items.taken_payments for payment_id in finding.payment_ids)
            or any(refund_id in items.taken_refunds for refund_id in finding.refund_ids)
        )
        # A decided item, or a bank line after the window (the next window's run looks at it).
    ]
    by_kind: dict[str, int] = {}
    if not kept:
        return by_kind
    writer = await bulk_connection(session)
    exception_ids = await writer.reserve_ids(ReconciliationException.__table__, len(kept))  # type: ignore[arg-type]
    rows: list[tuple[object, ...]] = []
    links: list[tuple[object, ...]] = []
    created_at = utcnow()
    for finding, exception_id in zip(kept, exception_ids, strict=True):
        by_kind[finding.kind.value] = by_kind.get(finding.kind.value, 0) + 1
        rows.append(
            (
                exception_id,
                project.id,
                finding.kind.value,
                ExceptionStatus.OPEN.value,
                None if finding.difference is None else to_fen(finding.difference),
                finding.fee_explains,
                json.dumps(explanation_json(finding.explanation), ensure_ascii=False),
                json.dumps(list(finding.suggested_payment_ids)),
                _exception_day(items, finding, zone),
                created_at,
            )
        )
        links.extend((exception_id, line_id, None, None, False) for line_id in _ids(finding.line_keys))
        links.extend((exception_id, None, payment_id, None, False) for payment_id in finding.payment_ids)
        links.extend((exception_id, None, None, refund_id, False) for refund_id in finding.refund_ids)
        links.extend((exception_id, line_id, None, None, True) for line_id in _ids(finding.related_line_keys))
        links.extend((exception_id, None, payment_id, None, True) for payment_id in finding.related_payment_ids)
    await writer.write(ReconciliationException.__table__, _EXCEPTION_COLUMNS, rows)  # type: ignore[arg-type]
    await writer.write(ExceptionLink.__table__, _EXCEPTION_LINK_COLUMNS, links)  # type: ignore[arg-type]
    return by_kind
