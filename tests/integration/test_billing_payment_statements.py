"""What recording a payment costs the database, on SQLite and PostgreSQL: a fixed handful of statements
however many bills (or, for a batch, units) it pays, the receipt counter taken last, and no late-fee
policy read when no bill is overdue. The answer shows what was written without reading it back.

Counts are of the statements the whole request sends (the caller's principal included), through the
engine and, on PostgreSQL, to the driver past it (`db.driver`); BEGIN and COMMIT are not counted.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from api.state import AppState
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql, statements_run

# principal; unit (with whether the project issues invoices by itself); payment and bills (with their
# units' buildings, for the reports' facts; on PostgreSQL one statement with the unit and the journal
# entries' ids); late-fee versions when a bill is overdue; the reports' facts of the bills reached (their
# charges, open settled residuals and open arrears spans, in one statement); on PostgreSQL one statement
# writing the bills back, the allocations, the bills' own facts and the journal; the receipt counter with
# the receipts' ids (on SQLite the journal entries' too); the receipts with the facts' running sums (and on
# SQLite the journal); the bills the answer shows. SQLite adds BEGIN IMMEDIATE, takes the highest journal
# and receipt ids (one statement), and writes the bills' update and each table's rows one by one (the
# collection flows' monthly roll-up among them).
MOST_STATEMENTS = {"postgresql": 8, "sqlite": 19}

RECORD_PAYMENT = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    __typename
    ... on Payment { id allocations { lateFee principal bill { period } } receipt { number } }
  }
}"""

RECORD_PAYMENT_RECEIPT = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) { __typename ... on Payment { id receipt { number } } }
}"""

BATCH = """
mutation ($input: RecordBatchPaymentInput!) {
  recordBatchPayment(input: $input) {
    __typename
    ... on PaymentBatch { payments { id receipt { number } allocations { principal } } }
    ... on Error { code message field }
  }
}"""

PAYMENT = """
query ($id: ID!) {
  node(id: $id) {
    ... on Payment { creditLeft allocations { principal lateFee source bill { id period status amountDue } }
                     receipt { id number content signature issuedAt } }
  }
}"""

RECORD_AND_SHOW = """
mutation ($input: RecordPaymentInput!) {
  recordPayment(input: $input) {
    __typename
    ... on Payment { id creditLeft allocations { principal lateFee source bill { id period status amountDue } }
                     receipt { id number content signature issuedAt } }
  }
}"""


async def _three_months_owed(client: httpx.AsyncClient, state: AppState) -> World:
    """November, December and January billed; the clock on 2027-01-01, November and December overdue.
    The project has issued a receipt before (its first creates the receipt counter)."""
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    await _first_receipt(client, world)
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2026-12")
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2027-01")
    return world


async def _first_receipt(client: httpx.AsyncClient, world: World) -> None:
    """A payment of the vacant flat's bill: the project's first receipt creates its receipt counter."""
    await pay(client, world, "vacant", "1.00", "first-receipt")


async def pay(
    client: httpx.AsyncClient, world: World, unit: str, amount: str, key: str, *, query: str = RECORD_PAYMENT
) -> dict[str, Any]:
    variables = {
        "input": {"unitId": world.gid(f"Unit:{unit}"), "amount": amount, "channel": "WECHAT", "payerName": "王丽", "idempotencyKey": key}
    }
    result = await gql(client, query, variables, token=world.token("finance_a"))
    assert result["data"]["recordPayment"]["__typename"] == "Payment", result
    return result["data"]["recordPayment"]  # type: ignore[no-any-return]


def _dialect(state: AppState) -> str:
    return state.engine.dialect.name


async def test_a_payment_over_three_bills_costs_the_statements_of_a_payment_over_one(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice and bob owing three months each
    world = await _three_months_owed(client, state)

    # when bob pays one bill and alice all three
    with statements_run(state.engine) as one_bill:
        bob = await pay(client, world, "bob", "100.00", "bob-1")
    with statements_run(state.engine) as three_bills:
        alice = await pay(client, world, "alice", "2000.00", "alice-1")

    # then both cost the same handful of statements, but for the deletes of the stored rows each ends: on
    # SQLite, which writes table by table, alice's payment deletes the arrears span her January bill opened
    # today and she paid off, and bob's ends no row (PostgreSQL writes everything in one statement anyway)
    assert [allocation["bill"]["period"] for allocation in bob["allocations"]] == ["2026-11"]
    assert [allocation["bill"]["period"] for allocation in alice["allocations"]] == ["2026-11", "2026-12", "2027-01"]
    deletes = sum(statement.startswith("DELETE") for statement in three_bills) - sum(
        statement.startswith("DELETE") for statement in one_bill
    )
    assert len(three_bills) - deletes == len(one_bill), "\n".join(three_bills)
    assert len(three_bills) <= MOST_STATEMENTS[_dialect(state)], "\n".join(three_bills)


async def test_the_receipt_counter_is_taken_just_before_the_rows_are_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given a November bill
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    await _first_receipt(client, world)

    # when it is paid
    with statements_run(state.engine) as statements:
        await pay(client, world, "alice", "268.20", "k1", query=RECORD_PAYMENT_RECEIPT)

    # then the counter, whose row every payment of the project waits for, is the last row it reads: on
    # PostgreSQL one statement follows, writing everything with the receipt; SQLite, whose writers run one
    # at a time anyway, reads the highest ids and inserts table by table, the receipt last (the answer asks
    # only for what the payment wrote, so the statements end with its transaction)
    (counter,) = [n for n, statement in enumerate(statements) if 'UPDATE "billing_counter"' in statement]
    after = statements[counter + 1 :]
    assert 'INSERT INTO "receipt"' in after[-1], statements
    if _dialect(state) == "postgresql":
        assert len(after) == 1, statements
    else:
        assert not [statement for statement in after if statement.startswith("SELECT") and "max(" not in statement], statements


async def test_a_payment_before_the_due_date_reads_no_late_fee_policy(client: httpx.AsyncClient, state: AppState) -> None:
    # given a November bill, due 2026-11-17, paid on its issue day
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")

    with statements_run(state.engine) as statements:
        payment = await pay(client, world, "alice", "100.00", "k1")

    assert payment["allocations"][0]["lateFee"] == "0.00"
    assert not [statement for statement in statements if "late_fee_policy_version" in statement], statements


async def test_a_batch_for_two_units_costs_the_statements_of_a_batch_for_one(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given alice and bob owing three months each
    world = await _three_months_owed(client, state)
    base = {"projectId": world.gid("Project:lakeside"), "channel": "BANK_TRANSFER", "payerName": "安居中介"}
    alice = {"unitId": world.gid("Unit:alice"), "amount": "2000.00"}
    bob = {"unitId": world.gid("Unit:bob"), "amount": "2000.00"}

    # when one batch pays bob's bills, and another alice's and (what is left of nothing) bob's
    with statements_run(state.engine) as one_unit:
        first = await gql(client, BATCH, {"input": {**base, "idempotencyKey": "b1", "items": [bob]}}, token=world.token("finance_a"))
    with statements_run(state.engine) as two_units:
        second = await gql(
            client, BATCH, {"input": {**base, "idempotencyKey": "b2", "items": [alice, {**bob, "amount": "5.00"}]}},
            token=world.token("finance_a"),
        )

    # then both cost the same statements, and each payment answers its own receipt and allocations
    assert len(two_units) == len(one_unit), (one_unit, two_units)
    payments = second["data"]["recordBatchPayment"]["payments"]
    assert [len(payment["allocations"]) for payment in payments] == [3, 0]
    numbers = [first["data"]["recordBatchPayment"]["payments"][0]["receipt"]["number"]] + [
        payment["receipt"]["number"] for payment in payments
    ]
    assert numbers == ["R-000002", "R-000003", "R-000004"]


async def test_the_answer_shows_the_receipt_and_allocations_as_stored(client: httpx.AsyncClient, state: AppState) -> None:
    # given three months owed
    world = await _three_months_owed(client, state)
    variables = {
        "input": {
            "unitId": world.gid("Unit:alice"),
            "amount": "700.00",
            "channel": "WECHAT",
            "payerName": "王丽",
            "idempotencyKey": "k1",
        }
    }

    # when alice pays, and the payment is read back afterwards
    answered = (await gql(client, RECORD_AND_SHOW, variables, token=world.token("finance_a")))["data"]["recordPayment"]
    stored = (await gql(client, PAYMENT, {"id": answered["id"]}, token=world.token("finance_a")))["data"]["node"]

    # then the mutation answered exactly what is stored
    assert {key: answered[key] for key in stored} == stored
    assert json.loads(stored["receipt"]["content"])["credit"] == stored["creditLeft"]
