"""Owners keep their invoice titles (抬头): a person's name or a company with a valid credit code; one is
the default; nobody else sees or changes them. Both databases."""

from __future__ import annotations

import pytest

from api.state import AppState
from db.models import InvoiceTitle
from invoicing.buyers import Buyer
from invoicing.titles import create_invoice_title, delete_invoice_title, list_invoice_titles, update_invoice_title
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.vocabulary import PartyType
from tests.integration.invoicing_world import principal_of
from tests.integration.world import World, build_world, count_rows

PERSON = Buyer(PartyType.PERSON, "王丽")
COMPANY = Buyer(PartyType.COMPANY, "杭州某某科技有限公司", "91110000100005220b", "杭州市滨江区")


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_world(state)


async def test_the_first_title_is_the_default_until_another_is_made_so(state: AppState, world: World) -> None:
    alice = await principal_of(state, world, "alice")

    person = await create_invoice_title(state.session_factory, alice, buyer=PERSON)
    company = await create_invoice_title(state.session_factory, alice, buyer=COMPANY)
    assert [(t.id, t.is_default) for t in await list_invoice_titles(state.session_factory, alice)] == [(person.id, True), (company.id, False)]

    await update_invoice_title(state.session_factory, alice, title_id=company.id, buyer=COMPANY, is_default=True)

    titles = await list_invoice_titles(state.session_factory, alice)
    assert [(t.id, t.is_default) for t in titles] == [(company.id, True), (person.id, False)]
    assert titles[0].tax_code == "91110000100005220B"


async def test_deleting_the_default_makes_the_oldest_left_the_default(state: AppState, world: World) -> None:
    alice = await principal_of(state, world, "alice")
    person = await create_invoice_title(state.session_factory, alice, buyer=PERSON)
    company = await create_invoice_title(state.session_factory, alice, buyer=COMPANY, is_default=True)

    await delete_invoice_title(state.session_factory, alice, title_id=company.id)

    assert [(t.id, t.is_default) for t in await list_invoice_titles(state.session_factory, alice)] == [(person.id, True)]


async def test_a_company_title_needs_a_valid_code_and_nothing_is_written_without(state: AppState, world: World) -> None:
    alice = await principal_of(state, world, "alice")

    with pytest.raises(BadInput) as refused:
        await create_invoice_title(state.session_factory, alice, buyer=Buyer(PartyType.COMPANY, "某公司", "91110000100005220A"))

    assert refused.value.field == "taxCode"
    async with state.session_factory() as session:
        assert await count_rows(session, InvoiceTitle) == 0


async def test_nobody_else_sees_or_changes_an_owners_titles(state: AppState, world: World) -> None:
    alice, bob = await principal_of(state, world, "alice"), await principal_of(state, world, "bob")
    title = await create_invoice_title(state.session_factory, alice, buyer=PERSON)

    assert await list_invoice_titles(state.session_factory, bob) == []
    with pytest.raises(NotFound):
        await update_invoice_title(state.session_factory, bob, title_id=title.id, buyer=Buyer(PartyType.PERSON, "李强"))
    with pytest.raises(NotFound):
        await delete_invoice_title(state.session_factory, bob, title_id=title.id)
    finance = await principal_of(state, world, "finance_a")
    with pytest.raises(AccessDenied):
        await create_invoice_title(state.session_factory, finance, buyer=PERSON)
    assert await list_invoice_titles(state.session_factory, finance) == []
    (kept,) = await list_invoice_titles(state.session_factory, alice)
    assert (kept.name, kept.kind) == ("王丽", PartyType.PERSON)
