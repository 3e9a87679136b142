"""Dates from the future and the project's own today, on SQLite and PostgreSQL: payment times ahead of the
clock, gateway notifications from the future or for expired orders, bill runs far ahead, and online
orders priced by the project's local date.

The clock starts at 2026-11-02 09:00 UTC (17:00 in Shanghai); November bills alice 268.20, due 2026-11-17.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.billing_cli import bill_run
from api.state import AppState
from billing.providers import SandboxProvider
from db.models import BillRun, Payment, PaymentIntent, PaymentIntentStatus
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

BATCH = """
mutation ($input: RecordBatchPaymentInput!) {
  recordBatchPayment(input: $input) { __typename ... on Error { code message field } }
}"""

RUN = """
mutation ($projectId: ID!, $period: String!, $dryRun: Boolean, $advanceReason: String) {
  runBilling(projectId: $projectId, period: $period, dryRun: $dryRun, advanceReason: $advanceReason) {
    __typename
    ... on BillRun { period billCount advanceReason }
    ... on BillRunPreview { period billCount }
    ... on Error { code message field }
  }
}"""

INTENT = """
mutation ($billIds: [ID!]!) {
  createPaymentIntent(billIds: $billIds, channel: WECHAT) {
    __typename ... on PaymentIntent { id outTradeNo amount amountFen } ... on Error { code message field }
  }
}"""

SET_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) { __typename ... on Error { field } }
}"""

MY_BILLS = "query { bills { edges { node { id period status amountDue lateFeeCharged } } } }"


def _now(state: AppState) -> dt.datetime:
    return state.clock()  # type: ignore[no-any-return]


async def _november(client: httpx.AsyncClient, state: AppState) -> World:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    return world


async def _count(state: AppState, model: type) -> int:
    async with state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _sandbox(state: AppState) -> SandboxProvider:
    return state.services.payment_providers["sandbox"]  # type: ignore[no-any-return]


async def _order(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    mine = await gql(client, MY_BILLS, token=world.token("alice"))
    bill_ids = [edge["node"]["id"] for edge in mine["data"]["bills"]["edges"]]
    result = await gql(client, INTENT, {"billIds": bill_ids}, token=world.token("alice"))
    assert result["data"]["createPaymentIntent"]["__typename"] == "PaymentIntent", result
    return result["data"]["createPaymentIntent"]  # type: ignore[no-any-return]


async def _notify(client: httpx.AsyncClient, state: AppState, intent: dict[str, Any], *, paid_at: dt.datetime, tx: str) -> httpx.Response:
    body, headers = _sandbox(state).notification(
        out_trade_no=intent["outTradeNo"], transaction_id=tx, amount_fen=intent["amountFen"], paid_at=paid_at
    )
    return await client.post("/payments/notify/sandbox", content=body, headers=headers)


# --- recordPayment and batches ------------------------------------------------------------------


async def test_a_payment_time_beyond_the_clock_skew_is_refused_naming_paid_at(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)
    now = _now(state)

    weeks_ahead = await pay(client, world, "alice", "100.00", "k1", paidAt=(now + dt.timedelta(days=45)).isoformat())
    minutes_ahead = await pay(client, world, "alice", "100.00", "k2", paidAt=(now + dt.timedelta(minutes=6)).isoformat())
    within_skew = await pay(client, world, "alice", "100.00", "k3", paidAt=(now + dt.timedelta(minutes=4)).isoformat())

    assert (weeks_ahead["code"], weeks_ahead["field"]) == ("BAD_USER_INPUT", "paidAt")
    assert "future" in weeks_ahead["message"]
    assert (minutes_ahead["code"], minutes_ahead["field"]) == ("BAD_USER_INPUT", "paidAt")
    assert within_skew["__typename"] == "Payment"
    assert await _count(state, Payment) == 1


async def test_a_batch_with_a_payment_time_in_the_future_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)
    batch = {
        "projectId": world.gid("Project:lakeside"),
        "channel": "BANK_TRANSFER",
        "payerName": "安居中介",
        "idempotencyKey": "agency",
        "paidAt": (_now(state) + dt.timedelta(days=1)).isoformat(),
        "items": [{"unitId": world.gid("Unit:alice"), "amount": "268.20"}],
    }

    result = await gql(client, BATCH, {"input": batch}, token=world.token("finance_a"))

    refused = result["data"]["recordBatchPayment"]
    assert (refused["code"], refused["field"]) == ("BAD_USER_INPUT", "paidAt")
    assert await _count(state, Payment) == 0


# --- gateway notifications ----------------------------------------------------------------------


async def test_a_notification_with_a_success_time_in_the_future_is_refused_and_books_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)
    intent = await _order(client, world)

    answer = await _notify(client, state, intent, paid_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC), tx="4200001")

    assert (answer.status_code, answer.json()["code"]) == (400, "FAIL")
    assert "success_time 2099-01-01T00:00:00+00:00 is in the future" in answer.json()["message"]
    assert await _count(state, Payment) == 0
    async with state.session_factory() as session:
        assert await session.scalar(select(PaymentIntent.status)) == PaymentIntentStatus.PENDING


async def test_a_payment_made_after_the_order_expired_is_refused_but_a_late_retry_of_one_in_time_is_booked(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given an order that expires 30 minutes after it was made
    world = await _november(client, state)
    made = _now(state)
    expired_intent = await _order(client, world)
    timely_intent = await _order(client, world)
    state.clock.advance(hours=2)  # type: ignore[attr-defined]

    # when the gateway reports one paid 40 minutes after the order, and another paid after 10 minutes
    # but notified only now
    too_late = await _notify(client, state, expired_intent, paid_at=made + dt.timedelta(minutes=40), tx="late")
    retried = await _notify(client, state, timely_intent, paid_at=made + dt.timedelta(minutes=10), tx="timely")

    # then
    assert (too_late.status_code, too_late.json()["code"]) == (400, "FAIL")
    assert f"order {expired_intent['outTradeNo']} expired at" in too_late.json()["message"]
    assert (retried.status_code, retried.json()["code"]) == (200, "SUCCESS")
    async with state.session_factory() as session:
        assert list(await session.scalars(select(Payment.external_reference))) == ["timely"]


async def test_an_owner_paying_online_in_full_at_0730_in_shanghai_owes_nothing_afterwards(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given 0.05 % a day of late fee after 5 days' grace, and the clock at 2026-12-08 07:30 in Shanghai
    # (2026-12-07 23:30 UTC): the order must price the late fee to 12-08, as the booking will
    world = await build_world(state)
    await standard_rules(client, world)
    policy = await gql(
        client,
        SET_POLICY,
        {"input": {"projectId": world.gid("Project:lakeside"), "lateFeeDailyRate": "0.0005", "lateFeeGraceDays": 5}},
        token=world.token("finance_a"),
    )
    assert policy["data"]["setBillingPolicy"]["__typename"] == "BillingPolicy"
    await run_billing(client, world, "2026-11")
    state.clock.now = dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC)  # type: ignore[attr-defined]

    # when alice orders and pays her bill online at once
    intent = await _order(client, world)
    answer = await _notify(client, state, intent, paid_at=_now(state) + dt.timedelta(minutes=1), tx="4200007")

    # then her bill is paid in full: 268.20 and 16 days (11-23 to 12-08) of 0.134 a day
    assert answer.status_code == 200, answer.text
    assert intent["amount"] == "270.35"
    mine = await gql(client, MY_BILLS, token=world.token("alice"))
    assert [(e["node"]["status"], e["node"]["amountDue"], e["node"]["lateFeeCharged"]) for e in mine["data"]["bills"]["edges"]] == [
        ("PAID", "0.00", "2.15")
    ]


# --- bill runs ----------------------------------------------------------------------------------


async def _run(client: httpx.AsyncClient, world: World, period: str, **arguments: Any) -> dict[str, Any]:
    result = await gql(
        client, RUN, {"projectId": world.gid("Project:lakeside"), "period": period, **arguments}, token=world.token("finance_a")
    )
    assert "errors" not in result, result
    return result["data"]["runBilling"]  # type: ignore[no-any-return]


async def test_a_run_for_a_period_after_the_next_one_needs_a_reason_which_the_run_keeps(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given today 2026-11-02 in Shanghai: November is this period, December the next one
    world = await build_world(state)
    await standard_rules(client, world)

    next_one = await _run(client, world, "2026-12")
    far_ahead = await _run(client, world, "2029-02")
    blank_reason = await _run(client, world, "2027-01", advanceReason="  ")
    preview = await _run(client, world, "2027-01", dryRun=True)
    with_reason = await _run(client, world, "2027-01", advanceReason="业主委员会决定预收 2027 年 1 月物业费")

    assert (next_one["__typename"], next_one["advanceReason"]) == ("BillRun", None)
    assert (far_ahead["code"], far_ahead["field"]) == ("BAD_USER_INPUT", "period")
    assert "starts after the next one (2026-12)" in far_ahead["message"]
    assert "advanceReason" in far_ahead["message"]
    assert (blank_reason["code"], blank_reason["field"]) == ("BAD_USER_INPUT", "period")
    assert preview["__typename"] == "BillRunPreview"
    assert (with_reason["period"], with_reason["billCount"], with_reason["advanceReason"]) == (
        "2027-01", 4, "业主委员会决定预收 2027 年 1 月物业费"
    )
    async with state.session_factory() as session:
        assert sorted(await session.scalars(select(BillRun.period))) == ["2026-12", "2027-01"]


async def test_the_command_line_refuses_a_far_period_without_advance_reason_and_keeps_the_one_given(
    client: httpx.AsyncClient, state: AppState, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await build_world(state)
    await standard_rules(client, world)

    refused = await bill_run(state.settings, project="Lakeside", period="2027-02", dry_run=False, now=_now(state))
    accepted = await bill_run(
        state.settings, project="Lakeside", period="2027-02", dry_run=False, now=_now(state), advance_reason="预收"
    )

    _, err = capsys.readouterr()
    assert (refused, accepted) == (1, 0)
    assert "courtyard: period: Period 2027-02 starts after the next one (2026-12)" in err
    async with state.session_factory() as session:
        assert list(await session.execute(select(BillRun.period, BillRun.advance_reason))) == [("2027-02", "预收")]
