"""Every answer forbids framing, sniffing and referrers and carries a content security policy; pages run
only their own code; CORS follows COURTYARD_ALLOWED_ORIGINS.

None of these answers touches the database, so one SQLite app serves the module. The pages running
under their policy in a real browser, and CORS from another origin in Chromium, are tests/e2e/test_browser_edge.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import create_app
from api.security_headers import FILE_POLICY, SecurityHeaders
from tests.conftest import offline_settings, serving

FRONT_END = "http://localhost:5173"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = offline_settings(tmp_path, allowed_origins=(FRONT_END,), max_body_bytes=4096)
    async with serving(create_app(settings, migrate=False)) as http:
        yield http


ANSWERS = {
    "GraphiQL": ("GET", "/graphql", {"headers": {"Accept": "text/html"}}),
    "a GraphQL result": ("POST", "/graphql", {"json": {"query": "{ __typename }"}}),
    "a request error": ("POST", "/graphql", {"json": {"query": "{ nope }"}}),
    "a body over its cap": ("POST", "/graphql", {"json": {"query": "{ __typename }", "variables": {"x": "x" * 5000}}}),
    "the board": ("GET", "/board", {}),
    "the tracking page": ("GET", "/track/VGlja2V0OjE=", {}),
    "a static asset": ("GET", "/static/live/board.js", {}),
    "the health check": ("GET", "/healthz", {}),
    "an unknown address": ("GET", "/nowhere", {}),
}
PAGES = ("GraphiQL", "the board", "the tracking page")


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


@pytest.mark.parametrize("answer", ANSWERS)
async def test_every_answer_forbids_framing_sniffing_and_referrers(client: httpx.AsyncClient, answer: str) -> None:
    method, path, parts = ANSWERS[answer]
    response = await client.request(method, path, **parts)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    if answer not in PAGES:
        assert policy["default-src"] == ["'none'"]


@pytest.mark.parametrize("page", PAGES)
async def test_pages_run_only_code_from_their_own_origin(client: httpx.AsyncClient, page: str) -> None:
    method, path, parts = ANSWERS[page]
    response = await client.request(method, path, **parts)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = directives(response.headers["Content-Security-Policy"])
    for directive in ("script-src", "style-src"):
        sources = policy[directive]
        assert sources[0] == "'self'"
        # Inline blocks are allowed one by one, by hash; nothing else inline, no eval, no other host.
        assert all(source.startswith("'sha256-") for source in sources[1:]), sources
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]


@pytest.mark.parametrize("media_type", ["image/jpeg", "video/mp4", "application/pdf"])
async def test_files_opened_in_the_browsers_viewer_are_only_kept_from_frames(media_type: str) -> None:
    async def photo(request: Request) -> Response:
        return Response(b"\xff\xd8\xff", media_type=media_type)

    app = SecurityHeaders(Starlette(routes=[Route("/attachments/1", photo)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/attachments/1")
    assert response.headers["Content-Security-Policy"] == FILE_POLICY == "frame-ancestors 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_front_end_on_an_allowed_origin_may_call_the_api_with_a_bearer_token(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/graphql",
        headers={
            "Origin": FRONT_END,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == FRONT_END
    allowed_headers = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert "Access-Control-Allow-Credentials" not in preflight.headers

    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": FRONT_END, "Authorization": "Bearer x"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_other_origins_get_no_cors_permission(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/graphql", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 400
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
