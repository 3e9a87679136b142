"""Ticket use cases: report a fault, move a ticket through its lifecycle, assign, categorise, re-plan.

Each function takes the caller's `Principal` and the unit of work's `TicketJournal`, checks per object
first (someone else's ticket answers NOT_FOUND; a visible ticket the caller may not act on answers
FORBIDDEN with the actions they could take), then validates, then changes rows and records events. None
of them commits: the caller ends the unit of work with `ticket_state.finish_changes` and commits once,
then publishes the journal's notices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    AttachmentStage,
    Building,
    ClassifierCorrection,
    LocationKind,
    Party,
    Project,
    Technician,
    Ticket,
    TicketAttachment,
    Unit,
)
from dispatch.attachments import MAX_FILES_PER_REQUEST, MediaStore, RejectedMedia
from dispatch.classifier import Classifier, TrainingExample, load_default_classifier
from dispatch.dispatching import OptimizationOutcome, dispatch_ticket, optimize_project
from dispatch.equipment import local_today, record_ticket_maintenance
from dispatch.journal import TicketJournal
from dispatch.lifecycle import (
    TERMINAL_STATUSES,
    ActionInput,
    Actor,
    InvalidActionInput,
    RefusalReason,
    TransitionRefused,
    decide,
)
from dispatch.model import DispatchAction, GeoPoint, TicketAction
from dispatch.settings import (
    DispatchSettings,
    InvalidDispatchSettings,
    dispatch_settings,
    settings_document,
)
from dispatch.sla import deadlines
from dispatch.ticket_state import (
    actor_for,
    apply_transition,
    facts_of,
    get_ticket_for,
    project_settings,
    technician_in_project,
)
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import (
    ActorRole,
    Category,
    Priority,
    TicketEventType,
    TicketStatus,
)
from register.policy import may_see_unit
from register.projects import get_project_for

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "IncomingFile",
    "assign_ticket",
    "categorize_ticket",
    "optimize_dispatch",
    "project_classifier",
    "submit_ticket",
    "transition_ticket",
    "update_dispatch_settings",
]

DESCRIPTION_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 2000
_STAFF_ACTORS = frozenset({ActorRole.ADMIN, ActorRole.DISPATCHER})
# GraphQL names of the `ActionInput` fields the state machine complains about.
_INPUT_FIELDS = {
    "note": "note",
    "rating": "rating",
    "location": "location",
    "category": "category",
    "technician_id": "technicianId",
}
# Photos may come with the report, the technician's resolution, or an owner's reopening.
_PHOTO_STAGES = {TicketAction.RESOLVE: AttachmentStage.RESOLUTION, TicketAction.REOPEN: AttachmentStage.REPORT}


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """An uploaded file as the API received it."""

    file_name: str | None
    data: bytes


_classifier_cache: dict[tuple[str, int], tuple[tuple[Any, ...], Classifier]] = {}


async def project_classifier(session: AsyncSession, project_id: int, threshold: float) -> Classifier:
    """The shipped classifier plus what this project's dispatchers taught it by correcting tickets.

    Relearning happens only when a correction was added since the last call (per process)."""
    marker_row = (
        await session.execute(
            select(func.count(ClassifierCorrection.id), func.max(ClassifierCorrection.id)).where(
                ClassifierCorrection.project_id == project_id
            )
        )
    ).one()
    key = (str(session.get_bind().url), project_id)
    marker = tuple(marker_row)
    cached = _classifier_cache.get(key)
    if cached is not None and cached[0] == marker:
        classifier = cached[1]
    else:
        rows = await session.execute(
            select(
                ClassifierCorrection.description, ClassifierCorrection.corrected_category, ClassifierCorrection.priority
            )
            .where(ClassifierCorrection.project_id == project_id)
            .order_by(ClassifierCorrection.id)
        )
        examples = [
            TrainingExample(text, category.value, priority.value if priority is not None else None)
            for text, category, priority in rows
        ]
        classifier = load_default_classifier().with_corrections(examples) if examples else load_default_classifier()
        _classifier_cache[key] = (marker, classifier)
    return classifier.with_threshold(threshold)


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != ticket.version:
        raise Conflict(
            f"The ticket has changed (version {ticket.version}, you had {expected_version}); reload it and try again.",
            field="expectedVersion",
        )


def _refused(refusal: TransitionRefused) -> NoReturn:
    message = refusal.message[0].upper() + refusal.message[1:] + "."
    if refusal.reason is RefusalReason.NOT_ALLOWED_IN_STATE:
        raise Conflict(message, field="action")
    raise AccessDenied(message)


def _decide(ticket: Ticket, action: TicketAction | DispatchAction, actor: Actor, action_input: ActionInput) -> Any:
    try:
        return decide(facts_of(ticket), action, actor, action_input)
    except TransitionRefused as refusal:
        _refused(refusal)
    except InvalidActionInput as error:
        raise BadInput(
            f"{error.message[0].upper()}{error.message[1:]}.", field=_INPUT_FIELDS.get(error.field, error.field)
        ) from None


def _text(value: str | None, field: str, max_length: int) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > max_length:
        raise BadInput(f"{field} must be at most {max_length} characters.", field=field)
    return cleaned or None


def _attach(
    session: AsyncSession,
    media: MediaStore | None,
    ticket: Ticket,
    files: Sequence[IncomingFile],
    *,
    stage: AttachmentStage,
    uploaded_by: int,
    now: dt.datetime,
) -> int:
    """Check every file first, so a bad one stores nothing, then store them all."""
    if not files:
        return 0
    if media is None:
        raise BadInput("This server does not take uploads.", field="photos")
    if len(files) > MAX_FILES_PER_REQUEST:
        raise BadInput(f"Send at most {MAX_FILES_PER_REQUEST} photos or videos at once.", field="photos")
    for index, incoming in enumerate(files):
        try:
            media.check(incoming.data)
        except RejectedMedia as error:
            raise BadInput(f"File {index + 1}: {error}.", field=f"photos.{index}") from None
    for incoming in files:
        stored = media.save(incoming.data, incoming.file_name)
        session.add(
            TicketAttachment(
                ticket_id=ticket.id,
                uploaded_by_user_id=uploaded_by,
                stage=stage,
                content_hash=stored.content_hash,
                mime_type=stored.mime_type,
                size_bytes=stored.size_bytes,
                file_name=stored.file_name,
                storage_path=stored.storage_path,
                created_at=now,
            )
        )
    return len(files)


async def _place(
    session: AsyncSession,
    principal: Principal,
    *,
    unit_id: int | None,
    project_id: int | None,
    location_kind: LocationKind | None,
    building_id: int | None,
) -> tuple[int, int | None, LocationKind]:
    """(project, building, location kind) of a report, if the caller may see the place."""
    if unit_id is not None:
        unit = await session.get(Unit, unit_id)
        if unit is None or not may_see_unit(principal, project_id=unit.project_id, unit_id=unit.id):
            raise NotFound("No such unit.", field="unitId")
        if project_id is not None and project_id != unit.project_id:
            raise BadInput("The unit is not in that project.", field="projectId")
        if location_kind not in (None, LocationKind.UNIT):
            raise BadInput(
                "A fault in a unit has the location UNIT; leave out the unit for a common area.", field="locationKind"
            )
        return unit.project_id, unit.building_id, LocationKind.UNIT
    if location_kind in (None, LocationKind.UNIT):
        raise BadInput("Name the unit, or choose a common area such as LOBBY or LIFT.", field="unitId")
    if project_id is None:
        raise BadInput("A common-area report needs the project.", field="projectId")
    if project_id not in principal.project_ids or await session.get(Project, project_id) is None:
        raise NotFound("No such project.", field="projectId")
    if building_id is not None:
        building = await session.get(Building, building_id)
        if building is None or building.project_id != project_id:
            raise NotFound("No such building in this project.", field="buildingId")
    assert location_kind is not None
    return project_id, building_id, location_kind


async def submit_ticket(
    session: AsyncSession,
    principal: Principal,
    journal: TicketJournal,
    media: MediaStore | None,
    *,
    now: dt.datetime,
    description: str,
    unit_id: int | None = None,
    project_id: int | None = None,
    location_kind: LocationKind | None = None,
    building_id: int | None = None,
    location_detail: str | None = None,
    category: Category | None = None,
    priority: Priority | None = None,
    reporter_party_id: int | None = None,
    photos: Sequence[IncomingFile] = (),
) -> Ticket:
    """Report a fault. Owners report for units they occupy and for their project's common areas;
    dispatchers and admins may report on anyone's behalf. The classifier fills in the category and
    priority the reporter left out; when it is unsure the ticket waits in TRIAGE for a dispatcher,
    otherwise it is NEW and, if the project auto-dispatches, handed to a technician at once."""
    project, building, kind = await _place(
        session, principal, unit_id=unit_id, project_id=project_id, location_kind=location_kind, building_id=building_id
    )
    actor_role: ActorRole
    if principal.has_role(project, Role.ADMIN, Role.DISPATCHER):
        actor_role = ActorRole.ADMIN if principal.has_role(project, Role.ADMIN) else ActorRole.DISPATCHER
        reporter = reporter_party_id
        if reporter is not None:
            party = await session.get(Party, reporter)
            if party is None or party.project_id != project:
                raise NotFound("No such party in this project.", field="reporterPartyId")
    elif principal.has_role(project, Role.OWNER):
        actor_role = ActorRole.OWNER
        if unit_id is not None and unit_id not in principal.unit_ids:
            raise AccessDenied("Owners may report faults only for units they occupy.")
        if reporter_party_id is not None and reporter_party_id != principal.party_id:
            raise BadInput("Only dispatchers report faults on someone else's behalf.", field="reporterPartyId")
        reporter = principal.party_id
    else:
        raise AccessDenied("Only owners, dispatchers and admins report faults.")

    text = _text(description, "description", DESCRIPTION_MAX_LENGTH)
    if text is None:
        raise BadInput("Describe the fault.", field="description")
    detail = _text(location_detail, "locationDetail", 200)
    settings = await project_settings(session, project)
    verdict = (await project_classifier(session, project, settings.triage_threshold)).classify(text)
    chosen_category = Category(category) if category is not None else Category(verdict.category.value)
    chosen_priority = Priority(priority) if priority is not None else Priority(verdict.urgency.value)
    unsure = category is None and verdict.confidence < settings.triage_threshold
    status = TicketStatus.TRIAGE if unsure else TicketStatus.NEW
    promises = deadlines(now, chosen_priority, settings.sla_policy)
    ticket = Ticket(
        project_id=project,
        location_kind=kind,
        unit_id=unit_id,
        building_id=building,
        location_detail=detail,
        reporter_party_id=reporter,
        filed_by_user_id=principal.user_id,
        description=text,
        category=chosen_category,
        priority=chosen_priority,
        classifier_category=Category(verdict.category.value),
        classifier_confidence=round(verdict.confidence, 4),
        classifier_evidence=list(verdict.evidence),
        status=status,
        created_at=now,
        updated_at=now,
        sla_started_at=now,
        respond_due_at=promises.respond,
        on_site_due_at=promises.on_site,
        resolve_due_at=promises.resolve,
        version=1,
    )
    session.add(ticket)
    await session.flush()
    attached = _attach(
        session, media, ticket, photos, stage=AttachmentStage.REPORT, uploaded_by=principal.user_id, now=now
    )
    journal.record(
        ticket,
        TicketEventType.SUBMITTED,
        actor_role=actor_role,
        actor_user_id=principal.user_id,
        at=now,
        payload={
            "status": status.value,
            "category": chosen_category.value,
            "priority": chosen_priority.value,
            "classifier": {
                "category": verdict.category.value,
                "confidence": round(verdict.confidence, 4),
                "urgency": verdict.urgency.value,
                "evidence": list(verdict.evidence),
            },
            "attachments": attached or None,
        },
    )
    if status is TicketStatus.NEW and settings.auto_dispatch:
        await dispatch_ticket(session, journal, ticket, now=now)
    return ticket


async def transition_ticket(
    session: AsyncSession,
    principal: Principal,
    journal: TicketJournal,
    media: MediaStore | None,
    *,
    now: dt.datetime,
    ticket_id: int,
    action: TicketAction,
    expected_version: int | None = None,
    note: str | None = None,
    rating: int | None = None,
    comment: str | None = None,
    location: GeoPoint | None = None,
    photos: Sequence[IncomingFile] = (),
) -> Ticket:
    """Take a `TicketAction`. A stale `expected_version` is a CONFLICT and changes nothing; an action the
    ticket's status rules out is a CONFLICT, one the caller's role rules out is FORBIDDEN, both naming
    the actions the caller could take instead."""
    ticket = await get_ticket_for(session, principal, ticket_id, lock=True)
    _check_version(ticket, expected_version)
    actor = actor_for(principal, ticket)
    transition = _decide(ticket, action, actor, ActionInput(note=note, rating=rating, location=location))
    if comment is not None and action is not TicketAction.CONFIRM:
        raise BadInput("Only CONFIRM takes a comment (on the work, with the rating).", field="comment")
    if photos and action not in _PHOTO_STAGES:
        raise BadInput("Photos come with the report, RESOLVE or REOPEN.", field="photos")
    cleaned_comment = _text(comment, "comment", COMMENT_MAX_LENGTH)
    attached = _attach(
        session,
        media,
        ticket,
        photos,
        stage=_PHOTO_STAGES.get(action, AttachmentStage.REPORT),
        uploaded_by=principal.user_id,
        now=now,
    )
    apply_transition(
        ticket,
        transition,
        actor,
        journal,
        now=now,
        payload={"comment": cleaned_comment, "attachments": attached or None},
    )
    if action is TicketAction.CONFIRM:
        ticket.rating_comment = cleaned_comment
        project = await session.get(Project, ticket.project_id)
        assert project is not None
        await record_ticket_maintenance(
            session, ticket, recorded_by_user_id=principal.user_id, today=local_today(project.timezone, now)
        )
    if action is TicketAction.CHECK_IN and location is not None and ticket.assignee_id is not None:
        technician = await session.get(Technician, ticket.assignee_id)
        if technician is not None:
            technician.current_latitude, technician.current_longitude = location.latitude, location.longitude
    if transition.needs_dispatch and (await project_settings(session, ticket.project_id)).auto_dispatch:
        await dispatch_ticket(session, journal, ticket, now=now)
    return ticket


def _staff_actor(principal: Principal, ticket: Ticket) -> Actor:
    actor = actor_for(principal, ticket)
    if actor.role not in _STAFF_ACTORS:
        raise AccessDenied("Only dispatchers and admins may do this.")
    return actor


async def assign_ticket(
    session: AsyncSession,
    principal: Principal,
    journal: TicketJournal,
    *,
    now: dt.datetime,
    ticket_id: int,
    technician_id: int,
    expected_version: int | None = None,
) -> Ticket:
    """A dispatcher's choice, which overrides the solver (and its skill, shift and capacity checks)."""
    ticket = await get_ticket_for(session, principal, ticket_id, lock=True)
    _check_version(ticket, expected_version)
    actor = actor_for(principal, ticket)
    await technician_in_project(session, technician_id, ticket.project_id, field="technicianId")
    transition = _decide(ticket, DispatchAction.ASSIGN, actor, ActionInput(technician_id=technician_id))
    apply_transition(ticket, transition, actor, journal, now=now, payload={"mode": "manual"})
    return ticket


async def categorize_ticket(
    session: AsyncSession,
    principal: Principal,
    journal: TicketJournal,
    *,
    now: dt.datetime,
    ticket_id: int,
    category: Category,
    priority: Priority | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """A dispatcher's verdict on a ticket's category (and priority). On a TRIAGE ticket it completes
    triage and the ticket joins the queue; on any other it corrects the category. Either way the
    ticket's text becomes a training example for the project's classifier."""
    ticket = await get_ticket_for(session, principal, ticket_id, lock=True)
    _check_version(ticket, expected_version)
    actor = _staff_actor(principal, ticket)
    category = Category(category)
    new_priority = Priority(priority) if priority is not None else None
    if new_priority is not None and new_priority != ticket.priority and ticket.status in TERMINAL_STATUSES:
        raise BadInput("The priority of a closed or cancelled ticket no longer matters.", field="priority")
    settings = await project_settings(session, ticket.project_id)
    previous_category, previous_priority = Category(ticket.category), Priority(ticket.priority)
    triage = ticket.status is TicketStatus.TRIAGE
    if not triage and category == previous_category and new_priority in (None, previous_priority):
        raise BadInput("The ticket already has this category and priority.", field="category")
    ticket.category = category
    if new_priority is not None:
        ticket.priority = new_priority
    if triage:
        transition = _decide(ticket, DispatchAction.TRIAGE_COMPLETE, actor, ActionInput(category=category))
        apply_transition(
            ticket, transition, actor, journal, now=now, payload={"priority": Priority(ticket.priority).value}
        )
    else:
        if category != previous_category:
            journal.record(
                ticket,
                TicketEventType.CATEGORY_CHANGED,
                actor_role=actor.role,
                actor_user_id=actor.user_id,
                at=now,
                payload={"from": previous_category.value, "to": category.value},
                technician_ids=(ticket.assignee_id,),
            )
        if new_priority is not None and new_priority != previous_priority:
            journal.record(
                ticket,
                TicketEventType.PRIORITY_CHANGED,
                actor_role=actor.role,
                actor_user_id=actor.user_id,
                at=now,
                payload={"from": previous_priority.value, "to": new_priority.value},
                technician_ids=(ticket.assignee_id,),
            )
    session.add(
        ClassifierCorrection(
            project_id=ticket.project_id,
            ticket_id=ticket.id,
            description=ticket.description,
            predicted_category=ticket.classifier_category,
            corrected_category=category,
            priority=Priority(ticket.priority),
            corrected_by_user_id=principal.user_id,
            created_at=now,
        )
    )
    if triage and settings.auto_dispatch:
        await dispatch_ticket(session, journal, ticket, now=now)
    return ticket


async def optimize_dispatch(
    session: AsyncSession,
    principal: Principal,
    journal: TicketJournal,
    *,
    now: dt.datetime,
    project_id: int,
    apply: bool,
) -> OptimizationOutcome:
    """Re-plan every unaccepted ticket of the project; `apply=False` only shows the plan."""
    await get_project_for(session, principal, project_id, Role.ADMIN, Role.DISPATCHER)
    role = ActorRole.ADMIN if principal.has_role(project_id, Role.ADMIN) else ActorRole.DISPATCHER
    return await optimize_project(
        session, journal, project_id=project_id, actor=Actor(role, principal.user_id), now=now, apply=apply
    )


async def update_dispatch_settings(
    session: AsyncSession,
    principal: Principal,
    *,
    project_id: int,
    auto_dispatch: bool | None = None,
    triage_threshold: float | None = None,
    warning_percent: int | None = None,
    sla_minutes: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[Project, DispatchSettings]:
    """Project admins change auto-dispatch, the triage threshold and the SLA promises."""
    project = await get_project_for(session, principal, project_id, Role.ADMIN)
    document = settings_document(dispatch_settings(project.settings))
    if auto_dispatch is not None:
        document["auto_dispatch"] = auto_dispatch
    if triage_threshold is not None:
        document["triage_threshold"] = triage_threshold
    if warning_percent is not None:
        document["warning_percent"] = warning_percent
    for priority, targets in (sla_minutes or {}).items():
        document["sla_minutes"].setdefault(priority, {}).update(targets)
    try:
        settings = dispatch_settings({"dispatch": document})
    except InvalidDispatchSettings as error:
        field = {
            "auto_dispatch": "autoDispatch",
            "triage_threshold": "triageThreshold",
            "warning_percent": "warningPercent",
        }
        raise BadInput(f"{error.message[0].upper()}{error.message[1:]}.", field=field.get(error.field, "sla")) from None
    project.settings = {**(project.settings or {}), "dispatch": settings_document(settings)}
    await session.flush()
    return project, settings
