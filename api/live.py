"""Serving live updates: websocket handlers that let subscriptions send ready-made frames, and GC tuning.

Both subscription protocols run each operation in a task of its own; these handlers put a `FrameSink`
for that operation in the task's context (`schema.live.frame_sink`), so a live subscription sends the
payload it rendered once for its whole audience straight to the socket, wrapped in the protocol's
frame, instead of strawberry executing the selection again for every subscriber. Everything else
(queries over websockets, errors, completion) is strawberry's own handling.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from api import pages
from api.graphql_view import CourtyardGraphQL
from schema.context import Context
from schema.live import frame_sink

__all__ = [
    "BOARD_HTML",
    "TRACK_HTML",
    "UVICORN_WEBSOCKET_OPTIONS",
    "LiveGraphQL",
    "live_routes",
    "tune_gc_for_serving",
]

_PAGES = Path(pages.__file__).parent
BOARD_HTML: Final = (_PAGES / "board.html").read_text(encoding="utf-8")
"""The dispatcher board; its script and styles are under /static/live/, the websocket client under /static/graphql-ws/."""
TRACK_HTML: Final = (_PAGES / "track.html").read_text(encoding="utf-8")
"""An owner's page for one repair (`/track/<ticket global ID>`)."""


class _TransportSink:
    """`next` frames of one graphql-transport-ws operation."""

    __slots__ = ("_handler", "_operation", "_prefix", "variables")

    def __init__(self, handler: BaseGraphQLTransportWSHandler[Context, None], operation: Operation[Context, None]) -> None:
        self._handler = handler
        self._operation = operation
        self._prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        self.variables: Mapping[str, Any] | None = operation.variables

    async def send(self, payload: str) -> bool:
        operation = self._operation
        # The client may have completed the operation meanwhile: then nothing more may be sent for it.
        if operation.completed or self._handler.operations.get(operation.id) is not operation:
            return False
        return await _send_text(self._handler.websocket, self._prefix + payload + "}")


class _LegacySink:
    """`data` frames of one (legacy) graphql-ws operation."""

    __slots__ = ("_handler", "_operation_id", "_prefix", "variables")

    def __init__(self, handler: BaseGraphQLWSHandler[Context, None], operation_id: str, variables: Mapping[str, Any] | None) -> None:
        self._handler = handler
        self._operation_id = operation_id
        self._prefix = '{"type":"data","id":' + json.dumps(operation_id) + ',"payload":'
        self.variables = variables

    async def send(self, payload: str) -> bool:
        if self._operation_id not in self._handler.tasks:
            return False
        return await _send_text(self._handler.websocket, self._prefix + payload + "}")


async def _send_text(adapter: Any, text: str) -> bool:
    try:
        await adapter.ws.send_text(text)
    except (WebSocketDisconnect, RuntimeError, OSError):
        # The socket is gone (or closing): the handler notices on its own and cleans the operation up.
        return False
    return True


class _TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        frame_sink.set(_TransportSink(self, operation))
        await super().run_operation(operation)


class _LegacyHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        frame_sink.set(_LegacySink(self, operation_id, variables))
        await super().handle_async_results(operation_id, query, operation_name, variables)


class LiveGraphQL(CourtyardGraphQL):
    """The GraphQL endpoint whose websockets deliver live subscriptions as shared, pre-rendered frames."""

    graphql_transport_ws_handler_class = _TransportHandler
    graphql_ws_handler_class = _LegacyHandler


UVICORN_WEBSOCKET_OPTIONS: Final[dict[str, Any]] = {"ws_per_message_deflate": False}
"""How `courtyard serve` runs websockets. Without permessage-deflate an idle connection holds ~54 KB
instead of ~97 KB (zlib keeps a compression window per socket), and a frame costs no compression time;
live messages are a few hundred bytes of JSON, so compression saves almost nothing on the wire."""


def tune_gc_for_serving() -> None:
    """Keep the collector from stalling the event loop while it fans events out to many sockets.

    Everything allocated during start-up (modules, the schema, the app) is moved out of the collector's
    sight, and the young generation is collected after 50,000 allocations instead of 700, so a burst of
    thousands of small objects per event no longer triggers full collections that held the loop for
    ~0.4 s (measured in STACK_NOTES). Reference counting still frees nearly everything at once.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def _board_page(request: Request) -> HTMLResponse:
    return HTMLResponse(BOARD_HTML, headers={"Cache-Control": "no-cache"})


async def _track_page(request: Request) -> HTMLResponse:
    # The same page for every ticket: it reads the ticket from its address and asks the API as the owner.
    return HTMLResponse(TRACK_HTML, headers={"Cache-Control": "no-cache"})


def live_routes() -> list[Route]:
    """The pages that watch tickets live: `/board` for dispatchers, `/track/<ticket>` for owners."""
    return [Route("/board", _board_page), Route("/track/{ticket}", _track_page)]
