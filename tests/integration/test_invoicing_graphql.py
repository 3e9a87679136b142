"""Invoicing through GraphQL and its download routes, as front ends call it, on both databases."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pypdf
import pytest

from api.state import AppState
from invoicing.document import parse_einvoice
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books are checked after each test)
from tests.integration.invoicing_world import MAPPINGS, SELLER, billed_world
from tests.integration.world import World, gql

SET_SELLER = """
mutation ($input: SetInvoiceSellerInput!) {
  setInvoiceSeller(input: $input) { __typename ... on InvoiceSeller { name taxCode effectiveFrom } ... on Error { code message field } }
}"""
SET_MAPPING = """
mutation ($input: SetTaxMappingInput!) {
  setTaxMapping(input: $input) { __typename ... on TaxMapping { feeKind rate treatment } ... on Error { code message field } }
}"""
SET_PROFILE = """
mutation ($input: SetInvoicingProfileInput!) {
  setInvoicingProfile(input: $input) { __typename ... on InvoicingProfile { autoIssue drawer provider } ... on Error { code message field } }
}"""
CREATE_TITLE = """
mutation ($input: InvoiceTitleInput!) {
  createInvoiceTitle(input: $input) { __typename ... on InvoiceTitle { id kind name taxCode isDefault } ... on Error { code message field } }
}"""
REQUEST = """
mutation ($input: RequestInvoiceInput!) {
  requestInvoice(input: $input) {
    __typename
    ... on Invoice { id number kind colour status grossTotal netTotal taxTotal grossInCapitals pdfUrl xmlUrl
                     buyer { kind name taxCode } lines { feeKind itemName amount net tax rate } payments { id } }
    ... on Error { code message field }
  }
}"""
INVOICES = """
query ($filter: InvoiceFilter) { invoices(filter: $filter, first: 20) { totalCount edges { node { id number colour status grossTotal } } } }"""
CONFIGURATION = """
query ($p: ID!) { invoicingConfiguration(projectId: $p) { profile { autoIssue } sellers { name } taxMappings { feeKind rate } } }"""
PAYMENT_INVOICE = """
query ($id: ID!) { node(id: $id) { ... on Payment { invoice { number status corrections { number colour grossTotal } } } } }"""
REFUND = """
mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { __typename ... on Error { code message } } }"""


async def data(client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> Any:
    result = await gql(client, query, variables, token=token)
    assert "errors" not in result, result
    (value,) = result["data"].values()
    return value


async def configure(client: httpx.AsyncClient, world: World, *, auto_issue: bool, leave_out: tuple[str, ...] = ()) -> None:
    token, project = world.token("finance_a"), world.gid("Project:lakeside")
    seller = await data(client, SET_SELLER, {"input": {"projectId": project, "name": SELLER.name, "taxCode": SELLER.tax_code}}, token)
    assert seller["__typename"] == "InvoiceSeller", seller
    for fee_kind, (category, code, rate, item, unit) in MAPPINGS.items():
        if fee_kind in leave_out:
            continue
        mapping = {
            "projectId": project, "feeKind": fee_kind, "category": category, "itemName": item, "classificationCode": code,
            "rate": str(rate), "treatment": "GENERAL", "unit": unit,
        }
        assert (await data(client, SET_MAPPING, {"input": mapping}, token))["__typename"] == "TaxMapping"
    profile = await data(client, SET_PROFILE, {"input": {"projectId": project, "autoIssue": auto_issue, "drawer": "张会计"}}, token)
    assert profile == {"__typename": "InvoicingProfile", "autoIssue": auto_issue, "drawer": "张会计", "provider": "SANDBOX"}


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await billed_world(state, client)


async def test_an_owner_asks_for_a_special_invoice_to_their_company_title_and_downloads_it(
    client: httpx.AsyncClient, world: World
) -> None:
    # given Lakeside's tax configuration, alice's company title, and her payment of 300.00
    await configure(client, world, auto_issue=False)
    alice = world.token("alice")
    title = await data(
        client, CREATE_TITLE, {"input": {"kind": "COMPANY", "name": "杭州某某科技有限公司", "taxCode": "91110000100005220b"}}, alice
    )
    assert (title["taxCode"], title["isDefault"]) == ("91110000100005220B", True)
    paid = await pay(client, world, "alice", "300.00", "gql-1")

    # when alice asks for a 专票 of it
    invoice = await data(client, REQUEST, {"input": {"paymentIds": [paid["id"]], "kind": "SPECIAL", "titleId": title["id"]}}, alice)

    # then it is issued to her company, split per fee kind, with its totals in figures and capitals
    assert invoice["__typename"] == "Invoice", invoice
    assert (invoice["kind"], invoice["colour"], invoice["status"]) == ("SPECIAL", "BLUE", "ISSUED")
    assert invoice["buyer"] == {"kind": "COMPANY", "name": "杭州某某科技有限公司", "taxCode": "91110000100005220B"}
    assert [(line["feeKind"], line["itemName"], line["amount"], line["tax"]) for line in invoice["lines"]] == [
        ("PROPERTY", "*物业管理服务*物业费", "247.80", "14.03"),
        ("COMMON", "*电力*公摊电费", "20.40", "2.35"),
        ("PREPAYMENT", "*物业管理服务*预收物业费", "31.80", "1.80"),
    ]
    assert (invoice["grossTotal"], invoice["netTotal"], invoice["taxTotal"], invoice["grossInCapitals"]) == (
        "300.00", "281.82", "18.18", "叁佰圆整",
    )
    assert invoice["payments"] == [{"id": paid["id"]}]
    # and she downloads the PDF and the XML; bob, staff of another project and strangers get nothing
    headers = {"Authorization": f"Bearer {alice}"}
    pdf = await client.get(invoice["pdfUrl"], headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert invoice["number"] in text and "叁佰圆整" in text and "电子发票（增值税专用发票）" in text
    xml = await client.get(invoice["xmlUrl"], headers=headers)
    assert xml.status_code == 200
    assert parse_einvoice(xml.content).number == invoice["number"]
    for other in ("bob", "admin_b", "dispatcher_a"):
        answer = await client.get(invoice["pdfUrl"], headers={"Authorization": f"Bearer {world.token(other)}"})
        assert answer.status_code == 404, other
    assert (await client.get(invoice["xmlUrl"])).status_code == 401


async def test_a_missing_mapping_is_a_typed_error_naming_the_fee_kind(client: httpx.AsyncClient, world: World) -> None:
    await configure(client, world, auto_issue=False, leave_out=("COMMON",))
    paid = await pay(client, world, "alice", "268.20", "gql-2")

    answer = await data(client, REQUEST, {"input": {"paymentIds": [paid["id"]]}}, world.token("finance_a"))

    assert answer["__typename"] == "BadUserInputError"
    assert (answer["code"], answer["field"]) == ("BAD_USER_INPUT", "paymentIds")
    assert "COMMON" in answer["message"]
    assert (await data(client, INVOICES, {}, world.token("finance_a")))["totalCount"] == 0


async def test_staff_search_invoices_and_owners_see_only_their_own(client: httpx.AsyncClient, world: World) -> None:
    # given automatic issuing and payments by alice and bob; alice's partly refunded (a red-letter invoice)
    await configure(client, world, auto_issue=True)
    alices = await pay(client, world, "alice", "300.00", "gql-3")
    bobs = await pay(client, world, "bob", "363.67", "gql-4", payerName="李强")
    refunded = await data(client, REFUND, {"input": {"paymentId": alices["id"], "amount": "20.00", "reason": "多收退回"}}, world.token("finance_a"))
    assert refunded["__typename"] == "Refund", refunded
    finance = world.token("finance_a")
    everything = await data(client, INVOICES, {}, finance)
    assert everything["totalCount"] == 3
    blue_of_bob = next(edge["node"] for edge in everything["edges"] if edge["node"]["grossTotal"] == "363.67")

    # then staff find by number, buyer, day, status and colour
    by_number = await data(client, INVOICES, {"filter": {"number": blue_of_bob["number"]}}, finance)
    assert [edge["node"]["id"] for edge in by_number["edges"]] == [blue_of_bob["id"]]
    assert (await data(client, INVOICES, {"filter": {"buyer": "李"}}, finance))["totalCount"] == 1
    assert (await data(client, INVOICES, {"filter": {"colour": "RED"}}, finance))["totalCount"] == 1
    assert (await data(client, INVOICES, {"filter": {"issuedFrom": "2026-11-02", "issuedTo": "2026-11-02", "statuses": ["ISSUED"]}}, finance))["totalCount"] == 3
    assert (await data(client, INVOICES, {"filter": {"issuedFrom": "2026-11-03"}}, finance))["totalCount"] == 0
    assert (await data(client, INVOICES, {"filter": {"statuses": ["FAILED"]}}, finance))["totalCount"] == 0
    # and owners see only their own: alice her blue invoice and its red-letter correction, bob his
    mine = await data(client, INVOICES, {}, world.token("alice"))
    assert sorted(edge["node"]["grossTotal"] for edge in mine["edges"]) == ["-20.00", "300.00"]
    assert (await data(client, INVOICES, {"filter": {"number": blue_of_bob["number"]}}, world.token("alice")))["totalCount"] == 0
    assert (await data(client, INVOICES, {}, world.token("carol")))["totalCount"] == 0
    # and a payment names its invoice and the invoice its corrections
    payment = await data(client, PAYMENT_INVOICE, {"id": alices["id"]}, world.token("alice"))
    assert payment["invoice"]["status"] == "ISSUED"
    assert [(red["colour"], red["grossTotal"]) for red in payment["invoice"]["corrections"]] == [("RED", "-20.00")]
    assert (await data(client, PAYMENT_INVOICE, {"id": bobs["id"]}, world.token("alice"))) is None


async def test_the_configuration_reads_back_for_finance_staff_and_is_null_elsewhere(client: httpx.AsyncClient, world: World) -> None:
    await configure(client, world, auto_issue=True)

    mine = await data(client, CONFIGURATION, {"p": world.gid("Project:lakeside")}, world.token("finance_a"))
    theirs = await data(client, CONFIGURATION, {"p": world.gid("Project:lakeside")}, world.token("admin_b"))

    assert mine["profile"] == {"autoIssue": True}
    assert mine["sellers"] == [{"name": SELLER.name}]
    assert {(m["feeKind"], m["rate"]) for m in mine["taxMappings"]} >= {("PROPERTY", "0.0600"), ("COMMON", "0.1300")}
    assert theirs is None
    refused = await gql(client, CONFIGURATION, {"p": world.gid("Project:lakeside")}, token=world.token("alice"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
