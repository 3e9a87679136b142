"""Issuing invoices through the use cases, on both databases: on request and automatically after a
payment, once per payment, refused with the fee kind named when a mapping is missing, corrected by
red-letter invoices after refunds and reversals, never edited."""

from __future__ import annotations

from decimal import Decimal as D

import httpx
import pytest
from sqlalchemy import func, select
from strawberry import relay

from api.state import AppState
from api.workers import DispatchWorker
from billing.refunds import refund_payment, reverse_payment
from db.models import Invoice, InvoicedPayment, InvoiceLine, Payment
from invoicing.automatic import queue_automatic_invoices
from invoicing.buyers import Buyer
from invoicing.configuration import TaxMappingInput, set_invoicing_profile, set_tax_mapping
from invoicing.document import parse_einvoice
from invoicing.issuing import issue_pending_invoices, request_invoice
from invoicing.titles import create_invoice_title
from kernel.errors import BadInput, NotFound
from kernel.vocabulary import InvoiceColour, InvoiceStatus, InvoiceType, PartyType, TaxTreatment
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books are checked after each test)
from tests.integration.invoicing_world import billed_world, configure_invoicing, principal_of
from tests.integration.world import World, count_rows

COMPANY = Buyer(PartyType.COMPANY, "杭州某某科技有限公司", "91110000100005220B", "杭州市滨江区", "0571-66660000")


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await billed_world(state, client)


def payment_id(paid: dict[str, object]) -> int:
    return int(relay.GlobalID.from_id(str(paid["id"])).node_id)


async def lines_of(state: AppState, invoice_id: int) -> list[tuple[str, D, D, D]]:
    async with state.session_factory() as session:
        rows = await session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position))
        return [(row.fee_kind, row.amount, row.net, row.tax) for row in rows]


async def invoices(state: AppState) -> list[Invoice]:
    async with state.session_factory() as session:
        return list(await session.scalars(select(Invoice).order_by(Invoice.id)))


# --- on request ---------------------------------------------------------------------------------------


async def test_finance_issues_the_invoice_of_a_payment_split_per_fee_kind_to_the_fen(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    # given alice's October bill (PROPERTY 247.80, COMMON 20.40) paid with 300.00: 31.80 stays as credit
    await configure_invoicing(state, world)
    paid = await pay(client, world, "alice", "300.00", "issue-1")
    finance = await principal_of(state, world, "finance_a")

    # when finance asks for its invoice
    invoice = await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[payment_id(paid)])

    # then it is issued, each fee kind split at its rate, and the totals add up to the payment
    assert invoice.status is InvoiceStatus.ISSUED and invoice.colour is InvoiceColour.BLUE
    assert invoice.number is not None and len(invoice.number) == 20 and invoice.number.isdigit()
    assert await lines_of(state, invoice.id) == [
        ("PROPERTY", D("247.80"), D("233.77"), D("14.03")),  # 247.80 × 6/106 = 14.026…
        ("COMMON", D("20.40"), D("18.05"), D("2.35")),  # 20.40 × 13/113 = 2.346…
        ("PREPAYMENT", D("31.80"), D("30.00"), D("1.80")),
    ]
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (D("281.82"), D("18.18"), D("300.00"))
    assert (invoice.buyer_kind, invoice.buyer_name) == (PartyType.PERSON, "王丽")  # the payer, who keeps no title
    document = parse_einvoice((invoice.xml or "").encode("utf-8"))
    assert document.number == invoice.number
    assert document.content.amount_in_capitals == "叁佰圆整"
    assert [item.name for item in document.content.items] == ["*物业管理服务*物业费", "*电力*公摊电费", "*物业管理服务*预收物业费"]
    assert document.content.seller.tax_code == "91440300708461136T"


async def test_asking_again_answers_the_same_invoice(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    await configure_invoicing(state, world)
    paid = payment_id(await pay(client, world, "alice", "268.20", "again-1"))
    finance = await principal_of(state, world, "finance_a")

    first = await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[paid])
    second = await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[paid])

    assert (second.id, second.number) == (first.id, first.number)
    async with state.session_factory() as session:
        assert await count_rows(session, Invoice) == 1
        assert await count_rows(session, InvoicedPayment) == 1


async def test_an_owner_asks_for_their_own_payments_only(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    await configure_invoicing(state, world)
    alices = payment_id(await pay(client, world, "alice", "268.20", "own-1"))
    bobs = payment_id(await pay(client, world, "bob", "363.67", "own-2", payerName="李强"))
    alice = await principal_of(state, world, "alice")

    with pytest.raises(NotFound) as refused:
        await request_invoice(state.session_factory, alice, now=state.clock(), payment_ids=[bobs])
    assert refused.value.field == "paymentIds"
    assert await invoices(state) == []

    mine = await request_invoice(state.session_factory, alice, now=state.clock(), payment_ids=[alices])
    assert (mine.status, mine.party_id, mine.unit_id) == (InvoiceStatus.ISSUED, world.ids["Party:alice"], world.ids["Unit:alice"])


async def test_an_owners_default_title_is_whom_the_invoice_is_made_out_to(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    await configure_invoicing(state, world)
    alice = await principal_of(state, world, "alice")
    await create_invoice_title(state.session_factory, alice, buyer=Buyer(PartyType.PERSON, "王丽"))
    company = await create_invoice_title(state.session_factory, alice, buyer=COMPANY, is_default=True)
    paid = payment_id(await pay(client, world, "alice", "268.20", "title-1"))

    invoice = await request_invoice(state.session_factory, alice, now=state.clock(), payment_ids=[paid], invoice_type=InvoiceType.SPECIAL)

    assert (invoice.buyer_kind, invoice.buyer_name, invoice.buyer_tax_code, invoice.title_id) == (
        PartyType.COMPANY, COMPANY.name, COMPANY.tax_code, company.id,
    )
    assert invoice.invoice_type is InvoiceType.SPECIAL


async def test_a_special_invoice_for_a_person_is_refused_and_nothing_is_written(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    await configure_invoicing(state, world)
    paid = payment_id(await pay(client, world, "alice", "268.20", "special-1"))
    finance = await principal_of(state, world, "finance_a")

    with pytest.raises(BadInput) as refused:
        await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[paid], invoice_type=InvoiceType.SPECIAL)

    assert refused.value.field == "invoiceType"
    assert await invoices(state) == []


async def test_a_fee_kind_without_a_mapping_refuses_the_request_naming_it(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    await configure_invoicing(state, world, leave_out=("COMMON", "PREPAYMENT"))
    paid = payment_id(await pay(client, world, "alice", "300.00", "unmapped-1"))
    finance = await principal_of(state, world, "finance_a")

    with pytest.raises(BadInput) as refused:
        await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[paid])

    assert "COMMON" in refused.value.message and "PREPAYMENT" in refused.value.message
    assert refused.value.field == "paymentIds"
    async with state.session_factory() as session:
        assert await count_rows(session, Invoice) == 0
        assert await count_rows(session, InvoicedPayment) == 0


async def test_one_invoice_covers_several_payments_and_each_payment_is_invoiced_once(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    await configure_invoicing(state, world)
    first = payment_id(await pay(client, world, "alice", "100.00", "several-1"))
    second = payment_id(await pay(client, world, "alice", "168.20", "several-2"))
    finance = await principal_of(state, world, "finance_a")

    invoice = await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[first, second])

    # 100.00 of 268.20: PROPERTY 247.80 × 100/268.20 = 92.393… → 92.39, COMMON 7.61; the rest completes both
    assert [(kind, amount) for kind, amount, _, _ in await lines_of(state, invoice.id)] == [
        ("PROPERTY", D("92.39")), ("COMMON", D("7.61")), ("PROPERTY", D("155.41")), ("COMMON", D("12.79")),
    ]
    with pytest.raises(Exception) as refused:
        await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[first])
    assert getattr(refused.value, "code", None) == "CONFLICT"


# --- automatically after a payment ----------------------------------------------------------------------


async def test_a_project_that_issues_by_itself_invoices_each_payment_as_it_is_recorded(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    await configure_invoicing(state, world, auto_issue=True)

    paid = await pay(client, world, "alice", "268.20", "auto-1")

    (invoice,) = await invoices(state)
    assert invoice.status is InvoiceStatus.ISSUED
    async with state.session_factory() as session:
        assert await session.scalar(select(InvoicedPayment.invoice_id).where(InvoicedPayment.payment_id == payment_id(paid))) == invoice.id
    assert invoice.gross_total == D("268.20")


async def test_an_automatic_invoice_that_cannot_be_issued_fails_with_the_fee_kind_and_the_payment_stands(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    # given automatic issuing, but COMMON has no mapping yet
    await configure_invoicing(state, world, auto_issue=True, leave_out=("COMMON",))
    # when alice pays: the payment is recorded, its invoice fails naming COMMON
    paid = payment_id(await pay(client, world, "alice", "268.20", "auto-fail-1"))
    (failed,) = await invoices(state)
    assert failed.status is InvoiceStatus.FAILED and "COMMON" in (failed.failure_reason or "")
    async with state.session_factory() as session:
        assert await session.get(Payment, paid) is not None
    # and once COMMON is mapped, asking for the payment's invoice issues that same invoice
    finance = await principal_of(state, world, "finance_a")
    await set_tax_mapping(
        state.session_factory, finance, now=state.clock(), project_id=world.ids["Project:lakeside"],
        mapping=TaxMappingInput("COMMON", "电力", "公摊电费", "1100101000000000000", D("0.13"), TaxTreatment.GENERAL),
    )
    issued = await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[paid])
    assert (issued.id, issued.status, issued.failure_reason) == (failed.id, InvoiceStatus.ISSUED, None)


async def test_a_project_without_automatic_issuing_waits_for_a_request(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    await configure_invoicing(state, world, auto_issue=False)
    await pay(client, world, "alice", "268.20", "manual-1")
    assert await invoices(state) == []


async def test_a_pending_invoice_whose_payment_was_reversed_is_cancelled_by_the_worker(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    # given a payment whose automatic invoice was requested in its transaction, but whose process stopped
    # before issuing it (the step run in a transaction without a unit of work: nothing runs after commit)
    await configure_invoicing(state, world)
    paid = payment_id(await pay(client, world, "alice", "50.00", "stopped-1"))
    finance = await principal_of(state, world, "finance_a")
    await set_invoicing_profile(
        state.session_factory, finance, project_id=world.ids["Project:lakeside"], auto_issue=True, sandbox_allowed=True
    )
    async with state.session_factory() as session, session.begin():
        payment = await session.get(Payment, paid)
        assert payment is not None
        await queue_automatic_invoices(session, [payment], now=state.clock())
    assert [invoice.status for invoice in await invoices(state)] == [InvoiceStatus.PENDING]
    await reverse_payment(state.session_factory, finance, now=state.clock(), payment_id=paid, reason="误收冲正")

    # when the worker takes up what is pending
    assert await issue_pending_invoices(state.session_factory, now=state.clock()) == 1

    # then nothing is issued for money that was given back
    (invoice,) = await invoices(state)
    assert (invoice.status, invoice.number) == (InvoiceStatus.CANCELLED, None)
    assert "reversed" in (invoice.failure_reason or "")


# --- red-letter corrections -------------------------------------------------------------------------------


async def test_a_partial_refund_takes_back_credit_with_a_red_invoice_and_leaves_the_blue_one_alone(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    await configure_invoicing(state, world, auto_issue=True)
    paid = payment_id(await pay(client, world, "alice", "300.00", "refund-1"))
    (blue,) = await invoices(state)
    finance = await principal_of(state, world, "finance_a")

    await refund_payment(state.session_factory, finance, now=state.clock(), payment_id=paid, amount=D("20.00"), reason="多收退回")

    blue_after, red = await invoices(state)
    assert (blue_after.xml, blue_after.gross_total, blue_after.number) == (blue.xml, blue.gross_total, blue.number)
    assert (red.colour, red.status, red.corrects_invoice_id) == (InvoiceColour.RED, InvoiceStatus.ISSUED, blue.id)
    assert await lines_of(state, red.id) == [("PREPAYMENT", D("-20.00"), D("-18.87"), D("-1.13"))]
    assert red.gross_total == D("-20.00")
    document = parse_einvoice((red.xml or "").encode("utf-8"))
    assert document.content.original_number == blue.number
    assert document.content.amount_in_capitals == "负贰拾圆整"


async def test_refunds_then_a_reversal_take_the_whole_invoice_back_to_zero_line_by_line(
    state: AppState, client: httpx.AsyncClient, world: World
) -> None:
    await configure_invoicing(state, world, auto_issue=True)
    paid = payment_id(await pay(client, world, "alice", "300.00", "reverse-1"))
    finance = await principal_of(state, world, "finance_a")
    await refund_payment(state.session_factory, finance, now=state.clock(), payment_id=paid, amount=D("10.01"), reason="退款一")
    await refund_payment(state.session_factory, finance, now=state.clock(), payment_id=paid, amount=D("0.03"), reason="退款二")

    await reverse_payment(state.session_factory, finance, now=state.clock(), payment_id=paid, reason="误收冲正")

    blue, *reds = await invoices(state)
    assert [red.colour for red in reds] == [InvoiceColour.RED] * 3
    assert all(red.status is InvoiceStatus.ISSUED and red.corrects_invoice_id == blue.id for red in reds)
    async with state.session_factory() as session:
        sums = (
            await session.execute(
                select(InvoiceLine.fee_kind, func.count(), func.sum(InvoiceLine.amount), func.sum(InvoiceLine.tax), func.sum(InvoiceLine.net))
                .group_by(InvoiceLine.fee_kind)
                .order_by(InvoiceLine.fee_kind)
            )
        ).all()
    # every line of the blue invoice is taken back to zero in amount, tax and net alike
    assert [(kind, amount, tax, net) for kind, _, amount, tax, net in sums] == [
        (kind, 0, 0, 0) for kind in ("COMMON", "PREPAYMENT", "PROPERTY")
    ]
    assert sum((invoice.gross_total for invoice in [blue, *reds]), D("0.00")) == 0


async def test_a_refund_before_the_invoice_is_issued_is_left_out_of_it(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    # given alice's automatic invoice failed (no PREPAYMENT mapping) and 20.00 of her credit was refunded
    await configure_invoicing(state, world, auto_issue=True, leave_out=("PREPAYMENT",))
    paid = payment_id(await pay(client, world, "alice", "300.00", "late-1"))
    finance = await principal_of(state, world, "finance_a")
    await refund_payment(state.session_factory, finance, now=state.clock(), payment_id=paid, amount=D("20.00"), reason="多收退回")
    await set_tax_mapping(
        state.session_factory, finance, now=state.clock(), project_id=world.ids["Project:lakeside"],
        mapping=TaxMappingInput("PREPAYMENT", "物业管理服务", "预收物业费", "3040802010000000000", D("0.06"), TaxTreatment.GENERAL),
    )

    # when it is issued at last
    invoice = await request_invoice(state.session_factory, finance, now=state.clock(), payment_ids=[paid])

    # then it invoices what the payment kept: no red invoice is needed
    assert invoice.gross_total == D("280.00")
    assert [(kind, amount) for kind, amount, _, _ in await lines_of(state, invoice.id)][-1] == ("PREPAYMENT", D("11.80"))
    assert [row.colour for row in await invoices(state)] == [InvoiceColour.BLUE]



async def test_the_worker_issues_what_a_stopped_process_left_pending(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    # given a payment's automatic invoice requested in its transaction, never issued (nothing ran after commit)
    await configure_invoicing(state, world)
    paid = payment_id(await pay(client, world, "alice", "268.20", "worker-1"))
    finance = await principal_of(state, world, "finance_a")
    await set_invoicing_profile(
        state.session_factory, finance, project_id=world.ids["Project:lakeside"], auto_issue=True, sandbox_allowed=True
    )
    async with state.session_factory() as session, session.begin():
        payment = await session.get(Payment, paid)
        assert payment is not None
        await queue_automatic_invoices(session, [payment], now=state.clock())

    # when the background worker runs a round
    await DispatchWorker(state.session_factory, clock=state.clock).run_once()

    # then the invoice is issued, once
    (invoice,) = await invoices(state)
    assert (invoice.status, invoice.gross_total) == (InvoiceStatus.ISSUED, D("268.20"))
    await DispatchWorker(state.session_factory, clock=state.clock).run_once()
    assert [row.number for row in await invoices(state)] == [invoice.number]
