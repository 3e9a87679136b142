"""Request bodies are capped before anything reads them: JSON (and any other body) and multipart uploads."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.request_errors import graphql_error_response

__all__ = ["BodySizeLimit"]


class _OverLimit(Exception):
    """Raised from `receive` once a body without a declared length has grown past the cap."""


class BodySizeLimit:
    """413 for a body over its cap: on its declared Content-Length before a byte is read, or, for a
    chunked body, as soon as the bytes received pass the cap (the application stops reading there)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").lower().startswith("multipart/form-data")
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, headers, limit, upload)
            return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _OverLimit
            return message

        async def watching_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _OverLimit:
            if response_started:
                raise
            await self._refuse(scope, receive, send, headers, limit, upload)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, headers: Headers, limit: int, upload: bool) -> None:
        what = "An upload request" if upload else "A request body"
        response = graphql_error_response(
            headers, 413, "PAYLOAD_TOO_LARGE", f"{what} may carry at most {limit:,} bytes.",
            # The rest of the body is left unread: the connection cannot carry another request.
            extra_headers={"Connection": "close"},
        )
        await response(scope, receive, send)
