"""The background worker: SLA warnings and breaches, escalation, paused clocks, several workers at once.
Time moves by the injected clock; nothing sleeps."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from api.state import AppState
from api.workers import DispatchWorker
from db.models import SlaEmission, Ticket, TicketEvent
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, submit, transition
from tests.integration.test_submit_ticket import RecordingPublisher
from tests.integration.world import World


def _worker(state: AppState, clock: Clock, publisher: RecordingPublisher | None = None) -> DispatchWorker:
    return DispatchWorker(state.session_factory, clock=clock, publisher=publisher)


async def _events(state: AppState) -> list[tuple[int, str, dict[str, Any]]]:
    async with state.session_factory() as session:
        rows = await session.execute(
            select(TicketEvent.seq, TicketEvent.type, TicketEvent.payload).order_by(TicketEvent.seq)
        )
        return [(seq, kind.value, payload) for seq, kind, payload in rows]


async def _leak(client: httpx.AsyncClient, world: World) -> dict[str, Any]:
    # HIGH: respond within 20 minutes (warning at 16), on site within 2 hours
    ticket = await submit(client, world.token("alice"), unitId=world.gid("Unit:alice"), description="卫生间漏水")
    assert (ticket["priority"], ticket["assignee"]["name"]) == ("HIGH", "陈师傅")
    return ticket


async def test_an_unanswered_assignment_warns_then_breaches_and_goes_to_another_technician(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    # given
    world = await build_dispatch_world(state)
    await _leak(client, world)
    publisher = RecordingPublisher()
    worker = _worker(state, clock, publisher)
    # when nothing is due yet
    clock.advance(minutes=15, seconds=59)
    assert (await worker.run_once()).sla_events == 0
    # then at 80 % of the respond time a warning, once
    clock.advance(seconds=1)
    first = await worker.run_once()
    again = await worker.run_once()
    assert (first.sla_events, again.sla_events) == (1, 0)
    # and at 100 % the breach, the escalation and a new technician (never the silent one)
    clock.advance(minutes=4)
    breached = await worker.run_once()
    assert (breached.sla_events, breached.escalations) == (1, 1)
    events = await _events(state)
    assert [(seq, kind) for seq, kind, _ in events] == [
        (1, "SUBMITTED"),
        (2, "ASSIGNED"),
        (3, "SLA_WARNING"),
        (4, "SLA_BREACHED"),
        (5, "ESCALATED"),
        (6, "ASSIGNED"),
    ]
    assert events[2][2] == {"target": "RESPOND", "dueAt": "2026-11-02T09:16:00+00:00"}
    assert events[3][2] == {"target": "RESPOND", "dueAt": "2026-11-02T09:20:00+00:00"}
    assert events[5][2]["technician"] == world.ids["Technician:far"]
    async with state.session_factory() as session:
        ticket = (await session.scalars(select(Ticket))).one()
        assert (ticket.status, ticket.assignee_id, ticket.avoided_technician_id, ticket.sla_breached) == (
            "ASSIGNED",
            world.ids["Technician:far"],
            world.ids["Technician:a"],
            True,
        )
        assert len((await session.scalars(select(SlaEmission))).all()) == 2
    lake = world.ids["Project:lakeside"]
    assert [channel for channel, message in publisher.messages if '"seq":5' in message] == [
        f"ticket:{ticket.id}",
        f"board:{lake}",
        f"technician:{world.ids['Technician:a']}",
    ]
    # the new technician gets a full respond time of their own before the next escalation
    clock.advance(minutes=19)
    assert (await worker.run_once()).escalations == 0
    clock.advance(minutes=1)
    assert (await worker.run_once()).escalations == 1


async def test_an_accepted_ticket_is_not_escalated_and_its_later_promises_still_warn(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    clock.advance(minutes=5)
    await transition(client, world.token("tech_a"), ticket["id"], "ACCEPT")
    worker = _worker(state, clock)
    clock.advance(minutes=91)  # 96 min: 80 % of the 2-hour on-site promise
    report = await worker.run_once()
    assert (report.sla_events, report.escalations) == (1, 0)
    assert [(kind, payload.get("target")) for _, kind, payload in await _events(state)][-1] == (
        "SLA_WARNING",
        "ON_SITE",
    )


async def test_waiting_for_the_owner_stops_the_clock(client: httpx.AsyncClient, state: AppState, clock: Clock) -> None:
    world = await build_dispatch_world(state)
    ticket = await _leak(client, world)
    tech = world.token("tech_a")
    await transition(client, tech, ticket["id"], "ACCEPT")
    await transition(
        client, tech, ticket["id"], "CHECK_IN", details={"location": {"latitude": 30.27, "longitude": 120.15}}
    )
    await transition(client, tech, ticket["id"], "WAIT_FOR_OWNER", note="业主出差")
    worker = _worker(state, clock)
    clock.advance(days=3)
    assert (await worker.run_once()).sla_events == 0
    resumed = await transition(client, world.token("tech_a"), ticket["id"], "RESUME")
    assert resumed["data"]["transitionTicket"]["status"] == "ON_SITE"
    # 8 h to resolve, of which 3 days paused do not count: at 09:00 + 3 days + 6 h 24 min the warning falls due
    clock.advance(hours=6, minutes=23)
    assert (await worker.run_once()).sla_events == 0
    clock.advance(minutes=1)
    assert (await worker.run_once()).sla_events == 1


async def test_two_workers_at_once_emit_each_event_exactly_once(
    client: httpx.AsyncClient, state: AppState, clock: Clock
) -> None:
    world = await build_dispatch_world(state)
    await _leak(client, world)
    for _ in range(2):
        await submit(client, world.token("bob"), unitId=world.gid("Unit:bob"), description="空调不制冷")
    clock.advance(minutes=25)
    reports = await asyncio.gather(_worker(state, clock).run_once(), _worker(state, clock).run_once())
    events = await _events(state)
    kinds = [kind for _, kind, _ in events]
    # the leak breached and escalated; the two air-con jobs (NORMAL, 30 min) warned
    assert (kinds.count("SLA_WARNING"), kinds.count("SLA_BREACHED"), kinds.count("ESCALATED")) == (2, 1, 1)
    assert [seq for seq, _, _ in events] == list(range(1, len(events) + 1))
    assert sum(report.sla_events for report in reports) == 3
