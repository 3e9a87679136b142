"""The payments list answers each payment's fields from what its page read at once (units, receipts,
allocations with their bills, the credit left): the same answers, to the fen, as the payment read on its
own through `node`, for every shape of selection, and for an owner only their own payments.

With the standard rules and no readings, November bills alice 268.20 and bob 363.67.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.state import AppState
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gql, statements_run

REFUND = """
mutation ($input: RefundPaymentInput!) {
  refundPayment(input: $input) { __typename ... on Refund { amount } ... on Error { code message } }
}"""

REVERSE = """
mutation ($input: ReversePaymentInput!) {
  reversePayment(input: $input) { __typename ... on Refund { amount } ... on Error { code message } }
}"""

# What the finance desk's page shows (its credit left read with the allocations), the same with the
# refunds (read with their loader), credit alone, and allocations without bills: each a different set of
# reads for the page.
SELECTIONS = {
    "desk": """
      id channel amount paidAt payerName creditLeft
      unit { id number }
      allocations { principal lateFee amount bill { id period } }
      receipt { number }""",
    "desk with refunds": """
      id channel amount paidAt payerName creditLeft
      unit { id number building { name } }
      allocations { principal lateFee amount source bill { id period status } }
      receipt { number }
      refunds { kind amount }""",
    "desk with the bills' figures and the receipts' content": """
      id amount creditLeft
      allocations { amount bill { id period status totalAmount amountDue lateFeeCharged } }
      receipt { number content signature }""",
    "credit only": "id amount creditLeft",
    "allocations without bills": "id creditLeft allocations { principal lateFee amount } receipt { number issuedAt }",
}


def _page_query(selection: str) -> str:
    return f"query {{ payments(first: 100) {{ edges {{ node {{ ...Shown }} }} }} }} fragment Shown on Payment {{ {selection} }}"


def _node_query(selection: str) -> str:
    return f"query ($id: ID!) {{ node(id: $id) {{ ...Shown }} }} fragment Shown on Payment {{ {selection} }}"


async def _payments(client: httpx.AsyncClient, world: World) -> dict[str, dict[str, Any]]:
    """Alice pays part of her bill, then the rest and more, and has part of that refunded; bob pays his
    bill and more, which is then reversed; alice pays once more with nothing left to pay, and has part
    of it refunded. The payments by name."""
    await standard_rules(client, world)
    await run_billing(client, world, "2026-11")
    token = world.token("finance_a")
    payments = {
        "alice part": await pay(client, world, "alice", "100.00", "k1"),
        "alice rest": await pay(client, world, "alice", "300.00", "k2"),
        "bob": await pay(client, world, "bob", "400.00", "k3"),
        "alice credit": await pay(client, world, "alice", "50.00", "k4"),
    }
    refunds = [
        await gql(client, REFUND, {"input": {"paymentId": payments[name]["id"], "amount": amount, "reason": "多付"}}, token=token)
        for name, amount in (("alice rest", "11.80"), ("alice credit", "20.00"))
    ]
    reversal = await gql(client, REVERSE, {"input": {"paymentId": payments["bob"]["id"], "reason": "退票"}}, token=token)
    assert [refund["data"]["refundPayment"] for refund in refunds] == [
        {"__typename": "Refund", "amount": "11.80"}, {"__typename": "Refund", "amount": "20.00"}
    ]
    assert reversal["data"]["reversePayment"] == {"__typename": "Refund", "amount": "400.00"}
    return payments


@pytest.mark.parametrize("shape", list(SELECTIONS))
async def test_a_page_answers_each_payment_as_the_payment_read_on_its_own(
    client: httpx.AsyncClient, state: AppState, shape: str
) -> None:
    # given
    world = await build_world(state)
    payments = await _payments(client, world)
    token = world.token("finance_a")

    # when
    page = await gql(client, _page_query(SELECTIONS[shape]), token=token)
    one_by_one = [
        await gql(client, _node_query(SELECTIONS[shape]), {"id": payment["id"]}, token=token) for payment in payments.values()
    ]

    # then
    assert "errors" not in page, page
    listed = [edge["node"] for edge in page["data"]["payments"]["edges"]]
    assert listed == [answer["data"]["node"] for answer in one_by_one]
    # 100.00 all on the bill; 300.00 less the bill's other 168.20 and the refund of 11.80; 400.00 less
    # 363.67 allocated and reversed, and the 400.00 given back; 50.00 on no bill, less 20.00 refunded.
    assert [payment.get("creditLeft") for payment in listed] == ["0.00", "120.00", "0.00", "30.00"]


async def test_the_desk_page_shows_partial_allocations_and_the_reversal_to_the_fen(client: httpx.AsyncClient, state: AppState) -> None:
    # given
    world = await build_world(state)
    await _payments(client, world)

    # when
    page = await gql(client, _page_query(SELECTIONS["desk with refunds"]), token=world.token("finance_a"))

    # then
    alice_part, alice_rest, bob, alice_credit = (edge["node"] for edge in page["data"]["payments"]["edges"])
    assert [(a["principal"], a["lateFee"], a["amount"], a["source"]) for a in alice_part["allocations"]] == [
        ("100.00", "0.00", "100.00", "PAYMENT")
    ]
    assert [(a["principal"], a["amount"]) for a in alice_rest["allocations"]] == [("168.20", "168.20")]
    assert alice_rest["refunds"] == [{"kind": "REFUND", "amount": "11.80"}]
    assert [(a["principal"], a["source"]) for a in bob["allocations"]] == [("363.67", "PAYMENT"), ("-363.67", "REVERSAL")]
    assert bob["refunds"] == [{"kind": "REVERSAL", "amount": "400.00"}]
    # every allocation names the same bill of its unit, read once for the page
    assert alice_part["allocations"][0]["bill"] == alice_rest["allocations"][0]["bill"]
    assert alice_part["unit"] == alice_rest["unit"] != bob["unit"]
    assert (alice_credit["allocations"], alice_credit["refunds"]) == ([], [{"kind": "REFUND", "amount": "20.00"}])
    assert len({payment["receipt"]["number"] for payment in (alice_part, alice_rest, bob, alice_credit)}) == 4


async def test_the_desk_page_reads_the_credit_left_with_the_allocations(client: httpx.AsyncClient, state: AppState) -> None:
    # given
    world = await build_world(state)
    await _payments(client, world)
    token = world.token("finance_a")

    # when
    with statements_run(state.engine) as allocated:
        three = await gql(client, _page_query(SELECTIONS["desk"]).replace("first: 100", "first: 3"), token=token)
    with statements_run(state.engine) as one_unallocated:
        four = await gql(client, _page_query(SELECTIONS["desk"]), token=token)

    # then
    assert [edge["node"] for edge in three["data"]["payments"]["edges"]] == [edge["node"] for edge in four["data"]["payments"]["edges"]][:3]
    # the caller's principal, the payments with their receipts and units, the allocations with their
    # bills and what was given back; then what was given back from a payment that has no allocation
    assert (len(allocated), len(one_unallocated)) == (3, 4)


async def test_an_owner_s_page_shows_only_their_own_payments_with_the_same_answers(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given
    world = await build_world(state)
    payments = await _payments(client, world)

    # when
    as_alice = await gql(client, _page_query(SELECTIONS["desk"]), token=world.token("alice"))
    as_finance = await gql(client, _page_query(SELECTIONS["desk"]), token=world.token("finance_a"))

    # then
    alices = [edge["node"] for edge in as_alice["data"]["payments"]["edges"]]
    finance_sees = {edge["node"]["id"]: edge["node"] for edge in as_finance["data"]["payments"]["edges"]}
    assert [payment["id"] for payment in alices] == [payments[name]["id"] for name in ("alice part", "alice rest", "alice credit")]
    assert alices == [finance_sees[payment["id"]] for payment in alices]


async def test_a_page_and_a_look_up_of_its_payments_in_one_operation_answer_alike(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given
    world = await build_world(state)
    payments = await _payments(client, world)
    shown = SELECTIONS["desk with refunds"]
    query = f"""
      query ($id: ID!) {{
        alone: node(id: $id) {{ ...Shown }}
        payments(first: 100) {{ edges {{ node {{ ...Shown }} }} }}
      }}
      fragment Shown on Payment {{ {shown} }}"""

    # when
    both = await gql(client, query, {"id": payments["alice rest"]["id"]}, token=world.token("finance_a"))

    # then
    assert "errors" not in both, both
    listed = {edge["node"]["id"]: edge["node"] for edge in both["data"]["payments"]["edges"]}
    assert both["data"]["alone"] == listed[payments["alice rest"]["id"]]
    assert both["data"]["alone"]["creditLeft"] == "120.00"


async def test_the_desk_page_reads_of_its_bills_and_receipts_only_what_it_shows(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given the desk page as it is shown, and alice's bill with its figures as read on its own
    world = await build_world(state)
    payments = await _payments(client, world)
    token = world.token("finance_a")
    desk = await gql(client, _page_query(SELECTIONS["desk"]), token=token)
    bill_id = desk["data"]["payments"]["edges"][0]["node"]["allocations"][0]["bill"]["id"]
    figures = "... on Bill { id period status totalAmount amountDue lateFeeCharged principalPaid }"
    alone = await gql(client, f"query ($id: ID!) {{ node(id: $id) {{ {figures} }} }}", {"id": bill_id}, token=token)

    # when one operation reads the desk page and the same bill's figures
    with statements_run(state.engine) as sent:
        both = await gql(
            client,
            f"query ($id: ID!) {{ bill: node(id: $id) {{ {figures} }} "
            f"payments(first: 100) {{ edges {{ node {{ ...Shown }} }} }} }} fragment Shown on Payment {{ {SELECTIONS['desk']} }}",
            {"id": bill_id},
            token=token,
        )

    # then the page read its bills by their periods and its receipts by their numbers only, while the
    # bill asked for by id shows its figures, to the fen, as it does alone
    assert "errors" not in both, both
    page_reads = [sql for sql in sent if "payment_allocation" in sql or "receipt" in sql]
    assert page_reads and not [sql for sql in page_reads if "bill.total_amount" in sql or "receipt.content" in sql]
    assert both["data"]["payments"] == desk["data"]["payments"]
    assert both["data"]["bill"] == alone["data"]["node"]
    assert alone["data"]["node"]["totalAmount"] == "268.20" and alone["data"]["node"]["principalPaid"] == "268.20"
    assert {edge["node"]["id"] for edge in desk["data"]["payments"]["edges"]} == {payment["id"] for payment in payments.values()}
