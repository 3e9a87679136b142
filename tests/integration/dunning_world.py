"""Dunning on top of the test world: October's property fees billed in Lakeside, due on 17 November, a
late fee of 0.05 % a day from the due date, and helpers to run passes and the relay on given days.

alice (A1 101, 88.50 m²) owes 247.80, bob (A1 102, 120.00 m²) 336.00; the vacant flat's bill has no
owner to remind, and the shop's none either (the rule bills flats only).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from api.state import AppState
from billing.dunning.passes import DunningPass, run_dunning
from billing.dunning.send_check import STILL_WANTED
from db.models import DunningNotice, Message
from kernel.principal import Principal, Role
from kernel.vocabulary import NotificationChannel
from notifications.relay import RelayReport
from tests.conftest import Clock
from tests.integration.billing_world import create_rule, run_billing
from tests.integration.notification_world import Channels, relay
from tests.integration.world import World, build_world, gql

__all__ = [
    "DUE",
    "SHANGHAI",
    "dun",
    "dunning_world",
    "finance",
    "local",
    "messages",
    "notices",
    "relay_dunning",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DUE = dt.date(2026, 11, 17)

SET_BILLING_POLICY = """
mutation ($input: SetBillingPolicyInput!) {
  setBillingPolicy(input: $input) { __typename ... on Error { code message field } }
}"""


def local(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    """`day` at `hour` in Shanghai, as the UTC instant the services take."""
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI).astimezone(dt.UTC)


def finance(world: World) -> Principal:
    return Principal(world.users["finance_a"], {world.ids["Project:lakeside"]: frozenset({Role.FINANCE})})


async def dunning_world(state: AppState, client: httpx.AsyncClient) -> World:
    world = await build_world(state)
    token = world.token("finance_a")
    await create_rule(
        client, world, token, code="PROPERTY", kind="PER_AREA", name="物业费", effectiveFrom="2026-01-01",
        ratePerSquareMetre="2.80", scope={"unitKinds": ["APARTMENT"]},
    )
    policy = {"projectId": world.gid("Project:lakeside"), "dueDays": 15, "lateFeeDailyRate": "0.0005"}
    result = await gql(client, SET_BILLING_POLICY, {"input": policy}, token=token)
    assert result["data"]["setBillingPolicy"]["__typename"] == "BillingPolicy", result
    run = await run_billing(client, world, "2026-10")
    assert run["__typename"] == "BillRun", run
    return world


async def dun(state: AppState, world: World, clock: Clock, day: dt.date, **options: Any) -> DunningPass:
    """A pass over Lakeside at 09:00 on `day`, the app's clock moved there."""
    clock.now = local(day)
    return await run_dunning(state.session_factory, None, project_id=world.ids["Project:lakeside"], now=clock(), **options)


async def relay_dunning(state: AppState, *only: NotificationChannel, channels: Channels | None = None) -> RelayReport:
    """A relay pass at the app's clock that re-checks dunning messages before sending them."""
    return await relay(state, (channels or Channels()).senders(*only), still_wanted=STILL_WANTED)


async def messages(state: AppState) -> list[Message]:
    async with state.session_factory() as session:
        return list((await session.scalars(select(Message).order_by(Message.id))).all())


async def notices(state: AppState) -> list[DunningNotice]:
    async with state.session_factory() as session:
        return list((await session.scalars(select(DunningNotice).order_by(DunningNotice.id))).all())
