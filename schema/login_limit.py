"""One `login` per request: aliases would otherwise carry dozens of password guesses in one operation,
each checked before the throttle saw the one before it."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
)

__all__ = ["MAX_LOGINS_PER_REQUEST", "OneLoginPerRequest"]

MAX_LOGINS_PER_REQUEST = 1
_LOGIN = "login"


class OneLoginPerRequest(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        if self._logins(node.selection_set, set()) > MAX_LOGINS_PER_REQUEST:
            self.report_error(
                GraphQLError(
                    "One `login` per request: send each attempt as a request of its own.",
                    node,
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
            )

    def _logins(self, selections: SelectionSetNode, spreading: set[str]) -> int:
        """`login` fields at the root of the mutation, through inline fragments and fragment spreads."""
        count = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                count += selection.name.value == _LOGIN
            elif isinstance(selection, InlineFragmentNode):
                count += self._logins(selection.selection_set, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                # A fragment spreading itself is refused by another rule; don't loop on it here.
                if fragment is not None and name not in spreading:
                    count += self._logins(fragment.selection_set, spreading | {name})
        return count
