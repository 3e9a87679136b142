"""The ticket state machine: which actor may take which action in which status, and where it leads.

Pure: the service loads the ticket into `TicketFacts`, describes the caller as an `Actor`, calls
`decide`, and writes the returned `Transition` (new status, assignee, pause bookkeeping, event type) in
one transaction. Refusals are exceptions carrying the actions the caller could take instead.

Who may do what (ADMIN may always do what a DISPATCHER may; "staff" below means both):

| action          | from                                      | by                         | to                  |
| --------------- | ----------------------------------------- | -------------------------- | ------------------- |
| TRIAGE_COMPLETE | TRIAGE                                    | staff                      | NEW                 |
| ASSIGN          | NEW, REOPENED, ASSIGNED                   | staff, SYSTEM              | ASSIGNED            |
| ASSIGN          | ACCEPTED                                  | staff                      | ASSIGNED            |
| UNASSIGN        | ASSIGNED, ACCEPTED                        | staff                      | NEW                 |
| ESCALATE        | ASSIGNED                                  | SYSTEM                     | NEW                 |
| ESCALATE        | NEW, REOPENED                             | SYSTEM                     | unchanged           |
| ACCEPT          | ASSIGNED                                  | assigned technician        | ACCEPTED            |
| REJECT          | ASSIGNED, ACCEPTED                        | assigned technician        | NEW                 |
| CHECK_IN        | ACCEPTED                                  | assigned technician        | ON_SITE             |
| START           | ON_SITE                                   | assigned technician        | IN_PROGRESS         |
| WAIT_FOR_OWNER  | ON_SITE, IN_PROGRESS                      | assigned technician        | WAITING_FOR_OWNER   |
| RESUME          | WAITING_FOR_OWNER                         | assigned technician, staff | where it paused     |
| RESOLVE         | IN_PROGRESS                               | assigned technician        | RESOLVED            |
| CONFIRM         | RESOLVED                                  | reporting owner, staff     | CLOSED              |
| REOPEN          | RESOLVED                                  | reporting owner, staff     | REOPENED            |
| CANCEL          | TRIAGE, NEW, ASSIGNED, ACCEPTED, REOPENED | reporting owner            | CANCELLED           |
| CANCEL          | every status before RESOLVED              | staff                      | CANCELLED           |

Decisions the issue left open:
- Staff may CONFIRM or REOPEN on the owner's behalf, as they may file a ticket for an owner who phones.
- Staff may CANCEL until the work is RESOLVED (duplicates, an owner refusing the work on site); after
  that the only ways out are CONFIRM and REOPEN, so a finished repair is never wiped out.
- A technician may hand a ticket back (REJECT) until checking in; staff may move an ACCEPTED ticket to
  another technician, the SYSTEM (auto-dispatch, batch re-optimisation) never moves it.
- Everything that puts a ticket back into dispatch lands on NEW, except REOPEN (REOPENED). REJECT and
  ESCALATE name the technician the next dispatch should avoid; REOPEN names the one it should prefer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from dispatch.model import DispatchAction, GeoPoint, LifecycleAction, TicketAction
from kernel.vocabulary import ActorRole, Category, TicketEventType, TicketStatus

__all__ = [
    "ASSIGNED_STATUSES",
    "AWAITING_DISPATCH_STATUSES",
    "BOARD_COLUMNS",
    "ESCALATABLE_STATUSES",
    "NOTE_MAX_LENGTH",
    "TERMINAL_STATUSES",
    "ActionInput",
    "Actor",
    "InvalidActionInput",
    "RefusalReason",
    "TicketFacts",
    "Transition",
    "TransitionRefused",
    "actions_in_status",
    "allowed_actions",
    "allowed_dispatch_actions",
    "board_column",
    "decide",
]

NOTE_MAX_LENGTH = 2000

# Statuses nothing leaves.
TERMINAL_STATUSES = frozenset({TicketStatus.CLOSED, TicketStatus.CANCELLED})
# Statuses in which a ticket waits for the dispatcher or the solver to pick a technician.
AWAITING_DISPATCH_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.REOPENED})
# Statuses in which a technician holds the ticket (and counts it in their load, except RESOLVED).
ASSIGNED_STATUSES = frozenset(
    {
        TicketStatus.ASSIGNED,
        TicketStatus.ACCEPTED,
        TicketStatus.ON_SITE,
        TicketStatus.IN_PROGRESS,
        TicketStatus.WAITING_FOR_OWNER,
        TicketStatus.RESOLVED,
    }
)
_PAUSABLE_STATUSES = frozenset({TicketStatus.ON_SITE, TicketStatus.IN_PROGRESS})
_BEFORE_ON_SITE = frozenset(
    {
        TicketStatus.TRIAGE,
        TicketStatus.NEW,
        TicketStatus.ASSIGNED,
        TicketStatus.ACCEPTED,
        TicketStatus.REOPENED,
    }
)
_BEFORE_RESOLVED = _BEFORE_ON_SITE | {
    TicketStatus.ON_SITE,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_FOR_OWNER,
}

# The dispatcher board's columns, left to right (see `board_column`).
BOARD_COLUMNS: tuple[TicketStatus, ...] = (
    TicketStatus.TRIAGE,
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.ACCEPTED,
    TicketStatus.ON_SITE,
    TicketStatus.IN_PROGRESS,
    TicketStatus.RESOLVED,
)


class _Capacity(Enum):
    """What entitles an actor to an action: being staff, the ticket's technician, its owner, or the system."""

    ASSIGNEE = "assignee"
    REPORTER = "reporter"
    STAFF = "staff"
    SYSTEM = "system"


_CAPACITY_NAMES: Mapping[_Capacity, str] = {
    _Capacity.ASSIGNEE: "the assigned technician",
    _Capacity.REPORTER: "the reporting owner",
    _Capacity.STAFF: "dispatchers",
    _Capacity.SYSTEM: "Courtyard itself",
}

_STAFF = frozenset({_Capacity.STAFF})
_ASSIGNEE = frozenset({_Capacity.ASSIGNEE})
_REPORTER = frozenset({_Capacity.REPORTER})
_SYSTEM = frozenset({_Capacity.SYSTEM})

_S = TicketStatus
_RULES: tuple[tuple[LifecycleAction, frozenset[TicketStatus], frozenset[_Capacity]], ...] = (
    (DispatchAction.TRIAGE_COMPLETE, frozenset({_S.TRIAGE}), _STAFF),
    (DispatchAction.ASSIGN, frozenset({_S.NEW, _S.REOPENED, _S.ASSIGNED}), _STAFF | _SYSTEM),
    (DispatchAction.ASSIGN, frozenset({_S.ACCEPTED}), _STAFF),
    (DispatchAction.UNASSIGN, frozenset({_S.ASSIGNED, _S.ACCEPTED}), _STAFF),
    (DispatchAction.ESCALATE, frozenset({_S.NEW, _S.REOPENED, _S.ASSIGNED}), _SYSTEM),
    (TicketAction.ACCEPT, frozenset({_S.ASSIGNED}), _ASSIGNEE),
    (TicketAction.REJECT, frozenset({_S.ASSIGNED, _S.ACCEPTED}), _ASSIGNEE),
    (TicketAction.CHECK_IN, frozenset({_S.ACCEPTED}), _ASSIGNEE),
    (TicketAction.START, frozenset({_S.ON_SITE}), _ASSIGNEE),
    (TicketAction.WAIT_FOR_OWNER, _PAUSABLE_STATUSES, _ASSIGNEE),
    (TicketAction.RESUME, frozenset({_S.WAITING_FOR_OWNER}), _ASSIGNEE | _STAFF),
    (TicketAction.RESOLVE, frozenset({_S.IN_PROGRESS}), _ASSIGNEE),
    (TicketAction.CONFIRM, frozenset({_S.RESOLVED}), _REPORTER | _STAFF),
    (TicketAction.REOPEN, frozenset({_S.RESOLVED}), _REPORTER | _STAFF),
    (TicketAction.CANCEL, _BEFORE_ON_SITE, _REPORTER),
    (TicketAction.CANCEL, _BEFORE_RESOLVED, _STAFF),
)


def _permission_table() -> Mapping[tuple[LifecycleAction, TicketStatus], frozenset[_Capacity]]:
    table: dict[tuple[LifecycleAction, TicketStatus], frozenset[_Capacity]] = {}
    for action, statuses, capacities in _RULES:
        for status in statuses:
            table[(action, status)] = table.get((action, status), frozenset()) | capacities
    return table


_PERMITTED = _permission_table()

# Statuses in which the SLA job may ESCALATE a ticket that nobody accepted in time.
ESCALATABLE_STATUSES = frozenset(status for (action, status) in _PERMITTED if action is DispatchAction.ESCALATE)

_FIXED_TARGETS: Mapping[LifecycleAction, TicketStatus] = {
    DispatchAction.TRIAGE_COMPLETE: _S.NEW,
    DispatchAction.ASSIGN: _S.ASSIGNED,
    DispatchAction.UNASSIGN: _S.NEW,
    TicketAction.ACCEPT: _S.ACCEPTED,
    TicketAction.REJECT: _S.NEW,
    TicketAction.CHECK_IN: _S.ON_SITE,
    TicketAction.START: _S.IN_PROGRESS,
    TicketAction.WAIT_FOR_OWNER: _S.WAITING_FOR_OWNER,
    TicketAction.RESOLVE: _S.RESOLVED,
    TicketAction.CONFIRM: _S.CLOSED,
    TicketAction.REOPEN: _S.REOPENED,
    TicketAction.CANCEL: _S.CANCELLED,
}

_EVENT_TYPES: Mapping[LifecycleAction, TicketEventType] = {
    DispatchAction.TRIAGE_COMPLETE: TicketEventType.TRIAGED,
    DispatchAction.ASSIGN: TicketEventType.ASSIGNED,
    DispatchAction.UNASSIGN: TicketEventType.UNASSIGNED,
    DispatchAction.ESCALATE: TicketEventType.ESCALATED,
    TicketAction.ACCEPT: TicketEventType.ACCEPTED,
    TicketAction.REJECT: TicketEventType.REJECTED,
    TicketAction.CHECK_IN: TicketEventType.CHECKED_IN,
    TicketAction.START: TicketEventType.STARTED,
    TicketAction.WAIT_FOR_OWNER: TicketEventType.WAITING_FOR_OWNER,
    TicketAction.RESUME: TicketEventType.RESUMED,
    TicketAction.RESOLVE: TicketEventType.RESOLVED,
    TicketAction.CONFIRM: TicketEventType.CLOSED,
    TicketAction.REOPEN: TicketEventType.REOPENED,
    TicketAction.CANCEL: TicketEventType.CANCELLED,
}

_REQUIRED_INPUT: Mapping[LifecycleAction, str] = {
    DispatchAction.TRIAGE_COMPLETE: "category",
    DispatchAction.ASSIGN: "technician_id",
    TicketAction.REJECT: "note",
    TicketAction.CHECK_IN: "location",
    TicketAction.RESOLVE: "note",
    TicketAction.CONFIRM: "rating",
}
_ACTION_SPECIFIC_FIELDS = ("category", "technician_id", "location", "rating")


@dataclass(frozen=True)
class Actor:
    """Who is acting. The service works out `is_assignee` (the technician the ticket is assigned to) and
    `is_reporter_or_occupant` (the owner who reported it or occupies its unit); they only count for
    the TECHNICIAN and OWNER roles respectively."""

    role: ActorRole
    user_id: int | None = None  # the acting user, for the service's event record; None for SYSTEM
    is_assignee: bool = False
    is_reporter_or_occupant: bool = False


@dataclass(frozen=True)
class TicketFacts:
    """The part of a ticket the state machine needs. `assignee_id` is a technician id, set exactly in
    `ASSIGNED_STATUSES` (kept, for the record, on CLOSED and CANCELLED tickets); `resumes_to` is the
    status a WAITING_FOR_OWNER ticket returns to, and None otherwise."""

    status: TicketStatus
    assignee_id: int | None = None
    resumes_to: TicketStatus | None = None

    def __post_init__(self) -> None:
        if self.status in ASSIGNED_STATUSES and self.assignee_id is None:
            raise ValueError(f"a {self.status.value} ticket must have an assignee")
        if self.status in _BEFORE_ON_SITE - ASSIGNED_STATUSES and self.assignee_id is not None:
            raise ValueError(f"a {self.status.value} ticket cannot have an assignee")
        if self.status is TicketStatus.WAITING_FOR_OWNER:
            if self.resumes_to not in _PAUSABLE_STATUSES:
                raise ValueError("a WAITING_FOR_OWNER ticket must resume to ON_SITE or IN_PROGRESS")
        elif self.resumes_to is not None:
            raise ValueError(f"a {self.status.value} ticket has nothing to resume")


@dataclass(frozen=True)
class ActionInput:
    """Data that comes with an action. `note` is free text any action may carry; it is required as the
    reason of REJECT and as the work notes of RESOLVE. The other fields belong to one action each:
    `category` to TRIAGE_COMPLETE, `technician_id` to ASSIGN, `location` to CHECK_IN, `rating` (1 to 5) to
    CONFIRM, where they are required; sending one with another action is refused."""

    note: str | None = None
    category: Category | None = None
    technician_id: int | None = None
    location: GeoPoint | None = None
    rating: int | None = None


@dataclass(frozen=True)
class Transition:
    """What an allowed action does to a ticket. `assignee_id` is the assignee afterwards;
    `released_technician_id` the technician who stops working on it (to notify them);
    `prefers_technician_id` / `avoids_technician_id` guide the next dispatch; `resumes_to` is the
    value to store afterwards; `input` is the validated input with the note trimmed."""

    action: LifecycleAction
    from_status: TicketStatus
    to_status: TicketStatus
    event_type: TicketEventType
    assignee_id: int | None
    released_technician_id: int | None = None
    prefers_technician_id: int | None = None
    avoids_technician_id: int | None = None
    resumes_to: TicketStatus | None = None
    input: ActionInput = field(default_factory=ActionInput)

    @property
    def clears_assignee(self) -> bool:
        return self.released_technician_id is not None and self.assignee_id is None

    @property
    def needs_dispatch(self) -> bool:
        """True when the ticket waits for a technician afterwards (the service may run auto-dispatch)."""
        return self.to_status in AWAITING_DISPATCH_STATUSES

    def facts_after(self) -> TicketFacts:
        return TicketFacts(status=self.to_status, assignee_id=self.assignee_id, resumes_to=self.resumes_to)


class RefusalReason(str, Enum):
    """NOT_ALLOWED_IN_STATE: nobody may take the action in this status (GraphQL CONFLICT).
    NOT_PERMITTED: someone may, but not this actor (GraphQL FORBIDDEN)."""

    NOT_ALLOWED_IN_STATE = "NOT_ALLOWED_IN_STATE"
    NOT_PERMITTED = "NOT_PERMITTED"


class TransitionRefused(Exception):
    """An action the state machine does not allow; `allowed_actions` are the actions of the same kind
    (public `TicketAction`s or internal `DispatchAction`s) this actor may take instead."""

    def __init__(
        self,
        *,
        reason: RefusalReason,
        action: LifecycleAction,
        status: TicketStatus,
        allowed_actions: tuple[LifecycleAction, ...],
        permitted_to: str,
    ) -> None:
        self.reason = reason
        self.action = action
        self.status = status
        self.allowed_actions = allowed_actions
        if reason is RefusalReason.NOT_ALLOWED_IN_STATE:
            problem = f"{action.value} is not possible while the ticket is {status.value}"
        else:
            problem = f"only {permitted_to} may {action.value} a ticket that is {status.value}"
        if allowed_actions:
            offer = "allowed: " + ", ".join(allowed.value for allowed in allowed_actions)
        else:
            offer = "no action is available to you now"
        self.message = f"{problem}; {offer}"
        super().__init__(self.message)


class InvalidActionInput(Exception):
    """The action is allowed but its input is missing or wrong; `field` names the `ActionInput` field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def _capacities(actor: Actor) -> frozenset[_Capacity]:
    match actor.role:
        case ActorRole.ADMIN | ActorRole.DISPATCHER:
            return _STAFF
        case ActorRole.SYSTEM:
            return _SYSTEM
        case ActorRole.TECHNICIAN:
            return _ASSIGNEE if actor.is_assignee else frozenset()
        case ActorRole.OWNER:
            return _REPORTER if actor.is_reporter_or_occupant else frozenset()


def _may(facts: TicketFacts, action: LifecycleAction, actor: Actor) -> bool:
    return bool(_PERMITTED.get((action, facts.status), frozenset()) & _capacities(actor))


@cache
def _actions_permitted(
    actions: type[TicketAction | DispatchAction], status: TicketStatus, capacities: frozenset[_Capacity]
) -> tuple[LifecycleAction, ...]:
    """The `actions` (in their order) someone with these capacities may take on a ticket in `status`.

    Depends only on a handful of values, so each answer is worked out once: a board of fifty tickets
    asks the same few questions fifty times."""
    return tuple(action for action in actions if _PERMITTED.get((action, status), frozenset()) & capacities)


def allowed_actions(facts: TicketFacts, actor: Actor) -> tuple[TicketAction, ...]:
    """The public actions this actor may take on the ticket now, in `TicketAction` order."""
    return actions_in_status(facts.status, actor)


def actions_in_status(status: TicketStatus, actor: Actor) -> tuple[TicketAction, ...]:
    """`allowed_actions` of a ticket in `status`: which public actions an actor may take depends on the
    status alone, so a reader that has no `TicketFacts` at hand (a page of rows) need not build them."""
    return _actions_permitted(TicketAction, status, _capacities(actor))  # type: ignore[return-value]


def allowed_dispatch_actions(facts: TicketFacts, actor: Actor) -> tuple[DispatchAction, ...]:
    """The internal dispatch actions this actor may take on the ticket now, in `DispatchAction` order."""
    return _actions_permitted(DispatchAction, facts.status, _capacities(actor))  # type: ignore[return-value]


def decide(
    facts: TicketFacts,
    action: LifecycleAction,
    actor: Actor,
    action_input: ActionInput | None = None,
) -> Transition:
    """The transition `action` by `actor` causes; raises `TransitionRefused` or `InvalidActionInput`."""
    if not _may(facts, action, actor):
        raise _refusal(facts, action, actor)
    checked = _validated_input(facts, action, action_input or ActionInput())
    return _transition(facts, action, checked)


def board_column(facts: TicketFacts) -> TicketStatus | None:
    """The dispatcher-board column showing the ticket (one of `BOARD_COLUMNS`), None once it is over.
    A reopened ticket is back among the new ones; a paused one stays where it paused."""
    if facts.status in TERMINAL_STATUSES:
        return None
    if facts.status is TicketStatus.REOPENED:
        return TicketStatus.NEW
    if facts.status is TicketStatus.WAITING_FOR_OWNER:
        return facts.resumes_to
    return facts.status


def _refusal(facts: TicketFacts, action: LifecycleAction, actor: Actor) -> TransitionRefused:
    permitted = _PERMITTED.get((action, facts.status), frozenset())
    alternatives: tuple[LifecycleAction, ...]
    if isinstance(action, TicketAction):
        alternatives = allowed_actions(facts, actor)
    else:
        alternatives = allowed_dispatch_actions(facts, actor)
    return TransitionRefused(
        reason=RefusalReason.NOT_PERMITTED if permitted else RefusalReason.NOT_ALLOWED_IN_STATE,
        action=action,
        status=facts.status,
        allowed_actions=alternatives,
        permitted_to=" or ".join(_CAPACITY_NAMES[capacity] for capacity in _Capacity if capacity in permitted),
    )


def _validated_input(facts: TicketFacts, action: LifecycleAction, given: ActionInput) -> ActionInput:
    required = _REQUIRED_INPUT.get(action)
    for name in _ACTION_SPECIFIC_FIELDS:
        if name != required and getattr(given, name) is not None:
            raise InvalidActionInput(name, f"{action.value} takes no {name}")

    note = given.note.strip() if given.note is not None else None
    if note is not None and len(note) > NOTE_MAX_LENGTH:
        raise InvalidActionInput("note", f"must be at most {NOTE_MAX_LENGTH} characters")
    note = note or None

    if required == "note" and note is None:
        what = "a reason" if action is TicketAction.REJECT else "what was done"
        raise InvalidActionInput("note", f"{action.value} needs a note saying {what}")
    # A required note was checked above, in its trimmed form.
    if required is not None and getattr(given, required) is None:
        raise InvalidActionInput(required, f"{action.value} needs {required}")

    if given.rating is not None and (
        isinstance(given.rating, bool) or not isinstance(given.rating, int) or not 1 <= given.rating <= 5
    ):
        raise InvalidActionInput("rating", "must be a whole number from 1 to 5")
    category = given.category
    if category is not None:
        try:
            category = Category(category)
        except ValueError:
            raise InvalidActionInput("category", f"unknown category {category!r}") from None
    if given.location is not None and not _is_valid_position(given.location):
        raise InvalidActionInput("location", "must be a latitude within ±90 and a longitude within ±180")
    if given.technician_id is not None and given.technician_id == facts.assignee_id:
        raise InvalidActionInput("technician_id", "the ticket is already assigned to this technician")

    return ActionInput(
        note=note,
        category=category,
        technician_id=given.technician_id,
        location=given.location,
        rating=given.rating,
    )


def _is_valid_position(point: GeoPoint) -> bool:
    return (
        math.isfinite(point.latitude)
        and math.isfinite(point.longitude)
        and -90.0 <= point.latitude <= 90.0
        and -180.0 <= point.longitude <= 180.0
    )


def _target_status(facts: TicketFacts, action: LifecycleAction) -> TicketStatus:
    if action is TicketAction.RESUME:
        assert facts.resumes_to is not None  # TicketFacts guarantees it for WAITING_FOR_OWNER
        return facts.resumes_to
    if action is DispatchAction.ESCALATE:
        # An unanswered assignment is taken back; a queued ticket stays queued and is offered again.
        return TicketStatus.NEW if facts.assignee_id is not None else facts.status
    return _FIXED_TARGETS[action]


def _transition(facts: TicketFacts, action: LifecycleAction, checked: ActionInput) -> Transition:
    current = facts.assignee_id
    assignee_id = current
    released: int | None = None
    prefers: int | None = None
    avoids: int | None = None
    resumes_to: TicketStatus | None = None
    event_type = _EVENT_TYPES[action]
    match action:
        case DispatchAction.ASSIGN:
            assignee_id, released = checked.technician_id, current
            if current is not None:
                event_type = TicketEventType.REASSIGNED
        case DispatchAction.UNASSIGN:
            assignee_id, released = None, current
        case TicketAction.REJECT | DispatchAction.ESCALATE:
            assignee_id, released, avoids = None, current, current
        case TicketAction.REOPEN:
            assignee_id, released, prefers = None, current, current
        case TicketAction.CANCEL:
            # The assignee stays on record; the technician is only told the job is off.
            released = current
        case TicketAction.WAIT_FOR_OWNER:
            resumes_to = facts.status
    return Transition(
        action=action,
        from_status=facts.status,
        to_status=_target_status(facts, action),
        event_type=event_type,
        assignee_id=assignee_id,
        released_technician_id=released,
        prefers_technician_id=prefers,
        avoids_technician_id=avoids,
        resumes_to=resumes_to,
        input=checked,
    )
