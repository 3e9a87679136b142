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
    DispatchPlanType | BadUserInputError | NotFoundError | ConflictError, strawberry.union(
        "OptimizeDispatchResult",
        description=(
            "What `optimizeDispatch` answers: the DispatchPlan; BadUserInputError; NotFoundError (a project you do not "
            "dispatch); ConflictError (another re-plan of the project is running)."
        ),
    )
]
UpdateDispatchSettingsResult = Annotated[
    DispatchSettingsType | BadUserInputError | NotFoundError, strawberry.union(
        "UpdateDispatchSettingsResult",
        description=(
            "What `updateDispatchSettings` answers: the DispatchSettings now; BadUserInputError (`field` names the "
            "setting at fault); NotFoundError."
        ),
    )
]


@strawberry.input(description="New promises for one priority; minutes left out stay as they are.")
class SlaTargetsInput:
    priority: PriorityEnum = strawberry.field(description="The priority.")
    respond_minutes: int | None = strawberry.field(default=None, description="Minutes to accept.")
    on_site_minutes: int | None = strawberry.field(default=None, description="Minutes to be on site.")
    resolve_minutes: int | None = strawberry.field(default=None, description="Minutes to resolve.")


@strawberry.input(description="Changes to a project's dispatch settings; fields left out stay as they are.")
class UpdateDispatchSettingsInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    auto_dispatch: bool | None = strawberry.field(
        default=None, description="Dispatch new tickets at once (true) or leave them to dispatchers."
    )
    triage_threshold: float | None = strawberry.field(
        default=None, description="Classifier confidence, 0 to 1, below which reports wait in TRIAGE."
    )
    warning_percent: int | None = strawberry.field(
        default=None, description="Share of a promise's time, 1 to 99, after which it warns."
    )
    sla: list[SlaTargetsInput] | None = strawberry.field(default=None, description="New promises per priority.")


def _minutes(targets: SlaTargetsInput) -> dict[str, int]:
    given = {"respond": targets.respond_minutes, "on_site": targets.on_site_minutes, "resolve": targets.resolve_minutes}
    return {key: value for key, value in given.items() if value is not None}


@strawberry.type
class PlanningMutations:
    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Re-plan every ticket nobody has accepted yet; with apply: false only show the plan.",
    )
    async def optimize_dispatch(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        apply: Annotated[
            bool,
            strawberry.argument(description="True (default): assign as planned; false: only answer the plan."),
        ] = True,
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
        description="ADMIN: Auto-dispatch on or off, the classifier's triage threshold, and the SLA promises per priority.",
    )
    async def update_dispatch_settings(
        self,
        info: Info,
        input: Annotated[UpdateDispatchSettingsInput, strawberry.argument(description="What changes.")],
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
