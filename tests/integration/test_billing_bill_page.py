"""A page of bills answers its bills' late fees, overdue flags, lines and units from what the page read at
once (`BillType.read_for_page`, `billing.bill_details`): exactly what each bill answers when asked for by
itself, to the fen, under every late-fee policy version and on every day, on SQLite and PostgreSQL.

Lakeside's November bills are issued on 2026-11-02 and due on 2026-11-17; alice's is 268.20.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from api.state import AppState
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

SET_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) { __typename ... on Error { code field message } }
}"""

BILL_FIELDS = """
  id status isOverdue lateFee lateFeeExplanation
  yesterday: lateFee(asOf: $yesterday) yesterdayExplained: lateFeeExplanation(asOf: $yesterday)
  lines { position ruleCode kind description quantity unitPrice amount explanation }
  unit { id number building { name } }
"""

PAGE = f"""
query ($yesterday: Date!) {{
  bills(filter: {{ period: "2026-11" }}, first: 100) {{ edges {{ node {{ {BILL_FIELDS} }} }} }}
}}"""

ONE = f"""
query ($id: ID!, $yesterday: Date!) {{ node(id: $id) {{ ... on Bill {{ {BILL_FIELDS} }} }} }}"""


async def _set_policy(client: httpx.AsyncClient, world: World, **fields: object) -> None:
    result = await gql(
        client, SET_POLICY, {"input": {"projectId": world.gid("Project:lakeside"), **fields}}, token=world.token("finance_a")
    )
    assert result["data"]["setBillingPolicy"]["__typename"] == "BillingPolicy", result


async def _page_and_each(client: httpx.AsyncClient, world: World, state: AppState) -> list[dict[str, Any]]:
    """The November bills as the page answers them, after checking each against its own lookup."""
    token = world.token("finance_a")
    today = state.clock.now.astimezone(ZoneInfo("Asia/Shanghai")).date()  # type: ignore[attr-defined]
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    page = await gql(client, PAGE, {"yesterday": yesterday}, token=token)
    assert "errors" not in page, page
    bills = [edge["node"] for edge in page["data"]["bills"]["edges"]]
    assert len(bills) > 1
    for bill in bills:
        alone = await gql(client, ONE, {"id": bill["id"], "yesterday": yesterday}, token=token)
        assert alone["data"]["node"] == bill, (alone, bill)
    return bills


def _alices(bills: list[dict[str, Any]]) -> tuple[str, bool, str, str]:
    (alice,) = [bill for bill in bills if bill["unit"]["number"] == "101"]
    return alice["status"], alice["isOverdue"], alice["lateFee"], alice["yesterday"]


async def test_a_page_of_bills_answers_late_fees_as_each_bill_does_across_policy_versions_and_days(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given 0.05 % a day after 5 days' grace, capped at 1 % of the principal, and alice paying 100.00 early
    world = await build_world(state)
    await standard_rules(client, world)
    await _set_policy(client, world, lateFeeDailyRate="0.0005", lateFeeGraceDays=5, lateFeeCapRatio="0.01")
    await run_billing(client, world, "2026-11")
    state.clock.advance(days=3)  # type: ignore[attr-defined]
    await pay(client, world, "alice", "100.00", "alice-early")

    # when the page is read before the due date, within the grace days, and after them
    state.clock.advance(days=10)  # type: ignore[attr-defined]
    before_due = _alices(await _page_and_each(client, world, state))
    state.clock.advance(days=7)  # type: ignore[attr-defined]
    in_grace = _alices(await _page_and_each(client, world, state))
    state.clock.advance(days=15)  # type: ignore[attr-defined]  # 2026-12-07
    past_grace = _alices(await _page_and_each(client, world, state))

    # then nothing is owed until grace ends, then 168.20 × 0.0005 a day from 23 November
    assert before_due == ("PARTIALLY_PAID", False, "0.00", "0.00")
    assert in_grace == ("PARTIALLY_PAID", True, "0.00", "0.00")
    # 14 days to yesterday (6 December): 1.1774; 15 days to today: 1.2615
    assert past_grace == ("PARTIALLY_PAID", True, "1.26", "1.18")

    # when the rate is raised to 0.2 % a day without a cap from today, and the page read 35 days on
    await _set_policy(client, world, lateFeeDailyRate="0.002", lateFeeGraceDays=5)
    state.clock.advance(days=35)  # type: ignore[attr-defined]  # 2027-01-11
    later = _alices(await _page_and_each(client, world, state))

    # then the days before the change keep their rate: 1.1774 + 168.20 × 0.002 × 35 days (7 Dec – 10 Jan)
    assert later == ("PARTIALLY_PAID", True, "13.29", "12.95")


async def test_a_page_of_bills_without_a_late_fee_policy_owes_no_late_fee_and_keeps_its_lines(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given no late-fee policy and the November bills long overdue
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    state.clock.advance(days=60)  # type: ignore[attr-defined]

    # when the page is read
    bills = await _page_and_each(client, world, state)

    # then every bill is overdue, owes no late fee, and lists its lines in order
    assert {(bill["isOverdue"], bill["lateFee"]) for bill in bills} == {(True, "0.00")}
    for bill in bills:
        assert [line["position"] for line in bill["lines"]] == list(range(1, len(bill["lines"]) + 1))
    assert _alices(bills)[0] == "OPEN"
