"""The demo's reconciled month (对账, 日清日结): the calendar month before `today`, reconciled the way a
finance clerk does it every morning, through the use cases the API and the command line call, with one
open exception of each kind planted.

Owners pay by WeChat online, in the mini-program: those payments are orders the sandbox gateway
collected (`add_sandbox_orders`). The project has two statement accounts: the sandbox's WeChat Pay
merchant account, paid out T+1 at 0.60 % into the basic account at 中国建设银行, whose CSV export has a
saved profile. Each morning at 09:30 from the month's second day until its last day can close, the
finance login imports yesterday's WeChat bill as the sandbox writes it and yesterday's bank statement
(owners' transfers, the sandbox's T+1 settlements), matches the last three days, and closes the clean
accounts of the day three days back (a payment has two days to show on a statement).

Planted, so the month shows one open exception of each kind:
- on its second trading day: an owner who opened the payment page twice and paid both orders
  (DUPLICATE_CHARGE); an order paid at WeChat whose notification never arrived (CHANNEL_ONLY); a
  付款码 scan at the desk that the clerk keyed in ¥10.00 higher than was paid (AMOUNT_MISMATCH);
- on its fourth: a WeChat transfer the desk recorded from the owner's screenshot that never reached the
  merchant account (UNRECEIVED), and a refund someone gave in WeChat's merchant platform, not in
  Courtyard (REFUND_UNMATCHED);
- on its sixth: a company's transfer into the bank account that names nothing (BANK_UNMATCHED).
The gateway's side of the first four is what its statements show beyond Courtyard's own orders. Those
account-days stay open; every other account-day of the month is closed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo_clock import demo_now
from billing import texts
from billing.balance import principal_due
from billing.booking import PaymentBooking, add_payments, book_payments, lock_payable_bills
from billing.guards import read_unit_accounts
from billing.online import INTENT_LIFETIME
from billing.providers import SandboxProvider
from billing.receipts import ReceiptSigner, next_counter_value
from billing.reconciliation.accounts import AccountTerms, create_statement_account_in
from billing.reconciliation.closing import close_day_in, open_exception_count
from billing.reconciliation.importing import import_statement_in
from billing.reconciliation.matching_run import run_reconciliation_in
from billing.reconciliation.sandbox_statement import (
    SANDBOX_MERCHANT,
    SandboxDay,
    sandbox_days,
    sandbox_payer,
)
from billing.reconciliation.wechat_writer import WechatRefund, WechatTrade, settlement_amount
from db.models import (
    Bill,
    BillStatus,
    Party,
    Payment,
    PaymentChannel,
    PaymentIntent,
    PaymentIntentStatus,
    Project,
    ReconciliationException,
    ReconciliationMatch,
    StatementAccount,
    StatementAccountKind,
    Unit,
    User,
)
from kernel.principal import Principal
from kernel.vocabulary import UnitKind
from register.accounts import load_principal

__all__ = ["add_sandbox_orders", "sandbox_transaction_id", "seed_reconciliation"]

_SEED = 2031
_FINANCE_LOGIN = "finance@demo.courtyard"
_BANK_ACCOUNT = "33050161627209001234"
_BANK_OPENING_BALANCE = Decimal("1286430.55")
_BANK_HEADER = ("交易日期", "交易时间", "流水号", "借方发生额", "贷方发生额", "余额", "对方户名", "对方账号", "摘要", "附言")
# The saved profile of the bank's CSV export (a `BankProfile` by field name): 借方 is money out.
_BANK_PROFILE = {
    "date_column": "交易日期",
    "time_column": "交易时间",
    "serial_column": "流水号",
    "debit_column": "借方发生额",
    "credit_column": "贷方发生额",
    "balance_column": "余额",
    "counterparty_name_column": "对方户名",
    "counterparty_account_column": "对方账号",
    "memo_columns": ["摘要", "附言"],
    "reference_column": "附言",
    "encoding": "gbk",
}
_TENPAY = ("财付通支付科技有限公司", "243300133")
_UNKNOWN_PAYER = ("杭州嘉木装饰工程有限公司", "1202020409900158461")
_UNKNOWN_AMOUNT = Decimal("3000.00")
_KEYED_TOO_HIGH = Decimal("10.00")
_PLATFORM_REFUND = Decimal("50.00")
_MORNING = dt.time(9, 30)
_LOOK_BACK_DAYS = 3
"""A morning matches the last three days and closes the one before them: two days for a payment to show
on a statement, and the day its T+1 settlement arrives."""


def sandbox_transaction_id(paid_at: dt.datetime, zone: ZoneInfo, serial: int) -> str:
    """A WeChat-shaped transaction id (28 digits) for an order the demo's sandbox collected."""
    return f"4200{SandboxProvider.merchant_id[-4:]}{paid_at.astimezone(zone):%Y%m%d}{serial:012d}"


async def add_sandbox_orders(session: AsyncSession, project_id: int, paid: Sequence[tuple[Payment, Sequence[int]]]) -> None:
    """Make stored WeChat payments (whose reference is the sandbox's transaction id) the online orders the
    sandbox collected for their bills, numbered from the project's order counter as
    `billing.online.create_payment_intent` numbers them, as its notification leaves them."""
    if not paid:
        return
    last = await next_counter_value(session, project_id, "order", count=len(paid))
    orders = []
    for number, (payment, bill_ids) in enumerate(paid, start=last - len(paid) + 1):
        opened = payment.paid_at - dt.timedelta(minutes=2)
        orders.append(
            {
                "project_id": project_id,
                "unit_id": payment.unit_id,
                "out_trade_no": f"CY{project_id:04d}{number:010d}",
                "provider": SandboxProvider.name,
                "channel": PaymentChannel.WECHAT,
                "amount": payment.amount,
                "bill_ids": list(bill_ids),
                "status": PaymentIntentStatus.PAID,
                "expires_at": opened + INTENT_LIFETIME,
                "created_by": None,
                "payment_id": payment.id,
                "provider_transaction_id": payment.external_reference,
                "created_at": opened,
            }
        )
    # One statement for the lot (the ORM would insert them one at a time on SQLite).
    await session.execute(insert(PaymentIntent), orders)


@dataclass
class _Gateway:
    """What the sandbox's statements show beyond Courtyard's own orders, by local day."""

    trades: dict[dt.date, list[WechatTrade]] = field(default_factory=lambda: defaultdict(list))
    refunds: dict[dt.date, list[WechatRefund]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class _Month:
    first: dt.date
    last: dt.date
    zone: ZoneInfo

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def at(self, day: dt.date, hour: int, minute: int, second: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute, second), self.zone).astimezone(dt.UTC)


async def seed_reconciliation(
    session: AsyncSession,
    signer: ReceiptSigner,
    *,
    project_id: int,
    today: dt.date,
    progress: Callable[[str], None] = lambda _: None,
) -> None:
    """Reconcile and close the month before `today` as the module docstring tells, in the caller's
    transaction, and report what a newcomer finds."""
    project = await session.get(Project, project_id)
    assert project is not None
    zone = ZoneInfo(project.timezone)
    now = demo_now(today, zone)
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month = _Month(first, today.replace(day=1) - dt.timedelta(days=1), zone)
    finance = await _finance(session, today)
    rng = random.Random(_SEED)

    trading_days = await _trading_days(session, project, month)
    gateway = _Gateway()
    planted = await _plant(session, signer, project, month, finance, trading_days, gateway, rng)
    own = await sandbox_days(session, project=project, first_day=month.first, last_day=month.last)
    days = {
        day: SandboxDay(trades=(*orders.trades, *gateway.trades[day]), refunds=(*orders.refunds, *gateway.refunds[day]))
        for day, orders in own.items()
    }
    statements = _bank_statements(await _transfers(session, project_id, month), days, month, trading_days[5], rng)

    wechat = await create_statement_account_in(
        session,
        finance,
        project_id=project_id,
        name=SANDBOX_MERCHANT.merchant_id,
        kind=StatementAccountKind.WECHAT,
        terms=AccountTerms(
            report_days=2, payout_min_days=1, payout_max_days=3, fee_rate=SANDBOX_MERCHANT.fee_rate, payout_account=_BANK_ACCOUNT
        ),
    )
    bank = await create_statement_account_in(
        session, finance, project_id=project_id, name=_BANK_ACCOUNT, kind=StatementAccountKind.BANK, terms=AccountTerms(), bank_profile=_BANK_PROFILE
    )
    imported = {"wechat": 0, "bank": 0}
    closed = 0
    for morning in [month.first + dt.timedelta(days=n) for n in range(1, (month.last - month.first).days + _LOOK_BACK_DAYS + 1)]:
        if morning > today:
            break
        at = now if morning == today else dt.datetime.combine(morning, _MORNING, zone).astimezone(dt.UTC)
        yesterday = morning - dt.timedelta(days=1)
        bill = days[yesterday].bill(zone) if yesterday in days else None
        if bill is not None:
            await import_statement_in(
                session, finance, account_id=wechat.id, content=bill, filename=f"{wechat.name}_{yesterday:%Y%m%d}_ALL.csv", now=at
            )
            imported["wechat"] += 1
        if yesterday in statements:
            await import_statement_in(
                session, finance, account_id=bank.id, content=statements[yesterday], filename=f"{bank.name}_{yesterday:%Y%m%d}.csv", now=at
            )
            imported["bank"] += 1
        await run_reconciliation_in(
            session,
            finance,
            project_id=project_id,
            first_day=max(month.first, morning - dt.timedelta(days=_LOOK_BACK_DAYS)),
            last_day=min(yesterday, month.last),
            now=at,
        )
        closing = morning - dt.timedelta(days=_LOOK_BACK_DAYS)
        if month.first <= closing:
            closed += await _close_clean_accounts(session, finance, project_id, closing, (wechat, bank), at)
    await _report(session, project_id, month, imported, closed, planted, progress)


async def _finance(session: AsyncSession, today: dt.date) -> Principal:
    user_id = await session.scalar(select(User.id).where(User.email == _FINANCE_LOGIN))
    assert user_id is not None
    principal = await load_principal(session, user_id, today=today)
    assert principal is not None
    return principal


async def _trading_days(session: AsyncSession, project: Project, month: _Month) -> list[dt.date]:
    """The month's days on which owners paid the sandbox by WeChat."""
    start, end = month.at(month.first, 0, 0), month.at(month.last + dt.timedelta(days=1), 0, 0)
    paid = await session.scalars(
        select(Payment.paid_at)
        .join(PaymentIntent, PaymentIntent.payment_id == Payment.id)
        .where(PaymentIntent.project_id == project.id, Payment.paid_at >= start, Payment.paid_at < end)
    )
    return sorted({moment.astimezone(month.zone).date() for moment in paid})


async def _plant(
    session: AsyncSession,
    signer: ReceiptSigner,
    project: Project,
    month: _Month,
    finance: Principal,
    trading_days: list[dt.date],
    gateway: _Gateway,
    rng: random.Random,
) -> int:
    """Courtyard's side of the planted exceptions (payments and an order), and the gateway's side in
    `gateway`; how many payments it added."""
    twice_day, desk_day = trading_days[1], trading_days[3]
    first_flat = await session.scalar(select(func.min(Unit.id)).where(Unit.project_id == project.id, Unit.kind == UnitKind.APARTMENT))
    period = f"{(month.first - dt.timedelta(days=1)):%Y-%m}"
    open_bills = (
        await session.execute(
            select(Bill, Party.name)
            .join(Party, Party.id == Bill.party_id)
            .where(Bill.project_id == project.id, Bill.period == period, Bill.status == BillStatus.OPEN, Bill.unit_id != first_flat)
            .order_by(Bill.id)
        )
    ).all()
    # Bills that ask enough for ¥10.00 keyed too high to stay below what was paid.
    sizeable = [row for row in open_bills if principal_due(row[0]) > 5 * _KEYED_TOO_HIGH]
    (lost, _), (keyed, keyed_payer), (screenshot, screenshot_payer) = rng.sample(sizeable, 3)
    paid_twice = await _first_sandbox_order(session, project, month.at(twice_day, 0, 0), month.at(twice_day + dt.timedelta(days=1), 0, 0))
    refunded = await _first_sandbox_order(session, project, month.at(desk_day, 0, 0), month.at(desk_day + dt.timedelta(days=1), 0, 0))

    # DUPLICATE_CHARGE: the second of two orders for one bill, both paid; it stays with the unit as credit.
    first_payment = await session.get(Payment, paid_twice.payment_id)
    assert first_payment is not None
    second_at = first_payment.paid_at + dt.timedelta(minutes=3)
    online = Payment(
        project_id=project.id,
        unit_id=first_payment.unit_id,
        payer_name=first_payment.payer_name,
        channel=PaymentChannel.WECHAT,
        external_reference=sandbox_transaction_id(second_at, month.zone, paid_twice.bill_ids[0] * 10 + 1),
        amount=first_payment.amount,
        paid_at=second_at,
    )
    # AMOUNT_MISMATCH: the desk scanned the owner's 付款码 and keyed in ¥10.00 more than was paid.
    keyed_at = month.at(twice_day, 10, 20)
    keyed_payment = Payment(
        project_id=project.id,
        unit_id=keyed.unit_id,
        payer_name=keyed_payer,
        channel=PaymentChannel.WECHAT,
        external_reference=sandbox_transaction_id(keyed_at, month.zone, keyed.id * 10),
        amount=principal_due(keyed),
        paid_at=keyed_at,
        recorded_by=finance.user_id,
    )
    # UNRECEIVED: a WeChat transfer recorded from the owner's screenshot, which never reached the merchant account.
    screenshot_payment = Payment(
        project_id=project.id,
        unit_id=screenshot.unit_id,
        payer_name=screenshot_payer,
        channel=PaymentChannel.WECHAT,
        amount=principal_due(screenshot),
        paid_at=month.at(desk_day, 15, 40),
        recorded_by=finance.user_id,
    )
    planted = [online, keyed_payment, screenshot_payment]
    await add_payments(session, planted)
    await add_sandbox_orders(session, project.id, [(online, paid_twice.bill_ids)])
    accounts = await read_unit_accounts(session, [payment.unit_id for payment in planted])
    places = {unit_id: account.place for unit_id, account in accounts.items()}
    bills = {
        bill.id: bill
        for bill in await lock_payable_bills(session, unit_ids=[keyed.unit_id, screenshot.unit_id], bill_ids=[keyed.id, screenshot.id])
    }
    await book_payments(
        session,
        signer,
        bookings=[
            PaymentBooking(online, [], booked_at=online.paid_at, place=places[online.unit_id]),
            PaymentBooking(keyed_payment, [bills[keyed.id]], booked_at=keyed_payment.paid_at, place=places[keyed.unit_id]),
            PaymentBooking(
                screenshot_payment, [bills[screenshot.id]], booked_at=screenshot_payment.paid_at, place=places[screenshot.unit_id]
            ),
        ],
        zone=month.zone,
        user_id=finance.user_id,
    )
    assert keyed_payment.external_reference is not None
    gateway.trades[twice_day].append(
        WechatTrade(
            paid_at=keyed_at - dt.timedelta(seconds=13),
            transaction_id=keyed_payment.external_reference,
            out_trade_no=f"CYPOS{project.id:04d}{twice_day:%Y%m%d}01",
            amount=keyed_payment.amount - _KEYED_TOO_HIGH,
            payer=sandbox_payer(project.id, keyed.unit_id),
            goods="物业费（前台扫码）",
            trade_type="MICROPAY",
        )
    )

    # CHANNEL_ONLY: an order the owner paid at WeChat whose notification never reached Courtyard.
    opened = month.at(twice_day, 20, 10)
    number = await next_counter_value(session, project.id, "order")
    pending = PaymentIntent(
        project_id=project.id,
        unit_id=lost.unit_id,
        out_trade_no=f"CY{project.id:04d}{number:010d}",
        provider=SandboxProvider.name,
        channel=PaymentChannel.WECHAT,
        amount=principal_due(lost),
        bill_ids=[lost.id],
        status=PaymentIntentStatus.PENDING,
        expires_at=opened + INTENT_LIFETIME,
        created_at=opened,
    )
    session.add(pending)
    paid_at = opened + dt.timedelta(minutes=1, seconds=36)
    gateway.trades[twice_day].append(
        WechatTrade(
            paid_at=paid_at,
            transaction_id=sandbox_transaction_id(paid_at, month.zone, lost.id * 10),
            out_trade_no=pending.out_trade_no,
            amount=pending.amount,
            payer=sandbox_payer(project.id, lost.unit_id),
            goods=texts.order_description(project.name, [lost.period], project.locale),
        )
    )

    # REFUND_UNMATCHED: part of an order given back in WeChat's merchant platform, never in Courtyard.
    desk_orders = (await sandbox_days(session, project=project, first_day=desk_day, last_day=desk_day))[desk_day]
    refund_trade = next(trade for trade in desk_orders.trades if trade.out_trade_no == refunded.out_trade_no)
    gateway.refunds[desk_day].append(
        WechatRefund(
            refunded_at=refund_trade.paid_at + dt.timedelta(hours=1),
            refund_id=f"5031{project.id:05d}{refunded.id:020d}",
            out_refund_no=f"MP{desk_day:%Y%m%d}0001",
            amount=min(_PLATFORM_REFUND, refund_trade.amount),
            trade=refund_trade,
        )
    )
    await session.flush()
    return len(planted)


async def _first_sandbox_order(session: AsyncSession, project: Project, start: dt.datetime, end: dt.datetime) -> PaymentIntent:
    found = await session.scalar(
        select(PaymentIntent)
        .join(Payment, Payment.id == PaymentIntent.payment_id)
        .where(PaymentIntent.project_id == project.id, Payment.paid_at >= start, Payment.paid_at < end)
        .order_by(Payment.paid_at, Payment.id)
        .limit(1)
    )
    assert found is not None
    return found


@dataclass(frozen=True)
class _BankLine:
    at: dt.datetime
    amount: Decimal
    name: str
    account: str
    summary: str
    reference: str = ""


async def _transfers(session: AsyncSession, project_id: int, month: _Month) -> list[Payment]:
    """Owners' bank transfers on the days whose bank statements the mornings import."""
    return list(
        (
            await session.scalars(
                select(Payment)
                .where(
                    Payment.project_id == project_id,
                    Payment.channel == PaymentChannel.BANK_TRANSFER,
                    Payment.paid_at >= month.at(month.first, 0, 0),
                    Payment.paid_at < month.at(month.last + dt.timedelta(days=_LOOK_BACK_DAYS), 0, 0),
                )
                .order_by(Payment.paid_at, Payment.id)
            )
        ).all()
    )


def _bank_statements(
    transfers: Sequence[Payment], days: dict[dt.date, SandboxDay], month: _Month, unknown_day: dt.date, rng: random.Random
) -> dict[dt.date, bytes]:
    """The bank's daily CSV exports (GBK), as the account's profile reads them: owners' transfers on the day
    they were paid, each of the month's WeChat days settled the next morning, and the planted credit."""
    lines: dict[dt.date, list[_BankLine]] = defaultdict(list)
    for payment in transfers:
        account = f"6217{rng.randrange(10**15):015d}"
        lines[payment.paid_at.astimezone(month.zone).date()].append(
            _BankLine(payment.paid_at, payment.amount, payment.payer_name, account, "转账", payment.external_reference or "")
        )
    for day, gateway_day in sorted(days.items()):
        if gateway_day.trades or gateway_day.refunds:
            arrives = day + dt.timedelta(days=1)
            net = settlement_amount(SANDBOX_MERCHANT, trades=gateway_day.trades, refunds=gateway_day.refunds)
            lines[arrives].append(
                _BankLine(month.at(arrives, 9, 2, rng.randrange(60)), net, *_TENPAY, f"微信支付结算 {SANDBOX_MERCHANT.merchant_id} {day:%Y%m%d}")
            )
    lines[unknown_day].append(_BankLine(month.at(unknown_day, 14, 22), _UNKNOWN_AMOUNT, *_UNKNOWN_PAYER, "往来款"))
    balance = _BANK_OPENING_BALANCE
    statements = {}
    for day in sorted(lines):
        out = io.StringIO()
        out.write(f"# 中国建设银行 账户明细 账号：{_BANK_ACCOUNT} 日期：{day:%Y-%m-%d}\r\n")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(_BANK_HEADER)
        credited = Decimal("0.00")
        for serial, line in enumerate(sorted(lines[day], key=lambda line: line.at), start=1):
            balance += line.amount
            credited += line.amount
            writer.writerow(
                [
                    f"{day:%Y%m%d}",
                    f"{line.at.astimezone(month.zone):%H:%M:%S}",
                    f"{day:%Y%m%d}33{serial:06d}",
                    "",
                    f"{line.amount:.2f}",
                    f"{balance:.2f}",
                    line.name,
                    line.account,
                    line.summary,
                    line.reference,
                ]
            )
        writer.writerow(["合计", "", "", "0.00", f"{credited:.2f}", "", "", "", "", ""])
        statements[day] = out.getvalue().encode("gbk")
    return statements


async def _close_clean_accounts(
    session: AsyncSession,
    finance: Principal,
    project_id: int,
    day: dt.date,
    accounts: Sequence[StatementAccount],
    at: dt.datetime,
) -> int:
    """Close `day` for each account that has no open exception on it; the others wait for a person."""
    clean = [account for account in accounts if await open_exception_count(session, account, day) == 0]
    if len(clean) == len(accounts):
        return len(await close_day_in(session, finance, project_id=project_id, day=day, now=at))
    for account in clean:
        await close_day_in(session, finance, project_id=project_id, day=day, account_id=account.id, now=at)
    return len(clean)


async def _report(
    session: AsyncSession,
    project_id: int,
    month: _Month,
    imported: dict[str, int],
    closed: int,
    planted: int,
    progress: Callable[[str], None],
) -> None:
    matches = await session.scalar(select(func.count()).select_from(ReconciliationMatch).where(ReconciliationMatch.project_id == project_id))
    open_kinds = sorted(
        await session.scalars(select(ReconciliationException.kind).where(ReconciliationException.project_id == project_id))
    )
    progress(
        f"reconciliation: {month.first:%Y-%m} reconciled each morning: {imported['wechat']} WeChat bills from the sandbox"
        f" and {imported['bank']} bank statements imported, {matches} matches, {closed} of {2 * len(month.days())}"
        f" account-days closed; open exceptions: {', '.join(open_kinds)}; {planted} payments planted"
    )
