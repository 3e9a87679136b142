"""The project's tax configuration: effective-dated seller and tax mappings, set by finance staff only, on
both databases; a refused change writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from api.state import AppState
from db.models import InvoiceSellerVersion, InvoicingProfile, TaxMappingVersion
from invoicing.configuration import (
    SellerInput,
    TaxMappingInput,
    get_invoicing_configuration,
    mappings_on,
    seller_on,
    set_invoice_seller,
    set_invoicing_profile,
    set_tax_mapping,
)
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import TaxTreatment
from register.accounts import load_principal
from tests.conftest import Clock
from tests.integration.billing_world import standard_rules
from tests.integration.world import World, build_world, count_rows

SELLER = SellerInput(name="杭州湖畔物业服务有限公司", tax_code="91440300708461136T", address="杭州市西湖区湖畔路1号", phone="0571-88880000")
TODAY = dt.date(2026, 11, 2)  # the test clock's day in Shanghai


def property_fee(**changes: object) -> TaxMappingInput:
    values: dict[str, object] = {
        "fee_kind": "PROPERTY",
        "category": "物业管理服务",
        "item_name": "物业费",
        "classification_code": "3040802010000000000",
        "rate": Decimal("0.06"),
        "treatment": TaxTreatment.GENERAL,
        "unit": "月",
    }
    values.update(changes)
    return TaxMappingInput(**values)  # type: ignore[arg-type]


async def principal_of(state: AppState, world: World, user: str) -> Principal:
    async with state.session_factory() as session:
        principal = await load_principal(session, world.users[user], today=state.clock().date())
    assert principal is not None
    return principal


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    built = await build_world(state)
    await standard_rules(client, built)
    return built


async def test_finance_staff_put_a_seller_in_force_from_today(state: AppState, world: World) -> None:
    finance = await principal_of(state, world, "finance_a")
    lakeside = world.ids["Project:lakeside"]

    version = await set_invoice_seller(state.session_factory, finance, now=state.clock(), project_id=lakeside, seller=SELLER)

    assert (version.effective_from, version.tax_code, version.name) == (TODAY, SELLER.tax_code, SELLER.name)
    configuration = await get_invoicing_configuration(state.session_factory, finance, project_id=lakeside)
    assert [seller.id for seller in configuration.sellers] == [version.id]


async def test_a_seller_change_starts_on_its_day_and_the_same_day_replaces(state: AppState, world: World) -> None:
    finance = await principal_of(state, world, "finance_a")
    lakeside = world.ids["Project:lakeside"]
    later = TODAY + dt.timedelta(days=30)
    await set_invoice_seller(state.session_factory, finance, now=state.clock(), project_id=lakeside, seller=SELLER)
    await set_invoice_seller(
        state.session_factory, finance, now=state.clock(), project_id=lakeside,
        seller=SellerInput(name="旧名", tax_code="91110000100005220B", effective_from=later),
    )
    await set_invoice_seller(
        state.session_factory, finance, now=state.clock(), project_id=lakeside,
        seller=SellerInput(name="湖畔物业（新址）", tax_code="91110000100005220b", address="新址", effective_from=later),
    )

    async with state.session_factory() as session:
        assert (await seller_on(session, lakeside, TODAY)).name == SELLER.name
        assert (await seller_on(session, lakeside, later - dt.timedelta(days=1))).name == SELLER.name
        moved = await seller_on(session, lakeside, later)
        assert (moved.name, moved.tax_code, moved.address) == ("湖畔物业（新址）", "91110000100005220B", "新址")
        with pytest.raises(BadInput):
            await seller_on(session, lakeside, TODAY - dt.timedelta(days=1))
        assert await count_rows(session, InvoiceSellerVersion) == 2


@pytest.mark.parametrize(
    ("seller", "field"),
    [
        (SellerInput(name="湖畔物业", tax_code="91440300708461136X"), "taxCode"),
        (SellerInput(name=" ", tax_code="91440300708461136T"), "name"),
        (SellerInput(name="湖畔物业", tax_code="91440300708461136T", effective_from=TODAY - dt.timedelta(days=1)), "effectiveFrom"),
        (SellerInput(name="湖畔物业", tax_code="91440300708461136T", bank_account="6" * 51), "bankAccount"),
    ],
)
async def test_a_wrong_seller_is_refused_on_its_field_and_nothing_is_written(
    state: AppState, world: World, seller: SellerInput, field: str
) -> None:
    finance = await principal_of(state, world, "finance_a")

    with pytest.raises(BadInput) as refused:
        await set_invoice_seller(state.session_factory, finance, now=state.clock(), project_id=world.ids["Project:lakeside"], seller=seller)

    assert refused.value.field == field
    async with state.session_factory() as session:
        assert await count_rows(session, InvoiceSellerVersion) == 0


async def test_every_fee_kind_is_mapped_by_day(state: AppState, world: World, clock: Clock) -> None:
    finance = await principal_of(state, world, "finance_a")
    lakeside = world.ids["Project:lakeside"]
    next_year = dt.date(2027, 1, 1)
    await set_tax_mapping(state.session_factory, finance, now=clock(), project_id=lakeside, mapping=property_fee())
    await set_tax_mapping(
        state.session_factory, finance, now=clock(), project_id=lakeside,
        mapping=property_fee(rate=Decimal("0.05"), treatment=TaxTreatment.SIMPLIFIED, effective_from=next_year),
    )
    await set_tax_mapping(
        state.session_factory, finance, now=clock(), project_id=lakeside,
        mapping=property_fee(fee_kind="LATE_FEE", item_name="滞纳金", unit=None),
    )

    async with state.session_factory() as session:
        today = await mappings_on(session, lakeside, TODAY)
        then = await mappings_on(session, lakeside, next_year)
        before = await mappings_on(session, lakeside, TODAY - dt.timedelta(days=1))
    assert {kind: (row.rate, row.treatment) for kind, row in today.items()} == {
        "PROPERTY": (Decimal("0.0600"), TaxTreatment.GENERAL),
        "LATE_FEE": (Decimal("0.0600"), TaxTreatment.GENERAL),
    }
    assert (then["PROPERTY"].rate, then["PROPERTY"].treatment) == (Decimal("0.0500"), TaxTreatment.SIMPLIFIED)
    assert before == {}


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        (property_fee(fee_kind="PROPERTYY"), "feeKind"),  # not a rule of the project: refused, not guessed
        (property_fee(classification_code="30408020100"), "classificationCode"),
        (property_fee(rate=Decimal("0.06"), treatment=TaxTreatment.EXEMPT), "rate"),
        (property_fee(rate=Decimal("1.06")), "rate"),
        (property_fee(item_name=""), "itemName"),
    ],
)
async def test_a_wrong_mapping_is_refused_on_its_field_and_nothing_is_written(
    state: AppState, world: World, mapping: TaxMappingInput, field: str
) -> None:
    finance = await principal_of(state, world, "finance_a")

    with pytest.raises(BadInput) as refused:
        await set_tax_mapping(state.session_factory, finance, now=state.clock(), project_id=world.ids["Project:lakeside"], mapping=mapping)

    assert refused.value.field == field
    async with state.session_factory() as session:
        assert await count_rows(session, TaxMappingVersion) == 0


async def test_only_the_projects_finance_staff_configure_it(state: AppState, world: World) -> None:
    lakeside = world.ids["Project:lakeside"]
    for user, refusal in (("alice", AccessDenied), ("dispatcher_a", AccessDenied), ("admin_b", NotFound)):
        caller = await principal_of(state, world, user)
        with pytest.raises(refusal):
            await set_invoice_seller(state.session_factory, caller, now=state.clock(), project_id=lakeside, seller=SELLER)
        with pytest.raises(refusal):
            await get_invoicing_configuration(state.session_factory, caller, project_id=lakeside)
    admin = await principal_of(state, world, "admin_a")
    await set_invoice_seller(state.session_factory, admin, now=state.clock(), project_id=lakeside, seller=SELLER)


async def test_the_profile_turns_automatic_issuing_on_and_keeps_the_sandbox_out_of_production(state: AppState, world: World) -> None:
    finance = await principal_of(state, world, "finance_a")
    lakeside = world.ids["Project:lakeside"]

    with pytest.raises(BadInput) as refused:
        await set_invoicing_profile(state.session_factory, finance, project_id=lakeside, auto_issue=True, sandbox_allowed=False)
    assert refused.value.field == "provider"
    profile = await set_invoicing_profile(
        state.session_factory, finance, project_id=lakeside, auto_issue=True, drawer="张会计", sandbox_allowed=True
    )

    async with state.session_factory() as session:
        stored = await session.scalar(select(InvoicingProfile).where(InvoicingProfile.project_id == lakeside))
    assert stored is not None and (stored.auto_issue, stored.drawer, stored.provider) == (True, "张会计", "SANDBOX")
    assert profile.project_id == lakeside
