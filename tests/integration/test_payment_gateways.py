"""Which payment gateways a deployment runs: the sandbox is off in production unless enabled, with its own key."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from api.state import AppState
from billing.providers import SandboxProvider
from tests.conftest import TEST_SECRET, Clock, serving
from tests.integration.billing_world import run_billing, standard_rules
from tests.integration.world import build_world, gql

SANDBOX_KEY = "sandbox-gateway-key-of-its-own-0123456789"
INTENT = """
mutation ($billIds: [ID!]!) {
  createPaymentIntent(billIds: $billIds, channel: WECHAT) {
    __typename ... on PaymentIntent { outTradeNo } ... on Error { code field }
  }
}"""
BILLS = "query { bills { edges { node { id } } } }"


@asynccontextmanager
async def production(database_url: str, tmp_path: Path, **gateways: object) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    settings = Settings(
        database_url=database_url, secret_key=TEST_SECRET, media_dir=tmp_path / "media", env="production", **gateways  # type: ignore[arg-type]
    )
    app = create_app(settings, clock=Clock(), migrate=False)
    async with serving(app) as client:
        yield app, client


async def _alices_bill(client: httpx.AsyncClient, state: AppState) -> tuple[str, str]:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    bills = await gql(client, BILLS, token=world.token("alice"))
    return world.token("alice"), bills["data"]["bills"]["edges"][0]["node"]["id"]


async def test_production_runs_no_sandbox_gateway_unless_enabled(database_url: str, tmp_path: Path) -> None:
    async with production(database_url, tmp_path) as (app, client):
        # when the sandbox's notify URL is called, and an owner asks to pay online
        notified = await client.post("/payments/notify/sandbox", content=b"{}", headers={"content-type": "application/json"})
        token, bill = await _alices_bill(client, app.state.courtyard)
        intent = await gql(client, INTENT, {"billIds": [bill]}, token=token)
    # then there is no such gateway
    assert notified.status_code == 404
    assert intent["data"]["createPaymentIntent"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "provider"}


async def test_an_enabled_production_sandbox_signs_with_its_own_key_not_the_secret(database_url: str, tmp_path: Path) -> None:
    async with production(database_url, tmp_path, sandbox_payments=True, sandbox_payment_key=SANDBOX_KEY) as (app, client):
        state: AppState = app.state.courtyard
        token, bill = await _alices_bill(client, state)
        intent = (await gql(client, INTENT, {"billIds": [bill]}, token=token))["data"]["createPaymentIntent"]
        paid_at = state.clock() + dt.timedelta(minutes=1)  # within the order's 30 minutes
        under_secret = SandboxProvider(TEST_SECRET).notification(
            out_trade_no=intent["outTradeNo"], transaction_id="1", amount_fen=26820, paid_at=paid_at
        )
        under_own_key = SandboxProvider(SANDBOX_KEY).notification(
            out_trade_no=intent["outTradeNo"], transaction_id="2", amount_fen=26820, paid_at=paid_at
        )
        answers = [await client.post("/payments/notify/sandbox", content=body, headers=headers) for body, headers in (under_secret, under_own_key)]
    assert intent["__typename"] == "PaymentIntent"
    assert [(answer.status_code, answer.json()["code"]) for answer in answers] == [(400, "FAIL"), (200, "SUCCESS")]
