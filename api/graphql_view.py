"""The GraphQL endpoint: HTTP (GraphQL over HTTP, incl. application/graphql-response+json) and websockets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from api.auth import bearer_token
from api.state import AppState
from schema.context import Context

__all__ = ["CourtyardGraphQL"]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
CONNECTION_INIT_TIMEOUT = dt.timedelta(seconds=10)


def _prefers_graphql_response_json(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


class CourtyardGraphQL(GraphQL[Context, None]):
    def __init__(self, *, production: bool, allowed_origins: tuple[str, ...], graphiql_html: str | None) -> None:
        from schema import build_schema

        super().__init__(
            build_schema(production=production),
            graphql_ide="graphiql" if graphiql_html else None,
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            multipart_uploads_enabled=True,
            allowed_origins=allowed_origins,
        )
        self._graphiql_html = graphiql_html

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._graphiql_html or "")

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state: AppState = request.app.state.courtyard
        context = state.new_context()
        if isinstance(request, Request):
            context.authenticate_with(bearer_token(request.headers))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        token = bearer_token(params) if isinstance(params, dict) else None
        if token is not None:
            context.authenticate_with(token)
            if not context.has_live_token():
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "Invalid or expired token."})
        return UNSET

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        payload = await super().process_result(request, result)
        for error in payload.get("errors") or []:
            # Syntax errors end the operation before schema extensions see a result.
            error.setdefault("extensions", {}).setdefault("code", "GRAPHQL_PARSE_FAILED")
        if _prefers_graphql_response_json(request):
            # GraphQL over HTTP: a request that failed before execution has no `data` and a 4xx status.
            request_error = result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
            request.state.graphql_request_error = request_error
            if request_error:
                payload.pop("data", None)  # type: ignore[misc]
        return payload

    async def execute_single(self, request: Any, request_adapter: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_single(request, request_adapter, *args, **kwargs)
        except HTTPException as error:
            # GraphQL over HTTP: a mutation sent with GET is 405 Method Not Allowed (strawberry says 400).
            if request_adapter.method == "GET" and "mutation" in error.reason.lower():
                raise HTTPException(405, error.reason) from None
            raise

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        response = await super().run(request, context, root_value)
        if (
            isinstance(request, Request)
            and isinstance(response, Response)
            and response.media_type == "application/json"
            and _prefers_graphql_response_json(request)
        ):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
            if getattr(request.state, "graphql_request_error", False):
                response.status_code = 400
        return response
