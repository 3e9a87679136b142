"""Arrears and repairs on both databases: with the project's rule on, an owner whose overdue amount is
above the threshold has non-urgent repairs in their unit refused, with the amount and how to pay; urgent
ones always go through, and the refusal lifts the moment a payment brings the arrears under it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.state import AppState
from billing.dunning.policies import set_dunning_settings
from db.models import Ticket
from tests.conftest import Clock
from tests.integration.billing_world import books_balance, pay  # noqa: F401  (the books balance after every test)
from tests.integration.dunning_world import DUE, dunning_world, finance, local
from tests.integration.world import World, count_rows, gql

SUBMIT = """
mutation ($input: SubmitTicketInput!) {
  submitTicket(input: $input) {
    __typename
    ... on Ticket { id category priority }
    ... on InArrearsError { code message field amountOverdue threshold howToPay notice }
    ... on Error { code message field }
  }
}"""
NOT_URGENT = "卧室门锁坏了，钥匙插不进去"


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await dunning_world(state, client)


async def hold_repairs_above(state: AppState, world: World, clock: Clock, threshold: str) -> None:
    await set_dunning_settings(
        state.session_factory, finance(world), project_id=world.ids["Project:lakeside"], now=clock(),
        repair_block_threshold=Decimal(threshold), payment_instructions="请在“湖畔生活”小程序【缴费】页或物业服务中心（1栋大堂）缴纳。",
    )


async def report(client: httpx.AsyncClient, world: World, description: str, *, by: str = "alice", **extra: Any) -> dict[str, Any]:
    fields = {"unitId": world.gid("Unit:alice"), "description": description, **extra}
    answer = await gql(client, SUBMIT, {"input": fields}, token=world.token(by))
    assert "errors" not in answer, answer
    return answer["data"]["submitTicket"]  # type: ignore[no-any-return]


async def tickets(state: AppState) -> int:
    async with state.session_factory() as session:
        return await count_rows(session, Ticket)


async def test_an_owner_in_arrears_above_the_threshold_is_told_what_to_pay_and_how(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    # given the rule on at 200.00, and alice's 247.80 three days overdue
    await hold_repairs_above(state, world, clock, "200.00")
    clock.now = local(DUE + dt.timedelta(days=3))
    # when she reports a broken lock
    refused = await report(client, world, NOT_URGENT)
    # then it is refused with the amount, the threshold and how to pay, in her project's language
    assert refused == {
        "__typename": "InArrearsError",
        "code": "IN_ARREARS",
        "message": "Non-urgent repairs wait while 247.80 is overdue (above 200.00).",
        "field": "unitId",
        "amountOverdue": "247.80",
        "threshold": "200.00",
        "howToPay": "请在“湖畔生活”小程序【缴费】页或物业服务中心（1栋大堂）缴纳。",
        "notice": (
            "您有逾期未缴的物业费¥247.80（超过¥200.00），非紧急报修暂缓受理。"
            "请在“湖畔生活”小程序【缴费】页或物业服务中心（1栋大堂）缴纳。缴费后即可报修；"
            "漏水、停电、燃气、电梯、消防等紧急报修不受影响。"
        ),
    }
    assert await tickets(state) == 0
    # and a dispatcher taking her call gets the same answer
    by_phone = await report(client, world, NOT_URGENT, by="dispatcher_a", reporterPartyId=world.gid("Party:alice"))
    assert by_phone["__typename"] == "InArrearsError"


@pytest.mark.parametrize(
    "description",
    ["厨房水管漏水了，地上全是水", "家里突然停电了", "厨房有燃气味", "电梯困人了", "烟感报警器一直响", "Water is leaking through the ceiling"],
)
async def test_urgent_repairs_always_go_through(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient, description: str
) -> None:
    await hold_repairs_above(state, world, clock, "200.00")
    clock.now = local(DUE + dt.timedelta(days=3))
    assert (await report(client, world, description))["__typename"] == "Ticket"


async def test_the_refusal_lifts_the_moment_a_payment_brings_the_arrears_under_the_threshold(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    await hold_repairs_above(state, world, clock, "200.00")
    clock.now = local(DUE + dt.timedelta(days=3))
    assert (await report(client, world, NOT_URGENT))["__typename"] == "InArrearsError"
    # 247.80 + 0.37 late fee − 100.00 = 148.17 left, under 200.00
    await pay(client, world, "alice", "100.00", "alice-part")
    assert (await report(client, world, NOT_URGENT))["__typename"] == "Ticket"


async def test_repairs_are_not_held_when_the_rule_is_off_nothing_is_overdue_or_the_fault_is_in_a_common_area(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    clock.now = local(DUE + dt.timedelta(days=3))
    assert (await report(client, world, NOT_URGENT))["__typename"] == "Ticket"  # off by default
    await hold_repairs_above(state, world, clock, "200.00")
    lobby = await report(
        client, world, "大堂的灯不亮", unitId=None, projectId=world.gid("Project:lakeside"), locationKind="LOBBY"
    )
    assert lobby["__typename"] == "Ticket"
    clock.now = local(DUE)  # due today, not overdue yet
    assert (await report(client, world, NOT_URGENT))["__typename"] == "Ticket"
