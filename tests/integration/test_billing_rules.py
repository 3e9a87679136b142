"""Fee rules through GraphQL: create, revise by version, retire, list with history, validation, access."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.state import AppState
from tests.integration.billing_world import (
    CREATE_RULE,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    create_rule,
    run_billing,
)
from tests.integration.world import World, build_world, error_codes, gql

REVISE = """
mutation ($input: ReviseFeeRuleInput!) {
  reviseFeeRule(input: $input) { __typename ... on Error { code message field } }
}"""

RETIRE = """
mutation ($ruleId: ID!, $to: Date!) {
  retireFeeRule(ruleId: $ruleId, effectiveTo: $to) { __typename ... on FeeRule { endsOn } ... on Error { code field } }
}"""

RULES = """
query ($projectId: ID!) {
  feeRules(projectId: $projectId) {
    ruleCode kind endsOn
    versions { version name effectiveFrom effectiveTo ratePerSquareMetre tiers { startsAt upTo unitPrice } }
  }
}"""

BILL_LINES = """
query ($period: String!) { bills(filter: { period: $period }) { edges { node { unit { number } lines { ruleCode amount } } } } }
"""


def _rule(world: World, **fields: Any) -> dict[str, Any]:
    return {"input": {"projectId": world.gid("Project:lakeside"), **fields}}


async def _property_fee(client: httpx.AsyncClient, world: World) -> str:
    return await create_rule(
        client, world, world.token("finance_a"), code="PROPERTY", kind="PER_AREA", name="物业费",
        effectiveFrom="2026-01-01", ratePerSquareMetre="2.80",
    )


async def test_a_new_version_takes_over_from_its_date_and_history_is_kept(client: httpx.AsyncClient, state: AppState) -> None:
    # given a property fee of 2.80 from January
    world = await build_world(state)
    rule_id = await _property_fee(client, world)
    token = world.token("finance_a")

    # when it rises to 3.10 from December
    revised = await gql(
        client,
        REVISE,
        {"input": {"ruleId": rule_id, "name": "物业费 2027", "effectiveFrom": "2026-12-01", "ratePerSquareMetre": "3.10"}},
        token=token,
    )

    # then both versions are listed, the first ending the day before the second starts
    assert revised["data"]["reviseFeeRule"]["__typename"] == "FeeRule"
    listed = await gql(client, RULES, {"projectId": world.gid("Project:lakeside")}, token=token)
    (rule,) = listed["data"]["feeRules"]
    assert [(v["version"], v["effectiveFrom"], v["effectiveTo"], v["ratePerSquareMetre"]) for v in rule["versions"]] == [
        (1, "2026-01-01", "2026-11-30", "2.80"),
        (2, "2026-12-01", None, "3.10"),
    ]
    # and November bills at the old rate, December at the new one (alice: 88.50 m²)
    await run_billing(client, world, "2026-11")
    await run_billing(client, world, "2026-12")
    for period, amount in (("2026-11", "247.80"), ("2026-12", "274.35")):
        bills = await gql(client, BILL_LINES, {"period": period}, token=world.token("alice"))
        assert bills["data"]["bills"]["edges"][0]["node"]["lines"] == [{"ruleCode": "PROPERTY", "amount": amount}]


async def test_a_version_must_start_after_the_current_one(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    rule_id = await _property_fee(client, world)

    result = await gql(
        client,
        REVISE,
        {"input": {"ruleId": rule_id, "name": "x", "effectiveFrom": "2026-01-01", "ratePerSquareMetre": "3.10"}},
        token=world.token("finance_a"),
    )

    assert (result["data"]["reviseFeeRule"]["code"], result["data"]["reviseFeeRule"]["field"]) == (
        "BAD_USER_INPUT",
        "effectiveFrom",
    )


async def test_a_retired_rule_charges_no_later_period(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    rule_id = await _property_fee(client, world)
    token = world.token("finance_a")

    retired = await gql(client, RETIRE, {"ruleId": rule_id, "to": "2026-10-31"}, token=token)
    too_early = await gql(client, RETIRE, {"ruleId": rule_id, "to": "2025-12-31"}, token=token)
    run = await run_billing(client, world, "2026-11")

    assert retired["data"]["retireFeeRule"] == {"__typename": "FeeRule", "endsOn": "2026-10-31"}
    assert too_early["data"]["retireFeeRule"] == {"__typename": "BadUserInputError", "code": "BAD_USER_INPUT", "field": "effectiveTo"}
    assert (run["billCount"], run["totalAmount"]) == (0, "0.00")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "PER_AREA", "ratePerSquareMetre": "-1"}, "ratePerSquareMetre"),
        ({"kind": "PER_AREA", "ratePerSquareMetre": "2.8", "amountPerCycle": "5"}, "amountPerCycle"),
        ({"kind": "FIXED", "amountPerCycle": "10.005"}, "amountPerCycle"),
        (
            {
                "kind": "METERED_TIERED", "meterType": "water", "tierPeriod": "MONTH",
                "tiers": [
                    {"startsAt": "0", "upTo": "20", "unitPrice": "3.5"},
                    {"startsAt": "15", "unitPrice": "4.5"},
                ],
            },
            "tiers[1].startsAt",
        ),
        ({"kind": "METERED_TIERED", "tierPeriod": "MONTH", "tiers": [{"startsAt": "0", "unitPrice": "1"}]}, "meterType"),
        ({"kind": "APPORTIONED", "apportionTotal": "100.00", "apportionBasis": "AREA", "scope": {"unitKinds": ["OFFICE"]}}, "scope"),
        ({"kind": "APPORTIONED", "apportionTotal": "0", "apportionBasis": "EQUAL"}, "apportionTotal"),
        ({"kind": "PER_AREA", "ratePerSquareMetre": "1", "code": "lower case!"}, "code"),
        ({"kind": "PER_AREA", "ratePerSquareMetre": "1", "effectiveTo": "2025-01-01"}, "effectiveTo"),
    ],
)
async def test_invalid_rules_are_refused_with_the_field_named(
    client: httpx.AsyncClient, state: AppState, fields: dict[str, Any], field: str
) -> None:
    world = await build_world(state)
    payload = {"code": "X", "name": "x", "effectiveFrom": "2026-01-01", **fields}

    result = await gql(client, CREATE_RULE, _rule(world, **payload), token=world.token("finance_a"))

    created = result["data"]["createFeeRule"]
    assert (created["code"], created["field"]) == ("BAD_USER_INPUT", field), created


async def test_a_rule_code_is_unique_in_a_project(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    await _property_fee(client, world)

    again = await gql(
        client,
        CREATE_RULE,
        _rule(world, code="PROPERTY", kind="FIXED", name="x", effectiveFrom="2026-01-01", amountPerCycle="1.00"),
        token=world.token("finance_a"),
    )

    assert (again["data"]["createFeeRule"]["code"], again["data"]["createFeeRule"]["field"]) == ("CONFLICT", "code")


async def test_rules_are_finance_business(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    await _property_fee(client, world)
    variables = _rule(world, code="FEE", kind="FIXED", name="x", effectiveFrom="2026-01-01", amountPerCycle="1.00")

    as_owner = await gql(client, CREATE_RULE, variables, token=world.token("alice"))
    as_admin_elsewhere = await gql(client, CREATE_RULE, variables, token=world.token("admin_b"))
    listed_elsewhere = await gql(client, RULES, {"projectId": world.gid("Project:lakeside")}, token=world.token("admin_b"))
    as_admin = await gql(client, CREATE_RULE, variables, token=world.token("admin_a"))

    assert error_codes(as_owner) == ["FORBIDDEN"]
    assert as_admin_elsewhere["data"]["createFeeRule"]["code"] == "NOT_FOUND"
    assert listed_elsewhere["data"]["feeRules"] == []
    assert as_admin["data"]["createFeeRule"]["__typename"] == "FeeRule"


async def test_discounts_and_waivers_reduce_charges_with_their_reason(client: httpx.AsyncClient, state: AppState) -> None:
    # given the property fee, 50 % off for vacant units, and 100.00 waived for alice in November
    world = await build_world(state)
    await _property_fee(client, world)
    token = world.token("finance_a")
    discount = await gql(
        client,
        """mutation ($input: CreateDiscountRuleInput!) { createDiscountRule(input: $input) { __typename ... on Error { field } } }""",
        {"input": {"projectId": world.gid("Project:lakeside"), "name": "空置优惠", "percent": "50", "ruleCodes": ["PROPERTY"], "vacantOnly": True}},
        token=token,
    )
    waiver = await gql(
        client,
        """mutation ($input: CreateWaiverInput!) { createWaiver(input: $input) { __typename ... on Error { field } } }""",
        {"input": {"unitId": world.gid("Unit:alice"), "ruleCode": "PROPERTY", "period": "2026-11", "amount": "100.00", "reason": "维修补偿"}},
        token=token,
    )
    assert discount["data"]["createDiscountRule"]["__typename"] == "DiscountRule"
    assert waiver["data"]["createWaiver"]["__typename"] == "Waiver"

    # when November is billed
    await run_billing(client, world, "2026-11")

    # then the vacant flat pays half (210.70 − 105.35) and alice 247.80 − 100.00
    bills = await gql(client, BILL_LINES, {"period": "2026-11"}, token=token)
    lines = {edge["node"]["unit"]["number"]: edge["node"]["lines"] for edge in bills["data"]["bills"]["edges"]}
    assert lines["201"] == [{"ruleCode": "PROPERTY", "amount": "210.70"}, {"ruleCode": "PROPERTY", "amount": "-105.35"}]
    assert lines["101"] == [{"ruleCode": "PROPERTY", "amount": "247.80"}, {"ruleCode": "PROPERTY", "amount": "-100.00"}]
