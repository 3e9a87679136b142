"""Invoice requests racing refunds of the same payment, through the server, on SQLite and PostgreSQL:
whatever the interleaving, the payment has one blue invoice, every refund that came after it a red one,
and blue plus red add up to what the payment kept, to the fen."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import Any

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import Invoice, InvoiceLine, PaymentReversal
from kernel.vocabulary import InvoiceColour, InvoiceStatus
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books are checked after each test)
from tests.integration.invoicing_world import billed_world, configure_invoicing
from tests.integration.world import gql

REQUEST = """
mutation ($input: RequestInvoiceInput!) {
  requestInvoice(input: $input) { __typename ... on Invoice { id status } ... on Error { code message } }
}"""
REFUND = """
mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename ... on Error { code message } } }"""


async def test_requests_and_refunds_of_one_payment_at_once_leave_the_invoices_adding_up(
    state: AppState, client: httpx.AsyncClient
) -> None:
    # given alice's payment of 300.00 (31.80 kept as credit), not invoiced yet
    world = await billed_world(state, client)
    await configure_invoicing(state, world)
    paid = await pay(client, world, "alice", "300.00", "race-1")
    finance = world.token("finance_a")

    # when ten requests for its invoice and ten refunds of 1.00 go in at once
    async def request() -> dict[str, Any]:
        return await gql(client, REQUEST, {"input": {"paymentIds": [paid["id"]]}}, token=finance)

    async def refund(n: int) -> dict[str, Any]:
        return await gql(client, REFUND, {"input": {"paymentId": paid["id"], "amount": "1.00", "reason": f"退款{n}"}}, token=finance)

    answers = await asyncio.gather(*(request() if n % 2 else refund(n) for n in range(20)))

    # then nothing failed inside; every refund went through; the requests answered one invoice (or asked to retry)
    assert all("errors" not in answer for answer in answers), answers
    requests = [answer["data"]["requestInvoice"] for answer in answers if "requestInvoice" in answer["data"]]
    refunds = [answer["data"]["refundPayment"] for answer in answers if "refundPayment" in answer["data"]]
    assert {refund["__typename"] for refund in refunds} == {"Refund"}
    assert {r["__typename"] for r in requests} <= {"Invoice", "ConflictError"}
    assert len({r["id"] for r in requests if r["__typename"] == "Invoice"}) == 1
    async with state.session_factory() as session:
        invoices = list(await session.scalars(select(Invoice).order_by(Invoice.id)))
        lines = list(await session.scalars(select(InvoiceLine)))
        refunded = sum((row.amount for row in await session.scalars(select(PaymentReversal))), D("0.00"))
    blue, *reds = invoices
    assert (blue.colour, blue.status) == (InvoiceColour.BLUE, InvoiceStatus.ISSUED)
    assert all(red.colour is InvoiceColour.RED and red.status is InvoiceStatus.ISSUED for red in reds)
    # the refunds before the blue invoice are left out of it, each one after it has its red invoice
    assert blue.gross_total == D("300.00") - (10 - len(reds)) * D("1.00")
    assert sum((invoice.gross_total for invoice in invoices), D("0.00")) == D("300.00") - refunded == D("290.00")
    assert all(line.net + line.tax == line.amount for line in lines)
    assert sum((line.amount for line in lines), D("0.00")) == D("290.00")
