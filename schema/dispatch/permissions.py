"""Who may call dispatch's operations at all: the GraphQL permission classes built from the gates of
`dispatch.policy` (which objects a caller may touch is the use cases' business)."""

from __future__ import annotations

from dispatch import policy
from schema.permissions import IsAuthenticated, allowed_if

__all__ = [
    "AVAILABILITY_SETTERS",
    "DISPATCHERS",
    "REPORTERS",
    "ROSTER_READERS",
    "ROUTE_FOLLOWERS",
    "SETTINGS_ADMINS",
    "TECHNICIAN_UPDATERS",
    "TICKET_ACTORS",
]

REPORTERS = [IsAuthenticated, allowed_if(policy.reports_faults, "Requires one of the roles OWNER, ADMIN, DISPATCHER.")]
TICKET_ACTORS = [
    IsAuthenticated,
    allowed_if(policy.acts_on_tickets, "Requires one of the roles ADMIN, DISPATCHER, TECHNICIAN, OWNER."),
]
DISPATCHERS = [IsAuthenticated, allowed_if(policy.dispatches, "Requires one of the roles ADMIN, DISPATCHER.")]
SETTINGS_ADMINS = [IsAuthenticated, allowed_if(policy.configures_dispatch, "Requires one of the roles ADMIN.")]
ROSTER_READERS = [
    IsAuthenticated,
    allowed_if(policy.sees_roster, "Requires one of the roles ADMIN, DISPATCHER, FINANCE, TECHNICIAN."),
]
TECHNICIAN_UPDATERS = [
    IsAuthenticated,
    allowed_if(policy.updates_technicians, "Requires one of the roles ADMIN, DISPATCHER, TECHNICIAN."),
]
ROUTE_FOLLOWERS = [IsAuthenticated, allowed_if(policy.follows_assignments, "Requires the role TECHNICIAN.")]
AVAILABILITY_SETTERS = [
    IsAuthenticated,
    allowed_if(policy.sets_availability, "Requires one of the roles OWNER, ADMIN, DISPATCHER."),
]
