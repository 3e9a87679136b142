"""The finance page: served like the board (its own content security policy, no cache), self-hosted assets
loaded in order, every text in both languages, nothing a same-origin policy would block."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from api.live import FINANCE_HTML, live_routes
from api.pages import STATIC_DIR
from api.security_headers import page_policy
from tests.unit.test_live_pages import SHARED_TEXTS, _assets, _texts

SCRIPT = (STATIC_DIR / "live" / "finance.js").read_text(encoding="utf-8")
STYLE = (STATIC_DIR / "live" / "finance.css").read_text(encoding="utf-8")


async def test_finance_is_served_with_its_own_policy_and_never_cached() -> None:
    transport = httpx.ASGITransport(app=Starlette(routes=live_routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://courtyard.test") as client:
        response = await client.get("/finance")

    assert response.status_code == 200
    assert response.text == FINANCE_HTML
    assert response.headers["content-security-policy"] == page_policy(FINANCE_HTML)
    assert response.headers["cache-control"] == "no-cache"


def test_the_page_loads_the_shared_code_then_its_own_and_nothing_from_another_host() -> None:
    assets = _assets(FINANCE_HTML)

    assert assets.scripts == ["/static/live/common.js", "/static/live/finance.js"]
    assert assets.links == ["/favicon.ico", "/static/live/finance.css"]
    assert re.findall(r"https?://|//cdn|unpkg|jsdelivr", FINANCE_HTML + SCRIPT + STYLE, flags=re.IGNORECASE) == []
    assert [p for p in re.findall(r"/static/[\w./-]+", FINANCE_HTML) if not (STATIC_DIR / p.removeprefix("/static/")).is_file()] == []


def test_every_text_is_there_in_both_languages_and_every_one_asked_for_exists() -> None:
    tables = _texts(SCRIPT)
    asked = set(re.findall(r'\bt\("([\w.]+)"', SCRIPT)) | set(re.findall(r'data-text[\w-]*="([\w.]+)"', FINANCE_HTML))

    assert tables["zh-CN"] == tables["en"]
    assert len(asked) > 40
    assert asked - (tables["zh-CN"] | SHARED_TEXTS["zh-CN"]) == set()


def test_nothing_a_same_origin_content_security_policy_blocks() -> None:
    sources = FINANCE_HTML + SCRIPT

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", sources) == []
    assert re.findall(r"<[^>]*\son[a-z]+=", sources) == []
    assert re.findall(r"<[^>]*\sstyle=|<style\b|javascript:", sources, flags=re.IGNORECASE) == []
