"""Proving a project's books: debits = credits (in total and per entry), every bill's paid amounts equal its
allocations and its amount due its receivable balance, every payment is allocated, given back, or held
as the unit's prepaid credit, and every bank account's journal balance (`BANK:<account>`) equals the
statement lines reconciliation has taken into the books: the lines of its matches that stand and the lines
written off.

A channel's clearing account (`CLEARING:<channel>`) is not compared with its statements line by line: it
holds what was paid on the channel and not yet paid out, and a channel's lines and payouts arrive on
different days; what proves it is that every settlement, fee and write-off that moved it is one of the
matches or resolutions the bank side above accounts for, and the daily close reports its balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, func, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance_sql import amount_due_fen, fen
from billing.guards import get_project
from billing.journal import posted_balance_fen, sum_fen
from billing.ledger import PREPAID_CREDIT, RECEIVABLE, bank_account
from billing.money import from_fen
from billing.policy import may_see_ledger
from billing.reconciliation.holdings import held_line_ids
from db.models import (
    Bill,
    ExceptionLink,
    ExceptionStatus,
    ReconciliationException,
    Resolution,
    StatementAccount,
    StatementAccountKind,
    StatementLineRow,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentAllocation,
    PaymentReversal,
)
from kernel.principal import Principal

__all__ = ["LedgerReport", "check_project_ledger", "ledger_check"]

_PROBLEMS_SHOWN = 20


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


def _yuan(fen_value: int | None) -> Decimal:
    return from_fen(int(fen_value or 0))


async def ledger_check(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> LedgerReport:
    """The project's books proved (see the module docstring), for its finance staff."""
    async with session_factory() as session:
        await get_project(session, principal, project_id, allowed=may_see_ledger)
        return await check_project_ledger(session, project_id)


async def check_project_ledger(session: AsyncSession, project_id: int) -> LedgerReport:
    """`ledger_check` without the permission check, for jobs and tests."""
    problems: list[str] = []
    in_project = JournalLine.entry_id.in_(select(JournalEntry.id).where(JournalEntry.project_id == project_id))

    totals = (
        await session.execute(
            select(
                sum_fen(fen(JournalLine.debit)),
                sum_fen(fen(JournalLine.credit)),
                func.count(func.distinct(JournalLine.entry_id)),
            ).where(in_project)
        )
    ).one()
    total_debit, total_credit, entries = _yuan(totals[0]), _yuan(totals[1]), int(totals[2])
    if total_debit != total_credit:
        problems.append(f"debits {total_debit} differ from credits {total_credit}")
    unbalanced = await session.execute(
        select(JournalLine.entry_id, sum_fen(fen(JournalLine.debit)), sum_fen(fen(JournalLine.credit)))
        .where(in_project)
        .group_by(JournalLine.entry_id)
        .having(sum_fen(fen(JournalLine.debit)) != sum_fen(fen(JournalLine.credit)))
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
            sum_fen(fen(PaymentAllocation.principal)).label("principal"),
            sum_fen(fen(PaymentAllocation.late_fee)).label("late_fee"),
        )
        .group_by(PaymentAllocation.bill_id)
        .subquery()
    )
    receivable = (
        select(JournalLine.bill_id.label("bill_id"), posted_balance_fen(credit_normal=False).label("balance"))
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
            sum_fen(fen(PaymentAllocation.principal) + fen(PaymentAllocation.late_fee)).label("allocated"),
        )
        .group_by(PaymentAllocation.payment_id)
        .subquery()
    )
    payment_returned = (
        select(
            PaymentReversal.payment_id.label("payment_id"),
            sum_fen(fen(PaymentReversal.amount)).label("returned"),
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
            select(JournalLine.unit_id, posted_balance_fen(credit_normal=True))
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
    problems.extend(await _bank_accounts_match_statements(session, project_id, in_project))
    return LedgerReport(
        project_id=project_id,
        total_debit=total_debit,
        total_credit=total_credit,
        entries=entries,
        bills_checked=bills_checked,
        payments_checked=len(payment_rows),
        problems=tuple(problems[:_PROBLEMS_SHOWN]),
    )



async def _bank_accounts_match_statements(session: AsyncSession, project_id: int, in_project: object) -> list[str]:
    """Every bank account's journal balance against the statement lines reconciliation booked into it."""
    problems = []
    banks = (
        await session.scalars(
            select(StatementAccount).where(StatementAccount.project_id == project_id, StatementAccount.kind == StatementAccountKind.BANK)
        )
    ).all()
    for bank in banks:
        matched = held_line_ids()  # an undone match holds nothing
        written_off = (
            select(ExceptionLink.line_id)
            .join(ReconciliationException, ReconciliationException.id == ExceptionLink.exception_id)
            .where(
                ExceptionLink.related.is_(False),
                ReconciliationException.status == ExceptionStatus.RESOLVED,
                ReconciliationException.resolution == Resolution.WRITTEN_OFF,
            )
        )
        booked_lines = await session.scalar(
            select(sum_fen(fen(StatementLineRow.amount))).where(
                StatementLineRow.account_id == bank.id, or_(StatementLineRow.id.in_(matched), StatementLineRow.id.in_(written_off))
            )
        )
        journal = await session.scalar(
            select(posted_balance_fen(credit_normal=False)).where(in_project, JournalLine.account == bank_account(bank.name))  # type: ignore[arg-type]
        )
        if int(booked_lines or 0) != int(journal or 0):
            problems.append(
                f"bank account {bank.name}: the journal holds {_yuan(journal)}, its matched and written-off"
                f" statement lines add up to {_yuan(booked_lines)}"
            )
    return problems
