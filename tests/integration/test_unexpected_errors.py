"""A bug in a resolver reaches the client as INTERNAL_SERVER_ERROR, without details in production; what a
client sends never does."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from api.app import create_app
from api.request_errors import GRAPHQL_RESPONSE_JSON
from api.settings import Settings
from api.state import AppState
from tests.conftest import offline_settings, serving
from tests.integration.live_client import LEGACY_WS, TRANSPORT_WS, live_socket
from tests.integration.world import build_world, error_codes, gid, gql

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


# Nothing a client sends is a bug: wrongly typed variables are request errors that name the variable,
# `node` answers null for IDs that are no global IDs or that no database integer can hold, and none is
# logged.

WRONGLY_TYPED = [
    pytest.param(
        "query($p: ID!, $f: UnitFilter) { units(projectId: $p, filter: $f) { edges { node { id } } } }",
        {"p": "UHJvamVjdDox", "f": {"kind": "OCCUPIED"}},
        "$f",
        id="a value the enum lacks",
    ),
    pytest.param("query($id: ID!) { node(id: $id) { id } }", {"id": {"x": 1}}, "$id", id="an object for an ID"),
    pytest.param("query($n: Int) { tickets(first: $n) { edges { node { id } } } }", {"n": "ten"}, "$n", id="a string for an Int"),
    # Found by the schema fuzz: strawberry's Upload took any value, and the import failed reading a number.
    pytest.param(
        "mutation($p: ID!, $f: Upload!) { importMeterReadings(projectId: $p, file: $f) { __typename } }",
        {"p": "UHJvamVjdDox", "f": 0},
        "$f",
        id="a number for an Upload",
    ),
    pytest.param(
        "mutation($p: ID!, $f: Upload!) { importUnits(projectId: $p, file: $f) { __typename } }",
        {"p": "UHJvamVjdDox", "f": "units.csv"},
        "$f",
        id="a string for an Upload",
    ),
]


def logged_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize(("query", "variables", "name"), WRONGLY_TYPED)
async def test_a_wrongly_typed_variable_is_a_request_error_that_names_it(
    offline_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, query: str, variables: dict[str, object], name: str
) -> None:
    response = await offline_client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Accept": GRAPHQL_RESPONSE_JSON}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert f"Variable '{name}'" in body["errors"][0]["message"]
    assert logged_errors(caplog) == []


async def test_node_answers_null_for_ids_no_database_can_hold_and_strings_that_are_no_global_ids(
    client: httpx.AsyncClient, state: AppState, caplog: pytest.LogCaptureFixture
) -> None:
    world = await build_world(state)
    past_the_integers = [gid(name, pk) for name in ("Bill", "Unit", "Ticket") for pk in (2**31, 2**63, 10**23, -(10**23))]
    # "Bill:" with no number, and a base64 string without a type.
    no_global_ids = ["garbage", "QmlsbDo=", "Tm9Db2xvbg=="]
    for value in past_the_integers + no_global_ids:
        result = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": value}, token=world.token("admin_a"))
        # Relay clients expect null for an ID that names nothing (DESIGN §5); tests/integration/test_wrong_ids.py
        # holds every other operation to the same rule.
        assert result == {"data": {"node": None}}, (value, result)
    assert logged_errors(caplog) == []


async def test_a_nul_character_in_a_text_is_bad_input_on_both_databases(
    client: httpx.AsyncClient, state: AppState, caplog: pytest.LogCaptureFixture
) -> None:
    # Found by the schema fuzz: PostgreSQL refuses NUL in text ("invalid byte sequence"), which answered
    # INTERNAL_SERVER_ERROR; SQLite stores it.
    world = await build_world(state)
    login = await gql(client, "mutation { login(email: \"a\\u0000@example.test\", password: \"x\") { __typename } }")
    building = await gql(
        client,
        "mutation ($input: CreateBuildingInput!) { createBuilding(input: $input) { __typename } }",
        {"input": {"projectId": world.gid("Project:lakeside"), "name": "C\x00"}},
        token=world.token("admin_a"),
    )
    for result in (login, building):
        assert "INTERNAL_SERVER_ERROR" not in error_codes(result), result
    assert logged_errors(caplog) == []


@pytest.mark.parametrize(
    ("query", "hint"),
    [
        ("{ viewr { email } }", "Did you mean 'viewer'?"),
        ('query { units(projectId: "UHJvamVjdDox", filter: { kind: SHOPP }) { totalCount } }', "Did you mean"),
    ],
)
@pytest.mark.parametrize("env", ["development", "production"])
async def test_production_gives_no_suggestions(tmp_path: Path, env: str, query: str, hint: str) -> None:
    async with serving(create_app(offline_settings(tmp_path, env=env), migrate=False)) as client:
        result = (await client.post("/graphql", json={"query": query})).json()
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    messages = " ".join(error["message"] for error in result["errors"])
    assert (hint in messages) is (env == "development")


WEBSOCKET_MISTAKES = [
    ("BAD_REQUEST", {"query": ""}),
    ("BAD_USER_INPUT", {"query": "subscription($t: ID!) { ticketUpdates(ticketId: $t) { seq } }", "variables": {"t": {"x": 1}}}),
]


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_what_a_client_sends_over_a_websocket_is_no_bug_either(
    offline_app: Starlette, caplog: pytest.LogCaptureFixture, protocol: str
) -> None:
    mistakes = list(WEBSOCKET_MISTAKES)
    if protocol == LEGACY_WS:  # which carries subscriptions only
        mistakes.append(("BAD_REQUEST", {"query": "{ __typename }"}))
    async with live_socket(offline_app, None, protocol) as socket:
        for number, (code, payload) in enumerate(mistakes):
            kind = "subscribe" if protocol == TRANSPORT_WS else "start"
            await socket.ws.send_json({"id": str(number), "type": kind, "payload": payload})
            message = await socket.message()
            # graphql-transport-ws: `error` with a list, or `next` with errors; graphql-ws: `error` with one.
            errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            codes = [e["extensions"]["code"] for e in (errors if isinstance(errors, list) else [errors])]
            assert codes == [code], message
    assert logged_errors(caplog) == []
