"""Live fan-out: latency from just before a mutation is sent to every subscriber's receipt, messages lost,
and server memory per idle subscription.

One uvicorn process serves Courtyard (`python -m benchmarks.fanout serve …`, started by this script with
the settings `courtyard serve` uses); this process is the client: a lean websocket client (timestamps are
taken the moment a frame's bytes arrive) that also sends the mutations over HTTP. The database is a
throwaway PostgreSQL database, created, filled and dropped here; the broadcast backend is `memory://`
or `postgres://` (LISTEN/NOTIFY on the same server).

- owners: 5,000 owners, each on their own websocket following their own ticket (`ticketUpdates`);
  50 ticket events per second on random tickets for 60 s. Goal: p99 ≤ 50 ms, 0 lost, ≤ 60 KB of server
  memory per idle subscription (server RSS with all subscriptions open and idle, minus before any,
  divided by their number). The events are a technician's WAIT_FOR_OWNER / RESUME through
  `transitionTicket` on the measured server (memory and postgres backends); and, on postgres, COMMENTED
  events written by this process exactly as the services write them (the ticket unit of work: settled,
  numbered, published after commit), so the measured server only delivers, as one of several instances
  would.
- board storm: 1,000 board subscribers (1,000 different dispatcher logins) on one project, one event
  at a time (5 rounds). Goal: p99 ≤ 150 ms, 0 lost. Run in four server variants to show what each
  measure buys: strawberry executing every subscriber's selection (`plain`) or one rendering per
  (operation, audience) sent as a ready frame (`shared`), with default or tuned garbage collection.

Set COURTYARD_FANOUT_SECONDS / COURTYARD_FANOUT_OWNERS to shorten a run while experimenting.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from benchmarks.table import print_table
from benchmarks.throwaway import PG_URL, free_port, postgresql_database

SECRET = "courtyard-fanout-benchmark-secret"
OWNERS = int(os.environ.get("COURTYARD_FANOUT_OWNERS", "5000"))
EVENTS_PER_SECOND = 50
SECONDS = float(os.environ.get("COURTYARD_FANOUT_SECONDS", "60"))
BOARD_SUBSCRIBERS = 1_000
BOARD_ROUNDS = 5
TECHNICIANS = 100
GRACE_SECONDS = 3.0
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

OWNER_SUBSCRIPTION = (
    "subscription($t: ID!) { ticketUpdates(ticketId: $t) "
    "{ seq type at actorRole ticketId ticket { id status version slaState assignee { name } } } }"
)
BOARD_SUBSCRIPTION = (
    "subscription($p: ID!) { dispatchBoard(projectId: $p) { seq type at actorRole ticketId "
    "ticket { id status version priority category description createdAt respondDueAt onSiteDueAt "
    "resolveDueAt slaState unit { number building { name } } assignee { id name } } } }"
)
TRANSITION = (
    "mutation($id: ID!, $action: TicketAction!) { transitionTicket(ticketId: $id, action: $action) "
    "{ __typename ... on Ticket { status } ... on Error { code message } } }"
)


def _gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


# --- the server process ---


def serve(port: int, database_url: str, broadcast_url: str, *, shared: bool, tuned_gc: bool) -> None:
    """Run Courtyard as `courtyard serve` does, optionally without the shared frames or the GC tuning."""
    import uvicorn
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
        BaseGraphQLTransportWSHandler,
    )
    from strawberry.subscriptions.protocols.graphql_ws.handlers import (
        BaseGraphQLWSHandler,
    )

    from api.app import create_app
    from api.live import UVICORN_WEBSOCKET_OPTIONS, LiveGraphQL, tune_gc_for_serving
    from api.settings import Settings

    settings = Settings(database_url=database_url, broadcast_url=broadcast_url, secret_key=SECRET)
    app = create_app(settings, migrate=False, background_jobs=False)
    if not shared:
        # strawberry's own handlers offer no frame sink: every subscriber's selection is executed for it
        for route in app.routes:
            endpoint = getattr(route, "app", None)
            if isinstance(endpoint, LiveGraphQL):
                endpoint.graphql_transport_ws_handler_class = BaseGraphQLTransportWSHandler  # type: ignore[assignment]
                endpoint.graphql_ws_handler_class = BaseGraphQLWSHandler  # type: ignore[assignment]
    if tuned_gc:
        tune_gc_for_serving()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **UVICORN_WEBSOCKET_OPTIONS)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(database_url: str, broadcast_url: str, *, shared: bool = True, tuned_gc: bool = True) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "benchmarks.fanout",
        "serve",
        "--port",
        str(port),
        "--database",
        database_url,
        "--broadcast",
        broadcast_url,
        "--variant",
        "shared" if shared else "plain",
        "--gc",
        "tuned" if tuned_gc else "default",
    ]
    server = Server(subprocess.Popen(command), f"127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://{server.url}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the benchmark server did not start")
        time.sleep(0.2)


# --- a lean websocket client ---


class LeanSocket(asyncio.Protocol):
    """A graphql-transport-ws client that stamps each frame with the time its bytes arrived."""

    def __init__(self, received: list[tuple[float, bytes]]) -> None:
        self.received = received
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.acknowledged = asyncio.get_running_loop().create_future()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(RuntimeError(status.decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        while len(self.buffer) >= 2:
            opcode, length, offset = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                length, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                length, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < offset + length:
                return
            payload = bytes(self.buffer[offset : offset + length])
            del self.buffer[: offset + length]
            if opcode == 0x1:
                if not self.acknowledged.done():
                    self.acknowledged.set_result(payload)
                else:
                    self.received.append((now, payload))
            elif opcode == 0x9:
                self.send_frame(0xA, payload)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        key = os.urandom(4)
        size = len(payload)
        header = bytearray([0x80 | opcode])
        if size < 126:
            header.append(0x80 | size)
        elif size < 65536:
            header += bytes([0x80 | 126]) + size.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + size.to_bytes(8, "big")
        mask = (key * (size // 4 + 1))[:size]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(size, "big") if size else b""
        self.transport.write(bytes(header) + key + masked)

    def send_json(self, message: dict[str, object]) -> None:
        self.send_frame(0x1, json.dumps(message).encode())


async def open_subscription(
    address: str, token: str, query: str, variables: dict[str, object], received: list[tuple[float, bytes]]
) -> LeanSocket:
    host, port = address.split(":")
    _, socket = await asyncio.get_running_loop().create_connection(lambda: LeanSocket(received), host, int(port))
    assert socket.transport is not None
    key = base64.b64encode(os.urandom(16)).decode()
    socket.transport.write(
        (
            f"GET /graphql HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
    )
    await asyncio.wait_for(socket.upgraded, 30)
    socket.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    ack = json.loads(await asyncio.wait_for(socket.acknowledged, 30))
    assert ack["type"] == "connection_ack", ack
    socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
    return socket


async def open_many(
    address: str, subscriptions: Sequence[tuple[str, str, dict[str, object]]], received: list[tuple[float, bytes]]
) -> list[LeanSocket]:
    sockets: list[LeanSocket] = []
    for start in range(0, len(subscriptions), 200):
        batch = subscriptions[start : start + 200]
        sockets += await asyncio.gather(*(open_subscription(address, t, q, v, received) for t, q, v in batch))
    return sockets


def close_all(sockets: Iterable[LeanSocket]) -> None:
    for socket in sockets:
        if socket.transport is not None:
            socket.transport.close()


# --- the data ---


@dataclass
class Fixture:
    database_url: str
    project_id: int
    owners: list[tuple[int, int]] = field(default_factory=list)  # (owner user id, ticket id)
    technician_of_ticket: dict[int, int] = field(default_factory=dict)  # ticket id -> technician user id
    dispatchers: list[int] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)  # tickets the storms moved to WAITING_FOR_OWNER
    state: dict[int, str] = field(default_factory=dict)  # ticket id -> status, as the owners scenarios left it

    def untouched_ticket(self) -> int:
        ticket = next(ticket for _, ticket in reversed(self.owners) if ticket not in self.touched)
        self.touched.add(ticket)
        return ticket


async def fill(database_url: str) -> Fixture:
    """One project: OWNERS owners each with a unit and an ON_SITE ticket, technicians, 1,000 dispatchers."""
    from db.migrate import upgrade_to_head
    from db.models import (
        Building,
        Occupancy,
        OccupancyRelation,
        Organization,
        Party,
        Project,
        RoleGrant,
        Technician,
        Ticket,
        Unit,
        User,
    )
    from db.models.tickets import LocationKind
    from db.session import create_engine
    from kernel.principal import Role
    from kernel.vocabulary import Category, Priority, TicketStatus, UnitKind

    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    fixture = Fixture(database_url, project_id=1)
    users: list[dict[str, object]] = []
    grants: list[dict[str, object]] = []

    def user(user_id: int, role: Role, *, party_id: int | None = None, technician_id: int | None = None) -> None:
        users.append(
            {
                "id": user_id,
                "email": f"u{user_id}@bench.test",
                "display_name": f"u{user_id}",
                "password_hash": "unused",
                "party_id": party_id,
                "technician_id": technician_id,
            }
        )
        grants.append({"user_id": user_id, "project_id": 1, "role": role})

    technicians = [
        {
            "id": t,
            "project_id": 1,
            "name": f"师傅{t}",
            "skills": ["PLUMBING"],
            "home_latitude": 30.27,
            "home_longitude": 120.15,
            "current_latitude": 30.27,
            "current_longitude": 120.15,
            "capacity": 20,
        }
        for t in range(1, TECHNICIANS + 1)
    ]
    for t in range(1, TECHNICIANS + 1):
        user(t, Role.TECHNICIAN, technician_id=t)
    units, parties, occupancies, tickets = [], [], [], []
    for n in range(1, OWNERS + 1):
        units.append(
            {
                "id": n,
                "project_id": 1,
                "building_id": 1,
                "number": str(n),
                "floor": 1 + n // 100,
                "floor_area": Decimal("88.50"),
                "kind": UnitKind.APARTMENT,
            }
        )
        parties.append({"id": n, "project_id": 1, "name": f"业主{n}"})
        occupancies.append(
            {"unit_id": n, "party_id": n, "relation": OccupancyRelation.OWNER, "start_date": dt.date(2020, 1, 1)}
        )
        technician = 1 + n % TECHNICIANS
        tickets.append(
            {
                "id": n,
                "project_id": 1,
                "location_kind": LocationKind.UNIT,
                "unit_id": n,
                "reporter_party_id": n,
                "description": "水龙头漏水 tap leaking",
                "category": Category.PLUMBING,
                "priority": Priority.NORMAL,
                "status": TicketStatus.ON_SITE,
                "assignee_id": technician,
                "sla_started_at": START,
                "respond_due_at": START + dt.timedelta(days=30),
                "on_site_due_at": START + dt.timedelta(days=30),
                "resolve_due_at": START + dt.timedelta(days=60),
                "created_at": START,
                "updated_at": START,
                "version": 1,
            }
        )
        owner_user = TECHNICIANS + n
        user(owner_user, Role.OWNER, party_id=n)
        fixture.owners.append((owner_user, n))
        fixture.state[n] = "ON_SITE"
        fixture.technician_of_ticket[n] = technician
    for d in range(BOARD_SUBSCRIBERS):
        dispatcher = TECHNICIANS + OWNERS + 1 + d
        user(dispatcher, Role.DISPATCHER)
        fixture.dispatchers.append(dispatcher)
    async with engine.begin() as connection:
        await connection.execute(insert(Organization), [{"id": 1, "name": "Bench Co"}])
        await connection.execute(insert(Project), [{"id": 1, "organization_id": 1, "name": "Bench", "settings": {}}])
        await connection.execute(
            insert(Building), [{"id": 1, "project_id": 1, "name": "1栋", "latitude": 30.27, "longitude": 120.15}]
        )
        for model, rows in (
            (Technician, technicians),
            (Unit, units),
            (Party, parties),
            (Occupancy, occupancies),
            (User, users),
            (RoleGrant, grants),
            (Ticket, tickets),
        ):
            for start in range(0, len(rows), 2000):
                await connection.execute(insert(model), rows[start : start + 2000])
    await engine.dispose()
    return fixture


def tokens(user_ids: Iterable[int]) -> dict[int, str]:
    from api.auth import TokenCodec

    codec = TokenCodec(SECRET, dt.timedelta(hours=12))
    now = dt.datetime.now(dt.UTC)
    return {user_id: codec.issue(user_id, now=now) for user_id in user_ids}


# --- measuring ---


def percentiles(name: str, latencies_ms: list[float], expected: int, **extra: object) -> dict[str, object]:
    ordered = sorted(latencies_ms)
    return {
        "scenario": name,
        **extra,
        "received": len(ordered),
        "lost": expected - len(ordered),
        "p50 ms": statistics.median(ordered) if ordered else float("nan"),
        "p99 ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan"),
        "max ms": ordered[-1] if ordered else float("nan"),
    }


def _p99(ordered: list[float]) -> float:
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def _ticket_of(payload: bytes) -> tuple[str, int] | None:
    message = json.loads(payload)
    if message.get("type") != "next" or "data" not in message["payload"] or not message["payload"]["data"]:
        return None
    (event,) = message["payload"]["data"].values()
    return event["ticketId"], event["seq"]


async def owners_scenario(
    backend: str, broadcast_url: str, fixture: Fixture, *, events_from_journal: bool = False
) -> dict[str, object]:
    """The events come from technicians' `transitionTicket` calls to the measured server, or, with
    `events_from_journal`, from another process writing them as the services do (the ticket journal,
    then a publish after commit) without GraphQL: the measured process then only delivers, like one of
    many instances behind a load balancer. Only a cross-process backend can carry that."""
    server = start_server(fixture.database_url, broadcast_url)
    journal_writer = await JournalWriter.start(fixture.database_url, broadcast_url) if events_from_journal else None
    try:
        owner_tokens = tokens(owner for owner, _ in fixture.owners)
        technician_tokens = tokens(set(fixture.technician_of_ticket.values()))
        received: list[tuple[float, bytes]] = []
        # Idle keep-alive connections expire before uvicorn's 5 s would close them under a request.
        limits = httpx.Limits(max_connections=64, keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=f"http://{server.url}", timeout=30, limits=limits) as http:
            await http.post("/graphql", json={"query": "{ __typename }"})
            await asyncio.sleep(1)
            rss_before = server.rss_kib()
            sockets = await open_many(
                server.url,
                [
                    (owner_tokens[owner], OWNER_SUBSCRIPTION, {"t": _gid("Ticket", ticket)})
                    for owner, ticket in fixture.owners
                ],
                received,
            )
            await asyncio.sleep(4)  # every subscription registered
            idle_cpu_before, idle_began = server.cpu_seconds(), time.perf_counter()
            await asyncio.sleep(4)
            idle_cpu_percent = (server.cpu_seconds() - idle_cpu_before) * 100 / (time.perf_counter() - idle_began)
            rss_idle = server.rss_kib()
            per_subscription_kb = (rss_idle - rss_before) * 1.024 / len(sockets)

            sent: dict[str, list[float]] = defaultdict(list)
            failures: list[str] = []
            answered: list[float] = []
            busy: set[int] = set()

            async def mutate(ticket: int) -> None:
                gid = _gid("Ticket", ticket)
                started = time.perf_counter()
                if journal_writer is not None:
                    await journal_writer.comment(ticket)
                    answered.append((time.perf_counter() - started) * 1000)
                    sent[gid].append(started)
                    busy.discard(ticket)
                    return
                action = "WAIT_FOR_OWNER" if fixture.state[ticket] == "ON_SITE" else "RESUME"
                token = technician_tokens[fixture.technician_of_ticket[ticket]]
                response = await http.post(
                    "/graphql",
                    json={"query": TRANSITION, "variables": {"id": gid, "action": action}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                result = response.json()["data"]["transitionTicket"]
                answered.append((time.perf_counter() - started) * 1000)
                if result["__typename"] == "Ticket":
                    sent[gid].append(started)
                    fixture.state[ticket] = result["status"]
                else:
                    failures.append(result["message"])
                busy.discard(ticket)

            tickets = [ticket for _, ticket in fixture.owners if ticket not in fixture.touched]
            tasks = []
            cpu_before = server.cpu_seconds()
            began = time.perf_counter()
            for number in range(int(SECONDS * EVENTS_PER_SECOND)):
                delay = began + number / EVENTS_PER_SECOND - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                ticket = random.choice(tickets)
                while ticket in busy:
                    ticket = random.choice(tickets)
                busy.add(ticket)
                tasks.append(asyncio.create_task(mutate(ticket)))
            await asyncio.gather(*tasks)
            await asyncio.sleep(GRACE_SECONDS)
            cpu_per_event_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, len(tasks))
            close_all(sockets)
        latencies = _match(sent, received)
        answered.sort()
        return percentiles(
            f"owners ({len(fixture.owners)} subscriptions, {EVENTS_PER_SECOND}/s for {SECONDS:.0f} s)",
            latencies,
            sum(len(times) for times in sent.values()),
            backend=backend,
            **{
                "events from": "journal in another process" if events_from_journal else "transitionTicket",
                "write p50/p99 ms": f"{statistics.median(answered):.0f}/{_p99(answered):.0f}",
                "failed writes": len(failures),
                "server CPU ms per event": cpu_per_event_ms,
                "idle server CPU %": idle_cpu_percent,
                "KB per idle subscription": per_subscription_kb,
            },
        )
    finally:
        server.stop()
        if journal_writer is not None:
            await journal_writer.stop()


class JournalWriter:
    """Writes COMMENTED events the way the dispatch services write every event, from this process."""

    def __init__(self, engine: Any, bus: Any) -> None:
        from db.session import create_session_factory

        self._engine = engine
        self._sessions = create_session_factory(engine)
        self._bus = bus

    @classmethod
    async def start(cls, database_url: str, broadcast_url: str) -> JournalWriter:
        from api.eventbus import EventBus
        from db.session import create_engine

        bus = EventBus(broadcast_url)
        await bus.start()
        return cls(create_engine(database_url), bus)

    async def comment(self, ticket_id: int) -> None:
        from db.models import Ticket
        from dispatch.unit_of_work import ticket_unit_of_work
        from kernel.vocabulary import ActorRole, TicketEventType

        now = dt.datetime.now(dt.UTC)
        async with ticket_unit_of_work(self._sessions, self._bus, now=now) as changes:
            ticket = await changes.session.get(Ticket, ticket_id)
            assert ticket is not None
            changes.journal.record(
                ticket,
                TicketEventType.COMMENTED,
                actor_role=ActorRole.DISPATCHER,
                actor_user_id=None,
                at=now,
                payload={"note": "benchmark"},
            )

    async def stop(self) -> None:
        await self._bus.stop()
        await self._engine.dispose()


def _match(sent: dict[str, list[float]], received: list[tuple[float, bytes]]) -> list[float]:
    """Latency of each receipt: the k-th event a ticket's subscriber got answers its k-th mutation."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    for at, payload in received:
        found = _ticket_of(payload)
        if found is not None:
            arrivals[found[0]].append(at)
    latencies = []
    for ticket, times in sent.items():
        for started, arrived in zip(times, sorted(arrivals.get(ticket, [])), strict=False):
            latencies.append((arrived - started) * 1000)
    return latencies


async def board_storm(
    backend: str, broadcast_url: str, fixture: Fixture, *, shared: bool, tuned_gc: bool
) -> dict[str, object]:
    server = start_server(fixture.database_url, broadcast_url, shared=shared, tuned_gc=tuned_gc)
    try:
        dispatcher_tokens = tokens(fixture.dispatchers)
        technician_tokens = tokens(set(fixture.technician_of_ticket.values()))
        received: list[tuple[float, bytes]] = []
        sockets = await open_many(
            server.url,
            [
                (dispatcher_tokens[d], BOARD_SUBSCRIPTION, {"p": _gid("Project", fixture.project_id)})
                for d in fixture.dispatchers
            ],
            received,
        )
        await asyncio.sleep(3)
        latencies: list[float] = []
        worst_round = 0.0
        limits = httpx.Limits(keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=f"http://{server.url}", timeout=30, limits=limits) as http:
            for _ in range(BOARD_ROUNDS):
                ticket = fixture.untouched_ticket()  # still ON_SITE, so WAIT_FOR_OWNER is allowed
                received.clear()
                token = technician_tokens[fixture.technician_of_ticket[ticket]]
                started = time.perf_counter()
                response = await http.post(
                    "/graphql",
                    json={"query": TRANSITION, "variables": {"id": _gid("Ticket", ticket), "action": "WAIT_FOR_OWNER"}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.json()["data"]["transitionTicket"]["__typename"] == "Ticket", response.text
                deadline = time.perf_counter() + 10
                while len(received) < len(sockets) and time.perf_counter() < deadline:
                    await asyncio.sleep(0.01)
                round_latencies = [(at - started) * 1000 for at, _ in received]
                latencies += round_latencies
                if round_latencies:
                    worst_round = max(
                        worst_round, sorted(round_latencies)[max(0, int(len(round_latencies) * 0.99) - 1)]
                    )
                await asyncio.sleep(1)
        close_all(sockets)
        variant = f"{'shared frames' if shared else 'plain strawberry'}, {'tuned' if tuned_gc else 'default'} gc"
        return percentiles(
            f"board storm ({len(sockets)} subscribers, {BOARD_ROUNDS} events)",
            latencies,
            len(sockets) * BOARD_ROUNDS,
            backend=backend,
            variant=variant,
            **{"worst round p99 ms": worst_round},
        )
    finally:
        server.stop()


async def run(database_url: str, scenarios: Sequence[str]) -> None:
    fixture = await fill(database_url)
    pg_broadcast = make_url(PG_URL).set(drivername="postgres").render_as_string(hide_password=False)
    backends = [("memory", "memory://"), ("postgres", pg_broadcast)]
    if "storm" in scenarios:
        storms = []
        for backend, url in backends:
            storms.append(await board_storm(backend, url, fixture, shared=True, tuned_gc=True))
        for shared, tuned in ((False, False), (False, True), (True, False)):
            storms.append(await board_storm("memory", "memory://", fixture, shared=shared, tuned_gc=tuned))
        print_table("Board storm: one event to 1,000 board subscribers (goal p99 ≤ 150 ms, 0 lost)", storms)
    if "owners" in scenarios:
        owners = [await owners_scenario(backend, url, fixture) for backend, url in backends]
        owners.append(await owners_scenario("postgres", pg_broadcast, fixture, events_from_journal=True))
        print_table(
            "Owners: 5,000 subscriptions, 50 events/s (goal p99 ≤ 50 ms, 0 lost, ≤ 60 KB per idle subscription)",
            owners,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.fanout")
    commands = parser.add_subparsers(dest="command")
    server = commands.add_parser("serve", help="(internal) the server process")
    server.add_argument("--port", type=int, required=True)
    server.add_argument("--database", required=True)
    server.add_argument("--broadcast", required=True)
    server.add_argument("--variant", choices=["shared", "plain"], default="shared")
    server.add_argument("--gc", choices=["tuned", "default"], default="tuned")
    parser.add_argument(
        "--only", choices=["storm", "owners"], help="run one scenario (both by default, the board storm first)"
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.database, args.broadcast, shared=args.variant == "shared", tuned_gc=args.gc == "tuned")
        return 0
    gc.collect()
    with postgresql_database() as database_url:
        # The client's own event loop should add as little as possible to the latencies it measures.
        uvloop.run(run(database_url, [args.only] if args.only else ["storm", "owners"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
