"""Two real `courtyard serve` processes sharing one PostgreSQL database, broadcasting over PostgreSQL
LISTEN/NOTIFY and over Redis: a subscriber on instance A hears, within a second, of a ticket changed
through instance B."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect

from api.auth import TokenCodec
from api.settings import Settings
from api.state import AppState, build_services
from db.migrate import upgrade_to_head
from db.personal_data import PersonalDataCipher
from db.session import create_engine, create_session_factory
from tests.conftest import PG_URL, REDIS_URL, START, TEST_SECRET, missing_service
from tests.e2e.server import RunningServer, courtyard_serve
from tests.integration.dispatch_world import build_dispatch_world
from tests.integration.world import World

pytestmark = pytest.mark.e2e

EVENT = "seq type ticketId ticket { status }"
SUBMIT = """mutation($input: SubmitTicketInput!) { submitTicket(input: $input) {
  __typename ... on Ticket { id status } ... on Error { message } } }"""
TRANSITION = """mutation($id: ID!, $action: TicketAction!) { transitionTicket(ticketId: $id, action: $action) {
  __typename ... on Ticket { status } ... on Error { message } } }"""


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
async def shared_database() -> AsyncIterator[tuple[str, World]]:
    """A throwaway, migrated PostgreSQL database with the integration test world in it."""
    try:
        admin = await asyncpg.connect(_dsn(PG_URL), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        missing_service(f"PostgreSQL unreachable at {PG_URL}: {error}")
    name = f"courtyard_scale_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
        settings = Settings(database_url=url, secret_key=TEST_SECRET)
        state = AppState(
            settings=settings,
            engine=engine,
            session_factory=create_session_factory(engine),
            cipher=PersonalDataCipher(TEST_SECRET),
            tokens=TokenCodec(TEST_SECRET, settings.token_ttl),
            services=build_services(settings),
            clock=lambda: START,
        )
        world = await build_dispatch_world(state)
        await engine.dispose()
        yield url, world
    finally:
        await engine.dispose()
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.close()


def _broadcast_url(backend: str) -> str:
    if backend == "postgres":
        return _dsn(PG_URL).replace("postgresql://", "postgres://", 1)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing_service(f"Redis unreachable at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture
def two_instances(
    request: pytest.FixtureRequest, shared_database: tuple[str, World], tmp_path: Path
) -> Iterator[tuple[RunningServer, RunningServer]]:
    url, _ = shared_database
    environment = {
        "COURTYARD_DATABASE_URL": url,
        "COURTYARD_BROADCAST_URL": _broadcast_url(request.param),
        "COURTYARD_SECRET_KEY": TEST_SECRET,
    }
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    with ExitStack() as stack:
        a = stack.enter_context(courtyard_serve(tmp_path / "a", env=environment))
        b = stack.enter_context(courtyard_serve(tmp_path / "b", env=environment))
        yield a, b


def _gql(server: RunningServer, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


@asynccontextmanager
async def _subscribed(
    server: RunningServer, token: str, query: str, variables: dict[str, Any]
) -> AsyncIterator[ClientConnection]:
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        yield ws


async def _next_event(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert message["type"] == "next", message
    (event,) = message["payload"]["data"].values()
    return event  # type: ignore[no-any-return]


def _token(world: World, user: str) -> str:
    # The servers run on the wall clock, not on the test world's START.
    return world.state.tokens.issue(world.users[user], now=dt.datetime.now(dt.UTC))


@pytest.mark.parametrize("two_instances", ["postgres", "redis"], indirect=True)
async def test_a_subscriber_on_one_instance_hears_of_changes_made_through_another(
    two_instances: tuple[RunningServer, RunningServer], shared_database: tuple[str, World]
) -> None:
    a, b = two_instances
    _, world = shared_database
    alice, tech, dispatcher = _token(world, "alice"), _token(world, "tech_a"), _token(world, "dispatcher_a")
    # given: alice's new ticket, submitted through B
    ticket = _gql(
        b,
        SUBMIT,
        {"input": {"description": "厨房水龙头漏水 kitchen tap leaking", "unitId": world.gid("Unit:alice")}},
        alice,
    )
    ticket = ticket["submitTicket"]
    assert ticket["status"] == "ASSIGNED", ticket
    owner_query = (
        f"subscription($t: ID!, $after: Int) {{ ticketUpdates(ticketId: $t, afterSeq: $after) {{ {EVENT} }} }}"
    )
    board_query = (
        f"subscription($p: ID!, $after: Int) {{ dispatchBoard(projectId: $p, afterSeq: $after) {{ {EVENT} }} }}"
    )
    async with _subscribed(a, alice, owner_query, {"t": ticket["id"], "after": 0}) as owner_ws:
        # the replay proves the subscription is registered on A before anything else happens
        replayed = [await _next_event(owner_ws, 5) for _ in range(2)]
        board_variables = {"p": world.gid("Project:lakeside"), "after": replayed[0]["seq"] - 1}
        async with _subscribed(a, dispatcher, board_query, board_variables) as board_ws:
            assert [await _next_event(board_ws, 5) for _ in range(2)] == replayed

            # when: the technician accepts through B
            started = time.monotonic()
            _gql(b, TRANSITION, {"id": ticket["id"], "action": "ACCEPT"}, tech)
            owner_heard = await _next_event(owner_ws, 1.0)
            board_heard = await _next_event(board_ws, 1.0)
            elapsed = time.monotonic() - started

    # then
    assert [e["type"] for e in replayed] == ["SUBMITTED", "ASSIGNED"]
    assert (owner_heard["type"], owner_heard["ticket"]["status"]) == ("ACCEPTED", "ACCEPTED")
    assert board_heard == owner_heard | {"ticketId": ticket["id"]}
    assert elapsed < 1.0, f"{elapsed:.3f} s\nA:\n{a.log()[-3000:]}\nB:\n{b.log()[-3000:]}"
