"""At send time, whether a dunning message still says something true: the relay asks
(`notifications.relay.relay_once(..., still_wanted=STILL_WANTED)`) just before it sends one, in the
transaction that would send it, and cancels it when the answer is no.

A message is still wanted while its notice's bills owe exactly what it says (a payment or an adjustment
since changed that: the campaign stops for what was paid, and the next pass speaks of what is left), none
of them is disputed, and the owner is not on a payment plan. A cancelled message counts as never heard,
so the ladder may send its level again once it is true again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import amount_due_fen
from db.models import Bill, BillDispute, DunningNotice, DunningNoticeBill, Message, PaymentPlan, Project
from notifications.kinds import MessageKind
from notifications.relay import StillWanted

__all__ = ["STILL_WANTED", "notice_still_true"]


async def notice_still_true(session: AsyncSession, message: Message, now: dt.datetime) -> bool:
    """Whether the dunning notice `message` carries may still go out at `now`; a message that is no
    dunning notice's is wanted as it is."""
    notice = await session.scalar(
        select(DunningNotice).where(
            or_(DunningNotice.message_id == message.id, DunningNotice.follow_up_message_id == message.id)
        )
    )
    if notice is None:
        return True
    bills = select(DunningNoticeBill.bill_id).where(DunningNoticeBill.notice_id == notice.id)
    owed = await session.scalar(select(func.coalesce(func.sum(amount_due_fen()), 0)).where(Bill.id.in_(bills)))
    if int(owed or 0) != int(notice.amount_due.scaleb(2)):
        return False
    disputed = await session.scalar(
        select(func.count()).select_from(BillDispute).where(BillDispute.bill_id.in_(bills), BillDispute.resolved_at.is_(None))
    )
    if disputed:
        return False
    zone = await session.scalar(select(Project.timezone).where(Project.id == notice.project_id))
    today = now.astimezone(ZoneInfo(zone or "UTC")).date()
    on_plan = await session.scalar(
        select(func.count())
        .select_from(PaymentPlan)
        .where(
            PaymentPlan.party_id == notice.party_id,
            PaymentPlan.cancelled_at.is_(None),
            PaymentPlan.starts_on <= today,
            PaymentPlan.ends_on >= today,
        )
    )
    return not on_plan


STILL_WANTED: Mapping[str, StillWanted] = {
    kind: notice_still_true
    for kind in (MessageKind.BILL_REMINDER, MessageKind.OVERDUE_NOTICE, MessageKind.FINAL_NOTICE, MessageKind.DUNNING_FOLLOW_UP)
}
"""The check for every kind dunning sends, as the relay takes it."""
