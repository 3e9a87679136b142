"""The overdue-risk score on both databases: features read from the books only as they stood before each
due date (payments made later change none of them), the ranking and the scorecard for finance staff, and
the dunning work queue ordered by the risk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from api.state import AppState
from billing.dunning.arrears import arrears_hold
from billing.dunning.policies import set_dunning_settings
from billing.dunning.work_queue import list_work_queue
from billing.reports.risk import RiskFeatures, RiskModel
from billing.reports.risk_scoring import read_history
from db.models import OverdueRiskModel
from tests.conftest import Clock
from tests.integration.billing_world import books_balance, pay, run_billing  # noqa: F401  (books checked after every test)
from tests.integration.dunning_world import SHANGHAI, dunning_world, finance, local
from tests.integration.world import World, gql

RISKS = """
query ($p: ID!, $first: Int, $after: String) { overdueRisks(projectId: $p, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { probability byModel flaggedByBaseline period dueDate amountDue unitLabel
                 bill { id period } unit { number }
                 topReasons { code weight text en: text(language: EN) } } } } }"""
TRAIN = """
mutation ($p: ID!) { trainRiskScorecard(projectId: $p) {
  __typename ... on RiskScorecard { labelledBills enabled splitOn baselineLateShareFlagged baselineLateShareUnflagged
                                    baseline { auc } model { auc } weights { feature } }
  ... on Error { code message field } } }"""
SCORECARD = "query ($p: ID!) { riskScorecard(projectId: $p) { trainedAt labelledBills enabled } }"
# Paying at the desk weighs most in this scorecard, written by hand for the test.
DESK_HEAVY = RiskModel(
    -3.0,
    {"late_of_last_six": 0.5, "late_twice": 0.0, "unpaid_count": 0.2, "unpaid_amount": 0.0, "amount_high": 0.0, "vacant": 0.0,
     "new_occupant": 0.0, "pays_offline": 4.0, "no_history": 0.0},
)


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient, clock: Clock) -> World:
    """October (due 17 November), November (due 16 December) and December (due 16 January) billed in
    Lakeside; bob paid October in cash on time, alice paid nothing. It is 2 January 2027."""
    world = await dunning_world(state, client)
    await pay(client, world, "bob", "336.00", "bob-october", payerName="李强", channel="CASH")
    clock.now = local(dt.date(2026, 12, 1))
    await run_billing(client, world, "2026-11")
    clock.now = local(dt.date(2027, 1, 1))
    await run_billing(client, world, "2026-12")
    clock.now = local(dt.date(2027, 1, 2))
    return world


async def features_of_every_bill(state: AppState, world: World) -> dict[int, RiskFeatures]:
    async with state.session_factory() as session:
        history = await read_history(session, world.ids["Project:lakeside"], SHANGHAI)
    return {bill.bill_id: unit.features_of(bill) for unit in history.values() for bill in unit.bills}


async def test_payments_made_after_the_due_dates_change_no_bills_features(
    state: AppState, client: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    # given the features of every bill on 2 January
    before = await features_of_every_bill(state, world)
    async with state.session_factory() as session:
        alice = (await read_history(session, world.ids["Project:lakeside"], SHANGHAI, unit_ids=[world.ids["Unit:alice"]]))[world.ids["Unit:alice"]]
    december = alice.bills[-1]
    assert [bill.past.paid_in_full_on for bill in alice.bills] == [None, None, None]
    # by 16 January October and November are unpaid, each since 31 days or more after its due date: both late
    assert before[december.bill_id] == RiskFeatures(
        late_of_last_six=2, bills_seen=2, unpaid_count=2, unpaid_amount=Decimal("495.60"), amount_ratio=Decimal("1.00"),
        vacant=False, tenure_days=before[december.bill_id].tenure_days, offline_share=None,
    )
    bob = next(features for bill_id, features in before.items() if features.offline_share is not None)
    assert bob.offline_share == Decimal("1.00")  # October, in cash

    # when everyone pays everything on 20 January, after every due date
    clock.now = local(dt.date(2027, 1, 20))
    await pay(client, world, "alice", "2000.00", "alice-all", channel="CASH")
    await pay(client, world, "bob", "2000.00", "bob-all", payerName="李强", channel="WECHAT")

    # then the books show the payments, and no bill's features moved
    async with state.session_factory() as session:
        alice = (await read_history(session, world.ids["Project:lakeside"], SHANGHAI, unit_ids=[world.ids["Unit:alice"]]))[world.ids["Unit:alice"]]
    assert [bill.past.paid_in_full_on for bill in alice.bills] == [dt.date(2027, 1, 20)] * 3
    assert [bill.open for bill in alice.bills] == [False] * 3
    assert await features_of_every_bill(state, world) == before


async def test_finance_ranks_the_open_bills_and_trains_a_scorecard_that_too_few_bills_leave_disabled(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    project = world.gid("Project:lakeside")
    token = world.token("finance_a")
    # nothing trained: the rule baseline scores, flagging the Decembers of the flats that paid neither October nor November
    result = await gql(client, RISKS, {"p": project, "first": 10}, token=token)
    risks = result["data"]["overdueRisks"]
    assert risks["totalCount"] == 8  # alice's and the vacant flat's three months, bob's last two
    flagged, vacant, *others = [edge["node"] for edge in risks["edges"]]
    assert (flagged["unitLabel"], flagged["period"], flagged["probability"], flagged["byModel"]) == ("A1 101", "2026-12", 1.0, False)
    assert (vacant["unitLabel"], vacant["period"], vacant["probability"]) == ("A2 201", "2026-12", 1.0)
    assert [reason["code"] for reason in vacant["topReasons"]] == ["LATE_HISTORY", "UNPAID", "VACANT"]
    assert [reason["text"] for reason in flagged["topReasons"]] == ["近 2 期有 2 期逾期超过 30 天", "另有 2 张账单未缴，共 ¥495.60"]
    assert {(node["probability"], node["flaggedByBaseline"]) for node in others} == {(0.0, False)}
    assert (await gql(client, SCORECARD, {"p": project}, token=token))["data"]["riskScorecard"] == {"trainedAt": None, "labelledBills": 0, "enabled": False}

    trained = (await gql(client, TRAIN, {"p": project}, token=token))["data"]["trainRiskScorecard"]

    # October's three flat bills are the only ones due 31 days ago: too few to fit or judge anything
    assert trained == {
        "__typename": "RiskScorecard", "labelledBills": 3, "enabled": False, "splitOn": None,
        "baselineLateShareFlagged": 1.0, "baselineLateShareUnflagged": pytest.approx(2 / 3, abs=1e-4),
        "baseline": None, "model": None, "weights": [],
    }
    assert (await gql(client, SCORECARD, {"p": project}, token=token))["data"]["riskScorecard"] == {
        "trainedAt": "2027-01-02T01:00:00+00:00", "labelledBills": 3, "enabled": False,
    }
    after = [edge["node"]["probability"] for edge in (await gql(client, RISKS, {"p": project, "first": 10}, token=token))["data"]["overdueRisks"]["edges"]]
    assert after == [1.0, 1.0] + [pytest.approx(2 / 3, abs=1e-4)] * 6  # the late shares measured: none flagged (1 until seen), 2 of 3 not


async def test_an_enabled_scorecard_ranks_with_its_reasons_and_orders_the_work_queue(
    state: AppState, client: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    # given a scorecard in force that weighs paying at the desk most
    async with state.session_factory() as session, session.begin():
        session.add(
            OverdueRiskModel(
                project_id=world.ids["Project:lakeside"], trained_at=clock(), trained_by=None, labelled_bills=0, enabled=True,
                model=DESK_HEAVY.as_json(), baseline_rates={"flagged": 0.5, "unflagged": 0.1}, validation=None,
            )
        )
    project, token = world.gid("Project:lakeside"), world.token("finance_a")

    # when finance reads the ranking a page at a time
    first = (await gql(client, RISKS, {"p": project, "first": 2}, token=token))["data"]["overdueRisks"]
    rest = (await gql(client, RISKS, {"p": project, "first": 10, "after": first["pageInfo"]["endCursor"]}, token=token))["data"]["overdueRisks"]

    # then bob's two bills come first, with the desk habit as their weightiest reason
    nodes = [edge["node"] for edge in first["edges"] + rest["edges"]]
    assert [(node["unitLabel"], node["period"]) for node in nodes[:2]] == [("A1 102", "2026-12"), ("A1 102", "2026-11")]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"] and len(nodes) == 8
    bob_december = nodes[0]
    # November unpaid since its due date on 16 December: late by 16 January, and one bill unpaid
    assert bob_december["probability"] == pytest.approx(1 / (1 + 2.718281828459045 ** -(-3.0 + 4.0 + 0.5 + 0.2)), abs=1e-4)
    assert bob_december["byModel"] and bob_december["bill"]["period"] == "2026-12" and bob_december["unit"]["number"] == "102"
    assert [(reason["code"], reason["text"], reason["en"]) for reason in bob_december["topReasons"]] == [
        ("PAYS_OFFLINE", "以往 100% 在柜台或转账缴费", "100% of past bills paid at the desk or by transfer"),
        ("LATE_HISTORY", "近 2 期有 1 期逾期超过 30 天", "late by over 30 days in 1 of the last 2 bills"),
        ("UNPAID", "另有 1 张账单未缴，共 ¥336.00", "1 other bills unpaid, ¥336.00 in all"),
    ]
    alice_december = next(node for node in nodes if node["unitLabel"] == "A1 101" and node["period"] == "2026-12")
    assert [reason["code"] for reason in alice_december["topReasons"]] == ["LATE_HISTORY", "UNPAID"]
    assert [node["probability"] for node in nodes] == sorted((node["probability"] for node in nodes), reverse=True)

    # and the work queue chases bob before alice, though alice owes more for longer
    queue = await list_work_queue(state.session_factory, finance(world), project_id=world.ids["Project:lakeside"], now=clock(), limit=10)
    assert [(account.unit_label, account.score > queue.accounts[0].score) for account in queue.accounts] == [("A1 102", False), ("A1 101", True)]
    assert queue.accounts[0].risk == pytest.approx(1 / (1 + 2.718281828459045 ** -(-3.0 + 4.0)), abs=1e-6)  # November: nothing else unpaid yet
    assert [reason.key for reason in queue.accounts[0].risk_reasons] == ["PAYS_OFFLINE"]

    # and the score holds back no repair by itself: only the overdue amount against the threshold does
    await set_dunning_settings(
        state.session_factory, finance(world), project_id=world.ids["Project:lakeside"], now=clock(), repair_block_threshold=Decimal("400.00")
    )
    async with state.session_factory() as session:
        bob = await arrears_hold(session, project_id=world.ids["Project:lakeside"], party_id=world.ids["Party:bob"], now=clock())
        alice = await arrears_hold(session, project_id=world.ids["Project:lakeside"], party_id=world.ids["Party:alice"], now=clock())
    assert bob is None  # the riskiest account owes 336.00 overdue, under the threshold of 400.00
    assert alice is not None and alice.amount_overdue >= Decimal("495.60")
