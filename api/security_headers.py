"""Security headers on every HTTP answer: a content security policy, no framing, no referrer, no sniffing."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_POLICY", "FILE_POLICY", "SecurityHeaders", "page_policy"]

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""For everything but the pages and viewed files: JSON and errors load nothing and may not be framed."""
FILE_POLICY = "frame-ancestors 'none'"
"""For photos, videos and receipts opened on their own, in the browser's own viewer: Chromium's image viewer
styles the image inline, which `default-src 'none'` blocks, and a video plays from the file's address."""
_VIEWED_FILES = ("image/", "video/", "application/pdf")

_HEADERS = (
    # For browsers that predate `frame-ancestors`: the board's drag-assign must not be clickjacked.
    ("X-Frame-Options", "DENY"),
    # Page addresses carry ticket IDs and attachment links carry signatures: tell no other site.
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
)


class _InlineBlocks(HTMLParser):
    """The contents of a page's inline <script> and <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script" and not dict(attrs).get("src"):
            self._open = self.scripts
        elif tag == "style":
            self._open = self.styles
        if self._open is not None:
            self._open.append("")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[-1] += data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def _hashes(blocks: list[str]) -> str:
    return "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'" for block in blocks
    )


def page_policy(html: str) -> str:
    """The policy of one of our pages: code, styles, images and connections from this origin only (`'self'`
    covers the same host's websocket), plus the page's own inline script and style blocks by their hash."""
    blocks = _InlineBlocks()
    blocks.feed(html)
    return (
        "default-src 'self'; "
        f"script-src 'self'{_hashes(blocks.scripts)}; "
        f"style-src 'self'{_hashes(blocks.styles)}; "
        "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Adds the headers to every HTTP response that does not set them itself (pages set their own policy)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                viewed_file = headers.get("content-type", "").startswith(_VIEWED_FILES)
                headers.setdefault("Content-Security-Policy", FILE_POLICY if viewed_file else API_POLICY)
                for name, value in _HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
