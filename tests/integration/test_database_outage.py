"""While the database is down, queries and mutations answer SERVICE_UNAVAILABLE (HTTP 503, Retry-After)
within a second, and nothing is logged as a bug.

PostgreSQL is reached through a TCP relay the test can cut (established connections dropped, new ones
refused) or stall (connections accepted, never answered); SQLite is given a database path it cannot open.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.conftest import TEST_SECRET, Clock, serving
from tests.integration.live_client import live_socket
from tests.integration.world import World, build_world, gid

VIEWER = "{ viewer { email } }"
LOGIN = 'mutation { login(email: "admin_a@example.test", password: "wrong") { __typename } }'
UNITS = "query($p: ID!) { units(projectId: $p) { edges { node { id } } } }"
ANSWER_WITHIN = 1.0


class Relay:
    """A TCP relay in front of PostgreSQL: `cut()` drops every connection and refuses new ones,
    `stall()` accepts new connections and never relays a byte."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.stalled = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        if self.stalled:
            return
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers.add(server_writer)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except ConnectionError:
                pass
            finally:
                writer.close()

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    def _drop_connections(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        self._drop_connections()
        await self._server.wait_closed()

    def stall(self) -> None:
        self._drop_connections()
        self.stalled = True

    async def close(self) -> None:
        if self._server is not None and self._server.is_serving():
            await self.cut()
        self._drop_connections()


def short_connect_timeout(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        media_dir=tmp_path / "media",
        database_connect_timeout=dt.timedelta(seconds=0.3),
    )


async def answer(
    client: httpx.AsyncClient, query: str, variables: dict[str, str] | None = None, *, token: str
) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/graphql-response+json"},
    )
    return time.perf_counter() - began, response


def assert_unavailable(elapsed: float, response: httpx.Response) -> None:
    assert elapsed < ANSWER_WITHIN, f"answered after {elapsed:.2f} s"
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "path" not in error and "SELECT" not in error["message"]


def assert_no_bug_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("database unavailable" in r.getMessage() for r in caplog.records)


@dataclass
class Relayed:
    """An app on PostgreSQL through a relay, its client, the test world and its admin's token."""

    relay: Relay
    app: Starlette
    client: httpx.AsyncClient
    world: World
    token: str


@pytest.fixture
async def relayed(postgres_url: str, tmp_path: Path) -> AsyncIterator[Relayed]:
    url = make_url(postgres_url)
    relay = Relay(url.port or 5432)
    port = await relay.start()
    relayed_url = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    app = create_app(short_connect_timeout(relayed_url, tmp_path), clock=Clock(), migrate=False)
    try:
        async with serving(app) as client:
            world = await build_world(app.state.courtyard)
            yield Relayed(relay, app, client, world, world.token("admin_a"))
    finally:
        await relay.close()


async def test_postgres_connections_cut_answer_service_unavailable(
    relayed: Relayed, caplog: pytest.LogCaptureFixture
) -> None:
    units = {"p": relayed.world.gid("Project:lakeside")}
    _, served = await answer(relayed.client, UNITS, units, token=relayed.token)
    assert served.status_code == 200 and "errors" not in served.json()

    await relayed.relay.cut()
    for query, variables in ((UNITS, units), (LOGIN, None), (VIEWER, None)):
        assert_unavailable(*await answer(relayed.client, query, variables, token=relayed.token))
    assert_no_bug_logged(caplog)


async def test_a_postgres_server_that_never_answers_is_unavailable_after_the_connect_timeout(
    relayed: Relayed, caplog: pytest.LogCaptureFixture
) -> None:
    relayed.relay.stall()
    assert_unavailable(*await answer(relayed.client, VIEWER, token=relayed.token))
    assert_unavailable(*await answer(relayed.client, LOGIN, token=relayed.token))
    assert_no_bug_logged(caplog)


async def test_an_sqlite_file_that_cannot_be_opened_answers_service_unavailable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unopenable = tmp_path / "courtyard.db"
    unopenable.mkdir()
    app = create_app(short_connect_timeout(f"sqlite+aiosqlite:///{unopenable}", tmp_path), clock=Clock(), migrate=False)
    async with serving(app) as client:
        token = app.state.courtyard.tokens.issue(1, now=Clock()())
        for query, variables in ((VIEWER, None), (LOGIN, None), (UNITS, {"p": gid("Project", 1)})):
            assert_unavailable(*await answer(client, query, variables, token=token))
        # The routes outside GraphQL say the same.
        photo = await client.get("/attachments/1", headers={"Authorization": f"Bearer {token}"})
        assert photo.status_code == 503 and int(photo.headers["Retry-After"]) > 0
        assert photo.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert_no_bug_logged(caplog)


async def test_a_request_that_finds_the_pool_held_by_others_is_told_after_the_connect_timeout(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given a server of one PostgreSQL connection, held by another request
    app = create_app(replace(short_connect_timeout(postgres_url, tmp_path), database_pool_size=1), clock=Clock(), migrate=False)
    async with serving(app) as client:
        world = await build_world(app.state.courtyard)
        token = world.token("admin_a")
        holder = await app.state.courtyard.engine.connect()
        try:
            # when a request needs the database, then it is told the database is busy, within the timeout
            assert_unavailable(*await answer(client, VIEWER, token=token))
        finally:
            await holder.close()
        # and once the connection is back, the same request is answered
        _, served = await answer(client, VIEWER, token=token)
        assert served.status_code == 200 and served.json()["data"]["viewer"]["email"] == "admin_a@example.test"
    assert_no_bug_logged(caplog)


async def test_plain_json_clients_and_subscribers_are_told_too(
    relayed: Relayed, caplog: pytest.LogCaptureFixture
) -> None:
    await relayed.relay.cut()
    response = await relayed.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {relayed.token}"}
    )
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]

    async with live_socket(relayed.app, relayed.token) as socket:
        await socket.subscribe(
            "subscription($p: ID!) { dispatchBoard(projectId: $p) { seq } }", {"p": relayed.world.gid("Project:lakeside")}
        )
        message = await socket.message(timeout=ANSWER_WITHIN)
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["SERVICE_UNAVAILABLE"]
    assert_no_bug_logged(caplog)
