"""GraphQL enums of repair dispatch, registered once under their plain names (values as in the domain)."""

from __future__ import annotations

from db.models import AttachmentStage, EquipmentKind, LocationKind, TicketKind
from dispatch.model import AssignmentMode, SlaState, TicketAction
from dispatch.solver import UnassignableCode
from kernel.vocabulary import AbsenceReason, ActorRole, Priority, SlaTarget, TicketEventType, TicketStatus
from schema.described_enum import described_enum

__all__ = [
    "AbsenceReasonEnum",
    "ActorRoleEnum",
    "AssignmentModeEnum",
    "AttachmentStageEnum",
    "EquipmentKindEnum",
    "LocationKindEnum",
    "PriorityEnum",
    "SlaStateEnum",
    "SlaTargetEnum",
    "TicketActionEnum",
    "TicketEventTypeEnum",
    "TicketKindEnum",
    "TicketStatusEnum",
    "UnassignableCodeEnum",
]

TicketStatusEnum = described_enum(
    TicketStatus,
    name="TicketStatus",
    description="Where a ticket stands in its lifecycle.",
    values={
        "TRIAGE": "Waiting for a dispatcher to confirm the category (the classifier was unsure).",
        "NEW": "Waiting for a technician (auto-dispatch or a dispatcher assigns one).",
        "ASSIGNED": "Given to a technician who has not accepted yet.",
        "ACCEPTED": "The technician accepted and is on the way.",
        "ON_SITE": "The technician checked in on site.",
        "IN_PROGRESS": "Work has started.",
        "WAITING_FOR_OWNER": "Work waits for the owner (access, parts, a decision); the SLA clock stands still.",
        "RESOLVED": "The technician finished; waiting for the owner to confirm or reopen.",
        "CLOSED": "Confirmed (and rated); final.",
        "REOPENED": "The owner found the fault not fixed; waiting for a technician again.",
        "CANCELLED": "Called off; final.",
    },
)
TicketActionEnum = described_enum(
    TicketAction,
    name="TicketAction",
    description="An action requested through transitionTicket; a ticket's allowedActions lists those you may take now.",
    values={
        "ACCEPT": "Assigned technician: take the job (ASSIGNED → ACCEPTED).",
        "REJECT": "Assigned technician: hand it back before checking in, with a note saying why (→ NEW).",
        "CHECK_IN": "Assigned technician: arrived (ACCEPTED → ON_SITE); details.location is required.",
        "START": "Assigned technician: start work (ON_SITE → IN_PROGRESS).",
        "RESOLVE": (
            "Assigned technician: finished (IN_PROGRESS → RESOLVED); a note with the work done is required, "
            "after-photos optional."
        ),
        "CONFIRM": (
            "Reporting owner or staff: accept the work with details.rating 1 to 5 and an optional comment (RESOLVED → "
            "CLOSED)."
        ),
        "REOPEN": "Reporting owner or staff: the fault is not fixed (RESOLVED → REOPENED); photos optional.",
        "CANCEL": (
            "Call the job off (→ CANCELLED): the reporting owner until the technician checks in (TRIAGE, NEW, "
            "ASSIGNED, ACCEPTED, REOPENED), staff until RESOLVED."
        ),
        "WAIT_FOR_OWNER": "Assigned technician: pause for the owner (ON_SITE or IN_PROGRESS → WAITING_FOR_OWNER).",
        "RESUME": "Assigned technician or staff: go on where the work paused.",
    },
)
TicketEventTypeEnum = described_enum(
    TicketEventType,
    name="TicketEventType",
    description=(
        "The kinds of entry in a ticket's event log (TicketEvent.type); TicketEvent.payload has the matching details."
    ),
    values={
        "SUBMITTED": "The ticket was filed (SubmittedPayload).",
        "TRIAGED": "A dispatcher completed triage (TriagedPayload).",
        "ASSIGNED": "A technician was given the waiting ticket (AssignedPayload).",
        "REASSIGNED": "The ticket moved from one technician to another (AssignedPayload).",
        "UNASSIGNED": "Staff or a re-plan took the ticket back into the queue (UnassignedPayload).",
        "ESCALATED": "Nobody accepted in time; Courtyard took it back or offered it again (EscalatedPayload).",
        "ACCEPTED": "The technician accepted (AcceptedPayload).",
        "REJECTED": "The technician handed it back (RejectedPayload).",
        "CHECKED_IN": "The technician arrived (CheckedInPayload).",
        "STARTED": "Work started (StartedPayload).",
        "WAITING_FOR_OWNER": "Work paused for the owner (WaitingForOwnerPayload).",
        "RESUMED": "Work resumed (ResumedPayload).",
        "RESOLVED": "The technician finished (ResolvedPayload).",
        "CLOSED": "The work was confirmed and rated (ClosedPayload).",
        "REOPENED": "The fault came back (ReopenedPayload).",
        "CANCELLED": "The job was called off (CancelledPayload).",
        "SLA_WARNING": (
            "A promise is close to its deadline: the project's warning share of its time is used (SlaAlertPayload)."
        ),
        "SLA_BREACHED": "A promise's deadline passed (SlaAlertPayload).",
        "CATEGORY_CHANGED": "A dispatcher corrected the category (CategoryChangedPayload).",
        "PRIORITY_CHANGED": "A dispatcher changed the priority (PriorityChangedPayload).",
        "ATTACHMENT_ADDED": (
            "Reserved: Courtyard does not write it yet (photos come with SUBMITTED, RESOLVED, REOPENED); payload null."
        ),
        "COMMENTED": "Reserved: Courtyard does not write it yet; payload null.",
    },
)
ActorRoleEnum = described_enum(
    ActorRole,
    name="ActorRole",
    description="The capacity in which someone acted on a ticket (recorded on each TicketEvent).",
    values={
        "ADMIN": "A project admin.",
        "DISPATCHER": "A dispatcher.",
        "TECHNICIAN": "A technician.",
        "OWNER": "An owner or tenant (the reporter, or an occupant of the ticket's unit).",
        "SYSTEM": "Courtyard itself: auto-dispatch, batch re-planning, the SLA job, preventive maintenance.",
    },
)
PriorityEnum = described_enum(
    Priority,
    name="Priority",
    description="How soon a ticket must be handled; each has its own SLA promises (respond, on site, resolve).",
    values={
        "URGENT": "The most urgent: the tightest SLA promises, dispatched first.",
        "HIGH": "Before normal work, with tighter promises.",
        "NORMAL": "The usual repair.",
        "LOW": "Can wait: the loosest promises.",
    },
)
SlaStateEnum = described_enum(
    SlaState,
    name="SlaState",
    description="How a ticket stands against its promises right now.",
    values={
        "OK": "Every open promise has time left.",
        "WARNING": "A promise has used the project's warning share of its time (80 % unless configured).",
        "BREACHED": "A promise's deadline passed before it was met.",
    },
)
LocationKindEnum = described_enum(
    LocationKind,
    name="LocationKind",
    description="Where a fault is: an owner's unit, or a common area of the project.",
    values={
        "UNIT": "Inside a unit (unitId).",
        "LOBBY": "A lobby.",
        "LIFT": "A lift or lift hall.",
        "CAR_PARK": "The car park.",
        "CORRIDOR": "A corridor.",
        "STAIRWELL": "A stairwell.",
        "GARDEN": "Gardens and grounds.",
        "ROOF": "A roof.",
        "PLANT_ROOM": "A plant or machine room.",
        "OTHER": "Elsewhere (say where in locationDetail).",
    },
)
TicketKindEnum = described_enum(
    TicketKind,
    name="TicketKind",
    description="How a ticket came about.",
    values={
        "REPAIR": "Reported by an owner, or by staff on someone's behalf.",
        "MAINTENANCE": "Opened by Courtyard when equipment falls due for preventive maintenance.",
    },
)
AttachmentStageEnum = described_enum(
    AttachmentStage,
    name="AttachmentStage",
    description="When an attachment was sent.",
    values={
        "REPORT": "With the fault report (or a reopening).",
        "RESOLUTION": "The technician's after-photos, with RESOLVE.",
    },
)
EquipmentKindEnum = described_enum(
    EquipmentKind,
    name="EquipmentKind",
    description="What a piece of equipment in the maintenance ledger is.",
    values={
        "LIFT": "A lift.",
        "WATER_PUMP": "A water pump.",
        "FIRE_SYSTEM": "Fire alarm or sprinkler system.",
        "GENERATOR": "A standby generator.",
        "HVAC_PLANT": "Central heating, ventilation or cooling plant.",
        "ACCESS_GATE": "A gate or barrier.",
        "OTHER": "Anything else.",
    },
)
AbsenceReasonEnum = described_enum(
    AbsenceReason,
    name="AbsenceReason",
    description="Why a technician is off on a date.",
    values={
        "LEAVE": "Leave (请假、年假).",
        "SICK": "Sick leave (病假).",
        "OTHER": "Anything else.",
    },
)
UnassignableCodeEnum = described_enum(
    UnassignableCode,
    name="UnassignableCode",
    description="Why the solver could not place a ticket.",
    values={
        "NO_TECHNICIAN_WITH_SKILL": "No technician of the project has the skill its category needs.",
        "NONE_ON_SHIFT": "Technicians with the skill exist, but none is on shift.",
        "ALL_AT_CAPACITY": "Every qualified technician on shift is at capacity.",
    },
)
AssignmentModeEnum = described_enum(
    AssignmentMode,
    name="AssignmentMode",
    description="How a technician came to be assigned, or how a ticket was taken back.",
    values={
        "MANUAL": "A dispatcher or admin chose (assignTicket).",
        "INSTANT": "Auto-dispatch chose the cheapest qualified technician when the ticket came in or came back.",
        "BATCH": "A batch re-plan of the project (optimizeDispatch or the worker's re-planning).",
    },
)
SlaTargetEnum = described_enum(
    SlaTarget,
    name="SlaTarget",
    description="The three promises of a service level.",
    values={
        "RESPOND": "A technician accepts (met on ACCEPTED).",
        "ON_SITE": "A technician is on site (met on ON_SITE).",
        "RESOLVE": "The fault is fixed (met on RESOLVED).",
    },
)
