"""The contract front ends build on: every element of the schema described, and `schema.graphql` current."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    specified_scalar_types,
)

from api.cli import main
from schema import build_schema, schema_sdl

COMMITTED_SDL = Path(__file__).parents[2] / "schema.graphql"


def _graphql_schema() -> GraphQLSchema:
    return build_schema(production=False)._schema


def undescribed_elements(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field and enum value without a description, by its path."""
    missing: list[str] = []

    def check(path: str, description: str | None) -> None:
        if not (description or "").strip():
            missing.append(path)

    for name, kind in sorted(schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        check(name, kind.description)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                check(f"{name}.{field_name}", field.description)
                for argument_name, argument in field.args.items():
                    check(f"{name}.{field_name}({argument_name})", argument.description)
        elif isinstance(kind, GraphQLInputObjectType):
            for field_name, input_field in kind.fields.items():
                check(f"{name}.{field_name}", input_field.description)
        elif isinstance(kind, GraphQLEnumType):
            for value_name, value in kind.values.items():
                check(f"{name}.{value_name}", value.description)
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    missing = undescribed_elements(_graphql_schema())

    assert not missing, f"{len(missing)} schema elements have no description:\n" + "\n".join(missing)


def test_the_walk_reaches_every_kind_of_element() -> None:
    kinds = {type(kind) for kind in _graphql_schema().type_map.values()}

    # the walk covers object, input, interface, union and enum types (so a new kind is not skipped)
    assert {GraphQLObjectType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLUnionType, GraphQLEnumType} <= kinds


def test_the_walk_names_an_undescribed_argument_and_enum_value() -> None:
    from graphql import build_schema as parse_sdl

    schema = parse_sdl('"Q" type Query { "f" f(x: Int): E } "E" enum E { A "b" B }')

    assert undescribed_elements(schema) == ["E.A", "Query.f(x)"]


def test_the_committed_schema_graphql_is_the_built_schema() -> None:
    committed = COMMITTED_SDL.read_text(encoding="utf-8") if COMMITTED_SDL.exists() else ""

    assert committed == schema_sdl(), (
        "schema.graphql differs from the schema the code builds: run `courtyard schema --output schema.graphql`"
    )


def test_courtyard_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0

    assert capsys.readouterr().out == schema_sdl()


def test_courtyard_schema_writes_the_sdl_to_a_file(tmp_path: Path) -> None:
    output = tmp_path / "schema.graphql"

    assert main(["schema", "--output", str(output)]) == 0

    assert output.read_text(encoding="utf-8") == schema_sdl()


def test_untyped_event_data_is_deprecated_in_favour_of_the_typed_payload() -> None:
    event = _graphql_schema().type_map["TicketEvent"]
    assert isinstance(event, GraphQLObjectType)

    assert "payload" in (event.fields["data"].deprecation_reason or "")
    assert event.fields["payload"].deprecation_reason is None


def test_every_operation_a_role_gate_guards_names_its_roles() -> None:
    from strawberry.types.base import get_object_definition

    from schema.root import Mutation, Query

    unnamed = []
    for root in (Query, Mutation):
        definition = get_object_definition(root, strict=True)
        for field in definition.fields:
            messages = [str(getattr(p, "message", "")) for p in field.permission_classes]
            gate = next((m for m in messages if m.startswith("Requires one of the roles")), None)
            if gate is None:
                continue
            roles = gate.removeprefix("Requires one of the roles").split(" in ")[0].strip(" .").split(", ")
            if not all(role in (field.description or "") for role in roles):
                unnamed.append(f"{definition.name}.{field.name}: {', '.join(roles)}")

    assert not unnamed, "say who may call these in their descriptions:\n" + "\n".join(unnamed)
