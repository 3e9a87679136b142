"""Correcting an issued bill without editing it: an adjustment row beside it, with its journal entry, the
reason and the acting user."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.balance import bill_status, principal_due
from billing.guards import lock_bill
from billing.journal import write_journal
from billing.ledger import post_adjustment
from billing.payments import checked_amount
from billing.policy import may_adjust_bills
from billing.reports.facts import BillMoved, record_bill_changes
from db.models import Adjustment, AdjustmentKind
from db.unit_of_work import unit_of_work
from kernel.errors import BadInput
from kernel.principal import Principal
from kernel.validation import required_text

__all__ = ["create_adjustment"]


async def create_adjustment(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    bill_id: int,
    kind: AdjustmentKind,
    amount: Decimal,
    reason: str,
) -> Adjustment:
    """A CREDIT lowers what the bill asks for (by at most its principal still due), a DEBIT raises it."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        bill = await lock_bill(session, principal, bill_id, allowed=may_adjust_bills)
        amount = checked_amount(amount, "amount")
        why = required_text(reason, "reason", max_length=500)
        if kind == AdjustmentKind.CREDIT and amount > principal_due(bill):
            raise BadInput(f"A credit may take off at most the {principal_due(bill)} the bill still asks for.", field="amount")
        bill.adjustment_amount += amount if kind == AdjustmentKind.DEBIT else -amount
        bill.status = bill_status(bill)
        adjustment = Adjustment(
            project_id=bill.project_id,
            bill_id=bill.id,
            unit_id=bill.unit_id,
            kind=kind,
            amount=amount,
            reason=why,
            created_by=principal.user_id,
        )
        session.add(adjustment)
        await session.flush()
        await write_journal(
            session,
            project_id=bill.project_id,
            drafts=[
                post_adjustment(
                    bill_id=bill.id,
                    unit_id=bill.unit_id,
                    amount=amount,
                    raises_bill=kind == AdjustmentKind.DEBIT,
                    description=f"{kind.value.lower()} adjustment of bill {bill.id}: {why}",
                )
            ],
            occurred_at=now,
            created_by=principal.user_id,
        )
        moved = amount if kind == AdjustmentKind.DEBIT else -amount
        await record_bill_changes(session, project_id=bill.project_id, moved=[BillMoved(bill.id, now, adjusted=moved)])
        return adjustment
