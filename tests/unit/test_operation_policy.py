"""The schema's one extension and the lean runner that enters it: the runner enters no hook for parsing,
validation or execution, which is exact only while the extension has none of its own."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from schema.extensions import OperationPolicy, OperationPolicyRunner, extensions_runner

NO_CONTEXT: Any = object()


def _policy() -> OperationPolicy:
    return OperationPolicy(production=True, validation_rules=[], max_tokens=10)


def test_the_policy_hooks_nothing_the_lean_runner_leaves_out() -> None:
    for hook in ("on_parse", "on_validate", "on_execute", "resolve", "get_results"):
        assert getattr(OperationPolicy, hook) is getattr(SchemaExtension, hook), hook


def test_the_lean_runner_runs_the_policy_alone_and_strawberrys_runs_anything_else() -> None:
    class Other(SchemaExtension):
        """Any extension besides the policy."""

    assert type(extensions_runner(NO_CONTEXT, [_policy()])) is OperationPolicyRunner
    assert type(extensions_runner(NO_CONTEXT, [_policy(), Other()])) is SchemaExtensionsRunner
    assert type(extensions_runner(NO_CONTEXT, [Other()])) is SchemaExtensionsRunner
