"""Batch issuing: one invoice per party for a month's payments, issued in the background by the worker,
each with its own status, counted in the batch's summary. Both databases."""

from __future__ import annotations

from decimal import Decimal as D

import httpx
import pytest
from sqlalchemy import select

from api.state import AppState
from api.workers import DispatchWorker
from db.models import Invoice, InvoiceLine
from invoicing.batches import BatchSummary, get_invoice_batch, issue_invoice_batch, list_invoice_batches
from invoicing.buyers import Buyer
from invoicing.titles import create_invoice_title
from kernel.errors import BadInput, NotFound
from kernel.vocabulary import InvoiceStatus, PartyType
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books are checked after each test)
from tests.integration.invoicing_world import billed_world, configure_invoicing, principal_of
from tests.integration.world import World


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    built = await billed_world(state, client)
    await configure_invoicing(state, built)
    return built


async def test_a_month_is_invoiced_once_per_party_in_the_background(state: AppState, client: httpx.AsyncClient, world: World) -> None:
    # given November's payments: alice twice (her company's title is her default), bob once, the unoccupied shop once
    alice = await principal_of(state, world, "alice")
    await create_invoice_title(state.session_factory, alice, buyer=Buyer(PartyType.COMPANY, "王丽工作室", "91110000100005220B"))
    await pay(client, world, "alice", "100.00", "batch-1")
    await pay(client, world, "alice", "168.20", "batch-2")
    await pay(client, world, "bob", "363.67", "batch-3", payerName="李强")
    await pay(client, world, "shop", "454.58", "batch-4", payerName="某商户")
    finance = await principal_of(state, world, "finance_a")
    lakeside = world.ids["Project:lakeside"]

    # when finance runs the month's batch
    batch, summary = await issue_invoice_batch(state.session_factory, finance, now=state.clock(), project_id=lakeside, period="2026-11")

    # then one invoice per party is pending, the shop's payment (no party) left out and counted
    assert summary == BatchSummary(total=2, pending=2)
    assert (batch.skipped_payments, batch.skipped_reason) == (1, "1 payment(s) of no known party")
    # and the worker issues them, each on its own
    await DispatchWorker(state.session_factory, clock=state.clock).run_once()
    _, summary = await get_invoice_batch(state.session_factory, finance, batch_id=batch.id)
    assert summary == BatchSummary(total=2, issued=2, issued_amount=D("631.87"))
    async with state.session_factory() as session:
        invoices = list(await session.scalars(select(Invoice).where(Invoice.batch_id == batch.id).order_by(Invoice.id)))
        alices = invoices[0]
        lines = list(await session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == alices.id)))
    assert [(invoice.buyer_name, invoice.gross_total, invoice.status) for invoice in invoices] == [
        ("王丽工作室", D("268.20"), InvoiceStatus.ISSUED), ("李强", D("363.67"), InvoiceStatus.ISSUED),
    ]
    assert len({line.payment_id for line in lines}) == 2  # both of alice's payments on her one invoice
    # and running the month again requests nothing new
    again, summary = await issue_invoice_batch(state.session_factory, finance, now=state.clock(), project_id=lakeside, period="2026-11")
    assert summary == BatchSummary()
    assert [listed.id for listed, _ in await list_invoice_batches(state.session_factory, finance, project_id=lakeside)] == [again.id, batch.id]


async def test_a_batch_is_finance_staffs_of_the_project_and_takes_a_month(state: AppState, world: World) -> None:
    lakeside = world.ids["Project:lakeside"]
    finance = await principal_of(state, world, "finance_a")
    with pytest.raises(BadInput) as refused:
        await issue_invoice_batch(state.session_factory, finance, now=state.clock(), project_id=lakeside, period="2026-13")
    assert refused.value.field == "period"
    with pytest.raises(NotFound):
        await issue_invoice_batch(state.session_factory, await principal_of(state, world, "admin_b"), now=state.clock(), project_id=lakeside, period="2026-11")
    batch, _ = await issue_invoice_batch(state.session_factory, finance, now=state.clock(), project_id=lakeside, period="2026-11")
    with pytest.raises(NotFound):
        await get_invoice_batch(state.session_factory, await principal_of(state, world, "alice"), batch_id=batch.id)
