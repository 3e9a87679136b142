"""Matching a project's statements with its payments for a window of days, and storing what was found.

One transaction: load the window's statement lines (and bank lines up to the longest payout lag after it,
which may settle the window's channel days), its payments and refunds of the channels the project has
accounts for, as plain data; call the pure `matching.reconcile`; store the matches that are new and the
exceptions, replacing the OPEN exceptions of the window's items. Running it again changes nothing that
was decided: a line, payment or refund owned by a match (automatic or by hand) or by a resolved exception
stays where it is, and the core's result for it is left aside.

Matches that move money post their journal entries (`billing.ledger`): a bank line matched to a transfer
(`post_bank_receipt`), a channel's days settled by one bank credit (`post_settlement`: the fee to
CHANNEL_FEES, never a mismatch), a channel's own fee line (`post_channel_fee`). A channel line matched to
its payment posts nothing: the money stays in clearing until the channel pays it out.

Every line, payment and refund of the window is held in memory for one `reconcile` call; a mid-size
community's month is a few thousand of each. Group-wide volumes want the exact keys joined in SQL first
(ARCHITECTURE.md, "left open").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, exists, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.journal import write_journal
from billing.ledger import (
    JournalDraft,
    post_bank_receipt,
    post_channel_fee,
    post_settlement,
    post_write_off,
    clearing_account,
)
from billing.reconciliation.accounts import account_channel, channel_terms_of, get_account, reconciled_project
from billing.reconciliation.matching import (
    ChannelTerms,
    Explanation,
    Match,
    MatchRule,
    MatchStep,
    RecordedPayment,
    RecordedRefund,
    reconcile,
)
from billing.reconciliation.matching import ReconciliationException as Finding
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine
from db.models import (
    DailyClose,
    ExceptionLink,
    ExceptionStatus,
    MatchLink,
    Payment,
    PaymentIntent,
    PaymentReversal,
    Project,
    ReconciliationException,
    ReconciliationMatch,
    ReconciliationRule,
    ReversalKind,
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
    """The window's lines, payments and refunds as plain data, and what is already decided about them."""

    accounts: dict[int, StatementAccount]
    lines: dict[int, StatementLineRow] = field(default_factory=dict)
    payments: dict[int, Payment] = field(default_factory=dict)
    refunds: dict[int, PaymentReversal] = field(default_factory=dict)
    taken_lines: set[int] = field(default_factory=set)
    settled_lines: set[int] = field(default_factory=set)
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
    start, end = day_bounds(first_day, last_day, zone)
    items = await _load(session, accounts, terms, start=start, end=end, first_day=first_day)
    result = reconcile(
        lines=[_line(row, items.accounts[row.account_id], zone) for row in items.lines.values()],
        payments=_recorded(items, await _intents(session, list(items.payments)), zone),
        terms=list(terms.values()),
        rules=await _rules(session, project.id),
        as_of=now,
        zone=zone,
    )
    in_window = {line_id for line_id, row in items.lines.items() if row.booked_at < end}
    await _drop_open_exceptions(session, in_window, set(items.payments), set(items.refunds))
    new_matches = 0
    for match in result.matches:
        if await _store_match(session, principal, project, items, match, zone, now):
            new_matches += 1
    by_kind: dict[str, int] = {}
    for finding in result.exceptions:
        if await _store_exception(session, project, items, finding, in_window, zone):
            by_kind[finding.kind.value] = by_kind.get(finding.kind.value, 0) + 1
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


def _terms(accounts: Sequence[StatementAccount]) -> dict[Channel, ChannelTerms]:
    terms: dict[Channel, ChannelTerms] = {}
    for account in accounts:
        terms.setdefault(account_channel(account), channel_terms_of(account))
    return terms


async def _load(
    session: AsyncSession,
    accounts: Sequence[StatementAccount],
    terms: dict[Channel, ChannelTerms],
    *,
    start: dt.datetime,
    end: dt.datetime,
    first_day: dt.date,
) -> WindowItems:
    items = WindowItems(accounts={account.id: account for account in accounts})
    longest_payout = max((t.payout_max_days for t in terms.values()), default=7)
    account_ids = list(items.accounts)
    bank_ids = [a.id for a in accounts if a.kind is StatementAccountKind.BANK]
    lines = await session.scalars(
        select(StatementLineRow).where(
            StatementLineRow.account_id.in_(account_ids),
            StatementLineRow.booked_at >= start,
            or_(
                StatementLineRow.booked_at < end,
                and_(
                    StatementLineRow.account_id.in_(bank_ids),
                    StatementLineRow.booked_at < end + dt.timedelta(days=longest_payout),
                ),
            ),
        )
    )
    items.lines = {row.id: row for row in lines}
    channels = [channel.value for channel in terms]
    payments = await session.scalars(
        select(Payment).where(
            Payment.project_id == next(iter(accounts)).project_id,
            Payment.channel.in_(channels),
            Payment.paid_at >= start,
            Payment.paid_at < end,
        )
    )
    items.payments = {payment.id: payment for payment in payments}
    if items.payments:
        refunds = await session.scalars(
            select(PaymentReversal).where(
                PaymentReversal.payment_id.in_(list(items.payments)), PaymentReversal.kind == ReversalKind.REFUND
            )
        )
        items.refunds = {refund.id: refund for refund in refunds}
    await _decided(session, items)
    for close in await session.scalars(
        select(DailyClose).where(DailyClose.account_id.in_(account_ids), DailyClose.day >= first_day - dt.timedelta(days=1))
    ):
        items.closed_days.setdefault(close.account_id, set()).add(close.day)
    return items


async def _decided(session: AsyncSession, items: WindowItems) -> None:
    """Which of the items a match (not undone) or a resolved exception already owns."""
    line_ids, payment_ids, refund_ids = list(items.lines), list(items.payments), list(items.refunds)
    for chunk in _chunks(line_ids):
        for line_id, settles in await session.execute(
            select(MatchLink.line_id, MatchLink.settles).where(MatchLink.line_id.in_(chunk))
        ):
            (items.settled_lines if settles else items.taken_lines).add(line_id)
        items.taken_lines.update(await session.scalars(_resolved_links(ExceptionLink.line_id, chunk)))
    for chunk in _chunks(payment_ids):
        items.taken_payments.update(await session.scalars(select(MatchLink.payment_id).where(MatchLink.payment_id.in_(chunk))))
        items.taken_payments.update(await session.scalars(_resolved_links(ExceptionLink.payment_id, chunk)))
    for chunk in _chunks(refund_ids):
        items.taken_refunds.update(await session.scalars(select(MatchLink.reversal_id).where(MatchLink.reversal_id.in_(chunk))))
        items.taken_refunds.update(await session.scalars(_resolved_links(ExceptionLink.reversal_id, chunk)))


def _resolved_links(column: Any, ids: list[int]) -> Any:
    return (
        select(column)
        .join(ReconciliationException, ReconciliationException.id == ExceptionLink.exception_id)
        .where(column.in_(ids), ExceptionLink.related.is_(False), ReconciliationException.status == ExceptionStatus.RESOLVED)
    )


def _chunks(ids: list[int], size: int = 1000) -> Iterable[list[int]]:
    for index in range(0, len(ids), size):
        yield ids[index : index + size]


async def _intents(session: AsyncSession, payment_ids: list[int]) -> dict[int, PaymentIntent]:
    found: dict[int, PaymentIntent] = {}
    for chunk in _chunks(payment_ids):
        for intent in await session.scalars(select(PaymentIntent).where(PaymentIntent.payment_id.in_(chunk))):
            assert intent.payment_id is not None
            found[intent.payment_id] = intent
    return found


def _line(row: StatementLineRow, account: StatementAccount, zone: ZoneInfo) -> StatementLine:
    # The core knows a line by its key; the stored line's id is unique across accounts and names it back.
    return StatementLine(
        source=SourceKind(row.source),
        account=account.name,
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


def _recorded(items: WindowItems, intents: dict[int, PaymentIntent], zone: ZoneInfo) -> list[RecordedPayment]:
    refunds_of: dict[int, list[RecordedRefund]] = {}
    for refund in items.refunds.values():
        refunds_of.setdefault(refund.payment_id, []).append(
            RecordedRefund(id=refund.id, amount=refund.amount, refunded_at=refund.created_at.astimezone(zone))
        )
    recorded = []
    for payment in items.payments.values():
        intent = intents.get(payment.id)
        # A payment the desk recorded carries the channel's reference it was given (an order number or a
        # transaction id); an online order's payment, the order number and the gateway's transaction id.
        recorded.append(
            RecordedPayment(
                id=payment.id,
                channel=Channel(payment.channel.value),
                amount=payment.amount,
                paid_at=payment.paid_at.astimezone(zone),
                unit_id=payment.unit_id,
                party_id=payment.payer_party_id,
                order_no=intent.out_trade_no if intent else payment.external_reference,
                provider_transaction_id=(intent.provider_transaction_id if intent else None) or payment.external_reference,
                payer_name=payment.payer_name,
                # Two orders for the same bills paid: the owner was charged twice.
                charge_key=("bills:" + ",".join(map(str, sorted(intent.bill_ids)))) if intent and intent.bill_ids else None,
                refunds=tuple(refunds_of.get(payment.id, ())),
            )
        )
    return recorded


async def _rules(session: AsyncSession, project_id: int) -> list[MatchRule]:
    rows = await session.scalars(
        select(ReconciliationRule).where(ReconciliationRule.project_id == project_id).order_by(ReconciliationRule.position)
    )
    rules = []
    for row in rows:
        params = dict(row.params)
        if "amount_tolerance" in params:
            params["amount_tolerance"] = Decimal(str(params["amount_tolerance"]))
        if "channels" in params:
            params["channels"] = tuple(Channel(value) for value in params["channels"])
        rules.append(MatchRule(name=row.name, **params))
    return rules


async def _drop_open_exceptions(session: AsyncSession, lines: set[int], payments: set[int], refunds: set[int]) -> None:
    """The window's OPEN exceptions give way to what this run finds."""
    conditions = [
        ExceptionLink.line_id.in_(chunk) for chunk in _chunks(sorted(lines))
    ] + [ExceptionLink.payment_id.in_(chunk) for chunk in _chunks(sorted(payments))] + [
        ExceptionLink.reversal_id.in_(chunk) for chunk in _chunks(sorted(refunds))
    ]
    if not conditions:
        return
    owning = exists().where(
        ExceptionLink.exception_id == ReconciliationException.id, ExceptionLink.related.is_(False), or_(*conditions)
    )
    await session.execute(
        delete(ReconciliationException)
        .where(ReconciliationException.status == ExceptionStatus.OPEN, owning)
        .execution_options(synchronize_session=False)
    )


def _ids(keys: Iterable[str]) -> list[int]:
    return [int(key) for key in keys]


def _closed_day(items: WindowItems, line_ids: Iterable[int], zone: ZoneInfo) -> dt.date | None:
    """The earliest closed day among the lines' days: what a change made now corrects."""
    closed = [
        day
        for line_id in line_ids
        if (day := items.lines[line_id].booked_at.astimezone(zone).date())
        in items.closed_days.get(items.lines[line_id].account_id, ())
    ]
    return min(closed, default=None)


async def _store_match(
    session: AsyncSession,
    principal: Principal | None,
    project: Project,
    items: WindowItems,
    match: Match,
    zone: ZoneInfo,
    now: dt.datetime,
) -> bool:
    owned_lines = _ids(match.line_keys)
    settled_lines = _ids(match.settlement.line_keys) if match.settlement is not None else []
    if (
        any(line_id in items.taken_lines for line_id in owned_lines)
        or any(line_id in items.settled_lines for line_id in settled_lines)
        or any(payment_id in items.taken_payments for payment_id in match.payment_ids)
        or any(refund_id in items.taken_refunds for refund_id in match.refund_ids)
    ):
        return False
    draft = _posting(project, items, match)
    entry_id = None
    if draft is not None:
        (entry,) = await write_journal(
            session, project_id=project.id, drafts=[draft], occurred_at=now, created_by=principal.user_id if principal else None
        )
        entry_id = entry.id
    stored = ReconciliationMatch(
        project_id=project.id,
        step=match.step.value,
        rule=match.rule,
        explanation=explanation_json(match.explanation),
        channel_fee=match.channel_fee,
        amount_difference=match.amount_difference,
        settlement=_settlement_json(match),
        journal_entry_id=entry_id,
        corrects_closed_day=_closed_day(items, owned_lines + settled_lines, zone),
        created_by=principal.user_id if principal else None,
        created_at=now,
    )
    session.add(stored)
    await session.flush()
    await _add_links(
        session,
        MatchLink,
        [_link(match_id=stored.id, line_id=line_id) for line_id in owned_lines]
        + [_link(match_id=stored.id, line_id=line_id, settles=True) for line_id in settled_lines]
        + [_link(match_id=stored.id, payment_id=payment_id) for payment_id in match.payment_ids]
        + [_link(match_id=stored.id, reversal_id=refund_id) for refund_id in match.refund_ids],
    )
    items.taken_lines.update(owned_lines)
    items.settled_lines.update(settled_lines)
    items.taken_payments.update(match.payment_ids)
    items.taken_refunds.update(match.refund_ids)
    return True


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


def _posting(project: Project, items: WindowItems, match: Match) -> JournalDraft | None:
    """The journal entry a match posts, if it moves money (see the module docstring)."""
    lines = [items.lines[line_id] for line_id in _ids(match.line_keys)]
    banked = [line for line in lines if items.accounts[line.account_id].kind is StatementAccountKind.BANK]
    if match.step is MatchStep.SETTLEMENT and match.settlement is not None:
        settled = _account_named(items, match.settlement.source, match.settlement.account)
        assert settled is not None and banked
        s = match.settlement
        return post_settlement(
            bank=items.accounts[banked[0].account_id].name,
            channel=settled.channel.value,
            cleared=s.gross + s.refunds,
            fees=s.fees,
            coupons=s.coupons,
            description=f"settlement of {settled.name} {s.first_day}–{s.last_day} (bank line {banked[0].id})",
        )
    if match.step is MatchStep.CHANNEL_FEE:
        account = items.accounts[lines[0].account_id]
        return post_channel_fee(channel=account.channel.value, amount=match.channel_fee, description=f"channel fee, line {lines[0].id}")
    if match.step is MatchStep.PAYOUT:
        payout = next(line for line in lines if line not in banked)
        channel = items.accounts[payout.account_id].channel.value
        return post_bank_receipt(
            bank=items.accounts[banked[0].account_id].name,
            channel=channel,
            amount=banked[0].amount,
            description=f"payout of {items.accounts[payout.account_id].name} (lines {payout.id}, {banked[0].id})",
        )
    if banked and (match.payment_ids or match.refund_ids):
        line = banked[0]
        payment_channel = (
            items.payments[match.payment_ids[0]].channel
            if match.payment_ids
            else items.payments[items.refunds[match.refund_ids[0]].payment_id].channel
        )
        if match.amount_difference:
            # A rule's tolerance let a slightly different amount through: the difference is written off
            # with the receipt, in one entry, so that clearing holds nothing of the payment.
            receipt = post_bank_receipt(
                bank=items.accounts[line.account_id].name, channel=payment_channel.value, amount=line.amount, description=""
            )
            write_off = post_write_off(
                account=clearing_account(payment_channel.value), difference=match.amount_difference, description=""
            )
            return JournalDraft(
                "BANK_RECEIPT",
                f"bank line {line.id} received for payment {match.payment_ids[0]}, difference {match.amount_difference}",
                receipt.postings + write_off.postings,
            )
        return post_bank_receipt(
            bank=items.accounts[line.account_id].name,
            channel=payment_channel.value,
            amount=line.amount,
            description=f"bank line {line.id} received for payment(s) {', '.join(map(str, match.payment_ids or match.refund_ids))}",
        )
    return None


def _exception_day(items: WindowItems, finding: Finding, zone: ZoneInfo) -> dt.date:
    for key in finding.line_keys:
        return items.lines[int(key)].booked_at.astimezone(zone).date()
    for payment_id in finding.payment_ids:
        return items.payments[payment_id].paid_at.astimezone(zone).date()
    for refund_id in finding.refund_ids:
        return items.refunds[refund_id].created_at.astimezone(zone).date()
    raise ValueError("an exception owns nothing")


async def _store_exception(
    session: AsyncSession,
    project: Project,
    items: WindowItems,
    finding: Finding,
    in_window: set[int],
    zone: ZoneInfo,
) -> bool:
    owned_lines = _ids(finding.line_keys)
    if (
        any(line_id in items.taken_lines or line_id not in in_window for line_id in owned_lines)
        or any(payment_id in items.taken_payments for payment_id in finding.payment_ids)
        or any(refund_id in items.taken_refunds for refund_id in finding.refund_ids)
    ):
        # Decided already, or a bank line after the window (the next window's run looks at it).
        return False
    stored = ReconciliationException(
        project_id=project.id,
        kind=finding.kind.value,
        status=ExceptionStatus.OPEN,
        difference=finding.difference,
        fee_explains=finding.fee_explains,
        explanation=explanation_json(finding.explanation),
        suggested_payment_ids=list(finding.suggested_payment_ids),
        day=_exception_day(items, finding, zone),
    )
    session.add(stored)
    await session.flush()
    await _add_links(
        session,
        ExceptionLink,
        [_link(exception_id=stored.id, line_id=line_id) for line_id in owned_lines]
        + [_link(exception_id=stored.id, payment_id=payment_id) for payment_id in finding.payment_ids]
        + [_link(exception_id=stored.id, reversal_id=refund_id) for refund_id in finding.refund_ids]
        + [_link(exception_id=stored.id, line_id=line_id, related=True) for line_id in _ids(finding.related_line_keys)]
        + [_link(exception_id=stored.id, payment_id=payment_id, related=True) for payment_id in finding.related_payment_ids],
    )
    return True


def _link(*, line_id: int | None = None, payment_id: int | None = None, reversal_id: int | None = None, **columns: object) -> dict[str, object]:
    """A link's row with every target column present (one of them set), as one multi-row insert wants."""
    return {"line_id": line_id, "payment_id": payment_id, "reversal_id": reversal_id, **columns}


async def _add_links(session: AsyncSession, model: type[MatchLink] | type[ExceptionLink], links: list[dict[str, object]]) -> None:
    """A match's or an exception's links in one statement: SQLite would insert ORM rows one at a time."""
    flag = "settles" if model is MatchLink else "related"
    if links:
        # render_nulls: one statement for all of them, not one per set of filled-in columns.
        await session.execute(insert(model).execution_options(render_nulls=True), [{flag: False, **link} for link in links])
