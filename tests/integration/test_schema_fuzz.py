"""Nothing a client sends is a bug (DESIGN §5): every query field and mutation of the schema, read from
introspection, gets hostile arguments and variables from every role of the authorization world, on both
databases, and never answers INTERNAL_SERVER_ERROR, never logs an error, and always answers GraphQL.

Two generators, both from the schema itself:
- documents drawn by hypothesis-graphql, whole selections deep, with arguments written inline and the
  custom scalars (IDs, dates, decimals) drawn from hostile values;
- one operation per root field with every argument sent as a variable, drawn from the variable's type
  or, now and then, of another type altogether (a request error, never an internal one).
Hostile values: the world's own, someone else's and another project's IDs, malformed IDs, IDs of another
type or past the database's integers, numbers at and past the 32- and 64-bit edges, 0 and negatives,
empty, very long and unusual Unicode strings, far dates, and decimals like "1e400", "NaN" and "-0.001".

Subscriptions take the same IDs through `ticketUpdates`/`dispatchBoard`, which test_wrong_ids.py and
test_unexpected_errors.py check over the websocket; the fuzz stays on HTTP to stay fast.

The number of examples follows the Hypothesis profile (tests/conftest.py): CI draws the same ones every
run, `make fuzz` draws many more.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import graphql
import hypothesis_graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from strawberry import relay

from schema import build_schema
from tests.conftest import PostgresServer
from tests.integration.authorization_world import CALLERS, AuthorizationWorld, serve_authorization_world

SCHEMA: Final = graphql.build_schema(build_schema(production=False).as_str())
# Per database: the active profile's count for each of the two tests (100 by default and in CI, kept
# well under a minute; 2,000 under `make fuzz`).
EXAMPLES: Final = settings.default.max_examples
FUZZ_SETTINGS: Final = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# --- hostile values -------------------------------------------------------------------------------

EDGE_INTS: Final = [0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**53, 2**63 - 1, 2**63, 10**23, -(10**23)]
GRAPHQL_INTS: Final = st.one_of(st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31), 100, 101]), st.integers(-(2**31), 2**31 - 1))
ANY_INTS: Final = st.one_of(st.sampled_from(EDGE_INTS), st.integers())
TEXTS: Final = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "null", "NaN", "A1", "101", "2026-10", "2026-13", "9999-12", "0000-00",
                     "水电费", "王丽", "\u202e\u0000", "\U0001f600" * 3, "ﷺ", "a" * 10_000, "<script>", "'; --"]),
    st.text(max_size=40),
)
# Decimals, dates and times that parse, at their edges; MALFORMED those that do not (a request error).
DECIMALS: Final = st.one_of(
    st.sampled_from(["1e400", "-1e400", "1E-400", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "-0", "-0.001",
                     "0.005", "0", "1", "-1", "100.00", "99999999999999999999.99", "0.0000000001"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
DATES: Final = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-28", "2028-02-29", "2026-11-01", "1970-01-01"]),
    st.dates().map(dt.date.isoformat),
)
DATETIMES: Final = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+14:00", "2026-11-01T10:00:00", "2026-11-01T10:00:00Z",
                     "2026-11-01T10:00:00+08:00", "0001-01-01T00:00:00-14:00"]),
    st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
)
TIMES: Final = st.one_of(
    st.sampled_from(["00:00:00", "23:59:59", "12:30", "08:00:00+08:00", "23:59:59.999999"]),
    st.times().map(dt.time.isoformat),
)
MALFORMED: Final = st.sampled_from(
    ["", "abc", "1_000", " 1 ", "١٢", "2026-02-30", "20261101", "now", "2026-13-01", "9999-12-31T24:00:00", "1e"]
)
# JSON has no NaN or infinity (httpx refuses to send them): the largest finite floats stand in.
FLOATS: Final = st.floats(allow_nan=False, allow_infinity=False)
JSON_VALUES: Final = st.recursive(
    st.none() | st.booleans() | ANY_INTS | FLOATS | TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def hostile_ids(aw: AuthorizationWorld) -> st.SearchStrategy[str]:
    """The world's real IDs (own, someone else's, another project's: the caller decides which is which),
    the same numbers as another type, and IDs no row can have."""
    real = sorted(aw.world.gid(name) for name in aw.world.ids)
    types = sorted({name.split(":")[0] for name in aw.world.ids})

    def gid(type_name: str, pk: object) -> str:
        return str(relay.GlobalID(type_name, str(pk)))

    return st.one_of(
        st.sampled_from(real),
        st.builds(gid, st.sampled_from(types), st.one_of(st.sampled_from(EDGE_INTS), st.integers(1, 40))),
        st.builds(gid, st.sampled_from(types), TEXTS),
        st.sampled_from(["garbage", "", "Unit:1", "VW5pdDo=", "OjE=", "VW5pdDox\n", "=" * 8]),
        TEXTS,
    )


# --- documents from hypothesis-graphql ------------------------------------------------------------


def documents(aw: AuthorizationWorld) -> st.SearchStrategy[str]:
    string = nodes.String
    return hypothesis_graphql.from_schema(
        SCHEMA,
        custom_scalars={
            "ID": hostile_ids(aw).map(string),
            "Date": DATES.map(string),
            "DateTime": DATETIMES.map(string),
            "Time": TIMES.map(string),
            "Decimal": DECIMALS.map(string),
            "JSON": JSON_VALUES.map(lambda value: string(json.dumps(value))),
            "Upload": st.just(graphql.NullValueNode()),
        },
        allow_x00=False,  # PostgreSQL text holds no NUL: covered by the variables, which send it
    )


# --- one operation per root field, its arguments as variables --------------------------------------


def _selection(type_: graphql.GraphQLOutputType) -> str:
    named = graphql.get_named_type(type_)
    if isinstance(named, graphql.GraphQLUnionType) and any(any(i.name == "Error" for i in member.interfaces) for member in named.types):
        return "{ __typename ... on Error { code message field } }"
    if isinstance(named, (graphql.GraphQLObjectType, graphql.GraphQLInterfaceType, graphql.GraphQLUnionType)):
        return "{ __typename }"
    return ""


def operation_for(root: str, name: str) -> str:
    field = getattr(SCHEMA, f"{root}_type").fields[name]
    declared = ", ".join(f"${argument}: {a.type}" for argument, a in field.args.items())
    passed = ", ".join(f"{argument}: ${argument}" for argument in field.args)
    return (
        f"{root}{f' ({declared})' if declared else ''} "
        f"{{ {name}{f'({passed})' if passed else ''} {_selection(field.type)} }}"
    )


def values(type_: graphql.GraphQLInputType, ids: st.SearchStrategy[str], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of `type_`'s shape, with hostile contents."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return _values(type_.of_type, ids, depth, st.nothing())
    return _values(type_, ids, depth, st.none())


def _values(
    type_: graphql.GraphQLInputType, ids: st.SearchStrategy[str], depth: int, nullable: st.SearchStrategy[None]
) -> st.SearchStrategy[Any]:
    if isinstance(type_, graphql.GraphQLList):
        return nullable | st.lists(values(type_.of_type, ids, depth + 1), max_size=3)
    if isinstance(type_, graphql.GraphQLEnumType):
        return nullable | st.sampled_from(sorted(type_.values))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        required = {n: values(f.type, ids, depth + 1) for n, f in type_.fields.items() if graphql.is_required_input_field(f)}
        optional = {n: values(f.type, ids, depth + 1) for n, f in type_.fields.items() if n not in required}
        return nullable | st.fixed_dictionaries(required, optional=optional if depth < 3 else {})
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "ID": ids,
        "Int": GRAPHQL_INTS,
        "Float": st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0, 1e308, -1e-308, 90.0, 181.0]),
        "String": TEXTS | st.just("\x00"),
        "Boolean": st.booleans(),
        "Date": DATES,
        "DateTime": DATETIMES,
        "Time": TIMES,
        "Decimal": DECIMALS,
        "JSON": JSON_VALUES,
        "Upload": st.none(),
    }
    return nullable | scalars[type_.name]  # type: ignore[union-attr]


# Wrongly typed variables: what a client sends that is not of the variable's type at all.
WRONGLY_TYPED: Final = st.one_of(
    st.none(), ANY_INTS, FLOATS, TEXTS, MALFORMED, st.sampled_from(["OCCUPIED", "occupied"]), JSON_VALUES
)

ROOT_FIELDS: Final = sorted(
    (root, name)
    for root in ("query", "mutation")
    for name in getattr(SCHEMA, f"{root}_type").fields
)


@st.composite
def operations(draw: st.DrawFn, aw: AuthorizationWorld) -> tuple[str, dict[str, Any]]:
    """A root field with its arguments as variables: each of its type, or, one time in five, one of them
    of another type; optional ones sometimes left out."""
    root, name = draw(st.sampled_from(ROOT_FIELDS), label="field")
    arguments = getattr(SCHEMA, f"{root}_type").fields[name].args
    ids = hostile_ids(aw)
    variables = {
        argument: draw(values(a.type, ids), label=argument)
        for argument, a in arguments.items()
        if isinstance(a.type, graphql.GraphQLNonNull) or draw(st.booleans())
    }
    if variables and draw(st.integers(0, 4)) == 0:
        mistyped = draw(st.sampled_from(sorted(variables)))
        variables[mistyped] = draw(WRONGLY_TYPED, label=f"{mistyped} (wrongly typed)")
    return operation_for(root, name), variables


# --- sending them ---------------------------------------------------------------------------------


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def logged_errors() -> Iterator[list[logging.LogRecord]]:
    """ERROR records of the app's loggers (courtyard.*, and strawberry's own) while the block runs."""
    handler = _Errors()
    loggers = [logging.getLogger(name) for name in ("courtyard", "strawberry", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


async def send(aw: AuthorizationWorld, role: str, document: str, variables: dict[str, Any]) -> None:
    """Send one operation; fail unless the answer is a GraphQL response without an internal error and
    nothing was logged as a bug."""
    user = CALLERS[role]
    headers = {"Authorization": f"Bearer {aw.token(user)}"} if user else {}
    with logged_errors() as records:
        response = await aw.client.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
    sent = f"as {role}: {document}\nvariables: {json.dumps(variables, ensure_ascii=False)[:2000]}"
    assert response.status_code in (200, 400, 401), f"HTTP {response.status_code} {response.text[:500]}\n{sent}"
    body = response.json()
    assert isinstance(body, dict) and ("data" in body or "errors" in body), f"{body}\n{sent}"
    assert set(body) <= {"data", "errors", "extensions"}, f"{body}\n{sent}"
    for error in body.get("errors") or []:
        assert isinstance(error.get("message"), str), f"{error}\n{sent}"
        code = (error.get("extensions") or {}).get("code")
        assert code is not None and code != "INTERNAL_SERVER_ERROR", f"{error}\n{sent}"
    assert records == [], f"{[r.getMessage() for r in records]}\n{sent}"


# --- the world, once per database ----------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def aw(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_server: PostgresServer,
) -> AsyncIterator[AuthorizationWorld]:
    async with serve_authorization_world(
        request.param, tmp_path_factory.mktemp("fuzz"), sqlite_template, postgres_server
    ) as world:
        yield world


ROLES: Final = st.sampled_from(sorted(CALLERS))


@FUZZ_SETTINGS
@given(data=st.data())
async def test_operations_drawn_from_the_schema_never_fail_inside(aw: AuthorizationWorld, data: st.DataObject) -> None:
    document = data.draw(documents(aw), label="document")
    await send(aw, data.draw(ROLES, label="role"), document, {})


@FUZZ_SETTINGS
@given(data=st.data())
async def test_hostile_variables_for_every_root_field_never_fail_inside(
    aw: AuthorizationWorld, data: st.DataObject
) -> None:
    document, variables = data.draw(operations(aw), label="operation")
    await send(aw, data.draw(ROLES, label="role"), document, variables)
