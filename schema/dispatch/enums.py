"""GraphQL enums of repair dispatch, registered once under their plain names (values as in the domain)."""

from __future__ import annotations

import strawberry

from db.models import AttachmentStage, EquipmentKind, LocationKind, TicketKind
from dispatch.model import AssignmentMode, SlaState, TicketAction
from dispatch.solver import UnassignableCode
from kernel.vocabulary import ActorRole, Priority, SlaTarget, TicketEventType, TicketStatus

__all__ = [
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

TicketStatusEnum = strawberry.enum(TicketStatus, name="TicketStatus")
TicketActionEnum = strawberry.enum(TicketAction, name="TicketAction")
TicketEventTypeEnum = strawberry.enum(TicketEventType, name="TicketEventType")
ActorRoleEnum = strawberry.enum(ActorRole, name="ActorRole")
PriorityEnum = strawberry.enum(Priority, name="Priority")
SlaStateEnum = strawberry.enum(SlaState, name="SlaState")
LocationKindEnum = strawberry.enum(LocationKind, name="LocationKind")
TicketKindEnum = strawberry.enum(TicketKind, name="TicketKind")
AttachmentStageEnum = strawberry.enum(AttachmentStage, name="AttachmentStage")
EquipmentKindEnum = strawberry.enum(EquipmentKind, name="EquipmentKind")
UnassignableCodeEnum = strawberry.enum(UnassignableCode, name="UnassignableCode")
AssignmentModeEnum = strawberry.enum(AssignmentMode, name="AssignmentMode")
SlaTargetEnum = strawberry.enum(SlaTarget, name="SlaTarget")
