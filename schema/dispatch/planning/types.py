"""GraphQL types of dispatch planning: the solver's plans and a project's dispatch settings."""

from __future__ import annotations

import strawberry

from dispatch.dispatching import OptimizationOutcome
from dispatch.settings import DispatchSettings
from kernel.vocabulary import Priority
from schema.context import Info
from schema.dispatch.enums import PriorityEnum, UnassignableCodeEnum
from schema.dispatch.technicians.types import TechnicianType
from schema.dispatch.tickets.payloads import CostBreakdownType
from schema.dispatch.tickets.types import TicketType
from schema.ids import encode_id, encode_optional_id

__all__ = [
    "CostBreakdownType",
    "DispatchPlanType",
    "DispatchSettingsType",
    "PlannedAssignmentType",
    "SlaTargetsType",
    "UnassignedTicketType",
]


@strawberry.type(name="PlannedAssignment")
class PlannedAssignmentType:
    ticket_id: strawberry.ID
    technician_id: strawberry.ID
    previous_technician_id: strawberry.ID | None
    changes: bool = strawberry.field(description="Whether the plan moves the ticket.")
    cost: CostBreakdownType
    ticket_pk: strawberry.Private[int]
    technician_pk: strawberry.Private[int]

    @strawberry.field
    async def ticket(self, info: Info) -> TicketType | None:
        return (await TicketType.resolve_nodes(info=info, node_ids=[str(self.ticket_pk)]))[0]

    @strawberry.field
    async def technician(self, info: Info) -> TechnicianType | None:
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(name="UnassignedTicket")
class UnassignedTicketType:
    ticket_id: strawberry.ID
    code: UnassignableCodeEnum
    reason: str
    taken_from_technician_id: strawberry.ID | None


@strawberry.type(name="DispatchPlan", description="A batch re-optimisation: who gets what, and what is left over.")
class DispatchPlanType:
    applied: bool
    total_cost: int
    assignments: list[PlannedAssignmentType]
    unassigned: list[UnassignedTicketType]

    @classmethod
    def from_outcome(cls, outcome: OptimizationOutcome) -> DispatchPlanType:
        return cls(
            applied=outcome.applied,
            total_cost=outcome.total_cost,
            assignments=[
                PlannedAssignmentType(
                    ticket_id=encode_id("Ticket", item.ticket_id),
                    technician_id=encode_id("Technician", item.technician_id),
                    previous_technician_id=encode_optional_id("Technician", item.previous_technician_id),
                    changes=item.changes,
                    cost=CostBreakdownType(
                        distance_meters=item.cost.distance_m,
                        distance=item.cost.distance,
                        priority=item.cost.priority,
                        load=item.cost.load,
                        preference=item.cost.preference,
                        total=item.cost.total,
                    ),
                    ticket_pk=item.ticket_id,
                    technician_pk=item.technician_id,
                )
                for item in outcome.assignments
            ],
            unassigned=[
                UnassignedTicketType(
                    ticket_id=encode_id("Ticket", item.ticket_id),
                    code=item.code,
                    reason=item.reason,
                    taken_from_technician_id=encode_optional_id(
                        "Technician", outcome.unassigned_from.get(item.ticket_id)
                    ),
                )
                for item in outcome.unassigned
            ],
        )


@strawberry.type(name="SlaTargets", description="Minutes allowed from submission to respond, be on site and resolve.")
class SlaTargetsType:
    priority: PriorityEnum
    respond_minutes: int
    on_site_minutes: int
    resolve_minutes: int


@strawberry.type(name="DispatchSettings")
class DispatchSettingsType:
    auto_dispatch: bool
    triage_threshold: float
    warning_percent: int
    sla: list[SlaTargetsType]

    @classmethod
    def from_settings(cls, settings: DispatchSettings) -> DispatchSettingsType:
        policy = settings.sla_policy
        return cls(
            auto_dispatch=settings.auto_dispatch,
            triage_threshold=settings.triage_threshold,
            warning_percent=policy.warning_percent,
            sla=[
                SlaTargetsType(
                    priority=priority,
                    respond_minutes=int(targets.respond.total_seconds() // 60),
                    on_site_minutes=int(targets.on_site.total_seconds() // 60),
                    resolve_minutes=int(targets.resolve.total_seconds() // 60),
                )
                for priority in Priority
                for targets in (policy.targets_for(priority),)
            ],
        )
