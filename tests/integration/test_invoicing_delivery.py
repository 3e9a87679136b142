"""An issued invoice reaches its buyer through the outbox, on both databases: queued in the transaction
that issues it, sent by e-mail through a real SMTP server or by SMS with its download links, the links
opening that one invoice without a login, and the delivery's status on the invoice in GraphQL for whoever
may see the invoice."""

from __future__ import annotations

import io
from email.header import decode_header, make_header
from pathlib import Path

import httpx
import pypdf
import pytest
from sqlalchemy import select, update
from strawberry import relay as graphql_relay

from api.state import AppState
from db.models import Invoice, Message, Party
from invoicing.configuration import set_invoicing_profile
from invoicing.delivery import delivery_key
from invoicing.document import parse_einvoice
from invoicing.issuing import request_invoice
from kernel.errors import BadInput
from kernel.vocabulary import InvoiceStatus, MessageStatus, NotificationChannel
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books are checked after each test)
from tests.integration.invoicing_world import billed_world, configure_invoicing, principal_of
from tests.integration.notification_world import Channels, relay, smtp_server
from tests.integration.world import World, gql

PUBLIC_URL = "https://wuye.lakeside.test"
DELIVERY = """
query ($id: ID!) {
  node(id: $id) { ... on Invoice { number delivery { status channel attempts sentAt lastError } } }
}"""


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await billed_world(state, client)


async def issued_invoice(state: AppState, world: World, client: httpx.AsyncClient, key: str, amount: str = "300.00") -> Invoice:
    """Lakeside invoicing with its public address; alice pays and finance asks for the invoice."""
    await configure_invoicing(state, world)
    finance = await principal_of(state, world, "finance_a")
    await set_invoicing_profile(
        state.session_factory, finance, project_id=world.ids["Project:lakeside"], auto_issue=False, sandbox_allowed=True,
        public_url=PUBLIC_URL + "/",
    )
    paid = await pay(client, world, "alice", amount, key)
    payment_id = int(graphql_relay.GlobalID.from_id(str(paid["id"])).node_id)
    return await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[payment_id])


async def delivery_of(state: AppState, invoice_id: int) -> Message | None:
    async with state.session_factory() as session:
        return await session.scalar(select(Message).where(Message.idempotency_key == delivery_key(invoice_id)))


async def test_an_issued_invoice_is_e_mailed_with_links_that_open_it_without_a_login(
    state: AppState, client: httpx.AsyncClient, world: World, tmp_path: Path
) -> None:
    # given alice's e-mail address and her issued invoice of 300.00
    async with state.session_factory() as session, session.begin():
        await session.execute(update(Party).where(Party.id == world.ids["Party:alice"]).values(email="alice@lakeside.test"))
    invoice = await issued_invoice(state, world, client, "deliver-1")
    assert invoice.status is InvoiceStatus.ISSUED and invoice.download_key is not None

    # then its delivery was queued with the issuing, to her party, with both links
    queued = await delivery_of(state, invoice.id)
    assert queued is not None and queued.status is MessageStatus.QUEUED and queued.party_id == world.ids["Party:alice"]
    links = {
        "pdf_link": f"{PUBLIC_URL}/invoices/download/{invoice.download_key}.pdf",
        "xml_link": f"{PUBLIC_URL}/invoices/download/{invoice.download_key}.xml",
    }
    assert queued.payload == {"number": invoice.number, "amount": "300.00", "red": False, **links}

    # when the relay sends it through a real SMTP server
    async with smtp_server(tmp_path) as server:
        senders = Channels(smtp_port=server.port).senders()
        report = await relay(state, senders)
        await senders[NotificationChannel.EMAIL].aclose()
        received = server.received()

    # then one e-mail arrived, naming the invoice and its total, with the links
    assert report.sent == 1
    (mail,) = received
    assert mail["to"] == ["alice@lakeside.test"]
    assert str(make_header(decode_header(mail["subject"]))) == f"【Lakeside】电子发票 {invoice.number}"
    assert f"发票号码{invoice.number}，价税合计¥300.00" in mail["body"]
    assert links["pdf_link"] in mail["body"] and links["xml_link"] in mail["body"]
    # and the links open the documents without a login; a wrong key opens nothing
    pdf = await client.get(links["pdf_link"].removeprefix(PUBLIC_URL))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "private, no-store"
    assert invoice.number in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    xml = await client.get(links["xml_link"].removeprefix(PUBLIC_URL))
    assert xml.status_code == 200 and parse_einvoice(xml.content).number == invoice.number
    wrong = "x" * 32
    assert (await client.get(f"/invoices/download/{wrong}.pdf")).status_code == 404

    # and the invoice shows the delivery to alice and finance; bob and another project's staff see no invoice
    invoice_id = graphql_relay.to_base64("Invoice", invoice.id)
    for viewer in ("alice", "finance_a"):
        answer = await gql(client, DELIVERY, {"id": invoice_id}, token=world.token(viewer))
        delivery = answer["data"]["node"]["delivery"]
        assert (delivery["status"], delivery["channel"], delivery["attempts"], delivery["lastError"]) == ("SENT", "EMAIL", 1, None), viewer
    for stranger in ("bob", "admin_b"):
        assert (await gql(client, DELIVERY, {"id": invoice_id}, token=world.token(stranger)))["data"]["node"] is None, stranger


async def test_without_an_e_mail_address_the_invoice_goes_by_sms_with_its_pdf_link(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    # given alice (a phone, no e-mail) and her issued invoice
    invoice = await issued_invoice(state, world, client, "deliver-2", amount="268.20")
    channels = Channels()

    # when the relay runs
    report = await relay(state, channels.senders())

    # then the SMS gateway took one message carrying the number, the total and the PDF link
    assert report.sent == 1
    (record,) = channels.sms_gateway.accepted.values()
    text = record.request.params["content"]
    assert f"发票号码{invoice.number}，价税合计¥268.20" in text
    assert f"下载PDF：{PUBLIC_URL}/invoices/download/{invoice.download_key}.pdf" in text
    delivered = await delivery_of(state, invoice.id)
    assert delivered is not None and (delivered.status, delivered.channel) == (MessageStatus.SENT, NotificationChannel.SMS)


async def test_an_invoice_that_is_not_issued_queues_no_delivery(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    # given a project that maps no COMMON fee: alice's automatic invoice fails
    await configure_invoicing(state, world, auto_issue=True, leave_out=("COMMON",))

    await pay(client, world, "alice", "268.20", "deliver-3")

    async with state.session_factory() as session:
        (invoice,) = list(await session.scalars(select(Invoice)))
        messages = list(await session.scalars(select(Message.kind)))
    assert invoice.status is InvoiceStatus.FAILED and invoice.download_key is None
    assert "INVOICE_ISSUED" not in messages


async def test_a_public_url_that_is_not_an_http_address_is_refused_on_its_field(state: AppState, world: World) -> None:
    finance = await principal_of(state, world, "finance_a")
    for wrong in ("wuye.example.com", "javascript:alert(1)", "https://wuye.example.com/?q=1"):
        with pytest.raises(BadInput) as refused:
            await set_invoicing_profile(
                state.session_factory, finance, project_id=world.ids["Project:lakeside"], auto_issue=False, sandbox_allowed=True,
                public_url=wrong,
            )
        assert refused.value.field == "publicUrl", wrong
