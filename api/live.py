"""Serving live updates: websocket handlers that let subscriptions send ready-made frames, and GC tuning.

Both subscription protocols run each operation in a task of its own; these handlers put a `FrameSink`
for that operation in the task's context (`schema.live.frame_sink`). A live subscription authorizes as
usual, then hands the sink its delivery and lets strawberry's result stream end at once: the handler
runs the delivery in the same task, which sends the payload rendered once for the whole audience
straight to the socket in the protocol's frame. Strawberry neither executes the selection for every
subscriber nor keeps an idle subscription's execution state (its extensions, the graphql-core executor)
alive. Everything else (other operations, errors, completion) is strawberry's own handling.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, Final

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Route
from starlette.websockets import WebSocketDisconnect
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError

from api import pages
from api.graphql_view import CourtyardGraphQL
from api.security_headers import page_policy
from schema.context import Context
from schema.live import frame_sink

__all__ = [
    "BOARD_HTML",
    "FAVICON",
    "FINANCE_HTML",
    "TRACK_HTML",
    "UVICORN_WEBSOCKET_OPTIONS",
    "LiveGraphQL",
    "live_routes",
    "tune_gc_for_serving",
]

_PAGES = Path(pages.__file__).parent
BOARD_HTML: Final = (_PAGES / "board.html").read_text(encoding="utf-8")
"""The dispatcher board; its code is under /static/live/, the websocket client under /static/graphql-ws/."""
TRACK_HTML: Final = (_PAGES / "track.html").read_text(encoding="utf-8")
"""An owner's page for one repair (`/track/<ticket global ID>`)."""
FINANCE_HTML: Final = (_PAGES / "finance.html").read_text(encoding="utf-8")
"""The finance page: collection rate, arrears ageing, income and reconciliation (`/finance`); not live itself,
it shares the pages' login, texts and assets."""
FAVICON: Final = pages.STATIC_DIR / "live" / "favicon.ico"
"""The icon browsers ask for at `/favicon.ico` (16, 32 and 48 px)."""


class _Sink:
    """What both protocols' sinks share: the adopted delivery of a live subscription."""

    __slots__ = ("_delivery", "_prefix", "variables")

    def __init__(self, prefix: str, variables: Mapping[str, Any] | None) -> None:
        self._prefix = prefix
        self._delivery: Coroutine[Any, Any, None] | None = None
        self.variables = variables

    def adopt(self, delivery: Coroutine[Any, Any, None]) -> None:
        self._delivery = delivery

    async def deliver(self) -> GraphQLError | None:
        """Run the adopted delivery, if any, to its end; answers the GraphQL error that ended it."""
        delivery, self._delivery = self._delivery, None
        if delivery is None:
            return None
        try:
            await delivery
        except GraphQLError as error:
            return error
        return None

    def discard(self) -> None:
        """Close a delivery that never started (the operation ended first)."""
        delivery, self._delivery = self._delivery, None
        if delivery is not None:
            delivery.close()

    def frame(self, payload: str) -> str:
        return self._prefix + payload + "}"


class _TransportSink(_Sink):
    """`next` frames of one graphql-transport-ws operation."""

    __slots__ = ("_handler", "_operation")

    def __init__(self, handler: _TransportHandler, operation: Operation[Context, None]) -> None:
        super().__init__('{"id":' + json.dumps(operation.id) + ',"type":"next","payload":', operation.variables)
        self._handler = handler
        self._operation = operation

    async def send(self, payload: str) -> bool:
        operation = self._operation
        # The client may have completed the operation meanwhile: then nothing more may be sent for it.
        if operation.completed or self._handler.operations.get(operation.id) is not operation:
            return False
        return await _send_text(self._handler.websocket, self.frame(payload))


class _LegacySink(_Sink):
    """`data` frames of one (legacy) graphql-ws operation."""

    __slots__ = ("_handler", "_operation_id")

    def __init__(self, handler: _LegacyHandler, operation_id: str, variables: Mapping[str, Any] | None) -> None:
        super().__init__('{"type":"data","id":' + json.dumps(operation_id) + ',"payload":', variables)
        self._handler = handler
        self._operation_id = operation_id

    async def send(self, payload: str) -> bool:
        if self._operation_id not in self._handler.tasks:
            return False
        return await _send_text(self._handler.websocket, self.frame(payload))


async def _send_text(adapter: Any, text: str) -> bool:
    try:
        await adapter.ws.send_text(text)
    except (WebSocketDisconnect, RuntimeError, OSError):
        # The socket is gone (or closing): the handler notices on its own and cleans the operation up.
        return False
    return True


class _TransportHandler(BaseGraphQLTransportWSHandler[Context, None]):
    # strawberry's `run_operation` (0.341), with the adopted delivery run between the end of strawberry's
    # result stream and the `complete` message.
    async def run_operation(self, operation: Operation[Context, None]) -> None:
        sink = _TransportSink(self, operation)
        frame_sink.set(sink)
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with contextlib.aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            ended_by = await sink.deliver()
            if ended_by is not None:
                await operation.send_next(ExecutionResult(data=None, errors=[ended_by]))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            sink.discard()


class _LegacyHandler(BaseGraphQLWSHandler[Context, None]):
    # strawberry's `handle_async_results` (0.341), with the adopted delivery run once strawberry's
    # result stream has ended.
    async def handle_async_results(
        self, operation_id: str, query: str, operation_name: str | None, variables: dict[str, object] | None
    ) -> None:
        sink = _LegacySink(self, operation_id, variables)
        frame_sink.set(sink)
        try:
            result_source = await self.schema.subscribe(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            is_first_result = True
            async for result in result_source:
                if is_first_result and isinstance(result, PreExecutionError):
                    assert result.errors
                    await self.send_message(
                        {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                    )
                    return
                await self.send_data_message(result, operation_id)
                is_first_result = False
            self.subscriptions.pop(operation_id, None)
            ended_by = await sink.deliver()
            if ended_by is not None:
                await self.send_data_message(ExecutionResult(data=None, errors=[ended_by]), operation_id)
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            sink.discard()
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)


class LiveGraphQL(CourtyardGraphQL):
    """The GraphQL endpoint whose websockets deliver live subscriptions as shared, pre-rendered frames."""

    graphql_transport_ws_handler_class = _TransportHandler
    graphql_ws_handler_class = _LegacyHandler


UVICORN_WEBSOCKET_OPTIONS: Final[dict[str, Any]] = {"ws_per_message_deflate": False}
"""How `courtyard serve` runs websockets. Without permessage-deflate an idle connection holds ~54 KB
instead of ~97 KB (zlib keeps a compression window per socket), and a frame costs no compression time;
live messages are a few hundred bytes of JSON, so compression saves almost nothing on the wire."""


def tune_gc_for_serving() -> None:
    """Keep the collector from stalling the event loop while it serves thousands of open websockets.

    Everything allocated during start-up (modules, the schema, the app) is frozen out of the collector's
    sight, so full collections no longer walk it (with Python's defaults a full collection in a board
    storm held the loop ~0.4 s, measured in STACK_NOTES). The young generations are kept small: each
    delivered event leaves survivors behind (a follower's next wait, a keep-alive timer), and what a
    collection of an older generation costs grows with what piled up since the last one. Collecting
    the young generation every 2,000 allocations and the middle one every 20 of those keeps each pause
    to a few milliseconds (the middle one 10-20 ms with 5,000 owners connected). At 50,000 and 50, young
    collections took 50-80 ms every ~5 s and middle ones, walking ~200,000 objects, over 100 ms.
    A full collection still walks every connection's objects (643 ms with 5,000 owners connected); it
    comes at most once per 100 middle ones, so minutes apart at 50 events/s.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(2_000, 20, 100)


_BOARD_HEADERS: Final = {"Cache-Control": "no-cache", "Content-Security-Policy": page_policy(BOARD_HTML)}
_TRACK_HEADERS: Final = {"Cache-Control": "no-cache", "Content-Security-Policy": page_policy(TRACK_HTML)}
_FINANCE_HEADERS: Final = {"Cache-Control": "no-cache", "Content-Security-Policy": page_policy(FINANCE_HTML)}


async def _board_page(request: Request) -> HTMLResponse:
    return HTMLResponse(BOARD_HTML, headers=_BOARD_HEADERS)


async def _track_page(request: Request) -> HTMLResponse:
    # The same page for every ticket: it reads the ticket from its address and asks the API as the owner.
    return HTMLResponse(TRACK_HTML, headers=_TRACK_HEADERS)


async def _finance_page(request: Request) -> HTMLResponse:
    return HTMLResponse(FINANCE_HTML, headers=_FINANCE_HEADERS)


async def _favicon(request: Request) -> FileResponse:
    return FileResponse(FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})


def live_routes() -> list[Route]:
    """The pages: `/board` for dispatchers and `/track/<ticket>` for owners, which watch tickets live,
    `/finance` for finance staff; their icon."""
    return [
        Route("/board", _board_page),
        Route("/track/{ticket}", _track_page),
        Route("/finance", _finance_page),
        Route("/favicon.ico", _favicon),
    ]
