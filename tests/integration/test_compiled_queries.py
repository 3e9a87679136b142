"""The compiled query executor answers byte for byte what graphql-core answers (schema/compiled_queries.py).

Every request here is sent twice to the same app, on both databases: once as served (the compiled plan),
once with the schema's executor swapped for strawberry's standard graphql-core one. The two HTTP answers
must be identical: status, body as text (key order counts), and the same errors (GraphQL leaves
their order open, and graphql-core lists them as concurrent resolvers fail). And the fast path must really run: an answer without errors is
the compiled run's own (no fall-back logged), and an answer with errors is graphql-core's (the fall-back
is logged), since the compiled run never makes an error of its own.

The requests: the pages of benchmarks/http_reads.py, node lookups through fragments and inline fragments,
aliases, @skip/@include from variables, nulls and NOT_FOUND-style nulls, malformed IDs, and errors, from
every role of the authorization world; and documents hypothesis-graphql draws from the whole schema.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from benchmarks.http_reads import DISPATCHER_TICKETS, FINANCE_PAYMENTS, OWNER_BILLS, UNIT_STATEMENT
from schema import build_schema
from schema.compiled_queries import CompiledQueryExecutor
from tests.conftest import PostgresServer
from tests.integration.authorization_world import CALLERS, AuthorizationWorld, serve_authorization_world
from tests.integration.test_schema_fuzz import EXAMPLES, FUZZ_SETTINGS, documents

NODES: Final = """
query Nodes($bill: ID!, $ticket: ID!, $unit: ID!, $payment: ID!, $foreign: ID!) {
  bill: node(id: $bill) { __typename id ...BillParts }
  ticket: node(id: $ticket) { id ... on Ticket { status priority unit { number building { name } } assignee { name } } }
  unit: node(id: $unit) { ... on Unit { number floor building { id name } } ... on Node { id } }
  payment: node(id: $payment) { ... on Payment { amount channel allocations { amount bill { ...BillParts } } receipt { number } } }
  foreign: node(id: $foreign) { id __typename }
  malformed: node(id: "not-a-global-id") { id }
  stranger: node(id: "VW5pdDo5OTk5OTk=") { id }
}
fragment BillParts on Bill { period status amountDue isOverdue lateFee lines { kind amount description } }
"""
DIRECTIVES: Final = """
query Board($withUnit: Boolean!, $skipAssignee: Boolean = false, $first: Int = 3) {
  tickets(first: $first) {
    edges {
      cursor
      node {
        id
        unit @include(if: $withUnit) { number }
        assignee @skip(if: $skipAssignee) { name currentLoad }
        ... on Ticket @include(if: $withUnit) { status slaState }
        ... @skip(if: $skipAssignee) { allowedActions }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ALIASES: Final = """
{
  __typename
  first: bills(first: 1) { edges { node { id period } } }
  firstTwo: bills(first: 2) { edges { node { period: dueDate due: period amountDue } } }
  me: viewer { email roles { role } units { number } }
  again: viewer { displayName party { name } }
  projects { id name }
}
"""
ERRORS: Final = """
query Broken($unit: ID!) {
  viewer { email }
  unitStatement(unitId: $unit) { balance }
  bills(first: 1000) { edges { node { id } } }
}
"""


def _nodes(aw: AuthorizationWorld) -> dict[str, Any]:
    return {
        "bill": aw.gid("Bill", "own"),
        "ticket": aw.gid("Ticket", "own"),
        "unit": aw.gid("Unit", "own"),
        "payment": aw.gid("Payment", "own"),
        "foreign": aw.gid("Ticket", "foreign"),
    }


CASES: Final[dict[str, tuple[str, Callable[[AuthorizationWorld], dict[str, Any]]]]] = {
    "owner's bills page": (OWNER_BILLS, lambda aw: {}),
    "dispatcher's tickets page": (DISPATCHER_TICKETS, lambda aw: {}),
    "unit statement": (UNIT_STATEMENT, lambda aw: {"unitId": aw.gid("Unit", "own")}),
    "someone else's unit statement": (UNIT_STATEMENT, lambda aw: {"unitId": aw.gid("Unit", "foreign")}),
    "payments page": (FINANCE_PAYMENTS, lambda aw: {}),
    "nodes through fragments": (NODES, _nodes),
    "directives on": (DIRECTIVES, lambda aw: {"withUnit": True}),
    "directives off": (DIRECTIVES, lambda aw: {"withUnit": False, "skipAssignee": True, "first": 2}),
    "aliases": (ALIASES, lambda aw: {}),
    "errors and a malformed ID": (ERRORS, lambda aw: {"unit": "not-a-global-id"}),
}

_FALL_BACK = "graphql-core runs"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _fall_backs() -> Iterator[list[str]]:
    logger = logging.getLogger("courtyard.graphql.compiled")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextmanager
def _standard_executor() -> Iterator[None]:
    schema = build_schema(production=False)
    assert schema.execution_context_class is CompiledQueryExecutor
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    try:
        yield
    finally:
        schema.execution_context_class = CompiledQueryExecutor


async def _post(aw: AuthorizationWorld, role: str, query: str, variables: dict[str, Any]) -> tuple[int, bytes]:
    user = CALLERS[role]
    headers = {"Authorization": f"Bearer {aw.token(user)}"} if user else {}
    response = await aw.client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.status_code, response.content


def _comparable(answer: tuple[int, bytes]) -> tuple[int, str, list[str]]:
    """Status, the answer without its errors (as text: key order counts), and the errors in any order:
    graphql-core lists field errors in the order their resolvers fail, which concurrent resolvers decide."""
    status, body = answer
    payload = json.loads(body)
    errors = sorted(json.dumps(error, ensure_ascii=False) for error in payload.pop("errors", None) or [])
    if errors and payload.get("data") is None:
        # An error that nulls the whole answer cancels the other root fields: which of them had failed
        # by then is a race inside graphql-core (two runs of the standard executor differ the same way).
        return status, json.dumps(payload, ensure_ascii=False), ["errors"]
    return status, json.dumps(payload, ensure_ascii=False), errors


async def assert_same_answer(aw: AuthorizationWorld, role: str, query: str, variables: dict[str, Any]) -> bytes:
    with _fall_backs() as fall_backs:
        compiled = await _post(aw, role, query, variables)
    with _standard_executor():
        standard = await _post(aw, role, query, variables)
    sent = f"as {role}: {query}\nvariables: {variables}"
    assert _comparable(compiled) == _comparable(standard), f"{sent}\ncompiled: {compiled!r}\nstandard: {standard!r}"
    status, body = standard
    if b'"errors"' in body:
        # Request errors (validation, limits) end before execution: only field errors reach the executor.
        executed = b'"data"' in body and b'"data":null' not in body.replace(b" ", b"")
        assert fall_backs or not executed or status != 200, f"graphql-core's errors, yet no fall-back: {sent}"
    else:
        assert fall_backs == [], f"{fall_backs}\n{sent}"
    return body


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def aw(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_server: PostgresServer,
) -> AsyncIterator[AuthorizationWorld]:
    async with serve_authorization_world(
        request.param, tmp_path_factory.mktemp("compiled"), sqlite_template, postgres_server
    ) as world:
        yield world


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_role_gets_the_same_answer_from_both_executors(aw: AuthorizationWorld, case: str) -> None:
    query, variables = CASES[case]
    bodies = {role: await assert_same_answer(aw, role, query, variables(aw)) for role in CALLERS}
    # The cases read real rows: someone sees data, and the anonymous caller sees none.
    assert any(b'"errors"' not in body for body in bodies.values()) or case.startswith("errors"), bodies
    assert b'"UNAUTHENTICATED"' in bodies["ANONYMOUS"]


async def test_the_pages_answer_their_rows_through_the_compiled_plan(aw: AuthorizationWorld) -> None:
    with _fall_backs() as fall_backs:
        bills = await _post(aw, "OWNER", OWNER_BILLS, {})
        tickets = await _post(aw, "DISPATCHER", DISPATCHER_TICKETS, {})
        payments = await _post(aw, "FINANCE", FINANCE_PAYMENTS, {})
    assert fall_backs == []
    for status, body in (bills, tickets, payments):
        assert status == 200 and b'"errors"' not in body
        assert body.count(b'"node":{') >= 1, body


async def _asgi_post(aw: AuthorizationWorld, role: str, query: str) -> tuple[int, bytes]:
    """`_post` as a bare ASGI call, without an HTTP client whose own objects would count below."""
    content = json.dumps({"query": query}).encode()
    token = aw.token(CALLERS[role])
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"test"), (b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())],
    }
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": content, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    await aw.app(scope, receive, send)
    return answer["status"], answer["body"]


@pytest.mark.parametrize(("role", "page"), [("OWNER", OWNER_BILLS), ("DISPATCHER", DISPATCHER_TICKETS), ("FINANCE", FINANCE_PAYMENTS)])
async def test_a_page_leaves_no_reference_cycle_behind_for_the_collector(aw: AuthorizationWorld, role: str, page: str) -> None:
    # given the page asked once, so that every cache it fills is filled
    assert (await _asgi_post(aw, role, page))[0] == 200
    gc.collect()
    # when it is asked again with the collector off, keeping whatever it would have found
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        status, body = await _asgi_post(aw, role, page)
        found = gc.collect()
        garbage = [type(thing).__name__ for thing in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    # then reference counting freed all it made: nothing was left for the collector (the executor's
    # helpers were once bound methods of the executor, a cycle holding the whole request)
    assert status == 200 and b'"errors"' not in body and b'"node":{' in body
    assert (found, garbage) == (0, [])


async def test_a_resolver_error_is_answered_by_graphql_core(aw: AuthorizationWorld) -> None:
    with _fall_backs() as fall_backs:
        status, body = await _post(aw, "OWNER", ERRORS, {"unit": aw.gid("Unit", "foreign")})
    assert status == 200 and b'"errors"' in body
    assert len(fall_backs) == 1 and _FALL_BACK in fall_backs[0]


ROLES: Final = st.sampled_from(sorted(CALLERS))
# Each example runs its document twice, once per executor: a third of the schema fuzz's count keeps this
# under twenty seconds a database in `make test` (the fixed CI draw), and `make fuzz` still draws hundreds.
COMPARED_DOCUMENTS: Final = max(EXAMPLES // 3, 20)


@settings(FUZZ_SETTINGS, max_examples=COMPARED_DOCUMENTS)
@given(data=st.data())
async def test_documents_drawn_from_the_schema_get_the_same_answer(aw: AuthorizationWorld, data: st.DataObject) -> None:
    # Mutations are never compiled, and running one twice would not answer the same.
    queries = documents(aw).filter(lambda document: not document.lstrip().startswith("mutation"))
    await assert_same_answer(aw, data.draw(ROLES, label="role"), data.draw(queries, label="document"), {})
