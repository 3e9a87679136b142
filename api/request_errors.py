"""Requests refused before any GraphQL runs answer in GraphQL's shape too, with the fitting HTTP status."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "RETRY_AFTER_SECONDS",
    "RequestRefused",
    "graphql_error_response",
    "prefers_graphql_response_json",
]

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
RETRY_AFTER_SECONDS = 5
"""What a 503 tells clients to wait before they retry (`Retry-After`)."""


def prefers_graphql_response_json(headers: Headers) -> bool:
    return GRAPHQL_RESPONSE_JSON in headers.get("accept", "")


def graphql_error_response(
    headers: Headers, status: int, code: str, message: str, *, extra_headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`{"errors": [{"message", "extensions": {"code"}}]}`, in the media type the client asked for."""
    media_type = GRAPHQL_RESPONSE_JSON if prefers_graphql_response_json(headers) else "application/json"
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
        headers=dict(extra_headers or {}),
        media_type=f"{media_type}; charset=utf-8",
    )


class RequestRefused(Exception):
    """A request the endpoint will not execute: answered with `status` and one coded error."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self, request_headers: Headers) -> JSONResponse:
        return graphql_error_response(request_headers, self.status, self.code, self.message, extra_headers=self.headers)
