"""An owner picks the invoice title (抬头) when paying online, on both databases: the payment's automatic
invoice is made out to it; a new title is checked as any title (a company's credit code included) with the
field at fault named, and nothing is written when it is refused; someone else's title is NOT_FOUND."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.state import AppState
from billing.providers import SandboxProvider
from db.models import Invoice, InvoiceTitle, PaymentIntent
from kernel.vocabulary import InvoiceStatus, PartyType
from tests.integration.billing_world import books_balance  # noqa: F401  (the books are checked after each test)
from tests.integration.invoicing_world import billed_world, configure_invoicing
from tests.integration.world import World, gql

INTENT = """
mutation ($billIds: [ID!]!, $titleId: ID, $title: InvoiceBuyerInput) {
  createPaymentIntent(billIds: $billIds, channel: WECHAT, invoiceTitleId: $titleId, invoiceTitle: $title) {
    __typename
    ... on PaymentIntent { outTradeNo amountFen }
    ... on Error { code message field }
  }
}"""
MY_BILLS = "query { bills { edges { node { id } } } }"
CREATE_TITLE = """
mutation ($input: InvoiceTitleInput!) { createInvoiceTitle(input: $input) { ... on InvoiceTitle { id } } }"""
COMPANY = {"kind": "COMPANY", "name": "杭州某某科技有限公司", "taxCode": "91110000100005220b"}


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    world = await billed_world(state, client)
    await configure_invoicing(state, world, auto_issue=True)
    return world


async def order(client: httpx.AsyncClient, world: World, user: str = "alice", **title: Any) -> dict[str, Any]:
    bills = await gql(client, MY_BILLS, token=world.token(user))
    bill_ids = [edge["node"]["id"] for edge in bills["data"]["bills"]["edges"]]
    result = await gql(client, INTENT, {"billIds": bill_ids, **title}, token=world.token(user))
    assert "errors" not in result, result
    return result["data"]["createPaymentIntent"]  # type: ignore[no-any-return]


async def paid(state: AppState, client: httpx.AsyncClient, intent: dict[str, Any], transaction: str) -> Invoice:
    """The gateway notifies the order's payment; answers the payment's invoice."""
    sandbox: SandboxProvider = state.services.payment_providers["sandbox"]
    body, headers = sandbox.notification(
        out_trade_no=intent["outTradeNo"], transaction_id=transaction, amount_fen=intent["amountFen"], paid_at=state.clock()
    )
    answer = await client.post("/payments/notify/sandbox", content=body, headers=headers)
    assert answer.json()["code"] == "SUCCESS", answer.text
    async with state.session_factory() as session:
        (invoice,) = list(await session.scalars(select(Invoice)))
    return invoice


async def rows(state: AppState, model: type[Any]) -> int:
    async with state.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_new_company_title_given_when_paying_gets_the_invoice_and_is_kept(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    # when alice orders with her company's title and the gateway reports her payment
    intent = await order(client, world, title=COMPANY)
    assert intent["__typename"] == "PaymentIntent", intent
    invoice = await paid(state, client, intent, "4200101")

    # then the automatic invoice is issued to the company, credit code in capitals
    assert invoice.status is InvoiceStatus.ISSUED
    assert (invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code) == (PartyType.COMPANY, "杭州某某科技有限公司", "91110000100005220B")
    # and alice keeps the title (her first: the default), the invoice naming it
    async with state.session_factory() as session:
        (title,) = list(await session.scalars(select(InvoiceTitle)))
    assert (title.party_id, title.tax_code, title.is_default, invoice.title_id) == (
        world.ids["Party:alice"], "91110000100005220B", True, title.id,
    )


async def test_a_kept_person_title_picked_when_paying_gets_the_invoice_over_the_default(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    # given alice's default company title and a second one for her mother
    alice = world.token("alice")
    await gql(client, CREATE_TITLE, {"input": COMPANY}, token=alice)
    mother = await gql(client, CREATE_TITLE, {"input": {"kind": "PERSON", "name": "王母"}}, token=alice)
    title_id = mother["data"]["createInvoiceTitle"]["id"]

    invoice = await paid(state, client, await order(client, world, titleId=title_id), "4200102")

    assert (invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code) == (PartyType.PERSON, "王母", None)


async def test_a_company_title_with_a_wrong_credit_code_is_refused_on_its_field_and_nothing_is_written(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    wrong_check_character = {**COMPANY, "taxCode": "91110000100005220C"}
    for title, field in (
        (wrong_check_character, "invoiceTitle.taxCode"),
        ({"kind": "COMPANY", "name": "杭州某某科技有限公司"}, "invoiceTitle.taxCode"),
        ({"kind": "PERSON", "name": "  "}, "invoiceTitle.name"),
    ):
        answer = await order(client, world, title=title)
        assert (answer["__typename"], answer["code"], answer["field"]) == ("BadUserInputError", "BAD_USER_INPUT", field), answer
    assert await rows(state, PaymentIntent) == 0
    assert await rows(state, InvoiceTitle) == 0


async def test_someone_elses_title_is_not_found_on_its_field(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    bobs = await gql(client, CREATE_TITLE, {"input": {"kind": "PERSON", "name": "李强"}}, token=world.token("bob"))

    answer = await order(client, world, titleId=bobs["data"]["createInvoiceTitle"]["id"])

    assert (answer["__typename"], answer["field"]) == ("NotFoundError", "invoiceTitleId"), answer
    assert await rows(state, PaymentIntent) == 0
