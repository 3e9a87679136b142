"""Browser pages served by the API, with their self-hosted static assets (no CDN at run time)."""

from pathlib import Path

from api.pages.graphiql_examples import default_tabs_json

__all__ = ["GRAPHIQL_HTML", "STATIC_DIR"]

_PAGES_DIR = Path(__file__).parent

STATIC_DIR: Path = _PAGES_DIR / "static"
"""Directory to mount at ``/static``; the pages reference their assets under that prefix."""

GRAPHIQL_HTML: str = (
    (_PAGES_DIR / "graphiql.html").read_text(encoding="utf-8").replace("/*EXAMPLE_TABS*/[]", default_tabs_json())
)
"""The GraphiQL IDE page, posting to ``/graphql`` and loading GraphiQL from ``/static/graphiql/``, with
the example tabs of `api.pages.graphiql_examples`."""
