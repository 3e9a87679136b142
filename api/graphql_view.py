"""The GraphQL endpoint: HTTP (GraphQL over HTTP, incl. application/graphql-response+json) and websockets."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from types import NoneType
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from api.auth import bearer_token, client_address
from api.request_errors import (
    GRAPHQL_RESPONSE_JSON,
    RETRY_AFTER_SECONDS,
    RequestRefused,
    graphql_error_response,
    prefers_graphql_response_json,
)
from api.security_headers import page_policy
from api.state import AppState
from db.base import loads_json
from schema.context import Context
from schema.errors import unauthenticated
from schema.faults import SERVICE_UNAVAILABLE

__all__ = ["CourtyardGraphQL"]

CONNECTION_INIT_TIMEOUT = dt.timedelta(seconds=10)
# Subscriptions are served on the websocket only: strawberry would run one sent over HTTP as a query.
_HTTP_OPERATIONS = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}
_ALLOWED_METHODS = {"Allow": "GET, POST"}
_GRAPHQL_RESPONSE_JSON_TYPE = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"


@lru_cache(maxsize=64)
def _media_type(content_type: str) -> str:
    """The media type of a Content-Type header as strawberry reads it (clients send a handful of spellings)."""
    return parse_content_type(content_type)[0]


def _is_upload(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").lower()
    return request.method == "POST" and content_type.startswith("multipart/form-data")


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
        self._graphiql_policy = page_policy(graphiql_html) if graphiql_html else ""

    def encode_json(self, data: object) -> str:
        """Websocket messages, as text frames: `encode_json_bytes` decoded."""
        return self.encode_json_bytes(data).decode()

    def encode_json_bytes(self, data: object) -> bytes:
        """Answers encoded by orjson: a page of a hundred rows took the standard library 0.6 ms, orjson
        0.06 ms. It writes text outside ASCII as UTF-8 instead of `\\u` escapes and exponents without a
        leading zero; what it refuses (an int past 64 bits, a key that is no string) is encoded by the
        standard library, as strawberry does. An HTTP answer goes out as these bytes: decoding them to
        text for the response to encode again cost a 28 KiB page 2 % of its CPU."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return super().encode_json(data).encode()  # type: ignore[union-attr]

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._graphiql_html or "", headers={"Content-Security-Policy": self._graphiql_policy})

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state: AppState = request.app.state.courtyard
        peer = request.client.host if request.client else None
        context = state.new_context(
            client_address=client_address(
                request.headers, peer, trust_forwarded_for=state.settings.trust_forwarded_for
            )
        )
        if isinstance(request, Request):
            context.authenticate_with(bearer_token(request.headers))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        token = bearer_token(params) if isinstance(params, dict) else None
        if token is not None:
            context.authenticate_with(token)
            if not await context.token_still_counts():
                raise ConnectionRejectionError(
                    {"code": "UNAUTHENTICATED", "message": "Invalid, expired or revoked token."}
                )
        return UNSET

    def decode_json(self, data: str | bytes) -> object:
        """Request bodies (and GET's variables) decoded by orjson, about five times faster than the standard
        library, and to the same values (`db.base.loads_json`: an integer past 64 bits stays an integer)."""
        return loads_json(data)

    async def parse_http_body(self, request_adapter: Any) -> Any:
        if request_adapter.method != "POST":
            return await super().parse_http_body(request_adapter)
        content_type = _media_type(request_adapter.content_type or "")
        if "application/json" not in content_type:
            if content_type != "multipart/form-data":
                raise RequestRefused(
                    415, "BAD_REQUEST", "Send GraphQL as application/json, or multipart/form-data with uploads."
                )
            return await super().parse_http_body(request_adapter)
        # Strawberry's reading of a JSON body (one operation, no streaming transport configured) without
        # parsing the content type a second time; anything else it reads, and refuses, itself.
        data = self.parse_json(await request_adapter.get_body())
        if isinstance(data, dict) and not self._stream_transport_map:
            query, variables, extensions = data.get("query"), data.get("variables"), data.get("extensions")
            if (
                isinstance(query, (str, NoneType))
                and isinstance(variables, (dict, NoneType))
                and isinstance(extensions, (dict, NoneType))
            ):
                return GraphQLRequestData(
                    query=query, variables=variables, operation_name=data.get("operationName"), extensions=extensions
                )
        return await super().parse_http_body(request_adapter)

    async def execute_single(  # noqa: PLR0917 (strawberry's signature)
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=_HTTP_OPERATIONS[request_adapter.method],
                operation_extensions=request_data.extensions,
            )
        except MissingQueryError:
            raise RequestRefused(400, "BAD_REQUEST", "The request carries no GraphQL query.") from None
        except CannotGetOperationTypeError as error:
            message = (
                f'The document has no operation named "{error.operation_name}".'
                if error.operation_name
                else "The document holds no operation to run."
            )
            raise RequestRefused(400, "BAD_REQUEST", message) from None
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise RequestRefused(
                    400,
                    "BAD_REQUEST",
                    "Subscriptions are served over a websocket at /graphql (graphql-transport-ws or graphql-ws), "
                    "not over HTTP.",
                ) from None
            # GraphQL over HTTP: a mutation sent with GET is 405 Method Not Allowed.
            raise RequestRefused(
                405, "BAD_REQUEST", "Mutations must be sent with POST.", headers={"Allow": "POST"}
            ) from None

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        payload, status = await self._payload_and_status(request, result)
        if status is not None:
            request.state.graphql_status = status
        return payload

    async def _payload_and_status(
        self, request: Request, result: ExecutionResult
    ) -> tuple[GraphQLHTTPResponse, int | None]:
        """The answer's JSON and, when it is not 200, its HTTP status."""
        payload = await super().process_result(request, result)
        status = None
        codes = set()
        for error in payload.get("errors") or []:
            # Syntax errors end the operation before schema extensions see a result.
            codes.add(error.setdefault("extensions", {}).setdefault("code", "GRAPHQL_PARSE_FAILED"))
        # GraphQL over HTTP: a request that failed before execution has no `data` and a 4xx status.
        request_error = result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        if request_error and prefers_graphql_response_json(request.headers):
            payload.pop("data", None)  # type: ignore[misc]
            status = 400
        if SERVICE_UNAVAILABLE in codes:
            # Every client, whichever media type it reads, should see "retry later" at the HTTP level too.
            status = 503
        return payload, status

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):
            return await super().run(request, context, root_value)
        if context is UNSET:
            context = await self.get_context(request, response=None)  # type: ignore[arg-type]
        try:
            if _is_upload(request) and not context.has_live_token():
                # Every upload needs a login: an anonymous body is not even read (let alone spooled to disk).
                raise RequestRefused(
                    401, "UNAUTHENTICATED", unauthenticated().message, headers={"WWW-Authenticate": "Bearer"}
                )
            if request.method == "POST" and "application/json" in _media_type(request.headers.get("content-type", "")):
                return await self._answer_json(request, context, root_value)
            response = await super().run(request, context, root_value)
        except RequestRefused as refusal:
            return refusal.response(request.headers)
        except HTTPException as error:
            # strawberry's own refusals (an unparseable body, a batch, a method other than GET and POST).
            return graphql_error_response(
                request.headers,
                error.status_code,
                "NOT_FOUND" if error.status_code == 404 else "BAD_REQUEST",
                error.reason,
                extra_headers=_ALLOWED_METHODS if error.status_code == 405 else None,
            )
        if isinstance(response, Response) and response.media_type == "application/json":
            if prefers_graphql_response_json(request.headers):
                response.headers["content-type"] = _GRAPHQL_RESPONSE_JSON_TYPE
            status = getattr(request.state, "graphql_status", None)
            if status is not None:
                response.status_code = status
            if status == 503:
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    async def _answer_json(self, request: Request, context: Context, root_value: Any) -> Response:
        """What strawberry's `run` answers a POST with a JSON body, and the same response headers and status
        as `run` makes of it, without the steps that serve other requests (the IDE, streaming, incremental
        delivery, batches: batching is off, so strawberry refuses a list while parsing): nearly every
        request is one of these, and those steps cost about a tenth of a small query's CPU."""
        request_adapter = self.request_adapter_class(request)
        request_data = await self.parse_http_body(request_adapter)
        result = await self.execute_single(
            request,
            request_adapter,
            None,
            context,
            await self.get_root_value(request) if root_value is UNSET else root_value,
            request_data,
        )
        payload, status = await self._payload_and_status(request, result)
        media_type = _GRAPHQL_RESPONSE_JSON_TYPE if prefers_graphql_response_json(request.headers) else "application/json"
        response = Response(self.encode_json_bytes(payload), status_code=status or 200, media_type=media_type)
        if status == 503:
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
