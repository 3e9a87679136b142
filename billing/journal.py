"""Writing journal entries, reading balances from them, and proving a project's books balance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance import credit_left
from billing.balance_sql import amount_due_fen, fen
from billing.guards import get_project
from billing.ledger import PREPAID_CREDIT, RECEIVABLE, JournalDraft, Posting
from billing.policy import may_see_ledger
from db.models import (
    Bill,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentAllocation,
    PaymentReversal,
)
from kernel.principal import Principal

__all__ = [
    "JOURNAL_LINE_COLUMNS",
    "LedgerReport",
    "check_project_ledger",
    "credit_balances",
    "journal_line_record",
    "ledger_check",
    "unapplied_credit_by_payment",
    "write_journal",
]

_ZERO = Decimal("0.00")
_PROBLEMS_SHOWN = 20


def _fen(amount: Decimal) -> int:
    return int(amount.scaleb(2))


JOURNAL_LINE_COLUMNS = ("entry_id", "line_no", "account", "unit_id", "bill_id", "payment_id", "debit", "credit")


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


def _sum_fen(expression: object) -> object:
    return type_coerce(func.coalesce(func.sum(expression), 0), BigInteger)


def _balance(*, credit_normal: bool) -> object:
    debit, credit = fen(JournalLine.debit), fen(JournalLine.credit)
    return _sum_fen(credit - debit if credit_normal else debit - credit)


async def credit_balances(session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, Decimal]:
    """Each unit's prepaid credit (only units that have some), from its PREPAID_CREDIT postings."""
    if not unit_ids:
        return {}
    wanted = set(unit_ids)
    # A range over the (unit, account) index rather than thousands of bound parameters.
    rows = await session.execute(
        select(JournalLine.unit_id, _balance(credit_normal=True))
        .where(JournalLine.unit_id.between(min(wanted), max(wanted)), JournalLine.account == PREPAID_CREDIT)
        .group_by(JournalLine.unit_id)
    )
    return {unit_id: _yuan(total) for unit_id, total in rows if total > 0 and unit_id in wanted}


async def unapplied_credit_by_payment(session: AsyncSession, unit_id: int) -> list[tuple[Payment, Decimal]]:
    """The unit's payments that still hold credit, oldest first, with how much each holds."""
    allocated = (
        select(_sum_fen(fen(PaymentAllocation.principal) + fen(PaymentAllocation.late_fee)))
        .where(PaymentAllocation.payment_id == Payment.id)
        .scalar_subquery()
    )
    given_back = (
        select(_sum_fen(fen(PaymentReversal.amount)))
        .where(PaymentReversal.payment_id == Payment.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Payment, allocated, given_back)
        .where(Payment.unit_id == unit_id)
        .order_by(Payment.paid_at, Payment.id)
    )
    result: list[tuple[Payment, Decimal]] = []
    for payment, allocated_fen, given_back_fen in rows:
        left = credit_left(amount=payment.amount, allocated=_yuan(allocated_fen), given_back=_yuan(given_back_fen))
        if left > 0:
            result.append((payment, left))
    return result


@dataclass(frozen=True)
class LedgerReport:
    """What `ledger_check` found; `problems` lists the first few discrepancies in words."""

    project_id: int
    total_debit: Decimal
    total_credit: Decimal
    entries: int
    bills_checked: int
    payments_checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _yuan(fen: int | None) -> Decimal:
    return Decimal(int(fen or 0)).scaleb(-2)


async def ledger_check(session: AsyncSession, principal: Principal, *, project_id: int) -> LedgerReport:
    """Prove the project's books: debits = credits (in total and per entry), every bill's paid amounts
    equal its allocations and its amount due equals its receivable balance, and every payment is fully
    allocated, given back, or held as the unit's prepaid credit."""
    await get_project(session, principal, project_id, allowed=may_see_ledger)
    return await check_project_ledger(session, project_id)


async def check_project_ledger(session: AsyncSession, project_id: int) -> LedgerReport:
    """`ledger_check` without the permission check, for jobs and tests."""
    problems: list[str] = []
    in_project = JournalLine.entry_id.in_(select(JournalEntry.id).where(JournalEntry.project_id == project_id))

    totals = (
        await session.execute(
            select(
                _sum_fen(fen(JournalLine.debit)),
                _sum_fen(fen(JournalLine.credit)),
                func.count(func.distinct(JournalLine.entry_id)),
            ).where(in_project)
        )
    ).one()
    total_debit, total_credit, entries = _yuan(totals[0]), _yuan(totals[1]), int(totals[2])
    if total_debit != total_credit:
        problems.append(f"debits {total_debit} differ from credits {total_credit}")
    unbalanced = await session.execute(
        select(JournalLine.entry_id, _sum_fen(fen(JournalLine.debit)), _sum_fen(fen(JournalLine.credit)))
        .where(in_project)
        .group_by(JournalLine.entry_id)
        .having(_sum_fen(fen(JournalLine.debit)) != _sum_fen(fen(JournalLine.credit)))
        .order_by(JournalLine.entry_id)
        .limit(_PROBLEMS_SHOWN)
    )
    problems.extend(
        f"journal entry {entry_id}: debits {_yuan(debit)} differ from credits {_yuan(credit)}"
        for entry_id, debit, credit in unbalanced
    )

    allocations = (
        select(
            PaymentAllocation.bill_id.label("bill_id"),
            _sum_fen(fen(PaymentAllocation.principal)).label("principal"),
            _sum_fen(fen(PaymentAllocation.late_fee)).label("late_fee"),
        )
        .group_by(PaymentAllocation.bill_id)
        .subquery()
    )
    receivable = (
        select(JournalLine.bill_id.label("bill_id"), _balance(credit_normal=False).label("balance"))
        .where(JournalLine.account == RECEIVABLE, JournalLine.bill_id.is_not(None))
        .group_by(JournalLine.bill_id)
        .subquery()
    )
    allocated_principal = type_coerce(func.coalesce(allocations.c.principal, 0), BigInteger)
    allocated_late_fee = type_coerce(func.coalesce(allocations.c.late_fee, 0), BigInteger)
    journal_due = type_coerce(func.coalesce(receivable.c.balance, 0), BigInteger)
    bill_due = amount_due_fen()
    bills_checked = int(
        await session.scalar(select(func.count()).select_from(Bill).where(Bill.project_id == project_id)) or 0
    )
    mismatched = await session.execute(
        select(
            Bill.id,
            Bill.principal_paid,
            Bill.late_fee_paid,
            allocated_principal,
            allocated_late_fee,
            bill_due,
            journal_due,
        )
        .outerjoin(allocations, allocations.c.bill_id == Bill.id)
        .outerjoin(receivable, receivable.c.bill_id == Bill.id)
        .where(
            Bill.project_id == project_id,
            (fen(Bill.principal_paid) != allocated_principal)
            | (fen(Bill.late_fee_paid) != allocated_late_fee)
            | (bill_due != journal_due),
        )
        .order_by(Bill.id)
        .limit(_PROBLEMS_SHOWN)
    )
    for bill_id, principal_paid, late_fee_paid, alloc_principal, alloc_late_fee, due, journal in mismatched:
        problems.append(
            f"bill {bill_id}: paid {principal_paid} + late fee {late_fee_paid}, allocations"
            f" {_yuan(alloc_principal)} + {_yuan(alloc_late_fee)}; due {_yuan(due)}, journal receivable {_yuan(journal)}"
        )

    payment_allocated = (
        select(
            PaymentAllocation.payment_id.label("payment_id"),
            _sum_fen(fen(PaymentAllocation.principal) + fen(PaymentAllocation.late_fee)).label("allocated"),
        )
        .group_by(PaymentAllocation.payment_id)
        .subquery()
    )
    payment_returned = (
        select(
            PaymentReversal.payment_id.label("payment_id"),
            _sum_fen(fen(PaymentReversal.amount)).label("returned"),
        )
        .group_by(PaymentReversal.payment_id)
        .subquery()
    )
    credit_left = type_coerce(
        fen(Payment.amount)
        - func.coalesce(payment_allocated.c.allocated, 0)
        - func.coalesce(payment_returned.c.returned, 0),
        BigInteger,
    )
    payment_rows = (
        await session.execute(
            select(Payment.id, Payment.unit_id, credit_left)
            .outerjoin(payment_allocated, payment_allocated.c.payment_id == Payment.id)
            .outerjoin(payment_returned, payment_returned.c.payment_id == Payment.id)
            .where(Payment.project_id == project_id)
        )
    ).all()
    held_by_unit: dict[int, int] = {}
    for payment_id, unit_id, left in payment_rows:
        if int(left) < 0:
            problems.append(f"payment {payment_id}: allocated and given back {_yuan(-int(left))} more than it brought")
        held_by_unit[unit_id] = held_by_unit.get(unit_id, 0) + int(left)
    journal_credit = {
        unit_id: int(balance)
        for unit_id, balance in await session.execute(
            select(JournalLine.unit_id, _balance(credit_normal=True))
            .where(in_project, JournalLine.account == PREPAID_CREDIT)
            .group_by(JournalLine.unit_id)
        )
    }
    for unit_id in sorted(set(held_by_unit) | set(journal_credit)):
        held, booked = held_by_unit.get(unit_id, 0), journal_credit.get(unit_id, 0)
        if held != booked:
            problems.append(
                f"unit {unit_id}: payments hold {_yuan(held)} of credit, the journal's prepaid credit is {_yuan(booked)}"
            )
    return LedgerReport(
        project_id=project_id,
        total_debit=total_debit,
        total_credit=total_credit,
        entries=entries,
        bills_checked=bills_checked,
        payments_checked=len(payment_rows),
        problems=tuple(problems[:_PROBLEMS_SHOWN]),
    )

