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
from collections.abc import Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.balance_sql import amount_due_fen
from db.models import Bill, BillDispute, DunningNotice, DunningNoticeBill, Message, PaymentPlan, Project
from notifications.kinds import MessageKind
from notifications.relay import SendCheck, StillWanted

__all__ = ["STILL_WANTED", "notice_still_true", "notices_still_true"]


async def notices_still_true(session: AsyncSession, messages: Sequence[Message], now: dt.datetime) -> set[int]:
    """Of `messages`, the ids of those whose dunning notice may still go out at `now` (a message that is
    no dunning notice's is wanted as it is); a handful of queries for the whole batch."""
    ids = [message.id for message in messages]
    notices: dict[int, DunningNotice] = {}
    for chunk in _chunks(ids):
        rows = await session.scalars(
            select(DunningNotice).where(or_(DunningNotice.message_id.in_(chunk), DunningNotice.follow_up_message_id.in_(chunk)))
        )
        for notice in rows.all():
            for message_id in (notice.message_id, notice.follow_up_message_id):
                if message_id is not None:
                    notices[message_id] = notice
    wanted = {message_id for message_id in ids if message_id not in notices}
    notice_ids = sorted({notice.id for notice in notices.values()})
    owed: dict[int, int] = {}
    disputed: set[int] = set()
    for chunk in _chunks(notice_ids):
        owed.update(
            (
                await session.execute(
                    select(DunningNoticeBill.notice_id, func.coalesce(func.sum(amount_due_fen()), 0))
                    .join(Bill, Bill.id == DunningNoticeBill.bill_id)
                    .where(DunningNoticeBill.notice_id.in_(chunk))
                    .group_by(DunningNoticeBill.notice_id)
                )
            ).all()
        )
        disputed.update(
            (
                await session.scalars(
                    select(DunningNoticeBill.notice_id)
                    .join(BillDispute, BillDispute.bill_id == DunningNoticeBill.bill_id)
                    .where(DunningNoticeBill.notice_id.in_(chunk), BillDispute.resolved_at.is_(None))
                    .distinct()
                )
            ).all()
        )
    zones = dict(
        (
            await session.execute(
                select(Project.id, Project.timezone).where(Project.id.in_(sorted({n.project_id for n in notices.values()})))
            )
        ).all()
    )
    today = {project_id: now.astimezone(ZoneInfo(zone or "UTC")).date() for project_id, zone in zones.items()}
    plans: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for chunk in _chunks(sorted({n.party_id for n in notices.values()})):
        rows = await session.execute(
            select(PaymentPlan.party_id, PaymentPlan.starts_on, PaymentPlan.ends_on).where(
                PaymentPlan.party_id.in_(chunk), PaymentPlan.cancelled_at.is_(None)
            )
        )
        for party_id, starts_on, ends_on in rows.all():
            plans.setdefault(party_id, []).append((starts_on, ends_on))
    for message_id, notice in notices.items():
        day = today.get(notice.project_id, now.date())
        on_plan = any(starts_on <= day <= ends_on for starts_on, ends_on in plans.get(notice.party_id, ()))
        if int(owed.get(notice.id, 0) or 0) == int(notice.amount_due.scaleb(2)) and notice.id not in disputed and not on_plan:
            wanted.add(message_id)
    return wanted


async def notice_still_true(session: AsyncSession, message: Message, now: dt.datetime) -> bool:
    """`notices_still_true` for one message."""
    return message.id in await notices_still_true(session, [message], now)


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    # Both databases cap the parameters of one statement.
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


_IN_CHUNK = 5_000

STILL_WANTED: Mapping[str, StillWanted] = {
    kind: SendCheck(notices_still_true)
    for kind in (MessageKind.BILL_REMINDER, MessageKind.OVERDUE_NOTICE, MessageKind.FINAL_NOTICE, MessageKind.DUNNING_FOLLOW_UP)
}
"""The check for every kind dunning sends, as the relay takes it."""
