"""Schema extensions: per-operation dataloaders and the error policy (codes on every error, masking)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)

from schema.faults import (
    SERVICE_UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    database_unavailable,
    number_out_of_range,
    text_not_storable,
)

__all__ = ["ErrorPolicy", "OperationNameRequired", "PerOperationLoaders"]

log = logging.getLogger("courtyard.graphql")

# graphql-core appends these to unknown fields, arguments, types and enum values; they map the schema
# out for anyone probing it while introspection is off.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


class PerOperationLoaders(SchemaExtension):
    """A fresh set of dataloaders for each operation, even when a websocket shares one context."""

    def on_operation(self) -> Iterator[None]:
        self.execution_context.context.start_operation()
        yield


class OperationNameRequired(SchemaExtension):
    """GraphQL's GetOperation: a document with several operations runs only the one `operationName` names.

    Strawberry falls back to the document's first operation instead, and ran it.
    """

    def on_operation(self) -> Iterator[None]:
        # Before the document is parsed this is the name the request gave; afterwards strawberry answers
        # the first operation's name when the request gave none.
        self._requested_name = self.execution_context.operation_name
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)] if document else []
        # A document that fails validation (two anonymous operations do) is refused for that already.
        if self._requested_name is None and len(operations) > 1 and not context.pre_execution_errors:
            context.pre_execution_errors = [
                GraphQLError(
                    "The document has several operations: name the one to run in `operationName`.",
                    extensions={"code": "BAD_REQUEST"},
                )
            ]
        yield


class ErrorPolicy(MaskErrors):
    """Give every top-level error an `extensions.code`, and hide what a bug would leak.

    Errors we raise on purpose carry a code already. Request errors (syntax, validation, depth and token
    limits) get GRAPHQL_VALIDATION_FAILED; a value the client sent that graphql-core or strawberry refuses
    (a variable of the wrong type, an ID that is no global ID) or that does not fit the database's
    integers gets BAD_USER_INPUT; an unreachable database SERVICE_UNAVAILABLE, once, for the whole
    operation. Anything else is a bug: logged with its traceback and, outside development, replaced by a
    generic message. Production leaves graphql-core's "Did you mean …?" hints out.
    """

    def __init__(self, *, production: bool) -> None:
        super().__init__(should_mask_error=lambda error: False)
        self.production = production

    def _process_result(self, result: object) -> None:
        super()._process_result(result)
        errors = getattr(result, "errors", None) or []
        unavailable = [error for error in errors if (error.extensions or {}).get("code") == SERVICE_UNAVAILABLE]
        if unavailable:
            cause = unavailable[0].original_error
            log.warning("database unavailable: %s: %s", cause.__class__.__name__, cause)
            # What the operation got before the database went away is no answer to rely on: the client
            # retries the whole operation.
            result.data = None  # type: ignore[attr-defined]
            result.errors = [unavailable[0]]  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._classify(error) for error in errors]

    def _classify(self, error: GraphQLError) -> GraphQLError:
        code = (error.extensions or {}).get("code")
        original = error.original_error
        if code is None and isinstance(original, GraphQLError):
            code = (original.extensions or {}).get("code")
        if code is not None:
            return self._answer(error, str(code), error.message)
        if original is None:
            return self._answer(error, "GRAPHQL_VALIDATION_FAILED", error.message)
        if isinstance(original, GraphQLError):
            # graphql-core and strawberry raise these for input they refuse: a wrongly typed variable,
            # a string that is no global ID. The message names the variable or argument.
            return self._answer(error, "BAD_USER_INPUT", error.message)
        if isinstance(original, InvalidOperationTypeError):
            # Only the legacy graphql-ws protocol refuses operation types (it carries subscriptions only).
            message = (
                f"{error.message.capitalize()} on this connection: send queries and mutations by HTTP POST "
                "to /graphql, or use the graphql-transport-ws protocol."
            )
            return self._answer(error, "BAD_REQUEST", message)
        if isinstance(original, (CannotGetOperationTypeError, MissingQueryError)):
            # A websocket message without a query, or naming an operation its document does not hold.
            return self._answer(error, "BAD_REQUEST", error.message)
        if number_out_of_range(original):
            return self._answer(error, "BAD_USER_INPUT", "A number in the request is out of range.")
        if text_not_storable(original):
            return self._answer(error, "BAD_USER_INPUT", "A text in the request holds a NUL character.")
        if database_unavailable(original):
            return GraphQLError(UNAVAILABLE_MESSAGE, original_error=original, extensions={"code": SERVICE_UNAVAILABLE})
        log.error("unexpected error in %s", error.path, exc_info=original)
        name = original.__class__.__name__
        message = "Unexpected error." if self.production else f"Unexpected error: {name}: {original}"
        return _with_code(error, "INTERNAL_SERVER_ERROR", message, keep_original=False)

    def _answer(self, error: GraphQLError, code: str, message: str) -> GraphQLError:
        return _with_code(error, code, _SUGGESTION.sub("", message) if self.production else message)


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
