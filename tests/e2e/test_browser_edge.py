"""The HTTP edge of a real `courtyard serve`, seen by Chromium and over a raw socket: pages that run under
their content security policy, an access log without secrets, and a body refused on its declared length
before it is sent (the chunked case is test_body_limits.py's).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.server import RunningServer, courtyard_serve

pytestmark = pytest.mark.e2e

# Collects every content-security-policy violation the page reports, from its first script on.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("browser-edge")
    with courtyard_serve(folder) as server:
        yield server


def watched_page(browser: Browser) -> Page:
    page = browser.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    return page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__violations")  # type: ignore[no-any-return]


def test_graphiql_works_under_its_content_security_policy(browser: Browser, api: RunningServer) -> None:
    page = watched_page(browser)
    page.goto(f"{api.url}/graphql")
    page.locator(".graphiql-execute-button").click()
    # The default operation logs in with demo credentials this server does not have: an expected failure.
    page.locator(".result-window", has_text="INVALID_CREDENTIALS").wait_for(timeout=10_000)
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
