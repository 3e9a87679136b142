"""Resolving a reconciliation exception, one of five ways, each writing what it changes in the journal.

- MATCH: pair the exception's lines with payments (or its payments with lines) chosen by hand, or accept
  an AMOUNT_MISMATCH's pairing; a difference a channel's fee explains goes to CHANNEL_FEES, any other
  difference is written off (a reason is required).
- UNMATCH: undo a match (the one that took what the exception is missing); its journal entry is reversed
  and its lines and payments go back to the next run.
- RECORD_PAYMENT: a CHANNEL_ONLY (or BANK_UNMATCHED) line becomes the payment it is, through the payment
  desk's own `take_payment` (allocation, receipt, journal), and is matched to it.
- REFUND_DUPLICATE: a DUPLICATE_CHARGE is given back through the refund desk's `give_refund`; a second
  channel line of one order is first recorded as the owner's credit, then refunded.
- WRITE_OFF: the difference is written off to RECONCILIATION_WRITE_OFF with a reason and an approver.

A correction of a closed day lands in today's books (the journal entry occurs now) and names the closed
day (`corrects_closed_day` on the exception and the match); the closed day's report never changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.journal import write_journal
from billing.ledger import (
    JournalDraft,
    Posting,
    bank_account,
    clearing_account,
    post_bank_receipt,
    post_channel_fee,
    post_write_off,
)
from billing.payments import PaymentRequest, take_payment
from billing.policy import knows_project_records
from billing.receipts import ReceiptSigner
from billing.reconciliation.accounts import reconciled_project
from billing.reconciliation.holdings import held_line_ids, held_payment_ids
from billing.refunds import give_refund
from db.models import (
    DailyClose,
    ExceptionLink,
    ExceptionStatus,
    JournalLine,
    MatchLink,
    Payment,
    PaymentChannel,
    Project,
    ReconciliationException,
    ReconciliationMatch,
    Resolution,
    SettledDay,
    StatementAccount,
    StatementAccountKind,
    StatementLineRow,
)
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.validation import optional_text

__all__ = ["ResolutionAction", "ResolutionRequest", "resolve_exception"]


class ResolutionAction(StrEnum):
    MATCH = "MATCH"
    UNMATCH = "UNMATCH"
    RECORD_PAYMENT = "RECORD_PAYMENT"
    REFUND_DUPLICATE = "REFUND_DUPLICATE"
    WRITE_OFF = "WRITE_OFF"


@dataclass(frozen=True)
class ResolutionRequest:
    exception_id: int
    action: ResolutionAction
    reason: str | None = None
    approved_by: str | None = None
    payment_ids: tuple[int, ...] = ()
    line_ids: tuple[int, ...] = ()
    match_id: int | None = None
    unit_id: int | None = None
    payer_name: str | None = None


@dataclass
class _Items:
    """The exception's own lines, payments and refunds, and the accounts of those lines."""

    lines: list[StatementLineRow]
    payments: list[Payment]
    reversal_ids: list[int]
    accounts: dict[int, StatementAccount]


@dataclass(frozen=True)
class _Resolving:
    """One resolution under way: the open exception and what it owns, the request and its checked reason
    and approver, the closed day it corrects (if any), and who acts when, in which transaction."""

    session: AsyncSession
    principal: Principal
    project: Project
    exception: ReconciliationException
    items: _Items
    request: ResolutionRequest
    reason: str | None
    approver: str | None
    closed: dt.date | None
    signer: ReceiptSigner
    now: dt.datetime

    def described(self, text: str) -> str:
        return f"{text} (correction of closed day {self.closed})" if self.closed else text


async def resolve_exception(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    request: ResolutionRequest,
    signer: ReceiptSigner,
    now: dt.datetime,
) -> ReconciliationException:
    """Resolve an OPEN exception as `request.action` says (see the module docstring)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        exception = await session.get(ReconciliationException, request.exception_id, with_for_update=True)
        if exception is None or not knows_project_records(principal, project_id=exception.project_id):
            raise NotFound("No such reconciliation exception.", field="exceptionId")
        project = await reconciled_project(session, principal, exception.project_id)
        if exception.status is not ExceptionStatus.OPEN:
            raise Conflict("This exception is resolved already.", field="exceptionId")
        items = await _items(session, exception)
        resolving = _Resolving(
            session=session,
            principal=principal,
            project=project,
            exception=exception,
            items=items,
            request=request,
            reason=optional_text(request.reason, "reason", max_length=500),
            approver=optional_text(request.approved_by, "approvedBy", max_length=200),
            closed=await _closed_day(session, project, items, exception),
            signer=signer,
            now=now,
        )
        resolution = await _RESOLVERS[request.action](resolving)
        exception.status = ExceptionStatus.RESOLVED
        exception.resolution = resolution
        exception.resolved_by = principal.user_id
        exception.resolved_at = now
        exception.resolution_reason = resolving.reason
        exception.approved_by = resolving.approver
        exception.corrects_closed_day = resolving.closed
        await session.flush()
        return exception


async def _items(session: AsyncSession, exception: ReconciliationException) -> _Items:
    links = (
        await session.scalars(
            select(ExceptionLink).where(ExceptionLink.exception_id == exception.id, ExceptionLink.related.is_(False))
        )
    ).all()
    line_ids = [link.line_id for link in links if link.line_id is not None]
    payment_ids = [link.payment_id for link in links if link.payment_id is not None]
    lines = list((await session.scalars(select(StatementLineRow).where(StatementLineRow.id.in_(line_ids)))).all()) if line_ids else []
    payments = list((await session.scalars(select(Payment).where(Payment.id.in_(payment_ids)))).all()) if payment_ids else []
    accounts = {
        account.id: account
        for account in await session.scalars(
            select(StatementAccount).where(StatementAccount.project_id == exception.project_id)
        )
    }
    return _Items(lines, payments, [link.reversal_id for link in links if link.reversal_id is not None], accounts)


async def _closed_day(
    session: AsyncSession, project: Project, items: _Items, exception: ReconciliationException
) -> dt.date | None:
    """The exception's day, if that day is closed for an account it concerns."""
    if items.lines:
        account_ids = {line.account_id for line in items.lines}
    else:
        channels = {payment.channel for payment in items.payments}
        account_ids = {a.id for a in items.accounts.values() if a.channel in channels}
    if not account_ids:
        return None
    closed = await session.scalar(
        select(DailyClose.day).where(DailyClose.account_id.in_(account_ids), DailyClose.day == exception.day).limit(1)
    )
    return closed


async def _post(resolving: _Resolving, draft: JournalDraft | None) -> int | None:
    if draft is None:
        return None
    (entry,) = await write_journal(
        resolving.session,
        project_id=resolving.project.id,
        drafts=[draft],
        occurred_at=resolving.now,
        created_by=resolving.principal.user_id,
    )
    return entry.id


async def _free(session: AsyncSession, *, line_ids: Sequence[int] = (), payment_ids: Sequence[int] = ()) -> None:
    """Refuse items a match owns already; close the OPEN exceptions that owned them (they are matched now)."""
    if line_ids and await session.scalar(held_line_ids(list(line_ids)).limit(1)):
        raise BadInput("A chosen statement line is matched already; unmatch it first.", field="lineIds")
    if payment_ids and await session.scalar(held_payment_ids(list(payment_ids)).limit(1)):
        raise BadInput("A chosen payment is matched already; unmatch it first.", field="paymentIds")


async def _match(
    resolving: _Resolving,
    *,
    lines: Sequence[StatementLineRow],
    payments: Sequence[Payment],
    reversal_ids: Sequence[int] = (),
    step: str,
    explanation: list[dict[str, object]],
    draft: JournalDraft | None,
) -> ReconciliationMatch:
    session = resolving.session
    difference = sum((line.amount for line in lines), Decimal("0.00")) - sum(
        (payment.amount for payment in payments), Decimal("0.00")
    )
    match = ReconciliationMatch(
        project_id=resolving.project.id,
        step=step,
        explanation=explanation,
        amount_difference=difference if payments else Decimal("0.00"),
        journal_entry_id=await _post(resolving, draft),
        corrects_closed_day=resolving.closed,
        created_by=resolving.principal.user_id,
        created_at=resolving.now,
    )
    session.add(match)
    await session.flush()
    session.add_all(
        [MatchLink(match_id=match.id, line_id=line.id) for line in lines]
        + [MatchLink(match_id=match.id, payment_id=payment.id) for payment in payments]
        + [MatchLink(match_id=match.id, reversal_id=reversal_id) for reversal_id in reversal_ids]
    )
    await session.flush()
    return match


def _bank_lines(items: _Items, lines: Sequence[StatementLineRow]) -> list[StatementLineRow]:
    return [line for line in lines if items.accounts[line.account_id].kind is StatementAccountKind.BANK]


def _money_moved(
    items: _Items,
    lines: Sequence[StatementLineRow],
    payments: Sequence[Payment],
    *,
    fee_explains: bool,
    description: str,
) -> JournalDraft | None:
    """What pairing `lines` with `payments` by hand moves: bank lines take the money out of clearing, and
    a difference goes to channel fees (when a fee explains it) or is written off."""
    if not payments:
        return None
    channel = payments[0].channel.value
    postings: list[Posting] = []
    banked = _bank_lines(items, lines)
    for line in banked:
        postings.extend(
            post_bank_receipt(bank=items.accounts[line.account_id].name, channel=channel, amount=line.amount, description="").postings
        )
    difference = sum((line.amount for line in lines), Decimal("0.00")) - sum((p.amount for p in payments), Decimal("0.00"))
    if difference:
        if fee_explains and difference < 0:
            postings.extend(post_channel_fee(channel=channel, amount=difference, description="").postings)
        else:
            postings.extend(post_write_off(account=clearing_account(channel), difference=difference, description="").postings)
    if not postings:
        return None
    return JournalDraft("RECONCILIATION", description, tuple(postings))


async def _resolve_match(resolving: _Resolving) -> Resolution:
    session, request, items, exception = resolving.session, resolving.request, resolving.items, resolving.exception
    chosen_lines = (
        list((await session.scalars(select(StatementLineRow).where(StatementLineRow.id.in_(request.line_ids)))).all())
        if request.line_ids
        else []
    )
    if len(chosen_lines) != len(set(request.line_ids)) or any(
        items.accounts.get(line.account_id) is None for line in chosen_lines
    ):
        raise NotFound("No such statement line in this project.", field="lineIds")
    chosen_payments = (
        list((await session.scalars(select(Payment).where(Payment.id.in_(request.payment_ids)))).all())
        if request.payment_ids
        else []
    )
    if len(chosen_payments) != len(set(request.payment_ids)) or any(
        p.project_id != resolving.project.id for p in chosen_payments
    ):
        raise NotFound("No such payment in this project.", field="paymentIds")
    await _free(session, line_ids=[line.id for line in chosen_lines], payment_ids=[p.id for p in chosen_payments])
    lines = items.lines + chosen_lines
    payments = items.payments + chosen_payments
    if not lines or not (payments or items.reversal_ids):
        raise BadInput("A match by hand needs statement lines and payments: name what to pair this exception with.", field="paymentIds")
    difference = sum((line.amount for line in lines), Decimal("0.00")) - sum((p.amount for p in payments), Decimal("0.00"))
    fee_explains = bool(exception.fee_explains)
    if difference and not fee_explains and resolving.reason is None:
        raise BadInput(f"The amounts differ by {difference}: say why the difference is written off.", field="reason")
    await _close_other_exceptions(resolving, chosen_lines, chosen_payments)
    draft = _money_moved(
        items, lines, payments, fee_explains=fee_explains, description=resolving.described(f"matched by hand, exception {exception.id}")
    )
    match = await _match(
        resolving,
        lines=lines,
        payments=payments,
        reversal_ids=items.reversal_ids,
        step="MANUAL",
        explanation=[
            {"code": "MATCHED_BY_HAND", "facts": {"exception": exception.id, "difference": str(difference), "reason": resolving.reason}}
        ],
        draft=draft,
    )
    exception.resolution_match_id = match.id
    exception.resolution_journal_entry_id = match.journal_entry_id
    return Resolution.MATCHED


async def _close_other_exceptions(
    resolving: _Resolving, lines: Sequence[StatementLineRow], payments: Sequence[Payment]
) -> None:
    """The OPEN exceptions of the items chosen by hand are answered by this match too."""
    conditions = []
    if lines:
        conditions.append(ExceptionLink.line_id.in_([line.id for line in lines]))
    if payments:
        conditions.append(ExceptionLink.payment_id.in_([p.id for p in payments]))
    if not conditions:
        return
    others = await resolving.session.scalars(
        select(ReconciliationException)
        .join(ExceptionLink, ExceptionLink.exception_id == ReconciliationException.id)
        .where(
            ReconciliationException.status == ExceptionStatus.OPEN,
            ReconciliationException.id != resolving.exception.id,
            ExceptionLink.related.is_(False),
            or_(*conditions),
        )
    )
    for other in set(others):
        other.status = ExceptionStatus.RESOLVED
        other.resolution = Resolution.MATCHED
        other.resolved_by = resolving.principal.user_id
        other.resolved_at = resolving.now
        other.resolution_reason = f"matched by hand with exception {resolving.exception.id}"


async def _resolve_unmatch(resolving: _Resolving) -> Resolution:
    session, request, reason, exception = resolving.session, resolving.request, resolving.reason, resolving.exception
    if request.match_id is None:
        raise BadInput("Name the match to undo.", field="matchId")
    if reason is None:
        raise BadInput("Say why the match is undone.", field="reason")
    match = await session.get(ReconciliationMatch, request.match_id, with_for_update=True)
    if match is None or match.project_id != resolving.project.id:
        raise NotFound("No such match in this project.", field="matchId")
    if match.undone_at is not None:
        raise Conflict("This match was undone already.", field="matchId")
    if match.journal_entry_id is not None:
        reversed_lines = (
            await session.scalars(select(JournalLine).where(JournalLine.entry_id == match.journal_entry_id).order_by(JournalLine.line_no))
        ).all()
        draft = JournalDraft(
            "UNMATCH",
            resolving.described(f"match {match.id} undone: {reason}"),
            tuple(
                Posting(account=line.account, debit=line.credit, credit=line.debit, unit_id=line.unit_id, payment_id=line.payment_id)
                for line in reversed_lines
            ),
        )
        exception.resolution_journal_entry_id = await _post(resolving, draft)
    await session.execute(delete(MatchLink).where(MatchLink.match_id == match.id))
    await session.execute(delete(SettledDay).where(SettledDay.match_id == match.id))
    match.line_id = match.payment_id = None
    match.undone_at = resolving.now
    match.undone_by = resolving.principal.user_id
    match.undo_reason = reason
    exception.resolution_match_id = match.id
    return Resolution.UNMATCHED


def _one_line(items: _Items, *, what: str) -> StatementLineRow:
    if len(items.lines) != 1 or items.lines[0].amount <= 0:
        raise BadInput(f"Only an exception about one incoming statement line can {what}.", field="action")
    return items.lines[0]


def _reference(line: StatementLineRow) -> str | None:
    return line.transaction_id or line.order_no or line.bank_reference or line.end_to_end_id


async def _record_from_line(
    resolving: _Resolving, line: StatementLineRow, *, unit_id: int, payer_name: str | None, allocate: bool
) -> Payment:
    account = resolving.items.accounts[line.account_id]
    channel = PaymentChannel.BANK_TRANSFER if account.kind is StatementAccountKind.BANK else account.channel
    return await take_payment(
        resolving.session,
        resolving.principal,
        now=resolving.now,
        signer=resolving.signer,
        request=PaymentRequest(
            unit_id=unit_id,
            channel=channel,
            amount=line.amount,
            payer_name=payer_name or line.counterparty_name or "未知付款人",
            external_reference=_reference(line),
            paid_at=min(line.booked_at, resolving.now),
            allocate=allocate,
        ),
        idempotency_key=f"statement-line-{line.id}",
    )


async def _resolve_record(resolving: _Resolving) -> Resolution:
    request, items, exception = resolving.request, resolving.items, resolving.exception
    if exception.kind not in ("CHANNEL_ONLY", "BANK_UNMATCHED"):
        raise BadInput("Only a CHANNEL_ONLY or BANK_UNMATCHED line can be recorded as a payment.", field="action")
    line = _one_line(items, what="be recorded as a payment")
    if request.unit_id is None:
        raise BadInput("Name the unit the payment is for.", field="unitId")
    payment = await _record_from_line(resolving, line, unit_id=request.unit_id, payer_name=request.payer_name, allocate=True)
    if payment.project_id != resolving.project.id:
        raise NotFound("No such unit.", field="unitId")
    draft = _money_moved(
        items, [line], [payment], fee_explains=False, description=resolving.described(f"line {line.id} recorded as payment {payment.id}")
    )
    match = await _match(
        resolving,
        lines=[line],
        payments=[payment],
        step="RECORDED",
        explanation=[{"code": "RECORDED_FROM_LINE", "facts": {"payment": payment.id, "line": line.id}}],
        draft=draft,
    )
    exception.resolution_payment_id = payment.id
    exception.resolution_match_id = match.id
    return Resolution.RECORDED_PAYMENT


async def _resolve_refund(resolving: _Resolving) -> Resolution:
    session, items, exception = resolving.session, resolving.items, resolving.exception
    if exception.kind != "DUPLICATE_CHARGE":
        raise BadInput("Only a DUPLICATE_CHARGE is refunded as a duplicate.", field="action")
    if resolving.reason is None:
        raise BadInput("Say why the duplicate is refunded.", field="reason")
    if items.payments:
        duplicate = items.payments[0]
    else:
        # The channel charged the owner twice for one order Courtyard recorded once: the second charge
        # is the owner's money too, kept as credit of the first payment's unit and given back.
        line = _one_line(items, what="be refunded")
        first = await session.scalar(
            select(Payment)
            .join(ExceptionLink, ExceptionLink.payment_id == Payment.id)
            .where(ExceptionLink.exception_id == exception.id, ExceptionLink.related.is_(True))
        )
        if first is None:
            raise BadInput("This duplicate names no payment whose owner was charged twice.", field="exceptionId")
        duplicate = await _record_from_line(resolving, line, unit_id=first.unit_id, payer_name=first.payer_name, allocate=False)
    refund = await give_refund(
        session,
        resolving.principal,
        now=resolving.now,
        payment_id=duplicate.id,
        amount=duplicate.amount,
        reason=resolving.described(resolving.reason),
    )
    match = await _match(
        resolving,
        lines=items.lines,
        payments=[duplicate],
        step="REFUNDED",
        explanation=[{"code": "DUPLICATE_REFUNDED", "facts": {"payment": duplicate.id, "refund": refund.id, "amount": str(refund.amount)}}],
        draft=_money_moved(
            items, items.lines, [duplicate], fee_explains=False, description=resolving.described(f"duplicate payment {duplicate.id} refunded")
        ),
    )
    exception.resolution_payment_id = duplicate.id
    exception.resolution_match_id = match.id
    return Resolution.REFUNDED_DUPLICATE


async def _resolve_write_off(resolving: _Resolving) -> Resolution:
    items, exception, reason, approver = resolving.items, resolving.exception, resolving.reason, resolving.approver
    if reason is None:
        raise BadInput("A write-off needs a reason.", field="reason")
    if approver is None:
        raise BadInput("A write-off needs the name of who approved it.", field="approvedBy")
    difference = exception.difference or Decimal("0.00")
    if not difference:
        return Resolution.WRITTEN_OFF
    banked = _bank_lines(items, items.lines)
    if banked and not items.payments:
        account = bank_account(items.accounts[banked[0].account_id].name)
    elif items.payments:
        account = clearing_account(items.payments[0].channel.value)
    elif items.lines:
        account = clearing_account(items.accounts[items.lines[0].account_id].channel.value)
    else:
        channel = await resolving.session.scalar(
            select(Payment.channel)
            .join(ExceptionLink, ExceptionLink.payment_id == Payment.id)
            .where(ExceptionLink.exception_id == exception.id)
        )
        account = clearing_account((channel or PaymentChannel.WECHAT).value)
    draft = post_write_off(
        account=account,
        difference=difference,
        description=resolving.described(f"exception {exception.id} ({exception.kind}) written off: {reason}; approved by {approver}"),
    )
    exception.resolution_journal_entry_id = await _post(resolving, draft)
    return Resolution.WRITTEN_OFF


_RESOLVERS = {
    ResolutionAction.MATCH: _resolve_match,
    ResolutionAction.UNMATCH: _resolve_unmatch,
    ResolutionAction.RECORD_PAYMENT: _resolve_record,
    ResolutionAction.REFUND_DUPLICATE: _resolve_refund,
    ResolutionAction.WRITE_OFF: _resolve_write_off,
}
