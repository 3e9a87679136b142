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


@strawberry.type(name="PlannedAssignment", description="One ticket's technician in a plan.")
class PlannedAssignmentType:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    technician_id: strawberry.ID = strawberry.field(description="The technician it goes to.")
    previous_technician_id: strawberry.ID | None = strawberry.field(description="The technician it had before, if any.")
    changes: bool = strawberry.field(description="Whether the plan moves the ticket.")
    cost: CostBreakdownType = strawberry.field(description="Why this technician.")
    ticket_pk: strawberry.Private[int]
    technician_pk: strawberry.Private[int]

    @strawberry.field(description="The ticket.")
    async def ticket(self, info: Info) -> TicketType | None:
        return (await TicketType.resolve_nodes(info=info, node_ids=[str(self.ticket_pk)]))[0]

    @strawberry.field(description="The technician.")
    async def technician(self, info: Info) -> TechnicianType | None:
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None


@strawberry.type(name="UnassignedTicket", description="A ticket a plan could not place.")
class UnassignedTicketType:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    code: UnassignableCodeEnum = strawberry.field(description="Why, as a code.")
    reason: str = strawberry.field(description="Why, in English.")
    taken_from_technician_id: strawberry.ID | None = strawberry.field(
        description="The technician it was taken from, if the plan took it back."
    )


@strawberry.type(name="DispatchPlan", description="A batch re-optimisation: who gets what, and what is left over.")
class DispatchPlanType:
    applied: bool = strawberry.field(description="Whether the assignments were made (apply: true).")
    total_cost: int = strawberry.field(description="Sum of the assignments' costs (CostBreakdown units).")
    assignments: list[PlannedAssignmentType] = strawberry.field(description="Who gets which ticket.")
    unassigned: list[UnassignedTicketType] = strawberry.field(description="Tickets the plan could not place, and why.")

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
    priority: PriorityEnum = strawberry.field(description="The priority they apply to.")
    respond_minutes: int = strawberry.field(description="Minutes to accept.")
    on_site_minutes: int = strawberry.field(description="Minutes to be on site.")
    resolve_minutes: int = strawberry.field(description="Minutes to resolve.")


@strawberry.type(
    name="DispatchSettings",
    description="How a project dispatches (readable by its dispatchers and admins; admins change it).",
)
class DispatchSettingsType:
    auto_dispatch: bool = strawberry.field(
        description="Whether new and returned tickets go to the best technician at once."
    )
    triage_threshold: float = strawberry.field(
        description="Classifier confidence (0 to 1) below which a report waits in TRIAGE."
    )
    warning_percent: int = strawberry.field(
        description="Share of a promise's time (1 to 99 %) after which SLA_WARNING is sent and the state turns WARNING."
    )
    sla: list[SlaTargetsType] = strawberry.field(description="The promises per priority.")

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
