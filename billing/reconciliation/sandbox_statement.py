"""The sandbox gateway's daily statements: what it collected and gave back for a project on one day, per
channel, as the channel would write it for that merchant account: the WeChat Pay trade bill (交易账单, ALL)
for its WECHAT orders, the Alipay business bill (业务明细 zip) for its ALIPAY orders.

The sandbox's own payments are the project's online orders on that channel that it collected
(`payment_intent` of provider `sandbox`, paid, with the transaction id its notification carried); its
refunds are Courtyard's refunds of those payments (the sandbox carries out every refund given on its
orders). Each row is derived from stored data only, so writing a day again gives the same bytes and
importing it again is recognised. A day without trades or refunds has no bill, as at WeChat and Alipay.

Statements are imported into a WECHAT statement account named `SandboxProvider.merchant_id`, and an
ALIPAY one named `SandboxProvider.alipay_account`.
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
from billing.reconciliation.alipay_writer import AlipayMerchant, AlipayRefund, AlipayTrade, write_alipay_business_bill
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

__all__ = [
    "SANDBOX_ALIPAY_MERCHANT",
    "SANDBOX_CHANNELS",
    "SANDBOX_MERCHANT",
    "SandboxDay",
    "sandbox_alipay_payer",
    "sandbox_days",
    "sandbox_payer",
    "sandbox_trade",
    "write_sandbox_statement",
]

SANDBOX_MERCHANT = WechatMerchant(
    app_id=SandboxProvider.app_id, merchant_id=SandboxProvider.merchant_id, fee_rate=SandboxProvider.fee_rate
)
SANDBOX_ALIPAY_MERCHANT = AlipayMerchant(account=SandboxProvider.alipay_account, fee_rate=SandboxProvider.fee_rate)
SANDBOX_CHANNELS = (PaymentChannel.WECHAT, PaymentChannel.ALIPAY)


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


@dataclass(frozen=True)
class _Collected:
    """One order the sandbox collected, with what its bill shows of it."""

    intent: PaymentIntent
    payment: Payment
    periods: tuple[str, ...]


@dataclass(frozen=True)
class _Refunded:
    collected: _Collected
    refund: PaymentReversal


async def _collected_days(
    session: AsyncSession, *, project: Project, channel: PaymentChannel, first_day: dt.date, last_day: dt.date
) -> tuple[dict[dt.date, list[_Collected]], dict[dt.date, list[_Refunded]]]:
    """The sandbox's orders of `channel` paid on each local day from `first_day` to `last_day` (by payment
    time), and its refunds of such orders (by refund time)."""
    zone = ZoneInfo(project.timezone)
    start, end = day_bounds(first_day, last_day, zone)
    orders = select(PaymentIntent, Payment).join(Payment, Payment.id == PaymentIntent.payment_id).where(
        PaymentIntent.project_id == project.id,
        PaymentIntent.provider == SandboxProvider.name,
        PaymentIntent.channel == channel,
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

    def collected(intent: PaymentIntent, payment: Payment) -> _Collected:
        # A paid order carries the transaction id its notification brought (`PaymentIntent` of status PAID).
        assert intent.provider_transaction_id is not None
        return _Collected(intent, payment, tuple(periods[b] for b in intent.bill_ids if b in periods))

    trades: dict[dt.date, list[_Collected]] = defaultdict(list)
    refunds: dict[dt.date, list[_Refunded]] = defaultdict(list)
    for intent, payment in paid:
        trades[payment.paid_at.astimezone(zone).date()].append(collected(intent, payment))
    for intent, payment, refund in refunded:
        refunds[refund.created_at.astimezone(zone).date()].append(_Refunded(collected(intent, payment), refund))
    return trades, refunds


def _refund_number(project: Project, refund: PaymentReversal) -> str:
    """Our number of a refund given on a sandbox order (WeChat's 商户退款单号, Alipay's 退款请求号)."""
    return f"CY{project.id:04d}R{refund.id:09d}"


async def sandbox_days(session: AsyncSession, *, project: Project, first_day: dt.date, last_day: dt.date) -> dict[dt.date, SandboxDay]:
    """What the sandbox collected by WeChat (by payment time) and refunded (by refund time) on each local
    day from `first_day` to `last_day`, a quiet day included."""
    trades, refunds = await _collected_days(
        session, project=project, channel=PaymentChannel.WECHAT, first_day=first_day, last_day=last_day
    )

    def trade(order: _Collected) -> WechatTrade:
        assert order.intent.provider_transaction_id is not None
        return sandbox_trade(
            project, order.intent, transaction_id=order.intent.provider_transaction_id, paid_at=order.payment.paid_at, periods=order.periods
        )

    def refund(given: _Refunded) -> WechatRefund:
        return WechatRefund(
            refunded_at=given.refund.created_at,
            refund_id=f"5030{project.id:05d}{given.refund.id:020d}",
            out_refund_no=_refund_number(project, given.refund),
            amount=given.refund.amount,
            trade=trade(given.collected),
        )

    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    return {
        day: SandboxDay(trades=tuple(map(trade, trades.get(day, ()))), refunds=tuple(map(refund, refunds.get(day, ()))))
        for day in days
    }


def sandbox_alipay_payer(project_id: int, unit_id: int) -> str:
    """The payer's account (对方账户) in the sandbox's Alipay bills, masked as Alipay shows it: stable per unit."""
    digits = int.from_bytes(hashlib.sha256(f"courtyard-sandbox-alipay:{project_id}:{unit_id}".encode()).digest()[:8]) % 10**6
    return f"13{digits // 10**4:02d}****{digits % 10**4:04d}"


async def _alipay_bill(session: AsyncSession, project: Project, day: dt.date) -> bytes | None:
    trades, refunds = await _collected_days(session, project=project, channel=PaymentChannel.ALIPAY, first_day=day, last_day=day)
    if not trades.get(day) and not refunds.get(day):
        return None

    def trade(order: _Collected) -> AlipayTrade:
        assert order.intent.provider_transaction_id is not None
        return AlipayTrade(
            created_at=min(order.intent.created_at, order.payment.paid_at),
            paid_at=order.payment.paid_at,
            trade_no=order.intent.provider_transaction_id,
            out_trade_no=order.intent.out_trade_no,
            amount=order.intent.amount,
            payer=sandbox_alipay_payer(project.id, order.intent.unit_id),
            goods=texts.order_description(project.name, order.periods, project.locale),
        )

    return write_alipay_business_bill(
        SANDBOX_ALIPAY_MERCHANT,
        day=day,
        trades=[trade(order) for order in trades.get(day, ())],
        refunds=[
            AlipayRefund(
                refunded_at=given.refund.created_at,
                out_request_no=_refund_number(project, given.refund),
                amount=given.refund.amount,
                trade=trade(given.collected),
            )
            for given in refunds.get(day, ())
        ],
        zone=ZoneInfo(project.timezone),
    )


async def write_sandbox_statement(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal | None,
    *,
    project_id: int,
    day: dt.date,
    now: dt.datetime,
    channel: PaymentChannel = PaymentChannel.WECHAT,
) -> bytes | None:
    """The sandbox's bill of `day` for the project on `channel` (WECHAT: the trade bill; ALIPAY: the
    业务明细 zip), or None for a day it had nothing on there. Only a day that has ended has a bill.
    `principal` None reads on the system's own authority (the command line)."""
    if channel not in SANDBOX_CHANNELS:
        raise BadInput("The sandbox writes WeChat Pay and Alipay statements only.", field="channel")
    async with session_factory() as session:
        project = await reconciled_project(session, principal, project_id)
        zone = ZoneInfo(project.timezone)
        if day >= now.astimezone(zone).date():
            raise BadInput("A day's bill is written once the day has ended.", field="day")
        if channel is PaymentChannel.ALIPAY:
            return await _alipay_bill(session, project, day)
        return (await sandbox_days(session, project=project, first_day=day, last_day=day))[day].bill(zone)
