"""The demo community's books: rules, readings, three months of bills and payments, balanced ledger, the
month before today reconciled and closed day by day with one open exception of each kind, and a month of
dunning."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.ledger_check import check_project_ledger
from billing.providers import SandboxProvider
from billing.reports.risk_scoring import get_risk_scorecard, read_bill_risks
from billing.reconciliation.holdings import held_line_ids
from billing.reconciliation.sandbox_statement import write_sandbox_statement
from db.models import (
    Bill,
    BillRun,
    BillStatus,
    DailyClose,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    ExceptionLink,
    ExceptionStatus,
    FeeRule,
    Invoice,
    InvoicedPayment,
    InvoiceTitle,
    Message,
    MeterReading,
    Payment,
    PaymentChannel,
    PaymentReversal,
    Project,
    Receipt,
    ReconciliationException,
    ReversalKind,
    SettledDay,
    StatementAccount,
    StatementAccountKind,
    StatementFile,
    StatementLineRow,
    Unit,
    User,
)
from db.session import create_engine, create_session_factory
from invoicing.credit_code import credit_code_problem
from invoicing.document import parse_einvoice
from kernel.principal import Principal, Role
from kernel.vocabulary import InvoiceColour, InvoiceStatus, MessageStatus, PartyType
from notifications.kinds import MessageKind
from tests.conftest import PostgresServer
from tests.integration.seeded_demo import TODAY, copy_of_seeded_demo



# PostgreSQL first: test_demo_seed starts with SQLite, so when both modules start at once each test process
# seeds one database of the run's demo (tests/integration/seeded_demo.py) instead of waiting for the other.
@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def demo(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    shared_folder: Path,
    run_id: str,
    postgres_server: PostgresServer,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A copy of the run's seeded demo on each database, for this module alone."""
    async with copy_of_seeded_demo(
        request.param,
        shared=shared_folder,
        run_id=run_id,
        folder=tmp_path_factory.mktemp("demo-billing"),
        postgres_server=postgres_server,
    ) as copy:
        engine = create_engine(copy.url)
        try:
            yield create_session_factory(engine)
        finally:
            await engine.dispose()


async def test_the_demo_books_balance(demo: async_sessionmaker[AsyncSession]) -> None:
    async with demo() as session:
        project_id = await session.scalar(select(Project.id))
        assert project_id is not None
        report = await check_project_ledger(session, project_id)
    assert report.problems == ()
    assert report.total_debit == report.total_credit > 0
    assert report.bills_checked == 24 * 330  # two years: 21 months of history and the three billed months


async def test_the_demo_bills_the_three_months_before_today_with_the_residential_rule_book(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        codes = sorted(await session.scalars(select(FeeRule.code)))
        runs = [(run.period, run.bill_count) for run in await session.scalars(select(BillRun).order_by(BillRun.period))]
        flagged = await session.scalar(select(func.count()).select_from(MeterReading).where(MeterReading.flagged_for_review))
    assert codes == ["COMMON_ELECTRICITY", "ELECTRICITY", "PARKING", "PROPERTY", "PROPERTY_SHOP", "WATER"]
    assert runs[-3:] == [("2025-12", 330), ("2026-01", 330), ("2026-02", 330)]
    assert [period for period, _ in runs[:-3]] == [f"{2024 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}" for month in range(3, 24)]
    assert flagged is not None and flagged >= 1


async def test_the_demo_has_paid_partly_paid_and_overdue_bills_and_a_receipt_per_payment(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        counts = {status: count for status, count in await session.execute(select(Bill.status, func.count()).group_by(Bill.status))}
        overdue = await session.scalar(
            select(func.count()).select_from(Bill).where(Bill.status != BillStatus.PAID, Bill.due_date < TODAY)
        )
        payments = await session.scalar(select(func.count()).select_from(Payment))
        receipts = await session.scalar(select(func.count()).select_from(Receipt))
    assert all(counts.get(status, 0) > 30 for status in BillStatus)
    assert overdue is not None and overdue > 100
    assert payments == receipts and payments is not None and payments > 300


async def test_owner1_flat_shows_a_paid_a_partly_paid_and_an_open_month(demo: async_sessionmaker[AsyncSession]) -> None:
    async with demo() as session:
        first_flat = await session.scalar(select(func.min(Unit.id)).where(Unit.kind == "APARTMENT"))
        bills = (await session.execute(select(Bill.period, Bill.status).where(Bill.unit_id == first_flat).order_by(Bill.period))).all()
    assert [status for _, status in bills[-3:]] == [BillStatus.PAID, BillStatus.PARTIALLY_PAID, BillStatus.OPEN]
    assert {status for _, status in bills[:-3]} == {BillStatus.PAID}  # its history, settled



# --- the reconciled month ----------------------------------------------------------------------------

FEBRUARY = [dt.date(2026, 2, 1) + dt.timedelta(days=n) for n in range(28)]
KINDS = ("AMOUNT_MISMATCH", "BANK_UNMATCHED", "CHANNEL_ONLY", "DUPLICATE_CHARGE", "REFUND_UNMATCHED", "UNRECEIVED")
SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _waiting_account_days(session: AsyncSession) -> set[tuple[str, dt.date]]:
    """(account name, day) of every open exception: the account of its own lines, else of its payments' channel."""
    accounts = {account.kind: account for account in await session.scalars(select(StatementAccount))}
    waiting = set()
    for exception in await session.scalars(select(ReconciliationException).where(ReconciliationException.status == ExceptionStatus.OPEN)):
        links = (
            await session.scalars(select(ExceptionLink).where(ExceptionLink.exception_id == exception.id, ExceptionLink.related.is_(False)))
        ).all()
        line_accounts = {
            account_id
            for account_id in await session.scalars(
                select(StatementLineRow.account_id).where(StatementLineRow.id.in_([link.line_id for link in links if link.line_id]))
            )
        }
        if line_accounts:
            waiting |= {(next(a.name for a in accounts.values() if a.id == account_id), exception.day) for account_id in line_accounts}
        else:
            channels = set(
                await session.scalars(select(Payment.channel).where(Payment.id.in_([link.payment_id for link in links if link.payment_id])))
            )
            assert channels == {PaymentChannel.WECHAT}
            waiting.add((accounts[StatementAccountKind.WECHAT].name, exception.day))
    return waiting


async def test_the_demo_leaves_one_open_exception_of_each_kind_in_the_month_before_today(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        found = (await session.execute(select(ReconciliationException.kind, ReconciliationException.status, ReconciliationException.day))).all()
    assert sorted(kind for kind, _, _ in found) == sorted(KINDS)
    assert {status for _, status, _ in found} == {ExceptionStatus.OPEN}
    assert {day for _, _, day in found} <= set(FEBRUARY)


async def test_every_clean_account_day_of_the_month_is_closed_by_the_finance_login_and_the_others_wait(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        closes = (
            await session.execute(select(DailyClose, StatementAccount.name).join(StatementAccount).order_by(DailyClose.account_id, DailyClose.day))
        ).all()
        waiting = await _waiting_account_days(session)
        finance = await session.scalar(select(User.id).where(User.email == "finance@demo.courtyard"))
        names = set(await session.scalars(select(StatementAccount.name)))
    closed = {(name, close.day) for close, name in closes}
    assert len(names) == 2 and len(waiting) == 3 and len(closed) == 53
    assert closed | waiting == {(name, day) for name in names for day in FEBRUARY}
    assert closed.isdisjoint(waiting)
    assert all(close.open_exception_count == 0 and close.sign_off_reason is None and close.closed_by == finance for close, _ in closes)
    # closed each morning, three days on (a payment's two days to show on a statement, and its settlement)
    assert {close.closed_at.astimezone(SHANGHAI) - dt.datetime.combine(close.day, dt.time(), SHANGHAI) for close, _ in closes} == {
        dt.timedelta(days=3, hours=9, minutes=30)
    }
    # a day opens with the balance the day before closed with, on each account
    for (earlier, name), (later, same) in zip(closes, closes[1:]):
        if name == same and later.day - earlier.day == dt.timedelta(days=1):
            assert later.opening_balance == earlier.closing_balance, (name, later.day)
    # and money moved: WeChat clearing rose with payments and fell with settlements, the bank account rose
    assert any(close.closing_balance < close.opening_balance for close, name in closes if close.clearing_account.startswith("CLEARING"))
    assert any(close.closing_balance > close.opening_balance for close, name in closes if close.clearing_account.startswith("BANK"))


async def test_every_statement_line_of_the_month_is_matched_or_held_by_an_open_exception_and_every_wechat_day_settled(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        lines = (
            await session.execute(select(StatementLineRow.id, StatementLineRow.source, StatementLineRow.booked_at, StatementLineRow.account_id))
        ).all()
        owned = set(await session.scalars(held_line_ids()))
        settled_days = {(account_id, day) for account_id, day in await session.execute(select(SettledDay.account_id, SettledDay.day))}
        held = set(await session.scalars(select(ExceptionLink.line_id).where(ExceptionLink.related.is_(False))))
        files = (await session.execute(select(StatementAccount.kind, func.count()).join(StatementFile).group_by(StatementAccount.kind))).all()
    in_february = [(id_, source) for id_, source, at, _ in lines if at.astimezone(SHANGHAI).date() in FEBRUARY]
    unsettled = [
        id_ for id_, source, at, account_id in lines
        if source == "WECHAT" and at.astimezone(SHANGHAI).date() in FEBRUARY and (account_id, at.astimezone(SHANGHAI).date()) not in settled_days
    ]
    assert dict(files)[StatementAccountKind.WECHAT] >= 10 and dict(files)[StatementAccountKind.BANK] >= 10
    assert [id_ for id_, _ in in_february if id_ not in owned | held] == []
    assert len([id_ for id_, _ in in_february if id_ in held]) == 5  # the gateway's three planted lines, a duplicate, an unknown credit
    assert unsettled == []


async def test_a_clean_days_imported_wechat_bill_is_the_bill_the_sandbox_writes_for_it(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        project_id = await session.scalar(select(Project.id))
        wechat_files = (
            await session.scalars(
                select(StatementFile).join(StatementAccount).where(StatementAccount.kind == StatementAccountKind.WECHAT).order_by(StatementFile.id)
            )
        ).all()
        waiting = {day for name, day in await _waiting_account_days(session) if name == SandboxProvider.merchant_id}
    assert project_id is not None
    clean = [f for f in wechat_files if dt.datetime.strptime(f.filename.split("_")[1], "%Y%m%d").date() not in waiting]
    assert len(clean) >= 8
    for file in clean:
        day = dt.datetime.strptime(file.filename.split("_")[1], "%Y%m%d").date()
        content = await write_sandbox_statement(demo, None, project_id=project_id, day=day, now=dt.datetime(2026, 3, 15, 2, tzinfo=dt.UTC))
        assert content is not None and hashlib.sha256(content).hexdigest() == file.file_hash, day


async def test_the_demo_shows_a_dunning_policy_and_a_month_of_reminders_with_their_statuses(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        policy = await session.scalar(select(DunningPolicy))
        levels = list(await session.scalars(select(DunningLevel.code).order_by(DunningLevel.position)))
        days = (await session.execute(select(func.min(DunningRun.day), func.max(DunningRun.day), func.count()))).one()
        # the dunning messages: the outbox also holds the demo announcement's (relayed by the same worker)
        dunning_messages = select(Message.status, func.count()).where(
            Message.kind.not_in([MessageKind.ANNOUNCEMENT, MessageKind.ANNOUNCEMENT_REMINDER])
        )
        statuses = dict((await session.execute(dunning_messages.group_by(Message.status))).all())
        kinds = set(await session.scalars(select(DunningNotice.level_code).distinct()))
    # the finance desk's policy, saved, with repairs held above ¥2,000 overdue
    assert policy is not None and policy.repair_block_threshold == Decimal("2000.00")
    assert levels == ["T-7", "T0", "T+3", "T+15", "T+30"]
    # a pass every morning for the month before today, and today's
    assert days == (TODAY - dt.timedelta(days=30), TODAY, 31)
    # reminders sent by SMS, follow-ups delivered to the finance desk's inbox, those paid before the relay
    # cancelled, and those of the owner who muted overdue notices disabled
    assert {MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.CANCELLED, MessageStatus.DISABLED_BY_USER} <= set(statuses)
    assert statuses[MessageStatus.CANCELLED] == 3 and statuses[MessageStatus.SENT] > 50
    assert {"T+3", "T+15", "T+30"} <= kinds


async def test_the_demo_invoices_this_months_payments_by_themselves_last_month_by_batch_and_corrects_a_reversal(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    march = dt.datetime(2026, 3, 1, tzinfo=SHANGHAI)
    async with demo() as session:
        invoices = list(await session.scalars(select(Invoice).order_by(Invoice.id)))
        links = dict((await session.execute(select(InvoicedPayment.payment_id, InvoicedPayment.invoice_id))).all())
        payments = list(await session.scalars(select(Payment).order_by(Payment.id)))
        reversed_ids = set(await session.scalars(select(PaymentReversal.payment_id).where(PaymentReversal.kind == ReversalKind.REVERSAL)))
        deliveries = set(await session.scalars(select(Message.idempotency_key).where(Message.kind == MessageKind.INVOICE_ISSUED)))
        titles = {title.id: title for title in await session.scalars(select(InvoiceTitle))}
    by_id = {invoice.id: invoice for invoice in invoices}

    # every invoice is issued, and each issued one is on its way to its buyer
    assert {invoice.status for invoice in invoices} == {InvoiceStatus.ISSUED}
    assert {f"invoice:{invoice.id}" for invoice in invoices if invoice.party_id is not None} <= deliveries
    # every payment of this month has its own automatic invoice for exactly what was paid
    this_month = [payment for payment in payments if payment.paid_at >= march]
    assert len(this_month) > 100
    for payment in this_month:
        invoice = by_id[links[payment.id]]
        assert invoice.batch_id is None and invoice.gross_total == payment.amount, payment.id
    # last month's payments not invoiced by themselves are on the batch's invoices, one per paying party;
    # a shop investor's several shops on one invoice made out to their company's title
    batched = [invoice for invoice in invoices if invoice.batch_id is not None]
    assert len(batched) > 50 and len({invoice.party_id for invoice in batched}) == len(batched)
    on_batch = [payment for payment in payments if payment.id in links and by_id[links[payment.id]].batch_id is not None]
    assert {payment.paid_at.astimezone(SHANGHAI).strftime("%Y-%m") for payment in on_batch} == {"2026-02"}
    for invoice in batched:
        assert invoice.gross_total == sum(p.amount for p in on_batch if links[p.id] == invoice.id), invoice.id
    merchants = [invoice for invoice in batched if invoice.title_id is not None]
    assert merchants and all(invoice.buyer_kind is PartyType.COMPANY for invoice in merchants)
    assert all(credit_code_problem(invoice.buyer_tax_code or "") is None for invoice in merchants)
    assert any(sum(links[p.id] == invoice.id for p in on_batch) >= 2 for invoice in merchants)
    assert all(titles[invoice.title_id or 0].party_id == invoice.party_id for invoice in merchants)
    # and the transfer entered twice is reversed: a red-letter invoice takes back its whole invoice
    (red,) = [invoice for invoice in invoices if invoice.colour is InvoiceColour.RED]
    blue = by_id[red.corrects_invoice_id or 0]
    (reversed_payment,) = reversed_ids & {payment.id for payment in this_month}
    assert links[reversed_payment] == blue.id
    assert (red.gross_total, red.net_total, red.tax_total) == (-blue.gross_total, -blue.net_total, -blue.tax_total)
    document = parse_einvoice((red.xml or "").encode("utf-8"))
    assert document.content.original_number == blue.number
    assert document.content.amount_in_capitals.startswith("负") and red.remark is not None and blue.number in red.remark


# --- two years of history and the overdue-risk score -------------------------------------------------


async def test_the_demos_two_years_of_history_train_a_scorecard_that_beats_the_rule_baseline(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        late_history = await session.scalar(
            select(func.count()).select_from(Bill).where(Bill.period < "2025-12", Bill.late_fee_amount > 0)
        )
        project = await session.scalar(select(Project))
        assert project is not None
        finance = Principal(0, {project.id: frozenset({Role.FINANCE})})
    scorecard = await get_risk_scorecard(demo, finance, project_id=project.id)
    ranking = await read_bill_risks(demo, finance, project_id=project.id, limit=10)
    # history bills paid late carry their late fee; the scorecard learned from them and was judged on the latest quarter
    assert late_history is not None and late_history > 300
    assert scorecard.enabled and scorecard.validation is not None and scorecard.model is not None
    assert scorecard.validation.model.auc > scorecard.validation.baseline.auc > 0.6
    assert scorecard.validation.model.top_decile_lift >= scorecard.validation.baseline.top_decile_lift > 2
    assert scorecard.model.weights["late_of_last_six"] > 0 and scorecard.model.weights["new_occupant"] > 0
    # the riskiest open bills come first, scored by the scorecard, each with its reasons in words
    assert ranking.total > 300
    top = [item for item, _, _ in ranking.bills]
    assert all(item.risk.by_model for item in top) and top[0].risk.probability > 0.8
    assert [item.risk.probability for item in top] == sorted((item.risk.probability for item in top), reverse=True)
    assert all(1 <= len(item.risk.top_reasons()) <= 3 and item.risk.top_reasons()[0].text() for item in top)
