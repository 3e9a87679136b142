"""Wrong IDs are answered one way everywhere (DESIGN §5), never with a crash.

A wrong ID is malformed, of another type, zero or negative, in range but unknown, past the database's
integers (PostgreSQL INTEGER, SQLite's 64 bits), someone else's or another project's. The answer:
- a mutation: its typed NOT_FOUND error, naming the field;
- `node`: null, without an error (as Relay clients expect);
- a query for one object: null; a query for a list (a filter, a project's list): the empty list or
  connection, as when nothing matches;
- a subscription: a NOT_FOUND error;
- an HTTP route: 404.

Every operation that takes an ID (read from the schema, input fields included) is called the way the
authorization table calls it, with one of its IDs replaced by each wrong one, on both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import graphql
import pytest
from strawberry import relay

import tests.integration.test_authorization_table as authorization_table
from schema import build_schema
from tests.conftest import PostgresServer
from tests.integration.authorization_world import AuthorizationWorld, serve_authorization_world
from tests.integration.live_client import live_socket

SCHEMA: Final = graphql.build_schema(build_schema(production=False).as_str())
PAST_INTEGER: Final = 2**31  # one past PostgreSQL INTEGER, the type of every id column
PAST_BIGINT: Final = 10**23  # past SQLite's and PostgreSQL's 64-bit integers


def _gid(type_name: str, pk: object) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def _other_type(type_name: str) -> str:
    return "Ticket" if type_name != "Ticket" else "Unit"


def wrong_ids(type_name: str, pk: int, aw: AuthorizationWorld, *, typed: bool = True) -> Iterator[tuple[str, str]]:
    """(what is wrong, the ID) for a position that held `type_name` `pk`, asked by an ADMIN of Lakeside;
    `typed=False` where any type is right (`node`)."""
    yield "malformed", "garbage"
    yield "not base64", "Unit:1"
    yield "not a number", _gid(type_name, "abc")
    yield "digits of another script", _gid(type_name, "١")
    if typed:
        yield "another type", _gid(_other_type(type_name), pk)
    yield "zero", _gid(type_name, 0)
    yield "negative", _gid(type_name, -1)
    yield "unknown", _gid(type_name, PAST_INTEGER - 1)
    yield "past INTEGER", _gid(type_name, PAST_INTEGER)
    yield "past BIGINT", _gid(type_name, PAST_BIGINT)
    if f"{type_name}:foreign" in aw.world.ids:
        yield "another project's", aw.gid(type_name, "foreign")


# --- where the IDs are in an operation's variables ------------------------------------------------


def _named(type_: graphql.GraphQLInputType) -> graphql.GraphQLInputType:
    return type_.of_type if isinstance(type_, graphql.GraphQLNonNull) else type_  # type: ignore[no-any-return]


def id_positions(value: Any, type_: graphql.GraphQLInputType, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    """The paths in a variable's value that hold an ID."""
    type_ = _named(type_)
    if value is None:
        return
    if isinstance(type_, graphql.GraphQLScalarType) and type_.name == "ID":
        yield path
    elif isinstance(type_, graphql.GraphQLList):
        for index, item in enumerate(value):
            yield from id_positions(item, type_.of_type, (*path, index))
    elif isinstance(type_, graphql.GraphQLInputObjectType):
        for name, field in type_.fields.items():
            if name in value:
                yield from id_positions(value[name], field.type, (*path, name))


def variable_types(document: str) -> dict[str, graphql.GraphQLInputType]:
    (operation,) = graphql.parse(document).definitions
    assert isinstance(operation, graphql.OperationDefinitionNode)
    return {
        definition.variable.name.value: graphql.type_from_ast(SCHEMA, definition.type)  # type: ignore[misc]
        for definition in operation.variable_definitions
    }


def replaced(variables: dict[str, Any], path: tuple[str | int, ...], new: str) -> dict[str, Any]:
    def swap(value: Any, rest: tuple[str | int, ...]) -> Any:
        if not rest:
            return new
        head, tail = rest[0], rest[1:]
        if isinstance(value, list):
            return [swap(item, tail) if index == head else item for index, item in enumerate(value)]
        return {key: swap(item, tail) if key == head else item for key, item in value.items()}

    return swap(variables, path)  # type: ignore[no-any-return]


def takes_an_id(type_: graphql.GraphQLInputType, seen: frozenset[str] = frozenset()) -> bool:
    type_ = graphql.get_named_type(type_)  # type: ignore[assignment]
    if isinstance(type_, graphql.GraphQLScalarType):
        return type_.name == "ID"
    if isinstance(type_, graphql.GraphQLInputObjectType) and type_.name not in seen:
        return any(takes_an_id(field.type, seen | {type_.name}) for field in type_.fields.values())
    return False


def operations_taking_ids() -> set[str]:
    roots = {"Query": SCHEMA.query_type, "Mutation": SCHEMA.mutation_type, "Subscription": SCHEMA.subscription_type}
    return {
        f"{root}.{name}"
        for root, type_ in roots.items()
        if type_ is not None
        for name, field in type_.fields.items()
        if any(takes_an_id(argument.type) for argument in field.args.values())
    }


# --- the probes -----------------------------------------------------------------------------------

EMPTY_CONNECTION = "{ totalCount edges { node { id } } }"
# The list filters' IDs, which the authorization table's probes do not vary, each with its own variable.
FILTERS: Final = {
    "Query.bills": (
        f"query ($p: ID, $b: ID, $u: ID, $party: ID) {{ bills(filter: {{projectId: $p, buildingId: $b, unitId: $u, "
        f"partyId: $party}}) {EMPTY_CONNECTION} }}",
        {"p": "Project:own", "b": "Building:own", "u": "Unit:own", "party": "Party:own"},
    ),
    "Query.payments": (
        f"query ($p: ID, $u: ID) {{ payments(filter: {{projectId: $p, unitId: $u}}) {EMPTY_CONNECTION} }}",
        {"p": "Project:own", "u": "Unit:own"},
    ),
    "Query.tickets": (
        f"query ($p: ID, $b: ID, $t: ID) {{ tickets(filter: {{projectId: $p, buildingId: $b, technicianId: $t}}) "
        f"{EMPTY_CONNECTION} }}",
        {"p": "Project:own", "b": "Building:own", "t": "Technician:own"},
    ),
    "Query.units": (
        f"query ($p: ID!, $b: ID) {{ units(projectId: $p, filter: {{buildingId: $b}}) {EMPTY_CONNECTION} }}",
        {"p": "Project:own", "b": "Building:own"},
    ),
}


@dataclass(frozen=True)
class Call:
    operation: str
    document: str
    variables: dict[str, Any]


async def baseline(aw: AuthorizationWorld, operation: str, role: str = "ADMIN") -> Call:
    """The operation called by Lakeside's `role` on its own objects, as the authorization table calls it."""
    if operation in FILTERS:
        document, names = FILTERS[operation]
        return Call(operation, document, {key: aw.gid(*name.split(":")) for key, name in names.items()})
    probe = authorization_table.PROBES[operation]
    cell = authorization_table.Cell(aw, role, "own")
    aw.begin_cell()
    variables = await probe.prepare(cell)
    aw.give_back()  # nothing the wrong calls do uses the target up
    document = probe.document if not isinstance(probe, authorization_table.RouteProbe) else ""
    return Call(operation, document, variables)


# --- the answers ----------------------------------------------------------------------------------


def _root_type(operation: str) -> graphql.GraphQLOutputType:
    root, name = operation.split(".")
    return getattr(SCHEMA, f"{root.lower()}_type").fields[name.split("(")[0]].type  # type: ignore[no-any-return]


def is_list(operation: str) -> bool:
    type_ = _root_type(operation)
    type_ = type_.of_type if isinstance(type_, graphql.GraphQLNonNull) else type_
    return isinstance(type_, graphql.GraphQLList) or type_.name.endswith("Connection")  # type: ignore[union-attr]


def empty(value: Any) -> bool:
    if isinstance(value, list):
        return value == []
    return isinstance(value, dict) and value.get("edges") == [] and value.get("totalCount", 0) == 0


def verdict(call: Call, path: tuple[str | int, ...], result: dict[str, Any]) -> str | None:
    """What is wrong with the answer, or None when it is the consistent one."""
    if call.operation.startswith("Subscription."):
        codes = {(error.get("extensions") or {}).get("code") for error in result.get("errors") or []}
        return None if codes == {"NOT_FOUND"} else f"expected a NOT_FOUND error, got {result}"
    if result.get("errors"):
        return f"top-level errors: {result['errors']}"
    field = call.operation.split(".")[1].split("(")[0]
    value = result["data"][field]
    if call.operation.startswith("Mutation."):
        named = str(path[-1]) if isinstance(path[-1], str) else str(path[-2])
        if value.get("code") != "NOT_FOUND" or not str(value.get("field") or "").endswith(
            tuple(f"{named}{suffix}" for suffix in ("", f"[{path[-1]}]"))
        ):
            return f"expected NOT_FOUND naming {named}, got {value}"
        return None
    if is_list(call.operation):
        return None if empty(value) else f"expected nothing listed, got {value}"
    return None if value is None else f"expected null, got {value}"


async def answer(aw: AuthorizationWorld, call: Call, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    if call.operation.startswith("Subscription."):
        async with live_socket(aw.app, token) as socket:
            await socket.subscribe(call.document, variables)
            message = await socket.message()
        payload = message.get("payload")
        return {"errors": payload} if isinstance(payload, list) else payload or {}
    probe = authorization_table.PROBES.get(call.operation)
    if isinstance(probe, authorization_table.GraphQLProbe) and probe.files is not None:
        cell = authorization_table.Cell(aw, "ADMIN", "own")
        return await authorization_table.multipart(aw.client, token, call.document, variables, probe.files(cell))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await aw.client.post("/graphql", json={"query": call.document, "variables": variables}, headers=headers)
    assert response.status_code == 200, (call.operation, variables, response.text)
    return response.json()  # type: ignore[no-any-return]


# --- the world, once per database ----------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def aw(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_server: PostgresServer,
) -> AsyncIterator[AuthorizationWorld]:
    async with serve_authorization_world(
        request.param, tmp_path_factory.mktemp("wrong-ids"), sqlite_template, postgres_server
    ) as world:
        yield world


OPERATIONS: Final = sorted(operations_taking_ids())
# An ID-taking operation called with all of its IDs in place, which every row below varies one at a time:
# `node` stands for itself once per Node type in the authorization table; here it is asked for one type.
NODE_PROBE: Final = "Query.node(Unit)"


def test_every_operation_that_takes_an_id_is_probed() -> None:
    probed = {op for op in authorization_table.PROBES if op.startswith(("Query.", "Mutation.", "Subscription."))}
    probed |= {"Query.node"} | set(FILTERS)
    assert sorted(set(OPERATIONS) - probed) == []


def probing_role(operation: str) -> str:
    """Lakeside's ADMIN, or OWNER for the operations only owners use (their invoice titles)."""
    row = authorization_table.EXPECTED.get(operation)
    admin_may = row is None or row[authorization_table.ROLES.index("ADMIN")][0] == "A"
    return "ADMIN" if admin_may else "OWNER"


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_wrong_id_is_answered_consistently(aw: AuthorizationWorld, operation: str) -> None:
    # given the operation as Lakeside's ADMIN (or, for owners' own operations, alice) calls it on its own objects
    role = probing_role(operation)
    call = await baseline(aw, NODE_PROBE if operation == "Query.node" else operation, role)
    call = Call(operation, call.document, call.variables)
    token = aw.token(authorization_table.CALLERS[role])
    types = variable_types(call.document)
    positions = [
        path
        for name, value in call.variables.items()
        if name in types
        for path in id_positions(value, types[name], (name,))
    ]
    assert positions, f"{operation}: its probe sends no ID"
    wrong: list[str] = []
    for path in positions:
        relay_id = relay.GlobalID.from_id(_value_at(call.variables, path))
        for what, value in wrong_ids(relay_id.type_name, int(relay_id.node_id), aw, typed=operation != "Query.node"):
            # when one of its IDs is wrong
            variables = replaced(call.variables, path, value)
            result = await answer(aw, call, variables, token)
            # then the answer is the consistent one
            if (problem := verdict(call, path, result)) is not None:
                wrong.append(f"{'.'.join(map(str, path))} {what}: {problem}")
    assert wrong == [], "\n".join(wrong)


def _value_at(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


# Someone else's, seen by an owner: for the operations an owner may use on her own objects.
OWNER_OPERATIONS: Final = [
    op
    for op in OPERATIONS
    if op in authorization_table.EXPECTED
    and authorization_table.EXPECTED[op][authorization_table.ROLES.index("OWNER")][0] == "A"
]


@pytest.mark.parametrize("operation", OWNER_OPERATIONS)
async def test_someone_elses_id_is_answered_like_a_wrong_one(aw: AuthorizationWorld, operation: str) -> None:
    # given the operation as alice calls it on her own objects
    call = await baseline(aw, operation, "OWNER")
    types = variable_types(call.document)
    wrong: list[str] = []
    for name, value in call.variables.items():
        for path in id_positions(value, types[name], (name,)) if name in types else ():
            type_name = relay.GlobalID.from_id(_value_at(call.variables, path)).type_name
            for ownership in ("other", "foreign"):
                if aw.world.ids.get(f"{type_name}:{ownership}", aw.pk(type_name, "own")) == aw.pk(type_name, "own"):
                    continue  # project-wide objects: her project is both own and other
                # when one of them is bob's, or carol's in Hillside
                result = await answer(aw, call, replaced(call.variables, path, aw.gid(type_name, ownership)), aw.token("alice"))
                # then
                if (problem := verdict(call, path, result)) is not None:
                    wrong.append(f"{'.'.join(map(str, path))} {ownership}: {problem}")
    assert wrong == [], "\n".join(wrong)


# --- HTTP routes ----------------------------------------------------------------------------------

ROUTES: Final = {
    "GET /receipts/{receipt_id}.pdf": ("/receipts/{}.pdf", "Receipt"),
    "GET /reconciliation/accounts/{account_id}/closes.xlsx": ("/reconciliation/accounts/{}/closes.xlsx", "StatementAccount"),
    "GET /attachments/{attachment_id:int}": ("/attachments/{}", "Attachment"),
    "GET /invoices/{invoice_id}.pdf": ("/invoices/{}.pdf", "Invoice"),
    "GET /invoices/{invoice_id}.xml": ("/invoices/{}.xml", "Invoice"),
    "GET /reports/{project_id}/{report}.xlsx": ("/reports/{}/ageing.xlsx", "Project"),
    "GET /reports/{project_id}/charts/{chart}.svg": ("/reports/{}/charts/ageing.svg", "Project"),
}


# Routes whose path holds a secret instead of an id (a page's ticket, an invoice's download key): a wrong
# one is a wrong secret, answered 404 by the tests of those routes (a wrong key: test_invoicing_delivery).
BY_SECRET: Final = {"GET /track/{ticket}", "GET /invoices/download/{key}.pdf", "GET /invoices/download/{key}.xml"}


def test_every_route_with_an_object_id_is_probed() -> None:
    with_ids = {op for op in authorization_table.EXPECTED if op.startswith("GET ")} - BY_SECRET
    assert set(ROUTES) == with_ids


@pytest.mark.parametrize("route", sorted(ROUTES))
async def test_a_wrong_id_in_a_route_is_404(aw: AuthorizationWorld, route: str) -> None:
    template, kind = ROUTES[route]
    cases = [
        ("admin_a", "not a number", "abc"),
        ("admin_a", "zero", "0"),
        ("admin_a", "negative", "-1"),
        ("admin_a", "unknown", str(PAST_INTEGER - 1)),
        ("admin_a", "past INTEGER", str(PAST_INTEGER)),
        ("admin_a", "past BIGINT", str(PAST_BIGINT)),
        ("admin_a", "another project's", str(aw.pk(kind, "foreign"))),
    ]
    if authorization_table.EXPECTED[route][authorization_table.ROLES.index("OWNER")] != "FFF":
        # A route an owner may never call answers her 403 before it reads an id (the authorization table
        # holds that); the others must not tell her someone else's object from one that does not exist.
        cases.append(("alice", "someone else's", str(aw.pk(kind, "other"))))
    wrong = []
    for caller, what, pk in cases:
        response = await aw.client.get(template.format(pk), headers={"Authorization": f"Bearer {aw.token(caller)}"})
        if response.status_code != 404:
            wrong.append(f"{what} ({pk}) as {caller}: HTTP {response.status_code} {response.text[:200]}")
    assert wrong == [], "\n".join(wrong)
