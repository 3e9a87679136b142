"""The demo community's books: rules, readings, three months of bills and payments, balanced ledger, and a
month of dunning."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.demo import seed_demo
from billing.ledger_check import check_project_ledger
from db.base import Base
from db.migrate import upgrade_to_head
from db.models import (
    Bill,
    BillRun,
    BillStatus,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    FeeRule,
    Message,
    MeterReading,
    Payment,
    Project,
    Receipt,
    Unit,
)
from db.personal_data import PersonalDataCipher
from db.session import create_engine, create_session_factory
from kernel.vocabulary import MessageStatus
from tests.conftest import PostgresServer, missing_service

TODAY = dt.date(2026, 3, 15)
CIPHER = PersonalDataCipher("demo-billing-test-secret-0123456789")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The demo seeded once per database: a fresh SQLite file, or the session's PostgreSQL emptied."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo-billing') / 'demo.db'}"
    else:
        if postgres_server.url is None:
            missing_service(postgres_server.unavailable_reason or "PostgreSQL unavailable")
        assert postgres_server.url is not None
        url = postgres_server.url
    engine = create_engine(url)
    try:
        if request.param == "sqlite":
            await upgrade_to_head(engine)
        else:
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        session_factory = create_session_factory(engine)
        await seed_demo(session_factory, CIPHER, today=TODAY)
        yield session_factory
    finally:
        await engine.dispose()


async def test_the_demo_books_balance(demo: async_sessionmaker[AsyncSession]) -> None:
    async with demo() as session:
        project_id = await session.scalar(select(Project.id))
        assert project_id is not None
        report = await check_project_ledger(session, project_id)
    assert report.problems == ()
    assert report.total_debit == report.total_credit > 0
    assert report.bills_checked == 3 * 330


async def test_the_demo_bills_the_three_months_before_today_with_the_residential_rule_book(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        codes = sorted(await session.scalars(select(FeeRule.code)))
        runs = [(run.period, run.bill_count) for run in await session.scalars(select(BillRun).order_by(BillRun.period))]
        flagged = await session.scalar(select(func.count()).select_from(MeterReading).where(MeterReading.flagged_for_review))
    assert codes == ["COMMON_ELECTRICITY", "ELECTRICITY", "PARKING", "PROPERTY", "PROPERTY_SHOP", "WATER"]
    assert runs == [("2025-12", 330), ("2026-01", 330), ("2026-02", 330)]
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
    assert [status for _, status in bills] == [BillStatus.PAID, BillStatus.PARTIALLY_PAID, BillStatus.OPEN]



async def test_the_demo_shows_a_dunning_policy_and_a_month_of_reminders_with_their_statuses(
    demo: async_sessionmaker[AsyncSession],
) -> None:
    async with demo() as session:
        policy = await session.scalar(select(DunningPolicy))
        levels = list(await session.scalars(select(DunningLevel.code).order_by(DunningLevel.position)))
        days = (await session.execute(select(func.min(DunningRun.day), func.max(DunningRun.day), func.count()))).one()
        statuses = dict((await session.execute(select(Message.status, func.count()).group_by(Message.status))).all())
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
