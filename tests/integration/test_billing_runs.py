"""runBilling, bills, statements and adjustments through GraphQL, on SQLite and PostgreSQL.

Lakeside holds alice's 101 (88.50 m²), bob's 102 (120.00 m²), the vacant 201 (75.25 m²) and the shop
S01 (150.00 m²). With the standard rules every unit pays 2.80/m² and a share of 100.00 by floor area
(433.75 m² in all): alice 20.40, bob 27.67, the vacant flat 17.35, the shop 34.58 (largest remainder).
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from api.billing_cli import bill_run
from api.state import AppState
from db.models import Bill, BillLine, JournalEntry, Unit
from kernel.vocabulary import UnitKind
from tests.integration.billing_world import (
    RECORD_READING,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    reading_at,
    run_billing,
    standard_rules,
)
from tests.integration.world import build_world, error_codes, gql, statements_run

BILLS = """
query ($filter: BillFilter, $first: Int) {
  bills(filter: $filter, first: $first) {
    totalCount
    edges { node { id period status totalAmount amountDue dueDate isOverdue
                   unit { number } party { name }
                   lines { position ruleCode kind quantity unitPrice amount explanation } } }
  }
}"""

SET_BILLING_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) { __typename ... on Error { code message field } }
}"""

BILLS_PAGE = """
query ($first: Int) {
  bills(first: $first) {
    edges { node { period amountDue isOverdue lateFee
                   lines { ruleCode amount }
                   unit { number building { name } } } }
  }
}"""

STATEMENT = """
query ($unitId: ID!) {
  unitStatement(unitId: $unitId) {
    amountOwed prepaidCredit balance
    entries { kind description amount balance }
  }
}"""

STATEMENT_WITH_UNIT = """
query ($unitId: ID!) {
  unitStatement(unitId: $unitId) {
    unit { number building { name } }
    balance
    entries { kind amount balance }
  }
}"""

ADJUST = """
mutation ($input: CreateAdjustmentInput!) {
  createAdjustment(input: $input) {
    __typename
    ... on Adjustment { kind amount reason bill { status amountDue adjustmentAmount totalAmount } }
    ... on Error { code message field }
  }
}"""


async def _bills_by_unit(client: httpx.AsyncClient, token: str, **filter_: object) -> dict[str, dict[str, object]]:
    result = await gql(client, BILLS, {"filter": filter_, "first": 100}, token=token)
    assert "errors" not in result, result
    return {edge["node"]["unit"]["number"]: edge["node"] for edge in result["data"]["bills"]["edges"]}


async def test_a_run_bills_every_unit_with_itemised_explained_lines(client: httpx.AsyncClient, state: AppState) -> None:
    # given the standard rules and alice's electricity readings (baseline in October, 300 kWh in November)
    world = await build_world(state)
    await standard_rules(client, world)
    finance = world.token("finance_a")
    for read_at, value in ((reading_at("2026-10-31"), "1000"), (reading_at("2026-11-30"), "1300")):
        result = await gql(
            client,
            RECORD_READING,
            {"input": {"unitId": world.gid("Unit:alice"), "meterType": "electricity", "reading": value, "readAt": read_at}},
            token=finance,
        )
        assert result["data"]["recordMeterReading"]["__typename"] == "MeterReading"

    # when the November run is made
    run = await run_billing(client, world, "2026-11")

    # then every unit has a bill, each amount computed to the fen and explained
    assert run["__typename"] == "BillRun"
    assert (run["period"], run["billCount"], run["lastRunBillCount"], run["timesRun"]) == ("2026-11", 4, 4, 1)
    bills = await _bills_by_unit(client, finance, projectId=world.gid("Project:lakeside"), period="2026-11")
    alice = bills["101"]
    assert [(line["ruleCode"], line["amount"]) for line in alice["lines"]] == [
        ("PROPERTY", "247.80"),
        ("ELECTRICITY", "161.49"),
        ("COMMON", "20.40"),
    ]
    # 240 × 0.5283 = 126.79 and 60 × 0.5783 = 34.70 (each tier rounded to the fen)
    assert alice["lines"][1]["explanation"] == "第1档：240 度 × ¥0.5283 = ¥126.79；第2档：60 度 × ¥0.5783 = ¥34.70"
    assert alice["lines"][1]["unitPrice"] is None
    assert alice["lines"][0]["explanation"] == "88.50 平方米 × ¥2.80/平方米/月 × 1 个月 = ¥247.80"
    assert alice["totalAmount"] == "429.69"
    assert alice["party"]["name"] == "王丽"
    assert alice["dueDate"] == "2026-11-17"
    assert {number: bill["totalAmount"] for number, bill in bills.items()} == {
        "101": "429.69",
        "102": "363.67",
        "201": "228.05",
        "S01": "454.58",
    }
    assert Decimal(run["totalAmount"]) == Decimal("1475.99")


async def test_running_a_period_again_creates_nothing_and_returns_the_same_run(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given a November run
    world = await build_world(state)
    await standard_rules(client, world)
    first = await run_billing(client, world, "2026-11")
    async with state.session_factory() as session:
        lines_before = await session.scalar(select(func.count()).select_from(BillLine))
        entries_before = await session.scalar(select(func.count()).select_from(JournalEntry))

    # when it is run again
    again = await run_billing(client, world, "2026-11")

    # then it is the same run, nothing new was written
    assert again["id"] == first["id"]
    assert (again["billCount"], again["lastRunBillCount"], again["timesRun"]) == (4, 0, 2)
    assert again["totalAmount"] == first["totalAmount"]
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(BillLine)) == lines_before
        assert await session.scalar(select(func.count()).select_from(JournalEntry)) == entries_before


async def test_a_unit_added_after_the_run_is_billed_by_the_next_run_without_a_share_of_the_apportioned_total(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given a November run, then a new flat
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    async with state.session_factory() as session, session.begin():
        session.add(
            Unit(
                project_id=world.ids["Project:lakeside"],
                building_id=world.ids["Building:a1"],
                number="103",
                floor=1,
                floor_area=Decimal("50.00"),
                kind=UnitKind.APARTMENT,
            )
        )

    # when November is run again
    run = await run_billing(client, world, "2026-11")

    # then only the new flat is billed, its property fee alone (the 100.00 was already shared out)
    assert (run["billCount"], run["lastRunBillCount"]) == (5, 1)
    bills = await _bills_by_unit(client, world.token("finance_a"), period="2026-11")
    assert [(line["ruleCode"], line["amount"]) for line in bills["103"]["lines"]] == [("PROPERTY", "140.00")]
    common = sum(
        Decimal(line["amount"]) for bill in bills.values() for line in bill["lines"] if line["ruleCode"] == "COMMON"
    )
    assert common == Decimal("100.00")


async def test_a_dry_run_answers_totals_and_a_sample_and_writes_nothing(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    await standard_rules(client, world)

    preview = await run_billing(client, world, "2026-11", dry_run=True)

    assert preview["__typename"] == "BillRunPreview"
    assert (preview["billCount"], preview["totalAmount"], preview["unitsWithoutCharges"]) == (4, "1314.50", 0)
    assert preview["sample"][0]["unit"]["number"] == "101"
    assert preview["sample"][0]["totalAmount"] == "268.20"
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Bill)) == 0
        assert await session.scalar(select(func.count()).select_from(JournalEntry)) == 0


async def test_run_billing_refuses_a_malformed_period_naming_the_field(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)

    result = await run_billing(client, world, "November")

    assert (result["__typename"], result["code"], result["field"]) == ("BadUserInputError", "BAD_USER_INPUT", "period")


async def test_only_finance_staff_may_run_billing(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    variables = {"projectId": world.gid("Project:lakeside"), "period": "2026-11"}
    mutation = "mutation ($projectId: ID!, $period: String!) { runBilling(projectId: $projectId, period: $period) { __typename } }"

    as_owner = await gql(client, mutation, variables, token=world.token("alice"))
    as_dispatcher = await gql(client, mutation, variables, token=world.token("dispatcher_a"))
    as_other_admin = await gql(client, mutation, variables, token=world.token("admin_b"))
    anonymous = await gql(client, mutation, variables)

    assert error_codes(as_owner) == ["FORBIDDEN"]
    assert error_codes(as_dispatcher) == ["FORBIDDEN"]
    assert as_other_admin["data"]["runBilling"]["__typename"] == "NotFoundError"
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_bills_filter_by_status_building_and_overdue_and_owners_see_only_their_own(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given November's bills, alice's paid in full, and the clock past the due date
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    await pay(client, world, "alice", "268.20", "alice-nov")
    state.clock.advance(days=20)  # type: ignore[attr-defined]
    finance = world.token("finance_a")

    # then
    assert set(await _bills_by_unit(client, finance, status="PAID")) == {"101"}
    assert set(await _bills_by_unit(client, finance, status="OVERDUE")) == {"102", "201", "S01"}
    assert set(await _bills_by_unit(client, finance, status="OPEN")) == {"102", "201", "S01"}
    assert set(await _bills_by_unit(client, finance, buildingId=world.gid("Building:a2"))) == {"201", "S01"}
    assert set(await _bills_by_unit(client, finance, partyId=world.gid("Party:bob"))) == {"102"}
    assert set(await _bills_by_unit(client, world.token("alice"))) == {"101"}
    assert set(await _bills_by_unit(client, world.token("bob"), unitId=world.gid("Unit:alice"))) == set()
    assert set(await _bills_by_unit(client, world.token("admin_b"))) == set()
    assert error_codes(await gql(client, BILLS, {})) == ["UNAUTHENTICATED"]


async def _bills_page_statements(client: httpx.AsyncClient, state: AppState, token: str, first: int) -> tuple[list, int]:
    with statements_run(state.engine) as statements:
        result = await gql(client, BILLS_PAGE, {"first": first}, token=token)
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["bills"]["edges"]], len(statements)


async def test_a_page_of_bills_reads_its_units_lines_and_late_fees_in_three_statements_whatever_its_size(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given two months billed for every unit of Lakeside, which has no late-fee policy yet
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    await run_billing(client, world, "2026-12")
    finance = world.token("finance_a")

    # when finance reads a page of one bill and a page of five, before and after a late fee is set
    one, one_count = await _bills_page_statements(client, state, finance, 1)
    five, five_count = await _bills_page_statements(client, state, finance, 5)
    policy = {"projectId": world.gid("Project:lakeside"), "dueDays": 15, "lateFeeDailyRate": "0.0005"}
    set_policy = await gql(client, SET_BILLING_POLICY, {"input": policy}, token=finance)
    assert set_policy["data"]["setBillingPolicy"]["__typename"] == "BillingPolicy", set_policy
    state.clock.advance(days=90)  # type: ignore[attr-defined]
    finance = world.token("finance_a")
    late_one, late_one_count = await _bills_page_statements(client, state, finance, 1)
    late_five, late_five_count = await _bills_page_statements(client, state, finance, 5)

    # then each bill names its unit and building as the unit's own lookup does, and owes a late fee
    # only once the policy runs
    assert len(five) == 5 and one[0] == five[0] and late_one[0] == late_five[0]
    assert five[0]["unit"] == {"number": "101", "building": {"name": "A1"}}
    assert {bill["unit"]["building"]["name"] for bill in five} == {"A1", "A2"}
    assert {bill["lateFee"] for bill in five} == {"0.00"}
    assert all(bill["isOverdue"] and Decimal(bill["lateFee"]) > 0 for bill in late_five)
    # the caller's principal, the bills with their units and buildings, and the lines with the project's
    # time zone, language and late-fee policy (`billing.bill_details`), with a policy or without
    assert one_count == five_count == late_one_count == late_five_count == 3


async def test_a_statement_runs_the_balance_through_bills_payments_and_credit(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given two months billed (alice: 268.20 each) and a payment of 300.00 in between
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    state.clock.advance(days=5)  # type: ignore[attr-defined]
    await pay(client, world, "alice", "300.00", "alice-1")
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2026-12")

    # when alice reads her statement
    result = await gql(client, STATEMENT, {"unitId": world.gid("Unit:alice")}, token=world.token("alice"))

    # then: +268.20, −300.00 (31.80 in credit), +268.20 of which the credit pays 31.80, each said in
    # the project's language and named by period and channel, never by a database number
    statement = result["data"]["unitStatement"]
    assert [(e["kind"], e["description"], e["amount"], e["balance"]) for e in statement["entries"]] == [
        ("BILLS_ISSUED", "2026-11 账单", "268.20", "268.20"),
        ("PAYMENT", "缴费（微信支付）", "-300.00", "-31.80"),
        ("BILLS_ISSUED", "2026-12 账单", "268.20", "236.40"),
    ]
    assert (statement["amountOwed"], statement["prepaidCredit"], statement["balance"]) == ("236.40", "0.00", "236.40")
    december = (await _bills_by_unit(client, world.token("alice"), period="2026-12"))["101"]
    assert (december["status"], december["amountDue"]) == ("PARTIALLY_PAID", "236.40")
    # and nobody else's statement is readable
    other = await gql(client, STATEMENT, {"unitId": world.gid("Unit:bob")}, token=world.token("alice"))
    assert other["data"]["unitStatement"] is None


async def test_a_statement_reads_its_unit_and_its_entries_in_one_statement_however_long(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given one month billed, then two more months and a payment
    world = await build_world(state)
    await standard_rules(client, world)
    variables = {"unitId": world.gid("Unit:alice")}
    await run_billing(client, world, "2026-11")
    with statements_run(state.engine) as short_run:
        short = await gql(client, STATEMENT_WITH_UNIT, variables, token=world.token("alice"))
    state.clock.advance(days=5)  # type: ignore[attr-defined]
    await pay(client, world, "alice", "300.00", "alice-1")
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2026-12")
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2027-01")

    # when alice reads her statement again (with a token of today: the first has expired)
    with statements_run(state.engine) as long_run:
        long = await gql(client, STATEMENT_WITH_UNIT, variables, token=world.token("alice"))

    # then the heading names her unit and building, and the caller took one statement and the unit with
    # its journal one more, for one entry as for four
    assert "errors" not in short and "errors" not in long, (short, long)
    assert short["data"]["unitStatement"]["unit"] == long["data"]["unitStatement"]["unit"] == {
        "number": "101", "building": {"name": "A1"},
    }
    assert [len(short["data"]["unitStatement"]["entries"]), len(long["data"]["unitStatement"]["entries"])] == [1, 4]
    assert len(short_run) == len(long_run) == 2


async def test_adjustments_correct_a_bill_without_changing_it(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    bill_id = (await _bills_by_unit(client, world.token("finance_a")))["101"]["id"]
    finance = world.token("finance_a")

    credit = await gql(
        client, ADJUST, {"input": {"billId": bill_id, "kind": "CREDIT", "amount": "68.20", "reason": "漏水补偿"}}, token=finance
    )
    too_much = await gql(
        client, ADJUST, {"input": {"billId": bill_id, "kind": "CREDIT", "amount": "200.01", "reason": "x"}}, token=finance
    )
    debit = await gql(
        client, ADJUST, {"input": {"billId": bill_id, "kind": "DEBIT", "amount": "10.00", "reason": "钥匙"}}, token=finance
    )
    by_owner = await gql(
        client, ADJUST, {"input": {"billId": bill_id, "kind": "CREDIT", "amount": "1.00", "reason": "x"}}, token=world.token("alice")
    )

    assert credit["data"]["createAdjustment"]["bill"] == {
        "status": "OPEN",
        "amountDue": "200.00",
        "adjustmentAmount": "-68.20",
        "totalAmount": "268.20",
    }
    assert (too_much["data"]["createAdjustment"]["code"], too_much["data"]["createAdjustment"]["field"]) == (
        "BAD_USER_INPUT",
        "amount",
    )
    assert debit["data"]["createAdjustment"]["bill"]["amountDue"] == "210.00"
    assert error_codes(by_owner) == ["FORBIDDEN"]


async def test_the_command_line_bill_run_draws_progress_and_reports_what_it_created(
    client: httpx.AsyncClient, state: AppState, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await build_world(state)
    await standard_rules(client, world)

    status = await bill_run(
        state.settings, project="Lakeside", period="2026-11", dry_run=False, now=state.clock()  # type: ignore[attr-defined]
    )
    unknown = await bill_run(state.settings, project="Nowhere", period="2026-11", dry_run=False, now=state.clock())

    out, err = capsys.readouterr()
    assert (status, unknown) == (0, 1)
    assert "[##############################] 100% 4/4 units" in err
    assert "period 2026-11: created 4 bills totalling 1314.50 (0 units without charges)" in out
    assert "no project 'Nowhere'" in err


async def test_bill_runs_list_their_counts_and_totals(client: httpx.AsyncClient, state: AppState) -> None:
    # given November billed, alice paid in full and bob in part, then the clock past the due date
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    await pay(client, world, "alice", "268.20", "a")
    await pay(client, world, "bob", "63.67", "b")
    state.clock.advance(days=20)  # type: ignore[attr-defined]
    query = """query ($p: ID!) { billRuns(projectId: $p) { period billCount totalAmount
        summary { openCount partiallyPaidCount paidCount overdueCount amountBilled amountPaid amountOutstanding } } }"""

    result = await gql(client, query, {"p": world.gid("Project:lakeside")}, token=world.token("finance_a"))
    as_owner = await gql(client, query, {"p": world.gid("Project:lakeside")}, token=world.token("alice"))

    assert result["data"]["billRuns"] == [
        {
            "period": "2026-11",
            "billCount": 4,
            "totalAmount": "1314.50",
            "summary": {
                "openCount": 2,
                "partiallyPaidCount": 1,
                "paidCount": 1,
                "overdueCount": 3,
                "amountBilled": "1314.50",
                "amountPaid": "331.87",
                "amountOutstanding": "982.63",
            },
        }
    ]
    assert error_codes(as_owner) == ["FORBIDDEN"]
