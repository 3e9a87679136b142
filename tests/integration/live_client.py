"""A websocket subscription client for in-process tests, speaking either subscription protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from api.state import AppState
from dispatch.live import LiveFeed

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

EVENT_FIELDS = "seq type at actorRole ticketId ticket { id status assignee { name } }"
TICKET_UPDATES = (
    f"subscription($t: ID!, $after: Int) {{ ticketUpdates(ticketId: $t, afterSeq: $after) {{ {EVENT_FIELDS} }} }}"
)
DISPATCH_BOARD = (
    f"subscription($p: ID!, $after: Int) {{ dispatchBoard(projectId: $p, afterSeq: $after) {{ {EVENT_FIELDS} }} }}"
)
MY_ASSIGNMENTS = f"subscription($after: Int) {{ myAssignments(afterSeq: $after) {{ {EVENT_FIELDS} }} }}"


class LiveSocket:
    """One websocket: subscribe, then read results (keep-alive messages are skipped and counted)."""

    def __init__(self, ws: AsyncWebSocketSession, protocol: str, http: httpx.AsyncClient) -> None:
        self.ws = ws
        self.protocol = protocol
        self.http = http
        self.keep_alives = 0
        self._pending: asyncio.Task[Any] | None = None

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None, *, id: str = "1") -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.ws.send_json({"id": id, "type": kind, "payload": {"query": query, "variables": variables or {}}})

    async def message(self, timeout: float = 5) -> dict[str, Any]:
        """The next message other than a keep-alive; fails the test after `timeout` seconds."""
        while True:
            if self._pending is None:
                self._pending = asyncio.ensure_future(self.ws.receive_json())
            done, _ = await asyncio.wait({self._pending}, timeout=timeout)
            assert done, f"no message within {timeout} s"
            message: dict[str, Any] = self._pending.result()
            self._pending = None
            if message.get("type") == "ka":
                self.keep_alives += 1
                continue
            return message

    async def event(self, timeout: float = 5) -> dict[str, Any]:
        """The next subscription result's root field value (a TicketEvent)."""
        message = await self.message(timeout)
        assert message["type"] in ("next", "data"), message
        assert "errors" not in message["payload"], message
        (value,) = message["payload"]["data"].values()
        return value  # type: ignore[no-any-return]

    async def events(self, count: int) -> list[dict[str, Any]]:
        return [await self.event() for _ in range(count)]

    async def quiet(self, seconds: float = 0.3) -> bool:
        """Whether nothing but keep-alives arrives for `seconds`."""
        if self._pending is None:
            self._pending = asyncio.ensure_future(self.ws.receive_json())
        done, _ = await asyncio.wait({self._pending}, timeout=seconds)
        if done and self._pending.result().get("type") == "ka":
            self._pending = None
            self.keep_alives += 1
            return await self.quiet(seconds)
        return not done

    async def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()


@asynccontextmanager
async def live_socket(app: Starlette, token: str | None, protocol: str = TRANSPORT_WS) -> AsyncIterator[LiveSocket]:
    """A connected, acknowledged websocket (opened inside the test's task, as httpx-ws requires)."""
    async with (
        httpx.AsyncClient(transport=ASGIWebSocketTransport(app), base_url="http://testserver") as http,
        aconnect_ws("/graphql", http, subprotocols=[protocol]) as ws,
    ):
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        socket = LiveSocket(ws, protocol, http)
        try:
            yield socket
        finally:
            await socket.close()


def live_feed(state: AppState) -> LiveFeed:
    feed: LiveFeed = state.services.live_feed
    return feed


async def following(state: AppState, channel: str, followers: int = 1, timeout: float = 5) -> None:
    """Wait until `channel` has `followers` local followers (subscriptions without `afterSeq` are then live)."""
    async with asyncio.timeout(timeout):
        while live_feed(state).followers(channel) < followers:
            await asyncio.sleep(0.01)
