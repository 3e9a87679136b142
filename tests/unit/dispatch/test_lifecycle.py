"""Specification of the ticket state machine (dispatch/lifecycle.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.lifecycle import (
    BOARD_COLUMNS,
    NOTE_MAX_LENGTH,
    ActionInput,
    Actor,
    InvalidActionInput,
    RefusalReason,
    TicketFacts,
    Transition,
    TransitionRefused,
    allowed_actions,
    allowed_dispatch_actions,
    board_column,
    decide,
)
from dispatch.model import DispatchAction, GeoPoint, LifecycleAction, TicketAction
from kernel.vocabulary import ActorRole, Category, TicketEventType, TicketStatus

S = TicketStatus
A = TicketAction
D = DispatchAction

ASSIGNEE_TECHNICIAN_ID = 30
OTHER_TECHNICIAN_ID = 31

# The cast of actors; the letter is how the permission grid below names them.
ACTORS: dict[str, Actor] = {
    "A": Actor(ActorRole.ADMIN, user_id=1),
    "D": Actor(ActorRole.DISPATCHER, user_id=2),
    "T": Actor(ActorRole.TECHNICIAN, user_id=3, is_assignee=True),
    "t": Actor(ActorRole.TECHNICIAN, user_id=4, is_assignee=False),
    "O": Actor(ActorRole.OWNER, user_id=5, is_reporter_or_occupant=True),
    "o": Actor(ActorRole.OWNER, user_id=6, is_reporter_or_occupant=False),
    "S": Actor(ActorRole.SYSTEM),
}

# Who may take each action in each status. A admin, D dispatcher, T the assigned technician,
# O the reporting owner, S the system; "-" nobody. Another technician (t) or owner (o): never.
TICKET_ACTION_GRID = """
status             ACCEPT REJECT CHECK_IN START WAIT_FOR_OWNER RESUME RESOLVE CONFIRM REOPEN CANCEL
TRIAGE             -      -      -        -     -              -      -       -       -      ADO
NEW                -      -      -        -     -              -      -       -       -      ADO
ASSIGNED           T      T      -        -     -              -      -       -       -      ADO
ACCEPTED           -      T      T        -     -              -      -       -       -      ADO
ON_SITE            -      -      -        T     T              -      -       -       -      AD
IN_PROGRESS        -      -      -        -     T              -      T       -       -      AD
WAITING_FOR_OWNER  -      -      -        -     -              ADT    -       -       -      AD
RESOLVED           -      -      -        -     -              -      -       ADO     ADO    -
CLOSED             -      -      -        -     -              -      -       -       -      -
REOPENED           -      -      -        -     -              -      -       -       -      ADO
CANCELLED          -      -      -        -     -              -      -       -       -      -
"""
DISPATCH_ACTION_GRID = """
status             TRIAGE_COMPLETE ASSIGN UNASSIGN ESCALATE
TRIAGE             AD              -      -        -
NEW                -               ADS    -        S
ASSIGNED           -               ADS    AD       S
ACCEPTED           -               AD     AD       -
ON_SITE            -               -      -        -
IN_PROGRESS        -               -      -        -
WAITING_FOR_OWNER  -               -      -        -
RESOLVED           -               -      -        -
CLOSED             -               -      -        -
REOPENED           -               ADS    -        S
CANCELLED          -               -      -        -
"""

# Where every allowed (status, action) leads. The WAITING_FOR_OWNER ticket below paused from ON_SITE.
EXPECTED_TARGETS: dict[tuple[TicketStatus, LifecycleAction], TicketStatus] = {
    (S.TRIAGE, D.TRIAGE_COMPLETE): S.NEW,
    (S.TRIAGE, A.CANCEL): S.CANCELLED,
    (S.NEW, D.ASSIGN): S.ASSIGNED,
    (S.NEW, D.ESCALATE): S.NEW,
    (S.NEW, A.CANCEL): S.CANCELLED,
    (S.ASSIGNED, D.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, D.UNASSIGN): S.NEW,
    (S.ASSIGNED, D.ESCALATE): S.NEW,
    (S.ASSIGNED, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.REJECT): S.NEW,
    (S.ASSIGNED, A.CANCEL): S.CANCELLED,
    (S.ACCEPTED, D.ASSIGN): S.ASSIGNED,
    (S.ACCEPTED, D.UNASSIGN): S.NEW,
    (S.ACCEPTED, A.REJECT): S.NEW,
    (S.ACCEPTED, A.CHECK_IN): S.ON_SITE,
    (S.ACCEPTED, A.CANCEL): S.CANCELLED,
    (S.ON_SITE, A.START): S.IN_PROGRESS,
    (S.ON_SITE, A.WAIT_FOR_OWNER): S.WAITING_FOR_OWNER,
    (S.ON_SITE, A.CANCEL): S.CANCELLED,
    (S.IN_PROGRESS, A.WAIT_FOR_OWNER): S.WAITING_FOR_OWNER,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.CANCEL): S.CANCELLED,
    (S.WAITING_FOR_OWNER, A.RESUME): S.ON_SITE,
    (S.WAITING_FOR_OWNER, A.CANCEL): S.CANCELLED,
    (S.RESOLVED, A.CONFIRM): S.CLOSED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.REOPENED, D.ASSIGN): S.ASSIGNED,
    (S.REOPENED, D.ESCALATE): S.REOPENED,
    (S.REOPENED, A.CANCEL): S.CANCELLED,
}

FACTS: dict[TicketStatus, TicketFacts] = {
    S.TRIAGE: TicketFacts(S.TRIAGE),
    S.NEW: TicketFacts(S.NEW),
    S.ASSIGNED: TicketFacts(S.ASSIGNED, ASSIGNEE_TECHNICIAN_ID),
    S.ACCEPTED: TicketFacts(S.ACCEPTED, ASSIGNEE_TECHNICIAN_ID),
    S.ON_SITE: TicketFacts(S.ON_SITE, ASSIGNEE_TECHNICIAN_ID),
    S.IN_PROGRESS: TicketFacts(S.IN_PROGRESS, ASSIGNEE_TECHNICIAN_ID),
    S.WAITING_FOR_OWNER: TicketFacts(S.WAITING_FOR_OWNER, ASSIGNEE_TECHNICIAN_ID, resumes_to=S.ON_SITE),
    S.RESOLVED: TicketFacts(S.RESOLVED, ASSIGNEE_TECHNICIAN_ID),
    S.CLOSED: TicketFacts(S.CLOSED, ASSIGNEE_TECHNICIAN_ID),
    S.REOPENED: TicketFacts(S.REOPENED),
    S.CANCELLED: TicketFacts(S.CANCELLED),
}

HERE = GeoPoint(latitude=31.2304, longitude=121.4737)

VALID_INPUT: dict[LifecycleAction, ActionInput] = {
    D.TRIAGE_COMPLETE: ActionInput(category=Category.PLUMBING),
    D.ASSIGN: ActionInput(technician_id=OTHER_TECHNICIAN_ID),
    A.REJECT: ActionInput(note="No ladder long enough for the atrium lights"),
    A.CHECK_IN: ActionInput(location=HERE),
    A.RESOLVE: ActionInput(note="Replaced the cracked trap under the basin"),
    A.CONFIRM: ActionInput(rating=5),
}

ALL_ACTIONS: tuple[LifecycleAction, ...] = (*DispatchAction, *TicketAction)


def _parse_grid(grid: str) -> dict[tuple[TicketStatus, LifecycleAction], str]:
    header, *rows = grid.strip().splitlines()
    actions = [_action_named(name) for name in header.split()[1:]]
    cells = {}
    for row in rows:
        status_name, *who = row.split()
        assert len(who) == len(actions), row
        for action, letters in zip(actions, who, strict=True):
            cells[(TicketStatus(status_name), action)] = "" if letters == "-" else letters
    return cells


def _action_named(name: str) -> LifecycleAction:
    return DispatchAction(name) if name in DispatchAction.__members__ else TicketAction(name)


PERMITTED = _parse_grid(TICKET_ACTION_GRID) | _parse_grid(DISPATCH_ACTION_GRID)


def test_the_grid_covers_every_status_and_action() -> None:
    assert set(PERMITTED) == {(status, action) for status in TicketStatus for action in ALL_ACTIONS}


def test_every_permitted_cell_has_an_expected_target() -> None:
    assert {cell for cell, who in PERMITTED.items() if who} == set(EXPECTED_TARGETS)


def _outcome(facts: TicketFacts, action: LifecycleAction, actor: Actor) -> TicketStatus | RefusalReason:
    try:
        return decide(facts, action, actor, VALID_INPUT.get(action, ActionInput())).to_status
    except TransitionRefused as refused:
        assert (refused.action, refused.status) == (action, facts.status)
        return refused.reason


@pytest.mark.parametrize("action", ALL_ACTIONS, ids=lambda action: action.value)
@pytest.mark.parametrize("status", list(TicketStatus), ids=lambda status: status.value)
def test_each_status_action_and_role_matches_the_permission_grid(status: TicketStatus, action: LifecycleAction) -> None:
    who = PERMITTED[(status, action)]
    refusal = RefusalReason.NOT_PERMITTED if who else RefusalReason.NOT_ALLOWED_IN_STATE
    expected = {letter: EXPECTED_TARGETS[(status, action)] if letter in who else refusal for letter in ACTORS}

    actual = {letter: _outcome(FACTS[status], action, actor) for letter, actor in ACTORS.items()}

    assert actual == expected


@pytest.mark.parametrize("actor_letter", list(ACTORS))
@pytest.mark.parametrize("status", list(TicketStatus), ids=lambda status: status.value)
def test_allowed_actions_list_exactly_the_grid_cells_of_the_actor(status: TicketStatus, actor_letter: str) -> None:
    facts, actor = FACTS[status], ACTORS[actor_letter]

    assert allowed_actions(facts, actor) == tuple(
        action for action in TicketAction if actor_letter in PERMITTED[(status, action)]
    )
    assert allowed_dispatch_actions(facts, actor) == tuple(
        action for action in DispatchAction if actor_letter in PERMITTED[(status, action)]
    )


# --- the happy path -------------------------------------------------------------------------------


def test_a_ticket_walks_from_new_to_closed_with_one_event_per_step() -> None:
    technician = ACTORS["T"]
    steps: list[tuple[LifecycleAction, Actor, ActionInput, TicketStatus, TicketEventType]] = [
        (D.ASSIGN, ACTORS["S"], ActionInput(technician_id=30), S.ASSIGNED, TicketEventType.ASSIGNED),
        (A.ACCEPT, technician, ActionInput(), S.ACCEPTED, TicketEventType.ACCEPTED),
        (A.CHECK_IN, technician, ActionInput(location=HERE), S.ON_SITE, TicketEventType.CHECKED_IN),
        (A.START, technician, ActionInput(), S.IN_PROGRESS, TicketEventType.STARTED),
        (
            A.RESOLVE,
            technician,
            ActionInput(note="Reset the breaker, replaced a wet socket"),
            S.RESOLVED,
            TicketEventType.RESOLVED,
        ),
        (A.CONFIRM, ACTORS["O"], ActionInput(rating=4, note="Quick and tidy"), S.CLOSED, TicketEventType.CLOSED),
    ]
    facts = TicketFacts(S.NEW)

    for action, actor, action_input, expected_status, expected_event in steps:
        transition = decide(facts, action, actor, action_input)
        assert (transition.to_status, transition.event_type) == (expected_status, expected_event)
        facts = transition.facts_after()

    assert facts == TicketFacts(S.CLOSED, assignee_id=30)


def test_triage_complete_sets_the_category_and_queues_the_ticket_for_dispatch() -> None:
    transition = decide(TicketFacts(S.TRIAGE), D.TRIAGE_COMPLETE, ACTORS["D"], ActionInput(category=Category.ELEVATOR))

    assert transition.to_status is S.NEW
    assert transition.event_type is TicketEventType.TRIAGED
    assert transition.input.category is Category.ELEVATOR
    assert transition.needs_dispatch


def test_the_first_assignment_records_assigned_and_releases_nobody() -> None:
    transition = decide(TicketFacts(S.NEW), D.ASSIGN, ACTORS["D"], ActionInput(technician_id=30))

    assert transition.event_type is TicketEventType.ASSIGNED
    assert (transition.assignee_id, transition.released_technician_id) == (30, None)
    assert not transition.clears_assignee
    assert not transition.needs_dispatch


@pytest.mark.parametrize("status", [S.ASSIGNED, S.ACCEPTED])
def test_reassigning_moves_the_ticket_and_releases_the_previous_technician(status: TicketStatus) -> None:
    transition = decide(TicketFacts(status, 30), D.ASSIGN, ACTORS["D"], ActionInput(technician_id=31))

    assert transition.to_status is S.ASSIGNED
    assert transition.event_type is TicketEventType.REASSIGNED
    assert (transition.assignee_id, transition.released_technician_id) == (31, 30)


def test_the_system_never_moves_a_ticket_a_technician_has_accepted() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(TicketFacts(S.ACCEPTED, 30), D.ASSIGN, ACTORS["S"], ActionInput(technician_id=31))

    assert refused.value.reason is RefusalReason.NOT_PERMITTED


# --- back to dispatch -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.ASSIGNED, S.ACCEPTED])
def test_a_rejected_ticket_goes_back_to_dispatch_avoiding_the_technician(status: TicketStatus) -> None:
    transition = decide(TicketFacts(status, 30), A.REJECT, ACTORS["T"], ActionInput(note="  Off sick today  "))

    assert transition == Transition(
        action=A.REJECT,
        from_status=status,
        to_status=S.NEW,
        event_type=TicketEventType.REJECTED,
        assignee_id=None,
        released_technician_id=30,
        avoids_technician_id=30,
        input=ActionInput(note="Off sick today"),
    )
    assert transition.clears_assignee
    assert transition.needs_dispatch


def test_a_reopened_ticket_goes_back_to_dispatch_preferring_the_same_technician() -> None:
    transition = decide(TicketFacts(S.RESOLVED, 30), A.REOPEN, ACTORS["O"], ActionInput(note="Still dripping"))

    assert transition == Transition(
        action=A.REOPEN,
        from_status=S.RESOLVED,
        to_status=S.REOPENED,
        event_type=TicketEventType.REOPENED,
        assignee_id=None,
        released_technician_id=30,
        prefers_technician_id=30,
        input=ActionInput(note="Still dripping"),
    )
    assert transition.needs_dispatch


def test_unassigning_returns_the_ticket_to_dispatch_without_blaming_the_technician() -> None:
    transition = decide(TicketFacts(S.ACCEPTED, 30), D.UNASSIGN, ACTORS["A"])

    assert (transition.to_status, transition.event_type) == (S.NEW, TicketEventType.UNASSIGNED)
    assert (transition.assignee_id, transition.released_technician_id) == (None, 30)
    assert transition.avoids_technician_id is None


def test_escalating_an_unanswered_assignment_takes_it_back_and_avoids_that_technician() -> None:
    transition = decide(TicketFacts(S.ASSIGNED, 30), D.ESCALATE, ACTORS["S"])

    assert (transition.to_status, transition.event_type) == (S.NEW, TicketEventType.ESCALATED)
    assert (transition.assignee_id, transition.released_technician_id, transition.avoids_technician_id) == (
        None,
        30,
        30,
    )
    assert transition.needs_dispatch


@pytest.mark.parametrize("status", [S.NEW, S.REOPENED])
def test_escalating_a_queued_ticket_keeps_it_queued_and_offers_it_again(status: TicketStatus) -> None:
    transition = decide(TicketFacts(status), D.ESCALATE, ACTORS["S"])

    assert (transition.from_status, transition.to_status) == (status, status)
    assert transition.event_type is TicketEventType.ESCALATED
    assert transition.released_technician_id is None
    assert transition.needs_dispatch


# --- waiting for the owner ------------------------------------------------------------------------


@pytest.mark.parametrize("paused_from", [S.ON_SITE, S.IN_PROGRESS])
def test_resume_returns_to_the_status_the_ticket_paused_from(paused_from: TicketStatus) -> None:
    paused = decide(TicketFacts(paused_from, 30), A.WAIT_FOR_OWNER, ACTORS["T"], ActionInput(note="Nobody home"))
    assert paused.facts_after() == TicketFacts(S.WAITING_FOR_OWNER, 30, resumes_to=paused_from)
    assert paused.event_type is TicketEventType.WAITING_FOR_OWNER

    resumed = decide(paused.facts_after(), A.RESUME, ACTORS["T"])

    assert resumed.facts_after() == TicketFacts(paused_from, 30)
    assert resumed.event_type is TicketEventType.RESUMED


def test_a_dispatcher_may_resume_after_arranging_a_visit_with_the_owner() -> None:
    waiting = TicketFacts(S.WAITING_FOR_OWNER, 30, resumes_to=S.IN_PROGRESS)

    assert decide(waiting, A.RESUME, ACTORS["D"]).to_status is S.IN_PROGRESS


def test_cancelling_a_waiting_ticket_forgets_where_it_would_have_resumed() -> None:
    waiting = TicketFacts(S.WAITING_FOR_OWNER, 30, resumes_to=S.IN_PROGRESS)

    assert decide(waiting, A.CANCEL, ACTORS["D"]).facts_after() == TicketFacts(S.CANCELLED, 30)


# --- cancelling -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.ON_SITE, S.IN_PROGRESS, S.WAITING_FOR_OWNER])
def test_the_owner_cannot_cancel_once_the_technician_is_on_site(status: TicketStatus) -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[status], A.CANCEL, ACTORS["O"])

    assert refused.value.reason is RefusalReason.NOT_PERMITTED
    assert refused.value.allowed_actions == ()
    assert refused.value.message == (
        f"only dispatchers may CANCEL a ticket that is {status.value}; no action is available to you now"
    )


def test_cancelling_an_accepted_ticket_keeps_the_technician_on_record_and_tells_them() -> None:
    transition = decide(TicketFacts(S.ACCEPTED, 30), A.CANCEL, ACTORS["O"], ActionInput(note="Fixed it myself"))

    assert transition.to_status is S.CANCELLED
    assert (transition.assignee_id, transition.released_technician_id) == (30, 30)
    assert not transition.clears_assignee
    assert not transition.needs_dispatch


def test_nobody_may_cancel_a_resolved_ticket() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[S.RESOLVED], A.CANCEL, ACTORS["D"])

    assert refused.value.reason is RefusalReason.NOT_ALLOWED_IN_STATE
    assert refused.value.allowed_actions == (A.CONFIRM, A.REOPEN)


# --- refusals -------------------------------------------------------------------------------------


def test_a_technician_who_is_not_the_assignee_is_refused() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["t"])

    assert refused.value.reason is RefusalReason.NOT_PERMITTED
    assert refused.value.message == (
        "only the assigned technician may ACCEPT a ticket that is ASSIGNED; no action is available to you now"
    )


def test_a_refusal_names_the_actions_the_caller_may_take_instead() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[S.ASSIGNED], A.CHECK_IN, ACTORS["T"], ActionInput(location=HERE))

    assert refused.value.reason is RefusalReason.NOT_ALLOWED_IN_STATE
    assert refused.value.allowed_actions == (A.ACCEPT, A.REJECT)
    assert refused.value.message == "CHECK_IN is not possible while the ticket is ASSIGNED; allowed: ACCEPT, REJECT"


def test_a_refused_dispatch_action_names_the_dispatch_actions_allowed_instead() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[S.TRIAGE], D.ASSIGN, ACTORS["D"], ActionInput(technician_id=31))

    assert refused.value.allowed_actions == (D.TRIAGE_COMPLETE,)


def test_an_owner_may_not_confirm_someone_elses_repair() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[S.RESOLVED], A.CONFIRM, ACTORS["o"], ActionInput(rating=1))

    assert refused.value.reason is RefusalReason.NOT_PERMITTED
    assert refused.value.message == (
        "only the reporting owner or dispatchers may CONFIRM a ticket that is RESOLVED; "
        "no action is available to you now"
    )


def test_permission_is_checked_before_the_input() -> None:
    with pytest.raises(TransitionRefused):
        decide(FACTS[S.RESOLVED], A.CONFIRM, ACTORS["o"], ActionInput())


# --- input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "actor_letter", "field"),
    [
        (S.TRIAGE, D.TRIAGE_COMPLETE, "D", "category"),
        (S.NEW, D.ASSIGN, "S", "technician_id"),
        (S.ASSIGNED, A.REJECT, "T", "note"),
        (S.ACCEPTED, A.CHECK_IN, "T", "location"),
        (S.IN_PROGRESS, A.RESOLVE, "T", "note"),
        (S.RESOLVED, A.CONFIRM, "O", "rating"),
    ],
)
def test_an_action_without_its_required_input_is_refused_naming_the_field(
    status: TicketStatus, action: LifecycleAction, actor_letter: str, field: str
) -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[status], action, ACTORS[actor_letter], ActionInput(note="   "))

    assert invalid.value.field == field


@pytest.mark.parametrize("rating", [0, 6, -1, True])
def test_a_rating_outside_one_to_five_is_refused(rating: int) -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.RESOLVED], A.CONFIRM, ACTORS["O"], ActionInput(rating=rating))

    assert (invalid.value.field, invalid.value.message) == ("rating", "must be a whole number from 1 to 5")


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_every_rating_from_one_to_five_closes_the_ticket(rating: int) -> None:
    transition = decide(FACTS[S.RESOLVED], A.CONFIRM, ACTORS["O"], ActionInput(rating=rating))

    assert (transition.to_status, transition.input.rating) == (S.CLOSED, rating)


def test_a_fractional_rating_is_refused() -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.RESOLVED], A.CONFIRM, ACTORS["O"], ActionInput(rating=4.5))  # type: ignore[arg-type]

    assert invalid.value.field == "rating"


@pytest.mark.parametrize(
    "location",
    [
        GeoPoint(latitude=90.5, longitude=121.0),
        GeoPoint(latitude=31.0, longitude=-180.1),
        GeoPoint(latitude=math.nan, longitude=121.0),
        GeoPoint(latitude=31.0, longitude=math.inf),
    ],
)
def test_a_check_in_outside_the_globe_is_refused(location: GeoPoint) -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.ACCEPTED], A.CHECK_IN, ACTORS["T"], ActionInput(location=location))

    assert invalid.value.field == "location"


def test_a_check_in_carries_its_location() -> None:
    transition = decide(FACTS[S.ACCEPTED], A.CHECK_IN, ACTORS["T"], ActionInput(location=HERE))

    assert transition.input.location == HERE


def test_input_that_belongs_to_another_action_is_refused() -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["T"], ActionInput(rating=5))

    assert (invalid.value.field, invalid.value.message) == ("rating", "ACCEPT takes no rating")


def test_assigning_to_the_current_assignee_is_refused() -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.ASSIGNED], D.ASSIGN, ACTORS["D"], ActionInput(technician_id=ASSIGNEE_TECHNICIAN_ID))

    assert invalid.value.field == "technician_id"


def test_a_category_of_another_enum_with_the_same_value_is_accepted() -> None:
    transition = decide(FACTS[S.TRIAGE], D.TRIAGE_COMPLETE, ACTORS["D"], ActionInput(category="HVAC"))  # type: ignore[arg-type]

    assert transition.input.category is Category.HVAC


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.TRIAGE], D.TRIAGE_COMPLETE, ACTORS["D"], ActionInput(category="GARDENING"))  # type: ignore[arg-type]

    assert invalid.value.field == "category"


def test_a_note_longer_than_the_limit_is_refused_and_one_at_the_limit_is_kept() -> None:
    at_limit = "x" * NOTE_MAX_LENGTH
    kept = decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["T"], ActionInput(note=at_limit))
    assert kept.input.note == at_limit

    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["T"], ActionInput(note=at_limit + "x"))
    assert invalid.value.field == "note"


def test_a_blank_optional_note_is_stored_as_no_note() -> None:
    assert decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["T"], ActionInput(note=" \n ")).input.note is None


# --- ticket facts and the board -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "assignee_id", "resumes_to", "message"),
    [
        (S.ASSIGNED, None, None, "a ASSIGNED ticket must have an assignee"),
        (S.RESOLVED, None, None, "a RESOLVED ticket must have an assignee"),
        (S.NEW, 30, None, "a NEW ticket cannot have an assignee"),
        (S.TRIAGE, 30, None, "a TRIAGE ticket cannot have an assignee"),
        (S.REOPENED, 30, None, "a REOPENED ticket cannot have an assignee"),
        (S.WAITING_FOR_OWNER, 30, None, "a WAITING_FOR_OWNER ticket must resume to ON_SITE or IN_PROGRESS"),
        (S.WAITING_FOR_OWNER, 30, S.ACCEPTED, "a WAITING_FOR_OWNER ticket must resume to ON_SITE or IN_PROGRESS"),
        (S.ON_SITE, 30, S.IN_PROGRESS, "a ON_SITE ticket has nothing to resume"),
    ],
)
def test_inconsistent_ticket_facts_are_rejected(
    status: TicketStatus, assignee_id: int | None, resumes_to: TicketStatus | None, message: str
) -> None:
    with pytest.raises(ValueError) as rejected:
        TicketFacts(status, assignee_id, resumes_to)

    assert str(rejected.value) == message


@pytest.mark.parametrize(
    ("facts", "column"),
    [
        (TicketFacts(S.TRIAGE), S.TRIAGE),
        (TicketFacts(S.NEW), S.NEW),
        (TicketFacts(S.REOPENED), S.NEW),
        (TicketFacts(S.ASSIGNED, 30), S.ASSIGNED),
        (TicketFacts(S.ACCEPTED, 30), S.ACCEPTED),
        (TicketFacts(S.ON_SITE, 30), S.ON_SITE),
        (TicketFacts(S.IN_PROGRESS, 30), S.IN_PROGRESS),
        (TicketFacts(S.WAITING_FOR_OWNER, 30, resumes_to=S.ON_SITE), S.ON_SITE),
        (TicketFacts(S.WAITING_FOR_OWNER, 30, resumes_to=S.IN_PROGRESS), S.IN_PROGRESS),
        (TicketFacts(S.RESOLVED, 30), S.RESOLVED),
        (TicketFacts(S.CLOSED, 30), None),
        (TicketFacts(S.CANCELLED), None),
    ],
)
def test_each_open_ticket_sits_in_one_board_column(facts: TicketFacts, column: TicketStatus | None) -> None:
    assert board_column(facts) == column
    assert column is None or column in BOARD_COLUMNS


# --- laws over random histories -------------------------------------------------------------------

_WALK_ACTORS: tuple[tuple[ActorRole, int | None], ...] = (
    (ActorRole.ADMIN, None),
    (ActorRole.DISPATCHER, None),
    (ActorRole.SYSTEM, None),
    (ActorRole.OWNER, None),
    (ActorRole.TECHNICIAN, ASSIGNEE_TECHNICIAN_ID),
    (ActorRole.TECHNICIAN, OTHER_TECHNICIAN_ID),
)


def _walk_input(facts: TicketFacts, action: LifecycleAction) -> ActionInput:
    if action is D.ASSIGN:
        spare = OTHER_TECHNICIAN_ID if facts.assignee_id == ASSIGNEE_TECHNICIAN_ID else ASSIGNEE_TECHNICIAN_ID
        return ActionInput(technician_id=spare)
    return VALID_INPUT.get(action, ActionInput())


def _walk_actor(role: ActorRole, technician_id: int | None, facts: TicketFacts) -> Actor:
    return Actor(
        role,
        is_assignee=technician_id is not None and technician_id == facts.assignee_id,
        is_reporter_or_occupant=role is ActorRole.OWNER,
    )


def _offers(facts: TicketFacts) -> dict[LifecycleAction, list[Actor]]:
    """Every action someone is offered now, with the actors offered it."""
    offers: dict[LifecycleAction, list[Actor]] = {}
    for role, technician_id in _WALK_ACTORS:
        actor = _walk_actor(role, technician_id, facts)
        actions: tuple[LifecycleAction, ...] = (*allowed_dispatch_actions(facts, actor), *allowed_actions(facts, actor))
        for action in actions:
            offers.setdefault(action, []).append(actor)
    return offers


_STEP = st.tuples(
    st.booleans(),
    st.sampled_from(_WALK_ACTORS),
    st.sampled_from(ALL_ACTIONS),
    st.integers(min_value=0, max_value=1000),
)


@settings(max_examples=200, deadline=None)
@given(start=st.sampled_from(list(TicketStatus)), steps=st.lists(_STEP, max_size=30))
def test_any_history_keeps_the_ticket_consistent_and_decide_agrees_with_allowed_actions(
    start: TicketStatus,
    steps: list[tuple[bool, tuple[ActorRole, int | None], LifecycleAction, int]],
) -> None:
    # Walks start in every status; a step either takes an action someone is offered, other than
    # CANCEL (so that walks go far), or lets an arbitrary actor try an arbitrary action.
    facts = FACTS[start]
    paused_from = facts.resumes_to
    for take_offered, (role, technician_id), arbitrary_action, pick in steps:
        offers = {offer: actors for offer, actors in _offers(facts).items() if offer is not A.CANCEL}
        action: LifecycleAction
        if take_offered and offers:
            action = sorted(offers)[pick % len(offers)]
            actor = offers[action][pick % len(offers[action])]
        else:
            action, actor = arbitrary_action, _walk_actor(role, technician_id, facts)
        offered = action in (*allowed_actions(facts, actor), *allowed_dispatch_actions(facts, actor))
        try:
            transition = decide(facts, action, actor, _walk_input(facts, action))
        except TransitionRefused as refused:
            assert not offered
            assert action not in refused.allowed_actions
            continue
        assert offered
        assert transition.from_status is facts.status
        if action is A.WAIT_FOR_OWNER:
            paused_from = facts.status
        if action is A.RESUME:
            assert transition.to_status is paused_from
        if action is A.REOPEN:
            assert transition.prefers_technician_id == facts.assignee_id
        facts = transition.facts_after()
        if facts.status in (S.CLOSED, S.CANCELLED):
            assert _offers(facts) == {}


# --- the edges of input and of what a transition records ------------------------------------------


@pytest.mark.parametrize(
    ("status", "action", "actor_letter", "field", "message"),
    [
        (S.TRIAGE, D.TRIAGE_COMPLETE, "D", "category", "TRIAGE_COMPLETE needs category"),
        (S.NEW, D.ASSIGN, "S", "technician_id", "ASSIGN needs technician_id"),
        (S.ASSIGNED, A.REJECT, "T", "note", "REJECT needs a note saying a reason"),
        (S.ACCEPTED, A.CHECK_IN, "T", "location", "CHECK_IN needs location"),
        (S.IN_PROGRESS, A.RESOLVE, "T", "note", "RESOLVE needs a note saying what was done"),
        (S.RESOLVED, A.CONFIRM, "O", "rating", "CONFIRM needs rating"),
    ],
)
def test_a_missing_input_says_what_the_action_needs(
    status: TicketStatus, action: LifecycleAction, actor_letter: str, field: str, message: str
) -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[status], action, ACTORS[actor_letter])

    assert (invalid.value.field, invalid.value.message, str(invalid.value)) == (field, message, f"{field}: {message}")


@pytest.mark.parametrize(
    "location",
    [
        GeoPoint(latitude=90.0, longitude=180.0),
        GeoPoint(latitude=-90.0, longitude=-180.0),
        GeoPoint(latitude=0.0, longitude=0.0),
    ],
)
def test_a_check_in_on_the_limits_of_latitude_and_longitude_is_kept(location: GeoPoint) -> None:
    assert decide(FACTS[S.ACCEPTED], A.CHECK_IN, ACTORS["T"], ActionInput(location=location)).input.location == location


@pytest.mark.parametrize(
    "location",
    [
        GeoPoint(latitude=-90.5, longitude=121.0),
        GeoPoint(latitude=90.0000001, longitude=121.0),
        GeoPoint(latitude=31.0, longitude=180.5),
        GeoPoint(latitude=31.0, longitude=-180.0000001),
    ],
)
def test_a_check_in_just_past_the_limits_is_refused_saying_the_limits(location: GeoPoint) -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.ACCEPTED], A.CHECK_IN, ACTORS["T"], ActionInput(location=location))

    assert (invalid.value.field, invalid.value.message) == (
        "location",
        "must be a latitude within ±90 and a longitude within ±180",
    )


def test_the_note_limit_is_said_in_the_refusal() -> None:
    with pytest.raises(InvalidActionInput) as invalid:
        decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["T"], ActionInput(note="x" * (NOTE_MAX_LENGTH + 1)))

    assert str(invalid.value) == "note: must be at most 2000 characters"
    # the limit counts the note as stored, without the blanks around it
    padded = " " + "x" * NOTE_MAX_LENGTH + "\n"
    assert decide(FACTS[S.ASSIGNED], A.ACCEPT, ACTORS["T"], ActionInput(note=padded)).input.note == "x" * NOTE_MAX_LENGTH


def test_assigning_to_the_current_assignee_or_an_unknown_category_says_why() -> None:
    with pytest.raises(InvalidActionInput) as same:
        decide(FACTS[S.ASSIGNED], D.ASSIGN, ACTORS["D"], ActionInput(technician_id=ASSIGNEE_TECHNICIAN_ID))
    with pytest.raises(InvalidActionInput) as unknown:
        decide(FACTS[S.TRIAGE], D.TRIAGE_COMPLETE, ACTORS["D"], ActionInput(category="GARDENING"))  # type: ignore[arg-type]

    assert same.value.message == "the ticket is already assigned to this technician"
    assert unknown.value.message == "unknown category 'GARDENING'"


@pytest.mark.parametrize(
    ("status", "action", "actor_letter"),
    [
        (S.TRIAGE, D.TRIAGE_COMPLETE, "D"),
        (S.NEW, D.ASSIGN, "S"),
        (S.NEW, D.ESCALATE, "S"),
        (S.ASSIGNED, A.ACCEPT, "T"),
        (S.ACCEPTED, A.CHECK_IN, "T"),
        (S.ON_SITE, A.START, "T"),
        (S.ON_SITE, A.WAIT_FOR_OWNER, "T"),
        (S.WAITING_FOR_OWNER, A.RESUME, "D"),
        (S.IN_PROGRESS, A.RESOLVE, "T"),
        (S.RESOLVED, A.CONFIRM, "O"),
        (S.NEW, A.CANCEL, "O"),
    ],
)
def test_an_action_that_takes_the_ticket_from_nobody_releases_nobody(
    status: TicketStatus, action: LifecycleAction, actor_letter: str
) -> None:
    transition = decide(FACTS[status], action, ACTORS[actor_letter], VALID_INPUT.get(action))

    assert transition.released_technician_id is None
    assert (transition.prefers_technician_id, transition.avoids_technician_id) == (None, None)
    assert not transition.clears_assignee


def test_a_refusal_reads_as_its_message() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(FACTS[S.CLOSED], A.REOPEN, ACTORS["O"])

    assert str(refused.value) == refused.value.message == (
        "REOPEN is not possible while the ticket is CLOSED; no action is available to you now"
    )
