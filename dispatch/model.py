"""Shared vocabulary of repair tickets: statuses, actions, roles, priorities, categories, event types.

Every enum is a `str` enum whose values are the upper-case member names, so the same values travel
unchanged through the database, GraphQL and event messages, and other modules' enums with the same
values convert by value (`Priority(other.URGENT)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

__all__ = [
    "ActorRole",
    "Category",
    "DispatchAction",
    "GeoPoint",
    "LifecycleAction",
    "Priority",
    "SlaState",
    "SlaTarget",
    "TicketAction",
    "TicketEventType",
    "TicketStatus",
]


class TicketStatus(str, Enum):
    """Where a ticket stands; TRIAGE means the classifier was unsure and a dispatcher must categorise it."""

    TRIAGE = "TRIAGE"
    NEW = "NEW"
    ASSIGNED = "ASSIGNED"
    ACCEPTED = "ACCEPTED"
    ON_SITE = "ON_SITE"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_FOR_OWNER = "WAITING_FOR_OWNER"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"
    CANCELLED = "CANCELLED"


class TicketAction(str, Enum):
    """Actions callers request through `transitionTicket` (the GraphQL `TicketAction`)."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    CHECK_IN = "CHECK_IN"
    START = "START"
    RESOLVE = "RESOLVE"
    CONFIRM = "CONFIRM"
    REOPEN = "REOPEN"
    CANCEL = "CANCEL"
    WAIT_FOR_OWNER = "WAIT_FOR_OWNER"
    RESUME = "RESUME"


class DispatchAction(str, Enum):
    """Actions of the dispatch side that are not `TicketAction`s: they come from dedicated mutations
    (`assignTicket`, triage) or from the system (auto-dispatch, the SLA job)."""

    TRIAGE_COMPLETE = "TRIAGE_COMPLETE"
    ASSIGN = "ASSIGN"
    UNASSIGN = "UNASSIGN"
    ESCALATE = "ESCALATE"


LifecycleAction: TypeAlias = TicketAction | DispatchAction


class ActorRole(str, Enum):
    """The capacity in which someone acts on a ticket; SYSTEM is Courtyard itself (auto-dispatch, SLA job)."""

    ADMIN = "ADMIN"
    DISPATCHER = "DISPATCHER"
    TECHNICIAN = "TECHNICIAN"
    OWNER = "OWNER"
    SYSTEM = "SYSTEM"


class Priority(str, Enum):
    URGENT = "URGENT"
    HIGH = "HIGH"
    NORMAL = "NORMAL"
    LOW = "LOW"


class Category(str, Enum):
    PLUMBING = "PLUMBING"
    ELECTRICAL = "ELECTRICAL"
    HVAC = "HVAC"
    ELEVATOR = "ELEVATOR"
    FIRE_SAFETY = "FIRE_SAFETY"
    LOCKSMITH = "LOCKSMITH"
    CLEANING = "CLEANING"
    APPLIANCE = "APPLIANCE"
    GENERAL = "GENERAL"


class TicketEventType(str, Enum):
    """Types of the append-only `TicketEvent` log (and of the live messages published from it)."""

    SUBMITTED = "SUBMITTED"
    TRIAGED = "TRIAGED"
    ASSIGNED = "ASSIGNED"
    REASSIGNED = "REASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    ESCALATED = "ESCALATED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    CHECKED_IN = "CHECKED_IN"
    STARTED = "STARTED"
    WAITING_FOR_OWNER = "WAITING_FOR_OWNER"
    RESUMED = "RESUMED"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REOPENED = "REOPENED"
    CANCELLED = "CANCELLED"
    SLA_WARNING = "SLA_WARNING"
    SLA_BREACHED = "SLA_BREACHED"
    CATEGORY_CHANGED = "CATEGORY_CHANGED"
    PRIORITY_CHANGED = "PRIORITY_CHANGED"
    ATTACHMENT_ADDED = "ATTACHMENT_ADDED"
    COMMENTED = "COMMENTED"


class SlaTarget(str, Enum):
    """The three promises of a service level: RESPOND is met on ACCEPTED, ON_SITE on ON_SITE,
    RESOLVE on RESOLVED."""

    RESPOND = "RESPOND"
    ON_SITE = "ON_SITE"
    RESOLVE = "RESOLVE"


class SlaState(str, Enum):
    """How a ticket stands against its promises: OK, WARNING (80 % of a target's time used), BREACHED."""

    OK = "OK"
    WARNING = "WARNING"
    BREACHED = "BREACHED"


@dataclass(frozen=True)
class GeoPoint:
    """A WGS-84 position in decimal degrees."""

    latitude: float
    longitude: float
