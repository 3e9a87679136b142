"""The sandbox gateway's daily WeChat Pay and Alipay statements of its own payments, on SQLite and PostgreSQL.

On 2026-11-02 alice paid her November bill online twice (two orders for one bill, both paid through the
sandbox on the WECHAT channel), finance refunded the second, bob paid through the sandbox on ALIPAY and
carol at the desk by WeChat. The sandbox's WeChat bill of that day holds alice's two payments and the
refund, nothing else, and imports and matches like a real WeChat bill; its Alipay bill holds bob's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.reconcile_cli import reconcile_sandbox_statement
from api.state import AppState
from billing.providers import SandboxProvider
from billing.reconciliation.alipay import parse_alipay_bill
from billing.reconciliation.sandbox_statement import write_sandbox_statement
from billing.reconciliation.statement import LineKind
from billing.reconciliation.wechat import parse_wechat_bill
from db.models import PaymentChannel
from kernel.errors import BadInput
from tests.conftest import Clock
from tests.integration.authorization_world import multipart
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 11, 2)
INTENT = """
mutation ($billIds: [ID!]!, $channel: PaymentChannel!) {
  createPaymentIntent(billIds: $billIds, channel: $channel) { ... on PaymentIntent { id outTradeNo amountFen } ... on Error { code } }
}"""
BILLS = "query { bills { edges { node { id unit { number } } } } }"
REFUND = """
mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename ... on Error { code message } } }"""
PAYMENT_OF = "query ($id: ID!) { node(id: $id) { ... on PaymentIntent { payment { id } } } }"
CREATE_ACCOUNT = """
mutation ($input: CreateStatementAccountInput!) {
  createStatementAccount(input: $input) { ... on StatementAccount { id } ... on Error { code message } }
}"""
RECONCILE = """
mutation ($p: ID!, $from: Date!, $to: Date!) {
  reconcile(projectId: $p, from: $from, to: $to) { ... on ReconciliationRun { newMatches exceptionsByKind { kind count } } }
}"""


async def _order(client: httpx.AsyncClient, world: World, bill: str, channel: str) -> dict[str, Any]:
    created = await gql(client, INTENT, {"billIds": [bill], "channel": channel}, token=world.token("finance_a"))
    return created["data"]["createPaymentIntent"]  # type: ignore[no-any-return]


async def _paid(client: httpx.AsyncClient, world: World, intent: dict[str, Any], transaction: str, minute: int) -> str:
    """The sandbox notifies that `intent` was paid; the payment's ID."""
    sandbox: SandboxProvider = world.state.services.payment_providers["sandbox"]  # type: ignore[assignment]
    body, headers = sandbox.notification(
        out_trade_no=intent["outTradeNo"],
        transaction_id=transaction,
        amount_fen=intent["amountFen"],
        paid_at=dt.datetime(2026, 11, 2, 9, minute, tzinfo=dt.UTC),
    )
    answer = await client.post("/payments/notify/sandbox", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    payment = await gql(client, PAYMENT_OF, {"id": intent["id"]}, token=world.token("finance_a"))
    return str(payment["data"]["node"]["payment"]["id"])


async def _the_day(client: httpx.AsyncClient, state: AppState, clock: Clock) -> World:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    bills = {
        edge["node"]["unit"]["number"]: edge["node"]["id"]
        for edge in (await gql(client, BILLS, token=world.token("finance_a")))["data"]["bills"]["edges"]
    }
    clock.now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    # alice opened the payment page twice before paying: two orders for one bill, both paid
    first, second = await _order(client, world, bills["101"], "WECHAT"), await _order(client, world, bills["101"], "WECHAT")
    await _paid(client, world, first, "4200000001", minute=1)
    twice = await _paid(client, world, second, "4200000002", minute=3)
    await _paid(client, world, await _order(client, world, bills["102"], "ALIPAY"), "2026110222001", minute=5)
    clock.now = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.UTC)
    await pay(client, world, "alice", "20.00", "desk-wechat", channel="WECHAT", externalReference="扫码收款", paidAt="2026-11-02T17:30:00+08:00")
    refunded = await gql(
        client, REFUND, {"input": {"paymentId": twice, "amount": "268.20", "reason": "重复支付，原路退回"}}, token=world.token("finance_a")
    )
    assert refunded["data"]["refundPayment"]["__typename"] == "Refund", refunded
    clock.now = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 the next morning in Hangzhou
    return world


async def _statement(
    state: AppState, world: World, day: dt.date, now: dt.datetime, channel: PaymentChannel = PaymentChannel.WECHAT
) -> bytes | None:
    return await write_sandbox_statement(
        state.session_factory, None, project_id=world.ids["Project:lakeside"], day=day, now=now, channel=channel
    )


async def test_the_days_bill_holds_the_sandboxs_wechat_payments_and_refunds_and_nothing_else(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _the_day(client, state, clock)

    content = await _statement(state, world, DAY, clock())

    assert content is not None
    statement = parse_wechat_bill(content, account=SandboxProvider.merchant_id, zone=SHANGHAI)
    assert [(line.kind, line.amount, line.transaction_id) for line in statement.lines] == [
        (LineKind.PAYMENT, Decimal("268.20"), "4200000001"),
        (LineKind.PAYMENT, Decimal("268.20"), "4200000002"),
        (LineKind.REFUND, Decimal("-268.20"), "4200000002"),
    ]
    assert [line.fee for line in statement.lines] == [Decimal("1.60920"), Decimal("1.60920"), Decimal("-1.60920")]
    assert statement.lines[0].memo == "Lakeside 2026-11 账单缴费"
    assert content.decode().splitlines()[1].split(",")[2] == f"`{SandboxProvider.merchant_id}"
    # written again, the same bytes: importing it twice is recognised
    assert await _statement(state, world, DAY, clock()) == content


async def test_a_day_without_trades_has_no_bill_and_a_day_not_over_is_refused(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _the_day(client, state, clock)

    assert await _statement(state, world, DAY - dt.timedelta(days=1), clock()) is None
    with pytest.raises(BadInput) as refused:
        await _statement(state, world, DAY + dt.timedelta(days=1), clock())
    assert refused.value.field == "day"


async def test_the_command_line_writes_the_bill_that_imports_and_matches_like_wechats(
    client: httpx.AsyncClient, state: AppState, clock: Clock, tmp_path: Path, capsys: Any
) -> None:
    world = await _the_day(client, state, clock)
    project = world.gid("Project:lakeside")
    output = tmp_path / "sandbox-2026-11-02.csv"

    written = await reconcile_sandbox_statement(state.settings, project=project, day=DAY, output=output, now=clock())
    nothing = await reconcile_sandbox_statement(
        state.settings, project=project, day=DAY - dt.timedelta(days=1), output=tmp_path / "none.csv", now=clock()
    )

    assert (written, nothing) == (0, 1)
    assert "3 rows" in capsys.readouterr().out
    assert not (tmp_path / "none.csv").exists()
    created = await gql(
        client,
        CREATE_ACCOUNT,
        {"input": {"projectId": project, "name": SandboxProvider.merchant_id, "kind": "WECHAT", "terms": {"feeRate": "0.6%"}}},
        token=world.token("finance_a"),
    )
    account = created["data"]["createStatementAccount"]["id"]
    imported = await multipart(
        client,
        world.token("finance_a"),
        "mutation ($a: ID!, $f: Upload!) { importStatement(accountId: $a, file: $f) { ... on StatementImport { newLineCount format } } }",
        {"a": account, "f": None},
        {"f": (output.name, output.read_bytes())},
    )
    assert imported["data"]["importStatement"] == {"newLineCount": 3, "format": "WECHAT"}
    ran = await gql(client, RECONCILE, {"p": project, "from": "2026-11-02", "to": "2026-11-02"}, token=world.token("finance_a"))
    # the first payment and the refund match by their keys, the second payment of the one bill is a
    # duplicate charge, and the desk's WeChat payment is still inside its report window
    assert ran["data"]["reconcile"]["newMatches"] == 2
    assert {row["kind"]: row["count"] for row in ran["data"]["reconcile"]["exceptionsByKind"]} == {"DUPLICATE_CHARGE": 1}



async def test_the_days_alipay_bill_holds_the_sandboxs_alipay_payment_and_imports_and_matches(
    client: httpx.AsyncClient, state: AppState, clock: Clock, tmp_path: Path, capsys: Any
) -> None:
    world = await _the_day(client, state, clock)
    project = world.gid("Project:lakeside")
    output = tmp_path / "sandbox-alipay-2026-11-02.zip"

    content = await _statement(state, world, DAY, clock(), PaymentChannel.ALIPAY)
    written = await reconcile_sandbox_statement(state.settings, project=project, day=DAY, output=output, now=clock(), channel="alipay")
    quiet = await _statement(state, world, DAY - dt.timedelta(days=1), clock(), PaymentChannel.ALIPAY)
    with pytest.raises(BadInput) as refused:
        await _statement(state, world, DAY, clock(), PaymentChannel.CASH)

    assert content is not None and content[:4] == b"PK\x03\x04"
    statement = parse_alipay_bill(content, account=SandboxProvider.alipay_account, zone=SHANGHAI)
    assert [(line.kind, line.amount, line.fee, line.transaction_id) for line in statement.lines] == [
        (LineKind.PAYMENT, Decimal("363.67"), Decimal("2.18"), "2026110222001"),
    ]
    assert statement.lines[0].memo == "Lakeside 2026-11 账单缴费"
    assert (written, output.read_bytes(), quiet, refused.value.field) == (0, content, None, "channel")
    assert "Alipay business bill (业务明细) of account 2088101117955611" in capsys.readouterr().out
    created = await gql(
        client,
        CREATE_ACCOUNT,
        {"input": {"projectId": project, "name": SandboxProvider.alipay_account, "kind": "ALIPAY", "terms": {"feeRate": "0.6%"}}},
        token=world.token("finance_a"),
    )
    imported = await multipart(
        client,
        world.token("finance_a"),
        "mutation ($a: ID!, $f: Upload!) { importStatement(accountId: $a, file: $f) { ... on StatementImport { newLineCount format } } }",
        {"a": created["data"]["createStatementAccount"]["id"], "f": None},
        {"f": (output.name, content)},
    )
    assert imported["data"]["importStatement"] == {"newLineCount": 1, "format": "ALIPAY"}
    ran = await gql(client, RECONCILE, {"p": project, "from": "2026-11-02", "to": "2026-11-02"}, token=world.token("finance_a"))
    assert ran["data"]["reconcile"]["newMatches"] == 1
