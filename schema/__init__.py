"""The GraphQL schema, built once per process for each mode (development or production)."""

from __future__ import annotations

from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.extensions import ErrorPolicy, PerOperationLoaders
from schema.root import Mutation, Query, Subscription

__all__ = ["MAX_QUERY_DEPTH", "MAX_QUERY_TOKENS", "build_schema"]

# QueryDepthLimiter counts the root field as depth 0: 11 levels of fields pass, 12 are refused.
MAX_QUERY_DEPTH = 10
MAX_QUERY_TOKENS = 2000
MAX_ALIASES = 30


class CourtyardSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Strawberry logs every error with a traceback; `ErrorPolicy` logs just the unexpected ones."""


@cache
def build_schema(*, production: bool) -> strawberry.Schema:
    # Factories, not instances: strawberry builds fresh extensions per operation (the two caches are
    # module-level LRU caches shared across instances).
    extensions: list[Any] = [
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
        lambda: MaxTokensLimiter(max_token_count=MAX_QUERY_TOKENS),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        PerOperationLoaders,
        lambda: ErrorPolicy(production=production),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return CourtyardSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(relay_max_results=100),
    )
