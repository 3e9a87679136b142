"""The exact-key step of a matching run, done by the database for the pairs whose outcome is sure.

Most of a window's lines are channel payments that carry the order number of one online order: the
database joins them to their payments (`statement_line.order_no = payment_intent.out_trade_no`), one
day of lines at a time, into a temporary table, stores the new pairs as EXACT_KEY matches with INSERT …
SELECT, and the pure core (`matching.reconcile`) gets only the rest, with each channel day's share of the
pairs as `PairedLines`, which count in the day's settlement as the lines would.

A pair is taken here only when the core would match exactly it, whatever else the window holds:

- the line is a channel account's payment line of the window, its amount the payment's, and the payment
  is one of the window's;
- no other line of the window carries the line's order number (as order number or EndToEndId), and no
  other payment of the window has it as its order number (a payment without an online order has its
  reference as one): so the line finds this payment first, and no other line finds it by that key;
- the payment's transaction id is carried by no line but this one (as transaction id or bank reference):
  so no other line finds it by that key either;
- the payment has no refund (a refund line finds its payment by order number), and no other payment of
  the window is of its unit and amount (the core flags the second payment of one charge: one charge is
  one unit's bills, paid with one amount).

Anything else goes to the core with the lines and payments it concerns, so the result is the core's
(`tests/unit/reconciliation/test_matching_laws.py` holds the rule against the core;
`tests/integration/test_reconciliation_key_join.py` runs a window both ways on both databases). Whether a pair is new or was decided before (by an earlier run,
by hand, by a resolution) is read here too: a decided pair is left as it is, as the core's match for it
would be.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from billing.bulk import bulk_connection
from billing.reconciliation.holdings import held_line_ids, held_payment_ids
from billing.reconciliation.matching import PairedLines
from billing.reconciliation.statement import LineKind, SourceKind
from db.base import UtcDateTime
from db.models import (
    ExceptionLink,
    ExceptionStatus,
    Payment,
    PaymentIntent,
    PaymentReversal,
    ReconciliationException,
    ReconciliationMatch,
    ReversalKind,
    StatementLineRow,
)

__all__ = ["KeyJoin", "RunWindow"]

_runs = itertools.count(1)
PAIR_BATCH_LINES = 1_000_000
"""Channel lines one pairing statement joins at most: consecutive days are joined together up to this many
lines (a community's month in one statement), a day with more is joined alone."""


class _Tables:
    """The temporary tables of one run, named apart from any other run's in the same connection.

    `ambiguous_key`: key values more than one line or payment of the window carries (namespace O for order
    numbers, T for transaction ids); `ambiguous_payment`: payments with a refund or sharing their unit and
    amount with another one; `pair`: the sure pairs, `fresh` when neither side was decided before.
    """

    def __init__(self) -> None:
        suffix = next(_runs)
        self.metadata = MetaData()
        options: dict[str, Any] = {"prefixes": ["TEMPORARY"], "postgresql_on_commit": "DROP"}
        self.ambiguous_key = Table(
            f"recon_ambiguous_key_{suffix}",
            self.metadata,
            Column("namespace", String(1), primary_key=True),
            Column("value", String(100), primary_key=True),
            **options,
        )
        self.ambiguous_payment = Table(
            f"recon_ambiguous_payment_{suffix}",
            self.metadata,
            Column("payment_id", Integer, primary_key=True, autoincrement=False),
            **options,
        )
        self.pair = Table(
            f"recon_pair_{suffix}",
            self.metadata,
            Column("line_id", Integer, primary_key=True, autoincrement=False),
            Column("payment_id", Integer, nullable=False),
            Column("account_id", Integer, nullable=False),
            Column("booked_at", UtcDateTime(), nullable=False),
            Column("amount", BigInteger, nullable=False),
            Column("settled_amount", BigInteger, nullable=False),
            Column("fee", BigInteger, nullable=False),
            Column("fresh", Boolean, nullable=False),
            Index(f"recon_pair_{suffix}_payment_id", "payment_id", unique=True),
            **options,
        )


@dataclass(frozen=True)
class RunWindow:
    """What a matching run looks at: the lines of its accounts booked in [start, end), bank lines until
    `bank_end` (they may settle the window's channel days), and the project's payments of its channels
    paid in [start, end)."""

    project_id: int
    channel_accounts: tuple[int, ...]
    bank_accounts: tuple[int, ...]
    channels: tuple[str, ...]
    days: tuple[tuple[dt.date, dt.datetime, dt.datetime], ...]
    """Each local day of the window and the instants it begins and ends."""
    bank_end: dt.datetime

    @property
    def start(self) -> dt.datetime:
        return self.days[0][1]

    @property
    def end(self) -> dt.datetime:
        return self.days[-1][2]

    def lines(self, line: Any = StatementLineRow) -> ColumnElement[bool]:
        return and_(
            line.account_id.in_([*self.channel_accounts, *self.bank_accounts]),
            line.booked_at >= self.start,
            or_(line.booked_at < self.end, and_(line.account_id.in_(self.bank_accounts), line.booked_at < self.bank_end)),
        )

    def lines_within(self, line: Any = StatementLineRow) -> ColumnElement[bool]:
        """The window's lines booked before its end (bank lines after it belong to a later window)."""
        return and_(
            line.account_id.in_([*self.channel_accounts, *self.bank_accounts]),
            line.booked_at >= self.start,
            line.booked_at < self.end,
        )

    def payments(self, payment: Any = Payment) -> ColumnElement[bool]:
        return and_(
            payment.project_id == self.project_id,
            payment.channel.in_(self.channels),
            payment.paid_at >= self.start,
            payment.paid_at < self.end,
        )


class KeyJoin:
    """The sure pairs of one run's window, held in temporary tables of the run's transaction until `drop`."""

    def __init__(self, session: AsyncSession, window: RunWindow) -> None:
        self.session = session
        self.window = window
        self.tables = _Tables()

    async def pair(self) -> int:
        """Find the window's sure pairs; how many there are."""
        connection = await self.session.connection()
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            # The joins below hash a window's keys; four megabytes would spill a busy day's to disk. Compiling
            # them (JIT) cost 0.7 s of a group's day and won nothing: each runs once. The two sides of
            # `_pairs` carry no statistics: costed blind, their join was a merge join that sorted two million
            # wide rows on disk where one hash table serves. One round trip.
            await self.session.execute(
                text(
                    "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),"
                    " set_config('enable_mergejoin', 'off', true)"
                )
            )
        # Named for this run alone: nothing to look for first.
        await connection.run_sync(self.tables.metadata.create_all, checkfirst=False)
        await self._ambiguous()
        if postgresql:
            # Temporary tables have no statistics until asked; the joins below read these.
            for table in (self.tables.ambiguous_key, self.tables.ambiguous_payment):
                await self.session.execute(text(f"ANALYZE {table.name}"))
        # Whole days at a time, so that each statement reads the window's payments once for many lines (a
        # million lines of a group's day joined in one statement cost the server 6 s of CPU, in five
        # batches of line ids 10 s).
        for batch_start, batch_end in await self._batches():
            await self.session.execute(
                insert(self.tables.pair).from_select(list(self.tables.pair.c.keys()), self._pairs(batch_start, batch_end))
            )
        if postgresql:
            await self.session.execute(text("SELECT set_config('enable_mergejoin', 'on', true)"))
            await self.session.execute(text(f"ANALYZE {self.tables.pair.name}"))
        await self._mark_decided()
        return int(await self.session.scalar(select(func.count()).select_from(self.tables.pair)) or 0)

    async def _batches(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """Runs of consecutive days holding at most `PAIR_BATCH_LINES` channel lines together."""
        line, window = StatementLineRow, self.window
        day = _day_index(line.booked_at, window.days)
        counts = dict(
            (
                await self.session.execute(
                    select(day, func.count())
                    .where(line.account_id.in_(window.channel_accounts), line.booked_at >= window.start, line.booked_at < window.end)
                    .group_by(day)
                )
            ).all()
        )
        batches: list[tuple[dt.datetime, dt.datetime]] = []
        held = 0
        for index, (_, day_start, day_end) in enumerate(window.days):
            lines = int(counts.get(index, 0))
            if batches and held + lines <= PAIR_BATCH_LINES:
                batches[-1] = (batches[-1][0], day_end)
                held += lines
            else:
                batches.append((day_start, day_end))
                held = lines
        return batches

    async def _ambiguous(self) -> None:
        window, line, payment = self.window, StatementLineRow, Payment
        for namespace, columns in (("O", (line.order_no, line.end_to_end_id)), ("T", (line.transaction_id, line.bank_reference))):
            carried = union_all(
                *(select(column.label("value")).where(window.lines(), column.is_not(None)) for column in columns)
            ).subquery()
            twice = select(literal(namespace), carried.c.value).group_by(carried.c.value).having(func.count() > 1)
            if namespace == "O":
                # A payment without an online order is found by its reference as if it were an order number.
                referenced = select(literal("O"), payment.external_reference).where(
                    window.payments(),
                    payment.external_reference.is_not(None),
                    ~exists().where(PaymentIntent.payment_id == payment.id),
                )
                twice = union(twice, referenced)  # type: ignore[assignment]
            await self.session.execute(insert(self.tables.ambiguous_key).from_select(["namespace", "value"], twice))
        same_charge = (
            select(payment.unit_id, payment.amount)
            .where(window.payments())
            .group_by(payment.unit_id, payment.amount)
            .having(func.count() > 1)
            .subquery()
        )
        await self.session.execute(
            insert(self.tables.ambiguous_payment).from_select(
                ["payment_id"],
                union(
                    select(payment.id)
                    .join(same_charge, and_(payment.unit_id == same_charge.c.unit_id, payment.amount == same_charge.c.amount))
                    .where(window.payments()),
                    select(PaymentReversal.payment_id)
                    .join(payment, payment.id == PaymentReversal.payment_id)
                    .where(window.payments(), PaymentReversal.kind == ReversalKind.REFUND),
                ),
            )
        )

    def _pairs(self, day_start: dt.datetime, day_end: dt.datetime) -> Any:
        """The sure pairs of the channel lines booked in [day_start, day_end), all taken as fresh
        (`_mark_decided` says which are not).

        Each side is narrowed to what can pair before the two meet, and PostgreSQL is told to keep each
        side apart (MATERIALIZED): from the equal amounts of the join it expects one pair in a million, and
        it then looked up each of the million pairs in every table of ambiguous keys one by one, after the
        join, instead of hashing the small tables beside each side's scan (a group's day: 10.1 s of the
        server's CPU to pair, 6.1-6.7 s this way)."""
        window, line, payment = self.window, StatementLineRow, Payment
        ambiguous = self.tables.ambiguous_key
        transaction = func.coalesce(PaymentIntent.provider_transaction_id, payment.external_reference)
        lines = (
            select(
                line.id, line.account_id, line.booked_at, line.amount, line.settled_amount, line.fee, line.order_no,
                line.transaction_id, line.bank_reference,
            )
            .where(
                line.account_id.in_(window.channel_accounts),
                line.booked_at >= day_start,
                line.booked_at < day_end,
                line.kind == LineKind.PAYMENT.value,
                ~exists().where(ambiguous.c.namespace == "O", ambiguous.c.value == line.order_no),
            )
            .cte("pairing_lines")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        payments = (
            select(payment.id, payment.amount, PaymentIntent.out_trade_no, transaction.label("transaction"))
            .join(PaymentIntent, PaymentIntent.payment_id == payment.id)
            .where(
                window.payments(),
                ~exists().where(self.tables.ambiguous_payment.c.payment_id == payment.id),
                # No row has a NULL value: a payment without a transaction id passes.
                ~exists().where(ambiguous.c.namespace == "T", ambiguous.c.value == transaction),
            )
            .cte("pairing_payments")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        other = aliased(StatementLineRow)
        carried = payments.c.transaction
        return (
            select(
                lines.c.id,
                payments.c.id,
                lines.c.account_id,
                lines.c.booked_at,
                lines.c.amount,
                lines.c.settled_amount,
                lines.c.fee,
                literal(True),
            )
            .select_from(lines)
            .join(payments, payments.c.out_trade_no == lines.c.order_no)
            .where(
                lines.c.amount == payments.c.amount,
                or_(
                    carried.is_(None),
                    lines.c.transaction_id == carried,
                    lines.c.bank_reference == carried,
                    ~exists().where(or_(other.transaction_id == carried, other.bank_reference == carried), window.lines(other)),
                ),
            )
        )

    async def _mark_decided(self) -> None:
        """Mark the pairs whose line or payment a match or a resolved exception holds already: they stay as
        they are. Asked once for the whole set (the database hashes what is held when there is little of
        it), not pair by pair as the pairs are found."""
        pair = self.tables.pair
        for column, held, linked in (
            (pair.c.line_id, held_line_ids(), ExceptionLink.line_id),
            (pair.c.payment_id, held_payment_ids(), ExceptionLink.payment_id),
        ):
            resolved = (
                select(linked)
                .join(ReconciliationException, ReconciliationException.id == ExceptionLink.exception_id)
                .where(linked.is_not(None), ExceptionLink.related.is_(False), ReconciliationException.status == ExceptionStatus.RESOLVED)
            )
            # One flat compound: SQLite refuses a compound nested in another.
            await self.session.execute(update(pair).where(column.in_(union_all(*held.selects, resolved))).values(fresh=False))

    async def store_new(
        self,
        *,
        project_id: int,
        user_id: int | None,
        now: dt.datetime,
        explanation: list[dict[str, Any]],
        closed_days: Mapping[int, Sequence[tuple[dt.date, dt.datetime, dt.datetime]]],
    ) -> int:
        """Store the fresh pairs as EXACT_KEY matches holding their line and payment (one row each), explained by
        `explanation` (stored phrases); how many. A pair on a closed day (`closed_days`: per account, the
        day and its bounds) names the day it corrects."""
        fresh = int(await self.session.scalar(select(func.count()).select_from(self.tables.pair).where(self.tables.pair.c.fresh)) or 0)
        if not fresh:
            return 0
        writer = await bulk_connection(self.session)
        first = await writer.reserve_consecutive_ids(ReconciliationMatch.__table__, fresh)  # type: ignore[arg-type]
        match_id = literal(first - 1) + func.row_number().over(order_by=self.tables.pair.c.line_id)
        corrects = [
            (and_(self.tables.pair.c.account_id == account_id, self.tables.pair.c.booked_at >= start, self.tables.pair.c.booked_at < end), literal(day, Date))
            for account_id, days in closed_days.items()
            for day, start, end in days
        ]
        match = ReconciliationMatch.__table__
        await self.session.execute(
            insert(match).from_select(
                [
                    "id", "project_id", "step", "explanation", "channel_fee", "amount_difference", "line_id", "payment_id",
                    "corrects_closed_day", "created_by", "created_at",
                ],
                select(
                    match_id,
                    literal(project_id),
                    literal("EXACT_KEY"),
                    literal(explanation, JSON),
                    literal(0),
                    literal(0),
                    self.tables.pair.c.line_id,
                    self.tables.pair.c.payment_id,
                    case(*corrects, else_=null()) if corrects else null(),
                    literal(user_id, Integer),
                    literal(now, UtcDateTime()),
                ).where(self.tables.pair.c.fresh),
            )
        )
        return fresh

    async def day_totals(self, accounts: Mapping[int, tuple[SourceKind, str]]) -> list[PairedLines]:
        """Each channel account's day's share of the pairs, for the core's settlements (`accounts`: the
        source and name of each channel account)."""
        days = self.window.days
        day_of = _day_index(self.tables.pair.c.booked_at, days)
        rows = await self.session.execute(
            select(
                self.tables.pair.c.account_id,
                day_of,
                func.count(),
                func.sum(self.tables.pair.c.amount),
                func.sum(self.tables.pair.c.amount - self.tables.pair.c.settled_amount),
                func.sum(self.tables.pair.c.fee),
            ).group_by(self.tables.pair.c.account_id, day_of)
        )
        totals = []
        for account_id, index, count, gross, coupons, fees in rows:
            source, name = accounts[account_id]
            totals.append(
                PairedLines(
                    source=source,
                    account=name,
                    day=days[index][0],
                    count=int(count),
                    gross=Decimal(int(gross)).scaleb(-2),
                    coupons=Decimal(int(coupons)).scaleb(-2),
                    fees=Decimal(int(fees)).scaleb(-5),
                )
            )
        return totals

    def unpaired_line(self, line: Any = StatementLineRow) -> ColumnElement[bool]:
        return ~exists().where(self.tables.pair.c.line_id == line.id)

    def unpaired_payment(self, payment: Any = Payment) -> ColumnElement[bool]:
        return ~exists().where(self.tables.pair.c.payment_id == payment.id)

    async def drop(self) -> None:
        """Drop the temporary tables on SQLite, where they would outlive the transaction; PostgreSQL drops
        them at commit (its cursors hold them until then)."""
        connection = await self.session.connection()
        if connection.dialect.name != "postgresql":
            await connection.run_sync(self.tables.metadata.drop_all, checkfirst=False)



def _day_index(moment: Any, days: Sequence[tuple[dt.date, dt.datetime, dt.datetime]]) -> Any:
    """Which of the window's `days` an instant of the window falls on, as its position."""
    return case(*[(moment < end, literal(index)) for index, (_, _, end) in enumerate(days)], else_=literal(-1))
