"""Mutations of dispatch planning: re-plan a project's queue, change its dispatch settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from dispatch.configuration import update_dispatch_settings
from dispatch.dispatching import OptimizationOutcome, optimize_dispatch
from dispatch.settings import DispatchSettings
from schema.context import Info
from schema.dispatch.enums import PriorityEnum
from schema.dispatch.permissions import DISPATCHERS, SETTINGS_ADMINS
from schema.dispatch.planning.types import DispatchPlanType, DispatchSettingsType
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id
from schema.permissions import require_principal
from schema.use_cases import run_mutation

__all__ = ["PlanningMutations"]

OptimizeDispatchResult = Annotated[
    DispatchPlanType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("OptimizeDispatchResult")
]
UpdateDispatchSettingsResult = Annotated[
    DispatchSettingsType | BadUserInputError | NotFoundError, strawberry.union("UpdateDispatchSettingsResult")
]


@strawberry.input
class SlaTargetsInput:
    priority: PriorityEnum
    respond_minutes: int | None = None
    on_site_minutes: int | None = None
    resolve_minutes: int | None = None


@strawberry.input
class UpdateDispatchSettingsInput:
    project_id: strawberry.ID
    auto_dispatch: bool | None = None
    triage_threshold: float | None = None
    warning_percent: int | None = None
    sla: list[SlaTargetsInput] | None = None


def _minutes(targets: SlaTargetsInput) -> dict[str, int]:
    given = {"respond": targets.respond_minutes, "on_site": targets.on_site_minutes, "resolve": targets.resolve_minutes}
    return {key: value for key, value in given.items() if value is not None}


@strawberry.type
class PlanningMutations:
    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="Re-plan every ticket nobody has accepted yet; with apply: false only show the plan.",
    )
    async def optimize_dispatch(
        self, info: Info, project_id: strawberry.ID, apply: bool = True
    ) -> OptimizeDispatchResult:
        principal = await require_principal(info)

        async def optimize() -> OptimizationOutcome:
            return await optimize_dispatch(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                project_id=decode_id(project_id, "Project", field="projectId"),
                apply=apply,
                publisher=info.context.services.publisher,
            )

        return await run_mutation(optimize, DispatchPlanType.from_outcome)

    @strawberry.mutation(
        permission_classes=SETTINGS_ADMINS,
        description="Auto-dispatch on or off, the classifier's triage threshold, and the SLA promises per priority.",
    )
    async def update_dispatch_settings(
        self, info: Info, input: UpdateDispatchSettingsInput
    ) -> UpdateDispatchSettingsResult:
        principal = await require_principal(info)

        async def update() -> DispatchSettings:
            return await update_dispatch_settings(
                info.context.session_factory,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                auto_dispatch=input.auto_dispatch,
                triage_threshold=input.triage_threshold,
                warning_percent=input.warning_percent,
                sla_minutes={targets.priority.value: _minutes(targets) for targets in input.sla or []},
            )

        return await run_mutation(update, DispatchSettingsType.from_settings)
