"""Dunning through GraphQL on both databases, as the finance desk uses it: the policy as data, a pass, the
work queue with each account's history, disputes, payment plans and follow-up calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from api.state import AppState
from tests.conftest import Clock
from tests.integration.billing_world import books_balance  # noqa: F401  (the books balance after every test)
from tests.integration.dunning_world import DUE, dunning_world, local, relay_dunning
from tests.integration.world import World, gql

POLICY = """
query ($p: ID!) { dunningPolicy(projectId: $p) {
  enabled isDefault repairBlockThreshold paymentInstructions
  levels { code daysFromDue minAmount minBills kind channels escalation } } }"""
SET_POLICY = """
mutation ($input: SetDunningPolicyInput!) { setDunningPolicy(input: $input) {
  __typename ... on DunningPolicy { isDefault enabled repairBlockThreshold levels { code kind channels escalation } }
  ... on Error { code message field } } }"""
RUN = """
mutation ($p: ID!, $dry: Boolean!) { runDunning(projectId: $p, dryRun: $dry) {
  __typename ... on DunningPass { runId day accounts held messages followUps byLevel { level accounts }
                                   decisions { level amountDue dueDate daysOverdue lateFee billCount followsUp unit { number } } }
  ... on Error { code message field } } }"""
QUEUE = """
query ($p: ID!, $first: Int, $after: String) { dunningWorkQueue(projectId: $p, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { amountOverdue daysOverdue score overdueBills openFollowUp unit { number } owner { name }
                 history { noticeId level kind amountDue lateFee daysOverdue messageStatus channel followsUp followUpStatus } } } } }"""
DISPUTE = """
mutation ($input: SetBillDisputeInput!) { setBillDispute(input: $input) {
  __typename ... on BillDispute { disputed reason resolution } ... on Error { code message field } } }"""
PLAN = """
mutation ($input: SetPaymentPlanInput!) { setPaymentPlan(input: $input) {
  __typename ... on PaymentPlan { startsOn endsOn note cancelledAt } ... on Error { code message field } } }"""
CALL = """
mutation ($input: RecordDunningCallInput!) { recordDunningCall(input: $input) {
  __typename ... on DunningNotice { level followUpNote followUpDoneAt } ... on Error { code message field } } }"""
BILLS = "query ($u: ID!) { bills(filter: {unitId: $u}) { edges { node { id } } } }"


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await dunning_world(state, client)


async def call(client: httpx.AsyncClient, world: World, document: str, variables: dict[str, Any], user: str = "finance_a") -> Any:
    answer = await gql(client, document, variables, token=world.token(user))
    assert "errors" not in answer, answer
    (value,) = answer["data"].values()
    return value


async def test_the_policy_is_data_the_desk_reads_and_replaces(client: httpx.AsyncClient, world: World) -> None:
    lakeside = world.gid("Project:lakeside")
    default = await call(client, world, POLICY, {"p": lakeside})
    assert default["isDefault"] and [level["code"] for level in default["levels"]] == ["T-7", "T0", "T+3", "T+15", "T+30"]
    assert default["levels"][4] == {
        "code": "T+30", "daysFromDue": 30, "minAmount": "100.00", "minBills": None, "kind": None, "channels": [],
        "escalation": "PHONE_FOLLOW_UP",
    }
    levels = [
        {"code": "D-3", "daysFromDue": -3, "kind": "BILL_REMINDER", "channels": ["WECHAT", "IN_APP"]},
        {"code": "D+5", "daysFromDue": 5, "kind": "OVERDUE_NOTICE"},
        {"code": "D+20", "daysFromDue": 20, "kind": "FINAL_NOTICE", "escalation": "PHONE_FOLLOW_UP", "minAmount": "300.00"},
    ]
    saved = await call(client, world, SET_POLICY, {"input": {"projectId": lakeside, "levels": levels, "repairBlockThreshold": "500.00"}})
    assert saved == {
        "__typename": "DunningPolicy", "isDefault": False, "enabled": True, "repairBlockThreshold": "500.00",
        "levels": [
            {"code": "D-3", "kind": "BILL_REMINDER", "channels": ["WECHAT", "IN_APP"], "escalation": "NONE"},
            {"code": "D+5", "kind": "OVERDUE_NOTICE", "channels": [], "escalation": "NONE"},
            {"code": "D+20", "kind": "FINAL_NOTICE", "channels": [], "escalation": "PHONE_FOLLOW_UP"},
        ],
    }
    # leaving the levels out keeps them; null turns the repair rule off
    off = await call(client, world, SET_POLICY, {"input": {"projectId": lakeside, "repairBlockThreshold": None}})
    assert off["repairBlockThreshold"] is None and [level["code"] for level in off["levels"]] == ["D-3", "D+5", "D+20"]
    # an unusable level is refused by name, and nothing changes
    wrong = [*levels[:1], {"code": "D+1", "daysFromDue": 1, "kind": "BILL_REMINDER"}]
    refused = await call(client, world, SET_POLICY, {"input": {"projectId": lakeside, "levels": wrong}})
    assert (refused["code"], refused["field"]) == ("BAD_USER_INPUT", "levels[1].kind")
    assert [level["code"] for level in (await call(client, world, POLICY, {"p": lakeside}))["levels"]] == ["D-3", "D+5", "D+20"]


async def test_a_pass_the_work_queue_and_the_calls_made(
    state: AppState, clock: Clock, client: httpx.AsyncClient, world: World
) -> None:
    lakeside = world.gid("Project:lakeside")
    # a month after the due date, a dry run shows the follow-ups it would ask for, writing nothing
    clock.now = local(DUE + dt.timedelta(days=30))
    preview = await call(client, world, RUN, {"p": lakeside, "dry": True})
    assert (preview["runId"], preview["byLevel"], preview["followUps"]) == (None, [{"level": "T+30", "accounts": 2}], 2)
    assert preview["decisions"][0] == {
        "level": "T+30", "amountDue": "336.00", "dueDate": "2026-11-17", "daysOverdue": 30, "lateFee": "5.04",
        "billCount": 1, "followsUp": True, "unit": {"number": "102"},
    }
    assert (await call(client, world, QUEUE, {"p": lakeside}))["edges"][0]["node"]["history"] == []
    # the pass itself, then the relay
    done = await call(client, world, RUN, {"p": lakeside, "dry": False})
    assert done["runId"] is not None and done["followUps"] == 2
    await relay_dunning(state)
    queue = await call(client, world, QUEUE, {"p": lakeside, "first": 1})
    assert (queue["totalCount"], queue["pageInfo"]["hasNextPage"]) == (2, True)
    (bob,) = [edge["node"] for edge in queue["edges"]]
    assert (bob["unit"]["number"], bob["owner"]["name"], bob["amountOverdue"], bob["daysOverdue"], bob["score"]) == (
        "102", "李强", "336.00", 30, "10080.00",
    )
    assert bob["history"] == [
        {
            "noticeId": bob["openFollowUp"], "level": "T+30", "kind": None, "amountDue": "336.00", "lateFee": "5.04",
            "daysOverdue": 30, "messageStatus": None, "channel": None, "followsUp": True, "followUpStatus": "DELIVERED",
        }
    ]
    rest = await call(client, world, QUEUE, {"p": lakeside, "first": 1, "after": queue["pageInfo"]["endCursor"]})
    assert [edge["node"]["unit"]["number"] for edge in rest["edges"]] == ["101"] and not rest["pageInfo"]["hasNextPage"]
    # the desk records its call; the account no longer waits for one
    called = await call(client, world, CALL, {"input": {"noticeId": bob["openFollowUp"], "note": "已联系，周五前缴清"}})
    assert (called["level"], called["followUpNote"]) == ("T+30", "已联系，周五前缴清")
    again = await call(client, world, QUEUE, {"p": lakeside, "first": 1})
    assert again["edges"][0]["node"]["openFollowUp"] is None
    # a dispute and a plan take both accounts out of the queue
    bill = (await call(client, world, BILLS, {"u": world.gid("Unit:alice")}))["edges"][0]["node"]["id"]
    dispute = await call(client, world, DISPUTE, {"input": {"billId": bill, "disputed": True, "reason": "面积有误"}})
    plan = await call(client, world, PLAN, {"input": {"partyId": world.gid("Party:bob"), "endsOn": "2027-02-28", "note": "分三期"}})
    assert (dispute["disputed"], plan["startsOn"], plan["endsOn"]) == (True, "2026-12-17", "2027-02-28")
    assert (await call(client, world, QUEUE, {"p": lakeside}))["totalCount"] == 0
    resolved = await call(client, world, DISPUTE, {"input": {"billId": bill, "disputed": False, "reason": "复核无误"}})
    assert (resolved["disputed"], resolved["resolution"]) == (False, "复核无误")
    assert (await call(client, world, QUEUE, {"p": lakeside}))["totalCount"] == 1


async def test_a_cursor_the_queue_did_not_issue_is_bad_input(client: httpx.AsyncClient, world: World) -> None:
    answer = await gql(client, QUEUE, {"p": world.gid("Project:lakeside"), "after": "bm9uc2Vuc2U="}, token=world.token("finance_a"))
    assert [error["extensions"]["code"] for error in answer["errors"]] == ["BAD_USER_INPUT"]


DAY = """
query ($p: ID!) { dunningDay(projectId: $p) { day today notices counts { level channel status count } } }"""


async def test_the_days_reminders_stand_by_level_channel_and_status_and_are_drawn(
    state: AppState, clock: Clock, client: httpx.AsyncClient, world: World
) -> None:
    lakeside = world.gid("Project:lakeside")
    clock.now = local(DUE + dt.timedelta(days=3))
    assert await call(client, world, DAY, {"p": lakeside}) == {"day": None, "today": "2026-11-20", "notices": 0, "counts": []}
    done = await call(client, world, RUN, {"p": lakeside, "dry": False})
    queued = await call(client, world, DAY, {"p": lakeside})
    assert (queued["day"], queued["notices"]) == ("2026-11-20", done["messages"])
    assert {(count["level"], count["channel"], count["status"]) for count in queued["counts"]} == {("T+3", None, "QUEUED")}
    await relay_dunning(state)
    clock.now = local(DUE + dt.timedelta(days=3), hour=15)
    sent = await call(client, world, DAY, {"p": lakeside})
    assert sent == {
        "day": "2026-11-20", "today": "2026-11-20", "notices": 2,
        "counts": [{"level": "T+3", "channel": "SMS", "status": "SENT", "count": 2}],
    }
    # the next morning's pass reminds nobody new: the day shown stays the last that reminded someone
    clock.now = local(DUE + dt.timedelta(days=4))
    assert (await call(client, world, RUN, {"p": lakeside, "dry": False}))["messages"] == 0
    assert await call(client, world, DAY, {"p": lakeside}) == {**sent, "today": "2026-11-21"}
    # the same day as the /finance page's chart, drawn on the server, and refused to another project's admin
    address = f"/reports/{world.ids['Project:lakeside']}/charts/dunning.svg"
    chart = await client.get(address, headers={"Authorization": f"Bearer {world.token('finance_a')}"})
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert all(text in chart.text for text in ("催缴提醒（2026-11-20）", "T+3", "已发送")) and "<script" not in chart.text
    assert (await client.get(address, headers={"Authorization": f"Bearer {world.token('admin_b')}"})).status_code == 404
    assert (await gql(client, DAY, {"p": lakeside}, token=world.token("admin_b")))["data"]["dunningDay"] is None
