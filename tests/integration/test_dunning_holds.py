"""What holds dunning back, on both databases: a disputed bill, an owner on a payment plan; both also
withdraw a notice already queued, and dunning resumes once they end."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from api.state import AppState
from billing.dunning.holds import set_bill_dispute, set_payment_plan
from kernel.errors import BadInput, Conflict, NotFound
from kernel.vocabulary import MessageStatus, NotificationChannel
from tests.conftest import Clock
from tests.integration.billing_world import books_balance  # noqa: F401  (the books balance after every test)
from tests.integration.dunning_world import DUE, dun, dunning_world, finance, local, messages, relay_dunning
from tests.integration.world import World, gql

IN_APP = NotificationChannel.IN_APP
BILLS = "query ($unit: ID!) { bills(filter: {unitId: $unit}) { edges { node { id } } } }"


@pytest.fixture
async def world(state: AppState, client: httpx.AsyncClient) -> World:
    return await dunning_world(state, client)


def day(offset: int) -> dt.date:
    return DUE + dt.timedelta(days=offset)


async def bill_of(client: httpx.AsyncClient, world: World, owner: str) -> int:
    answer = await gql(client, BILLS, {"unit": world.gid(f"Unit:{owner}")}, token=world.token("finance_a"))
    (edge,) = answer["data"]["bills"]["edges"]
    from strawberry import relay

    return int(relay.GlobalID.from_id(edge["node"]["id"]).node_id)


async def test_a_disputed_bill_is_not_chased_until_the_dispute_is_resolved(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    # given overdue notices queued for both owners
    await dun(state, world, clock, day(3))
    alice_bill = await bill_of(client, world, "alice")
    # when alice disputes her bill before the relay sends
    dispute = await set_bill_dispute(
        state.session_factory, finance(world), bill_id=alice_bill, disputed=True, reason="面积有误，已申请复核", now=clock()
    )
    await relay_dunning(state, IN_APP)
    # then her notice is withdrawn, bob's delivered, and the next passes leave her bill alone
    assert dispute.resolved_at is None and dispute.reason == "面积有误，已申请复核"
    assert [(m.party_id, m.status) for m in await messages(state)] == [
        (world.ids["Party:bob"], MessageStatus.DELIVERED),
        (world.ids["Party:alice"], MessageStatus.CANCELLED),
    ]
    held = await dun(state, world, clock, day(16))
    assert [n.decision.party_id for n in held.notices] == [world.ids["Party:bob"]] and held.held == 1
    # when the dispute is resolved, the next pass chases her bill again from the firmest level met
    await set_bill_dispute(
        state.session_factory, finance(world), bill_id=alice_bill, disputed=False, reason="复核无误", now=clock()
    )
    resumed = await dun(state, world, clock, day(17))
    assert [(n.decision.party_id, n.decision.level.code) for n in resumed.notices] == [(world.ids["Party:alice"], "T+15")]


async def test_an_owner_on_a_payment_plan_is_held_until_it_ends(
    state: AppState, world: World, clock: Clock
) -> None:
    # given overdue notices queued for both owners
    await dun(state, world, clock, day(3))
    # when bob agrees a plan to pay by the end of the year
    plan = await set_payment_plan(
        state.session_factory, finance(world), party_id=world.ids["Party:bob"], ends_on=dt.date(2026, 12, 31),
        note="分三期缴清", now=clock(),
    )
    await relay_dunning(state, IN_APP)
    # then his queued notice is withdrawn and passes hold him
    assert (plan.starts_on, plan.ends_on) == (day(3), dt.date(2026, 12, 31))
    assert [(m.party_id, m.status) for m in await messages(state)] == [
        (world.ids["Party:bob"], MessageStatus.CANCELLED),
        (world.ids["Party:alice"], MessageStatus.DELIVERED),
    ]
    held = await dun(state, world, clock, day(15))
    assert [n.decision.party_id for n in held.notices] == [world.ids["Party:alice"]] and held.held == 1
    # when the plan is ended early, he is chased again
    await set_payment_plan(state.session_factory, finance(world), party_id=world.ids["Party:bob"], ends_on=None, note=None, now=clock())
    resumed = await dun(state, world, clock, day(16))
    assert [(n.decision.party_id, n.decision.level.code) for n in resumed.notices] == [(world.ids["Party:bob"], "T+15")]
    # and a plan that ran out holds nobody
    clock.now = local(day(16))
    await set_payment_plan(
        state.session_factory, finance(world), party_id=world.ids["Party:bob"], ends_on=day(20), note="宽限", now=clock()
    )
    assert (await dun(state, world, clock, day(21))).held == 0


async def test_disputes_and_plans_refuse_what_they_cannot_take(
    state: AppState, world: World, clock: Clock, client: httpx.AsyncClient
) -> None:
    sessions, desk = state.session_factory, finance(world)
    alice_bill = await bill_of(client, world, "alice")
    with pytest.raises(BadInput) as no_reason:
        await set_bill_dispute(sessions, desk, bill_id=alice_bill, disputed=True, reason=" ", now=clock())
    assert no_reason.value.field == "reason"
    with pytest.raises(Conflict):
        await set_bill_dispute(sessions, desk, bill_id=alice_bill, disputed=False, reason=None, now=clock())
    with pytest.raises(NotFound):
        await set_bill_dispute(sessions, desk, bill_id=alice_bill + 1000, disputed=True, reason="x", now=clock())
    with pytest.raises(BadInput) as past:
        await set_payment_plan(sessions, desk, party_id=world.ids["Party:alice"], ends_on=dt.date(2026, 11, 1), note="x", now=clock())
    assert past.value.field == "endsOn"
    with pytest.raises(BadInput) as no_note:
        await set_payment_plan(sessions, desk, party_id=world.ids["Party:alice"], ends_on=dt.date(2027, 1, 31), note="", now=clock())
    assert no_note.value.field == "note"
    with pytest.raises(NotFound):
        await set_payment_plan(sessions, desk, party_id=world.ids["Party:carol"], ends_on=dt.date(2027, 1, 31), note="x", now=clock())
    with pytest.raises(Conflict):
        await set_payment_plan(sessions, desk, party_id=world.ids["Party:alice"], ends_on=None, note=None, now=clock())
    # disputing twice answers the open dispute as it is
    first = await set_bill_dispute(sessions, desk, bill_id=alice_bill, disputed=True, reason="金额不符", now=clock())
    second = await set_bill_dispute(sessions, desk, bill_id=alice_bill, disputed=True, reason="again", now=clock())
    assert (second.id, second.reason) == (first.id, "金额不符")
