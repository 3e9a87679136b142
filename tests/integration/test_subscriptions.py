"""Live subscriptions over real websockets (both protocols): who may follow what, replay, hand-over, expiry."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from api.eventbus import EventBus
from api.state import AppState
from db.models import TicketEvent
from dispatch import unit_of_work
from dispatch.journal import PublishedNotice, publish_after_commit
from dispatch.live import Follow, LiveEvent, LiveFeed
from kernel.errors import Conflict
from kernel.vocabulary import TicketEventType
from schema import live
from schema.ids import decode_id
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, submit, transition
from tests.integration.live_client import (
    DISPATCH_BOARD,
    LEGACY_WS,
    MY_ASSIGNMENTS,
    TICKET_UPDATES,
    TRANSPORT_WS,
    following,
    live_socket,
)
from tests.integration.live_world import append_event
from tests.integration.world import World, gql, statements_run

ASSIGN = """mutation($t: ID!, $tech: ID!) { assignTicket(ticketId: $t, technicianId: $tech) {
  __typename ... on Ticket { status version } ... on Error { code } } }"""
HERE = {"location": {"latitude": 30.27, "longitude": 120.15}}


@pytest.fixture
async def world(state: AppState) -> World:
    return await build_dispatch_world(state)


async def _alice_reports(socket_or_client: Any, world: World) -> dict[str, Any]:
    """Alice reports a leak in her flat; plumbing, so auto-dispatch hands it to 陈师傅 (tech_a)."""
    http = getattr(socket_or_client, "http", socket_or_client)
    return await submit(
        http, world.token("alice"), description="厨房水龙头漏水 kitchen tap leaking", unitId=world.gid("Unit:alice")
    )


async def _logged(state: AppState, *, ticket: str | None = None, project: int | None = None) -> list[tuple[int, str]]:
    """(seq, type) of the logged events of one ticket (by global ID) or one project, in seq order."""
    statement = select(TicketEvent.seq, TicketEvent.type).order_by(TicketEvent.seq)
    if ticket is not None:
        statement = statement.where(TicketEvent.ticket_id == decode_id(ticket, "Ticket", field="ticket"))
    if project is not None:
        statement = statement.where(TicketEvent.project_id == project)
    async with state.session_factory() as session:
        return [(seq, kind.value) for seq, kind in (await session.execute(statement)).all()]


def _seen(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(event["seq"], event["type"]) for event in events]


# --- following a repair from submission to closing ---


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_the_owner_watches_each_step_of_her_repair_live(
    app: Starlette, state: AppState, world: World, protocol: str
) -> None:
    async with live_socket(app, world.token("alice"), protocol) as alice:
        ticket = await _alice_reports(alice, world)
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        submitted = await alice.events(2)

        tech = world.token("tech_a")
        # Each event carries the ticket as it is when it reaches her: wait for it before the next step,
        # or a slow delivery shows a later status (on a loaded machine, STARTED arrived as RESOLVED).
        live = []
        for action, extra in (("ACCEPT", {}), ("CHECK_IN", {"details": HERE}), ("START", {}), ("RESOLVE", {"note": "换了阀芯"})):
            await transition(alice.http, tech, ticket["id"], action, **extra)
            live.append(await alice.event())
        await transition(alice.http, world.token("alice"), ticket["id"], "CONFIRM", details={"rating": 5})
        closed = await alice.event()

        assert _seen(submitted + live + [closed]) == await _logged(state, ticket=ticket["id"])
        assert [e["type"] for e in submitted + live + [closed]] == [
            "SUBMITTED",
            "ASSIGNED",
            "ACCEPTED",
            "CHECKED_IN",
            "STARTED",
            "RESOLVED",
            "CLOSED",
        ]
        assert [e["ticket"]["status"] for e in live] == ["ACCEPTED", "ON_SITE", "IN_PROGRESS", "RESOLVED"]
        assert closed["ticket"]["status"] == "CLOSED" and closed["actorRole"] == "OWNER"
        assert live[0]["ticket"]["assignee"] == {"name": "陈师傅"} and live[0]["actorRole"] == "TECHNICIAN"
        assert await alice.quiet()


async def test_a_live_event_shows_the_assignee_the_feed_read_with_it(
    app: Starlette, state: AppState, world: World
) -> None:
    async with live_socket(app, world.token("alice"), TRANSPORT_WS) as alice:
        ticket = await _alice_reports(alice, world)
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        await alice.events(2)
        # an event written and announced as the services do, so only its delivery runs statements
        ticket_id = decode_id(ticket["id"], "Ticket", field="ticket")
        notice = await append_event(state.session_factory, ticket_id, TicketEventType.COMMENTED)
        with statements_run(state.engine) as statements:
            await publish_after_commit(state.services.publisher, [PublishedNotice(notice)])
            commented = await alice.event()

    assert (commented["type"], commented["ticket"]["assignee"]) == ("COMMENTED", {"name": "陈师傅"})
    assert [s for s in statements if "FROM ticket_event" in s and "LEFT OUTER JOIN technician" in s]
    assert not [s for s in statements if s.startswith("SELECT technician.")]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_the_board_shows_every_ticket_of_its_project_and_nothing_else(
    app: Starlette, state: AppState, world: World, protocol: str
) -> None:
    async with live_socket(app, world.token("dispatcher_a"), protocol) as board:
        await board.subscribe(DISPATCH_BOARD, {"p": world.gid("Project:lakeside")})
        await following(state, f"board:{world.ids['Project:lakeside']}")
        await submit(board.http, world.token("carol"), description="空调不制冷", unitId=world.gid("Unit:carol"))
        alice = await _alice_reports(board, world)
        bob = await submit(board.http, world.token("bob"), description="卫生间有个东西坏了", unitId=world.gid("Unit:bob"))

        seen = await board.events(3)

        # bob's vague report waits in TRIAGE for a dispatcher; carol's is in another project
        assert [(e["ticketId"], e["type"], e["ticket"]["status"]) for e in seen] == [
            (alice["id"], "SUBMITTED", "ASSIGNED"),
            (alice["id"], "ASSIGNED", "ASSIGNED"),
            (bob["id"], "SUBMITTED", "TRIAGE"),
        ]
        assert _seen(seen) == await _logged(state, project=world.ids["Project:lakeside"])
        assert await board.quiet()


async def test_a_technician_hears_of_new_work_of_losing_it_and_of_owners_acting(
    app: Starlette, state: AppState, world: World
) -> None:
    async with live_socket(app, world.token("tech_a"), LEGACY_WS) as tech:
        await tech.subscribe(MY_ASSIGNMENTS, {})
        await following(state, f"technician:{world.ids['Technician:a']}")
        first = await _alice_reports(tech, world)
        assigned = await tech.event()
        await transition(tech.http, world.token("tech_a"), first["id"], "ACCEPT")  # their own doing: not news
        await gql(
            tech.http,
            ASSIGN,
            {"t": first["id"], "tech": world.gid("Technician:far")},
            token=world.token("dispatcher_a"),
        )
        taken = await tech.event()

        second = await _alice_reports(tech, world)
        await tech.event()
        for action, details in (("ACCEPT", None), ("CHECK_IN", HERE), ("START", None)):
            await transition(tech.http, world.token("tech_a"), second["id"], action, details=details)
        await transition(tech.http, world.token("tech_a"), second["id"], "RESOLVE", note="换了阀芯")
        await transition(tech.http, world.token("alice"), second["id"], "REOPEN", note="还在漏")
        reopened = await tech.event()
        # auto-dispatch hands a reopened ticket back to the technician who had it
        handed_back = await tech.event()

        assert (assigned["type"], assigned["ticket"]["status"], assigned["ticket"]["assignee"]) == (
            "ASSIGNED",
            "ASSIGNED",
            {"name": "陈师傅"},
        )
        # once reassigned, the ticket is no longer theirs to see
        assert (taken["type"], taken["ticketId"], taken["ticket"]) == ("REASSIGNED", first["id"], None)
        assert (reopened["type"], reopened["actorRole"]) == ("REOPENED", "OWNER")
        assert (handed_back["type"], handed_back["ticketId"], handed_back["ticket"]["assignee"]) == (
            "ASSIGNED",
            second["id"],
            {"name": "陈师傅"},
        )
        assert await tech.quiet()


# --- refusals ---


async def _refusal(
    app: Starlette, token: str | None, protocol: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    async with live_socket(app, token, protocol) as socket:
        await socket.subscribe(query, variables)
        message = await socket.message()
        assert await socket.quiet(0.05)
        return message


def _codes(message: dict[str, Any]) -> list[str]:
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
    return [error["extensions"]["code"] for error in errors]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_an_owner_cannot_follow_someone_elses_ticket(app: Starlette, world: World, protocol: str) -> None:
    async with live_socket(app, world.token("alice")) as alice:
        ticket = await _alice_reports(alice, world)

    message = await _refusal(app, world.token("bob"), protocol, TICKET_UPDATES, {"t": ticket["id"], "after": 0})

    assert message["type"] == "error"
    assert _codes(message) == ["NOT_FOUND"]


REFUSALS = [
    # (who, subscription, variables, the error's code)
    (None, TICKET_UPDATES, {"t": "VGlja2V0OjE="}, "UNAUTHENTICATED"),
    ("alice", DISPATCH_BOARD, {"p": "lakeside"}, "FORBIDDEN"),
    ("finance_a", DISPATCH_BOARD, {"p": "lakeside"}, "FORBIDDEN"),
    ("admin_b", DISPATCH_BOARD, {"p": "lakeside"}, "NOT_FOUND"),
    ("dispatcher_a", MY_ASSIGNMENTS, {}, "FORBIDDEN"),
    ("alice", TICKET_UPDATES, {"t": "not-an-id"}, "NOT_FOUND"),
]


async def test_subscriptions_refuse_whoever_may_not_follow(app: Starlette, world: World) -> None:
    outcomes = []
    for user, query, variables, _ in REFUSALS:
        resolved = {k: world.gid("Project:lakeside") if v == "lakeside" else v for k, v in variables.items()}
        message = await _refusal(app, world.token(user) if user else None, TRANSPORT_WS, query, resolved)
        outcomes.append((message["type"], *_codes(message)))

    assert outcomes == [("error", code) for *_, code in REFUSALS]


async def test_an_expired_token_ends_the_subscription(app: Starlette, world: World, clock: Clock) -> None:
    async with live_socket(app, world.token("alice")) as alice:
        ticket = await _alice_reports(alice, world)
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        await alice.events(2)
        clock.advance(hours=13)  # tokens live 12 hours

        await transition(alice.http, world.token("tech_a"), ticket["id"], "ACCEPT")
        ended = await alice.message()
        completed = await alice.message()

    assert (ended["type"], _codes(ended), ended["payload"]["data"]) == ("next", ["UNAUTHENTICATED"], None)
    assert completed == {"id": "1", "type": "complete"}


# --- replay and the hand-over to live ---


async def test_after_seq_replays_what_was_missed_then_continues_live(
    app: Starlette, state: AppState, world: World
) -> None:
    async with live_socket(app, world.token("dispatcher_a")) as board:
        first = await _alice_reports(board, world)
        await transition(board.http, world.token("tech_a"), first["id"], "ACCEPT")
        await board.subscribe(DISPATCH_BOARD, {"p": world.gid("Project:lakeside"), "after": 1})

        replayed = await board.events(2)
        second = await _alice_reports(board, world)
        live = await board.events(2)

        assert _seen(replayed) == [(2, "ASSIGNED"), (3, "ACCEPTED")]
        assert [(e["seq"], e["ticketId"]) for e in live] == [(4, second["id"]), (5, second["id"])]
        assert await board.quiet()


async def test_an_event_committed_while_the_subscriber_replays_arrives_exactly_once(
    app: Starlette, state: AppState, world: World
) -> None:
    # given: a feed whose replay lets another client change the ticket between reading and going live
    bus = state.services.publisher
    changes: list[str] = []

    class Interleaving(LiveFeed):
        async def _replay(self, follow: Follow, after_seq: int) -> AsyncIterator[LiveEvent]:
            async for event in super()._replay(follow, after_seq):
                yield event
            if not changes:
                changes.append("accepted while replaying")
                await transition(http, world.token("tech_a"), ticket["id"], "ACCEPT")

    state.services.live_feed = Interleaving(bus, state.session_factory)
    async with live_socket(app, world.token("alice")) as alice:
        http = alice.http
        ticket = await _alice_reports(alice, world)
        # when
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        seen = await alice.events(3)
        # then
        assert changes == ["accepted while replaying"]
        assert _seen(seen) == [(1, "SUBMITTED"), (2, "ASSIGNED"), (3, "ACCEPTED")]
        assert await alice.quiet()
    await state.services.live_feed.aclose()


# --- publishing only what committed; surviving a dead bus ---


class RecordingPublisher:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.published: list[tuple[str, str]] = []

    async def publish(self, channel: str, message: str) -> bool:
        self.published.append((channel, message))
        return bool(await self.inner.publish(channel, message))


async def test_a_rolled_back_mutation_publishes_nothing(
    app: Starlette, state: AppState, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingPublisher(state.services.publisher)
    state.services.publisher = recorder
    async with live_socket(app, world.token("dispatcher_a")) as board:
        ticket = await _alice_reports(board, world)
        await board.subscribe(DISPATCH_BOARD, {"p": world.gid("Project:lakeside")})
        await following(state, f"board:{world.ids['Project:lakeside']}")
        recorder.published.clear()

        # refused before writing anything
        stale = await transition(
            board.http, world.token("tech_a"), ticket["id"], "ACCEPT", version=ticket["version"] + 1
        )
        # refused after its event was written in the transaction: the whole transaction rolls back
        finish = unit_of_work.finish_changes

        async def finish_then_fail(*args: Any, **kwargs: Any) -> None:
            await finish(*args, **kwargs)
            raise Conflict("simulated failure after the events were written")

        monkeypatch.setattr(unit_of_work, "finish_changes", finish_then_fail)
        failed = await transition(board.http, world.token("tech_a"), ticket["id"], "ACCEPT")
        monkeypatch.undo()
        accepted = await transition(board.http, world.token("tech_a"), ticket["id"], "ACCEPT")
        only = await board.event()

        assert stale["data"]["transitionTicket"]["code"] == "CONFLICT"
        assert failed["data"]["transitionTicket"]["message"] == "simulated failure after the events were written"
        assert accepted["data"]["transitionTicket"]["status"] == "ACCEPTED"
        assert (only["seq"], only["type"]) == (3, "ACCEPTED")
        assert [channel for channel, _ in recorder.published] == [
            f"ticket:{decode_id(ticket['id'], 'Ticket', field='t')}",
            f"board:{world.ids['Project:lakeside']}",
            f"technician:{world.ids['Technician:a']}",
        ]
        assert await board.quiet()
        assert await _logged(state, ticket=ticket["id"]) == [(1, "SUBMITTED"), (2, "ASSIGNED"), (3, "ACCEPTED")]


async def test_mutations_succeed_while_the_bus_is_down_and_subscribers_catch_up(
    app: Starlette, state: AppState, world: World
) -> None:
    dead = EventBus("redis://127.0.0.1:1/0", timeout=0.2, max_reconnect_delay=0.2)
    await dead.start()
    state.services.publisher = dead
    try:
        async with live_socket(app, world.token("alice")) as alice:
            ticket = await _alice_reports(alice, world)
            accepted = await transition(alice.http, world.token("tech_a"), ticket["id"], "ACCEPT")
            await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
            seen = await alice.events(3)
    finally:
        await dead.stop()

    assert accepted["data"]["transitionTicket"]["status"] == "ACCEPTED"
    assert _seen(seen) == [(1, "SUBMITTED"), (2, "ASSIGNED"), (3, "ACCEPTED")]


# --- each subscriber sees through their own permissions; one rendering per audience ---

BOARD_WITH_PHONE = """subscription($p: ID!) { dispatchBoard(projectId: $p) {
  seq ticket { reporter { name phone } } } }"""


async def test_each_board_subscriber_sees_the_ticket_through_their_own_role(
    app: Starlette, state: AppState, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[object] = []
    render = live.EventRenderer._render

    async def counting(self: live.EventRenderer, event: LiveEvent) -> str:
        renders.append(self._key)
        return await render(self, event)

    monkeypatch.setattr(live.EventRenderer, "_render", counting)
    board = f"board:{world.ids['Project:lakeside']}"
    variables = {"p": world.gid("Project:lakeside")}
    async with (
        live_socket(app, world.token("admin_a")) as admin,
        live_socket(app, world.token("dispatcher_a"), LEGACY_WS) as dispatcher,
        live_socket(app, world.token("dispatcher_a")) as dispatcher_again,
    ):
        for socket in (admin, dispatcher, dispatcher_again):
            await socket.subscribe(BOARD_WITH_PHONE, variables)
        await following(state, board, 3)
        await _alice_reports(admin, world)

        admin_sees, dispatcher_sees, again_sees = (
            await admin.event(),
            await dispatcher.event(),
            await dispatcher_again.event(),
        )

    assert admin_sees["ticket"]["reporter"] == {"name": "王丽", "phone": "13812345678"}
    assert dispatcher_sees["ticket"]["reporter"] == {"name": "王丽", "phone": "138****5678"}
    assert again_sees == dispatcher_sees
    # the two SUBMITTED+ASSIGNED events were each rendered once per audience: admin, dispatcher
    assert len(renders) == 2 * 2
    assert len(set(renders)) == 2


@pytest.mark.usefixtures("collector_off")
async def test_a_delivered_event_keeps_only_its_json_and_frees_the_rendering(
    app: Starlette, state: AppState, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[tuple[LiveEvent, weakref.ref[asyncio.Task[Any]]]] = []
    render = live.EventRenderer._render

    async def recording(self: live.EventRenderer, event: LiveEvent) -> str:
        rendered.append((event, weakref.ref(asyncio.current_task())))  # type: ignore[arg-type]
        return await render(self, event)

    monkeypatch.setattr(live.EventRenderer, "_render", recording)
    async with live_socket(app, world.token("alice"), TRANSPORT_WS) as alice:
        ticket = await _alice_reports(alice, world)
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"]})
        await following(state, f"ticket:{decode_id(ticket['id'], 'Ticket', field='ticket')}", 1)
        await transition(alice.http, world.token("tech_a"), ticket["id"], "ACCEPT")
        accepted = await alice.event()
        event, rendering = rendered[-1]
        # only reference counting may free the rendering: its task, context and dataloaders
        assert rendering() is None

    assert accepted["type"] == "ACCEPTED"
    assert [json.loads(value)["data"]["ticketUpdates"] for _, value in event.memo.values()] == [accepted]


async def test_without_a_websocket_sink_results_come_through_strawberry_as_usual(
    app: Starlette, state: AppState, world: World
) -> None:
    from schema import build_schema

    async with live_socket(app, world.token("alice")) as alice:
        ticket = await _alice_reports(alice, world)
    context = state.new_context()
    context.authenticate_with(world.token("alice"))

    stream = await build_schema(production=False).subscribe(
        TICKET_UPDATES, variable_values={"t": ticket["id"], "after": 0}, context_value=context
    )
    results = [await anext(stream), await anext(stream)]  # type: ignore[arg-type]
    await stream.aclose()  # type: ignore[union-attr]

    assert [r.data["ticketUpdates"]["type"] for r in results] == ["SUBMITTED", "ASSIGNED"]  # type: ignore[index]
    assert results[1].data["ticketUpdates"]["ticket"]["assignee"] == {"name": "陈师傅"}  # type: ignore[index]


async def test_graphql_transport_ws_answers_pings_while_subscribed(app: Starlette, world: World) -> None:
    async with live_socket(app, world.token("alice")) as alice:
        ticket = await _alice_reports(alice, world)
        await alice.subscribe(TICKET_UPDATES, {"t": ticket["id"], "after": 0})
        await alice.events(2)
        await alice.ws.send_json({"type": "ping"})

        assert await alice.message() == {"type": "pong"}
