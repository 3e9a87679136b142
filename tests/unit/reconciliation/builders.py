"""Small constructors of lines, payments and terms for the matcher's tests and laws."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing.reconciliation.matching import ChannelTerms, RecordedPayment, RecordedRefund
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine

SHANGHAI = ZoneInfo("Asia/Shanghai")
WECHAT_ACCOUNT = "1900000109"
BANK_ACCOUNT = "6222020200112233"
TERMS = (
    ChannelTerms(Channel.WECHAT, (SourceKind.WECHAT,), report_days=2, payout_min_days=1, payout_max_days=4),
    ChannelTerms(Channel.ALIPAY, (SourceKind.ALIPAY,), report_days=2, payout_min_days=1, payout_max_days=4),
    ChannelTerms(Channel.BANK_TRANSFER, (SourceKind.BANK,), report_days=3),
    ChannelTerms(Channel.POS, (SourceKind.BANK,), report_days=3, fee_rate=Decimal("0.006")),
)


def at(day: int, hour: int = 10, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def channel_line(
    number: int,
    amount: str,
    *,
    day: int = 1,
    fee: str = "0",
    coupon: str = "0",
    order: int | None = None,
    source: SourceKind = SourceKind.WECHAT,
    hour: int = 10,
) -> StatementLine:
    gross = Decimal(amount)
    return StatementLine(
        source=source,
        account=WECHAT_ACCOUNT,
        line_key=f"{source}:P:{number}",
        row_number=number,
        booked_at=at(day, hour),
        kind=LineKind.PAYMENT,
        amount=gross,
        settled_amount=gross - Decimal(coupon),
        fee=Decimal(fee),
        order_no=f"CY{order if order is not None else number:06d}",
        transaction_id=f"4200{number:010d}",
    )


def refund_line(
    number: int, amount: str, *, order: int, day: int = 1, fee: str = "0", refund_no: str | None = None
) -> StatementLine:
    return StatementLine(
        source=SourceKind.WECHAT,
        account=WECHAT_ACCOUNT,
        line_key=f"WECHAT:R:{number}",
        row_number=number,
        booked_at=at(day, 15),
        kind=LineKind.REFUND,
        amount=-Decimal(amount),
        settled_amount=-Decimal(amount),
        fee=-Decimal(fee),
        order_no=f"CY{order:06d}",
        transaction_id=f"4200{order:010d}",
        refund_no=refund_no,
    )


def bank_line(
    number: int,
    amount: str,
    *,
    day: int = 2,
    name: str | None = None,
    memo: str | None = None,
    reference: str | None = None,
    end_to_end: str | None = None,
    account: str = BANK_ACCOUNT,
    hour: int = 10,
) -> StatementLine:
    return StatementLine(
        source=SourceKind.BANK,
        account=account,
        line_key=f"BANK:{number}",
        row_number=number,
        booked_at=at(day, hour),
        kind=LineKind.BANK,
        amount=Decimal(amount),
        settled_amount=Decimal(amount),
        bank_reference=reference,
        end_to_end_id=end_to_end,
        counterparty_name=name,
        memo=memo,
    )


def payment(
    number: int,
    amount: str,
    *,
    channel: Channel = Channel.WECHAT,
    day: int = 1,
    unit: int | None = None,
    payer: str | None = None,
    order: bool = True,
    transaction: str | None = None,
    charge: str | None = None,
    refunds: tuple[RecordedRefund, ...] = (),
    hour: int = 10,
) -> RecordedPayment:
    return RecordedPayment(
        id=number,
        channel=channel,
        amount=Decimal(amount),
        paid_at=at(day, hour),
        unit_id=unit,
        order_no=f"CY{number:06d}" if order else None,
        provider_transaction_id=transaction,
        payer_name=payer,
        charge_key=charge,
        refunds=refunds,
    )


def refund(number: int, amount: str, *, day: int = 1, refund_no: str | None = None) -> RecordedRefund:
    return RecordedRefund(id=number, amount=Decimal(amount), refunded_at=at(day, 15), refund_no=refund_no)
