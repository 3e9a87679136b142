"""Schema extensions: per-operation dataloaders and the error policy (codes on every error, masking)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

__all__ = ["ErrorPolicy", "PerOperationLoaders"]

log = logging.getLogger("courtyard.graphql")


class PerOperationLoaders(SchemaExtension):
    """A fresh set of dataloaders for each operation, even when a websocket shares one context."""

    def on_operation(self) -> Iterator[None]:
        self.execution_context.context.start_operation()
        yield


class ErrorPolicy(MaskErrors):
    """Give every top-level error an `extensions.code`, and hide what a bug would leak.

    Errors we raise on purpose carry a code already; GraphQL request errors (syntax, validation, depth
    and token limits) get GRAPHQL_VALIDATION_FAILED; anything else is a bug: logged with its traceback
    and, outside development, replaced by a generic message.
    """

    def __init__(self, *, production: bool) -> None:
        super().__init__(should_mask_error=lambda error: False)
        self.production = production

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._classify(error) for error in errors]

    def _classify(self, error: GraphQLError) -> GraphQLError:
        code = (error.extensions or {}).get("code")
        original = error.original_error
        if code is None and isinstance(original, GraphQLError):
            code = (original.extensions or {}).get("code")
        if code is not None:
            return _with_code(error, str(code), error.message)
        if original is None:
            return _with_code(error, "GRAPHQL_VALIDATION_FAILED", error.message)
        log.error("unexpected error in %s", error.path, exc_info=original)
        message = "Unexpected error." if self.production else f"Unexpected error: {original.__class__.__name__}: {original}"
        return _with_code(error, "INTERNAL_SERVER_ERROR", message, keep_original=False)


def _with_code(error: GraphQLError, code: str, message: str, *, keep_original: bool = True) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error if keep_original else None,
        extensions={**(error.extensions or {}), "code": code},
    )
