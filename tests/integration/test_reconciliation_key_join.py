"""The matching run's exact-key join in the database changes nothing the run decides, on both databases.

A project is seeded — online orders paid at the channel, a desk payment, refunds, the WeChat bill and the
bank statement imported as files — with every case that makes a pairing unsure: a line charged twice, an
amount that differs, refunds on either side, one bill paid twice, a transaction id a bank line carries, a
desk reference equal to an order number, a payment without a line, a line without a payment. It is
reconciled twice: once as it runs, and once, on the same database emptied and seeded again, with a join
that finds no pair, so that the pure core sees the whole window as every run did before the join. The
matches, explanations, settlements, journal entries and exceptions must be the same, after a first run
and after a second one on a closed day with a late payment and a line charged again.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import false, select
from sqlalchemy.engine import make_url

from billing.reconciliation import key_join
from billing.reconciliation.accounts import AccountTerms, create_statement_account
from billing.reconciliation.closing import close_day
from billing.reconciliation.importing import import_statement
from billing.reconciliation.matching_run import run_reconciliation
from db.models import (
    Building,
    ExceptionLink,
    JournalLine,
    MatchLink,
    Organization,
    Payment,
    PaymentChannel,
    PaymentIntent,
    PaymentIntentStatus,
    PaymentReversal,
    Project,
    ReconciliationException,
    ReconciliationMatch,
    ReversalKind,
    SettledDay,
    RoleGrant,
    StatementAccountKind,
    StatementLineRow,
    Unit,
    User,
)
from db.session import create_engine, create_session_factory
from kernel.principal import Principal, Role
from kernel.vocabulary import UnitKind
from tests.conftest import _empty_postgres
from tests.unit.reconciliation.statements import bank_csv, wechat_bill, wechat_payment, wechat_refund

WECHAT, BANK = "1900000109", "6222000011112222"
DAY = dt.date(2026, 11, 1)
FIRST_RUN = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
SECOND_RUN = dt.datetime(2026, 11, 9, 2, 0, tzinfo=dt.UTC)
BANK_HEADER = ["交易日期", "流水号", "借方发生额", "贷方发生额", "对方户名", "摘要"]
BANK_PROFILE = {
    "date_column": "交易日期",
    "serial_column": "流水号",
    "debit_column": "借方发生额",
    "credit_column": "贷方发生额",
    "counterparty_name_column": "对方户名",
    "reference_column": "流水号",
    "encoding": "gbk",
}
# name: (amount, unit, what the channel and Courtyard hold beyond one line of the same amount)
ONLINE = {
    "exact": ("100.00", 1, ""),
    "coupon": ("80.00", 2, "coupon"),
    "charged_twice": ("200.00", 3, "second line"),
    "other_amount": ("50.00", 4, "line 49.70"),
    "refunded": ("150.00", 5, "refund 30.00 both sides"),
    "refund_not_at_channel": ("60.00", 6, "refund 10.00 in Courtyard only"),
    "same_bill_a": ("120.00", 7, "same bills"),
    "same_bill_b": ("120.00", 7, "same bills"),
    "no_line": ("70.00", 8, "no line"),
    "txid_on_a_bank_line": ("90.00", 9, "its transaction id is a bank line's serial"),
    "order_no_as_desk_reference": ("40.00", 10, "a desk payment has its order number as reference"),
    "exact_too": ("33.33", 11, ""),
}


def _order(name: str) -> str:
    return f"CY{list(ONLINE).index(name) + 1:014d}" if name in ONLINE else "CY99999999999999"


def _transaction(name: str) -> str:
    return f"4200{list(ONLINE).index(name) + 1:020d}" if name in ONLINE else "4200888888888888888888"


def _row(name: str, amount: str, *, time: str = "2026-11-01 10:00:00", coupon: str = "0.00") -> dict[str, str]:
    row = wechat_payment(0, amount, coupon=coupon, time=time)
    row.update({"商户号": WECHAT, "商户订单号": _order(name), "微信订单号": _transaction(name)})
    return row


def _wechat_rows() -> list[dict[str, str]]:
    twice = _row("charged_twice", "200.00", time="2026-11-01 10:05:00")
    twice["微信订单号"] = "4200999999999999999999"
    refund = wechat_refund(0, 0, "30.00", fee="0.18", time="2026-11-01 15:00:00")
    refund.update(
        {
            "商户号": WECHAT,
            "商户订单号": _order("refunded"),
            "微信订单号": _transaction("refunded"),
            "微信退款单号": "50000000000001",
            "商户退款单号": "RF00000001",
        }
    )
    rows = [
        _row(name, "49.70" if name == "other_amount" else amount, coupon="5.00" if extra == "coupon" else "0.00")
        for name, (amount, _, extra) in ONLINE.items()
        if extra != "no line"
    ]
    return [*rows, twice, refund, _row("late", "66.00", time="2026-11-01 11:00:00")]


def _net(rows: list[dict[str, str]]) -> Decimal:
    gross = sum(Decimal(row["订单金额"]) for row in rows)
    coupons = sum(Decimal(row["代金券金额"]) for row in rows)
    refunds = sum(Decimal(row["退款金额"]) for row in rows)
    fees = sum(Decimal(row["手续费"]) for row in rows).quantize(Decimal("0.01"))
    return gross - coupons - refunds - fees


def _bank_file() -> bytes:
    return bank_csv(
        [
            ["2026-11-02", "BR001", "", f"{_net(_wechat_rows()):.2f}", "财付通支付科技有限公司", "微信支付结算"],
            ["2026-11-02", _transaction("txid_on_a_bank_line"), "", "90.00", "某公司", "转账"],
            ["2026-11-01", "BR003", "", "999.00", "某公司", "来历不明"],
        ],
        header=BANK_HEADER,
    )


async def _seed(session_factory: Any) -> tuple[int, Principal, dict[str, int]]:
    """The project, its payments and refunds, its accounts and both statements; (project, finance, the
    accounts by "wechat" / "bank")."""
    paid_at = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    async with session_factory() as session, session.begin():
        organization = Organization(name="Key join")
        session.add(organization)
        await session.flush()
        project = Project(organization_id=organization.id, name="Lakeside", timezone="Asia/Shanghai", currency="CNY", settings={})
        user = User(email="finance@example.test", display_name="finance", password_hash="-")
        session.add_all([project, user])
        await session.flush()
        session.add(RoleGrant(user_id=user.id, project_id=project.id, role=Role.FINANCE))
        building = Building(project_id=project.id, name="1栋")
        session.add(building)
        await session.flush()
        units = [
            Unit(project_id=project.id, building_id=building.id, number=f"{n:03d}", floor=1, floor_area=Decimal("90"), kind=UnitKind.APARTMENT)
            for n in range(1, 13)
        ]
        session.add_all(units)
        await session.flush()
        payments = {
            name: Payment(
                project_id=project.id, unit_id=units[unit - 1].id, payer_name="业主", channel=PaymentChannel.WECHAT,
                external_reference=_transaction(name), amount=Decimal(amount), paid_at=paid_at,
            )
            for name, (amount, unit, _) in ONLINE.items()
        }
        payments["desk"] = Payment(
            project_id=project.id, unit_id=units[9].id, payer_name="王丽", channel=PaymentChannel.BANK_TRANSFER,
            external_reference=_order("order_no_as_desk_reference"), amount=Decimal("40.00"), paid_at=paid_at,
        )
        session.add_all(payments.values())
        await session.flush()
        for name, (amount, unit, extra) in ONLINE.items():
            session.add(_intent(project.id, units[unit - 1].id, name, amount, payments[name].id, same_bills=extra == "same bills"))
        for name, amount in (("refunded", "30.00"), ("refund_not_at_channel", "10.00")):
            session.add(
                PaymentReversal(
                    payment_id=payments[name].id, kind=ReversalKind.REFUND, amount=Decimal(amount), reason="退款",
                    created_by=user.id, created_at=paid_at + dt.timedelta(hours=5),
                )
            )
    finance = Principal(user_id=user.id, roles={project.id: frozenset({Role.FINANCE})})
    wechat = await create_statement_account(
        session_factory, finance, project_id=project.id, name=WECHAT, kind=StatementAccountKind.WECHAT,
        terms=AccountTerms(payout_min_days=1, payout_max_days=3, fee_rate=Decimal("0.006"), payout_account=BANK),
    )
    bank = await create_statement_account(
        session_factory, finance, project_id=project.id, name=BANK, kind=StatementAccountKind.BANK,
        terms=AccountTerms(report_days=3), bank_profile=BANK_PROFILE,
    )
    accounts = {"wechat": wechat.id, "bank": bank.id}
    for account, name, content in (("wechat", "wechat.csv", wechat_bill(_wechat_rows())), ("bank", "bank.csv", _bank_file())):
        await import_statement(session_factory, finance, account_id=accounts[account], content=content, filename=name, now=FIRST_RUN)
    return project.id, finance, accounts


def _intent(project_id: int, unit_id: int, name: str, amount: str, payment_id: int, *, same_bills: bool) -> PaymentIntent:
    paid_at = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
    return PaymentIntent(
        project_id=project_id, unit_id=unit_id, out_trade_no=_order(name), provider="sandbox", channel=PaymentChannel.WECHAT,
        amount=Decimal(amount), bill_ids=[9001] if same_bills else [9000 + unit_id], status=PaymentIntentStatus.PAID,
        expires_at=paid_at + dt.timedelta(minutes=30), payment_id=payment_id, provider_transaction_id=_transaction(name),
    )


async def _second_day_events(session_factory: Any, project_id: int, finance: Principal, accounts: dict[str, int]) -> None:
    """Close the day with its exceptions signed off; then the lost notification's payment arrives (its
    line was CHANNEL_ONLY) and the channel's next bill charges `exact_too` once more."""
    await close_day(session_factory, finance, project_id=project_id, day=DAY, sign_off_reason="待处理", now=FIRST_RUN)
    async with session_factory() as session, session.begin():
        unit_id = await session.scalar(select(Unit.id).where(Unit.project_id == project_id, Unit.number == "012"))
        assert unit_id is not None
        late = Payment(
            project_id=project_id, unit_id=unit_id, payer_name="业主", channel=PaymentChannel.WECHAT,
            external_reference=_transaction("late"), amount=Decimal("66.00"), paid_at=dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC),
        )
        session.add(late)
        await session.flush()
        session.add(_intent(project_id, unit_id, "late", "66.00", late.id, same_bills=False))
    again = _row("exact_too", "33.33", time="2026-11-01 18:00:00")
    again["微信订单号"] = "4200777777777777777777"
    await import_statement(
        session_factory, finance, account_id=accounts["wechat"], content=wechat_bill([again]), filename="again.csv", now=SECOND_RUN
    )


async def _snapshot(session_factory: Any, project_id: int) -> dict[str, Any]:
    """What the runs stored, by content: ids of matches, exceptions and journal entries left out (the two
    ways hand them out differently); the seeded lines, payments and refunds keep theirs."""
    async with session_factory() as session:
        links: dict[int, list[tuple[Any, ...]]] = {}
        for link in await session.scalars(select(MatchLink)):
            links.setdefault(link.match_id, []).append((link.line_id, link.payment_id, link.reversal_id))
        settled_days: dict[int, list[tuple[Any, ...]]] = {}
        for settled in await session.scalars(select(SettledDay)):
            settled_days.setdefault(settled.match_id, []).append((settled.account_id, settled.day))
        postings: dict[int, list[tuple[Any, ...]]] = {}
        for line in await session.scalars(select(JournalLine)):
            postings.setdefault(line.entry_id, []).append((line.account, line.debit, line.credit, line.payment_id))
        matches = sorted(
            [
                (
                    m.step, m.rule, repr(m.explanation), m.channel_fee, m.amount_difference, repr(m.settlement),
                    m.corrects_closed_day, m.undone_at, m.line_id, m.payment_id, tuple(sorted(links.get(m.id, []), key=repr)),
                    tuple(sorted(settled_days.get(m.id, []))),
                    tuple(sorted(postings.get(m.journal_entry_id, []), key=repr)) if m.journal_entry_id else (),
                )
                for m in await session.scalars(select(ReconciliationMatch).where(ReconciliationMatch.project_id == project_id))
            ],
            key=repr,
        )
        exception_links: dict[int, list[tuple[Any, ...]]] = {}
        for link in await session.scalars(select(ExceptionLink)):
            exception_links.setdefault(link.exception_id, []).append((link.line_id, link.payment_id, link.reversal_id, link.related))
        exceptions = sorted(
            [
                (
                    e.kind, e.status.value, e.difference, e.fee_explains, repr(e.explanation), tuple(e.suggested_payment_ids),
                    e.day, tuple(sorted(exception_links.get(e.id, []), key=repr)),
                )
                for e in await session.scalars(select(ReconciliationException).where(ReconciliationException.project_id == project_id))
            ],
            key=repr,
        )
        lines = int(len((await session.scalars(select(StatementLineRow.id))).all()))
    return {"matches": matches, "exceptions": exceptions, "lines": lines}


async def _both_runs(session_factory: Any, joined: list[int]) -> list[dict[str, Any]]:
    project_id, finance, accounts = await _seed(session_factory)
    snapshots = []
    store_new = key_join.KeyJoin.store_new

    async def counted(self: key_join.KeyJoin, **arguments: Any) -> int:
        stored = await store_new(self, **arguments)
        joined.append(stored)
        return stored

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(key_join.KeyJoin, "store_new", counted)
        await run_reconciliation(session_factory, finance, project_id=project_id, first_day=DAY, last_day=DAY, now=FIRST_RUN)
        snapshots.append(await _snapshot(session_factory, project_id))
        await _second_day_events(session_factory, project_id, finance, accounts)
        await run_reconciliation(session_factory, finance, project_id=project_id, first_day=DAY, last_day=DAY, now=SECOND_RUN)
        snapshots.append(await _snapshot(session_factory, project_id))
    return snapshots


async def _emptied(database_url: str, sqlite_template: Path) -> None:
    if database_url.startswith("sqlite"):
        shutil.copyfile(sqlite_template, make_url(database_url).database or "")
    else:
        await _empty_postgres(database_url)


async def test_the_join_in_the_database_decides_exactly_what_the_core_alone_decides(
    database_url: str, sqlite_template: Path
) -> None:
    # given the window reconciled as it runs, the database joining what it is sure of
    engine = create_engine(database_url)
    joined: list[int] = []
    with_join = await _both_runs(create_session_factory(engine), joined)
    await engine.dispose()
    # when the same window, seeded again, is reconciled by the core alone
    await _emptied(database_url, sqlite_template)
    engine = create_engine(database_url)
    with pytest.MonkeyPatch.context() as patch:
        pairs = key_join.KeyJoin._pairs
        patch.setattr(key_join.KeyJoin, "_pairs", lambda self, start, end: pairs(self, start, end).where(false()))
        alone: list[int] = []
        core_only = await _both_runs(create_session_factory(engine), alone)
    await engine.dispose()
    # then the join took the sure pairs (exact, coupon, exact_too; then late), the core none, and both
    # stored the same matches, journal entries and exceptions after each run
    assert with_join == core_only
    assert joined == [3, 1] and alone == [0, 0]
    first, second = with_join
    assert {kind for kind, *_ in first["exceptions"]} == {
        "AMOUNT_MISMATCH", "BANK_UNMATCHED", "CHANNEL_ONLY", "DUPLICATE_CHARGE", "REFUND_UNMATCHED", "UNRECEIVED",
    }
    assert any(step == "SETTLEMENT" for step, *_ in first["matches"])
    assert any(m[6] == DAY for m in second["matches"]), "the late payment's pair names the closed day"
