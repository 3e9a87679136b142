"""SMS receipts (回执): a gateway's later word that a message reached the phone, or did not.

A receipt names the gateway's message id and our `out_id`; both must agree with the attempt that sent
it, so a receipt cannot move another message. DELIVERED marks the attempt and its message delivered;
a failure marks the attempt FAILED and the message FAILED with the carrier's code (it left Courtyard
but never arrived). A receipt repeated by the gateway changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import DeliveryAttempt, Message
from db.unit_of_work import unit_of_work
from kernel.vocabulary import DeliveryStatus, MessageStatus, NotificationChannel
from notifications.channels import short_key
from notifications.sms import SmsReceipt

__all__ = ["record_sms_receipts"]


async def record_sms_receipts(
    session_factory: async_sessionmaker[AsyncSession], receipts: Sequence[SmsReceipt], *, now: dt.datetime
) -> int:
    """Apply verified receipts; answer how many changed something."""
    changed = 0
    async with unit_of_work(session_factory) as work:
        session = work.session
        for receipt in receipts:
            found = (
                await session.execute(
                    select(DeliveryAttempt, Message)
                    .join(Message, Message.id == DeliveryAttempt.message_id)
                    .where(
                        DeliveryAttempt.provider_message_id == receipt.provider_message_id,
                        DeliveryAttempt.channel == NotificationChannel.SMS,
                    )
                )
            ).first()
            if found is None:
                continue
            attempt, message = found
            if short_key(message.idempotency_key) != receipt.out_id or attempt.status is not DeliveryStatus.SENT:
                continue
            reported = min(receipt.reported_at, now)
            if receipt.delivered:
                attempt.status = DeliveryStatus.DELIVERED
                if message.status is MessageStatus.SENT and message.channel is NotificationChannel.SMS:
                    message.status, message.delivered_at = MessageStatus.DELIVERED, reported
            else:
                attempt.status = DeliveryStatus.FAILED
                attempt.error = f"carrier receipt: {receipt.error}"[:500]
                if message.status is MessageStatus.SENT and message.channel is NotificationChannel.SMS:
                    message.status, message.last_error = MessageStatus.FAILED, attempt.error
            attempt.finished_at = reported
            changed += 1
    return changed
