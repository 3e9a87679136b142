"""The board and tracking pages: self-hosted assets, loaded in order, texts in every language they speak for
everything the API can say, nothing a same-origin content security policy would block, and a vendored client
matching its record."""

from __future__ import annotations

import hashlib
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from api.live import BOARD_HTML, FAVICON, TRACK_HTML, live_routes
from api.pages import STATIC_DIR
from db.models import LocationKind
from dispatch.solver import UnassignableCode
from kernel.errors import ErrorCode
from kernel.vocabulary import Category, Priority, TicketEventType, TicketStatus

VENDOR_DIR = STATIC_DIR / "graphql-ws"
VERSIONS_FILE = VENDOR_DIR / "VERSIONS.txt"
VENDOR_SCRIPT = Path(__file__).parents[2] / "api" / "pages" / "vendor_graphql_ws.sh"
PAGES = {"board": BOARD_HTML, "track": TRACK_HTML}
LIVE = STATIC_DIR / "live"
LOCALES = ("zh-CN", "en")
# Values the pages receive from the API and show by their text ("status.NEW" → 待派单 / New).
VOCABULARY: dict[str, set[str]] = {
    "status": set(TicketStatus),
    "priority": set(Priority),
    "category": set(Category),
    "location": {kind.value for kind in LocationKind},
    "event": set(TicketEventType),
    "unassignable": {code.value for code in UnassignableCode},
    "error": {*ErrorCode, "UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED", "NETWORK"},
}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.links.append(values["href"] or "")


def _assets(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


def _page_sources(name: str) -> str:
    """The page and the scripts and styles it loads from /static/live/."""
    assets = _assets(PAGES[name])
    own = [STATIC_DIR / url.removeprefix("/static/") for url in assets.scripts + assets.links if "/live/" in url]
    return PAGES[name] + "".join(path.read_text(encoding="utf-8") for path in own)


@pytest.mark.parametrize("name", PAGES)
def test_page_and_its_own_assets_fetch_nothing_from_another_host(name: str) -> None:
    assert re.findall(r"https?://|//cdn|unpkg|jsdelivr", _page_sources(name), flags=re.IGNORECASE) == []


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_the_websocket_client_then_the_shared_code_then_its_own(name: str) -> None:
    assert _assets(PAGES[name]).scripts == [
        "/static/graphql-ws/graphql-ws.min.js",
        "/static/live/common.js",
        f"/static/live/{name}.js",
    ]
    assert _assets(PAGES[name]).links == ["/favicon.ico", f"/static/live/{name}.css"]


@pytest.mark.parametrize("name", PAGES)
def test_every_static_path_a_page_references_exists(name: str) -> None:
    paths = re.findall(r"/static/[\w./-]+", PAGES[name])

    assert paths
    assert [path for path in paths if not (STATIC_DIR / path.removeprefix("/static/")).is_file()] == []


def test_the_board_has_the_seven_columns_in_order() -> None:
    board = (STATIC_DIR / "live" / "board.js").read_text(encoding="utf-8")

    columns = re.findall(r'"([A-Z_]+)"', board.split("const COLUMNS = [")[1].split("];")[0])

    assert columns == ["TRIAGE", "NEW", "ASSIGNED", "ACCEPTED", "ON_SITE", "IN_PROGRESS", "RESOLVED"]


def test_the_tracking_page_is_laid_out_for_phones() -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in TRACK_HTML


def test_both_pages_resubscribe_from_the_last_seq_they_saw() -> None:
    common = (STATIC_DIR / "live" / "common.js").read_text(encoding="utf-8")

    assert "payload.variables.afterSeq = event.seq;" in common
    assert "retryAttempts: Infinity" in common


def test_the_icon_holds_a_16_and_a_32_pixel_image() -> None:
    data = FAVICON.read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    sizes = {(data[6 + 16 * index] or 256, data[7 + 16 * index] or 256) for index in range(count)}

    assert (reserved, kind) == (0, 1)
    assert {(16, 16), (32, 32)} <= sizes


async def test_favicon_ico_answers_the_icon() -> None:
    transport = httpx.ASGITransport(app=Starlette(routes=live_routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://courtyard.test") as client:
        response = await client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content == FAVICON.read_bytes()


def _texts(script: str) -> dict[str, set[str]]:
    """The keys of each locale's table in a page script (`"zh-CN": {` … `},` and `en: {` … `},`)."""
    tables = {}
    for locale in LOCALES:
        opening = f'"{locale}": {{' if "-" in locale else f"{locale}: {{"
        block = re.search(rf"^(\s*){re.escape(opening)}\n(.*?)\n\1}},$", script, flags=re.MULTILINE | re.DOTALL)
        assert block, f"no {locale} table"
        tables[locale] = set(re.findall(r'^\s*"([\w.]+)":', block.group(2), flags=re.MULTILINE))
    return tables


SHARED_TEXTS = _texts((LIVE / "common.js").read_text(encoding="utf-8"))


@pytest.mark.parametrize("script", ["common.js", "board.js", "track.js"])
def test_every_text_is_there_in_both_languages(script: str) -> None:
    tables = _texts((LIVE / script).read_text(encoding="utf-8"))

    assert tables["zh-CN"] == tables["en"]


@pytest.mark.parametrize("name", PAGES)
def test_every_text_a_page_asks_for_exists(name: str) -> None:
    script = (LIVE / f"{name}.js").read_text(encoding="utf-8")
    known = _texts(script)["zh-CN"] | SHARED_TEXTS["zh-CN"]
    asked = set(re.findall(r'\bt\("([\w.]+)"', script)) | set(re.findall(r'data-text[\w-]*="([\w.]+)"', PAGES[name]))

    assert len(asked) > 20
    assert asked - known == set()


def test_every_value_of_the_apis_vocabulary_and_every_error_code_has_a_text() -> None:
    """The pages pick these texts by the value (`status.${ticket.status}`): a new enum value needs its text."""
    pages = (_texts((LIVE / f"{name}.js").read_text(encoding="utf-8"))["zh-CN"] for name in PAGES)
    known = SHARED_TEXTS["zh-CN"].union(*pages)

    for prefix, values in VOCABULARY.items():
        assert {f"{prefix}.{value}" for value in values} - known == set(), prefix


@pytest.mark.parametrize("name", PAGES)
def test_nothing_a_same_origin_content_security_policy_blocks(name: str) -> None:
    """No inline script, event handler or style attribute, in the page or in the markup its scripts write."""
    sources = _page_sources(name)

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", sources) == []
    assert re.findall(r"<[^>]*\son[a-z]+=", sources) == []
    assert re.findall(r"<[^>]*\sstyle=|<style\b|javascript:", sources, flags=re.IGNORECASE) == []


def _recorded() -> list[tuple[str, str, str]]:
    rows = []
    for line in VERSIONS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            served, spec, _, digest = line.split()
            rows.append((served, spec, digest))
    return rows


@pytest.mark.parametrize(("served", "spec", "digest"), _recorded(), ids=lambda value: str(value))
def test_vendored_graphql_ws_file_matches_its_recorded_sha256(served: str, spec: str, digest: str) -> None:
    assert hashlib.sha256((VENDOR_DIR / served).read_bytes()).hexdigest() == digest
    assert spec == "graphql-ws@6.4.2"


def test_versions_file_accounts_for_every_vendored_file() -> None:
    on_disk = {path.name for path in VENDOR_DIR.iterdir()} - {VERSIONS_FILE.name}

    assert {served for served, _, _ in _recorded()} == on_disk == {"graphql-ws.min.js", "LICENSE-graphql-ws.txt"}


def test_vendor_script_pins_the_tarball_the_versions_file_records() -> None:
    script = VENDOR_SCRIPT.read_text(encoding="utf-8")
    spec = re.search(r'^SPEC="([^"]+)"', script, flags=re.MULTILINE)
    integrity = re.search(r'^EXPECTED_INTEGRITY="([^"]+)"', script, flags=re.MULTILINE)
    recorded = re.search(r"^# tarball (\S+) (\S+)$", VERSIONS_FILE.read_text(encoding="utf-8"), flags=re.MULTILINE)

    assert spec and integrity and recorded
    assert (spec.group(1), integrity.group(1)) == (recorded.group(1), recorded.group(2))
