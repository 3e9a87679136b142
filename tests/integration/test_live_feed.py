"""The per-process live feed: one bus subscription per channel, one log read per event, no gap, no duplicate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from api.state import AppState
from dispatch.events import EventNotice
from dispatch.live import Follow, LiveEvent, LiveFeed
from kernel.vocabulary import TicketEventType, TicketStatus
from tests.integration.live_world import FakeBus, append_event, create_ticket
from tests.integration.world import World, build_world, statements_run

T = TicketEventType


class Tail:
    """Reads a follower's events with timeouts, never cancelling a pending read (which would end it)."""

    def __init__(self, events: AsyncIterator[LiveEvent]) -> None:
        self._events = events
        self._pending: asyncio.Future[LiveEvent] | None = None

    async def next(self, timeout: float = 5) -> LiveEvent:
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self._events))
        done, _ = await asyncio.wait({self._pending}, timeout=timeout)
        assert done, f"no event within {timeout} s"
        pending, self._pending = self._pending, None
        return pending.result()

    async def take(self, count: int) -> list[int]:
        return [(await self.next()).seq for _ in range(count)]

    async def nothing_pending(self) -> bool:
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self._events))
        done, _ = await asyncio.wait({self._pending}, timeout=0.05)
        return not done


class Scene:
    def __init__(self, state: AppState, world: World, bus: FakeBus, feed: LiveFeed, tickets: dict[str, int]) -> None:
        self.state, self.world, self.bus, self.feed, self.tickets = state, world, bus, feed, tickets

    @property
    def lakeside(self) -> int:
        return self.world.ids["Project:lakeside"]

    async def log(self, ticket: str, event_type: TicketEventType, **changes: object) -> EventNotice:
        return await append_event(self.state.session_factory, self.tickets[ticket], event_type, **changes)  # type: ignore[arg-type]

    async def happen(self, ticket: str, event_type: TicketEventType, **changes: object) -> EventNotice:
        """Log an event and publish its notice after commit, as the services do."""
        notice = await self.log(ticket, event_type, **changes)
        payload = changes.get("payload") or {}
        assert isinstance(payload, dict)
        self.bus.send(notice, tuple(t for t in payload.values() if isinstance(t, int)))
        return notice


@pytest.fixture
async def scene(state: AppState) -> AsyncIterator[Scene]:
    world = await build_world(state)
    lakeside, hillside = world.ids["Project:lakeside"], world.ids["Project:hillside"]
    now = state.clock()
    tickets = {
        "alice": await create_ticket(
            state.session_factory, project_id=lakeside, unit_id=world.ids["Unit:alice"], now=now
        ),
        "bob": await create_ticket(state.session_factory, project_id=lakeside, unit_id=world.ids["Unit:bob"], now=now),
        "carol": await create_ticket(
            state.session_factory, project_id=hillside, unit_id=world.ids["Unit:carol"], now=now
        ),
    }
    bus = FakeBus()
    feed = LiveFeed(bus, state.session_factory)
    try:
        yield Scene(state, world, bus, feed, tickets)
    finally:
        await feed.aclose()


async def test_a_ticket_follower_gets_that_tickets_events_in_order_and_no_others(scene: Scene) -> None:
    async with scene.feed.follow(Follow.ticket(scene.lakeside, scene.tickets["alice"])) as following:
        events = Tail(following)
        first = await scene.happen("alice", T.SUBMITTED)
        await scene.happen("bob", T.SUBMITTED)
        second = await scene.happen(
            "alice", T.ASSIGNED, status=TicketStatus.ASSIGNED, assignee_id=scene.world.ids["Technician:a"]
        )

        received = [await events.next(), await events.next()]

        assert [(e.seq, e.event.type) for e in received] == [(first.seq, T.SUBMITTED), (second.seq, T.ASSIGNED)]
        assert received[1].ticket.status is TicketStatus.ASSIGNED
        assert await events.nothing_pending()


async def test_a_board_follower_gets_every_ticket_of_its_project_only(scene: Scene) -> None:
    async with scene.feed.follow(Follow.board(scene.lakeside)) as following:
        events = Tail(following)
        await scene.happen("carol", T.SUBMITTED)
        alice = await scene.happen("alice", T.SUBMITTED)
        bob = await scene.happen("bob", T.SUBMITTED)

        assert [(e.seq, e.ticket_id) for e in [await events.next(), await events.next()]] == [
            (alice.seq, scene.tickets["alice"]),
            (bob.seq, scene.tickets["bob"]),
        ]
        assert await events.nothing_pending()


async def test_after_seq_replays_the_log_then_continues_live_without_duplicates(scene: Scene) -> None:
    logged = [await scene.happen("alice", T.SUBMITTED), await scene.happen("alice", T.ASSIGNED)]
    await scene.happen("alice", T.ACCEPTED)

    async with scene.feed.follow(
        Follow.ticket(scene.lakeside, scene.tickets["alice"]), after_seq=logged[0].seq
    ) as following:
        events = Tail(following)
        replayed = await events.take(2)
        live = await scene.happen("alice", T.CHECKED_IN)

        assert replayed == [2, 3]
        assert await events.take(1) == [live.seq]
        assert await events.nothing_pending()


async def test_an_event_committed_during_the_hand_over_arrives_exactly_once(scene: Scene) -> None:
    # given: a follower whose replay is interleaved with two other transactions
    await scene.happen("alice", T.SUBMITTED)

    class InterleavingFeed(LiveFeed):
        async def _replay(self, follow: Follow, after_seq: int) -> AsyncIterator[LiveEvent]:
            # committed and routed to the inbox *before* the replay reads: in both, must come once
            await scene.happen("alice", T.ASSIGNED)
            await self._logs[follow.project_id].refresh()
            async for event in super()._replay(follow, after_seq):
                yield event
            # committed *after* the replay read: only the live path has it
            await scene.happen("alice", T.ACCEPTED)

    feed = InterleavingFeed(scene.bus, scene.state.session_factory)
    try:
        # when
        async with feed.follow(Follow.ticket(scene.lakeside, scene.tickets["alice"]), after_seq=0) as following:
            events = Tail(following)
            received = await events.take(3)
            # then
            assert received == [1, 2, 3]
            assert await events.nothing_pending()
    finally:
        await feed.aclose()


async def test_notices_that_arrive_reordered_still_deliver_in_seq_order(scene: Scene) -> None:
    async with scene.feed.follow(Follow.board(scene.lakeside)) as following:
        events = Tail(following)
        first = await scene.log("alice", T.SUBMITTED)
        second = await scene.log("bob", T.SUBMITTED)
        scene.bus.send(second)
        scene.bus.send(first)
        scene.bus.send(second)

        assert await events.take(2) == [first.seq, second.seq]
        assert await events.nothing_pending()


async def test_a_lost_notice_is_recovered_by_the_next_notice_or_a_resync(scene: Scene) -> None:
    async with scene.feed.follow(Follow.ticket(scene.lakeside, scene.tickets["alice"])) as following:
        events = Tail(following)
        lost = await scene.log("alice", T.SUBMITTED)  # its notice never arrives
        assert await events.nothing_pending()
        scene.bus.resync()
        assert await events.take(1) == [lost.seq]

        lost_again = await scene.log("alice", T.ASSIGNED)
        announced = await scene.happen("alice", T.ACCEPTED)
        assert await events.take(2) == [lost_again.seq, announced.seq]


async def test_malformed_and_foreign_notices_are_harmless(scene: Scene) -> None:
    follow = Follow.ticket(scene.lakeside, scene.tickets["alice"])
    async with scene.feed.follow(follow) as following:
        events = Tail(following)
        scene.bus.send_raw(f"board:{scene.lakeside}", "not json")
        scene.bus.send_raw(f"board:{scene.lakeside}", '{"project": 1}')
        real = await scene.happen("alice", T.SUBMITTED)

        assert await events.take(1) == [real.seq]


async def test_many_followers_share_one_bus_subscription_per_project_and_one_read_per_event(scene: Scene) -> None:
    # given: 30 board followers and 30 followers of one ticket, all in this process
    async with contextlib_stack(scene, 30) as (board, ticket):
        with statements_run(scene.state.engine) as statements:
            # when: one event happens
            notice = await scene.happen("alice", T.SUBMITTED)
            received = await asyncio.gather(*(Tail(events).next() for events in board + ticket))

        # then: everyone got the very same loaded event, read with one statement
        assert {event.seq for event in received} == {notice.seq}
        assert len({id(event) for event in received}) == 1
        assert len([s for s in statements if s.startswith("SELECT") and "ticket_event" in s]) == 1
        assert scene.bus.subscribe_calls == [f"board:{scene.lakeside}"]


def contextlib_stack(scene: Scene, count: int):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def stack() -> AsyncIterator[tuple[list[AsyncIterator[LiveEvent]], list[AsyncIterator[LiveEvent]]]]:
        async with contextlib.AsyncExitStack() as exits:
            board = [
                await exits.enter_async_context(scene.feed.follow(Follow.board(scene.lakeside))) for _ in range(count)
            ]
            ticket = [
                await exits.enter_async_context(
                    scene.feed.follow(Follow.ticket(scene.lakeside, scene.tickets["alice"]))
                )
                for _ in range(count)
            ]
            yield board, ticket

    return stack()


async def test_a_follower_that_falls_behind_catches_up_from_the_log_in_order(scene: Scene) -> None:
    feed = LiveFeed(scene.bus, scene.state.session_factory, inbox_size=2)
    try:
        async with feed.follow(Follow.board(scene.lakeside)) as following:
            events = Tail(following)
            notices = [await scene.happen("alice" if i % 2 else "bob", T.COMMENTED) for i in range(7)]
            await feed._logs[scene.lakeside].refresh()

            assert await events.take(7) == [n.seq for n in notices]
            assert await events.nothing_pending()
    finally:
        await feed.aclose()


async def test_accept_hides_events_from_one_follower_without_losing_its_place(scene: Scene) -> None:
    def only_assignments(event: LiveEvent) -> bool:
        return event.event.type is T.ASSIGNED

    async with scene.feed.follow(
        Follow.ticket(scene.lakeside, scene.tickets["alice"]), after_seq=0, accept=only_assignments
    ) as following:
        events = Tail(following)
        await scene.happen("alice", T.COMMENTED)
        assigned = await scene.happen("alice", T.ASSIGNED)

        assert await events.take(1) == [assigned.seq]


async def test_technician_followers_get_assignments_and_the_reassignment_away(scene: Scene) -> None:
    tech = scene.world.ids["Technician:a"]
    async with scene.feed.follow(Follow.technician(scene.lakeside, tech)) as following:
        events = Tail(following)
        await scene.happen("bob", T.SUBMITTED)
        assigned = await scene.happen(
            "alice", T.ASSIGNED, status=TicketStatus.ASSIGNED, assignee_id=tech, payload={"technician": tech}
        )
        await scene.happen("alice", T.COMMENTED)
        taken = await scene.happen(
            "alice", T.UNASSIGNED, status=TicketStatus.NEW, assignee_id=None, payload={"releasedTechnician": tech}
        )

        assert await events.take(2) == [assigned.seq, taken.seq]
        replayed = await scene.feed.replay(Follow.technician(scene.lakeside, tech), 0)
        assert [event.seq for event in replayed] == [assigned.seq, taken.seq]


async def test_leaving_drops_the_channel_and_the_projects_bus_subscription(scene: Scene) -> None:
    follow = Follow.ticket(scene.lakeside, scene.tickets["alice"])
    async with scene.feed.follow(follow), scene.feed.follow(follow):
        assert scene.feed.channels == {follow.channel}
        assert scene.feed.bus_channels == scene.bus.subscribed == {f"board:{scene.lakeside}"}
    await asyncio.sleep(0)

    assert scene.feed.channels == frozenset()
    assert scene.bus.subscribed == frozenset()
