"""Typed payloads of ticket events: one GraphQL object per event type, read from what the event stored.

The dispatch services write each event's details as a JSON object (`dispatch.ticket_state.apply_transition`
for lifecycle moves, `dispatch.intake` for SUBMITTED, `dispatch.jobs` for the SLA alerts, the triage
use case for category and priority changes). `payload_of` reads that object into the matching type,
leniently: a key an older event lacks answers null, never an error. Technicians are resolved through
`TechnicianType`, so a viewer sees of them exactly what `dispatch.policy.technician_view` allows; the
dispatch cost, which tells how far the technician was from the job, follows the same rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry

from dispatch.model import AssignmentMode
from dispatch.policy import TechnicianView, technician_view
from kernel.vocabulary import Category, Priority, SlaTarget, TicketEventType, TicketStatus
from schema.context import Info
from schema.dispatch.enums import AssignmentModeEnum, PriorityEnum, SlaTargetEnum, TicketStatusEnum
from schema.dispatch.equipment.types import EquipmentType
from schema.dispatch.technicians.types import GeoPointType, TechnicianType
from schema.scalars import CategoryEnum

__all__ = ["CostBreakdownType", "TicketEventPayload", "payload_of"]

E = TypeVar("E", bound=Enum)

_TECHNICIAN_MASKING = (
    " Owners and other technicians see only the name and a masked phone (as everywhere a technician appears)."
)


@strawberry.type(
    name="CostBreakdown",
    description="One assignment's share of the dispatch solver's objective. Every part is in the solver's "
    "cost units, which are metres of travel: the other parts are weighted into metres.",
)
class CostBreakdownType:
    distance_meters: int = strawberry.field(description="Straight-line distance from the technician to the job, metres.")
    distance: int = strawberry.field(description="The travel part of the cost (the distance, weighted).")
    priority: int = strawberry.field(description="The part that makes urgent tickets go first (lower is more urgent).")
    load: int = strawberry.field(description="The part that spreads work: grows with the tickets the technician holds.")
    preference: int = strawberry.field(
        description="The part from a preferred (negative) or avoided technician, e.g. the one who worked on a reopened ticket."
    )
    total: int = strawberry.field(description="The sum of the parts, the figure the solver minimised.")

    @classmethod
    def from_payload(cls, data: object) -> CostBreakdownType | None:
        if not isinstance(data, Mapping):
            return None
        parts = {key: data.get(key) for key in ("distanceMeters", "distance", "priority", "load", "preference", "total")}
        if not all(type(value) is int for value in parts.values()):
            return None
        return cls(
            distance_meters=parts["distanceMeters"],
            distance=parts["distance"],
            priority=parts["priority"],
            load=parts["load"],
            preference=parts["preference"],
            total=parts["total"],
        )


@strawberry.type(
    name="ClassifierVerdict",
    description="What the fault classifier read in an owner's description when the ticket was filed.",
)
class ClassifierVerdictType:
    category: CategoryEnum | None = strawberry.field(description="The category it chose.")
    confidence: float | None = strawberry.field(
        description="How sure it was, 0 to 1; below the project's triage threshold the ticket went to TRIAGE."
    )
    urgency: PriorityEnum | None = strawberry.field(
        description="The priority it read: URGENT on any word of danger or a fault of fire equipment, else from its cues."
    )
    evidence: list[str] = strawberry.field(description="The words of the description the category rests on.")
    urgency_evidence: list[str] = strawberry.field(
        description="The words of the description the priority rests on (empty for NORMAL, the everyday priority)."
    )


def _enum(kind: type[E], value: object) -> E | None:
    try:
        return kind(value)
    except ValueError:
        return None


def _int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return value if type(value) is int else None


def _words(value: object) -> list[str]:
    return [word for word in value if isinstance(word, str)] if isinstance(value, list) else []


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


async def _technician(info: Info, technician_id: int | None) -> TechnicianType | None:
    if technician_id is None:
        return None
    row = await info.context.loaders.technician.load(technician_id)
    return TechnicianType.from_row(row) if row is not None else None


@strawberry.interface(
    name="StatusChangePayload",
    description="What every lifecycle move of a ticket stores: the status before and after, the note that came "
    "with it, and the technician holding the ticket afterwards.",
)
class StatusChangePayload:
    from_status: TicketStatusEnum | None = strawberry.field(description="The status before the event.")
    to_status: TicketStatusEnum | None = strawberry.field(description="The status after the event.")
    note: str | None = strawberry.field(
        description="Free text that came with the action: a REJECTED reason, RESOLVED work notes, any other remark."
    )
    technician_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The technician holding the ticket after this event; null when nobody does." + _TECHNICIAN_MASKING
    )
    async def technician(self, info: Info) -> TechnicianType | None:
        return await _technician(info, self.technician_pk)


@strawberry.interface(
    name="ReleasePayload",
    description="A lifecycle move that can take the ticket away from a technician (who is then told so).",
)
class ReleasePayload:
    previous_technician_pk: strawberry.Private[int | None]

    @strawberry.field(
        description="The technician who stopped working on the ticket with this event; null when nobody did."
        + _TECHNICIAN_MASKING
    )
    async def previous_technician(self, info: Info) -> TechnicianType | None:
        return await _technician(info, self.previous_technician_pk)


@strawberry.type(name="SubmittedPayload", description="SUBMITTED: the ticket was filed.")
class SubmittedPayloadType:
    status: TicketStatusEnum | None = strawberry.field(
        description="Where it started: TRIAGE when the classifier was unsure, else NEW."
    )
    category: CategoryEnum | None = strawberry.field(description="The category it was filed under.")
    priority: PriorityEnum | None = strawberry.field(description="The priority it was filed with.")
    classifier: ClassifierVerdictType | None = strawberry.field(
        description="The classifier's reading of the description; null for preventive maintenance."
    )
    attachment_count: int = strawberry.field(description="How many photos or videos came with the report.")
    due_on: dt.date | None = strawberry.field(
        description="Preventive maintenance only: the day the equipment was due, in the project's time zone."
    )
    equipment_pk: strawberry.Private[int | None]

    @strawberry.field(description="Preventive maintenance only: the equipment to service.")
    async def equipment(self, info: Info) -> EquipmentType | None:
        if self.equipment_pk is None:
            return None
        row = await info.context.loaders.dispatch.equipment.load(self.equipment_pk)
        return EquipmentType.from_row(row) if row is not None else None


@strawberry.type(name="TriagedPayload", description="TRIAGED: a dispatcher confirmed or corrected the category.")
class TriagedPayloadType(StatusChangePayload):
    category: CategoryEnum | None = strawberry.field(description="The category the dispatcher settled on.")
    priority: PriorityEnum | None = strawberry.field(description="The priority after triage.")


@strawberry.type(
    name="AssignedPayload",
    description="ASSIGNED or REASSIGNED: a technician was given the ticket (REASSIGNED: taken from another).",
)
class AssignedPayloadType(StatusChangePayload, ReleasePayload):
    mode: AssignmentModeEnum | None = strawberry.field(description="Who chose the technician, and how.")
    cost_parts: strawberry.Private[CostBreakdownType | None]

    @strawberry.field(
        description="Why the solver chose this technician (INSTANT and BATCH modes); null for a manual assignment, "
        "and for viewers who may not see how the technician works (owners)."
    )
    async def cost(self, info: Info) -> CostBreakdownType | None:
        if self.cost_parts is None or self.technician_pk is None:
            return None
        principal = await info.context.principal()
        row = await info.context.loaders.technician.load(self.technician_pk)
        if principal is None or row is None:
            return None
        view = technician_view(principal, project_id=row.project_id, technician_id=row.id)
        return self.cost_parts if view is not TechnicianView.CONTACT else None


@strawberry.type(
    name="UnassignedPayload",
    description="UNASSIGNED: staff or a batch re-plan took the ticket back into the queue (status NEW).",
)
class UnassignedPayloadType(StatusChangePayload, ReleasePayload):
    mode: AssignmentModeEnum | None = strawberry.field(
        description="BATCH when a re-plan took it back; null when a dispatcher did."
    )


@strawberry.type(
    name="EscalatedPayload",
    description="ESCALATED: nobody accepted the ticket in time, so Courtyard took it back or offered it again.",
)
class EscalatedPayloadType(StatusChangePayload, ReleasePayload):
    reason: str | None = strawberry.field(description="Why, in English (e.g. 'not accepted in time').")


@strawberry.type(name="AcceptedPayload", description="ACCEPTED: the assigned technician took the job.")
class AcceptedPayloadType(StatusChangePayload):
    pass


@strawberry.type(
    name="RejectedPayload",
    description="REJECTED: the technician handed the ticket back (the reason is in `note`); it is NEW again.",
)
class RejectedPayloadType(StatusChangePayload, ReleasePayload):
    pass


@strawberry.type(name="CheckedInPayload", description="CHECKED_IN: the technician arrived on site.")
class CheckedInPayloadType(StatusChangePayload):
    location: GeoPointType | None = strawberry.field(description="Where the technician's phone said they were.")


@strawberry.type(name="StartedPayload", description="STARTED: work began on site.")
class StartedPayloadType(StatusChangePayload):
    pass


@strawberry.type(
    name="WaitingForOwnerPayload",
    description="WAITING_FOR_OWNER: the work waits for the owner; the SLA clock stands still until RESUMED.",
)
class WaitingForOwnerPayloadType(StatusChangePayload):
    pass


@strawberry.type(name="ResumedPayload", description="RESUMED: work goes on where it paused; the SLA clock runs again.")
class ResumedPayloadType(StatusChangePayload):
    pass


@strawberry.type(name="ResolvedPayload", description="RESOLVED: the technician finished (work notes in `note`).")
class ResolvedPayloadType(StatusChangePayload):
    attachment_count: int = strawberry.field(description="How many photos or videos of the work came with it.")


@strawberry.type(
    name="ClosedPayload", description="CLOSED: the owner (or staff on their behalf) confirmed the work and rated it."
)
class ClosedPayloadType(StatusChangePayload):
    rating: int | None = strawberry.field(description="The rating, a whole number from 1 to 5.")
    comment: str | None = strawberry.field(description="The owner's comment on the work.")


@strawberry.type(
    name="ReopenedPayload",
    description="REOPENED: the owner (or staff) found the fault not fixed; the next dispatch prefers the previous technician.",
)
class ReopenedPayloadType(StatusChangePayload, ReleasePayload):
    attachment_count: int = strawberry.field(description="How many photos or videos came with the reopening.")


@strawberry.type(
    name="CancelledPayload",
    description="CANCELLED: the owner or staff called the job off; the technician stays on record and is told.",
)
class CancelledPayloadType(StatusChangePayload, ReleasePayload):
    pass


@strawberry.type(
    name="SlaAlertPayload",
    description="SLA_WARNING or SLA_BREACHED: a promise of the service level is close to its deadline, or past it.",
)
class SlaAlertPayloadType:
    target: SlaTargetEnum | None = strawberry.field(description="Which promise.")
    due_at: dt.datetime | None = strawberry.field(description="Its deadline (UTC).")


@strawberry.type(name="CategoryChangedPayload", description="CATEGORY_CHANGED: a dispatcher corrected the category.")
class CategoryChangedPayloadType:
    from_category: CategoryEnum | None = strawberry.field(description="The category before.")
    to_category: CategoryEnum | None = strawberry.field(description="The category after.")


@strawberry.type(name="PriorityChangedPayload", description="PRIORITY_CHANGED: a dispatcher changed the priority.")
class PriorityChangedPayloadType:
    from_priority: PriorityEnum | None = strawberry.field(description="The priority before.")
    to_priority: PriorityEnum | None = strawberry.field(description="The priority after.")


TicketEventPayload = Annotated[
    SubmittedPayloadType
    | TriagedPayloadType
    | AssignedPayloadType
    | UnassignedPayloadType
    | EscalatedPayloadType
    | AcceptedPayloadType
    | RejectedPayloadType
    | CheckedInPayloadType
    | StartedPayloadType
    | WaitingForOwnerPayloadType
    | ResumedPayloadType
    | ResolvedPayloadType
    | ClosedPayloadType
    | ReopenedPayloadType
    | CancelledPayloadType
    | SlaAlertPayloadType
    | CategoryChangedPayloadType
    | PriorityChangedPayloadType,
    strawberry.union(
        "TicketEventPayload",
        description="The details of a ticket event, one type per event type (ASSIGNED and REASSIGNED share "
        "AssignedPayload, SLA_WARNING and SLA_BREACHED share SlaAlertPayload). Lifecycle moves also implement "
        "StatusChangePayload, and those that can take a ticket from a technician ReleasePayload.",
    ),
]


def _status_change(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "from_status": _enum(TicketStatus, data.get("from")),
        "to_status": _enum(TicketStatus, data.get("to")),
        "note": _text(data, "note"),
        "technician_pk": _int(data, "technician"),
    }


def _released(data: Mapping[str, Any]) -> dict[str, Any]:
    return {**_status_change(data), "previous_technician_pk": _int(data, "releasedTechnician")}


def _submitted(data: Mapping[str, Any]) -> SubmittedPayloadType:
    verdict = data.get("classifier")
    classifier = None
    if isinstance(verdict, Mapping):
        confidence = verdict.get("confidence")
        classifier = ClassifierVerdictType(
            category=_enum(Category, verdict.get("category")),
            confidence=float(confidence) if isinstance(confidence, int | float) else None,
            urgency=_enum(Priority, verdict.get("urgency")),
            evidence=_words(verdict.get("evidence")),
            urgency_evidence=_words(verdict.get("urgencyEvidence")),
        )
    due_on = _text(data, "dueOn")
    return SubmittedPayloadType(
        status=_enum(TicketStatus, data.get("status")),
        category=_enum(Category, data.get("category")),
        priority=_enum(Priority, data.get("priority")),
        classifier=classifier,
        attachment_count=_int(data, "attachments") or 0,
        due_on=dt.date.fromisoformat(due_on) if due_on else None,
        equipment_pk=_int(data, "equipment"),
    )


def _assigned(data: Mapping[str, Any]) -> AssignedPayloadType:
    return AssignedPayloadType(
        **_released(data),
        mode=_enum(AssignmentMode, data.get("mode")),
        cost_parts=CostBreakdownType.from_payload(data.get("cost")),
    )


def _location(data: Mapping[str, Any]) -> GeoPointType | None:
    point = data.get("location")
    if not isinstance(point, Mapping):
        return None
    latitude, longitude = point.get("latitude"), point.get("longitude")
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    return GeoPointType(latitude=float(latitude), longitude=float(longitude))


def _sla_alert(data: Mapping[str, Any]) -> SlaAlertPayloadType:
    due_at = _text(data, "dueAt")
    return SlaAlertPayloadType(
        target=_enum(SlaTarget, data.get("target")),
        due_at=dt.datetime.fromisoformat(due_at) if due_at else None,
    )


_READERS: Mapping[TicketEventType, Callable[[Mapping[str, Any]], Any]] = {
    TicketEventType.SUBMITTED: _submitted,
    TicketEventType.TRIAGED: lambda data: TriagedPayloadType(
        **_status_change(data),
        category=_enum(Category, data.get("category")),
        priority=_enum(Priority, data.get("priority")),
    ),
    TicketEventType.ASSIGNED: _assigned,
    TicketEventType.REASSIGNED: _assigned,
    TicketEventType.UNASSIGNED: lambda data: UnassignedPayloadType(
        **_released(data), mode=_enum(AssignmentMode, data.get("mode"))
    ),
    TicketEventType.ESCALATED: lambda data: EscalatedPayloadType(**_released(data), reason=_text(data, "reason")),
    TicketEventType.ACCEPTED: lambda data: AcceptedPayloadType(**_status_change(data)),
    TicketEventType.REJECTED: lambda data: RejectedPayloadType(**_released(data)),
    TicketEventType.CHECKED_IN: lambda data: CheckedInPayloadType(**_status_change(data), location=_location(data)),
    TicketEventType.STARTED: lambda data: StartedPayloadType(**_status_change(data)),
    TicketEventType.WAITING_FOR_OWNER: lambda data: WaitingForOwnerPayloadType(**_status_change(data)),
    TicketEventType.RESUMED: lambda data: ResumedPayloadType(**_status_change(data)),
    TicketEventType.RESOLVED: lambda data: ResolvedPayloadType(
        **_status_change(data), attachment_count=_int(data, "attachments") or 0
    ),
    TicketEventType.CLOSED: lambda data: ClosedPayloadType(
        **_status_change(data), rating=_int(data, "rating"), comment=_text(data, "comment")
    ),
    TicketEventType.REOPENED: lambda data: ReopenedPayloadType(
        **_released(data), attachment_count=_int(data, "attachments") or 0
    ),
    TicketEventType.CANCELLED: lambda data: CancelledPayloadType(**_released(data)),
    TicketEventType.SLA_WARNING: _sla_alert,
    TicketEventType.SLA_BREACHED: _sla_alert,
    TicketEventType.CATEGORY_CHANGED: lambda data: CategoryChangedPayloadType(
        from_category=_enum(Category, data.get("from")), to_category=_enum(Category, data.get("to"))
    ),
    TicketEventType.PRIORITY_CHANGED: lambda data: PriorityChangedPayloadType(
        from_priority=_enum(Priority, data.get("from")), to_priority=_enum(Priority, data.get("to"))
    ),
}


def payload_of(event_type: TicketEventType, data: Mapping[str, Any]) -> Any:
    """The typed payload of one event, or None for the event types Courtyard does not write (yet)."""
    reader = _READERS.get(event_type)
    return reader(data) if reader is not None else None
