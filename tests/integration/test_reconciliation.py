"""Reconciliation through GraphQL and the CLI, on SQLite and PostgreSQL: importing (idempotent, refused
whole), matching a WeChat bill and a bank statement against payments recorded with recordPayment (one
planted exception of each kind), resolving each kind, and the daily close.

Lakeside (Asia/Shanghai) has a WeChat merchant account 1900000109 paying out T+1 into bank account
6222000011112222. On 2026-11-01 the desk recorded five payments; the channel and bank saw a little
differently, as planted below.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select
from strawberry import relay

from api.reconcile_cli import reconcile_close, reconcile_import
from api.state import AppState
from billing.ledger_check import check_project_ledger
from billing.reconciliation.holdings import held_payment_ids
from db.models import DailyClose, JournalLine, MatchLink, ReconciliationMatch, StatementFile, StatementLineRow
from tests.conftest import Clock
from tests.integration.authorization_world import multipart
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (autouse: the books balance after every test)
from tests.integration.world import World, build_world, gql
from tests.unit.reconciliation.statements import bank_csv, wechat_bill, wechat_payment, wechat_refund

WECHAT, BANK = "1900000109", "6222000011112222"
PAID = "2026-11-01T10:00:00+08:00"
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

CREATE_ACCOUNT = """
mutation ($input: CreateStatementAccountInput!) {
  createStatementAccount(input: $input) { __typename ... on StatementAccount { id name } ... on Error { code field message } }
}"""
IMPORT = """
mutation ($account: ID!, $file: Upload!) {
  importStatement(accountId: $account, file: $file) {
    __typename
    ... on StatementImport { lineCount newLineCount alreadyImported format }
    ... on StatementRejectedError { code field message row column difference }
    ... on Error { code field message }
  }
}"""
RECONCILE = """
mutation ($p: ID!, $from: Date!, $to: Date!) {
  reconcile(projectId: $p, from: $from, to: $to) {
    __typename
    ... on ReconciliationRun { newMatches openExceptions exceptionsByKind { kind count } }
    ... on Error { code field message }
  }
}"""
EXCEPTIONS = """
query ($p: ID!, $status: ReconciliationExceptionStatus) {
  reconciliationExceptions(projectId: $p, filter: {status: $status}, first: 100) {
    totalCount
    edges { node { id kind status difference feeExplains day correctsClosedDay resolution
                   explanation { code text } lines { id amount orderNo } paymentIds relatedPaymentIds } }
  }
}"""
MATCHES = """
query ($p: ID!) {
  reconciliationMatches(projectId: $p, first: 100) {
    totalCount
    edges { node { id step channelFee explanation { code text } lines { amount } paymentIds settlement { gross fees net } } }
  }
}"""
RESOLVE = """
mutation ($input: ResolveReconciliationExceptionInput!) {
  resolveReconciliationException(input: $input) {
    __typename ... on ReconciliationException { status resolution correctsClosedDay } ... on Error { code field message }
  }
}"""
CLOSE = """
mutation ($p: ID!, $day: Date!, $reason: String) {
  closeReconciliationDay(projectId: $p, day: $day, signOffReason: $reason) {
    __typename
    ... on CloseReconciliationDayPayload { closes { account { name } day openingBalance closingBalance matchedCount
                                                     exceptionCount openExceptionCount signOffReason } }
    ... on Error { code field message }
  }
}"""
CLOSES = """
query ($p: ID!) { dailyCloses(projectId: $p) { account { name } day closingBalance matchedCount openExceptionCount signOffReason } }
"""


def _wechat_rows() -> list[dict[str, str]]:
    at = "2026-11-01 10:00:00"
    duplicate = wechat_payment(2, "200.00", time="2026-11-01 10:05:00")
    duplicate["微信订单号"] = "4200001234202611099999999"  # the channel charged order 2 a second time
    return [
        wechat_payment(1, "100.00", time=at),
        wechat_payment(2, "200.00", time=at),
        duplicate,
        wechat_payment(3, "49.70", time=at),  # Courtyard recorded 50.00: the fee does not explain it
        wechat_payment(5, "150.00", time=at),  # never recorded in Courtyard (a lost notification)
        wechat_refund(1, 1, "10.00", fee="0.06", time="2026-11-01 15:00:00"),  # refunded at the channel only
    ]


def _settlement_net(rows: list[dict[str, str]]) -> Decimal:
    gross = sum(Decimal(row["订单金额"]) for row in rows)
    refunds = sum(Decimal(row["退款金额"]) for row in rows)
    fees = sum(Decimal(row["手续费"]) for row in rows).quantize(Decimal("0.01"))
    return gross - refunds - fees


def _bank_file(net: Decimal) -> bytes:
    return bank_csv(
        [
            ["2026-11-01", "BR001", "", "300.00", "王丽", "转账 A1-101 物业费"],
            ["2026-11-01", "BR002", "", "999.00", "某公司", "来历不明"],
            ["2026-11-02", "BR003", "", f"{net:.2f}", "财付通支付科技有限公司", "微信支付结算"],
        ],
        header=BANK_HEADER,
    )


async def _account(client: httpx.AsyncClient, world: World, name: str, kind: str, **extra: Any) -> str:
    created = await gql(
        client, CREATE_ACCOUNT, {"input": {"projectId": world.gid("Project:lakeside"), "name": name, "kind": kind, **extra}},
        token=world.token("finance_a"),
    )
    assert created["data"]["createStatementAccount"]["__typename"] == "StatementAccount", created
    return str(created["data"]["createStatementAccount"]["id"])


async def _import(client: httpx.AsyncClient, world: World, account: str, name: str, content: bytes) -> dict[str, Any]:
    result = await multipart(client, world.token("finance_a"), IMPORT, {"account": account, "file": None}, {"file": (name, content)})
    return result["data"]["importStatement"]  # type: ignore[no-any-return]


async def _month(client: httpx.AsyncClient, state: AppState, clock: Clock) -> tuple[World, dict[str, str], dict[str, str]]:
    """The planted day: accounts, five payments, both statements imported, the clock on 2026-11-06."""
    world = await build_world(state)
    wechat = await _account(
        client, world, WECHAT, "WECHAT", terms={"payoutMinDays": 1, "payoutMaxDays": 3, "feeRate": "0.6%", "payoutAccount": BANK}
    )
    bank = await _account(client, world, BANK, "BANK", bankProfile=BANK_PROFILE)
    payments = {}
    for name, unit, amount, channel, reference in (
        ("exact", "alice", "100.00", "WECHAT", "CY20261201000001"),
        ("charged_twice", "bob", "200.00", "WECHAT", "CY20261201000002"),
        ("mismatch", "alice", "50.00", "WECHAT", "CY20261201000003"),
        ("unreceived", "bob", "80.00", "WECHAT", "CY20261201000004"),
        ("transfer", "alice", "300.00", "BANK_TRANSFER", "BR001"),
    ):
        paid = await pay(client, world, unit, amount, f"k-{name}", channel=channel, externalReference=reference, paidAt=PAID)
        payments[name] = paid["id"]
    rows = _wechat_rows()
    assert (await _import(client, world, wechat, "wechat.csv", wechat_bill(rows)))["newLineCount"] == 6
    assert (await _import(client, world, bank, "bank.csv", _bank_file(_settlement_net(rows))))["newLineCount"] == 3
    clock.now = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
    return world, {"wechat": wechat, "bank": bank}, payments


async def _exceptions(client: httpx.AsyncClient, world: World, status: str | None = "OPEN") -> dict[str, dict[str, Any]]:
    found = await gql(client, EXCEPTIONS, {"p": world.gid("Project:lakeside"), "status": status}, token=world.token("finance_a"))
    return {edge["node"]["kind"]: edge["node"] for edge in found["data"]["reconciliationExceptions"]["edges"]}


async def _reconcile(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    ran = await gql(
        client, RECONCILE, {"p": world.gid("Project:lakeside"), "from": "2026-11-01", "to": "2026-11-01"}, token=world.token("finance_a")
    )
    return ran["data"]["reconcile"]  # type: ignore[no-any-return]


async def _count(state: AppState, model: type) -> int:
    async with state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_importing_the_same_file_twice_changes_nothing(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    account = await _account(client, world, WECHAT, "WECHAT")
    content = wechat_bill(_wechat_rows())

    first = await _import(client, world, account, "wechat.csv", content)
    again = await _import(client, world, account, "renamed.csv", content)

    assert first == {"__typename": "StatementImport", "lineCount": 6, "newLineCount": 6, "alreadyImported": False, "format": "WECHAT"}
    assert again == {"__typename": "StatementImport", "lineCount": 6, "newLineCount": 0, "alreadyImported": True, "format": "WECHAT"}
    assert await _count(state, StatementLineRow) == 6
    assert await _count(state, StatementFile) == 1


async def test_a_file_whose_totals_disagree_is_refused_and_writes_nothing(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    account = await _account(client, world, WECHAT, "WECHAT")

    refused = await _import(client, world, account, "wechat.csv", wechat_bill(_wechat_rows(), summary={"订单总金额": "500.00"}))

    assert refused["__typename"] == "StatementRejectedError"
    assert (refused["code"], refused["field"], refused["column"], refused["difference"]) == ("BAD_USER_INPUT", "file", "订单总金额", "199.70")
    assert "699.70" in refused["message"] and "500.00" in refused["message"]
    assert await _count(state, StatementLineRow) == 0
    assert await _count(state, StatementFile) == 0


async def test_a_day_matches_with_explanations_and_finds_one_exception_of_each_kind(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world, _, payments = await _month(client, state, clock)

    run = await _reconcile(client, world)
    again = await _reconcile(client, world)

    assert run["__typename"] == "ReconciliationRun", run
    assert {item["kind"]: item["count"] for item in run["exceptionsByKind"]} == {
        "AMOUNT_MISMATCH": 1, "BANK_UNMATCHED": 1, "CHANNEL_ONLY": 1, "DUPLICATE_CHARGE": 1, "REFUND_UNMATCHED": 1, "UNRECEIVED": 1,
    }
    assert (run["newMatches"], again["newMatches"], again["openExceptions"]) == (4, 0, 6)
    matches = (await gql(client, MATCHES, {"p": world.gid("Project:lakeside")}, token=world.token("finance_a")))["data"]
    by_step = {}
    for edge in matches["reconciliationMatches"]["edges"]:
        by_step.setdefault(edge["node"]["step"], []).append(edge["node"])
    assert sorted((m["paymentIds"][0], m["lines"][0]["amount"]) for m in by_step["EXACT_KEY"]) == sorted(
        [(payments["exact"], "100.00"), (payments["charged_twice"], "200.00"), (payments["transfer"], "300.00")]
    )
    assert by_step["EXACT_KEY"][0]["explanation"] == [{"code": "KEY_EQUAL", "text": "商户订单号一致"}, {"code": "AMOUNT_EQUAL", "text": "金额一致"}]
    (settlement,) = by_step["SETTLEMENT"]
    net = _settlement_net(_wechat_rows())
    assert settlement["settlement"] == {"gross": "699.70", "fees": "4.14", "net": f"{net:.2f}"}
    assert settlement["channelFee"] == "4.14"
    assert settlement["explanation"][1]["text"] == f"订单 699.70 元 − 代金券 0.00 元 + 退款 -10.00 元 − 手续费 4.14 元 = 到账 {net:.2f} 元"
    found = await _exceptions(client, world)
    assert found["UNRECEIVED"]["paymentIds"] == [payments["unreceived"]] and found["UNRECEIVED"]["difference"] == "-80.00"
    assert found["AMOUNT_MISMATCH"]["difference"] == "-0.30" and found["AMOUNT_MISMATCH"]["paymentIds"] == [payments["mismatch"]]
    assert found["DUPLICATE_CHARGE"]["relatedPaymentIds"] == [payments["charged_twice"]]
    assert found["CHANNEL_ONLY"]["lines"][0]["orderNo"] == "CY20261201000005"
    assert found["BANK_UNMATCHED"]["difference"] == "999.00"
    assert found["REFUND_UNMATCHED"]["difference"] == "-10.00"
    async with state.session_factory() as session:
        fees = await session.scalar(select(func.sum(JournalLine.debit)).where(JournalLine.account == "CHANNEL_FEES"))
    assert fees == Decimal("4.14")


async def test_each_kind_is_resolved_and_a_closed_day_stays_as_it_closed(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world, _, payments = await _month(client, state, clock)
    await _reconcile(client, world)
    project, token = world.gid("Project:lakeside"), world.token("finance_a")
    found = await _exceptions(client, world)

    unsigned = (await gql(client, CLOSE, {"p": project, "day": "2026-11-01"}, token=token))["data"]["closeReconciliationDay"]
    closed = (await gql(client, CLOSE, {"p": project, "day": "2026-11-01", "reason": "月末前处理"}, token=token))["data"]
    before = (await gql(client, CLOSES, {"p": project}, token=token))["data"]["dailyCloses"]

    assert (unsigned["code"], unsigned["field"]) == ("BAD_USER_INPUT", "signOffReason")
    wechat_close = next(c for c in closed["closeReconciliationDay"]["closes"] if c["account"]["name"] == WECHAT)
    assert (wechat_close["openExceptionCount"], wechat_close["signOffReason"]) == (5, "月末前处理")

    async def resolve(kind: str, **fields: Any) -> dict[str, Any]:
        result = await gql(client, RESOLVE, {"input": {"exceptionId": found[kind]["id"], **fields}}, token=token)
        return result["data"]["resolveReconciliationException"]  # type: ignore[no-any-return]

    unit = world.gid("Unit:alice")
    resolved = {
        "CHANNEL_ONLY": await resolve("CHANNEL_ONLY", action="RECORD_PAYMENT", unitId=unit),
        "DUPLICATE_CHARGE": await resolve("DUPLICATE_CHARGE", action="REFUND_DUPLICATE", reason="渠道重复扣款，原路退回"),
        "AMOUNT_MISMATCH": await resolve("AMOUNT_MISMATCH", action="MATCH", reason="少收 0.30 元，业主已确认"),
        "UNRECEIVED": await resolve("UNRECEIVED", action="WRITE_OFF", reason="款项未到账，经核实作废", approvedBy="财务经理 李强"),
        "REFUND_UNMATCHED": await resolve("REFUND_UNMATCHED", action="WRITE_OFF", reason="渠道退款待补录", approvedBy="李强"),
    }
    missing_approver = await resolve("BANK_UNMATCHED", action="WRITE_OFF", reason="来历不明")
    matches = (await gql(client, MATCHES, {"p": project}, token=token))["data"]["reconciliationMatches"]["edges"]
    transfer_match = next(e["node"]["id"] for e in matches if e["node"]["paymentIds"] == [payments["transfer"]])
    resolved["BANK_UNMATCHED"] = await resolve("BANK_UNMATCHED", action="UNMATCH", matchId=transfer_match, reason="匹配有误")

    assert (missing_approver["code"], missing_approver["field"]) == ("BAD_USER_INPUT", "approvedBy")
    assert {kind: (r["status"], r["resolution"], r["correctsClosedDay"]) for kind, r in resolved.items()} == {
        "CHANNEL_ONLY": ("RESOLVED", "RECORDED_PAYMENT", "2026-11-01"),
        "DUPLICATE_CHARGE": ("RESOLVED", "REFUNDED_DUPLICATE", "2026-11-01"),
        "AMOUNT_MISMATCH": ("RESOLVED", "MATCHED", "2026-11-01"),
        "UNRECEIVED": ("RESOLVED", "WRITTEN_OFF", "2026-11-01"),
        "REFUND_UNMATCHED": ("RESOLVED", "WRITTEN_OFF", "2026-11-01"),
        "BANK_UNMATCHED": ("RESOLVED", "UNMATCHED", "2026-11-01"),
    }
    assert await _exceptions(client, world) == {}
    async with state.session_factory() as session:
        undone = (
            await session.execute(
                select(ReconciliationMatch.line_id, ReconciliationMatch.payment_id, ReconciliationMatch.undo_reason).where(
                    ReconciliationMatch.undone_at.is_not(None)
                )
            )
        ).all()
        transfer_held = await session.scalar(held_payment_ids([int(relay.GlobalID.from_id(payments["transfer"]).node_id)]).limit(1))
    # the undone transfer match lets go of its line and payment (it held both in its own row)
    assert [tuple(row) for row in undone] == [(None, None, "匹配有误")] and transfer_held is None
    assert (await gql(client, CLOSES, {"p": project}, token=token))["data"]["dailyCloses"] == before
    today = (await gql(client, CLOSE, {"p": project, "day": "2026-11-05"}, token=token))["data"]["closeReconciliationDay"]
    assert today["__typename"] == "CloseReconciliationDayPayload", today
    twice = (await gql(client, CLOSE, {"p": project, "day": "2026-11-01", "reason": "再关"}, token=token))["data"]
    assert twice["closeReconciliationDay"]["code"] == "CONFLICT"


async def test_the_command_line_imports_once_and_closes_with_a_named_sign_off(
    client: httpx.AsyncClient, state: AppState, clock: Clock, tmp_path: Any, capsys: Any
) -> None:
    world, _, _ = await _month(client, state, clock)
    file = tmp_path / "wechat-again.csv"
    file.write_bytes(wechat_bill(_wechat_rows()))
    refused = tmp_path / "bad.csv"
    refused.write_bytes(wechat_bill(_wechat_rows(), summary={"订单总金额": "1.00"}))
    await _reconcile(client, world)
    project = world.gid("Project:lakeside")
    now = clock()

    assert await reconcile_import(state.settings, file=file, account=WECHAT, project=project, now=now) == 0
    assert "imported before" in capsys.readouterr().out
    assert await reconcile_import(state.settings, file=refused, account=WECHAT, project=None, now=now) == 1
    assert "订单总金额" in capsys.readouterr().err
    day = dt.date(2026, 11, 1)
    assert await reconcile_close(state.settings, day=day, project=project, account=None, reason=None, signed_off_by=None, now=now) == 1
    assert "sign-off reason" in capsys.readouterr().err
    assert await reconcile_close(
        state.settings, day=day, project=project, account=WECHAT, reason="待处理", signed_off_by="finance_a@example.test", now=now
    ) == 0
    assert "open 5" in capsys.readouterr().out
    assert await _count(state, DailyClose) == 1


async def test_the_ledger_check_proves_each_bank_account_against_its_matched_lines(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world, _, _ = await _month(client, state, clock)
    await _reconcile(client, world)
    project_id = world.ids["Project:lakeside"]
    async with state.session_factory() as session, session.begin():
        settled = await session.scalar(
            select(MatchLink).join(StatementLineRow, StatementLineRow.id == MatchLink.line_id).where(StatementLineRow.row_number == 4)
        )
        assert settled is not None
        kept = (settled.match_id, settled.line_id)
        await session.delete(settled)

    async with state.session_factory() as session:
        broken = await check_project_ledger(session, project_id)

    async with state.session_factory() as session, session.begin():
        session.add(MatchLink(match_id=kept[0], line_id=kept[1]))
    net = _settlement_net(_wechat_rows())
    assert broken.problems == (
        f"bank account {BANK}: the journal holds {net + Decimal('300.00'):.2f}, its matched and written-off"
        " statement lines add up to 300.00",
    )
