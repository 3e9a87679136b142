"""The board and tracking pages in headless Chromium (Debian's, through Playwright) against a real server.

One `courtyard serve --demo` serves the module. Changes are made through the API, as another person's
app would, and the pages must show them without reloading. The pages speak the project's locale (zh-CN
unless the address asks for English). Screenshots go to tests/e2e/artifacts/.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.demo_api import HERE, DemoApi, DemoTechnician
from tests.e2e.server import RunningServer, copy_of_seeded_demo, courtyard_serve
from tests.speech import encoded, spoken

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).parent / "artifacts"
LEAK = "厨房水龙头漏水，地上都是水 kitchen tap leaking"
LATIN = re.compile(r"[A-Za-z]")
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
# What the board itself writes on every card and heading (not the data: names, descriptions, places).
BOARD_TEXTS = (
    ".column h2",
    ".card .priority",
    ".card .category",
    ".card .age",
    ".card .sla",
    ".card select.assign option[value='']",
    ".card button.cancel",
    ".technician .shift",
    "#optimise",
    "#live-status",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, shared_folder: Path) -> Iterator[tuple[RunningServer, Path]]:
    folder = copy_of_seeded_demo(shared_folder, tmp_path_factory.mktemp("live-pages"))
    with courtyard_serve(folder, "--demo") as server:
        yield server, folder / "courtyard.db"


@pytest.fixture(scope="module")
def server(demo: tuple[RunningServer, Path]) -> RunningServer:
    return demo[0]


@pytest.fixture(scope="module")
def database(demo: tuple[RunningServer, Path]) -> Path:
    """The server's SQLite file."""
    return demo[1]


@pytest.fixture(scope="module")
def api(server: RunningServer) -> DemoApi:
    return DemoApi(server.url)


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


def _console_errors(page: Page) -> list[str]:
    """Errors the page logs from now on (a missing text logs one)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _texts(page: Page, selectors: tuple[str, ...]) -> list[str]:
    return [text for selector in selectors for text in page.locator(selector).all_inner_texts()]


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.fill("#login input[name=email]", email)
    page.fill("#login input[name=password]", "courtyard-demo")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#live-status[data-status=live]", timeout=10_000)


def _center(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _touch_drag(page: Page, start: str, target: str) -> None:
    """Drag with one finger, as the touch screen reports it (Chromium turns it into touch pointer events)."""
    touch = page.context.new_cdp_session(page)
    x, y = _center(page, start)

    def finger(kind: str, *at: tuple[float, float]) -> None:
        touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": px, "y": py} for px, py in at]})

    finger("touchStart", (x, y))
    for step in range(1, 4):
        finger("touchMove", (x + 4 * step, y + 4 * step))
    # the drop targets are known once the card is lifted (on a phone they rise from the bottom)
    page.locator(target).wait_for(timeout=1000)
    to_x, to_y = _center(page, target)
    for step in range(1, 6):
        finger("touchMove", (x + (to_x - x) * step / 5, y + (to_y - y) * step / 5))
    page.screenshot(path=str(ARTIFACTS / "board-390-drag.png"))
    finger("touchEnd")
    touch.detach()


def _report_leak(api: DemoApi, owner_email: str) -> tuple[str, dict[str, Any]]:
    """An owner's token and the ticket they just submitted for a leak in their first unit."""
    owner = api.login(owner_email)
    return owner, api.submit(owner, api.first_unit(owner), LEAK)


def _on_shift(technicians: list[DemoTechnician], *, other_than: str | None) -> DemoTechnician:
    """An on-shift technician, a plumber if one is free (a dispatcher's choice overrides skills anyway)."""
    candidates = [t for t in technicians if t.on_shift and t.id != other_than]
    return next((t for t in candidates if "PLUMBING" in t.skills), candidates[0])


def test_the_board_shows_a_new_ticket_at_once_and_follows_it_across_columns(
    browser: Browser, server: RunningServer, database: Path, api: DemoApi, technicians: list[DemoTechnician]
) -> None:
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
    browser: Browser, server: RunningServer, database: Path, api: DemoApi, technicians: list[DemoTechnician]
) -> None:
    owner, ticket = _report_leak(api, "owner2@demo.courtyard")
    if ticket["assignee"] is None:
        api.assign(api.login("dispatcher@demo.courtyard"), ticket["id"], _on_shift(technicians, other_than=None).id)
    assignee = next(t for t in technicians if t.id == _row_technician(api, owner, ticket["id"]))
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _log_in(page, f"{server.url}/track/{ticket['id']}", "owner2@demo.courtyard")

    page.locator('[data-step="ASSIGNED"].done', has_text=f"已派给{assignee.name}").wait_for(timeout=2000)
    assert re.fullmatch(r"维修师傅将在(明天 )?\d\d:\d\d前上门。", page.inner_text("#promise"))
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
    assert page.inner_text("#promise") == "已完成，谢谢！"
    assert [text for text in _texts(page, (".step .title", "#closed-note")) if LATIN.search(text)] == []
    page.screenshot(path=str(ARTIFACTS / "track-closed.png"), full_page=True)
    page.close()


# Where the board's parts are, in CSS pixels, measured in the page.
LAYOUT = """() => {
  const box = (element) => element.getBoundingClientRect();
  const header = document.querySelector(".topbar");
  const style = getComputedStyle(header);
  return {
    viewport: document.documentElement.clientWidth,
    documentWidth: document.documentElement.scrollWidth,
    columns: [...document.querySelectorAll("#columns .column")]
      .map((c) => ({ left: box(c).left, right: box(c).right, top: box(c).top })),
    columnsOverflow: document.querySelector("#columns").scrollWidth - document.querySelector("#columns").clientWidth,
    side: box(document.querySelector(".side")).left,
    header: box(header).height,
    oneLine: Math.max(parseFloat(getComputedStyle(header.querySelector("h1")).lineHeight),
      ...[...header.querySelectorAll("button:not([hidden]), .status")].map((e) => box(e).height))
      + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom) + parseFloat(style.borderBottomWidth),
  };
}"""


def test_every_column_fits_the_window_on_desktops_and_phones(
    browser: Browser, server: RunningServer
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    desktop = browser.new_page(viewport={"width": 1280, "height": 800})
    _log_in(desktop, f"{server.url}/board", "dispatcher@demo.courtyard")
    desktop.locator("#columns .card").first.wait_for(timeout=5000)
    for width in (1280, 1440):
        desktop.set_viewport_size({"width": width, "height": 900})
        layout = desktop.evaluate(LAYOUT)
        desktop.screenshot(path=str(ARTIFACTS / f"board-{width}.png"))

        # all seven columns side by side, the last one (RESOLVED) whole, left of the technicians
        assert len(layout["columns"]) == 7
        assert len({round(column["top"]) for column in layout["columns"]}) == 1
        assert layout["columns"][-1]["right"] <= min(layout["side"], layout["viewport"])
        assert layout["columnsOverflow"] == 0
        assert layout["documentWidth"] == width
    desktop.close()

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    _log_in(phone, f"{server.url}/board", "dispatcher@demo.courtyard")
    phone.locator("#columns .card").first.wait_for(timeout=5000)
    layout = phone.evaluate(LAYOUT)
    phone.screenshot(path=str(ARTIFACTS / "board-390.png"))
    phone.screenshot(path=str(ARTIFACTS / "board-390-full.png"), full_page=True)

    # nothing to scroll sideways: the columns stack, each as wide as the screen
    assert layout["documentWidth"] == layout["viewport"] == 390
    assert all(column["left"] >= 0 and column["right"] <= 390 for column in layout["columns"])
    assert layout["columnsOverflow"] == 0
    # the header is one line: title (shortened if need be), the optimise button and the live badge
    assert layout["header"] <= layout["oneLine"] + 1
    context.close()


MAP = """() => {
  const center = (box) => ({ x: box.left + box.width / 2, y: box.top + box.height / 2, size: box.width });
  const buildings = {};
  for (const building of document.querySelectorAll("#map .building")) {
    const count = building.querySelector("text.count");
    buildings[building.dataset.building] = {
      count: count ? Number(count.textContent) : 0,
      square: center(building.querySelector("rect").getBoundingClientRect()),
      tickets: [],
    };
  }
  for (const dot of document.querySelectorAll("#map circle.ticket")) {
    buildings[dot.dataset.building].tickets.push(center(dot.getBoundingClientRect()));
  }
  const technicians = [...document.querySelectorAll("#map .technician")].map((t) => center(t.getBoundingClientRect()));
  return { buildings: Object.values(buildings), technicians };
}"""


def _apart(markers: list[dict[str, float]]) -> bool:
    """No two markers overlap: their centres are at least half of each one's size apart."""
    return all(
        ((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2) ** 0.5 >= (a["size"] + b["size"]) / 2 - 0.5
        for index, a in enumerate(markers)
        for b in markers[index + 1 :]
    )


def test_the_map_spreads_a_buildings_tickets_around_it_and_counts_them(
    browser: Browser, server: RunningServer
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _log_in(page, f"{server.url}/board", "dispatcher@demo.courtyard")
    page.locator("#map circle.ticket").first.wait_for(timeout=5000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#map").screenshot(path=str(ARTIFACTS / "board-map.png"))
    drawn = page.evaluate(MAP)
    buildings = drawn["buildings"]

    assert max(len(building["tickets"]) for building in buildings) >= 3
    for building in buildings:
        assert building["count"] == len(building["tickets"])
        # each ticket a dot of its own, none on another nor on the building's square
        assert _apart([*building["tickets"], building["square"]])
    assert _apart(drawn["technicians"])
    page.close()


def test_a_ticket_is_assigned_by_dragging_it_with_a_finger_or_a_mouse(
    browser: Browser, server: RunningServer, database: Path, api: DemoApi, technicians: list[DemoTechnician]
) -> None:
    _, ticket = _report_leak(api, "owner4@demo.courtyard")
    card = f'.card[data-ticket="{ticket["id"]}"]'
    first = _on_shift(technicians, other_than=ticket["assignee"]["id"] if ticket["assignee"] else None)
    ARTIFACTS.mkdir(exist_ok=True)

    # on a phone, a finger lifts the card by its grip and drops it on a technician in the tray
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone = context.new_page()
    _log_in(phone, f"{server.url}/board", "dispatcher@demo.courtyard")
    phone.locator(f"{card} .grip").scroll_into_view_if_needed()
    scrolled = phone.evaluate("scrollY")
    _touch_drag(phone, f"{card} .grip", f'#drop-tray [data-technician="{first.id}"]')
    _wait_for_row(database, ticket["id"], ("ASSIGNED", _pk(first.id), None))
    assert phone.evaluate("scrollY") == scrolled  # the finger dragged the card, not the page
    phone.locator("#drop-tray").wait_for(state="hidden", timeout=1000)
    context.close()

    # on a desktop, the mouse drags the whole card onto a technician in the side panel
    second = _on_shift(technicians, other_than=first.id)
    desktop = browser.new_page(viewport={"width": 1280, "height": 800})
    _log_in(desktop, f"{server.url}/board", "dispatcher@demo.courtyard")
    desktop.locator(f"{card} .assignee", has_text=first.name).wait_for(timeout=5000)
    desktop.drag_and_drop(f"{card} .description", f'#technicians [data-technician="{second.id}"]')
    _wait_for_row(database, ticket["id"], ("ASSIGNED", _pk(second.id), None))
    desktop.locator(f"{card} .assignee", has_text=second.name).wait_for(timeout=1000)
    api.transition(api.login("dispatcher@demo.courtyard"), ticket["id"], "CANCEL", note="e2e clean-up")
    desktop.close()


SETTINGS = """query($projectId: ID!) { dispatchSettings(projectId: $projectId) {
  warningPercent sla { priority respondMinutes } } }"""
SET_WARNING = """mutation($projectId: ID!, $percent: Int!) {
  updateDispatchSettings(input: { projectId: $projectId, warningPercent: $percent }) { __typename } }"""
DEADLINES = "query($id: ID!) { node(id: $id) { ... on Ticket { priority respondDueAt } } }"


def _project_id(api: DemoApi, token: str) -> str:
    roles = api.gql("{ viewer { roles { role project { id } } } }", token=token)["viewer"]["roles"]
    return next(role["project"]["id"] for role in roles if role["role"] == "ADMIN")  # type: ignore[no-any-return]


def _sla_badge(page: Page, ticket_id: str, at: dt.datetime) -> str:
    """The SLA level the board shows for the ticket once the browser's clock reads `at`."""
    page.clock.set_system_time(at)
    page.clock.run_for(1000)  # the board re-evaluates its countdowns every second
    return page.locator(f'.card[data-ticket="{ticket_id}"] .sla').get_attribute("data-sla") or ""


def test_the_amber_warning_follows_the_projects_warning_percent(
    browser: Browser, server: RunningServer, api: DemoApi
) -> None:
    admin = api.login("admin@demo.courtyard")
    project = _project_id(api, admin)
    before: dict[str, Any] = api.gql(SETTINGS, {"projectId": project}, token=admin)["dispatchSettings"]
    owner, ticket = _report_leak(api, "owner3@demo.courtyard")
    facts = api.gql(DEADLINES, {"id": ticket["id"]}, token=owner)["node"]
    allowed = dt.timedelta(
        minutes=next(sla["respondMinutes"] for sla in before["sla"] if sla["priority"] == facts["priority"])
    )
    deadline = dt.datetime.fromisoformat(facts["respondDueAt"])
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.clock.install(time=dt.datetime.now(dt.UTC))
    try:
        api.gql(SET_WARNING, {"projectId": project, "percent": 50}, token=admin)
        _log_in(page, f"{server.url}/board", "dispatcher@demo.courtyard")
        page.locator(f'.card[data-ticket="{ticket["id"]}"]').wait_for(timeout=5000)
        assert _sla_badge(page, ticket["id"], deadline - allowed * 0.55) == "ok"  # 45 % of the time gone
        assert _sla_badge(page, ticket["id"], deadline - allowed * 0.4) == "warning"  # 60 %

        api.gql(SET_WARNING, {"projectId": project, "percent": 90}, token=admin)
        page.reload()
        page.locator(f'.card[data-ticket="{ticket["id"]}"]').wait_for(timeout=5000)
        assert _sla_badge(page, ticket["id"], deadline - allowed * 0.15) == "ok"  # 85 %
        assert _sla_badge(page, ticket["id"], deadline - allowed * 0.05) == "warning"  # 95 %
        assert _sla_badge(page, ticket["id"], deadline + dt.timedelta(seconds=5)) == "breached"
    finally:
        api.gql(SET_WARNING, {"projectId": project, "percent": before["warningPercent"]}, token=admin)
        api.transition(api.login("dispatcher@demo.courtyard"), ticket["id"], "CANCEL", note="e2e clean-up")
        page.close()


def _row_technician(api: DemoApi, token: str, ticket_id: str) -> str:
    query = "query($id: ID!) { node(id: $id) { ... on Ticket { assignee { id } } } }"
    return api.gql(query, {"id": ticket_id}, token=token)["node"]["assignee"]["id"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("lang", "foreign"), [("", LATIN), ("?lang=en", CJK)], ids=["zh-CN", "en"])
def test_the_board_speaks_the_locale_throughout(
    browser: Browser, server: RunningServer, lang: str, foreign: re.Pattern[str]
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = _console_errors(page)
    page.goto(f"{server.url}/board{lang}")
    login_texts = _texts(page, ("#login h2", "#login label", "#login button"))
    _log_in(page, f"{server.url}/board{lang}", "dispatcher@demo.courtyard")
    page.locator("#columns .card").first.wait_for(timeout=5000)
    shown = _texts(page, BOARD_TEXTS)

    assert page.evaluate("document.documentElement.lang") == (lang.removeprefix("?lang=") or "zh-CN")
    assert len(shown) > 20
    assert [text for text in login_texts + shown if foreign.search(text)] == []
    assert page.locator("[data-text]:empty").count() == 0
    assert errors == []
    page.close()


def test_the_server_answers_favicon_ico_with_an_icon(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/favicon.ico", timeout=5)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO directory


def test_a_voice_report_that_could_not_be_transcribed_is_on_the_board_and_plays_there(
    browser: Browser, server: RunningServer, api: DemoApi
) -> None:
    # an owner's WeChat voice note nobody taught the sandbox recogniser: it waits in triage, audio kept
    owner = api.login("owner1@demo.courtyard")
    document = "mutation($input: SubmitTicketInput!) { submitTicket(input: $input) { ... on Ticket { id status description } } }"
    operations = {"query": document, "variables": {"input": {"unitId": api.first_unit(owner), "voice": None}}}
    response = httpx.post(
        f"{server.url}/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.voice"]})},
        files={"0": ("语音.amr", encoded(spoken("我家厕所的水箱一直在响"), "amr"), "application/octet-stream")},
        headers={"Authorization": f"Bearer {owner}"},
        timeout=30,
    )
    ticket = response.json()["data"]["submitTicket"]
    assert (ticket["status"], ticket["description"]) == ("TRIAGE", "【语音报修】未能自动转写，请收听录音。")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = _console_errors(page)
    _log_in(page, f"{server.url}/board", "dispatcher@demo.courtyard")
    card = page.locator(f'[data-column="TRIAGE"] .card[data-ticket="{ticket["id"]}"]')
    card.wait_for(timeout=5000)
    card.locator("button.voice").click()
    # the browser plays the WAV copy of the AMR note: it loads it and knows how long it is
    page.wait_for_function(
        "() => { const p = document.querySelector('#voice-player'); return p && p.readyState >= 1 && p.duration > 1; }",
        timeout=5000,
    )
    assert "/attachments/" in page.eval_on_selector("#voice-player", "player => player.src")
    assert errors == []
    api.transition(api.login("dispatcher@demo.courtyard"), ticket["id"], "CANCEL", note="e2e clean-up")
    page.close()


WHOLE_DAY = """mutation ($input: SetTechnicianShiftInput!) { setTechnicianShift(input: $input) { __typename } }"""
CLEAR_DAY = """mutation ($t: ID!, $day: Date) { clearTechnicianShift(technicianId: $t, onDate: $day) { __typename } }"""
ROUTES_DRAWN = """() => {
  const routes = {};
  for (const line of document.querySelectorAll("#map polyline.route")) {
    routes[line.dataset.route] = { points: line.getAttribute("points").trim().split(/\\s+/).length, stops: [] };
  }
  for (const stop of document.querySelectorAll("#map .route-stop")) {
    routes[stop.dataset.route].stops.push({
      number: Number(stop.querySelector("text").textContent),
      tip: stop.querySelector("title").textContent,
      ticketOnMap: document.querySelector(`#map circle.ticket[data-ticket="${stop.dataset.ticket}"]`) !== null,
    });
  }
  return routes;
}"""


def test_the_map_draws_each_technicians_route_with_numbered_stops_and_their_reasons(
    browser: Browser, server: RunningServer, api: DemoApi, technicians: list[DemoTechnician]
) -> None:
    # given a technician working the whole of today, so their route has room for visits at any hour
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))  # the demo project's zone, Asia/Shanghai
    if today.hour == 23:
        pytest.skip("in the day's last hour no visit fits before midnight")
    dispatcher = api.login("dispatcher@demo.courtyard")
    worker = _on_shift(technicians, other_than=None)
    whole_day = {"technicianId": worker.id, "onDate": today.date().isoformat(), "startsAt": "00:00:00", "endsAt": "23:59:00"}
    assert api.gql(WHOLE_DAY, {"input": whole_day}, token=dispatcher)["setTechnicianShift"]["__typename"] == "Technician"
    planned = api.gql("query ($p: ID!) { dayRoutes(projectId: $p) { routes { technicianId stops { ticketId } } } }",
                      {"p": api.gql("{ viewer { roles { project { id } } } }", token=dispatcher)["viewer"]["roles"][0]["project"]["id"]},
                      token=dispatcher)["dayRoutes"]["routes"]
    assert any(route["stops"] for route in planned if route["technicianId"] == worker.id)

    # when the dispatcher opens the board
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _log_in(page, f"{server.url}/board", "dispatcher@demo.courtyard")
    page.locator(f'#map polyline.route[data-route="{worker.id}"]').wait_for(timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#map").screenshot(path=str(ARTIFACTS / "board-routes.png"))
    drawn = page.evaluate(ROUTES_DRAWN)

    # then every route is a line from the technician through its stops, numbered 1, 2, … in order, each
    # stop's reasons in its tooltip
    assert worker.id in drawn
    for route in drawn.values():
        assert route["stops"], "a line is drawn only for a route with stops"
        assert [stop["number"] for stop in route["stops"]] == list(range(1, len(route["stops"]) + 1))
        assert route["points"] == len(route["stops"]) + 1  # where the technician is, then each stop
        for stop in route["stops"]:
            assert stop["ticketOnMap"]
            assert "第" in stop["tip"] and "\n" in stop["tip"]
    # and a click on a stop says where, when and why below the map
    first = page.locator(f'#map .route-stop[data-route="{worker.id}"][data-number="1"]')
    first.click()
    detail = page.locator("#route-detail").inner_text()
    assert detail.startswith(f"{worker.name} 第1站") and "具备" in detail
    page.close()
    api.gql(CLEAR_DAY, {"t": worker.id, "day": today.date().isoformat()}, token=dispatcher)
