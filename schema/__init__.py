"""The GraphQL schema, built once per process for each mode (development or production)."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions.disable_introspection import NoSchemaIntrospectionCustomRule
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig

from schema.compiled_queries import CompiledQueryExecutor
from schema.depth_limit import MAX_QUERY_LEVELS, QueryLevelLimit
from schema.extensions import OperationPolicy, extensions_runner
from schema.login_limit import OneLoginPerRequest
from schema.root import Mutation, Query, Subscription
from schema.scalars import scalar_overrides

__all__ = ["MAX_QUERY_LEVELS", "MAX_QUERY_TOKENS", "build_schema", "schema_sdl"]

MAX_QUERY_TOKENS = 2000
MAX_ALIASES = 30
_LIMIT_RULES = [QueryLevelLimit, aliases_rule(MAX_ALIASES), OneLoginPerRequest]


class CourtyardSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error with a traceback; `ErrorPolicy` logs just the unexpected ones."""

    def create_extensions_runner(self, execution_context: Any, extensions: list[Any]) -> SchemaExtensionsRunner:
        return extensions_runner(execution_context, extensions)


@cache
def build_schema(*, production: bool) -> strawberry.Schema:
    # A factory, not an instance: strawberry builds the extension afresh for each operation. The
    # validation cache is keyed by the rule classes too, and `aliases_rule` makes a new class per call,
    # so the rules are built once, here: with per-operation rules the cache never hit.
    rules = [*_LIMIT_RULES, NoSchemaIntrospectionCustomRule] if production else _LIMIT_RULES
    extensions: list[Any] = [
        lambda: OperationPolicy(production=production, validation_rules=rules, max_tokens=MAX_QUERY_TOKENS)
    ]
    return CourtyardSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=100),
        scalar_overrides=scalar_overrides(),
        execution_context_class=CompiledQueryExecutor,
    )


def schema_sdl() -> str:
    """The development schema in SDL, as committed in `schema.graphql` (`courtyard schema` writes it).

    Production serves the same types; it only turns introspection off."""
    return build_schema(production=False).as_str() + "\n"
