"""Reconciliation (对账) end to end: a community's month on PostgreSQL and SQLite, a group's day of a million
lines on PostgreSQL, and the matching quality on both, each figure beside its goal.

1. **A mid-size community's month** (2,000 payments in November 2026): the WeChat Pay bill of the month
   (2,000 lines, fees to five decimals, coupons, refunds) and the bank statement (60 credits: the channel's
   T+1 settlements, Friday–Sunday paid as one Monday credit, transfers found by reference or by the
   project's name-and-amount rule) are written as the files the channel and the bank export, and go
   through the real use cases: `import_statement` (each file), `run_reconciliation` (the month), and the
   report: `close_day` (a day's figures for each account) with the first pages of exceptions and matches.
   The payments are stored as the gateway's notifications and the desk store them (payment rows through
   `billing.booking`, on the units' October bills, with allocations, journal entries and signed receipts;
   online orders as `payment_intent` rows; refunds with their journal entries), in bulk.
2. **A group's day**: 1,000,000 payments (20 merchant accounts of WeChat Pay and Alipay, bank transfers)
   and their statement lines seeded in bulk in the shapes the import and the payment writers store, then
   `run_reconciliation` for the day in a process of its own (its peak resident memory, VmHWM, is the
   run's alone), and the time of each of its phases. Beside it: a bare in-memory dict join of the same order numbers (the floor), and the pure
   core alone on the same day held in memory, as the run did before it joined the exact keys in SQL.
3. **Quality**: every generated line, payment and refund is labelled with what was planted (duplicate
   charges, amount differences, lines missing, lines Courtyard never saw, refunds on one side only, bank
   credits nobody explains) or as clean (fees, coupons, refunds, T+1 and batch settlements, transfers);
   the confusion table counts each label by the outcome the database holds after the run.

Other work shares this machine's two cores, so wall times are noisy: each row also gives the CPU time of
this process (`time.process_time`, which includes SQLite working in aiosqlite's thread) and, on
PostgreSQL, of the database server's backend (from /proc, the server being local).

    python -m benchmarks.reconcile                      # everything
    python -m benchmarks.reconcile --part month --db sqlite
    python -m benchmarks.reconcile --part day --day-payments 200000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from benchmarks.table import print_table
from benchmarks.throwaway import postgresql_database, sqlite_database
from billing.booking import PayableBill, PaymentBooking, add_payments, book_payments, lock_payable_bills
from billing.guards import read_unit_accounts
from billing.bulk import bulk_connection
from billing.journal import JOURNAL_ENTRY_COLUMNS, JOURNAL_LINE_COLUMNS, journal_entry_record, journal_line_record
from billing.ledger import post_refund
from billing.receipts import ReceiptSigner
from billing.reconciliation.accounts import AccountTerms, create_statement_account
from billing.reconciliation.closing import close_day
from billing.reconciliation.importing import LINE_COLUMNS, import_statement, line_record
from billing.reconciliation.matching import ChannelTerms, RecordedPayment, RecordedRefund, reconcile
from billing.reconciliation import matching_run
from billing.reconciliation.key_join import KeyJoin
from billing.reconciliation.matching_run import run_reconciliation
from billing.reconciliation.reading import list_exceptions, list_matches
from billing.reconciliation.statement import Channel, LineKind, SourceKind, StatementLine, round_fen
from billing.rule_book import RuleDefinition, insert_fee_rule
from billing.runs import run_billing
from db.migrate import upgrade_to_head
from db.models import (
    Building,
    JournalEntry,
    JournalLine,
    Organization,
    Payment,
    PaymentChannel,
    PaymentIntent,
    PaymentReversal,
    Project,
    ReconciliationRule,
    RoleGrant,
    StatementAccountKind,
    StatementFile,
    StatementLineRow,
    Unit,
    User,
)
from db.session import create_engine, create_session_factory
from kernel.principal import Principal, Role
from kernel.vocabulary import FeeRuleKind
from tests.unit.reconciliation.statements import bank_csv, wechat_bill, wechat_payment, wechat_refund

ZONE = ZoneInfo("Asia/Shanghai")
SECRET = b"courtyard-benchmark-secret-0123456789"
MONTH_FIRST, MONTH_LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
GROUP_DAY = dt.date(2026, 12, 1)
RUN_NOW = dt.datetime(2026, 12, 8, 2, 0, tzinfo=dt.UTC)
MONTH_PAYMENTS = 2_000
MONTH_TRANSFERS = 35
DAY_PAYMENTS = 1_000_000
DAY_UNITS = 200_000
STEP_GOAL_S = 1.0
DAY_GOAL_S = 30.0
DAY_MEMORY_GOAL_MIB = 512
WECHAT_MERCHANT = "1900000109"
BANK_ACCOUNT = "6222000011112222"
TENPAY = "财付通支付科技有限公司"
ALIPAY_CORP = "支付宝（中国）网络技术有限公司"
FEE_PER_MILLE = 6
BANK_HEADER = ["交易日期", "流水号", "借方发生额", "贷方发生额", "对方户名", "摘要"]
BANK_PROFILE = {
    "date_column": "交易日期",
    "serial_column": "流水号",
    "debit_column": "借方发生额",
    "credit_column": "贷方发生额",
    "counterparty_name_column": "对方户名",
    "memo_columns": ["摘要"],
    "encoding": "gbk",
}
NAME_RULE = {"min_name_similarity": 0.8, "days_after": 3}
PLANTS = (
    "DUPLICATE_CHARGE line",  # the channel charged one order twice
    "DUPLICATE_CHARGE payment",  # the owner paid the same bill twice
    "AMOUNT_MISMATCH",
    "UNRECEIVED",
    "CHANNEL_ONLY",
    "REFUND_UNMATCHED line",  # refunded at the channel, not in Courtyard
    "REFUND_UNMATCHED refund",  # refunded in Courtyard, never at the channel
    "BANK_UNMATCHED",
)
OUTCOMES = ("MATCH", "UNRECEIVED", "CHANNEL_ONLY", "DUPLICATE_CHARGE", "AMOUNT_MISMATCH", "BANK_UNMATCHED", "REFUND_UNMATCHED")


# ------------------------------------------------------------------------------------------ the data


@dataclass(slots=True)
class PlannedPayment:
    """A payment as it will be stored: an online order's (with its intent) or a bank transfer the desk
    recorded; `refund_fen` is refunded in Courtyard an hour later."""

    index: int
    channel: PaymentChannel
    account: str
    unit: int
    fen: int
    paid_at: dt.datetime
    order_no: str | None
    transaction_id: str | None
    payer: str
    refund_fen: int = 0
    charge_of: int | None = None  # the payment whose bills this one pays again
    id: int = 0
    refund_id: int = 0


@dataclass
class Period:
    """Generated payments and statement lines of one period, and what each item is (its label)."""

    payments: list[PlannedPayment] = field(default_factory=list)
    lines: list[StatementLine] = field(default_factory=list)
    line_labels: dict[str, str] = field(default_factory=dict)
    planted_payments: dict[int, str] = field(default_factory=dict)
    planted_refunds: dict[int, str] = field(default_factory=dict)
    accounts: dict[str, StatementAccountKind] = field(default_factory=dict)
    unit_areas: list[int] = field(default_factory=list)
    fees_withheld: Decimal = Decimal("0.00")


def _money(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


def _fee_e5(fen: int) -> int:
    """The channel's fee on an amount, in units of 0.00001 元: 0.6%, written to five decimals."""
    return fen * FEE_PER_MILLE


class Generator:
    """Writes a period: channel lines for each payment (fee, sometimes a coupon or a refund), each channel
    account's day settled into the bank (T+1; batching accounts pay Friday–Sunday on Monday), transfers
    found by reference or by name and amount, and the planted cases."""

    def __init__(self, *, seed: int, batching_accounts: frozenset[str]) -> None:
        self.random = random.Random(seed)
        self.batching = batching_accounts
        self.period = Period()
        self.net_fen: dict[tuple[SourceKind, str, dt.date], int] = defaultdict(int)
        self.fee_e5: dict[tuple[SourceKind, str, dt.date], int] = defaultdict(int)
        self.serial = 0

    # -- lines

    def channel_line(
        self,
        source: SourceKind,
        account: str,
        *,
        at: dt.datetime,
        fen: int,
        order_no: str,
        transaction_id: str,
        coupon_fen: int = 0,
        label: str | None = None,
    ) -> StatementLine:
        fee = _fee_e5(fen)
        line = StatementLine(
            source=source,
            account=account,
            line_key=f"{source}:{account}:P:{transaction_id}",
            row_number=0,
            booked_at=at,
            kind=LineKind.PAYMENT,
            amount=_money(fen),
            settled_amount=_money(fen - coupon_fen),
            fee=Decimal(fee).scaleb(-5),
            order_no=order_no,
            transaction_id=transaction_id,
            memo="物业费",
        )
        self._book(line, fen - coupon_fen, fee, label or ("coupon line" if coupon_fen else "channel line"))
        return line

    def refund_line(
        self, source: SourceKind, account: str, *, at: dt.datetime, fen: int, order_no: str, transaction_id: str,
        refund_id: str, label: str = "refund line",
    ) -> StatementLine:
        fee_back = _fee_e5(fen)
        line = StatementLine(
            source=source,
            account=account,
            line_key=f"{source}:{account}:R:{refund_id}",
            row_number=0,
            booked_at=at,
            kind=LineKind.REFUND,
            amount=-_money(fen),
            settled_amount=-_money(fen),
            fee=-Decimal(fee_back).scaleb(-5),
            order_no=order_no,
            transaction_id=transaction_id,
            refund_no=f"RF{refund_id}",
            provider_refund_id=refund_id,
        )
        self._book(line, -fen, -fee_back, label)
        return line

    def _book(self, line: StatementLine, net_fen: int, fee_e5: int, label: str) -> None:
        day = line.booked_at.date()
        self.net_fen[(line.source, line.account, day)] += net_fen
        self.fee_e5[(line.source, line.account, day)] += fee_e5
        self.period.lines.append(line)
        self.period.line_labels[line.line_key] = label

    def bank_line(
        self, day: dt.date, fen: int, *, name: str, memo: str, label: str, serial: str | None = None,
        end_to_end: str | None = None,
    ) -> StatementLine:
        if serial is None:
            self.serial += 1
            serial = f"BR{self.serial:08d}"
        line = StatementLine(
            source=SourceKind.BANK,
            account=BANK_ACCOUNT,
            line_key=f"BANK:{BANK_ACCOUNT}:{serial}",
            row_number=0,
            booked_at=dt.datetime.combine(day, dt.time(), ZONE),
            kind=LineKind.BANK,
            amount=_money(fen),
            settled_amount=_money(fen),
            bank_reference=serial,
            end_to_end_id=end_to_end if end_to_end is not None else serial,
            counterparty_name=name,
            memo=memo,
        )
        self.period.lines.append(line)
        self.period.line_labels[line.line_key] = label
        return line

    # -- payments

    def online_payment(self, payment: PlannedPayment, fate: str | None, source: SourceKind) -> None:
        """An online order paid at the channel, its line(s) in the channel's bill, and its planted fate."""
        period = self.period
        period.payments.append(payment)
        assert payment.order_no is not None and payment.transaction_id is not None
        at = payment.paid_at + dt.timedelta(seconds=3)
        if fate == "REFUND_UNMATCHED refund":
            period.planted_refunds[payment.index] = fate
        if fate == "UNRECEIVED":
            period.planted_payments[payment.index] = fate
            return
        line_fen = payment.fen + 1 + self.random.randrange(97) if fate == "AMOUNT_MISMATCH" else payment.fen
        coupon = 500 if fate is None and self.random.random() < 0.025 else 0
        self.channel_line(
            source, payment.account, at=at, fen=line_fen, order_no=payment.order_no,
            transaction_id=payment.transaction_id, coupon_fen=coupon, label=fate if fate == "AMOUNT_MISMATCH" else None,
        )
        if fate == "AMOUNT_MISMATCH":
            period.planted_payments[payment.index] = fate
        if fate == "DUPLICATE_CHARGE line":
            self.channel_line(
                source, payment.account, at=at + dt.timedelta(minutes=1), fen=payment.fen, order_no=payment.order_no,
                transaction_id=f"{payment.transaction_id}D", label=fate,
            )
        if payment.refund_fen and fate != "REFUND_UNMATCHED refund":
            self.refund_line(
                source, payment.account, at=payment.paid_at + dt.timedelta(hours=1), fen=payment.refund_fen,
                order_no=payment.order_no, transaction_id=payment.transaction_id, refund_id=f"50{payment.index:012d}",
            )
        if fate == "REFUND_UNMATCHED line":
            self.refund_line(
                source, payment.account, at=payment.paid_at + dt.timedelta(hours=2), fen=payment.fen // 3,
                order_no=payment.order_no, transaction_id=payment.transaction_id, refund_id=f"59{payment.index:012d}",
                label=fate,
            )

    def channel_only(self, source: SourceKind, account: str, at: dt.datetime, number: int) -> None:
        self.channel_line(
            source, account, at=at, fen=10_000 + number, order_no=f"LOST{number:08d}", transaction_id=f"42X{number:010d}",
            label="CHANNEL_ONLY",
        )

    def settle(self, last_day: dt.date) -> None:
        """One credit per channel account and day the next day; batching accounts' Friday–Sunday on Monday."""
        batches: dict[tuple[SourceKind, str, dt.date], int] = defaultdict(int)
        for (source, account, day), net in sorted(self.net_fen.items()):
            # What the channel withholds is the day's fees rounded once, to the fen.
            fees = round_fen(Decimal(self.fee_e5[(source, account, day)]).scaleb(-5))
            net -= int(fees.scaleb(2))
            self.period.fees_withheld += fees
            weekday = day.weekday()
            if account in self.batching and weekday >= 4 and day + dt.timedelta(days=7 - weekday) <= last_day:
                batches[(source, account, day + dt.timedelta(days=7 - weekday))] += net
                continue
            name = ALIPAY_CORP if source is SourceKind.ALIPAY else TENPAY
            self.bank_line(day + dt.timedelta(days=1), net, name=name, memo=f"{account} 结算", label="settlement T+1")
        for (source, _account, monday), net in sorted(batches.items()):
            name = ALIPAY_CORP if source is SourceKind.ALIPAY else TENPAY
            self.bank_line(monday, net, name=name, memo="结算（周五至周日）", label="settlement Fri–Sun")


def bill_fen(area_centi: int) -> int:
    """The October property fee of a unit of `area_centi` / 100 m² at 2.80 元/m², rounded half up."""
    return (area_centi * 28 + 5) // 10


def month_period(seed: int = 14) -> Period:
    """A community's November: 1,965 WeChat payments (three of them second payments of a bill paid
    already) and 35 bank transfers on 2,000 units, each paying
    its October bill (a refunded one 50.00 more, refunded an hour later), three of each planted case."""
    generator = Generator(seed=seed, batching_accounts=frozenset({WECHAT_MERCHANT}))
    period = generator.period
    period.accounts = {WECHAT_MERCHANT: StatementAccountKind.WECHAT, BANK_ACCOUNT: StatementAccountKind.BANK}
    rng = generator.random
    period.unit_areas = [rng.randrange(5_000, 15_000) for _ in range(MONTH_PAYMENTS)]
    days = (MONTH_LAST - MONTH_FIRST).days + 1
    online = MONTH_PAYMENTS - MONTH_TRANSFERS - 3  # three bills are paid twice
    online_plants = [plant for plant in PLANTS if plant not in ("CHANNEL_ONLY", "BANK_UNMATCHED")]
    chosen = rng.sample(range(online), 3 * len(online_plants))
    fate = {index: online_plants[position // 3] for position, index in enumerate(chosen)}
    twice = [index for index, planted in fate.items() if planted == "DUPLICATE_CHARGE payment"]
    for index in range(online):
        day = MONTH_FIRST + dt.timedelta(days=index % days)
        planted = fate.get(index)
        refunded = planted == "REFUND_UNMATCHED refund" or (planted is None and rng.random() < 0.01)
        payment = PlannedPayment(
            index=index, channel=PaymentChannel.WECHAT, account=WECHAT_MERCHANT, unit=index,
            fen=bill_fen(period.unit_areas[index]) + (5_000 if refunded else 0),
            paid_at=dt.datetime.combine(day, dt.time(8 + index % 12, index % 60), ZONE),
            order_no=f"CY0001{index:010d}", transaction_id=f"4200001234202611{index:010d}", payer=f"业主{index}",
            refund_fen=5_000 if refunded else 0,
        )
        # A payment paid twice is clean itself: the second order, an hour later, is the planted one.
        generator.online_payment(payment, None if planted == "DUPLICATE_CHARGE payment" else planted, SourceKind.WECHAT)
    for first in twice:
        original = period.payments[first]
        index = MONTH_PAYMENTS + len(period.planted_payments)
        again = PlannedPayment(
            index=index, channel=PaymentChannel.WECHAT, account=WECHAT_MERCHANT, unit=original.unit, fen=original.fen,
            paid_at=original.paid_at + dt.timedelta(hours=1), order_no=f"CY0001{index:010d}",
            transaction_id=f"4200001234202611{index:010d}", payer=original.payer, charge_of=first,
        )
        generator.online_payment(again, None, SourceKind.WECHAT)
        period.planted_payments[index] = "DUPLICATE_CHARGE payment"
        period.line_labels[f"WECHAT:{WECHAT_MERCHANT}:P:{again.transaction_id}"] = "DUPLICATE_CHARGE payment"
    for number in range(3):
        day = MONTH_FIRST + dt.timedelta(days=3 + number * 9)
        generator.channel_only(SourceKind.WECHAT, WECHAT_MERCHANT, dt.datetime.combine(day, dt.time(12), ZONE), number)
    payers = ["王丽", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵敏"]
    for number in range(MONTH_TRANSFERS):
        index = online + number
        day = MONTH_FIRST + dt.timedelta(days=number % days)
        keyed = number % 2 == 0
        payer = f"{payers[number % len(payers)]}{number}"
        payment = PlannedPayment(
            index=index, channel=PaymentChannel.BANK_TRANSFER, account=BANK_ACCOUNT, unit=index,
            fen=bill_fen(period.unit_areas[index]), paid_at=dt.datetime.combine(day, dt.time(10), ZONE), order_no=None,
            transaction_id=None, payer=payer,
        )
        period.payments.append(payment)
        line = generator.bank_line(
            day + dt.timedelta(days=1), payment.fen, name=payer, memo="物业费",
            label="transfer by reference" if keyed else "transfer by name and amount",
        )
        if keyed:
            payment.transaction_id = line.bank_reference
    for number in range(3):
        day = MONTH_FIRST + dt.timedelta(days=5 + number * 7)
        generator.bank_line(day, 98_700 + number * 1_111, name="某贸易公司", memo="往来款", label="BANK_UNMATCHED")
    generator.settle(MONTH_LAST)
    return period


def day_period(payments_wanted: int, seed: int = 14) -> Period:
    """A group's day: WeChat accounts W00–W17 and Alipay A0–A1 (93% and 5% of the payments), keyed bank
    transfers (2%), 1% refunded, 2.5% with a coupon, and `payments_wanted // 20,000` (at least 3) of
    each planted case."""
    each = max(3, payments_wanted // 20_000)
    generator = Generator(seed=seed, batching_accounts=frozenset())
    period = generator.period
    rng = generator.random
    wechat = [f"W{n:02d}" for n in range(18)]
    alipay = ["A0", "A1"]
    period.accounts = {name: StatementAccountKind.WECHAT for name in wechat}
    period.accounts.update({name: StatementAccountKind.ALIPAY for name in alipay})
    period.accounts[BANK_ACCOUNT] = StatementAccountKind.BANK
    online_plants = [plant for plant in PLANTS if plant not in ("CHANNEL_ONLY", "BANK_UNMATCHED", "DUPLICATE_CHARGE payment")]
    chosen = rng.sample(range(payments_wanted), each * len(online_plants))
    fate = {index: online_plants[position // each] for position, index in enumerate(chosen)}
    start = dt.datetime.combine(GROUP_DAY, dt.time(7), ZONE)
    for index in range(payments_wanted):
        kind = index % 100
        paid_at = start + dt.timedelta(seconds=index * 50_000 // payments_wanted)
        fen = rng.randrange(5_000, 300_000)
        unit = rng.randrange(DAY_UNITS)
        planted = fate.get(index)
        refund_fen = fen // 4 if planted == "REFUND_UNMATCHED refund" or (planted is None and rng.random() < 0.01) else 0
        if kind < 2:
            reference = f"E2E{index:012d}"
            payment = PlannedPayment(
                index=index, channel=PaymentChannel.BANK_TRANSFER, account=BANK_ACCOUNT, unit=unit, fen=fen,
                paid_at=paid_at, order_no=None, transaction_id=reference, payer="集团客户",
            )
            period.payments.append(payment)
            generator.bank_line(
                GROUP_DAY + dt.timedelta(days=1), fen, name="某集团财务公司", memo="物业费", label="transfer by reference",
                end_to_end=reference,
            )
            continue
        source, account = (
            (SourceKind.ALIPAY, alipay[index % 2]) if kind < 7 else (SourceKind.WECHAT, wechat[index % 18])
        )
        channel = PaymentChannel.ALIPAY if source is SourceKind.ALIPAY else PaymentChannel.WECHAT
        payment = PlannedPayment(
            index=index, channel=channel, account=account, unit=unit, fen=fen, paid_at=paid_at,
            order_no=f"CY{index:012d}", transaction_id=f"42{index:016d}", payer="业主", refund_fen=refund_fen,
        )
        generator.online_payment(payment, planted, source)
    for number in range(each):
        at = start + dt.timedelta(minutes=number)
        generator.channel_only(SourceKind.WECHAT, wechat[number % 18], at, number)
        generator.bank_line(GROUP_DAY, 98_700 + number, name="某贸易公司", memo="往来款", label="BANK_UNMATCHED")
    generator.settle(GROUP_DAY + dt.timedelta(days=1))
    return period


# --------------------------------------------------------------------------------------- the files


def wechat_file(period: Period, account: str) -> bytes:
    """The channel account's lines as WeChat Pay writes its trade bill (ALL: payments and refunds)."""
    rows = []
    for line in period.lines:
        if line.account != account:
            continue
        at = line.booked_at.strftime("%Y-%m-%d %H:%M:%S")
        if line.kind is LineKind.REFUND:
            row = wechat_refund(0, 0, f"{-line.amount:.2f}", fee=f"{-line.fee:.5f}", time=at)
            row.update({"微信退款单号": line.provider_refund_id, "商户退款单号": line.refund_no})
        else:
            row = wechat_payment(0, f"{line.amount:.2f}", fee=f"{line.fee:.5f}", coupon=f"{line.amount - line.settled_amount:.2f}", time=at)
        row.update({"商户号": account, "微信订单号": line.transaction_id, "商户订单号": line.order_no})
        rows.append(row)
    return wechat_bill(rows)


def bank_file(period: Period) -> bytes:
    """The bank account's credits as its CSV export (GBK), one serial number each."""
    return bank_csv(
        [
            [line.booked_at.strftime("%Y-%m-%d"), line.bank_reference, "", f"{line.amount:.2f}", line.counterparty_name, line.memo]
            for line in period.lines
            if line.source is SourceKind.BANK
        ],
        header=BANK_HEADER,
    )


# ------------------------------------------------------------------------------------------ seeding


@dataclass
class Seeded:
    project_id: int
    user_id: int
    account_ids: dict[str, int]
    unit_ids: list[int]


async def _project(session: AsyncSession, units: int, areas: Sequence[int]) -> tuple[Project, User, list[int]]:
    """A project in Asia/Shanghai, buildings of 1,000 units, and a finance login."""
    organization = Organization(name="Benchmark Property Group")
    session.add(organization)
    await session.flush()
    project = Project(organization_id=organization.id, name="Benchmark", timezone=ZONE.key, currency="CNY", settings={})
    session.add(project)
    user = User(email="finance@bench.test", display_name="finance", password_hash="-")
    session.add(user)
    await session.flush()
    session.add(RoleGrant(user_id=user.id, project_id=project.id, role=Role.FINANCE))
    buildings = [Building(project_id=project.id, name=f"{n + 1}栋") for n in range((units + 999) // 1000)]
    session.add_all(buildings)
    await session.flush()
    writer = await bulk_connection(session)
    ids = await writer.reserve_ids(Unit.__table__, units)  # type: ignore[arg-type]
    await writer.write(
        Unit.__table__,  # type: ignore[arg-type]
        ("id", "project_id", "building_id", "number", "floor", "floor_area", "kind", "occupancy_status"),
        [
            (unit_id, project.id, buildings[n // 1000].id, f"{n % 1000:04d}", n % 1000 // 10 + 1,
             areas[n] if areas else 8_936, "APARTMENT", "SELF_OCCUPIED")
            for n, unit_id in enumerate(ids)
        ],
    )
    return project, user, ids


async def _accounts(
    session_factory: async_sessionmaker[AsyncSession], finance: Principal, project_id: int, period: Period
) -> dict[str, int]:
    """The statement accounts through the use case: channels pay out T+1 (batches by Monday) into the bank."""
    ids = {}
    for name, kind in period.accounts.items():
        if kind is StatementAccountKind.BANK:
            terms, profile = AccountTerms(report_days=3), BANK_PROFILE
        else:
            terms = AccountTerms(report_days=2, payout_min_days=1, payout_max_days=3, fee_rate=Decimal("0.006"), payout_account=BANK_ACCOUNT)
            profile = None
        account = await create_statement_account(
            session_factory, finance, project_id=project_id, name=name, kind=kind, terms=terms, bank_profile=profile
        )
        ids[name] = account.id
    return ids


_INTENT_COLUMNS = (
    "project_id", "unit_id", "out_trade_no", "provider", "channel", "amount", "bill_ids", "status", "expires_at",
    "payment_id", "provider_transaction_id", "created_at",
)
_REVERSAL_COLUMNS = ("id", "payment_id", "kind", "amount", "reason", "created_by", "created_at")


async def store_payments(
    session: AsyncSession, *, project: Project, user_id: int, period: Period, unit_ids: list[int], billed: bool, batch: int = 20_000
) -> None:
    """Payments as the gateway's notifications and the desk record them, in batches, in bulk: payment
    rows (`billing.booking.add_payments`), online orders as intents paid by them, refunds with their
    journal entries. `billed`: each payment is also booked on its unit's bills (allocations, journal
    entries, signed receipts); the group's day leaves that out, as reconciliation reads none of it and a
    million receipts would take the seeding minutes."""
    signer = ReceiptSigner(SECRET)
    writer = await bulk_connection(session)
    for first in range(0, len(period.payments), batch):
        planned = period.payments[first : first + batch]
        rows = [
            Payment(
                project_id=project.id, unit_id=unit_ids[p.unit], payer_name=p.payer, channel=p.channel,
                external_reference=p.transaction_id, amount=_money(p.fen), paid_at=p.paid_at.astimezone(dt.UTC),
            )
            for p in planned
        ]
        await add_payments(session, rows)
        bills: dict[int, list[PayableBill]] = defaultdict(list)
        if billed:
            units = sorted({r.unit_id for r in rows})
            places = await read_unit_accounts(session, units)
            for bill in await lock_payable_bills(session, unit_ids=units):
                bills[bill.unit_id].append(bill)
            await book_payments(
                session,
                signer,
                bookings=[
                    PaymentBooking(r, bills.get(r.unit_id, []), booked_at=r.paid_at, place=places[r.unit_id].place) for r in rows
                ],
                zone=ZONE,
                user_id=None,
            )
        for plan, row in zip(planned, rows, strict=True):
            plan.id = row.id
        intents = [
            (
                project.id, unit_ids[p.unit], p.order_no, "wechatpay" if p.channel is PaymentChannel.WECHAT else "alipay",
                p.channel.value, p.fen, json.dumps([b.id for b in bills.get(unit_ids[p.unit], [])]), "PAID",
                p.paid_at + dt.timedelta(minutes=30), p.id, p.transaction_id, p.paid_at,
            )
            for p in planned
            if p.order_no is not None
        ]
        await writer.write(PaymentIntent.__table__, _INTENT_COLUMNS, intents)  # type: ignore[arg-type]
        refunded = [p for p in planned if p.refund_fen]
        refund_ids = await writer.reserve_ids(PaymentReversal.__table__, len(refunded))  # type: ignore[arg-type]
        entry_ids = await writer.reserve_ids(JournalEntry.__table__, len(refunded))  # type: ignore[arg-type]
        reversals, entries, journal_lines = [], [], []
        for plan, refund_id, entry_id in zip(refunded, refund_ids, entry_ids, strict=True):
            plan.refund_id = refund_id
            at = (plan.paid_at + dt.timedelta(hours=1)).astimezone(dt.UTC)
            reversals.append((refund_id, plan.id, "REFUND", plan.refund_fen, "业主申请退款", user_id, at))
            draft = post_refund(
                payment_id=plan.id, unit_id=unit_ids[plan.unit], channel=plan.channel.value, amount=_money(plan.refund_fen),
                description=f"refund of payment {plan.id}",
            )
            entries.append(journal_entry_record(entry_id, project_id=project.id, draft=draft, occurred_at=at, created_by=user_id))
            journal_lines.extend(journal_line_record(entry_id, n, posting) for n, posting in enumerate(draft.postings, start=1))
        await writer.write(PaymentReversal.__table__, _REVERSAL_COLUMNS, reversals)  # type: ignore[arg-type]
        await writer.write(JournalEntry.__table__, JOURNAL_ENTRY_COLUMNS, entries)  # type: ignore[arg-type]
        await writer.write(JournalLine.__table__, JOURNAL_LINE_COLUMNS, journal_lines)  # type: ignore[arg-type]
        session.expunge_all()


async def store_lines(session: AsyncSession, *, period: Period, account_ids: dict[str, int], batch: int = 50_000) -> None:
    """Statement lines as the import stores them (`importing.line_record`), one file per account."""
    writer = await bulk_connection(session)
    files = {}
    for name, account_id in account_ids.items():
        stored = StatementFile(
            account_id=account_id, file_hash=f"{account_id:064d}", filename=f"{name}.csv", statement_format="WECHAT",
            line_count=0, new_line_count=0,
        )
        session.add(stored)
        await session.flush()
        files[name] = stored.id
    table = StatementLineRow.__table__
    for first in range(0, len(period.lines), batch):
        lines = period.lines[first : first + batch]
        records = [line_record(line, account_id=account_ids[line.account], file_id=files[line.account]) for line in lines]
        await writer.write(table, LINE_COLUMNS, records)  # type: ignore[arg-type]


async def seed(url: str, period: Period, *, billed: bool, units: int, with_lines: bool) -> Seeded:
    engine = create_engine(url)
    await upgrade_to_head(engine)
    session_factory = create_session_factory(engine)
    try:
        async with session_factory() as session, session.begin():
            project, user, unit_ids = await _project(session, units, period.unit_areas)
            if billed:
                await insert_fee_rule(
                    session, project_id=project.id, code="PROPERTY", kind=FeeRuleKind.PER_AREA, created_by=None,
                    definition=RuleDefinition("物业费", dt.date(2026, 1, 1), rate_per_square_metre=Decimal("2.80")),
                )
            session.add(ReconciliationRule(project_id=project.id, position=1, name="同名同额（三日内）", params=NAME_RULE))
        if billed:
            await run_billing(
                session_factory, None, now=dt.datetime(2026, 10, 25, 2, tzinfo=dt.UTC), project_id=project.id,
                period="2026-10", dry_run=False,
            )
        finance = Principal(user_id=user.id, roles={project.id: frozenset({Role.FINANCE})})
        account_ids = await _accounts(session_factory, finance, project.id, period)
        async with session_factory() as session, session.begin():
            await store_payments(session, project=project, user_id=user.id, period=period, unit_ids=unit_ids, billed=billed)
            if with_lines:
                await store_lines(session, period=period, account_ids=account_ids)
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.execute(text("VACUUM ANALYZE"))
                await autocommit.execute(text("CHECKPOINT"))
        return Seeded(project.id, user.id, account_ids, unit_ids)
    finally:
        await engine.dispose()


# ------------------------------------------------------------------------------------------ measuring


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds the local PostgreSQL backend `pid` has used (0 when it is not ours to read)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Stopwatch:
    """Wall time, this process's CPU time and the database backend's CPU time of each timed step."""

    backend: int | None
    rows: list[dict[str, object]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, goal: float = STEP_GOAL_S, **facts: object) -> Iterator[dict[str, object]]:
        gc.collect()
        row: dict[str, object] = {"step": name}
        started, cpu, db_cpu = time.perf_counter(), time.process_time(), _backend_cpu(self.backend)
        yield facts
        wall = time.perf_counter() - started
        row.update(facts)
        row.update(
            {
                "wall s": wall,
                "CPU s": time.process_time() - cpu,
                "DB CPU s": _backend_cpu(self.backend) - db_cpu if self.backend else "-",
                "goal s": goal,
                "ok": "yes" if wall <= goal else "NO",
            }
        )
        self.rows.append(row)


async def _single_connection_engine(url: str) -> tuple[AsyncEngine, int | None]:
    """An engine of one pooled connection, so that every step runs on one PostgreSQL backend we can watch."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    if engine.dialect.name != "postgresql":
        return engine, None
    async with engine.connect() as connection:
        return engine, int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def month_steps(url: str, period: Period, seeded: Seeded) -> list[dict[str, object]]:
    """The timed use cases: both imports, the month's run, and the report of a day."""
    engine, backend = await _single_connection_engine(url)
    session_factory = create_session_factory(engine)
    finance = Principal(user_id=seeded.user_id, roles={seeded.project_id: frozenset({Role.FINANCE})})
    watch = Stopwatch(backend)
    wechat, bank = wechat_file(period, WECHAT_MERCHANT), bank_file(period)
    try:
        with watch.step("import WeChat bill", lines=sum(1 for line in period.lines if line.source is SourceKind.WECHAT)) as facts:
            outcome = await import_statement(
                session_factory, finance, account_id=seeded.account_ids[WECHAT_MERCHANT], content=wechat,
                filename="wechat-2026-11.csv", now=RUN_NOW,
            )
            facts["lines"] = outcome.new_line_count
        with watch.step("import bank statement") as facts:
            outcome = await import_statement(
                session_factory, finance, account_id=seeded.account_ids[BANK_ACCOUNT], content=bank,
                filename="bank-2026-11.csv", now=RUN_NOW,
            )
            facts["lines"] = outcome.new_line_count
        with watch.step("reconcile the month") as facts:
            run = await run_reconciliation(
                session_factory, finance, project_id=seeded.project_id, first_day=MONTH_FIRST, last_day=MONTH_LAST, now=RUN_NOW
            )
            facts["lines"] = f"{run.new_matches} matches, {run.open_exceptions} exceptions"
        with watch.step("report: close a day, first pages") as facts:
            closes = await close_day(
                session_factory, finance, project_id=seeded.project_id, day=dt.date(2026, 11, 16),
                sign_off_reason="月中抽查", now=RUN_NOW,
            )
            exceptions = await list_exceptions(session_factory, finance, project_id=seeded.project_id, limit=50)
            matches = await list_matches(session_factory, finance, project_id=seeded.project_id, limit=50)
            facts["lines"] = f"{len(closes)} closes, {len(exceptions.items)}+{len(matches.items)} rows"
        total = {
            "step": "end to end",
            "lines": "",
            **{key: sum(float(row[key]) for row in watch.rows) for key in ("wall s", "CPU s")},  # type: ignore[arg-type]
            "DB CPU s": sum(float(row["DB CPU s"]) for row in watch.rows) if backend else "-",  # type: ignore[arg-type]
            "goal s": STEP_GOAL_S,
        }
        total["ok"] = "yes" if float(total["wall s"]) <= STEP_GOAL_S else "NO"  # type: ignore[arg-type]
        return [*watch.rows, total]
    finally:
        await engine.dispose()


# ------------------------------------------------------------------------------------------ outcomes


_LINE_OUTCOMES = """
SELECT l.line_key, MAX(CASE WHEN k.id IS NOT NULL OR m.id IS NOT NULL THEN 'MATCH' END), MAX(e.kind)
FROM statement_line l
LEFT JOIN reconciliation_match_link k ON k.line_id = l.id
LEFT JOIN reconciliation_match m ON m.line_id = l.id
LEFT JOIN reconciliation_exception_link x ON x.line_id = l.id AND NOT x.related
LEFT JOIN reconciliation_exception e ON e.id = x.exception_id AND e.status = 'OPEN'
GROUP BY l.id, l.line_key
"""
_PAYMENT_OUTCOMES = """
SELECT p.id, MAX(CASE WHEN k.id IS NOT NULL OR m.id IS NOT NULL THEN 'MATCH' END), MAX(e.kind)
FROM payment p
LEFT JOIN reconciliation_match_link k ON k.payment_id = p.id
LEFT JOIN reconciliation_match m ON m.payment_id = p.id
LEFT JOIN reconciliation_exception_link x ON x.payment_id = p.id AND NOT x.related
LEFT JOIN reconciliation_exception e ON e.id = x.exception_id AND e.status = 'OPEN'
GROUP BY p.id
"""
_REFUND_OUTCOMES = """
SELECT p.id, MAX(CASE WHEN k.id IS NOT NULL THEN 'MATCH' END), MAX(e.kind)
FROM payment_reversal p
LEFT JOIN reconciliation_match_link k ON k.reversal_id = p.id
LEFT JOIN reconciliation_exception_link x ON x.reversal_id = p.id AND NOT x.related
LEFT JOIN reconciliation_exception e ON e.id = x.exception_id AND e.status = 'OPEN'
GROUP BY p.id
"""


async def confusion(url: str, period: Period) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Each label (planted or clean) by the outcome the database holds for its items, and the checks."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    payment_labels = {
        p.id: period.planted_payments.get(p.index, "payment (transfer)" if p.channel is PaymentChannel.BANK_TRANSFER else "payment (online)")
        for p in period.payments
    }
    refund_labels = {p.refund_id: period.planted_refunds.get(p.index, "refund") for p in period.payments if p.refund_id}
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            for query, label_of in (
                (_LINE_OUTCOMES, period.line_labels),
                (_PAYMENT_OUTCOMES, payment_labels),
                (_REFUND_OUTCOMES, refund_labels),
            ):
                result = await connection.stream(text(query).execution_options(yield_per=20_000))
                async for key, matched, kind in result:
                    counts[label_of[key]][matched or kind or "none"] += 1
            fees = (
                await connection.execute(text("SELECT COALESCE(SUM(channel_fee), 0) FROM reconciliation_match WHERE step = 'SETTLEMENT'"))
            ).scalar_one()
            exceptions = (await connection.execute(text("SELECT count(*) FROM reconciliation_exception WHERE status = 'OPEN'"))).scalar_one()
    finally:
        await engine.dispose()
    table = []
    for label in sorted(counts, key=lambda name: (name in PLANTS, name)):
        outcome = counts[label]
        table.append(
            {
                "case": f"planted: {label}" if label in PLANTS else f"clean: {label}",
                "n": sum(outcome.values()),
                **{name: outcome.get(name, 0) for name in OUTCOMES},
                "none": outcome.get("none", 0),
            }
        )
    clean_wrong = sum(row["n"] - row["MATCH"] for row in table if str(row["case"]).startswith("clean"))  # type: ignore[operator]
    planted_wrong = sum(
        row["n"] - row[str(row["case"]).split(" ")[1]]  # type: ignore[operator]
        for row in table
        if str(row["case"]).startswith("planted")
    )
    planted_cases = (
        sum(1 for label in period.line_labels.values() if label in PLANTS and label != "AMOUNT_MISMATCH" and label != "DUPLICATE_CHARGE payment")
        + len(period.planted_payments)
        + len(period.planted_refunds)
    )
    checks = {
        "fees withheld = settlements' channel fees": f"{period.fees_withheld} = {Decimal(int(fees)).scaleb(-2)}",
        "clean items not matched (false exceptions)": clean_wrong,
        "planted items not found as planted": planted_wrong,
        "open exceptions = cases planted": f"{exceptions:,} = {planted_cases:,}",
        "ok": clean_wrong == 0 and planted_wrong == 0 and exceptions == planted_cases
        and period.fees_withheld == Decimal(int(fees)).scaleb(-2),
    }
    return table, checks


# ------------------------------------------------------------------------------------------ the parts


def _peak_of_this_program() -> float:
    """Peak resident memory since exec, in MiB (VmHWM: `ru_maxrss` would also count the parent's peak
    before the fork, which Linux carries across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _in_child(*arguments: str) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.reconcile", *arguments], capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise RuntimeError(f"benchmarks.reconcile {' '.join(arguments)} failed:\n{finished.stderr[-4000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


DAY_PHASES: tuple[tuple[Any, str, str], ...] = (
    (KeyJoin, "_ambiguous", "pairing: ambiguous keys"),
    (KeyJoin, "pair", "pairing: sure pairs"),
    (KeyJoin, "store_new", "storing the pairs"),
    (KeyJoin, "day_totals", "day totals of the pairs"),
    (matching_run, "_load", "loading the rest"),
    (matching_run, "reconcile", "the core"),
    (matching_run, "_drop_open_exceptions", "dropping open exceptions"),
    (matching_run, "_store_matches", "storing the core's matches"),
    (matching_run, "_store_exceptions", "storing exceptions"),
)
"""The steps of a run timed apart (`owner.name`): each step's own time, without the steps it calls."""


class PhaseClock:
    """Wall, CPU and database CPU of each step of `DAY_PHASES` while `watching`, each step's time without
    the timed steps inside it."""

    def __init__(self, backend: int | None) -> None:
        self.backend = backend
        self.totals: dict[str, list[float]] = {}
        self._stack: list[list[float]] = []

    def _now(self) -> list[float]:
        return [time.perf_counter(), time.process_time(), _backend_cpu(self.backend)]

    def _timed(self, label: str, step: Any) -> Any:
        clock = self

        async def timed(*arguments: Any, **keywords: Any) -> Any:
            started = clock._now()
            clock._stack.append([0.0, 0.0, 0.0])
            try:
                return await step(*arguments, **keywords)
            finally:
                inner = clock._stack.pop()
                spent = [now - then for now, then in zip(clock._now(), started, strict=True)]
                if clock._stack:
                    clock._stack[-1] = [total + part for total, part in zip(clock._stack[-1], spent, strict=True)]
                own = clock.totals.setdefault(label, [0.0, 0.0, 0.0])
                clock.totals[label] = [total + part - nested for total, part, nested in zip(own, spent, inner, strict=True)]

        def timed_sync(*arguments: Any, **keywords: Any) -> Any:
            started = clock._now()
            try:
                return step(*arguments, **keywords)
            finally:
                spent = [now - then for now, then in zip(clock._now(), started, strict=True)]
                if clock._stack:
                    clock._stack[-1] = [total + part for total, part in zip(clock._stack[-1], spent, strict=True)]
                own = clock.totals.setdefault(label, [0.0, 0.0, 0.0])
                clock.totals[label] = [total + part for total, part in zip(own, spent, strict=True)]

        return timed if asyncio.iscoroutinefunction(step) else timed_sync

    @contextmanager
    def watching(self) -> Iterator[None]:
        originals = [(owner, name, getattr(owner, name)) for owner, name, _ in DAY_PHASES]
        for (owner, name, step), (_, _, label) in zip(originals, DAY_PHASES, strict=True):
            setattr(owner, name, self._timed(label, step))
        try:
            yield
        finally:
            for owner, name, step in originals:
                setattr(owner, name, step)

    def rows(self, wall: float, cpu: float, db_cpu: float) -> list[dict[str, object]]:
        """One row per step and one for the rest of the run (reading the accounts, the commit, …)."""
        rows = [{"phase": label, "wall s": t[0], "CPU s": t[1], "DB CPU s": t[2]} for label, t in self.totals.items()]
        rest = [whole - sum(t[i] for t in self.totals.values()) for i, whole in enumerate((wall, cpu, db_cpu))]
        rows.append({"phase": "the rest (accounts, commit, …)", "wall s": rest[0], "CPU s": rest[1], "DB CPU s": rest[2]})
        return rows


async def _run_day(url: str, project_id: int) -> dict[str, Any]:
    """The group's day through `run_reconciliation`, on one watched backend, with the time of each phase."""
    engine, backend = await _single_connection_engine(url)
    clock = PhaseClock(backend)
    try:
        started, cpu, db_cpu = time.perf_counter(), time.process_time(), _backend_cpu(backend)
        with clock.watching():
            run = await run_reconciliation(
                create_session_factory(engine), None, project_id=project_id, first_day=GROUP_DAY, last_day=GROUP_DAY, now=RUN_NOW
            )
        wall, cpu, db_cpu = time.perf_counter() - started, time.process_time() - cpu, _backend_cpu(backend) - db_cpu
        return {
            "wall": wall,
            "cpu": cpu,
            "db_cpu": db_cpu,
            "peak": _peak_of_this_program(),
            "matches": run.new_matches,
            "exceptions": run.open_exceptions,
            "phases": clock.rows(wall, cpu, db_cpu),
        }
    finally:
        await engine.dispose()


def _core_day(payments: int) -> dict[str, Any]:
    """The pure core alone on the whole day held in memory, as a run matched before the database joined
    the exact keys."""
    period = day_period(payments)
    recorded = [
        RecordedPayment(
            id=p.index, channel=Channel(p.channel.value), amount=_money(p.fen), paid_at=p.paid_at, unit_id=p.unit,
            order_no=p.order_no or p.transaction_id, provider_transaction_id=p.transaction_id,
            refunds=(RecordedRefund(p.index, _money(p.refund_fen), p.paid_at + dt.timedelta(hours=1)),) if p.refund_fen else (),
        )
        for p in period.payments
    ]
    lines = period.lines
    del period
    gc.collect()
    gc.freeze()
    started, cpu = time.perf_counter(), time.process_time()
    result = reconcile(lines=lines, payments=recorded, terms=_day_terms(), as_of=RUN_NOW, zone=ZONE)
    return {
        "wall": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "peak": _peak_of_this_program(),
        "matches": len(result.matches),
        "exceptions": len(result.exceptions),
    }


def _day_terms() -> list[ChannelTerms]:
    payout = {"payout_min_days": 1, "payout_max_days": 3, "payout_account": BANK_ACCOUNT, "fee_rate": Decimal("0.006")}
    return [
        ChannelTerms(Channel.WECHAT, (SourceKind.WECHAT,), report_days=2, **payout),  # type: ignore[arg-type]
        ChannelTerms(Channel.ALIPAY, (SourceKind.ALIPAY,), report_days=2, **payout),  # type: ignore[arg-type]
        ChannelTerms(Channel.BANK_TRANSFER, (SourceKind.BANK,), report_days=3),
    ]


def bare_join(period: Period) -> float:
    """The floor: a dict of the payments' order numbers (a transfer's: its reference) and one probe per
    line by its order number or EndToEndId, nothing else; CPU seconds."""
    cpu = time.process_time()
    by_order = {p.order_no or p.transaction_id: p.index for p in period.payments}
    hits = sum(1 for line in period.lines if (line.order_no or line.end_to_end_id) in by_order)
    assert hits
    return time.process_time() - cpu


def month_part(databases: Sequence[str]) -> tuple[list[dict[str, object]], dict[str, tuple[list[dict[str, object]], dict[str, object]]]]:
    steps: list[dict[str, object]] = []
    quality = {}
    for database in databases:
        period = month_period()
        with postgresql_database() if database == "postgresql" else sqlite_database() as url:
            seeded = asyncio.run(seed(url, period, billed=True, units=MONTH_PAYMENTS, with_lines=False))
            steps.extend({"database": database, **row} for row in asyncio.run(month_steps(url, period, seeded)))
            quality[database] = asyncio.run(confusion(url, period))
    return steps, quality


def day_part(payments: int) -> tuple[dict[str, object], list[dict[str, object]], tuple[list[dict[str, object]], dict[str, object]]]:
    period = day_period(payments)
    floor = bare_join(period)
    with postgresql_database() as url:
        started = time.perf_counter()
        seeded = asyncio.run(seed(url, period, billed=False, units=DAY_UNITS, with_lines=True))
        seeding = time.perf_counter() - started
        run = _in_child("--run-day", url, "--project", str(seeded.project_id))
        quality = asyncio.run(confusion(url, period))
    core = _in_child("--core-day", str(payments))
    row = {
        "payments": len(period.payments),
        "lines": len(period.lines),
        "seeding s": seeding,
        "wall s": run["wall"],
        "CPU s": run["cpu"],
        "DB CPU s": run["db_cpu"],
        "goal s": DAY_GOAL_S,
        "peak RSS MiB": run["peak"],
        "goal MiB": DAY_MEMORY_GOAL_MIB,
        "floor CPU s": floor,
        "wall ÷ floor": run["wall"] / floor,
        "(CPU+DB) ÷ floor": (run["cpu"] + run["db_cpu"]) / floor,
        "core alone CPU s": core["cpu"],
        "core alone MiB": core["peak"],
        "ok": "yes" if run["wall"] <= DAY_GOAL_S and run["peak"] <= DAY_MEMORY_GOAL_MIB else "NO",
    }
    return row, run["phases"], quality


def _print_quality(title: str, quality: tuple[list[dict[str, object]], dict[str, object]]) -> None:
    table, checks = quality
    print_table(f"{title}: every label (row) by the outcome the database holds (columns); clean rows want MATCH only", table)
    print_table(f"{title}: checks", [{"check": name, "value": value} for name, value in checks.items()])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["month", "day"], action="append", help="default: both")
    parser.add_argument("--db", choices=["postgresql", "sqlite"], action="append", help="the month's databases (default: both)")
    parser.add_argument("--day-payments", type=int, default=DAY_PAYMENTS)
    parser.add_argument("--run-day", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--core-day", type=int, metavar="PAYMENTS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_day:
        print(json.dumps(asyncio.run(_run_day(args.run_day, args.project))))
        return 0
    if args.core_day:
        print(json.dumps(_core_day(args.core_day)))
        return 0
    ok = True
    parts = args.part or ["month", "day"]
    if "month" in parts:
        steps, quality = month_part(args.db or ["postgresql", "sqlite"])
        print_table(
            f"A community's month end to end: {MONTH_PAYMENTS:,} payments, the WeChat bill and the bank statement "
            "(wall and CPU seconds; CPU of this process, DB CPU of the PostgreSQL backend)",
            steps,
        )
        ok = ok and all(row["ok"] == "yes" for row in steps)
        for database, result in quality.items():
            _print_quality(f"Quality, the month on {database}", result)
            ok = ok and bool(result[1]["ok"])
    if "day" in parts:
        row, phases, quality = day_part(args.day_payments)
        print_table(
            "A group's day on PostgreSQL: run_reconciliation in a process of its own (peak RSS = VmHWM of that process;"
            " floor = a bare dict join of the same order numbers in memory, CPU)",
            [row],
        )
        print_table("The group's day by phase (each phase's own time; CPU of the run's process, DB CPU of its backend)", phases)
        _print_quality("Quality, the group's day", quality)
        ok = ok and row["ok"] == "yes" and bool(quality[1]["ok"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
