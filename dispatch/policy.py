"""Who may see and do what in repair dispatch: the one place its rules are written.

Use cases, GraphQL types, subscriptions and routes all ask these named predicates over the caller's
`Principal` and plain facts of the object; a list that is filtered in SQL has the predicate's twin here
too (`visible_tickets_parametrized`, `visible_technicians`), so the two cannot drift apart. Operation gates
(`reports_faults`, `dispatches`, …) answer "may this caller use the operation at all"; the GraphQL
permission classes are built from them.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from functools import cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, or_

from db.conditions import among, among_parameter, any_of
from db.models import Technician, Ticket, TicketEvent
from dispatch.lifecycle import Actor, actions_in_status
from dispatch.model import TicketAction
from kernel.errors import AccessDenied
from kernel.principal import STAFF_ROLES, Principal, Role
from kernel.vocabulary import ActorRole, TicketEventType, TicketStatus

__all__ = [
    "DISPATCH_ADMINS_ONLY",
    "DISPATCH_STAFF_ONLY",
    "may_see_route",
    "may_see_shifts",
    "may_set_availability",
    "may_edit_shifts",
    "may_set_days_off",
    "sets_availability",
    "TechnicianView",
    "TicketWithStatus",
    "TicketParties",
    "actions_on_ticket",
    "actor_for",
    "acts_on_tickets",
    "configures_dispatch",
    "configures_dispatch_in",
    "dispatcher_actor",
    "dispatches",
    "dispatches_in",
    "follows_assignments",
    "follows_assignments_in",
    "follows_tickets",
    "hears_about",
    "may_follow_ticket",
    "may_report_for_unit",
    "may_see_equipment",
    "may_see_technician",
    "may_see_ticket",
    "reporter_role",
    "reports_faults",
    "sees_roster",
    "staff_actor",
    "staff_view",
    "technician_view",
    "ticket_viewer",
    "updates_technicians",
    "visible_technicians",
    "visible_tickets_parametrized",
]

# Who runs the queue: assigns, triages and re-plans tickets, keeps the technician roster and the
# equipment ledger, watches the board and reads the analytics.
_DISPATCH_ROLES = (Role.ADMIN, Role.DISPATCHER)
# Who reads the roster and the equipment ledger.
_ROSTER_READERS = (Role.ADMIN, Role.DISPATCHER, Role.FINANCE, Role.TECHNICIAN)
_STAFF_ACTORS = frozenset({ActorRole.ADMIN, ActorRole.DISPATCHER})
_ASSIGNMENT_EVENTS = frozenset({TicketEventType.ASSIGNED, TicketEventType.REASSIGNED})

DISPATCH_STAFF_ONLY = "Requires one of the roles ADMIN, DISPATCHER in this project."
DISPATCH_ADMINS_ONLY = "Requires one of the roles ADMIN in this project."


class TicketParties(Protocol):
    """The facts of a ticket that decide who may see it and act on it (a `Ticket` row has them)."""

    @property
    def project_id(self) -> int: ...

    @property
    def assignee_id(self) -> int | None: ...

    @property
    def reporter_party_id(self) -> int | None: ...

    @property
    def unit_id(self) -> int | None: ...


class TicketWithStatus(TicketParties, Protocol):
    """A ticket's parties and where it stands: what decides the actions a caller may take on it."""

    @property
    def status(self) -> TicketStatus: ...


# --- operation gates: may the caller use the operation at all -------------------------------------


def reports_faults(principal: Principal) -> bool:
    """Owners report faults in their units and common areas; dispatchers and admins on anyone's behalf."""
    return principal.holds_any((Role.OWNER, *_DISPATCH_ROLES))


def acts_on_tickets(principal: Principal) -> bool:
    """Moving tickets through their lifecycle: dispatchers and admins, technicians, owners (finance
    staff have no action on any ticket)."""
    return principal.holds_any((*_DISPATCH_ROLES, Role.TECHNICIAN, Role.OWNER))


def follows_tickets(principal: Principal) -> bool:
    """A ticket's live updates: staff and owners (technicians follow their assignments instead)."""
    return principal.holds_any((*STAFF_ROLES, Role.OWNER))


def dispatches(principal: Principal) -> bool:
    """Dispatchers and admins run the queue somewhere."""
    return principal.holds_any(_DISPATCH_ROLES)


def configures_dispatch(principal: Principal) -> bool:
    """Only admins change auto-dispatch, the triage threshold and the SLA promises."""
    return principal.holds_any((Role.ADMIN,))


def sees_roster(principal: Principal) -> bool:
    """Staff and technicians read the technician roster and the equipment ledger (owners never do)."""
    return principal.holds_any(_ROSTER_READERS)


def updates_technicians(principal: Principal) -> bool:
    """Dispatchers and admins change the roster; a technician reports their own shift and position."""
    return principal.holds_any((*_DISPATCH_ROLES, Role.TECHNICIAN))


def sets_availability(principal: Principal) -> bool:
    """Owners say when they are home for a visit; dispatchers and admins say it for them."""
    return principal.holds_any((Role.OWNER, *_DISPATCH_ROLES))


def follows_assignments(principal: Principal) -> bool:
    """Only a technician's login has assignments to follow."""
    return principal.technician_id is not None and principal.holds_any((Role.TECHNICIAN,))


# --- one project ------------------------------------------------------------------------------------


def dispatches_in(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, *_DISPATCH_ROLES)


def configures_dispatch_in(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, Role.ADMIN)


def follows_assignments_in(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, Role.TECHNICIAN)


def may_see_route(principal: Principal, project_id: int, technician_id: int) -> bool:
    """A day route: the project's dispatchers and admins see every technician's, a technician their own."""
    if dispatches_in(principal, project_id):
        return True
    return follows_assignments_in(principal, project_id) and principal.technician_id == technician_id


def may_edit_shifts(principal: Principal, project_id: int) -> bool:
    """Technicians' working hours and breaks: the project's dispatchers and admins set them (a technician
    reads their own and says only whether they are working now)."""
    return dispatches_in(principal, project_id)


def may_set_days_off(principal: Principal, project_id: int) -> bool:
    """A technician's days off (leave, sick): the project's dispatchers and admins record them, as they
    set working hours; a technician who falls ill says they are off shift now and tells the dispatcher."""
    return dispatches_in(principal, project_id)


def may_see_shifts(principal: Principal, project_id: int, technician_id: int) -> bool:
    """A technician's working hours: the project's staff, and the technician themself."""
    return may_see_technician(principal, project_id=project_id, technician_id=technician_id)


def may_see_equipment(principal: Principal, project_id: int) -> bool:
    return principal.has_role(project_id, *_ROSTER_READERS)


def dispatcher_actor(principal: Principal, project_id: int) -> Actor:
    """The capacity in which a dispatcher or admin re-plans a project's queue."""
    role = ActorRole.ADMIN if principal.has_role(project_id, Role.ADMIN) else ActorRole.DISPATCHER
    return Actor(role, principal.user_id)


def reporter_role(principal: Principal, project_id: int) -> ActorRole | None:
    """The capacity in which the caller reports a fault in the project; None when they may not."""
    if principal.has_role(project_id, Role.ADMIN):
        return ActorRole.ADMIN
    if principal.has_role(project_id, Role.DISPATCHER):
        return ActorRole.DISPATCHER
    if principal.has_role(project_id, Role.OWNER):
        return ActorRole.OWNER
    return None


def may_report_for_unit(principal: Principal, unit_id: int) -> bool:
    """An owner reports faults only in units they occupy."""
    return unit_id in principal.unit_ids


def staff_view(principal: Principal, project_id: int) -> tuple[Hashable, Principal] | None:
    """For staff of the project: a key shared by every staff member who sees its tickets exactly as this
    one does (same roles there; a staff member may see their own personal data, so the party counts),
    and a principal standing for all of them that sees no more than any of them. None for anyone else:
    owners and technicians see what is theirs, alone."""
    if not principal.is_staff_of(project_id):
        return None
    roles = principal.roles.get(project_id, frozenset())
    narrowed = Principal(user_id=principal.user_id, roles={project_id: roles}, party_id=principal.party_id)
    return ("staff", project_id, roles, principal.party_id), narrowed


# --- tickets --------------------------------------------------------------------------------------


def _is_reporter_or_occupant(principal: Principal, ticket: TicketParties) -> bool:
    reported = principal.party_id is not None and ticket.reporter_party_id == principal.party_id
    occupies = ticket.unit_id is not None and ticket.unit_id in principal.unit_ids
    return reported or occupies


def _is_assignee(principal: Principal, ticket: TicketParties) -> bool:
    return principal.technician_id is not None and ticket.assignee_id == principal.technician_id


def may_see_ticket(principal: Principal, ticket: TicketParties) -> bool:
    """Staff see their projects' tickets, a technician those assigned to them, an owner those they
    reported or that concern a unit they occupy."""
    project = ticket.project_id
    if principal.is_staff_of(project):
        return True
    if principal.has_role(project, Role.TECHNICIAN) and _is_assignee(principal, ticket):
        return True
    return principal.has_role(project, Role.OWNER) and _is_reporter_or_occupant(principal, ticket)


def visible_tickets_parametrized(dialect: str, given: frozenset[str]) -> ColumnElement[bool]:
    """`may_see_ticket` as a SQL condition on `Ticket`, with the caller's ids as bound parameters
    (`ticket_viewer` gives their values; `given` names those that hold any, `db.conditions.given_values`):
    the same SQL for every caller with the same ids given, so the list's statement is built once, not per
    request. A branch whose ids the caller lacks is left out, as in `billing.policy.visible_unit_billing`:
    an OR the database cannot rule out at planning time costs an owner's page a scan of the project."""
    branches = []
    if "viewer_staff_projects" in given:
        branches.append(among_parameter(dialect, Ticket.project_id, "viewer_staff_projects"))
    if {"viewer_technician", "viewer_technician_projects"} <= given:
        branches.append(
            and_(
                Ticket.assignee_id == bindparam("viewer_technician"),
                among_parameter(dialect, Ticket.project_id, "viewer_technician_projects"),
            )
        )
    occupant = []
    if "viewer_party" in given:
        occupant.append(Ticket.reporter_party_id == bindparam("viewer_party"))
    if "viewer_units" in given:
        occupant.append(among_parameter(dialect, Ticket.unit_id, "viewer_units"))
    if "viewer_owner_projects" in given and occupant:
        branches.append(and_(among_parameter(dialect, Ticket.project_id, "viewer_owner_projects"), or_(*occupant)))
    return any_of(branches)


def ticket_viewer(principal: Principal) -> dict[str, Any]:
    """The values of `visible_tickets_parametrized`'s parameters for `principal`."""
    return {
        "viewer_staff_projects": sorted(principal.staff_project_ids),
        "viewer_technician": principal.technician_id,
        "viewer_technician_projects": sorted(principal.projects_with(Role.TECHNICIAN)),
        "viewer_owner_projects": sorted(principal.projects_with(Role.OWNER)),
        "viewer_party": principal.party_id,
        "viewer_units": sorted(principal.unit_ids),
    }


def may_set_availability(principal: Principal, ticket: TicketParties) -> bool:
    """When the owner is home for a ticket's visit: its reporting owner or an occupant of its unit, and the
    project's dispatchers and admins (never a technician, nor finance staff)."""
    project = ticket.project_id
    if dispatches_in(principal, project):
        return True
    return principal.has_role(project, Role.OWNER) and _is_reporter_or_occupant(principal, ticket)


def may_follow_ticket(principal: Principal, ticket: TicketParties) -> bool:
    """A ticket's live updates: its reporting owner, occupants of its unit, and the project's staff
    (technicians follow their assignments instead)."""
    project = ticket.project_id
    return may_see_ticket(principal, ticket) and (
        principal.is_staff_of(project) or principal.has_role(project, Role.OWNER)
    )


def actor_for(principal: Principal, ticket: TicketParties) -> Actor:
    """The capacity in which the caller acts on a ticket they can see; staff rank first. Which actions
    that capacity allows in which status is the state machine's business (`dispatch.lifecycle`)."""
    capacity = _capacity(
        principal.roles.get(ticket.project_id, _NO_ROLES),
        _is_assignee(principal, ticket),
        _is_reporter_or_occupant(principal, ticket),
    )
    if capacity is None:
        raise AccessDenied("Your role may not act on tickets.")
    return Actor(
        capacity.role,
        principal.user_id,
        is_assignee=capacity.is_assignee,
        is_reporter_or_occupant=capacity.is_reporter_or_occupant,
    )


def actions_on_ticket(principal: Principal, ticket: TicketWithStatus) -> tuple[TicketAction, ...]:
    """The public actions the caller may take on the ticket now (`lifecycle.allowed_actions` in the
    capacity `actor_for` gives them); none when their role may not act on tickets."""
    return _actions_on(
        principal.roles.get(ticket.project_id, _NO_ROLES),
        _is_assignee(principal, ticket),
        _is_reporter_or_occupant(principal, ticket),
        ticket.status,
    )


_NO_ROLES: frozenset[Role] = frozenset()


@cache
def _capacity(held: frozenset[Role], is_assignee: bool, is_reporter_or_occupant: bool) -> Actor | None:
    """`actor_for`'s answer (without the user) from the roles held in the ticket's project and how the
    caller stands to the ticket; None when none of those roles acts on tickets. A handful of inputs, so
    each answer is worked out once: a board of fifty tickets asks the same few questions fifty times."""
    if Role.ADMIN in held:
        return Actor(ActorRole.ADMIN)
    if Role.DISPATCHER in held:
        return Actor(ActorRole.DISPATCHER)
    if Role.TECHNICIAN in held and is_assignee:
        return Actor(ActorRole.TECHNICIAN, is_assignee=True)
    if Role.OWNER in held:
        return Actor(ActorRole.OWNER, is_reporter_or_occupant=is_reporter_or_occupant)
    if Role.TECHNICIAN in held:
        return Actor(ActorRole.TECHNICIAN)
    return None


@cache
def _actions_on(
    held: frozenset[Role], is_assignee: bool, is_reporter_or_occupant: bool, status: TicketStatus
) -> tuple[TicketAction, ...]:
    actor = _capacity(held, is_assignee, is_reporter_or_occupant)
    return () if actor is None else actions_in_status(TicketStatus(status), actor)


def staff_actor(principal: Principal, ticket: TicketParties) -> Actor:
    """`actor_for`, for what only dispatchers and admins do to a ticket (triage, corrections)."""
    actor = actor_for(principal, ticket)
    if actor.role not in _STAFF_ACTORS:
        raise AccessDenied("Only dispatchers and admins may do this.")
    return actor


def hears_about(technician_id: int, event: TicketEvent) -> bool:
    """What a technician's assignment feed carries: tickets assigned to them, tickets taken from them,
    and owners acting on the tickets they hold."""
    payload = event.payload or {}
    holds = payload.get("technician") == technician_id
    if holds and event.type in _ASSIGNMENT_EVENTS:
        return True
    if payload.get("releasedTechnician") == technician_id:
        return True
    return holds and event.actor_role is ActorRole.OWNER


# --- technicians ----------------------------------------------------------------------------------


class TechnicianView(enum.Enum):
    """What of a technician a viewer may see."""

    CONTACT = "contact"
    """Their name and masked phone: whoever meets the technician on a ticket they may see (an owner
    whose job they do, another technician reading a ticket's history). Nothing of where they live or
    are, nor of their skills, shift or load."""
    WORK = "work"
    """Everything but the plain phone: the technician themself and the project's staff."""
    ROSTER = "roster"
    """Everything, the plain phone too: the project's admins and dispatchers, who call them."""


def may_see_technician(principal: Principal, *, project_id: int, technician_id: int) -> bool:
    """Looking a technician up (by id, in the roster): the project's staff, and the technician themself."""
    return principal.is_staff_of(project_id) or technician_id == principal.technician_id


def visible_technicians(principal: Principal) -> ColumnElement[bool]:
    """`may_see_technician` as a SQL condition on `Technician`."""
    own = frozenset({principal.technician_id}) if principal.technician_id else frozenset()
    return or_(among(Technician.project_id, principal.staff_project_ids), among(Technician.id, own))


def technician_view(principal: Principal, *, project_id: int, technician_id: int) -> TechnicianView:
    """What of a technician the caller may see, once they have met them somewhere they may look."""
    if principal.has_role(project_id, *_DISPATCH_ROLES):
        return TechnicianView.ROSTER
    if may_see_technician(principal, project_id=project_id, technician_id=technician_id):
        return TechnicianView.WORK
    return TechnicianView.CONTACT
