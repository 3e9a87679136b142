"""The HTTP edge of a real `courtyard serve`, seen by Chromium and over raw sockets: CORS from a front end
on another origin, pages that run under their content security policy, an access log without secrets,
and a body refused on its declared length before it is sent (the chunked case is test_body_limits.py's).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from api.pages.graphiql_examples import EXAMPLE_TABS
from tests.e2e.server import RunningServer, courtyard_serve

pytestmark = pytest.mark.e2e

# What a Vite dev server's page would run: a JSON POST with a bearer token (so the browser preflights).
CALL_THE_API = """async (api) => {
  try {
    const response = await fetch(api + "/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer not-a-real-token" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { failed: String(error) };
  }
}"""
# Collects every content-security-policy violation the page reports, from its first script on.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class _FrontEnd(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        page = b"<!doctype html><title>A front end on another origin</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front_end() -> Iterator[int]:
    """A page server on a port of its own; its port is the front end's origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FrontEnd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, front_end: int) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("browser-edge")
    with courtyard_serve(folder, env={"COURTYARD_ALLOWED_ORIGINS": f"http://127.0.0.1:{front_end}"}) as server:
        yield server


def watched_page(browser: Browser) -> Page:
    page = browser.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    return page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")  # type: ignore[no-any-return]


def test_a_front_end_on_an_allowed_origin_calls_the_api_from_chromium(
    browser: Browser, api: RunningServer, front_end: int
) -> None:
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{front_end}/")
    assert page.evaluate(CALL_THE_API, api.url) == {"status": 200, "body": {"data": {"__typename": "Query"}}}

    # The same page served under another name is another origin, and not an allowed one.
    page.goto(f"http://localhost:{front_end}/")
    assert "failed" in page.evaluate(CALL_THE_API, api.url)
    page.close()


def test_graphiql_works_under_its_content_security_policy(browser: Browser, api: RunningServer) -> None:
    page = watched_page(browser)
    page.goto(f"{api.url}/graphql")
    page.locator(".graphiql-execute-button").click()
    # The default operation logs in with demo credentials this server does not have: an expected failure.
    page.locator(".result-window", has_text="INVALID_CREDENTIALS").wait_for(timeout=10_000)
    assert violations(page) == []
    page.close()


def test_graphiql_opens_a_tab_per_example_and_runs_subscriptions_over_the_websocket(
    browser: Browser, api: RunningServer
) -> None:
    page = watched_page(browser)
    page.goto(f"{api.url}/graphql")
    tabs = page.locator(".graphiql-tab")
    tabs.first.wait_for(timeout=10_000)
    assert tabs.count() == len(EXAMPLE_TABS)

    # a subscription without a token: the websocket refuses it (HTTP would answer "use the websocket")
    page.locator(".graphiql-tab", has_text="OwnerFollowTicket").click()
    page.locator(".graphiql-execute-button").click()
    page.locator(".result-window", has_text="UNAUTHENTICATED").wait_for(timeout=10_000)
    assert "websocket" not in page.locator(".result-window").inner_text().lower()
    assert violations(page) == []
    page.close()


@pytest.mark.parametrize("path", ["/board", "/track/VGlja2V0OjE="])
def test_the_live_pages_load_under_their_content_security_policy(browser: Browser, api: RunningServer, path: str) -> None:
    page = watched_page(browser)
    page.goto(f"{api.url}{path}", wait_until="networkidle")
    page.locator("#login input[name=email]").wait_for()
    assert violations(page) == []
    page.close()


def test_the_access_log_keeps_no_query_string_values(api: RunningServer) -> None:
    password = "hunter2-must-not-be-logged"
    login = f'mutation {{ login(email: "a@example.test", password: "{password}") {{ __typename }} }}'
    assert httpx.get(f"{api.url}/graphql", params={"query": login}).status_code == 405
    assert httpx.get(f"{api.url}/attachments/1", params={"expires": "1", "signature": "s3cret-signature"}).status_code
    deadline = time.monotonic() + 5
    while "/attachments/1?" not in api.log():
        assert time.monotonic() < deadline, api.log()
        time.sleep(0.05)
    log = api.log()
    assert "GET /graphql?query=[redacted] HTTP/1.1" in log
    assert "/attachments/1?expires=[redacted]&signature=[redacted]" in log
    assert password not in log and "s3cret" not in log



def test_a_declared_200_mb_body_is_refused_before_it_is_sent(api: RunningServer) -> None:
    host, port = api.url.removeprefix("http://").split(":")
    head = f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"{head}Content-Length: 200000000\r\n\r\n".encode())
        while data := connection.recv(65536):  # until the server closes the connection
            answer += data
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"PAYLOAD_TOO_LARGE"' in answer
