"""Booking many payments at once (the demo's history, a payer's batch) leaves bills, payments and receipts
exactly as recording each payment at the desk does, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from api.state import AppState
from billing.booking import (
    PaymentBooking,
    add_payments,
    book_payments,
    lock_payable_bills,
)
from billing.guards import read_unit_accounts
from db.models import Bill, Payment, PaymentChannel
from db.unit_of_work import unit_of_work
from tests.integration.billing_world import (
    books_balance,  # noqa: F401  (autouse: the books balance after every test)
    pay,
    run_billing,
    standard_rules,
)
from tests.integration.world import World, build_world, gid, gql

SET_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) { __typename }
}"""

BILLS = """
query ($period: String!) {
  bills(filter: { period: $period }) {
    edges { node { unit { number } status amountDue lateFeeCharged principalPaid lateFeePaid } }
  }
}"""

PAYMENTS = """
query {
  payments { edges { node { unit { number } amount creditLeft
                            allocations { principal lateFee bill { period } }
                            receipt { content } } } }
}"""

# What each flat pays on each of its two identical bills: part of it, and more than it owes.
AMOUNTS = {"101": Decimal("100.00"), "102": Decimal("500.00")}
UNITS = {"101": "alice", "102": "bob"}


async def _two_identical_months_overdue(client: httpx.AsyncClient, state: AppState) -> World:
    """November and December billed at the same moment (same figures, same due date), then 35 days on,
    with a late fee of 0.05 % a day after 5 days' grace."""
    world = await build_world(state)
    await standard_rules(client, world)
    late_fee = {"projectId": world.gid("Project:lakeside"), "lateFeeDailyRate": "0.0005", "lateFeeGraceDays": 5}
    policy = await gql(client, SET_POLICY, {"input": late_fee}, token=world.token("finance_a"))
    assert policy["data"]["setBillingPolicy"]["__typename"] == "BillingPolicy"
    await run_billing(client, world, "2026-11")
    await run_billing(client, world, "2026-12")
    state.clock.advance(days=35)  # type: ignore[attr-defined]
    return world


async def _bills(client: httpx.AsyncClient, world: World, period: str) -> dict[str, dict[str, Any]]:
    result = await gql(client, BILLS, {"period": period}, token=world.token("finance_a"))
    nodes = [edge["node"] for edge in result["data"]["bills"]["edges"]]
    return {node.pop("unit")["number"]: node for node in nodes if node["unit"]["number"] in AMOUNTS}


async def _payments(client: httpx.AsyncClient, world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """Each payment by (unit, period it paid), as a client sees it, with the receipt's own figures."""
    result = await gql(client, PAYMENTS, token=world.token("finance_a"))
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for edge in result["data"]["payments"]["edges"]:
        node = edge["node"]
        receipt = json.loads(node.pop("receipt")["content"])
        periods = {allocation["bill"].pop("period") for allocation in node["allocations"]}
        (period,) = periods
        node["receipt"] = {
            "credit": receipt["credit"],
            "allocations": [(line["lateFee"], line["principal"]) for line in receipt["allocations"]],
        }
        seen[(node.pop("unit")["number"], period)] = node
    return seen


async def test_booking_payments_in_bulk_leaves_the_bills_as_recording_each_at_the_desk(
    client: httpx.AsyncClient, state: AppState
) -> None:
    # given two flats with identical, overdue November and December bills
    world = await _two_identical_months_overdue(client, state)
    november = await _bills(client, world, "2026-11")
    assert november == await _bills(client, world, "2026-12")

    # when November is paid at the desk, one payment at a time ...
    for number, amount in AMOUNTS.items():
        async with state.session_factory() as session:
            bill_id = await session.scalar(
                select(Bill.id).where(Bill.unit_id == world.ids[f"Unit:{UNITS[number]}"], Bill.period == "2026-11")
            )
        assert bill_id is not None
        payment = await pay(client, world, UNITS[number], str(amount), f"desk-{number}", billIds=[gid("Bill", bill_id)])
        assert payment["__typename"] == "Payment", payment

    # ... and December through the bulk booking the demo uses, both payments in one go
    now = state.clock()
    async with unit_of_work(state.session_factory) as work:
        session = work.session
        units = [world.ids[f"Unit:{UNITS[number]}"] for number in AMOUNTS]
        december = (await session.scalars(select(Bill.id).where(Bill.period == "2026-12"))).all()
        bills = {
            bill.unit_id: bill
            for bill in await lock_payable_bills(session, unit_ids=units, bill_ids=december)
            if bill.id in december
        }
        accounts = await read_unit_accounts(session, units)
        payments = [
            Payment(
                project_id=world.ids["Project:lakeside"],
                unit_id=world.ids[f"Unit:{UNITS[number]}"],
                payer_name="王丽",
                channel=PaymentChannel.WECHAT,
                amount=amount,
                paid_at=now,
            )
            for number, amount in AMOUNTS.items()
        ]
        await add_payments(session, payments)
        await book_payments(
            session,
            state.services.receipt_signer,
            bookings=[
                PaymentBooking(payment, [bills[payment.unit_id]], booked_at=now, place=accounts[payment.unit_id].place)
                for payment in payments
            ],
            zone=ZoneInfo("Asia/Shanghai"),
            user_id=None,
        )

    # then both months' bills show the same late fees, payments, amounts due and statuses
    after_november, after_december = await _bills(client, world, "2026-11"), await _bills(client, world, "2026-12")
    assert after_december == after_november
    assert {number: bill["status"] for number, bill in after_november.items()} == {
        "101": "PARTIALLY_PAID",
        "102": "PAID",
    }
    assert after_november["101"]["lateFeeCharged"] != "0.00"
    # and each bulk-booked payment holds the same allocations, credit and receipt as its desk twin
    payments_seen = await _payments(client, world)
    for number in AMOUNTS:
        assert payments_seen[(number, "2026-12")] == payments_seen[(number, "2026-11")]
    assert payments_seen[("102", "2026-11")]["creditLeft"] != "0.00"
