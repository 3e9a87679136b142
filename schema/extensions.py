"""The schema's one extension: what runs around every operation (caches, limits, the operation's name,
fresh dataloaders) and the error policy (codes on every error, masking)."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext
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

__all__ = ["DOCUMENT_CACHE_SIZE", "ErrorPolicy", "OperationPolicy", "OperationPolicyRunner", "extensions_runner", "validation_errors"]

log = logging.getLogger("courtyard.graphql")

# graphql-core appends these to unknown fields, arguments, types and enum values; they map the schema
# out for anyone probing it while introspection is off.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")

DOCUMENT_CACHE_SIZE = 256
"""Documents parsed, and their validation errors, kept per process and shared by every operation."""
_parse = _get_parse_cache(DOCUMENT_CACHE_SIZE)


@lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def validation_errors(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """The errors validating `query` (parsed as `OperationPolicy` parses it) finds. Keyed by the query's
    text: strawberry's `ValidationCache` keys by the parsed document, and hashing a document walks all of
    its nodes, every request."""
    return validate_document(schema, _parse(query, max_tokens=max_tokens), rules)  # type: ignore[no-any-return]


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
        # MaskErrors' own reading of a result asks a runtime-checkable protocol whether it has `errors`,
        # which costs more than the rest of this for a result without errors: asked directly here.
        errors = getattr(result, "errors", None)
        if not errors:
            return
        errors = result.errors = self._process_errors(errors)  # type: ignore[attr-defined]
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


class OperationPolicy(ErrorPolicy):
    """Everything the schema does around an operation, in one extension: strawberry enters every hook of
    every extension through context managers built per operation, and with one extension per concern
    (parser and validation caches, validation rules, token limit, operation name, loaders, errors) that
    machinery cost more CPU than a small query's execution.

    Around the operation: the token limit for parsing, the validation rules, fresh dataloaders
    (`Context.start_operation`: an operation on a websocket shares the connection's context), then the
    error policy on its result. Parsing and validation go through the process's caches. A document with
    several operations runs only the one `operationName` names (GraphQL's GetOperation; strawberry would
    run the first).
    """

    def __init__(
        self, *, production: bool, validation_rules: Sequence[type[ASTValidationRule]], max_tokens: int
    ) -> None:
        super().__init__(production=production)
        self._validation_rules = tuple(validation_rules)
        self._max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        # Before the document is parsed this is the name the request gave; afterwards strawberry answers
        # the first operation's name when the request gave none.
        requested_name = context.operation_name
        context.parse_options["max_tokens"] = self._max_tokens
        context.validation_rules = context.validation_rules + self._validation_rules
        if context.query:
            # Parsed and validated here rather than in hooks of their own: strawberry parses no document
            # that is there already and validates none whose errors are set, and each further hook costs a
            # context manager per operation. A syntax error ends the operation as it would from strawberry's
            # parsing; a request without a query is left to strawberry to refuse.
            context.graphql_document = _parse(context.query, **context.parse_options)
            context.pre_execution_errors = self._validation_errors(context.graphql_document, requested_name)
        context.context.start_operation()
        yield from super().on_operation()

    def _validation_errors(self, document: DocumentNode, requested_name: str | None) -> list[GraphQLError]:
        context = self.execution_context
        errors = validation_errors(context.schema._schema, context.query, self._max_tokens, context.validation_rules)
        if errors or requested_name is not None:
            return errors  # type: ignore[no-any-return]
        # A document that fails validation (two anonymous operations do) is refused for that already.
        if sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1:
            return [
                GraphQLError(
                    "The document has several operations: name the one to run in `operationName`.",
                    extensions={"code": "BAD_REQUEST"},
                )
            ]
        return errors  # type: ignore[no-any-return]


class _OperationHook:
    """`OperationPolicy.on_operation` entered as strawberry enters hooks (`async with` in async execution,
    `with` in sync), without the exit stack and wrappers strawberry builds around each hook."""

    __slots__ = ("_hook",)

    def __init__(self, policy: OperationPolicy) -> None:
        self._hook = contextlib.contextmanager(policy.on_operation)()

    def __enter__(self) -> None:
        self._hook.__enter__()

    def __exit__(self, *error: Any) -> bool | None:
        return self._hook.__exit__(*error)

    async def __aenter__(self) -> None:
        self._hook.__enter__()

    async def __aexit__(self, *error: Any) -> bool | None:
        return self._hook.__exit__(*error)


_NO_HOOK = contextlib.nullcontext()


class OperationPolicyRunner(SchemaExtensionsRunner):
    """Runs an operation whose only extension is an `OperationPolicy`, which hooks nothing but the whole
    operation (and, through strawberry's own runner, streamed results): parsing, validation and execution
    enter no hook at all."""

    def operation(self) -> Any:
        return _OperationHook(self.extensions[0])  # type: ignore[arg-type]

    def parsing(self) -> Any:
        return _NO_HOOK

    def validation(self) -> Any:
        return _NO_HOOK

    def executing(self) -> Any:
        return _NO_HOOK

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        return dict(ctx.extensions_results)


def extensions_runner(execution_context: ExecutionContext, extensions: list[SchemaExtension]) -> SchemaExtensionsRunner:
    """The lean runner when the operation's extensions are exactly one `OperationPolicy`, else strawberry's."""
    if len(extensions) == 1 and type(extensions[0]) is OperationPolicy:
        return OperationPolicyRunner(execution_context, extensions)
    return SchemaExtensionsRunner(execution_context, extensions)
