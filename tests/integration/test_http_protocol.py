"""GraphQL over HTTP: media types and status codes, query limits, health checks, GraphiQL, production mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from api.state import AppState
from schema.depth_limit import MAX_QUERY_LEVELS, too_deep_message
from tests.conftest import TEST_SECRET
from tests.integration.world import build_world, error_codes, gql

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def nested_query(depth: int) -> str:
    """`viewer { party { occupancies { unit { occupancies { ... } } } } }` reaching `depth` levels."""
    chain = ["viewer", "party"]
    while len(chain) < depth - 1:
        chain += ["occupancies", "unit"] if chain[-1] == "party" else ["occupancies", "party"]
    chain = chain[: depth - 1] + ["id"]
    query = chain[-1]
    for name in reversed(chain[:-1]):
        query = f"{name} {{ {query} }}"
    return "{ " + query + " }"


async def test_graphql_response_json_answers_a_request_error_with_400_and_no_data(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_graphql_response_json_answers_an_executed_request_with_200(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ projects { name } }"}, headers={"Accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_plain_json_clients_keep_status_200(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


async def test_unparseable_json_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_queries_are_allowed_over_get_but_mutations_are_not(client: httpx.AsyncClient) -> None:
    query = await client.get("/graphql", params={"query": "{ __typename }"})
    assert query.json() == {"data": {"__typename": "Query"}}
    mutation = await client.get("/graphql", params={"query": 'mutation { login(email: "a", password: "b") { __typename } }'})
    assert mutation.status_code == 405


async def test_eleven_levels_pass_and_twelve_are_refused(client: httpx.AsyncClient, state: AppState) -> None:
    world = await build_world(state)
    token = world.token("alice")
    assert "errors" not in await gql(client, nested_query(11), token=token)
    too_deep = await gql(client, nested_query(12), token=token)
    assert too_deep.get("data") is None
    assert error_codes(too_deep) == ["GRAPHQL_VALIDATION_FAILED"]
    assert too_deep["errors"][0]["message"] == too_deep_message("anonymous")


def test_the_depth_limit_reads_the_same_in_the_readme_and_the_error() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"more than {MAX_QUERY_LEVELS} levels of fields" in " ".join(readme.split())
    assert f"more than {MAX_QUERY_LEVELS} levels of fields" in too_deep_message("Q")


async def test_oversized_documents_are_refused_by_token_count(client: httpx.AsyncClient) -> None:
    fields = " ".join("__typename" for _ in range(2100))
    result = await gql(client, "{ " + fields + " }")
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]
    assert "token" in result["errors"][0]["message"].lower()


async def test_syntax_errors_carry_a_code(client: httpx.AsyncClient) -> None:
    result = await gql(client, "{ viewer {")
    assert error_codes(result) == ["GRAPHQL_PARSE_FAILED"]


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}


async def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key=TEST_SECRET)
    app = create_app(settings, migrate=False)
    async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}


async def test_graphiql_is_served_in_development_from_local_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "https://" not in page.text and "http://" not in page.text
    asset = await client.get("/static/graphiql/graphiql.min.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


@pytest.fixture
async def production_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, secret_key="production-grade-secret-0123456789", env="production")
    app = create_app(settings, migrate=False)
    async with LifespanManager(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


async def test_production_turns_off_graphiql_and_introspection(production_client: httpx.AsyncClient) -> None:
    page = await production_client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404
    result = (await production_client.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
    assert set(error_codes(result)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in result["errors"][0]["message"].lower()


def test_production_refuses_the_default_secret() -> None:
    from api.settings import DEFAULT_SECRET_KEY, SettingsError

    with pytest.raises(SettingsError, match="default COURTYARD_SECRET_KEY"):
        Settings(env="production", secret_key=DEFAULT_SECRET_KEY)


async def test_a_repeated_operation_is_validated_once(client: httpx.AsyncClient, state: AppState) -> None:
    from schema.extensions import validation_errors

    world = await build_world(state)
    token = world.token("alice")
    query = "{ viewer { email } } # validation-cache probe"
    await gql(client, query, token=token)
    before = validation_errors.cache_info()
    await gql(client, query, token=token)
    after = validation_errors.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


async def test_too_many_aliases_are_refused(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{i}: __typename" for i in range(31))
    result = await gql(client, "{ " + aliases + " }")
    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "aliases" in result["errors"][0]["message"]


async def test_a_subscription_sent_over_http_is_told_to_use_the_websocket(
    offline_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await offline_client.post(
        "/graphql", json={"query": "subscription { myAssignments { seq } }"}, headers={"Accept": GRAPHQL_RESPONSE_JSON}
    )
    assert response.status_code == 400
    body = response.json()
    assert error_codes(body) == ["BAD_REQUEST"] and "data" not in body
    assert "websocket" in body["errors"][0]["message"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("{ __typename } { viewer { email } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query A { __typename } query B { viewer { email } }", "BAD_REQUEST"),
    ],
    ids=["anonymous", "named"],
)
async def test_a_document_with_two_operations_runs_neither_without_an_operation_name(
    offline_client: httpx.AsyncClient, document: str, code: str
) -> None:
    for method in ("GET", "POST"):
        response = await offline_client.request(
            method,
            "/graphql",
            params={"query": document} if method == "GET" else None,
            json={"query": document} if method == "POST" else None,
            headers={"Accept": GRAPHQL_RESPONSE_JSON},
        )
        assert response.status_code == 400, (method, response.text)
        assert set(error_codes(response.json())) == {code}


async def test_an_operation_name_picks_one_of_several_operations(offline_client: httpx.AsyncClient) -> None:
    document = "query A { viewer { email } } query B { __typename }"
    response = await offline_client.post("/graphql", json={"query": document, "operationName": "B"})
    assert response.json() == {"data": {"__typename": "Query"}}


REFUSED_BEFORE_EXECUTION = [
    pytest.param("POST", {"json": {"query": "query A { __typename }", "operationName": "B"}}, 400, id="unknown name"),
    pytest.param("POST", {"json": [{"query": "{ __typename }"}, {"query": "{ __typename }"}]}, 400, id="a batch"),
    pytest.param("POST", {"content": b"{ __typename }", "headers": {"Content-Type": "text/plain"}}, 415, id="text/plain"),
    pytest.param("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, id="not JSON"),
    pytest.param("POST", {"json": {"variables": {}}}, 400, id="no query"),
    pytest.param("GET", {"params": {"query": 'mutation { login(email: "a", password: "b") { id } }'}}, 405, id="GET mutation"),
    pytest.param("PUT", {"json": {"query": "{ __typename }"}}, 405, id="another method"),
]


@pytest.mark.parametrize(("method", "request_parts", "status"), REFUSED_BEFORE_EXECUTION)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, "application/json"])
async def test_requests_refused_before_execution_answer_graphql_json(
    offline_client: httpx.AsyncClient, method: str, request_parts: dict[str, Any], status: int, accept: str
) -> None:
    parts = {**request_parts, "headers": {**request_parts.get("headers", {}), "Accept": accept}}
    response = await offline_client.request(method, "/graphql", **parts)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept)
    (error,) = response.json()["errors"]
    assert error["message"] and error["extensions"]["code"] == "BAD_REQUEST"
    if status == 405:
        assert response.headers["Allow"] in ("POST", "GET, POST")


async def test_an_integer_past_64_bits_in_the_body_stays_an_integer(client: httpx.AsyncClient, state: AppState) -> None:
    # given a variable no 64-bit integer holds, as a client sends it in the JSON body
    world = await build_world(state)
    huge = 123456789012345678901234567890

    # when it reaches an Int argument
    result = await gql(client, "query ($n: Int) { tickets(first: $n) { totalCount } }", {"n": huge}, token=world.token("alice"))

    # then the refusal names the integer the client sent, not a float the decoder made of it
    assert result["data"] is None
    assert str(huge) in result["errors"][0]["message"]
