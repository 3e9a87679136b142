"""Owners read explanations in their project's locale (zh-CN by default, en available), through GraphQL,
and receipts as PDFs in it, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io

import httpx
import pypdf

from api.state import AppState
from tests.integration.billing_world import (
    RECORD_READING,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    reading_at,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

UPDATE_PROJECT = """
mutation ($input: UpdateProjectInput!) {
  updateProject(input: $input) { __typename ... on Project { locale } ... on Error { code field } }
}"""

BILL_TEXTS = """
query ($filter: BillFilter, $asOf: Date) {
  bills(filter: $filter, first: 10) {
    edges { node { unit { number }
                   lateFee(asOf: $asOf) lateFeeExplanation(asOf: $asOf)
                   lines { ruleCode explanation } } }
  }
}"""

SET_POLICY = """
mutation ($input: SetBillingPolicyInput!) { setBillingPolicy(input: $input) { __typename } }"""


async def _alice_bill(client: httpx.AsyncClient, world: World, as_of: str) -> dict[str, object]:
    await gql(
        client,
        SET_POLICY,
        {"input": {"projectId": world.gid("Project:lakeside"), "lateFeeDailyRate": "0.0005", "lateFeeGraceDays": 5,
                   "lateFeeCapRatio": "0.01"}},
        token=world.token("finance_a"),
    )
    for day, value in (("2026-10-31", "1000"), ("2026-11-30", "1300")):
        await gql(
            client,
            RECORD_READING,
            {"input": {"unitId": world.gid("Unit:alice"), "meterType": "electricity", "reading": value, "readAt": reading_at(day)}},
            token=world.token("finance_a"),
        )
    await run_billing(client, world, "2026-11")
    result = await gql(
        client,
        BILL_TEXTS,
        {"filter": {"projectId": world.gid("Project:lakeside"), "period": "2026-11"}, "asOf": as_of},
        token=world.token("alice"),
    )
    assert "errors" not in result, result
    (alice,) = [edge["node"] for edge in result["data"]["bills"]["edges"]]
    return alice


async def test_a_chinese_project_explains_bills_in_chinese_with_yuan_amounts(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given Lakeside with the default locale and alice's November bill, 30 days overdue
    world = await build_world(state)
    await standard_rules(client, world)

    # when alice reads it
    alice = await _alice_bill(client, world, "2026-12-17")

    # then every explanation reads naturally in Chinese, in ¥ to the fen, without database ids
    lines = {line["ruleCode"]: line["explanation"] for line in alice["lines"]}
    assert lines == {
        "PROPERTY": "88.50 平方米 × ¥2.80/平方米/月 × 1 个月 = ¥247.80",
        "ELECTRICITY": "第1档：240 度 × ¥0.5283 = ¥126.79；第2档：60 度 × ¥0.5783 = ¥34.70",
        "COMMON": "公摊总额 ¥100.00，按建筑面积分摊：88.50 平方米 / 433.75 平方米 = ¥20.40",
    }
    # 429.69 × 0.0005 × 25 days = 5.37, capped at 1 % of the principal: 4.30
    assert alice["lateFee"] == "4.30"
    assert alice["lateFeeExplanation"] == (
        "滞纳金：本金 ¥429.69 × 日费率 0.0005 × 25 天（2026-11-23 至 2026-12-17，宽限期 5 天后）= ¥5.37；"
        "以本金的 1% 为上限：¥4.30"
    )


async def test_an_english_project_explains_bills_in_english(client: httpx.AsyncClient, state: AppState) -> None:
    # given Lakeside switched to English by its admin
    world = await build_world(state)
    await standard_rules(client, world)
    switched = await gql(
        client, UPDATE_PROJECT, {"input": {"id": world.gid("Project:lakeside"), "locale": "EN"}}, token=world.token("admin_a")
    )
    assert switched["data"]["updateProject"] == {"__typename": "Project", "locale": "EN"}

    # when alice reads her bill
    alice = await _alice_bill(client, world, "2026-11-20")

    # then the explanations are English
    lines = {line["ruleCode"]: line["explanation"] for line in alice["lines"]}
    assert lines["ELECTRICITY"] == "tier 1: 240 kWh × 0.5283 = 126.79; tier 2: 60 kWh × 0.5783 = 34.70"
    assert lines["COMMON"] == "shared total 100.00 split by floor area: 88.50 m² of 433.75 m² = 20.40"
    assert alice["lateFeeExplanation"] == "no late fee: not past the due date 2026-11-17 and its grace period"


async def test_a_receipt_pdf_speaks_the_projects_locale(client: httpx.AsyncClient, state: AppState) -> None:
    # given alice's November bill paid in part
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    payment = await pay(client, world, "alice", "100.00", "texts-receipt-1")
    receipt_id = payment["receipt"]["id"]

    # when the receipt's PDF is fetched
    response = await client.get(
        f"/receipts/{_database_id(receipt_id)}.pdf", headers={"Authorization": f"Bearer {world.token('alice')}"}
    )

    # then its text is Chinese with ¥ amounts, and names the bill by its period, not its id
    assert response.status_code == 200, response.text
    text = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for words in ("收款收据", "付款人：王丽", "微信支付", "金额：¥100.00", "账期", "2026-11", "本金", "¥100.00", "预存余额：¥0.00"):
        assert words in text, (words, text)
    assert "#" not in text


def _database_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])
