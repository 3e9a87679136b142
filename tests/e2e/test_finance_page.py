"""The finance page in headless Chromium (Debian's, through Playwright) against `courtyard serve --demo`:
the reports as server-drawn charts and as figures equal to the API's, at desktop and phone width, the
XLSX export, English on request, and a dispatcher turned away. Screenshots go to tests/e2e/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from tests.e2e.demo_api import DemoApi
from tests.e2e.server import RunningServer, copy_of_seeded_demo, courtyard_serve

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).parent / "artifacts"
FIGURES = """query ($p: ID!, $from: String!, $to: String!, $asOf: Date!) {
  collectionRate(projectId: $p, from: $from, to: $to, asOf: $asOf) { totals { period receivable collected currentRate } }
  arrearsAgeing(projectId: $p, asOf: $asOf) { total { total } unitsInArrears topDebtors { number arrears { total } } }
  dunningDay(projectId: $p) { day notices counts { level status count } }
  dunningWorkQueue(projectId: $p, first: 5) { totalCount edges { node { amountOverdue daysOverdue } } }
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, shared_folder: Path) -> Iterator[RunningServer]:
    with courtyard_serve(copy_of_seeded_demo(shared_folder, tmp_path_factory.mktemp("finance-page")), "--demo") as running:
        yield running


@pytest.fixture(scope="module")
def api(server: RunningServer) -> DemoApi:
    return DemoApi(server.url)


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _open(browser: Browser, server: RunningServer, width: int, *, path: str = "/finance", email: str = "finance@demo.courtyard") -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
    page.goto(f"{server.url}{path}")
    page.fill("#login input[name=email]", email)
    page.fill("#login input[name=password]", "courtyard-demo")
    page.click("#login button[type=submit]")
    return page


def _loaded(page: Page) -> None:
    page.wait_for_selector("body[data-loaded]", timeout=30_000)


def _yuan(text: str) -> str:
    whole, fraction = f"{Decimal(text):.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}¥{int(whole.lstrip('-')):,}.{fraction}"


def _figures(api: DemoApi, page: Page) -> dict[str, Any]:
    token = api.login("finance@demo.courtyard")
    project = api.gql("{ viewer { roles { role project { id } } } }", token=token)["viewer"]["roles"][0]["project"]["id"]
    periods = page.locator("#collection-table tbody th").all_inner_texts()
    variables = {"p": project, "from": periods[0], "to": periods[-1], "asOf": page.input_value("#as-of")}
    return api.gql(FIGURES, variables, token=token)


def test_finance_reads_the_reports_as_charts_and_the_apis_figures_on_a_desktop(
    browser: Browser, server: RunningServer, api: DemoApi
) -> None:
    page = _open(browser, server, 1280)
    errors = _console_errors(page)
    _loaded(page)

    figures = _figures(api, page)
    assert page.evaluate("[...document.querySelectorAll('img.chart')].map((image) => image.naturalWidth)") == [720] * 5
    table = [row.split("\t") for row in page.locator("#collection-table tbody tr").all_inner_texts()]
    assert [(cells[0], cells[1], cells[2]) for cells in table] == [
        (line["period"], _yuan(line["receivable"]), _yuan(line["collected"])) for line in figures["collectionRate"]["totals"]
    ]
    ageing = figures["arrearsAgeing"]
    assert _yuan(ageing["total"]["total"]) in page.inner_text("#ageing-summary")
    assert f"{ageing['unitsInArrears']} 户" in page.inner_text("#ageing-summary")
    assert page.locator("#debtors-table tbody tr").count() == len(ageing["topDebtors"]) == 10
    # the demo's reconciled month leaves one open exception of each of the six kinds
    assert page.inner_text("#reconciliation-summary") == "待处理的对账差异 6 条。"
    # today's dunning: the day's reminders per level and channel add up to the API's, and the top of the queue
    day, queue = figures["dunningDay"], figures["dunningWorkQueue"]
    assert day["notices"] > 0 and queue["totalCount"] > 0, (day, queue)
    assert page.inner_text("#dunning-summary") == f"{day['day']} 的催缴：提醒 {day['notices']} 条；待跟进住户 {queue['totalCount']} 户。"
    dunning = [row.split("\t") for row in page.locator("#dunning-table tbody tr").all_inner_texts()]
    assert sum(sum(int(cell) for cell in cells[2:]) for cells in dunning) == day["notices"]
    assert {cells[0] for cells in dunning} == {count["level"] for count in day["counts"]}
    chased = [row.split("\t") for row in page.locator("#queue-table tbody tr").all_inner_texts()]
    assert [(int(cells[2]), cells[3]) for cells in chased] == [
        (node["node"]["daysOverdue"], _yuan(node["node"]["amountOverdue"])) for node in queue["edges"]
    ]
    page.click("#collection-panel summary")
    assert page.inner_text("#collection-definition").startswith("收缴率按账期计算")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "finance-1280.png"), full_page=True)
    assert errors == []
    page.close()


def test_on_a_phone_the_page_is_one_column_of_compact_charts_without_sideways_scrolling(
    browser: Browser, server: RunningServer
) -> None:
    page = _open(browser, server, 390)
    errors = _console_errors(page)
    _loaded(page)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.evaluate("[...document.querySelectorAll('img.chart')].map((image) => image.naturalWidth)") == [440] * 5
    widths = page.evaluate("[...document.querySelectorAll('.panel')].map((panel) => panel.getBoundingClientRect().width)")
    assert all(width > 350 for width in widths)
    page.screenshot(path=str(ARTIFACTS / "finance-390.png"), full_page=True)
    assert errors == []
    page.close()


def test_the_ageing_export_downloads_a_workbook_holding_the_pages_total(
    browser: Browser, server: RunningServer, tmp_path: Path
) -> None:
    page = _open(browser, server, 1280)
    _loaded(page)

    with page.expect_download() as download:
        page.click("#ageing-panel button.export")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)

    assert download.value.suggested_filename.startswith("ageing-project")
    units = list(load_workbook(path, read_only=True)["分户欠费"].iter_rows(values_only=True))
    assert units[0][:3] == ("楼栋", "房号", "欠费人")
    assert _yuan(str(units[-1][-1])) in page.inner_text("#ageing-summary")
    page.close()


def test_the_page_speaks_english_when_asked(browser: Browser, server: RunningServer) -> None:
    page = _open(browser, server, 1280, path="/finance?lang=en")
    errors = _console_errors(page)
    _loaded(page)

    assert page.inner_text("#collection-title") == "Collection rate"
    assert page.locator("#income-table tbody th").first.inner_text() in {"Alipay", "bank transfer", "cash", "card (POS)", "WeChat Pay"}
    assert page.get_attribute("#chart-ageing", "alt") == "Bars of the arrears in each age bucket"
    page.screenshot(path=str(ARTIFACTS / "finance-1280-en.png"), full_page=True)
    assert errors == []
    page.close()


def test_a_dispatcher_is_told_the_page_is_for_finance_staff(browser: Browser, server: RunningServer) -> None:
    page = _open(browser, server, 1280, email="dispatcher@demo.courtyard")

    page.wait_for_selector("#login .login-error:not(:empty)", timeout=10_000)
    assert page.inner_text("#login .login-error") == "此账号不是任何项目的财务人员或管理员。"
    assert page.is_hidden("#finance")
    page.close()
