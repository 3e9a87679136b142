"""recordPayment, batch payments, idempotency, late fees, refunds and reversals, on SQLite and PostgreSQL.

With the standard rules and no readings, November bills alice 268.20 (247.80 property + 20.40 common)
and bob 363.67 (336.00 + 27.67); bills are issued on 2026-11-02 and due on 2026-11-17.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from api.state import AppState
from billing.payments import MAX_BATCH_ITEMS
from db.models import JournalEntry, Payment, PaymentAllocation, PaymentBatch, Receipt
from tests.conftest import Clock
from tests.integration.billing_world import (
    RECORD_PAYMENT,
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, error_codes, gql, statements_run

SET_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) { __typename ... on BillingPolicy { lateFeeDailyRate } ... on Error { field } }
}"""

BILLS = """
query ($unitId: ID!) {
  bills(filter: { unitId: $unitId }) { edges { node { id period status amountDue lateFeeCharged lateFee } } }
}"""

BATCH = """
mutation ($input: RecordBatchPaymentInput!) {
  recordBatchPayment(input: $input) {
    __typename
    ... on PaymentBatch { totalAmount payments { amount unit { number } allocations { principal bill { status } } } }
    ... on Error { code message field }
  }
}"""

REFUND = """
mutation ($input: RefundPaymentInput!) {
  refundPayment(input: $input) { __typename ... on Refund { kind amount createdAt } ... on Error { code field message } }
}"""

REVERSE = """
mutation ($input: ReversePaymentInput!) {
  reversePayment(input: $input) { __typename ... on Refund { kind amount } ... on Error { code field message } }
}"""


async def _november(client: httpx.AsyncClient, state: AppState) -> World:
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    return world


async def _bills(client: httpx.AsyncClient, world: World, unit: str) -> dict[str, dict[str, str]]:
    result = await gql(client, BILLS, {"unitId": world.gid(f"Unit:{unit}")}, token=world.token("finance_a"))
    return {edge["node"]["period"]: edge["node"] for edge in result["data"]["bills"]["edges"]}


async def test_a_partial_payment_leaves_the_bill_partially_paid(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)

    payment = await pay(client, world, "alice", "100.00", "k1")

    assert payment["__typename"] == "Payment"
    assert payment["allocations"] == [
        {"principal": "100.00", "lateFee": "0.00", "bill": {"id": payment["allocations"][0]["bill"]["id"], "period": "2026-11", "status": "PARTIALLY_PAID", "amountDue": "168.20"}}
    ]
    assert payment["creditLeft"] == "0.00"
    assert payment["receipt"]["number"] == "R-000001"


async def test_an_overpayment_becomes_prepaid_credit_that_the_next_run_applies(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)

    payment = await pay(client, world, "alice", "600.00", "k1")
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2026-12")

    assert payment["allocations"][0]["bill"]["status"] == "PAID"
    assert payment["creditLeft"] == "331.80"
    bills = await _bills(client, world, "alice")
    assert (bills["2026-12"]["status"], bills["2026-12"]["amountDue"]) == ("PAID", "0.00")
    again = await gql(
        client, "query ($id: ID!) { node(id: $id) { ... on Payment { creditLeft allocations { source principal } } } }",
        {"id": payment["id"]}, token=world.token("finance_a"),
    )
    assert again["data"]["node"] == {
        "creditLeft": "63.60",
        "allocations": [{"source": "PAYMENT", "principal": "268.20"}, {"source": "CREDIT", "principal": "268.20"}],
    }


async def test_automatic_allocation_pays_the_oldest_bill_first_and_its_late_fee_before_principal(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given a late fee of 0.05 % a day after 5 days' grace, November and December bills, and a payment
    # on 2026-12-07: November is 15 days overdue (due 11-17, grace to 11-22), its fee 268.20 × 0.0005 × 15
    world = await build_world(state)
    await standard_rules(client, world)
    policy = await gql(
        client,
        SET_POLICY,
        {"input": {"projectId": world.gid("Project:lakeside"), "lateFeeDailyRate": "0.0005", "lateFeeGraceDays": 5}},
        token=world.token("finance_a"),
    )
    assert policy["data"]["setBillingPolicy"]["lateFeeDailyRate"] == "0.000500"
    await run_billing(client, world, "2026-11")
    state.clock.advance(days=35)  # type: ignore[attr-defined]  2026-12-07
    await run_billing(client, world, "2026-12")
    assert (await _bills(client, world, "alice"))["2026-11"]["lateFee"] == "2.01"

    # when 300.00 is paid without naming bills
    payment = await pay(client, world, "alice", "300.00", "k1")

    # then November's late fee (2.01) goes first, then its principal, the rest to December
    assert [(a["bill"]["period"], a["lateFee"], a["principal"]) for a in payment["allocations"]] == [
        ("2026-11", "2.01", "268.20"),
        ("2026-12", "0.00", "29.79"),
    ]
    bills = await _bills(client, world, "alice")
    assert (bills["2026-11"]["status"], bills["2026-11"]["lateFeeCharged"]) == ("PAID", "2.01")
    assert (bills["2026-12"]["status"], bills["2026-12"]["amountDue"]) == ("PARTIALLY_PAID", "238.41")


async def test_explicit_bills_merge_several_months_in_one_payment(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)
    state.clock.advance(days=5)  # type: ignore[attr-defined]
    await run_billing(client, world, "2026-12")
    bills = await _bills(client, world, "alice")

    payment = await pay(
        client, world, "alice", "536.40", "k1", billIds=[bills["2026-12"]["id"], bills["2026-11"]["id"]]
    )
    someone_elses = await pay(client, world, "alice", "1.00", "k2", billIds=[(await _bills(client, world, "bob"))["2026-11"]["id"]])
    already_paid = await pay(client, world, "alice", "1.00", "k3", billIds=[bills["2026-11"]["id"]])

    assert [(a["bill"]["period"], a["bill"]["status"]) for a in payment["allocations"]] == [
        ("2026-11", "PAID"),
        ("2026-12", "PAID"),
    ]
    assert (someone_elses["code"], someone_elses["field"]) == ("NOT_FOUND", "billIds")
    assert (already_paid["code"], already_paid["field"]) == ("BAD_USER_INPUT", "billIds")


async def test_the_same_idempotency_key_answers_the_first_payment_and_a_different_payload_conflicts(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)

    first = await pay(client, world, "alice", "100.00", "same-key")
    retry = await pay(client, world, "alice", "100.00", "same-key")
    different = await pay(client, world, "alice", "120.00", "same-key")

    assert retry["id"] == first["id"]
    assert retry["receipt"] == first["receipt"]
    assert (different["__typename"], different["code"], different["field"]) == ("ConflictError", "CONFLICT", "idempotencyKey")
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 1
        assert await session.scalar(select(func.count()).select_from(Receipt)) == 1


async def test_two_concurrent_identical_submissions_record_exactly_one_payment(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)
    token = world.token("finance_a")
    variables = {
        "input": {
            "unitId": world.gid("Unit:alice"),
            "amount": "150.00",
            "channel": "BANK_TRANSFER",
            "payerName": "王丽",
            "idempotencyKey": "concurrent",
        }
    }

    first, second = await asyncio.gather(
        gql(client, RECORD_PAYMENT, variables, token=token), gql(client, RECORD_PAYMENT, variables, token=token)
    )

    payments = [first["data"]["recordPayment"], second["data"]["recordPayment"]]
    assert [p["__typename"] for p in payments] == ["Payment", "Payment"]
    assert payments[0]["id"] == payments[1]["id"]
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 1
        assert await session.scalar(select(func.count()).select_from(PaymentAllocation)) == 1
        assert await session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "PAYMENT")) == 1
    assert (await _bills(client, world, "alice"))["2026-11"]["amountDue"] == "118.20"


async def test_a_batch_payment_pays_many_units_in_one_transaction_or_none(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)
    items = [
        {"unitId": world.gid("Unit:alice"), "amount": "268.20"},
        {"unitId": world.gid("Unit:bob"), "amount": "400.00"},
    ]
    base = {"projectId": world.gid("Project:lakeside"), "channel": "BANK_TRANSFER", "payerName": "安居中介", "idempotencyKey": "agency-nov"}

    batch = await gql(client, BATCH, {"input": {**base, "items": items}}, token=world.token("finance_a"))
    broken = await gql(
        client,
        BATCH,
        {"input": {**base, "idempotencyKey": "agency-2", "items": [items[0], {"unitId": world.gid("Unit:carol"), "amount": "1.00"}]}},
        token=world.token("finance_a"),
    )

    payload = batch["data"]["recordBatchPayment"]
    assert payload["totalAmount"] == "668.20"
    assert [(p["unit"]["number"], p["amount"], p["allocations"][0]["bill"]["status"]) for p in payload["payments"]] == [
        ("101", "268.20", "PAID"),
        ("102", "400.00", "PAID"),
    ]
    assert (broken["data"]["recordBatchPayment"]["code"], broken["data"]["recordBatchPayment"]["field"]) == (
        "NOT_FOUND",
        "items[1].unitId",
    )
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 2


async def test_a_batch_of_more_items_than_the_cap_is_refused_naming_items_and_writes_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)
    item = {"unitId": world.gid("Unit:alice"), "amount": "1.00"}
    batch = {"projectId": world.gid("Project:lakeside"), "channel": "BANK_TRANSFER", "payerName": "安居中介", "idempotencyKey": "big"}

    too_many = await gql(client, BATCH, {"input": {**batch, "items": [item] * (MAX_BATCH_ITEMS + 1)}}, token=world.token("finance_a"))

    refused = too_many["data"]["recordBatchPayment"]
    assert (refused["code"], refused["field"]) == ("BAD_USER_INPUT", "items")
    assert f"at most {MAX_BATCH_ITEMS} items, not {MAX_BATCH_ITEMS + 1}" in refused["message"]
    async with state.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
        assert await session.scalar(select(func.count()).select_from(PaymentBatch)) == 0


async def test_a_batch_books_each_unit_on_its_own_bills_explicit_or_oldest_first(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given November and December bills for alice and bob
    world = await _november(client, state)
    state.clock.advance(days=30)  # type: ignore[attr-defined]
    await run_billing(client, world, "2026-12")
    bob_december = (await _bills(client, world, "bob"))["2026-12"]["id"]
    items = [
        {"unitId": world.gid("Unit:alice"), "amount": "300.00"},
        {"unitId": world.gid("Unit:bob"), "amount": "363.67", "billIds": [bob_december]},
    ]
    base = {"projectId": world.gid("Project:lakeside"), "channel": "BANK_TRANSFER", "payerName": "安居中介"}

    batch = await gql(client, BATCH, {"input": {**base, "idempotencyKey": "b1", "items": items}}, token=world.token("finance_a"))
    again = await gql(
        client, BATCH, {"input": {**base, "idempotencyKey": "b2", "items": [items[1]]}}, token=world.token("finance_a")
    )
    foreign = await gql(
        client,
        BATCH,
        {"input": {**base, "idempotencyKey": "b3", "items": [{**items[0], "billIds": [bob_december]}]}},
        token=world.token("finance_a"),
    )

    assert batch["data"]["recordBatchPayment"]["__typename"] == "PaymentBatch", batch
    alice, bob = (await _bills(client, world, "alice")), (await _bills(client, world, "bob"))
    assert [(alice[p]["status"], alice[p]["amountDue"]) for p in ("2026-11", "2026-12")] == [("PAID", "0.00"), ("PARTIALLY_PAID", "236.40")]
    assert [(bob[p]["status"], bob[p]["amountDue"]) for p in ("2026-11", "2026-12")] == [("OPEN", "363.67"), ("PAID", "0.00")]
    assert (again["data"]["recordBatchPayment"]["code"], again["data"]["recordBatchPayment"]["field"]) == ("BAD_USER_INPUT", "items[0].billIds")
    assert (foreign["data"]["recordBatchPayment"]["code"], foreign["data"]["recordBatchPayment"]["field"]) == ("NOT_FOUND", "items[0].billIds")


async def test_a_refund_gives_back_unallocated_credit_only_and_is_dated_by_the_service_clock(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await _november(client, state)
    payment = await pay(client, world, "alice", "300.00", "k1")
    token = world.token("finance_a")

    too_much = await gql(client, REFUND, {"input": {"paymentId": payment["id"], "amount": "31.81", "reason": "多付"}}, token=token)
    refund = await gql(client, REFUND, {"input": {"paymentId": payment["id"], "amount": "31.80", "reason": "多付"}}, token=token)

    assert (too_much["data"]["refundPayment"]["code"], too_much["data"]["refundPayment"]["field"]) == ("BAD_USER_INPUT", "amount")
    assert refund["data"]["refundPayment"] == {
        "__typename": "Refund", "kind": "REFUND", "amount": "31.80", "createdAt": clock.now.isoformat()
    }


async def test_a_reversal_makes_the_bills_owe_again(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)
    payment = await pay(client, world, "alice", "300.00", "k1")
    token = world.token("finance_a")

    reversal = await gql(client, REVERSE, {"input": {"paymentId": payment["id"], "reason": "退票"}}, token=token)
    twice = await gql(client, REVERSE, {"input": {"paymentId": payment["id"], "reason": "退票"}}, token=token)

    assert reversal["data"]["reversePayment"] == {"__typename": "Refund", "kind": "REVERSAL", "amount": "300.00"}
    assert twice["data"]["reversePayment"]["code"] == "CONFLICT"
    november = (await _bills(client, world, "alice"))["2026-11"]
    assert (november["status"], november["amountDue"]) == ("OPEN", "268.20")


async def test_payment_input_is_validated_naming_the_field(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)

    negative = await pay(client, world, "alice", "-5.00", "k1")
    sub_fen = await pay(client, world, "alice", "1.005", "k2")
    no_payer = await pay(client, world, "alice", "1.00", "k3", payerName=" ")

    assert (negative["code"], negative["field"]) == ("BAD_USER_INPUT", "amount")
    assert (sub_fen["code"], sub_fen["field"]) == ("BAD_USER_INPUT", "amount")
    assert (no_payer["code"], no_payer["field"]) == ("BAD_USER_INPUT", "payerName")


@pytest.mark.parametrize("user", ["alice", "dispatcher_a"])
async def test_only_finance_staff_record_payments(client: httpx.AsyncClient, state: AppState, user: str) -> None:
    world = await _november(client, state)
    variables = {
        "input": {"unitId": world.gid("Unit:alice"), "amount": "1.00", "channel": "CASH", "payerName": "x", "idempotencyKey": "k"}
    }

    result = await gql(client, RECORD_PAYMENT, variables, token=world.token(user))
    foreign = await gql(client, RECORD_PAYMENT, variables, token=world.token("admin_b"))

    assert error_codes(result) == ["FORBIDDEN"]
    assert foreign["data"]["recordPayment"]["code"] == "NOT_FOUND"


async def test_owners_see_only_their_own_payments(client: httpx.AsyncClient, state: AppState) -> None:
    world = await _november(client, state)
    alices = await pay(client, world, "alice", "10.00", "a")
    await pay(client, world, "bob", "10.00", "b")
    query = "query { payments { totalCount edges { node { id unit { number } } } } }"

    as_alice = await gql(client, query, token=world.token("alice"))
    bob_reads_alices = await gql(client, "query ($id: ID!) { node(id: $id) { id } }", {"id": alices["id"]}, token=world.token("bob"))

    assert as_alice["data"]["payments"]["totalCount"] == 1
    assert as_alice["data"]["payments"]["edges"][0]["node"]["unit"]["number"] == "101"
    assert bob_reads_alices["data"]["node"] is None
    assert Decimal(alices["amount"]) == Decimal("10.00")


PAYMENTS_PAGE = """
fragment Money on Payment { creditLeft refunds { amount } }
query ($first: Int) {
  payments(first: $first) {
    edges { node {
      amount ...Money
      unit { number building { name } }
      allocations { principal lateFee bill { period status } }
      receipt { number }
    } }
  }
}"""


async def _payments_page(client: httpx.AsyncClient, state: AppState, world: World, first: int) -> tuple[list, int]:
    with statements_run(state.engine) as statements:
        result = await gql(client, PAYMENTS_PAGE, {"first": first}, token=world.token("finance_a"))
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["payments"]["edges"]], len(statements)


async def test_a_page_of_payments_reads_its_units_allocations_bills_refunds_and_receipts_in_four_statements(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await _november(client, state)
    first = await pay(client, world, "alice", "300.00", "k1")
    await gql(client, REFUND, {"input": {"paymentId": first["id"], "amount": "11.80", "reason": "多付"}}, token=world.token("finance_a"))
    for number, unit in enumerate(["bob", "alice", "bob"], start=2):
        await pay(client, world, unit, "10.00", f"k{number}")

    one, one_statements = await _payments_page(client, state, world, 1)
    four, four_statements = await _payments_page(client, state, world, 4)

    assert one == four[:1]
    assert four[0] == {
        "amount": "300.00",
        "creditLeft": "20.00",
        "refunds": [{"amount": "11.80"}],
        "unit": four[0]["unit"],
        "allocations": [{"principal": "268.20", "lateFee": "0.00", "bill": {"period": "2026-11", "status": "PAID"}}],
        "receipt": four[0]["receipt"],
    }
    assert four[0]["receipt"]["number"] and four[0]["unit"] == {"number": "101", "building": {"name": "A1"}}
    assert [payment["creditLeft"] for payment in four[1:]] == ["0.00", "10.00", "0.00"]
    assert [len(payment["allocations"]) for payment in four] == [1, 1, 0, 1]
    # the caller's principal, the payments with their receipts, units and buildings, refunds, allocations
    # with their bills
    assert one_statements == four_statements == 4
