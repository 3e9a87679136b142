"""Bodies over their cap are refused before they are read: on Content-Length without reading a byte, and
chunked bodies as soon as the bytes received pass the cap. The answer is a 413 in GraphQL's shape.

The app is driven through ASGI directly, so the test sees every `receive` the application makes and
never holds a large body in memory: the "200 MB" is generated chunk by chunk as the app asks for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.settings import MIB, Settings
from dispatch.attachments import MAX_FILES_PER_REQUEST, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES

HUGE = 200 * 1000 * 1000
CHUNK = 64 * 1024
BOUNDARY = "courtyard-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass
class Exchange:
    """One request driven by hand: a body produced on demand, and what the app sent back."""

    body_bytes: int
    content_type: str
    declare_length: bool
    token: str | None = None
    pulled: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        size = min(CHUNK, self.body_bytes - self.pulled)
        chunk = self._chunk(size)
        self.pulled += size
        return {"type": "http.request", "body": chunk, "more_body": self.pulled < self.body_bytes}

    def _chunk(self, size: int) -> bytes:
        if self.pulled == 0 and self.content_type.startswith("multipart/"):
            head = (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="big.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            return (head + b"\xff" * size)[:size]
        if self.pulled == 0:
            return (b'{"query": "{ __typename }", "variables": {"pad": "' + b"x" * size)[:size]
        return b"x" * size

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def scope(self) -> dict[str, Any]:
        headers = [(b"content-type", self.content_type.encode()), (b"host", b"testserver")]
        if self.declare_length:
            headers.append((b"content-length", str(self.body_bytes).encode()))
        if self.token:
            headers.append((b"authorization", f"Bearer {self.token}".encode()))
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
        }

    @property
    def status(self) -> int:
        return int(next(m for m in self.messages if m["type"] == "http.response.start")["status"])

    def json(self) -> dict[str, Any]:
        body = b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")
        return json.loads(body)  # type: ignore[no-any-return]


async def exchange(app: Starlette, **request: Any) -> Exchange:
    sent = Exchange(**request)
    await app(sent.scope(), sent.receive, sent.send)
    return sent


def a_login(app: Starlette) -> str:
    state = app.state.courtyard
    return state.tokens.issue(1, now=state.clock())  # type: ignore[no-any-return]


def assert_too_large(sent: Exchange) -> None:
    assert sent.status == 413
    (error,) = sent.json()["errors"]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("content_type", ["application/json", MULTIPART])
async def test_a_declared_length_over_the_cap_is_refused_without_reading_the_body(
    offline_app: Starlette, content_type: str
) -> None:
    token = a_login(offline_app)
    sent = await exchange(offline_app, body_bytes=HUGE, content_type=content_type, declare_length=True, token=token)
    assert_too_large(sent)
    assert sent.pulled == 0


@pytest.mark.parametrize(
    ("content_type", "cap"),
    [("application/json", Settings().max_body_bytes), (MULTIPART, Settings().max_upload_bytes)],
)
async def test_a_chunked_body_is_refused_once_it_passes_the_cap(offline_app: Starlette, content_type: str, cap: int) -> None:
    token = a_login(offline_app)
    sent = await exchange(offline_app, body_bytes=HUGE, content_type=content_type, declare_length=False, token=token)
    assert_too_large(sent)
    assert cap < sent.pulled <= cap + CHUNK


async def test_an_upload_without_a_login_is_refused_before_it_is_read(offline_app: Starlette) -> None:
    anonymous = await exchange(offline_app, body_bytes=10 * MIB, content_type=MULTIPART, declare_length=True)
    assert anonymous.status == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert anonymous.pulled == 0

    token = a_login(offline_app)
    logged_in = await exchange(offline_app, body_bytes=10 * MIB, content_type=MULTIPART, declare_length=True, token=token)
    assert logged_in.pulled == 10 * MIB


async def test_a_body_under_the_cap_is_served(offline_client: httpx.AsyncClient) -> None:
    padding = "x" * (Settings().max_body_bytes - 1000)
    response = await offline_client.post("/graphql", json={"query": "{ __typename }", "variables": {"pad": padding}})
    assert response.json() == {"data": {"__typename": "Query"}}


def test_the_upload_cap_takes_a_full_set_of_photos_or_the_largest_video() -> None:
    form_overhead = 1 * MIB
    assert Settings().max_upload_bytes >= MAX_FILES_PER_REQUEST * MAX_IMAGE_BYTES + form_overhead
    assert Settings().max_upload_bytes >= MAX_VIDEO_BYTES + form_overhead
