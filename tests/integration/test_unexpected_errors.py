"""A bug in a resolver reaches the client as INTERNAL_SERVER_ERROR, without details in production."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from tests.integration.world import build_world, error_codes, gql

VIEWER = "{ viewer { email } }"


@pytest.fixture(params=["development", "production"])
async def broken_app(request: pytest.FixtureRequest, database_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, httpx.AsyncClient, object]]:
    settings = Settings(database_url=database_url, secret_key="production-grade-secret-0123456789", env=request.param)
    app = create_app(settings, migrate=False)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM app_user -- boom")

    async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        world = await build_world(app.state.courtyard)
        monkeypatch.setattr("schema.accounts.queries.ViewerType.from_row", explode)
        yield request.param, http, world


async def test_internal_errors_are_coded_and_masked_outside_development(broken_app: tuple[str, httpx.AsyncClient, object]) -> None:
    env, client, world = broken_app
    result = await gql(client, VIEWER, token=world.token("alice"))  # type: ignore[attr-defined]
    assert error_codes(result) == ["INTERNAL_SERVER_ERROR"]
    message = result["errors"][0]["message"]
    if env == "production":
        assert message == "Unexpected error."
    assert "Traceback" not in message and "stack" not in str(result["errors"][0].get("extensions"))
