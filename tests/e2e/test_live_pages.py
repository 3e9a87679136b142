"""The board and tracking pages in headless Chromium (Debian's, through Playwright) against a real server.

One `courtyard serve --demo` serves the module. Changes are made through the API, as another person's
app would, and the pages must show them without reloading. Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.demo_api import HERE, DemoApi, DemoTechnician
from tests.e2e.server import RunningServer, courtyard_serve

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).parent / "artifacts"
LEAK = "厨房水龙头漏水，地上都是水 kitchen tap leaking"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    folder = tmp_path_factory.mktemp("live-pages")
    with courtyard_serve(folder, "--demo") as server:
        yield server, folder / "courtyard.db"


@pytest.fixture(scope="module")
def api(demo: tuple[RunningServer, Path]) -> DemoApi:
    return DemoApi(demo[0].url)


@pytest.fixture(scope="module")
def technicians(api: DemoApi) -> list[DemoTechnician]:
    return api.technicians()


def _pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


def _row(database: Path, ticket_id: str) -> tuple[str, int | None, int | None]:
    """(status, assignee technician pk, rating) of a ticket, read straight from the server's SQLite file."""
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT status, assignee_id, rating FROM ticket WHERE id = ?", (_pk(ticket_id),)
        ).fetchone()
    return row  # type: ignore[no-any-return]


def _wait_for_row(
    database: Path, ticket_id: str, expected: tuple[str, int | None, int | None], timeout: float = 3
) -> None:
    deadline = time.monotonic() + timeout
    while (row := _row(database, ticket_id)) != expected:
        assert time.monotonic() < deadline, f"database still has {row}, expected {expected}"
        time.sleep(0.05)


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("#login input[name=email]", email)
    page.fill("#login input[name=password]", "courtyard-demo")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#live-status[data-status=live]", timeout=10_000)


def _on_shift(technicians: list[DemoTechnician], *, other_than: str | None) -> DemoTechnician:
    """An on-shift technician, a plumber if one is free (a dispatcher's choice overrides skills anyway)."""
    candidates = [t for t in technicians if t.on_shift and t.id != other_than]
    return next((t for t in candidates if "PLUMBING" in t.skills), candidates[0])


def test_the_board_shows_a_new_ticket_at_once_and_follows_it_across_columns(
    browser: Browser, demo: tuple[RunningServer, Path], api: DemoApi, technicians: list[DemoTechnician]
) -> None:
    server, database = demo
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    _log_in(page, f"{server.url}/board", "dispatcher@demo.courtyard")
    dispatcher = api.login("dispatcher@demo.courtyard")
    owner = api.login("owner1@demo.courtyard")
    unit = api.first_unit(owner)

    # a ticket submitted through the API appears within a second of being accepted, without reloading
    ticket = api.submit(owner, unit, LEAK)
    submitted = time.monotonic()
    card = page.locator(f'#columns .card[data-ticket="{ticket["id"]}"]')
    card.wait_for(timeout=1000)
    assert time.monotonic() - submitted < 1.0

    # the board's assign action changes the ticket in the database
    current = ticket["assignee"]["id"] if ticket["assignee"] else None
    plumber = _on_shift(technicians, other_than=current)
    card.locator("select.assign").select_option(plumber.id)
    _wait_for_row(database, ticket["id"], ("ASSIGNED", _pk(plumber.id), None))
    page.locator(
        f'[data-column="ASSIGNED"] .card[data-ticket="{ticket["id"]}"] .assignee', has_text=plumber.name
    ).wait_for(timeout=1000)

    # the card moves column by column as the technician accepts and checks in
    api.transition(plumber.token, ticket["id"], "ACCEPT")
    page.locator(f'[data-column="ACCEPTED"] .card[data-ticket="{ticket["id"]}"]').wait_for(timeout=1000)
    api.transition(plumber.token, ticket["id"], "CHECK_IN", details=HERE)
    page.locator(f'[data-column="ON_SITE"] .card[data-ticket="{ticket["id"]}"]').wait_for(timeout=1000)
    assert page.locator(f'.technician[data-technician="{plumber.id}"] [data-ticket="{ticket["id"]}"]').count() == 1
    assert page.locator(f'#map circle[data-ticket="{ticket["id"]}"]').count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

    # "optimise now" shows the plan before anything is applied
    before = _row(database, ticket["id"])
    page.click("#optimise")
    page.wait_for_selector("#plan[open] #plan-summary:not(:empty)", timeout=5000)
    page.screenshot(path=str(ARTIFACTS / "board-plan.png"))
    page.click("#plan-discard")
    assert _row(database, ticket["id"]) == before
    api.transition(dispatcher, ticket["id"], "CANCEL", note="e2e clean-up")
    card.wait_for(state="detached", timeout=1000)
    page.close()


def test_the_owner_sees_each_step_of_the_repair_live(
    browser: Browser, demo: tuple[RunningServer, Path], api: DemoApi, technicians: list[DemoTechnician]
) -> None:
    server, database = demo
    owner = api.login("owner2@demo.courtyard")
    ticket = api.submit(owner, api.first_unit(owner), LEAK)
    if ticket["assignee"] is None:
        api.assign(api.login("dispatcher@demo.courtyard"), ticket["id"], _on_shift(technicians, other_than=None).id)
    assignee = next(t for t in technicians if t.id == _row_technician(api, owner, ticket["id"]))
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _log_in(page, f"{server.url}/track/{ticket['id']}", "owner2@demo.courtyard")

    page.locator('[data-step="ASSIGNED"].done', has_text=f"Assigned to {assignee.name}").wait_for(timeout=2000)
    assert page.inner_text("#promise").startswith("A technician will be with you by ")
    for action, step, details, note in (
        ("ACCEPT", "ACCEPTED", None, None),
        ("CHECK_IN", "CHECKED_IN", HERE, None),
        ("START", "STARTED", None, None),
        ("RESOLVE", "RESOLVED", None, "换了阀芯 replaced the cartridge"),
    ):
        api.transition(assignee.token, ticket["id"], action, details=details, note=note)
        page.locator(f'[data-step="{step}"].done').wait_for(timeout=1000)
    page.wait_for_selector("#resolved-actions:not([hidden])", timeout=1000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "track.png"), full_page=True)

    page.click('.rating button[data-rating="5"]')
    page.click("#confirm")
    page.locator('[data-step="CLOSED"].done').wait_for(timeout=2000)
    _wait_for_row(database, ticket["id"], ("CLOSED", _pk(assignee.id), 5))
    assert page.inner_text("#promise") == "Done. Thank you!"
    page.screenshot(path=str(ARTIFACTS / "track-closed.png"), full_page=True)
    page.close()


def _row_technician(api: DemoApi, token: str, ticket_id: str) -> str:
    query = "query($id: ID!) { node(id: $id) { ... on Ticket { assignee { id } } } }"
    return api.gql(query, {"id": ticket_id}, token=token)["node"]["assignee"]["id"]  # type: ignore[no-any-return]
