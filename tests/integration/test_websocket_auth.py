"""Websockets speak both subscription protocols and authenticate from the `connection_init` payload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from httpx_ws import WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from api.graphql_view import CONNECTION_INIT_TIMEOUT
from api.state import AppState
from tests.integration.world import build_world

VIEWER = "{ viewer { email } }"


def _leaves(group: BaseExceptionGroup[WebSocketDisconnect]) -> list[WebSocketDisconnect]:
    found: list[WebSocketDisconnect] = []
    for error in group.exceptions:
        found.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return found


@asynccontextmanager
async def websocket_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # Opened inside each test: the transport's task group must close in the task that opened it.
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://testserver") as http:
        yield http


async def _transport_ws_query(client: httpx.AsyncClient, init_payload: dict[str, Any]) -> dict[str, Any]:
    async with aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": init_payload})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": VIEWER}})
        message = await ws.receive_json(timeout=5)
        assert message["id"] == "1"
        return message  # type: ignore[no-any-return]


async def test_graphql_transport_ws_takes_the_token_from_connection_init(app: Starlette, state: AppState) -> None:
    world = await build_world(state)
    async with websocket_client(app) as ws_client:
        message = await _transport_ws_query(ws_client, {"authorization": f"Bearer {world.token('alice')}"})
    assert message == {"id": "1", "type": "next", "payload": {"data": {"viewer": {"email": "alice@example.test"}}}}


async def test_graphql_transport_ws_without_a_token_is_unauthenticated(app: Starlette, state: AppState) -> None:
    await build_world(state)
    async with websocket_client(app) as ws_client:
        message = await _transport_ws_query(ws_client, {})
    assert message["type"] == "next"
    assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["UNAUTHENTICATED"]


async def test_a_forged_token_is_refused_at_connection_init(app: Starlette, state: AppState) -> None:
    await build_world(state)
    close_codes: list[int] = []
    try:
        async with websocket_client(app) as ws_client, aconnect_ws(
            "/graphql", ws_client, subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send_json({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
            await ws.receive_json(timeout=5)
    except* WebSocketDisconnect as disconnects:
        close_codes = [error.code for error in _leaves(disconnects)]
    assert close_codes == [4403]


async def test_legacy_graphql_ws_protocol_acknowledges_and_keeps_alive(app: Starlette, state: AppState) -> None:
    world = await build_world(state)
    async with websocket_client(app) as ws_client, aconnect_ws("/graphql", ws_client, subprotocols=["graphql-ws"]) as ws:
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {world.token('bob')}"}})
        first, second = await ws.receive_json(timeout=5), await ws.receive_json(timeout=5)
    assert (first["type"], second["type"]) == ("connection_ack", "ka")


def test_silent_connections_are_closed_after_ten_seconds() -> None:
    assert CONNECTION_INIT_TIMEOUT.total_seconds() == 10
