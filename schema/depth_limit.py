"""The depth limit, counted and reported in levels of fields (the root field is level 1), so the message
says the same number as the README. Strawberry's `QueryDepthLimiter` counts the root field as depth 0 and
would refuse 12 levels with "exceeds maximum operation depth of 10"; its depth walk is reused here and
only the message is ours."""

from __future__ import annotations

from graphql import GraphQLError, ValidationContext, ValidationRule
from strawberry.extensions.query_depth_limiter import determine_depth, get_fragments, get_queries_and_mutations

__all__ = ["MAX_QUERY_LEVELS", "QueryLevelLimit", "too_deep_message"]

MAX_QUERY_LEVELS = 11


def too_deep_message(operation_name: str) -> str:
    """`operation_name` is "anonymous" for an operation without a name, as strawberry calls it."""
    return f"'{operation_name}' has more than {MAX_QUERY_LEVELS} levels of fields."


class _InOurWords:
    """What the depth walk reports to: the validation context, with the message rewritten."""

    def __init__(self, context: ValidationContext, operation_name: str) -> None:
        self._context = context
        self._operation_name = operation_name

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(GraphQLError(too_deep_message(self._operation_name), error.nodes))


class QueryLevelLimit(ValidationRule):
    """Refuses an operation with more than `MAX_QUERY_LEVELS` levels of fields (fragments followed)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        definitions = context.document.definitions
        fragments = get_fragments(definitions)
        for name, operation in get_queries_and_mutations(definitions).items():
            determine_depth(
                node=operation,
                fragments=fragments,
                depth_so_far=0,
                max_depth=MAX_QUERY_LEVELS - 1,
                context=_InOurWords(context, name),  # type: ignore[arg-type]
                operation_name=name,
                should_ignore=None,
            )
