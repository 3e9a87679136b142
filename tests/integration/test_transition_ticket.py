"""transitionTicket: guarded lifecycle steps per role, optimistic locking, re-dispatch on REJECT and REOPEN."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from api.state import AppState
from db.models import Technician, Ticket, TicketEvent
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, submit, transition
from tests.integration.world import World, count_rows, error_codes, statements_run


async def _leak(client: httpx.AsyncClient, world: World) -> dict:
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    assert (ticket["status"], ticket["assignee"]["name"]) == ("ASSIGNED", "陈师傅")
    return ticket


def _ticket(result: dict) -> dict:
    assert "errors" not in result, result
    return result["data"]["transitionTicket"]  # type: ignore[no-any-return]


async def test_a_stale_version_is_a_conflict_and_changes_nothing(client: httpx.AsyncClient, state: AppState) -> None:
    # given a ticket at version 1 that the technician accepts (version 2)
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    accepted = _ticket(await transition(client, world.token("tech_a"), ticket["id"], "ACCEPT", version=1))
    assert (accepted["status"], accepted["version"]) == ("ACCEPTED", 2)
    # when the owner cancels with the version she saw before
    stale = _ticket(await transition(client, world.token("alice"), ticket["id"], "CANCEL", version=1))
    # then
    assert (stale["code"], stale["field"]) == ("CONFLICT", "expectedVersion")
    async with state.session_factory() as session:
        row = (await session.scalars(select(Ticket))).one()
        assert (row.status, row.version) == ("ACCEPTED", 2)
        assert await count_rows(session, TicketEvent) == 3


async def test_an_action_for_another_role_is_forbidden_and_names_the_allowed_ones(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    result = await transition(client, world.token("alice"), ticket["id"], "ACCEPT")
    assert error_codes(result) == ["FORBIDDEN"]
    assert result["errors"][0]["message"] == (
        "Only the assigned technician may ACCEPT a ticket that is ASSIGNED; allowed: CANCEL."
    )


async def test_an_action_the_status_rules_out_is_a_conflict_naming_the_allowed_ones(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    result = _ticket(await transition(client, world.token("tech_a"), ticket["id"], "START"))
    assert (result["code"], result["field"]) == ("CONFLICT", "action")
    assert result["message"] == "START is not possible while the ticket is ASSIGNED; allowed: ACCEPT, REJECT."


async def test_someone_elses_ticket_is_not_found(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    for user in ("bob", "tech_far", "admin_b"):
        result = _ticket(await transition(client, world.token(user), ticket["id"], "CANCEL"))
        assert (result["code"], result["field"]) == ("NOT_FOUND", "ticketId"), user
    anonymous = await transition(client, "", ticket["id"], "CANCEL")
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_a_rejected_ticket_goes_to_another_technician_and_never_back_to_the_one_who_rejected(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    clock.advance(minutes=3)
    without_reason = _ticket(await transition(client, world.token("tech_a"), ticket["id"], "REJECT"))
    assert (without_reason["code"], without_reason["field"]) == ("BAD_USER_INPUT", "note")
    rejected = _ticket(await transition(client, world.token("tech_a"), ticket["id"], "REJECT", note="没有配件"))
    assert (rejected["status"], rejected["assignee"]["name"]) == ("ASSIGNED", "周师傅")
    async with state.session_factory() as session:
        events = (await session.execute(select(TicketEvent.type, TicketEvent.payload).order_by(TicketEvent.seq))).all()
        assert [kind for kind, _ in events] == ["SUBMITTED", "ASSIGNED", "REJECTED", "ASSIGNED"]
        assert events[2][1] == {
            "action": "REJECT",
            "from": "ASSIGNED",
            "to": "NEW",
            "releasedTechnician": world.ids["Technician:a"],
            "note": "没有配件",
        }
    # the technician who rejected it no longer sees it
    gone = _ticket(await transition(client, world.token("tech_a"), ticket["id"], "ACCEPT"))
    assert gone["code"] == "NOT_FOUND"


async def test_check_in_moves_the_technician_and_waiting_for_the_owner_stops_the_clock(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    tech = world.token("tech_a")
    version = _ticket(await transition(client, tech, ticket["id"], "ACCEPT"))["version"]
    no_location = _ticket(await transition(client, tech, ticket["id"], "CHECK_IN"))
    assert (no_location["code"], no_location["field"]) == ("BAD_USER_INPUT", "location")
    on_site = _ticket(
        await transition(
            client,
            tech,
            ticket["id"],
            "CHECK_IN",
            version=version,
            details={"location": {"latitude": 30.2701, "longitude": 120.1502}},
        )
    )
    assert on_site["status"] == "ON_SITE"
    clock.advance(minutes=10)
    waiting = _ticket(await transition(client, tech, ticket["id"], "WAIT_FOR_OWNER", note="业主不在家"))
    assert waiting["status"] == "WAITING_FOR_OWNER"
    clock.advance(minutes=90)
    resumed = _ticket(await transition(client, tech, ticket["id"], "RESUME"))
    # HIGH: resolve within 8 h of 09:00, plus the 90 minutes spent waiting
    assert (resumed["status"], resumed["resolveDueAt"]) == ("ON_SITE", "2026-11-02T18:30:00+00:00")
    async with state.session_factory() as session:
        technician = await session.get(Technician, world.ids["Technician:a"])
        assert (technician.current_latitude, technician.current_longitude) == (30.2701, 120.1502)
        row = (await session.scalars(select(Ticket))).one()
        assert (row.paused_seconds, row.paused_since) == (5400, None)


async def test_the_owner_confirms_with_a_rating_or_reopens_for_the_same_technician(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    tech, alice = world.token("tech_a"), world.token("alice")
    first, second = await _leak(client, world), await _leak(client, world)
    for ticket in (first, second):
        _ticket(await transition(client, tech, ticket["id"], "ACCEPT"))
        _ticket(
            await transition(
                client, tech, ticket["id"], "CHECK_IN", details={"location": {"latitude": 30.27, "longitude": 120.15}}
            )
        )
        _ticket(await transition(client, tech, ticket["id"], "START"))
        resolved = _ticket(await transition(client, tech, ticket["id"], "RESOLVE", note="更换了密封圈"))
        assert (resolved["status"], resolved["allowedActions"]) == ("RESOLVED", [])
    bad_rating = _ticket(await transition(client, alice, first["id"], "CONFIRM", details={"rating": 6}))
    assert (bad_rating["code"], bad_rating["field"]) == ("BAD_USER_INPUT", "rating")
    closed = _ticket(
        await transition(client, alice, first["id"], "CONFIRM", details={"rating": 5, "comment": "很及时"})
    )
    assert closed["status"] == "CLOSED"
    reopened = _ticket(await transition(client, alice, second["id"], "REOPEN", note="还在滴水"))
    assert (reopened["status"], reopened["assignee"]["name"]) == ("ASSIGNED", "陈师傅")
    async with state.session_factory() as session:
        rows = {row.id: row for row in (await session.scalars(select(Ticket))).all()}
    closed_row = rows[min(rows)]
    assert (closed_row.rating, closed_row.rating_comment, closed_row.assignee_id) == (
        5,
        "很及时",
        world.ids["Technician:a"],
    )


async def test_the_owner_may_cancel_only_before_the_technician_is_on_site(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    early, late = await _leak(client, world), await _leak(client, world)
    cancelled = _ticket(await transition(client, world.token("alice"), early["id"], "CANCEL", note="自己修好了"))
    assert (cancelled["status"], cancelled["slaState"], cancelled["allowedActions"]) == ("CANCELLED", "OK", [])
    tech = world.token("tech_a")
    _ticket(await transition(client, tech, late["id"], "ACCEPT"))
    _ticket(
        await transition(
            client, tech, late["id"], "CHECK_IN", details={"location": {"latitude": 30.27, "longitude": 120.15}}
        )
    )
    refused = await transition(client, world.token("alice"), late["id"], "CANCEL")
    assert error_codes(refused) == ["FORBIDDEN"]
    assert "allowed: " not in refused["errors"][0]["message"]
    by_dispatcher = _ticket(
        await transition(client, world.token("dispatcher_a"), late["id"], "CANCEL", note="重复报修")
    )
    assert by_dispatcher["status"] == "CANCELLED"


async def test_two_people_acting_at_once_on_one_version_one_wins_and_the_other_gets_a_conflict(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    accept, cancel = await asyncio.gather(
        transition(client, world.token("tech_a"), ticket["id"], "ACCEPT", version=1),
        transition(client, world.token("alice"), ticket["id"], "CANCEL", version=1),
    )
    outcomes = sorted(
        [
            _ticket(accept).get("status") or _ticket(accept)["code"],
            _ticket(cancel).get("status") or _ticket(cancel)["code"],
        ]
    )
    assert outcomes in (["ACCEPTED", "CONFLICT"], ["CANCELLED", "CONFLICT"])
    async with state.session_factory() as session:
        row = (await session.scalars(select(Ticket))).one()
        assert row.version == 2
        assert await count_rows(session, TicketEvent) == 3


async def test_a_transition_loads_the_caller_in_one_statement_and_updates_the_ticket_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    with statements_run(state.engine) as statements:
        accepted = _ticket(await transition(client, world.token("tech_a"), ticket["id"], "ACCEPT", version=1))
    assert (accepted["status"], accepted["version"]) == ("ACCEPTED", 2)
    # the status and the SLA columns settled from the history go out together
    (update,) = [s for s in statements if s.startswith("UPDATE ticket ")]
    assert "status=" in update and "sla_check_at=" in update
    # the technician's user row and role grants in one statement (no occupancies: no party)
    assert sum("FROM app_user" in s for s in statements) == 1
    assert not any("FROM occupancy" in s for s in statements)
