"""The self-hosted GraphiQL page: no CDN at run time, and vendored assets that match their record."""

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.pages import GRAPHIQL_HTML, STATIC_DIR
from api.pages.graphiql_examples import EXAMPLE_TABS

VENDOR_DIR = STATIC_DIR / "graphiql"
VERSIONS_FILE = VENDOR_DIR / "VERSIONS.txt"
VENDOR_SCRIPT = Path(__file__).parents[2] / "api" / "pages" / "vendor_graphiql.sh"


@dataclass(frozen=True)
class VendoredFile:
    served_name: str
    package: str
    version: str
    path_in_package: str
    sha256: str


class _AssetReferences(HTMLParser):
    """Collects, in document order, every src/href the page asks the browser to load."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.scripts.append(values["src"] or "")
        if values.get("href"):
            self.links.append(values["href"] or "")


def _references() -> _AssetReferences:
    parser = _AssetReferences()
    parser.feed(GRAPHIQL_HTML)
    return parser


def _vendored_files() -> list[VendoredFile]:
    rows = []
    for line in VERSIONS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        served_name, package_spec, path_in_package, sha256 = line.split()
        package, version = package_spec.rsplit("@", 1)
        rows.append(VendoredFile(served_name, package, version, path_in_package, sha256))
    return rows


def _tarball_pins(lines: list[str]) -> dict[str, str]:
    """package@version -> sha512 integrity, from lines shaped '<package@version> sha512-...'."""
    pins = {}
    for line in lines:
        match = re.search(r"([a-z@/-]+@\d+\.\d+\.\d+) (sha512-[A-Za-z0-9+/=]+)", line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


# --- the page downloads nothing from outside the server ---


def test_page_contains_no_absolute_http_url() -> None:
    assert re.findall(r"https?://", GRAPHIQL_HTML, flags=re.IGNORECASE) == []


def test_page_has_no_protocol_relative_src_or_href() -> None:
    assert re.findall(r"""(?:src|href)\s*=\s*["']?//""", GRAPHIQL_HTML, flags=re.IGNORECASE) == []


def test_every_asset_the_page_loads_is_under_the_static_prefix() -> None:
    references = _references()

    loaded = references.scripts + references.links

    assert loaded
    assert [url for url in loaded if not url.startswith("/static/")] == []


def test_every_static_path_the_page_references_exists() -> None:
    paths = re.findall(r"/static/[\w./-]+", GRAPHIQL_HTML)

    missing = [path for path in paths if not (STATIC_DIR / path.removeprefix("/static/")).is_file()]

    assert paths
    assert missing == []


def test_scripts_load_react_then_react_dom_then_graphiql_then_the_websocket_client() -> None:
    # The UMD bundles read React and ReactDOM from globals, so the order is load-bearing; graphql-ws
    # (subscriptions over the websocket) stands alone.
    assert _references().scripts == [
        "/static/graphiql/react.production.min.js",
        "/static/graphiql/react-dom.production.min.js",
        "/static/graphiql/graphiql.min.js",
        "/static/graphql-ws/graphql-ws.min.js",
    ]


def test_page_loads_the_vendored_graphiql_stylesheet() -> None:
    assert _references().links == ["/static/graphiql/graphiql.min.css"]


def test_vendored_stylesheet_embeds_its_fonts_instead_of_fetching_them() -> None:
    stylesheet = (VENDOR_DIR / "graphiql.min.css").read_text(encoding="utf-8")

    urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", stylesheet)

    assert "@import" not in stylesheet
    assert [url for url in urls if not url.startswith(("data:", "#"))] == []


# --- what the page does ---


def test_page_posts_to_the_graphql_endpoint_as_json() -> None:
    assert 'const GRAPHQL_ENDPOINT = "/graphql";' in GRAPHIQL_HTML
    assert 'method: "POST"' in GRAPHIQL_HTML
    assert '"Content-Type": "application/json"' in GRAPHIQL_HTML


def test_page_enables_the_headers_editor_for_the_bearer_token() -> None:
    assert "isHeadersEditorEnabled: true" in GRAPHIQL_HTML
    assert "`Bearer ${text}`" in GRAPHIQL_HTML


def test_the_first_tab_shows_how_to_log_in_as_the_demo_admin() -> None:
    first = EXAMPLE_TABS[0].query

    assert 'login(email: "admin@demo.courtyard", password: "courtyard-demo")' in first
    assert "... on AuthPayload" in first
    assert "... on Error" in first


# --- the vendored files are exactly what VERSIONS.txt records ---


@pytest.mark.parametrize("vendored", _vendored_files(), ids=lambda vendored: vendored.served_name)
def test_vendored_file_matches_its_recorded_sha256(vendored: VendoredFile) -> None:
    content = (VENDOR_DIR / vendored.served_name).read_bytes()

    assert hashlib.sha256(content).hexdigest() == vendored.sha256


def test_versions_file_accounts_for_every_vendored_file() -> None:
    on_disk = {path.name for path in VENDOR_DIR.iterdir()} - {VERSIONS_FILE.name}

    assert {vendored.served_name for vendored in _vendored_files()} == on_disk


def test_vendored_graphiql_is_3_9_0_on_react_18_3_1() -> None:
    versions = {vendored.package: vendored.version for vendored in _vendored_files()}

    assert versions == {"graphiql": "3.9.0", "react": "18.3.1", "react-dom": "18.3.1"}


def test_vendor_script_pins_the_tarballs_the_versions_file_records() -> None:
    # Catches a version bump in the script that was never re-run (or a hand-edited VERSIONS.txt).
    script_pins = _tarball_pins(VENDOR_SCRIPT.read_text(encoding="utf-8").splitlines())
    recorded_pins = _tarball_pins(
        [line for line in VERSIONS_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("# tarball ")]
    )

    assert len(script_pins) == 3
    assert script_pins == recorded_pins
