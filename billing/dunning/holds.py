"""What holds dunning back, kept by the finance desk: a bill the owner disputes (not chased until the
dispute is resolved) and an owner's payment plan (their accounts not chased while it runs). Both also
withdraw a message already queued: the relay's send-time check (`billing.dunning.send_check`) reads them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.dunning.passes import project_today
from billing.guards import lock_bill
from billing.policy import knows_project_records, may_manage_dunning
from db.models import BillDispute, Party, PaymentPlan, Project
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.validation import optional_text, required_text

__all__ = ["LONGEST_PAYMENT_PLAN", "REASON_MAX_LENGTH", "active_plan", "set_bill_dispute", "set_payment_plan"]

REASON_MAX_LENGTH = 500
LONGEST_PAYMENT_PLAN = dt.timedelta(days=3 * 366)


async def set_bill_dispute(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    bill_id: int,
    disputed: bool,
    reason: str | None,
    now: dt.datetime,
) -> BillDispute:
    """Open a dispute on a bill (`reason`: what the owner contests) or resolve the open one (`reason`: the
    outcome, optional). Disputing a bill already disputed answers the open dispute as it is; resolving a
    bill that is not disputed is a CONFLICT."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        bill = await lock_bill(session, principal, bill_id, allowed=may_manage_dunning)
        open_dispute = await session.scalar(
            select(BillDispute).where(BillDispute.bill_id == bill.id, BillDispute.resolved_at.is_(None))
        )
        if disputed:
            text = required_text(reason, "reason", max_length=REASON_MAX_LENGTH)
            if open_dispute is not None:
                return open_dispute
            dispute = BillDispute(project_id=bill.project_id, bill_id=bill.id, reason=text, opened_by=principal.user_id, opened_at=now)
            session.add(dispute)
            await session.flush()
            return dispute
        resolution = optional_text(reason, "reason", max_length=REASON_MAX_LENGTH)
        if open_dispute is None:
            raise Conflict("The bill is not disputed.", field="billId")
        open_dispute.resolution = resolution
        open_dispute.resolved_by = principal.user_id
        open_dispute.resolved_at = now
        await session.flush()
        return open_dispute


async def active_plan(session: AsyncSession, party_id: int, today: dt.date) -> PaymentPlan | None:
    """The party's payment plan running on `today`, if any."""
    return await session.scalar(
        select(PaymentPlan)
        .where(
            PaymentPlan.party_id == party_id,
            PaymentPlan.cancelled_at.is_(None),
            PaymentPlan.starts_on <= today,
            PaymentPlan.ends_on >= today,
        )
        .order_by(PaymentPlan.id.desc())
        .limit(1)
    )


async def set_payment_plan(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    party_id: int,
    ends_on: dt.date | None,
    note: str | None,
    now: dt.datetime,
) -> PaymentPlan:
    """Put an owner on a payment plan from today (the project's calendar) until `ends_on`, replacing the
    one running; or, `ends_on` None, end the running plan now (a CONFLICT when none runs)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        party = await session.get(Party, party_id)
        if party is None or not knows_project_records(principal, project_id=party.project_id):
            raise NotFound("No such party.", field="partyId")
        if not may_manage_dunning(principal, project_id=party.project_id):
            raise AccessDenied("Requires one of the roles ADMIN, FINANCE in this project.")
        project = await session.get(Project, party.project_id)
        assert project is not None
        today = project_today(project, now)
        running = await active_plan(session, party.id, today)
        if ends_on is None:
            if running is None:
                raise Conflict("The owner has no payment plan running.", field="endsOn")
            running.cancelled_at, running.cancelled_by = now, principal.user_id
            await session.flush()
            return running
        if ends_on < today:
            raise BadInput("A payment plan ends today or later.", field="endsOn")
        if ends_on - today > LONGEST_PAYMENT_PLAN:
            raise BadInput("A payment plan runs at most three years.", field="endsOn")
        text = required_text(note, "note", max_length=REASON_MAX_LENGTH)
        await session.execute(
            update(PaymentPlan)
            .where(PaymentPlan.party_id == party.id, PaymentPlan.cancelled_at.is_(None), PaymentPlan.ends_on >= today)
            .values(cancelled_at=now, cancelled_by=principal.user_id)
        )
        plan = PaymentPlan(
            project_id=party.project_id,
            party_id=party.id,
            starts_on=today,
            ends_on=ends_on,
            note=text,
            created_by=principal.user_id,
            created_at=now,
        )
        session.add(plan)
        await session.flush()
        return plan
