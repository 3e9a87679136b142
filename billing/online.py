"""Owners paying online: orders (payment intents) for a gateway, and its signed notifications.

A notification is recorded exactly once per gateway transaction id, however often the gateway retries:
the payment's idempotency key is "<provider>:<transaction id>" and the order remembers the transaction.
Anything unsigned, mis-signed, for an unknown order or for another amount is refused and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import texts
from billing.allocation import late_fee_now
from billing.balance import amount_due
from billing.payments import CLOCK_SKEW_TOLERANCE, PaymentRequest, take_payment
from billing.policy import may_see_unit_billing
from billing.providers import (
    NotificationRejected,
    OrderRequest,
    PaymentProvider,
    VerifiedNotification,
)
from billing.receipts import ReceiptSigner, next_counter_value
from billing.rule_book import load_policies
from db.models import (
    Bill,
    BillStatus,
    Party,
    PaymentChannel,
    PaymentIntent,
    PaymentIntentStatus,
    Project,
)
from db.unit_of_work import unit_of_work
from invoicing.automatic import make_out_to_title
from invoicing.buyers import Buyer
from invoicing.titles import pick_payment_title
from kernel.errors import BadInput, DomainError, NotFound
from kernel.principal import Principal

__all__ = [
    "INTENT_LIFETIME",
    "NotificationOutcome",
    "create_payment_intent",
    "notify_path",
    "record_gateway_notification",
]

INTENT_LIFETIME = dt.timedelta(minutes=30)
ONLINE_CHANNELS = frozenset({PaymentChannel.WECHAT, PaymentChannel.ALIPAY, PaymentChannel.UNIONPAY})


def notify_path(provider: str) -> str:
    return f"/payments/notify/{provider}"


async def create_payment_intent(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    providers: Mapping[str, PaymentProvider],
    bill_ids: Sequence[int],
    channel: PaymentChannel,
    provider_name: str,
    invoice_title_id: int | None = None,
    invoice_title: Buyer | None = None,
) -> tuple[PaymentIntent, dict[str, Any]]:
    """An order for the amount the bills ask today (late fees included); the caller's own bills, or
    any bill of the project for finance staff. All bills must belong to one unit. The payment's
    automatic invoice goes to the invoice title picked (`invoice_title_id`, or a new one the owner
    keeps from now on: `invoice_title`), else to the payer's default title."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        if not bill_ids:
            raise BadInput("Name at least one bill to pay.", field="billIds")
        if channel not in ONLINE_CHANNELS:
            raise BadInput("Online payment goes through WECHAT, ALIPAY or UNIONPAY.", field="channel")
        provider = providers.get(provider_name)
        if provider is None:
            raise BadInput(f"No payment provider {provider_name!r}.", field="provider")
        bills = list(
            (await session.scalars(select(Bill).where(Bill.id.in_(sorted(set(bill_ids)))).order_by(Bill.id))).all()
        )
        visible = {
            bill.id: bill
            for bill in bills
            if may_see_unit_billing(principal, project_id=bill.project_id, unit_id=bill.unit_id)
        }
        if missing := [bill_id for bill_id in bill_ids if bill_id not in visible]:
            raise NotFound(f"No bill {missing[0]}.", field="billIds")
        units = {bill.unit_id for bill in visible.values()}
        if len(units) != 1:
            raise BadInput("One order pays the bills of one unit.", field="billIds")
        if paid := [bill.id for bill in visible.values() if bill.status == BillStatus.PAID]:
            raise BadInput(f"Bill {paid[0]} is already paid.", field="billIds")
        project_id = next(iter(visible.values())).project_id
        project = await session.get(Project, project_id)
        assert project is not None
        # The project's own date, as when the payment is booked: UTC would price one more day of late fee
        # between midnight and 08:00 in Beijing, leaving an owner who paid in full a few fen short.
        today = now.astimezone(ZoneInfo(project.timezone)).date()
        policies = await load_policies(session, project_id)
        amount = Decimal("0.00")
        for bill in visible.values():
            amount += amount_due(bill) + late_fee_now(bill, policies.late_fee_versions, today)
        if amount <= 0:
            raise BadInput("These bills ask for nothing.", field="billIds")
        title_id = await pick_payment_title(
            session, principal, project_id=project_id, title_id=invoice_title_id, buyer=invoice_title
        )
        number = await next_counter_value(session, project_id, "order")
        intent = PaymentIntent(
            project_id=project_id,
            unit_id=units.pop(),
            out_trade_no=f"CY{project_id:04d}{number:010d}",
            provider=provider.name,
            channel=channel,
            amount=amount,
            bill_ids=sorted(visible),
            status=PaymentIntentStatus.PENDING,
            expires_at=now + INTENT_LIFETIME,
            created_by=principal.user_id,
            invoice_title_id=title_id,
        )
        session.add(intent)
        await session.flush()
        payload = provider.order_payload(
            OrderRequest(
                out_trade_no=intent.out_trade_no,
                amount_fen=int(amount.scaleb(2)),
                description=texts.order_description(
                    project.name, (bill.period for bill in visible.values()), project.locale
                ),
                notify_url=notify_path(provider.name),
                expires_at=intent.expires_at,
                channel=channel.value,
            )
        )
        return intent, payload


@dataclass(frozen=True)
class NotificationOutcome:
    accepted: bool
    reason: str
    payment_id: int | None = None


async def record_gateway_notification(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    signer: ReceiptSigner,
    provider: PaymentProvider,
    body: bytes,
    headers: Mapping[str, str],
) -> NotificationOutcome:
    """Verify a gateway notification and record its payment once, on the system's own authority; a
    refusal changes nothing."""
    try:
        notice = provider.verify_notification(body, headers)
    except NotificationRejected as error:
        return NotificationOutcome(False, str(error))
    try:
        async with unit_of_work(session_factory) as work:
            return await _record_notice(work.session, signer, provider, notice=notice, now=now)
    except DomainError as error:
        return NotificationOutcome(False, error.message)


async def _record_notice(
    session: AsyncSession,
    signer: ReceiptSigner,
    provider: PaymentProvider,
    *,
    notice: VerifiedNotification,
    now: dt.datetime,
) -> NotificationOutcome:
    """Record a verified notification's payment once; every refusal comes before anything is written."""
    intent = await session.scalar(
        select(PaymentIntent).where(PaymentIntent.out_trade_no == notice.out_trade_no).with_for_update()
    )
    if intent is None or intent.provider != provider.name:
        return NotificationOutcome(False, f"unknown order {notice.out_trade_no}")
    if notice.amount_fen != int(intent.amount.scaleb(2)):
        return NotificationOutcome(
            False, f"amount {notice.amount_fen} fen differs from the order's {int(intent.amount.scaleb(2))} fen"
        )
    if intent.status == PaymentIntentStatus.PAID:
        if intent.provider_transaction_id == notice.transaction_id:
            return NotificationOutcome(True, "already recorded", intent.payment_id)
        return NotificationOutcome(False, f"order {intent.out_trade_no} was already paid by another transaction")
    if notice.paid_at > now + CLOCK_SKEW_TOLERANCE:
        return NotificationOutcome(False, f"success_time {notice.paid_at.isoformat()} is in the future")
    # Its amount priced the late fee of the day it was made: a payment after the expiry would settle
    # bills at a stale price. The gateway closes the order then; a late retry still carries the time
    # the owner paid, so only a payment made after the expiry is refused.
    if notice.paid_at > intent.expires_at + CLOCK_SKEW_TOLERANCE:
        return NotificationOutcome(
            False,
            f"order {intent.out_trade_no} expired at {intent.expires_at.isoformat()},"
            f" before success_time {notice.paid_at.isoformat()}",
        )
    still_open = list(
        await session.scalars(
            select(Bill.id).where(Bill.id.in_(intent.bill_ids), Bill.status != BillStatus.PAID).order_by(Bill.id)
        )
    )
    payer = await session.scalar(
        select(Party.name).join(Bill, Bill.party_id == Party.id).where(Bill.id.in_(intent.bill_ids)).limit(1)
    )
    payment = await take_payment(
        session,
        None,
        now=now,
        signer=signer,
        request=PaymentRequest(
            unit_id=intent.unit_id,
            channel=intent.channel,
            amount=intent.amount,
            payer_name=payer or "online payer",
            external_reference=notice.transaction_id,
            bill_ids=tuple(still_open),
            paid_at=notice.paid_at,
        ),
        idempotency_key=f"{provider.name}:{notice.transaction_id}",
    )
    if intent.invoice_title_id is not None:
        await make_out_to_title(session, payment_id=payment.id, title_id=intent.invoice_title_id)
    intent.status = PaymentIntentStatus.PAID
    intent.payment_id = payment.id
    intent.provider_transaction_id = notice.transaction_id
    await session.flush()
    return NotificationOutcome(True, "recorded", payment.id)

