"""Late-fee policies are dated versions: changing the policy never changes what past days cost, on SQLite
and PostgreSQL.

Lakeside's November bills are issued on 2026-11-02 and due on 2026-11-17; alice's, without readings, is
the 247.80 property fee and a 20.40 common-area share: 268.20.
"""

from __future__ import annotations

import datetime as dt

import httpx

from api.state import AppState
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql

SET_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) {
    __typename
    ... on BillingPolicy { lateFeeDailyRate lateFeeEffectiveFrom lateFeeVersions { effectiveFrom dailyRate } }
    ... on Error { code field message }
  }
}"""

LATE_FEES = """
query ($period: String!, $day1: Date!, $day2: Date!) {
  bills(filter: { period: $period }) {
    edges { node { unit { number } totalAmount before: lateFee(asOf: $day1) after: lateFee(asOf: $day2) } }
  }
}"""


async def _set_policy(client: httpx.AsyncClient, world: World, **fields: object) -> dict[str, object]:
    result = await gql(
        client,
        SET_POLICY,
        {"input": {"projectId": world.gid("Project:lakeside"), **fields}},
        token=world.token("finance_a"),
    )
    assert "errors" not in result, result
    return result["data"]["setBillingPolicy"]  # type: ignore[no-any-return]


async def _alice_fees(client: httpx.AsyncClient, world: World, day1: str, day2: str) -> tuple[str, str, str]:
    result = await gql(
        client, LATE_FEES, {"period": "2026-11", "day1": day1, "day2": day2}, token=world.token("finance_a")
    )
    assert "errors" not in result, result
    (alice,) = [edge["node"] for edge in result["data"]["bills"]["edges"] if edge["node"]["unit"]["number"] == "101"]
    return alice["totalAmount"], alice["before"], alice["after"]


async def test_raising_the_late_fee_changes_no_day_already_past(client: httpx.AsyncClient, state: AppState) -> None:
    # given 0.05 % a day after 5 days' grace, and the November bills overdue for 20 days
    world = await build_world(state)
    await standard_rules(client, world)
    await _set_policy(client, world, lateFeeDailyRate="0.0005", lateFeeGraceDays=5)
    await run_billing(client, world, "2026-11")
    state.clock.advance(days=35)  # type: ignore[attr-defined]  # 2026-12-07
    assert await _alice_fees(client, world, "2026-12-06", "2026-12-16") == ("268.20", "1.88", "3.22")

    # when the rate is raised to 0.2 % a day from today
    raised = await _set_policy(client, world, lateFeeDailyRate="0.002", lateFeeGraceDays=5)

    # then the fee up to yesterday is what it was, and each day from today costs the new rate:
    # 268.20 × 0.0005 × 14 days (23 Nov – 6 Dec) = 1.88; + 268.20 × 0.002 × 10 days (7–16 Dec) = 5.36
    assert raised["lateFeeEffectiveFrom"] == "2026-12-07"
    assert [version["dailyRate"] for version in raised["lateFeeVersions"]] == ["0.000500", "0.002000"]
    assert await _alice_fees(client, world, "2026-12-06", "2026-12-16") == ("268.20", "1.88", "7.24")


async def test_a_late_fee_policy_cannot_start_before_today(client: httpx.AsyncClient, state: AppState) -> None:
    # given a policy in force
    world = await build_world(state)
    await _set_policy(client, world, lateFeeDailyRate="0.0005")

    # when a change is dated yesterday
    refused = await _set_policy(client, world, lateFeeDailyRate="0.001", lateFeeEffectiveFrom="2026-11-01")

    # then it is refused with the field named, and the policy is unchanged
    assert (refused["__typename"], refused["field"]) == ("BadUserInputError", "lateFeeEffectiveFrom")
    kept = await _set_policy(client, world, lateFeeDailyRate="0.0005")
    assert [version["dailyRate"] for version in kept["lateFeeVersions"]] == ["0.000500"]


TODAY_IN_SHANGHAI = """
query ($period: String!, $localToday: Date!, $utcToday: Date!) {
  bills(filter: { period: $period }) {
    edges { node {
      unit { number } isOverdue
      today: lateFee localToday: lateFee(asOf: $localToday) utcToday: lateFee(asOf: $utcToday)
    } }
  }
}"""


async def test_today_is_the_projects_date_for_the_late_fee_and_overdue(client: httpx.AsyncClient, state: AppState) -> None:
    # given 0.05 % a day without grace and the November bills, due on 2026-11-17
    world = await build_world(state)
    await standard_rules(client, world)
    await _set_policy(client, world, lateFeeDailyRate="0.0005")
    await run_billing(client, world, "2026-11")
    # when it is 07:30 on 2026-11-18 in Shanghai, still 2026-11-17 in UTC
    state.clock.now = dt.datetime(2026, 11, 17, 23, 30, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    result = await gql(
        client,
        TODAY_IN_SHANGHAI,
        {"period": "2026-11", "localToday": "2026-11-18", "utcToday": "2026-11-17"},
        token=world.token("finance_a"),
    )

    # then the bill is overdue by Shanghai's calendar and owes one day's fee (268.20 × 0.0005 = 0.13)
    (alice,) = [edge["node"] for edge in result["data"]["bills"]["edges"] if edge["node"]["unit"]["number"] == "101"]
    assert (alice["isOverdue"], alice["today"], alice["localToday"], alice["utcToday"]) == (True, "0.13", "0.13", "0.00")
