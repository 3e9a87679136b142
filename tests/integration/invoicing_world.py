"""Invoicing on top of the billing test world: Lakeside's October bills and a tax configuration.

Alice's October bill (unit A1-101) charges PROPERTY 247.80 and COMMON 20.40 (268.20); bob's 336.00 and
27.67. Lakeside's seller is 杭州湖畔物业服务有限公司; PROPERTY, LATE_FEE and PREPAYMENT are invoiced as
物业管理服务 at 6%, COMMON and ELECTRICITY as 电力 at 13% (the classification codes are sample values).
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from api.state import AppState
from invoicing.configuration import (
    SellerInput,
    TaxMappingInput,
    set_invoice_seller,
    set_invoicing_profile,
    set_tax_mapping,
)
from kernel.principal import Principal
from kernel.vocabulary import TaxTreatment
from register.accounts import load_principal
from tests.integration.billing_world import run_billing, standard_rules
from tests.integration.world import World, build_world

__all__ = [
    "MAPPINGS",
    "SELLER",
    "billed_world",
    "configure_invoicing",
    "principal_of",
]

SELLER = SellerInput(
    name="杭州湖畔物业服务有限公司",
    tax_code="91440300708461136T",
    address="杭州市西湖区湖畔路1号",
    phone="0571-88880000",
    bank_name="工商银行杭州湖畔支行",
    bank_account="1202020209000012345",
)
SERVICE = ("物业管理服务", "3040802010000000000", Decimal("0.06"))
POWER = ("电力", "1100101000000000000", Decimal("0.13"))
MAPPINGS = {
    "PROPERTY": (*SERVICE, "物业费", "月"),
    "COMMON": (*POWER, "公摊电费", None),
    "ELECTRICITY": (*POWER, "电费", "度"),
    "LATE_FEE": (*SERVICE, "滞纳金", None),
    "PREPAYMENT": (*SERVICE, "预收物业费", None),
}


async def principal_of(state: AppState, world: World, user: str) -> Principal:
    async with state.session_factory() as session:
        principal = await load_principal(session, world.users[user], today=state.clock().date())
    assert principal is not None
    return principal


async def configure_invoicing(
    state: AppState, world: World, *, auto_issue: bool = False, leave_out: tuple[str, ...] = (), project: str = "lakeside"
) -> None:
    """The seller and every fee kind's mapping from today, but `leave_out`; automatic issuing as asked."""
    finance = await principal_of(state, world, "finance_a" if project == "lakeside" else "admin_b")
    project_id = world.ids[f"Project:{project}"]
    now = state.clock()
    await set_invoice_seller(state.session_factory, finance, now=now, project_id=project_id, seller=SELLER)
    for fee_kind, (category, code, rate, item, unit) in MAPPINGS.items():
        if fee_kind in leave_out:
            continue
        await set_tax_mapping(
            state.session_factory,
            finance,
            now=now,
            project_id=project_id,
            mapping=TaxMappingInput(fee_kind, category, item, code, rate, TaxTreatment.GENERAL, unit),
        )
    await set_invoicing_profile(
        state.session_factory, finance, project_id=project_id, auto_issue=auto_issue, drawer="张会计", sandbox_allowed=True
    )


async def billed_world(state: AppState, client: httpx.AsyncClient) -> World:
    """The test world with the standard rules and Lakeside's October bill run."""
    world = await build_world(state)
    await standard_rules(client, world)
    await run_billing(client, world, "2026-10")
    return world
