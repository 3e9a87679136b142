"""The sandbox gateway's daily statement: what it collected and gave back for a project on one day, as the
WeChat Pay trade bill (交易账单, ALL) WeChat would write for that merchant account.

The sandbox's own payments are the project's online orders on the WECHAT channel that it collected
(`payment_intent` of provider `sandbox`, paid, with the transaction id its notification carried); its
refunds are Courtyard's refunds of those payments (the sandbox carries out every refund given on its
orders). Each row is derived from stored data only, so writing a day again gives the same bytes and
importing it again is recognised. A day without trades or refunds has no bill, as at WeChat.

Statements are imported into a WECHAT statement account named `SandboxProvider.merchant_id`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing import texts
from billing.providers import SandboxProvider
from billing.reconciliation.accounts import reconciled_project
from billing.reconciliation.matching_run import day_bounds
from billing.reconciliation.wechat_writer import WechatMerchant, WechatRefund, WechatTrade, write_wechat_bill
from db.models import (
    Bill,
    Payment,
    PaymentChannel,
    PaymentIntent,
    PaymentIntentStatus,
    PaymentReversal,
    Project,
    ReversalKind,
)
from kernel.errors import BadInput
from kernel.principal import Principal

__all__ = ["SANDBOX_MERCHANT", "SandboxDay", "sandbox_days", "sandbox_payer", "sandbox_trade", "write_sandbox_statement"]

SANDBOX_MERCHANT = WechatMerchant(
    app_id=SandboxProvider.app_id, merchant_id=SandboxProvider.merchant_id, fee_rate=SandboxProvider.fee_rate
)


@dataclass(frozen=True)
class SandboxDay:
    """The sandbox's trades and refunds of one day, ready for its bill."""

    trades: tuple[WechatTrade, ...]
    refunds: tuple[WechatRefund, ...]

    def bill(self, zone: ZoneInfo) -> bytes | None:
        if not self.trades and not self.refunds:
            return None
        return write_wechat_bill(SANDBOX_MERCHANT, trades=self.trades, refunds=self.refunds, zone=zone)


def sandbox_payer(project_id: int, unit_id: int) -> str:
    """The payer's openid (用户标识) in the sandbox's bills: stable per unit, like a WeChat user per app."""
    digest = hashlib.sha256(f"courtyard-sandbox:{project_id}:{unit_id}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def sandbox_trade(
    project: Project, intent: PaymentIntent, *, transaction_id: str, paid_at: dt.datetime, periods: Sequence[str]
) -> WechatTrade:
    """An order the sandbox collected, as its bill shows it; 商品名称 is what the payer's gateway showed."""
    return WechatTrade(
        paid_at=paid_at,
        transaction_id=transaction_id,
        out_trade_no=intent.out_trade_no,
        amount=intent.amount,
        payer=sandbox_payer(project.id, intent.unit_id),
        goods=texts.order_description(project.name, periods, project.locale),
    )


async def sandbox_days(session: AsyncSession, *, project: Project, first_day: dt.date, last_day: dt.date) -> dict[dt.date, SandboxDay]:
    """What the sandbox collected (by payment time) and refunded (by refund time) on each local day from
    `first_day` to `last_day`, a quiet day included."""
    zone = ZoneInfo(project.timezone)
    start, end = day_bounds(first_day, last_day, zone)
    orders = select(PaymentIntent, Payment).join(Payment, Payment.id == PaymentIntent.payment_id).where(
        PaymentIntent.project_id == project.id,
        PaymentIntent.provider == SandboxProvider.name,
        PaymentIntent.channel == PaymentChannel.WECHAT,
        PaymentIntent.status == PaymentIntentStatus.PAID,
    )
    paid = (await session.execute(orders.where(Payment.paid_at >= start, Payment.paid_at < end))).all()
    refunded = (
        await session.execute(
            orders.add_columns(PaymentReversal)
            .join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
            .where(
                PaymentReversal.kind == ReversalKind.REFUND,
                PaymentReversal.created_at >= start,
                PaymentReversal.created_at < end,
            )
        )
    ).all()
    bill_ids = {bill_id for intent, *_ in [*paid, *refunded] for bill_id in intent.bill_ids}
    periods = dict((await session.execute(select(Bill.id, Bill.period).where(Bill.id.in_(sorted(bill_ids))))).all()) if bill_ids else {}

    def trade(intent: PaymentIntent, payment: Payment) -> WechatTrade:
        # A paid order carries the transaction id its notification brought (`PaymentIntent` of status PAID).
        assert intent.provider_transaction_id is not None
        return sandbox_trade(
            project,
            intent,
            transaction_id=intent.provider_transaction_id,
            paid_at=payment.paid_at,
            periods=[periods[b] for b in intent.bill_ids if b in periods],
        )

    trades: dict[dt.date, list[WechatTrade]] = defaultdict(list)
    refunds: dict[dt.date, list[WechatRefund]] = defaultdict(list)
    for intent, payment in paid:
        trades[payment.paid_at.astimezone(zone).date()].append(trade(intent, payment))
    for intent, payment, refund in refunded:
        refunds[refund.created_at.astimezone(zone).date()].append(
            WechatRefund(
                refunded_at=refund.created_at,
                refund_id=f"5030{project.id:05d}{refund.id:020d}",
                out_refund_no=f"CY{project.id:04d}R{refund.id:09d}",
                amount=refund.amount,
                trade=trade(intent, payment),
            )
        )
    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    return {day: SandboxDay(trades=tuple(trades[day]), refunds=tuple(refunds[day])) for day in days}


async def write_sandbox_statement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    day: dt.date,
    now: dt.datetime,
) -> bytes | None:
    """The sandbox's WeChat bill of `day` for the project, or None for a day it had nothing on. Only a day
    that has ended has a bill. `principal` None reads on the system's own authority (the command line)."""
    async with session_factory() as session:
        project = await reconciled_project(session, principal, project_id)
        zone = ZoneInfo(project.timezone)
        if day >= now.astimezone(zone).date():
            raise BadInput("A day's bill is written once the day has ended.", field="day")
        return (await sandbox_days(session, project=project, first_day=day, last_day=day))[day].bill(zone)
