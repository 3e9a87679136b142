"""A project's matching rules kept through GraphQL, on SQLite and PostgreSQL: a rule that reads the unit
code in a transfer's memo pairs it with that unit's payment, a disabled rule is no longer tried until it is
enabled again, a bad rule names its field and writes nothing, and positions renumber around a moved rule.

Lakeside's bank account 6222000011112222 received 300.00 on 2026-11-01 with the memo `a1栋102室物业费`;
the desk recorded 300.00 by bank transfer for A1 101 (alice) and for A1 102 (bob) that day, neither with
the bank's serial, so only the unit code in the memo tells them apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.state import AppState
from db.models import ReconciliationRule
from tests.conftest import Clock
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (autouse: the books balance after every test)
from tests.integration.test_reconciliation import BANK, BANK_HEADER, BANK_PROFILE, MATCHES, RECONCILE, _account, _import
from tests.integration.world import World, build_world, gql
from tests.unit.reconciliation.statements import bank_csv

RULE_FIELDS = "id position name pattern unitId partyId amountTolerance daysBefore daysAfter minNameSimilarity channels disabledAt"
CREATE_RULE = f"""
mutation ($input: CreateReconciliationRuleInput!) {{
  createReconciliationRule(input: $input) {{ __typename ... on ReconciliationRule {{ {RULE_FIELDS} }} ... on Error {{ code field message }} }}
}}"""
UPDATE_RULE = f"""
mutation ($input: UpdateReconciliationRuleInput!) {{
  updateReconciliationRule(input: $input) {{ __typename ... on ReconciliationRule {{ {RULE_FIELDS} }} ... on Error {{ code field message }} }}
}}"""
DISABLE_RULE = """
mutation ($rule: ID!) {
  disableReconciliationRule(ruleId: $rule) { __typename ... on ReconciliationRule { id disabledAt } ... on Error { code field } }
}"""
ENABLE_RULE = """
mutation ($rule: ID!) {
  enableReconciliationRule(ruleId: $rule) { __typename ... on ReconciliationRule { id position disabledAt } ... on Error { code field } }
}"""
RULES = "query ($p: ID!, $all: Boolean!) { reconciliationRules(projectId: $p, includeDisabled: $all) { name position disabledAt } }"
UNIT_PATTERN = r"(?P<unit>[A-Za-z]\d+栋\d+)"


async def _call(client: httpx.AsyncClient, world: World, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await gql(client, document, variables, token=world.token("finance_a"))
    assert "errors" not in result, result
    (value,) = result["data"].values()
    return value  # type: ignore[no-any-return]


async def _create(client: httpx.AsyncClient, world: World, **rule: Any) -> dict[str, Any]:
    return await _call(client, world, CREATE_RULE, {"input": {"projectId": world.gid("Project:lakeside"), **rule}})


async def _rules(client: httpx.AsyncClient, world: World, *, include_disabled: bool = True) -> list[tuple[str, int, bool]]:
    listed = await _call(client, world, RULES, {"p": world.gid("Project:lakeside"), "all": include_disabled})
    return [(rule["name"], rule["position"], rule["disabledAt"] is not None) for rule in listed]


async def _rule_rows(state: AppState) -> int:
    async with state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(ReconciliationRule)) or 0)


async def _rule_matches(client: httpx.AsyncClient, world: World) -> list[tuple[list[str], str, list[str]]]:
    found = await _call(client, world, MATCHES, {"p": world.gid("Project:lakeside")})
    return [
        (node["paymentIds"], node["lines"][0]["amount"], [part["text"] for part in node["explanation"]])
        for node in (edge["node"] for edge in found["edges"])
        if node["step"] == "RULE"
    ]


async def test_a_rule_pairs_a_transfer_with_the_unit_its_memo_names_and_a_disabled_rule_is_not_tried(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_world(state)
    bank = await _account(client, world, BANK, "BANK", bankProfile=BANK_PROFILE)
    paid = {}
    for unit in ("alice", "bob"):
        payment = await pay(client, world, unit, "300.00", f"k-{unit}", channel="BANK_TRANSFER", paidAt="2026-11-01T10:00:00+08:00")
        paid[unit] = payment["id"]
    statement = bank_csv([["2026-11-01", "BR900", "", "300.00", "刘洋", "a1栋102室物业费"]], header=BANK_HEADER)
    assert (await _import(client, world, bank, "bank.csv", statement))["newLineCount"] == 1
    clock.now = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
    window = {"p": world.gid("Project:lakeside"), "from": "2026-11-01", "to": "2026-11-01"}

    retired = await _create(client, world, name="旧房号规则", pattern=UNIT_PATTERN)
    disabled = await _call(client, world, DISABLE_RULE, {"rule": retired["id"]})
    again = await _call(client, world, DISABLE_RULE, {"rule": retired["id"]})
    before = await _call(client, world, RECONCILE, window)
    created = await _create(client, world, name="附言房号", pattern=UNIT_PATTERN, daysAfter=2)
    after = await _call(client, world, RECONCILE, window)

    assert disabled["disabledAt"] is not None and again["disabledAt"] == disabled["disabledAt"]
    assert (before["newMatches"], {item["kind"] for item in before["exceptionsByKind"]}) == (0, {"BANK_UNMATCHED", "UNRECEIVED"})
    assert created["position"] == 2 and created["channels"] == ["BANK_TRANSFER"] and created["amountTolerance"] == "0.00"
    assert after["newMatches"] == 1
    assert {item["kind"]: item["count"] for item in after["exceptionsByKind"]} == {"UNRECEIVED": 1}
    ((payment_ids, amount, explanation),) = await _rule_matches(client, world)
    assert (payment_ids, amount) == ([paid["bob"]], "300.00")
    assert explanation[:2] == ["按第 2 条规则「附言房号」匹配", "在摘要中找到「a1栋102」"]


async def test_a_rule_enabled_again_is_tried_again_at_the_place_it_kept(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_world(state)
    bank = await _account(client, world, BANK, "BANK", bankProfile=BANK_PROFILE)
    paid = {}
    for unit in ("alice", "bob"):
        payment = await pay(client, world, unit, "300.00", f"k-{unit}", channel="BANK_TRANSFER", paidAt="2026-11-01T10:00:00+08:00")
        paid[unit] = payment["id"]
    statement = bank_csv([["2026-11-01", "BR900", "", "300.00", "刘洋", "a1栋102室物业费"]], header=BANK_HEADER)
    await _import(client, world, bank, "bank.csv", statement)
    clock.now = dt.datetime(2026, 11, 6, 2, 0, tzinfo=dt.UTC)
    window = {"p": world.gid("Project:lakeside"), "from": "2026-11-01", "to": "2026-11-01"}
    memo = await _create(client, world, name="附言房号", pattern=UNIT_PATTERN)
    await _create(client, world, name="同名同额", minNameSimilarity=0.9)

    await _call(client, world, DISABLE_RULE, {"rule": memo["id"]})
    while_disabled = await _call(client, world, RECONCILE, window)
    enabled = await _call(client, world, ENABLE_RULE, {"rule": memo["id"]})
    again = await _call(client, world, ENABLE_RULE, {"rule": memo["id"]})
    listed = await _rules(client, world, include_disabled=False)
    after = await _call(client, world, RECONCILE, window)

    assert while_disabled["newMatches"] == 0
    assert enabled == again == {"__typename": "ReconciliationRule", "id": memo["id"], "position": 1, "disabledAt": None}
    assert listed == [("附言房号", 1, False), ("同名同额", 2, False)]
    assert after["newMatches"] == 1
    ((payment_ids, amount, explanation),) = await _rule_matches(client, world)
    assert (payment_ids, amount) == ([paid["bob"]], "300.00")
    assert explanation[0] == "按第 1 条规则「附言房号」匹配"
    async with state.session_factory() as session:
        stored = (await session.execute(select(ReconciliationRule.name, ReconciliationRule.disabled_at, ReconciliationRule.disabled_by))).all()
    assert sorted(stored) == [("同名同额", None, None), ("附言房号", None, None)]


@pytest.mark.parametrize(
    ("rule", "code", "field"),
    [
        ({"pattern": "(?P<unit>[0-9"}, "BAD_USER_INPUT", "pattern"),
        ({"pattern": "物业费"}, "BAD_USER_INPUT", "pattern"),  # points at nothing
        ({"unitId": "UNIT"}, "BAD_USER_INPUT", "pattern"),  # a target without a pattern to find it
        ({"pattern": "A1-101", "unitId": "FOREIGN_UNIT"}, "NOT_FOUND", "unitId"),
        ({"pattern": "张", "partyId": "FOREIGN_PARTY"}, "NOT_FOUND", "partyId"),
        ({"amountTolerance": "-0.01"}, "BAD_USER_INPUT", "amountTolerance"),
        ({"amountTolerance": "0.005"}, "BAD_USER_INPUT", "amountTolerance"),
        ({"daysAfter": 61}, "BAD_USER_INPUT", "daysAfter"),
        ({"daysBefore": -1}, "BAD_USER_INPUT", "daysBefore"),
        ({"minNameSimilarity": 1.5}, "BAD_USER_INPUT", "minNameSimilarity"),
        ({"channels": []}, "BAD_USER_INPUT", "channels"),
        ({"position": 0}, "BAD_USER_INPUT", "position"),
        ({"name": "  "}, "BAD_USER_INPUT", "name"),
        ({"name": "同名同额"}, "BAD_USER_INPUT", "name"),  # the project has one by that name
    ],
)
async def test_a_bad_rule_names_its_field_and_writes_nothing(
    client: httpx.AsyncClient, state: AppState, rule: dict[str, Any], code: str, field: str
) -> None:
    world = await build_world(state)
    kept = await _create(client, world, name="同名同额", minNameSimilarity=0.8, amountTolerance="1.00")
    targets = {"UNIT": world.gid("Unit:alice"), "FOREIGN_UNIT": world.gid("Unit:carol"), "FOREIGN_PARTY": world.gid("Party:carol")}
    rule = {name: targets.get(value, value) if isinstance(value, str) else value for name, value in rule.items()}

    created = await _create(client, world, **{"name": "新规则", **rule})
    updated = await _call(client, world, UPDATE_RULE, {"input": {"ruleId": kept["id"], "name": "另一条", **rule}})

    if rule.get("name") == "同名同额":
        assert updated["__typename"] == "ReconciliationRule"  # its own name is no clash
        assert (created["code"], created["field"]) == (code, field)
    else:
        assert (created["code"], created["field"]) == (code, field)
        assert (updated["code"], updated["field"]) == (code, field)
        assert await _rules(client, world) == [("同名同额", 1, False)]
    assert await _rule_rows(state) == 1


async def test_a_rule_put_or_moved_to_a_position_moves_the_others_down(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    first = await _create(client, world, name="甲", minNameSimilarity=0.9)
    second = await _create(client, world, name="乙", minNameSimilarity=0.8)
    third = await _create(client, world, name="丙", amountTolerance="0.50", position=1)
    placed = await _rules(client, world)

    moved = await _call(client, world, UPDATE_RULE, {"input": {"ruleId": second["id"], "name": "乙", "daysAfter": 5, "position": 1}})
    await _call(client, world, DISABLE_RULE, {"rule": third["id"]})
    last = await _call(client, world, UPDATE_RULE, {"input": {"ruleId": moved["id"], "name": "乙", "position": 99}})

    assert (first["position"], second["position"], third["position"]) == (1, 2, 1)
    assert placed == [("丙", 1, False), ("甲", 2, False), ("乙", 3, False)]
    assert (moved["position"], moved["daysAfter"], moved["minNameSimilarity"]) == (1, 5, None)
    assert last["position"] == 3
    assert await _rules(client, world) == [("丙", 1, True), ("甲", 2, False), ("乙", 3, False)]
    assert await _rules(client, world, include_disabled=False) == [("甲", 2, False), ("乙", 3, False)]
