"""Arrears and repairs: what billing answers dispatch when a non-urgent repair comes in for an owner.

Off by default. With a project's threshold set (`setDunningPolicy(repairBlockThreshold: …)`), an owner
whose overdue amount (bills past their due date on the project's local today, disputed ones left out) is
above it has non-urgent repairs in their units refused with the amount and how to pay; an owner on a
payment plan is not. It is asked at the moment the repair comes in, so a payment that brings the arrears
under the threshold lifts the refusal at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import amount_due_fen, is_overdue_sql
from billing.dunning.holds import active_plan
from billing.dunning.passes import project_today
from billing.dunning.policies import load_settings
from billing.money import from_fen
from db.models import Bill, BillDispute, Project
from kernel.errors import InArrears
from kernel.vocabulary import Locale

__all__ = ["DEFAULT_PAYMENT_INSTRUCTIONS", "ArrearsHold", "arrears_hold", "refuse_repair_in_arrears"]

DEFAULT_PAYMENT_INSTRUCTIONS = {
    Locale.ZH_CN: "请通过业主小程序【缴费】或到物业服务中心缴纳。",
    Locale.EN: "Pay in the owner app (Pay) or at the property office.",
}


@dataclass(frozen=True)
class ArrearsHold:
    amount_overdue: Decimal
    threshold: Decimal
    how_to_pay: str
    locale: Locale


async def arrears_hold(session: AsyncSession, *, project_id: int, party_id: int, now: dt.datetime) -> ArrearsHold | None:
    """Whether the party's overdue arrears hold back their non-urgent repairs now (None: they do not)."""
    settings = await load_settings(session, project_id)
    if settings.repair_block_threshold is None:
        return None
    project = await session.get(Project, project_id)
    assert project is not None
    today = project_today(project, now)
    if await active_plan(session, party_id, today) is not None:
        return None
    disputed = select(BillDispute.bill_id).where(BillDispute.project_id == project_id, BillDispute.resolved_at.is_(None))
    overdue = from_fen(
        int(
            await session.scalar(
                select(func.coalesce(func.sum(amount_due_fen()), 0)).where(
                    Bill.project_id == project_id,
                    Bill.party_id == party_id,
                    is_overdue_sql(today),
                    Bill.id.not_in(disputed),
                )
            )
            or 0
        )
    )
    if overdue <= settings.repair_block_threshold:
        return None
    how_to_pay = settings.payment_instructions or DEFAULT_PAYMENT_INSTRUCTIONS[project.locale]
    return ArrearsHold(overdue, settings.repair_block_threshold, how_to_pay, project.locale)


def _notice(hold: ArrearsHold) -> str:
    owed, threshold = f"¥{hold.amount_overdue:,.2f}", f"¥{hold.threshold:,.2f}"
    if hold.locale is Locale.EN:
        return (
            f"{owed} of your fees is overdue (above {threshold}), so non-urgent repairs wait. {hold.how_to_pay} "
            "Once paid, report the repair again; urgent faults (leaks, power, gas, lifts, fire safety) always go through."
        )
    return (
        f"您有逾期未缴的物业费{owed}（超过{threshold}），非紧急报修暂缓受理。{hold.how_to_pay}缴费后即可报修；"
        "漏水、停电、燃气、电梯、消防等紧急报修不受影响。"
    )


async def refuse_repair_in_arrears(session: AsyncSession, *, project_id: int, party_id: int, now: dt.datetime) -> None:
    """Raise IN_ARREARS, with the amount and how to pay, when the party's arrears hold back a non-urgent
    repair now; the caller decides what is urgent (`dispatch.urgency`)."""
    hold = await arrears_hold(session, project_id=project_id, party_id=party_id, now=now)
    if hold is None:
        return
    raise InArrears(
        f"Non-urgent repairs wait while {hold.amount_overdue} is overdue (above {hold.threshold}).",
        amount_overdue=hold.amount_overdue,
        threshold=hold.threshold,
        how_to_pay=hold.how_to_pay,
        notice=_notice(hold),
        field="unitId",
    )
