"""The reports' facts (collection flows, settled residuals, arrears spans) equal what they summarise after
every step of a random sequence of money operations through GraphQL, on both databases: bill runs,
payments, batch payments, reversals, refunds of credit, credit and debit adjustments, on a moving clock;
and the reports read from them agree with the bill-by-bill reference at the end."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import httpx
from sqlalchemy import func, select
from zoneinfo import ZoneInfo

from api.state import AppState
from billing.model import BillingPeriod
from billing.reports.facts import facts_discrepancies
from billing.reports.per_bill import ageing_per_bill, collection_per_bill
from billing.reports.reading import read_arrears_ageing, read_collection_rate
from db.models import Bill, Payment, SettledResidual
from tests.conftest import Clock
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance and the facts agree after the test)
    create_rule,
    pay,
    run_billing,
)
from tests.integration.world import World, build_world, gid, gql

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNITS = ("alice", "bob", "vacant", "shop")

BATCH = """
mutation ($input: RecordBatchPaymentInput!) { recordBatchPayment(input: $input) { __typename ... on Error { code message } } }
"""
REVERSE = """
mutation ($input: ReversePaymentInput!) { reversePayment(input: $input) { __typename ... on Error { code message } } }
"""
REFUND = """
mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename ... on Error { code message } } }
"""
ADJUST = """
mutation ($input: CreateAdjustmentInput!) { createAdjustment(input: $input) { __typename ... on Error { code message } } }
"""


def _on(clock: Clock, day: dt.date, hour: int) -> None:
    clock.now = dt.datetime.combine(day, dt.time(hour), SHANGHAI).astimezone(dt.UTC)


def _yuan(rng: random.Random, low: int, high: int) -> str:
    return str(Decimal(rng.randint(low * 100, high * 100)).scaleb(-2))


async def _facts_agree(state: AppState, project_id: int, step: str) -> None:
    async with state.session_factory() as session:
        assert await facts_discrepancies(session, project_id) == [], step


async def _an_operation(
    client: httpx.AsyncClient, state: AppState, world: World, rng: random.Random, serial: int
) -> str:
    """One random money operation through GraphQL; answers what it was and how it ended (refusals such as
    a credit larger than the bill owes are part of the walk: they must write nothing)."""
    token = world.token("finance_a")
    draw = rng.random()
    if draw < 0.35:
        unit = rng.choice(UNITS)
        await pay(client, world, unit, _yuan(rng, 20, 700), f"walk-{serial}", channel=rng.choice(("WECHAT", "CASH", "ALIPAY")))
        return f"payment by {unit}"
    if draw < 0.5:
        units = rng.sample(UNITS, rng.randint(2, 3))
        items = [{"unitId": world.gid(f"Unit:{unit}"), "amount": _yuan(rng, 20, 500)} for unit in units]
        result = await gql(
            client,
            BATCH,
            {"input": {"projectId": world.gid("Project:lakeside"), "channel": "BANK_TRANSFER", "payerName": "物业代缴",
                       "items": items, "idempotencyKey": f"walk-batch-{serial}"}},
            token=token,
        )
        return f"batch for {units}: {result['data']['recordBatchPayment']['__typename']}"
    async with state.session_factory() as session:
        payments = list(await session.scalars(select(Payment.id).where(Payment.project_id == world.ids["Project:lakeside"])))
        bills = list(await session.scalars(select(Bill.id).where(Bill.project_id == world.ids["Project:lakeside"])))
    if draw < 0.65 and payments:
        payment = rng.choice(payments)
        result = await gql(client, REVERSE, {"input": {"paymentId": gid("Payment", payment), "reason": "退票"}}, token=token)
        return f"reversal of payment {payment}: {result['data']['reversePayment']}"
    if draw < 0.75 and payments:
        payment = rng.choice(payments)
        result = await gql(
            client, REFUND, {"input": {"paymentId": gid("Payment", payment), "amount": _yuan(rng, 1, 30), "reason": "退款"}},
            token=token,
        )
        return f"refund of payment {payment}: {result['data']['refundPayment']}"
    if bills:
        bill = rng.choice(bills)
        kind = rng.choice(("CREDIT", "CREDIT", "DEBIT"))
        result = await gql(
            client,
            ADJUST,
            {"input": {"billId": gid("Bill", bill), "kind": kind, "amount": _yuan(rng, 1, 60), "reason": "调整"}},
            token=token,
        )
        return f"{kind} adjustment of bill {bill}: {result['data']['createAdjustment']}"
    return "nothing to adjust yet"


async def test_the_facts_equal_the_books_after_every_step_of_a_random_walk_of_money_operations(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    rng = random.Random(16)
    _on(clock, dt.date(2026, 7, 1), 9)
    world = await build_world(state)
    project_id = world.ids["Project:lakeside"]
    token = world.token("finance_a")
    await create_rule(client, world, token, code="PROPERTY", kind="PER_AREA", name="物业费", effectiveFrom="2026-01-01",
                      ratePerSquareMetre="2.80")
    await create_rule(client, world, token, code="SERVICE", kind="FIXED", name="服务费", effectiveFrom="2026-01-01",
                      amountPerCycle="50.00")
    serial = 0
    periods = [BillingPeriod.parse(label) for label in ("2026-06", "2026-07", "2026-08", "2026-09")]
    for period in periods:
        issued = period.end + dt.timedelta(days=1)
        _on(clock, issued, 9)
        await run_billing(client, world, period.label)
        await _facts_agree(state, project_id, f"run {period.label}")
        days = sorted(issued + dt.timedelta(days=rng.randint(0, 29)) for _ in range(7))
        for day in days:
            _on(clock, day, rng.randint(10, 20))
            serial += 1
            step = await _an_operation(client, state, world, rng, serial)
            await _facts_agree(state, project_id, f"{day}: {step}")

    today = clock.now.astimezone(SHANGHAI).date()
    for as_of in (dt.date(2026, 7, 20), dt.date(2026, 9, 1), dt.date(2026, 9, 17), today):
        shown = [period for period in periods if period.start <= as_of]
        in_sql = (
            await read_collection_rate(
                state.session_factory, None, project_id=project_id, first_period=shown[0].label,
                last_period=shown[-1].label, as_of=as_of, now=clock.now,
            )
        ).report
        ageing = (await read_arrears_ageing(state.session_factory, None, project_id=project_id, as_of=as_of, top=10, now=clock.now)).report
        async with state.session_factory() as session:
            assert in_sql == await collection_per_bill(session, project_id=project_id, periods=shown, as_of=as_of, zone=SHANGHAI), as_of
            assert ageing == await ageing_per_bill(session, project_id=project_id, as_of=as_of, zone=SHANGHAI, top=10), as_of
    # The walk reached what the facts are for: money collected, arrears recovered, a bill settled against
    # its credit, and bills open on the last day.
    assert in_sql.total_of("2026-09").collected > 0
    assert any(line.figures.arrears_recovered != 0 for line in in_sql.totals)
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(SettledResidual)) > 0
    assert ageing.total.total > 0
