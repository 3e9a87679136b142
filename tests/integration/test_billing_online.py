"""Online payment: createPaymentIntent and the sandbox gateway's signed notifications, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from sqlalchemy import func, select

from api.state import AppState
from billing.providers import SANDBOX_SIGNATURE_HEADER, SandboxProvider
from db.models import Payment
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

INTENT = """
mutation ($billIds: [ID!]!, $channel: PaymentChannel!) {
  createPaymentIntent(billIds: $billIds, channel: $channel) {
    __typename
    ... on PaymentIntent { id outTradeNo amount amountFen status payload }
    ... on Error { code message field }
  }
}"""

MY_BILLS = "query { bills { edges { node { id status amountDue unit { number } } } } }"


async def _billed(client: httpx.AsyncClient, state: AppState) -> tuple[World, dict[str, str]]:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    result = await gql(client, MY_BILLS, token=world.token("finance_a"))
    return world, {edge["node"]["unit"]["number"]: edge["node"]["id"] for edge in result["data"]["bills"]["edges"]}


async def _intent(client: httpx.AsyncClient, world: World, bill_ids: list[str], user: str = "alice") -> dict[str, Any]:
    result = await gql(client, INTENT, {"billIds": bill_ids, "channel": "WECHAT"}, token=world.token(user))
    assert "errors" not in result, result
    return result["data"]["createPaymentIntent"]  # type: ignore[no-any-return]


def _sandbox(state: AppState) -> SandboxProvider:
    return state.services.payment_providers["sandbox"]  # type: ignore[no-any-return]


async def _notify(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/payments/notify/sandbox", content=body, headers=headers)


async def _payments(state: AppState) -> int:
    async with state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(Payment)) or 0)


async def test_an_owner_pays_online_and_a_retried_notification_records_once(client: httpx.AsyncClient, state: AppState) -> None:
    # given alice's order for her November bill
    world, bills = await _billed(client, state)
    intent = await _intent(client, world, [bills["101"]])
    assert (intent["status"], intent["amount"], intent["amountFen"]) == ("PENDING", "268.20", 26820)
    assert intent["payload"]["code_url"].startswith("sandbox://pay?out_trade_no=")
    # and the payer's gateway shows the community and the bill's period, not a database number
    assert intent["payload"]["description"] == "Lakeside 2026-11 账单缴费"
    body, headers = _sandbox(state).notification(
        out_trade_no=intent["outTradeNo"], transaction_id="4200001", amount_fen=26820, paid_at=dt.datetime(2026, 11, 2, 9, 1, tzinfo=dt.UTC)
    )

    # when the gateway notifies three times
    answers = [await _notify(client, body, headers) for _ in range(3)]

    # then each gets the acknowledgement and exactly one payment settles the bill
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(200, "SUCCESS")] * 3
    assert await _payments(state) == 1
    mine = await gql(client, MY_BILLS, token=world.token("alice"))
    assert [(e["node"]["status"], e["node"]["amountDue"]) for e in mine["data"]["bills"]["edges"]] == [("PAID", "0.00")]
    paid = await gql(
        client, "query ($id: ID!) { node(id: $id) { ... on PaymentIntent { status payment { channel externalReference } } } }",
        {"id": intent["id"]}, token=world.token("alice"),
    )
    assert paid["data"]["node"] == {"status": "PAID", "payment": {"channel": "WECHAT", "externalReference": "4200001"}}


async def test_unsigned_mis_signed_and_wrong_amount_notifications_change_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world, bills = await _billed(client, state)
    intent = await _intent(client, world, [bills["101"]])
    sandbox = _sandbox(state)
    paid_at = dt.datetime(2026, 11, 2, 9, 1, tzinfo=dt.UTC)
    body, headers = sandbox.notification(out_trade_no=intent["outTradeNo"], transaction_id="1", amount_fen=26820, paid_at=paid_at)
    wrong_amount, wrong_headers = sandbox.notification(
        out_trade_no=intent["outTradeNo"], transaction_id="2", amount_fen=1, paid_at=paid_at
    )
    forged = SandboxProvider("someone-else-entirely-0123456789").notification(
        out_trade_no=intent["outTradeNo"], transaction_id="3", amount_fen=26820, paid_at=paid_at
    )
    tampered = json.loads(body)
    tampered["transaction_id"] = "4"

    answers = [
        await _notify(client, body, {"content-type": "application/json"}),
        await _notify(client, *forged),
        await _notify(client, json.dumps(tampered).encode(), headers),
        await _notify(client, wrong_amount, wrong_headers),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(400, "FAIL")] * 4
    assert answers[0].json()["message"] == "unsigned notification"
    assert "differs" in answers[3].json()["message"]
    assert await _payments(state) == 0
    assert SANDBOX_SIGNATURE_HEADER in headers


async def test_owners_order_only_their_own_bills(client: httpx.AsyncClient, state: AppState) -> None:
    world, bills = await _billed(client, state)

    bobs = await _intent(client, world, [bills["102"]], user="alice")
    two_units = await _intent(client, world, [bills["101"], bills["102"]], user="finance_a")

    assert (bobs["code"], bobs["field"]) == ("NOT_FOUND", "billIds")
    assert (two_units["code"], two_units["field"]) == ("BAD_USER_INPUT", "billIds")
