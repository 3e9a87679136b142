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
    "AssignmentMode",
    "DispatchAction",
    "GeoPoint",
    "LifecycleAction",
    "SlaState",
    "TicketAction",
]


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


class AssignmentMode(str, Enum):
    """How a technician came to be assigned (or a re-plan took a ticket away). The values are lower-case,
    unlike the other enums here, because event payloads have stored them so since the first release."""

    MANUAL = "manual"
    INSTANT = "instant"
    BATCH = "batch"


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
