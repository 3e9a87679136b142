"""Concurrent money requests through the server, on SQLite and PostgreSQL: 20–30 GraphQL requests at once
against one bill or one payment. Whatever the interleaving, every check a use case makes holds against
what the others committed: exactly the right number is accepted, the rest get a typed error (never
INTERNAL_SERVER_ERROR), the amounts add up to the fen and `ledgerCheck` passes.

With the standard rules and no readings, November bills alice 268.20, issued 2026-11-02.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from api.state import AppState
from db.models import Adjustment, Bill, JournalEntry, Payment, PaymentAllocation, PaymentReversal, Receipt
from tests.integration.billing_world import (
    RECORD_PAYMENT,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

REFUND = """
mutation ($input: RefundPaymentInput!) {
  refundPayment(input: $input) { __typename ... on Refund { kind amount } ... on Error { code field message } }
}"""

REVERSE = """
mutation ($input: ReversePaymentInput!) {
  reversePayment(input: $input) { __typename ... on Refund { kind amount } ... on Error { code field message } }
}"""

ADJUST = """
mutation ($input: CreateAdjustmentInput!) {
  createAdjustment(input: $input) {
    __typename ... on Adjustment { amount } ... on Error { code field message }
  }
}"""

WAIVE = """
mutation ($input: CreateWaiverInput!) {
  createWaiver(input: $input) { __typename ... on Waiver { id } ... on Error { code field message } }
}"""

RUN = """
mutation ($projectId: ID!, $period: String!) {
  runBilling(projectId: $projectId, period: $period) { __typename ... on BillRun { billCount } ... on Error { code field message } }
}"""

LEDGER = "query ($projectId: ID!) { ledgerCheck(projectId: $projectId) { ok problems } }"

BILL = """
query ($id: ID!) {
  node(id: $id) {
    ... on Bill { status amountDue adjustmentAmount
                  lines { ruleCode kind amount } }
  }
}"""

BILLS = """
query ($unitId: ID!) {
  bills(filter: { unitId: $unitId }) { edges { node { id period } } }
}"""

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class InFlight:
    """The app behind a counter of the requests it is serving at once, to show that a test's requests
    really overlapped rather than ran one after another."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@pytest.fixture
async def racing(app: Starlette) -> AsyncIterator[tuple[httpx.AsyncClient, InFlight]]:
    counted = InFlight(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=counted), base_url="http://testserver") as http:
        yield http, counted


async def _at_once(
    racing: tuple[httpx.AsyncClient, InFlight], query: str, variables: list[dict[str, Any]], *, token: str
) -> list[dict[str, Any]]:
    """Send every request at once; answer each one's only root field, after checking none crashed."""
    http, counted = racing
    counted.most = 0
    results = await asyncio.gather(*(gql(http, query, each, token=token) for each in variables))
    assert counted.most >= min(len(variables), 5), f"only {counted.most} requests overlapped"
    for result in results:
        assert "errors" not in result, result
    return [next(iter(result["data"].values())) for result in results]


def _outcomes(payloads: list[dict[str, Any]]) -> Counter[str]:
    return Counter(payload.get("code") or payload["__typename"] for payload in payloads)


async def _ledger_ok(client: httpx.AsyncClient, world: World) -> None:
    check = await gql(client, LEDGER, {"projectId": world.gid("Project:lakeside")}, token=world.token("finance_a"))
    assert check["data"]["ledgerCheck"] == {"ok": True, "problems": []}


async def _november(client: httpx.AsyncClient, state: AppState) -> tuple[World, str]:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    bills = await gql(client, BILLS, {"unitId": world.gid("Unit:alice")}, token=world.token("finance_a"))
    return world, bills["data"]["bills"]["edges"][0]["node"]["id"]


async def _bill(client: httpx.AsyncClient, world: World, bill_id: str) -> dict[str, Any]:
    result = await gql(client, BILL, {"id": bill_id}, token=world.token("finance_a"))
    return result["data"]["node"]  # type: ignore[no-any-return]


def _payment_input(world: World, amount: str, key: str) -> dict[str, Any]:
    return {
        "input": {
            "unitId": world.gid("Unit:alice"),
            "amount": amount,
            "channel": "BANK_TRANSFER",
            "payerName": "王丽",
            "idempotencyKey": key,
        }
    }


async def test_thirty_concurrent_submissions_with_one_idempotency_key_record_one_payment(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    world, bill_id = await _november(client, state)

    payments = await _at_once(
        racing, RECORD_PAYMENT, [_payment_input(world, "150.00", "one-key")] * 30, token=world.token("finance_a")
    )

    assert _outcomes(payments) == {"Payment": 30}
    assert len({payment["id"] for payment in payments}) == 1
    assert {payment["receipt"]["number"] for payment in payments} == {"R-000001"}
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 1
        assert await session.scalar(select(func.count()).select_from(PaymentAllocation)) == 1
        assert await session.scalar(select(func.count()).select_from(Receipt)) == 1
    assert (await _bill(client, world, bill_id))["amountDue"] == "118.20"
    await _ledger_ok(client, world)


async def test_thirty_concurrent_payments_on_one_bill_pay_it_exactly_once_and_keep_the_rest_as_credit(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    world, bill_id = await _november(client, state)

    payments = await _at_once(
        racing,
        RECORD_PAYMENT,
        [_payment_input(world, "20.00", f"key-{n}") for n in range(30)],
        token=world.token("finance_a"),
    )

    assert _outcomes(payments) == {"Payment": 30}
    allocated = sum(Decimal(a["principal"]) for payment in payments for a in payment["allocations"])
    credit = sum(Decimal(payment["creditLeft"]) for payment in payments)
    assert (allocated, credit) == (Decimal("268.20"), Decimal("331.80"))
    assert sorted(payment["receipt"]["number"] for payment in payments) == [f"R-{n:06d}" for n in range(1, 31)]
    bill = await _bill(client, world, bill_id)
    assert (bill["status"], bill["amountDue"]) == ("PAID", "0.00")
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 30
        assert await session.scalar(
            select(Bill.principal_paid).where(Bill.unit_id == world.ids["Unit:alice"], Bill.period == "2026-11")
        ) == Decimal("268.20")
    await _ledger_ok(client, world)


async def test_twenty_concurrent_refunds_of_one_payment_give_back_at_most_its_credit(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    # given 1,076.15 paid on a 268.20 bill: 807.95 of credit, enough for 16 refunds of 50.00
    world, _ = await _november(client, state)
    payment = await pay(client, world, "alice", "1076.15", "big")

    refunds = await _at_once(
        racing,
        REFUND,
        [{"input": {"paymentId": payment["id"], "amount": "50.00", "reason": f"多付 {n}"}} for n in range(20)],
        token=world.token("finance_a"),
    )

    assert _outcomes(refunds) == {"Refund": 16, "BAD_USER_INPUT": 4}
    assert {refund["field"] for refund in refunds if refund["__typename"] != "Refund"} == {"amount"}
    async with state.session_factory() as session:
        assert await session.scalar(select(func.sum(PaymentReversal.amount))) == Decimal("800.00")
        assert await session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "REFUND")) == 16
    await _ledger_ok(client, world)


async def test_concurrent_refunds_and_reversals_of_one_payment_give_back_exactly_what_came_in(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    world, bill_id = await _november(client, state)
    payment = await pay(client, world, "alice", "1076.15", "big")
    token = world.token("finance_a")
    refund = {"input": {"paymentId": payment["id"], "amount": "100.00", "reason": "多付"}}
    reverse = {"input": {"paymentId": payment["id"], "reason": "退票"}}

    http, counted = racing
    counted.most = 0
    sent = [gql(http, REFUND, refund, token=token) for _ in range(15)] + [gql(http, REVERSE, reverse, token=token) for _ in range(5)]
    results = await asyncio.gather(*sent)
    assert counted.most >= 5

    assert all("errors" not in result for result in results), results
    refunds = [result["data"]["refundPayment"] for result in results[:15]]
    reversals = [result["data"]["reversePayment"] for result in results[15:]]
    assert _outcomes(reversals) == {"Refund": 1, "CONFLICT": 4}
    accepted_refunds = [r for r in refunds if r["__typename"] == "Refund"]
    assert len(accepted_refunds) <= 8
    assert {r["code"] for r in refunds if r["__typename"] != "Refund"} <= {"BAD_USER_INPUT"}
    given_back = sum(Decimal(r["amount"]) for r in accepted_refunds + [r for r in reversals if r["__typename"] == "Refund"])
    assert given_back == Decimal("1076.15")
    async with state.session_factory() as session:
        assert await session.scalar(select(func.sum(PaymentReversal.amount))) == Decimal("1076.15")
        assert await session.scalar(select(func.count()).select_from(PaymentReversal)) == len(accepted_refunds) + 1
    bill = await _bill(client, world, bill_id)
    assert (bill["status"], bill["amountDue"]) == ("OPEN", "268.20")
    await _ledger_ok(client, world)


async def test_twenty_concurrent_full_credit_adjustments_of_one_bill_accept_exactly_one(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    world, bill_id = await _november(client, state)

    adjustments = await _at_once(
        racing,
        ADJUST,
        [{"input": {"billId": bill_id, "kind": "CREDIT", "amount": "268.20", "reason": f"补偿 {n}"}} for n in range(20)],
        token=world.token("finance_a"),
    )

    assert _outcomes(adjustments) == {"Adjustment": 1, "BAD_USER_INPUT": 19}
    bill = await _bill(client, world, bill_id)
    assert (bill["status"], bill["amountDue"], bill["adjustmentAmount"]) == ("PAID", "0.00", "-268.20")
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Adjustment)) == 1
        assert await session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "ADJUSTMENT")) == 1
    await _ledger_ok(client, world)


async def test_concurrent_partial_credits_and_payments_on_one_bill_never_take_it_below_zero(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    # given 20 credits of 20.00 and 10 payments of 10.00 at once on a 268.20 bill
    world, bill_id = await _november(client, state)
    token = world.token("finance_a")
    http, counted = racing
    counted.most = 0

    results = await asyncio.gather(
        *(gql(http, ADJUST, {"input": {"billId": bill_id, "kind": "CREDIT", "amount": "20.00", "reason": "补偿"}}, token=token)
          for _ in range(20)),
        *(gql(http, RECORD_PAYMENT, _payment_input(world, "10.00", f"key-{n}"), token=token) for n in range(10)),
    )

    assert counted.most >= 5
    assert all("errors" not in result for result in results), results
    credits = [result["data"]["createAdjustment"] for result in results[:20]]
    payments = [result["data"]["recordPayment"] for result in results[20:]]
    assert _outcomes(payments) == {"Payment": 10}
    assert set(_outcomes(credits)) <= {"Adjustment", "BAD_USER_INPUT"}
    credited = Decimal("20.00") * _outcomes(credits)["Adjustment"]
    allocated = sum(Decimal(a["principal"]) for payment in payments for a in payment["allocations"])
    kept = sum(Decimal(payment["creditLeft"]) for payment in payments)
    assert allocated + kept == Decimal("100.00")
    assert credited + allocated <= Decimal("268.20")
    bill = await _bill(client, world, bill_id)
    assert Decimal(bill["amountDue"]) == Decimal("268.20") - credited - allocated >= 0
    await _ledger_ok(client, world)


async def test_waivers_made_while_the_period_is_billed_are_applied_or_refused_never_lost(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    # given the standard rules; December is billed while 20 waivers of 1.00 of alice's property fee arrive
    world, _ = await _november(client, state)
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    token = world.token("finance_a")
    http, counted = racing
    counted.most = 0
    waiver = {"unitId": world.gid("Unit:alice"), "ruleCode": "PROPERTY", "period": "2026-12", "amount": "1.00"}

    results = await asyncio.gather(
        *(gql(http, WAIVE, {"input": {**waiver, "reason": f"减免 {n}"}}, token=token) for n in range(10)),
        gql(http, RUN, {"projectId": world.gid("Project:lakeside"), "period": "2026-12"}, token=token),
        *(gql(http, WAIVE, {"input": {**waiver, "reason": f"减免 {n}"}}, token=token) for n in range(10, 20)),
    )

    assert counted.most >= 5
    assert all("errors" not in result for result in results), results
    run = results[10]["data"]["runBilling"]
    waivers = [result["data"]["createWaiver"] for result in results[:10] + results[11:]]
    assert run["__typename"] == "BillRun"
    outcomes = _outcomes(waivers)
    assert set(outcomes) <= {"Waiver", "CONFLICT"}
    bills = await gql(client, BILLS, {"unitId": world.gid("Unit:alice")}, token=token)
    december = next(edge["node"]["id"] for edge in bills["data"]["bills"]["edges"] if edge["node"]["period"] == "2026-12")
    lines = (await _bill(client, world, december))["lines"]
    waived = -sum(Decimal(line["amount"]) for line in lines if line["kind"] == "WAIVER")
    assert waived == Decimal("1.00") * outcomes["Waiver"]
    await _ledger_ok(client, world)


async def test_refunds_while_a_run_applies_the_credit_never_spend_it_twice(
    client: httpx.AsyncClient, racing: tuple[httpx.AsyncClient, InFlight], state: AppState
) -> None:
    # given 1,076.15 paid on November's 268.20: 807.95 of credit; December's run applies 268.20 of it
    # while ten refunds of 100.00 arrive
    world, _ = await _november(client, state)
    payment = await pay(client, world, "alice", "1076.15", "big")
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    token = world.token("finance_a")
    http, counted = racing
    counted.most = 0
    refund = {"input": {"paymentId": payment["id"], "amount": "100.00", "reason": "多付"}}

    results = await asyncio.gather(
        *(gql(http, REFUND, refund, token=token) for _ in range(5)),
        gql(http, RUN, {"projectId": world.gid("Project:lakeside"), "period": "2026-12"}, token=token),
        *(gql(http, REFUND, refund, token=token) for _ in range(5)),
    )

    assert counted.most >= 5
    assert all("errors" not in result for result in results), results
    assert results[5]["data"]["runBilling"]["__typename"] == "BillRun"
    refunds = [result["data"]["refundPayment"] for result in results[:5] + results[6:]]
    assert set(_outcomes(refunds)) <= {"Refund", "BAD_USER_INPUT"}
    refunded = Decimal("100.00") * _outcomes(refunds)["Refund"]
    async with state.session_factory() as session:
        applied = await session.scalar(
            select(func.sum(PaymentAllocation.principal)).where(PaymentAllocation.source == "CREDIT")
        ) or Decimal(0)
    # the run applies what credit the refunds before it left, up to the bill; the refunds after it, what
    # the run left
    assert Decimal(0) <= applied <= Decimal("268.20")
    assert refunded + applied <= Decimal("807.95")
    again = await gql(
        client, "query ($id: ID!) { node(id: $id) { ... on Payment { creditLeft } } }", {"id": payment["id"]}, token=token
    )
    credit_left = Decimal(again["data"]["node"]["creditLeft"])
    assert credit_left == Decimal("807.95") - refunded - applied >= 0
    assert applied == Decimal("268.20") or credit_left == 0
    await _ledger_ok(client, world)
