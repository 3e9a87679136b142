"""Ticket use cases: report a fault, move a ticket through its lifecycle, assign it, categorise it.

Each is one async function that owns its unit of work (`dispatch.unit_of_work.ticket_unit_of_work`):
it asks the policy per object first (someone else's ticket answers NOT_FOUND; a visible ticket the
caller may not act on answers FORBIDDEN with the actions they could take), then validates, changes rows
and records events; the unit of work settles the tickets, commits, and publishes the events after the
commit. Each `…_in` twin is the same use case inside a unit of work its caller holds (`ticket_changes`):
the demo seeder, which writes a whole community in one transaction, plays its tickets through them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
from dispatch.attachments import MAX_FILES_PER_REQUEST, MediaStore, RejectedMedia, StoredMedia
from dispatch.availability import record_availability_in
from dispatch.classifier import Classifier, TrainingExample, load_default_classifier
from dispatch.dispatching import dispatch_ticket
from dispatch.equipment import local_today, record_ticket_maintenance
from dispatch.events import Publisher
from dispatch.intake import file_ticket
from dispatch.lifecycle import (
    TERMINAL_STATUSES,
    ActionInput,
    Actor,
    InvalidActionInput,
    RefusalReason,
    TransitionRefused,
    decide,
)
from dispatch.model import AssignmentMode, DispatchAction, GeoPoint, TicketAction
from dispatch.policy import actor_for, may_report_for_unit, reporter_role, staff_actor
from dispatch.shifts import working_days
from dispatch.ticket_state import (
    apply_transition,
    facts_of,
    get_ticket_for,
    project_settings,
    technician_in_project,
)
from dispatch.speech import SpeechRecogniser
from dispatch.unit_of_work import TicketChanges, ticket_unit_of_work
from dispatch.voice import HeardVoice, RejectedAudio, hear_voice
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.validation import optional_text
from kernel.vocabulary import (
    ActorRole,
    Category,
    Priority,
    TicketEventType,
    TicketStatus,
)
from register.policy import may_see_unit

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "ActionRequest",
    "FaultReport",
    "IncomingFile",
    "assign_ticket",
    "assign_ticket_in",
    "categorize_ticket",
    "categorize_ticket_in",
    "project_classifier",
    "submit_ticket",
    "submit_ticket_in",
    "transition_ticket",
    "transition_ticket_in",
]

DESCRIPTION_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 2000
LOCATION_DETAIL_MAX_LENGTH = 200
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


@dataclass(frozen=True, slots=True)
class FaultReport:
    """What a reporter says: the fault, where it is (a unit, or a common area of a project), and
    optionally its category and priority (left out, the classifier decides) and photos. Dispatchers
    filing a phone report name the `reporter_party_id`."""

    description: str | None
    unit_id: int | None = None
    project_id: int | None = None
    location_kind: LocationKind | None = None
    building_id: int | None = None
    location_detail: str | None = None
    category: Category | None = None
    priority: Priority | None = None
    reporter_party_id: int | None = None
    photos: Sequence[IncomingFile] = ()
    available_from: dt.datetime | None = None  # when the owner is home for the visit (both, or neither)
    available_until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """A `TicketAction` asked of a ticket, with what some actions take: a note, CONFIRM's rating and
    comment, CHECK_IN's location, RESOLVE's or REOPEN's photos."""

    ticket_id: int
    action: TicketAction
    expected_version: int | None = None
    note: str | None = None
    rating: int | None = None
    comment: str | None = None
    location: GeoPoint | None = None
    photos: Sequence[IncomingFile] = ()


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


def _checked_media(media: MediaStore | None, files: Sequence[IncomingFile]) -> MediaStore | None:
    """The store to keep `files` in, once every one of them has passed (so a bad one stores nothing)."""
    if not files:
        return media
    if media is None:
        raise BadInput("This server does not take uploads.", field="photos")
    if len(files) > MAX_FILES_PER_REQUEST:
        raise BadInput(f"Send at most {MAX_FILES_PER_REQUEST} photos or videos at once.", field="photos")
    for index, incoming in enumerate(files):
        try:
            media.check(incoming.data)
        except RejectedMedia as error:
            raise BadInput(f"File {index + 1}: {error}.", field=f"photos.{index}") from None
    return media


def _store(
    session: AsyncSession,
    media: MediaStore | None,
    ticket: Ticket,
    files: Sequence[IncomingFile],
    *,
    stage: AttachmentStage,
    uploaded_by: int,
    now: dt.datetime,
) -> None:
    """Keep the files `_checked_media` passed and attach them to the ticket."""
    if not files:
        return
    assert media is not None, "_checked_media refuses files when there is no store"
    for incoming in files:
        _attach(session, ticket, media.save(incoming.data, incoming.file_name), stage, uploaded_by, now)


def _attach(
    session: AsyncSession, ticket: Ticket, stored: StoredMedia, stage: AttachmentStage, uploaded_by: int, now: dt.datetime
) -> None:
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


async def _place(
    session: AsyncSession, principal: Principal, report: FaultReport
) -> tuple[int, int | None, LocationKind]:
    """(project, building, location kind) of a report, if the caller may see the place."""
    unit_id, project_id, location_kind = report.unit_id, report.project_id, report.location_kind
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
    if report.building_id is not None:
        building = await session.get(Building, report.building_id)
        if building is None or building.project_id != project_id:
            raise NotFound("No such building in this project.", field="buildingId")
    assert location_kind is not None
    return project_id, report.building_id, location_kind


async def _reporter(session: AsyncSession, principal: Principal, project: int, report: FaultReport) -> Actor:
    """The capacity in which the caller reports, checked against whom they report for; the reporting
    party is then `report.reporter_party_id` (staff) or the caller's own (owners)."""
    role = reporter_role(principal, project)
    if role is None:
        raise AccessDenied("Only owners, dispatchers and admins report faults.")
    if role is ActorRole.OWNER:
        if report.unit_id is not None and not may_report_for_unit(principal, report.unit_id):
            raise AccessDenied("Owners may report faults only for units they occupy.")
        if report.reporter_party_id is not None and report.reporter_party_id != principal.party_id:
            raise BadInput("Only dispatchers report faults on someone else's behalf.", field="reporterPartyId")
    elif report.reporter_party_id is not None:
        party = await session.get(Party, report.reporter_party_id)
        if party is None or party.project_id != project:
            raise NotFound("No such party in this project.", field="reporterPartyId")
    return Actor(role, principal.user_id)


async def submit_ticket(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    report: FaultReport,
    media: MediaStore | None = None,
    publisher: Publisher | None = None,
    voice: IncomingFile | None = None,
    speech: SpeechRecogniser | None = None,
) -> Ticket:
    """Report a fault. Owners report for units they occupy and for their project's common areas;
    dispatchers and admins may report on anyone's behalf. The classifier fills in the category and
    priority the reporter left out; when it is unsure the ticket waits in TRIAGE for a dispatcher,
    otherwise it is NEW and, if the project auto-dispatches, handed to a technician at once.

    A voice recording may come instead of (or beside) the description: it is converted and transcribed
    by `speech` before the transaction (a recogniser is a remote call), kept on the ticket, and when it
    could not be transcribed with confidence the ticket waits in TRIAGE with the audio: never lost."""
    heard = await _hear(voice, media, speech) if voice is not None else None
    async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
        return await submit_ticket_in(changes, principal, now=now, report=report, media=media, heard=heard)


async def _hear(voice: IncomingFile, media: MediaStore | None, speech: SpeechRecogniser | None) -> HeardVoice:
    if media is None:
        raise BadInput("This server does not take uploads.", field="voice")
    try:
        return await hear_voice(voice.data, voice.file_name, speech)
    except RejectedAudio as refusal:
        raise BadInput(f"The recording is refused: {refusal}.", field="voice") from None


# What a dispatcher reads on a voice report, marking which words a machine heard.
_TRANSCRIBED = "【语音转写】"
_NOT_TRANSCRIBED = "【语音报修】未能自动转写，请收听录音。"


def _description(typed: str | None, heard: HeardVoice | None) -> str:
    if heard is None:
        assert typed is not None, "a report without a recording needs its description"
        return typed
    parts = [typed] if typed else []
    parts.append(_TRANSCRIBED + heard.transcript if heard.understood else _NOT_TRANSCRIBED)
    return "\n".join(parts)[:DESCRIPTION_MAX_LENGTH]


def _classified_text(typed: str | None, heard: HeardVoice | None) -> str:
    """What the classifier reads: the reporter's words and what was heard with confidence, no markers."""
    words = [typed] if typed else []
    if heard is not None and heard.understood:
        words.append(heard.transcript)
    return "\n".join(words)


async def submit_ticket_in(
    changes: TicketChanges,
    principal: Principal,
    *,
    now: dt.datetime,
    report: FaultReport,
    media: MediaStore | None = None,
    heard: HeardVoice | None = None,
) -> Ticket:
    """`submit_ticket` in the caller's unit of work (`heard`: its recording, converted and transcribed)."""
    session = changes.session
    project, building, kind = await _place(session, principal, report)
    reporter = await _reporter(session, principal, project, report)
    typed = optional_text(report.description, "description", max_length=DESCRIPTION_MAX_LENGTH)
    if typed is None and heard is None:
        raise BadInput("Describe the fault, or send a voice recording.", field="description")
    detail = optional_text(report.location_detail, "locationDetail", max_length=LOCATION_DETAIL_MAX_LENGTH)
    store = _checked_media(media, report.photos)
    settings = await project_settings(session, project)
    verdict = (await project_classifier(session, project, settings.triage_threshold)).classify(
        _classified_text(typed, heard)
    )
    not_heard = heard is not None and not heard.understood and typed is None
    # The classifier carries the project's threshold, and also sends to triage what it reads as
    # contested however sure its scores are (a shock from a fridge, smoke from a barbecue).
    unsure = report.category is None and (not_heard or verdict.needs_triage)
    confidence = round(verdict.confidence, 4)
    ticket = await file_ticket(
        changes,
        Ticket(
            project_id=project,
            location_kind=kind,
            unit_id=report.unit_id,
            building_id=building,
            location_detail=detail,
            reporter_party_id=(principal.party_id if reporter.role is ActorRole.OWNER else report.reporter_party_id),
            filed_by_user_id=principal.user_id,
            description=_description(typed, heard),
            category=Category(report.category if report.category is not None else verdict.category),
            priority=Priority(report.priority if report.priority is not None else verdict.urgency),
            classifier_category=Category(verdict.category),
            classifier_confidence=confidence,
            classifier_evidence=list(verdict.evidence),
            classifier_priority=Priority(verdict.urgency),
            classifier_priority_evidence=list(verdict.urgency_evidence),
            status=TicketStatus.TRIAGE if unsure else TicketStatus.NEW,
        ),
        actor=reporter,
        settings=settings,
        now=now,
        details={
            "classifier": {
                "category": verdict.category.value,
                "confidence": confidence,
                "urgency": verdict.urgency.value,
                "evidence": list(verdict.evidence),
                "urgencyEvidence": list(verdict.urgency_evidence),
            },
            "attachments": (len(report.photos) + (heard is not None)) or None,
            "voice": _voice_details(heard),
        },
    )
    _store(session, store, ticket, report.photos, stage=AttachmentStage.REPORT, uploaded_by=principal.user_id, now=now)
    await record_availability_in(
        session, ticket, report.available_from, report.available_until, set_by_user_id=principal.user_id, now=now
    )
    if heard is not None:
        assert media is not None, "_hear refuses a recording when there is no store"
        _store_recording(session, media, ticket, heard, uploaded_by=principal.user_id, now=now)
    return ticket


def _voice_details(heard: HeardVoice | None) -> dict[str, Any] | None:
    if heard is None:
        return None
    return {
        "seconds": heard.prepared.seconds,
        "format": heard.prepared.source_type,
        "recogniser": heard.recogniser,
        "confidence": round(heard.confidence, 4),
        "transcribed": heard.understood,
    }


def _store_recording(
    session: AsyncSession, media: MediaStore, ticket: Ticket, heard: HeardVoice, *, uploaded_by: int, now: dt.datetime
) -> None:
    """Keep the recording as sent and, when browsers cannot play its format (AMR), the WAV the recogniser
    heard, so a dispatcher can listen to it on the board."""
    recordings = [media.save_recording(heard.recording, heard.prepared.source_type, heard.file_name)]
    if heard.prepared.source_type == "audio/amr":
        stem = Path(heard.file_name or "voice").stem
        recordings.append(media.save_recording(heard.prepared.recogniser_wav, "audio/wav", f"{stem}.wav"))
    for stored in recordings:
        _attach(session, ticket, stored, AttachmentStage.REPORT, uploaded_by, now)


async def transition_ticket(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    request: ActionRequest,
    media: MediaStore | None = None,
    publisher: Publisher | None = None,
) -> Ticket:
    """Take a `TicketAction`. A stale `expected_version` is a CONFLICT and changes nothing; an action the
    ticket's status rules out is a CONFLICT, one the caller's role rules out is FORBIDDEN, both naming
    the actions the caller could take instead."""
    async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
        return await transition_ticket_in(changes, principal, now=now, request=request, media=media)


async def transition_ticket_in(
    changes: TicketChanges,
    principal: Principal,
    *,
    now: dt.datetime,
    request: ActionRequest,
    media: MediaStore | None = None,
) -> Ticket:
    """`transition_ticket` in the caller's unit of work."""
    session, action = changes.session, request.action
    ticket = await get_ticket_for(session, principal, request.ticket_id, lock=True)
    _check_version(ticket, request.expected_version)
    actor = actor_for(principal, ticket)
    transition = _decide(
        ticket, action, actor, ActionInput(note=request.note, rating=request.rating, location=request.location)
    )
    if request.comment is not None and action is not TicketAction.CONFIRM:
        raise BadInput("Only CONFIRM takes a comment (on the work, with the rating).", field="comment")
    if request.photos and action not in _PHOTO_STAGES:
        raise BadInput("Photos come with the report, RESOLVE or REOPEN.", field="photos")
    comment = optional_text(request.comment, "comment", max_length=COMMENT_MAX_LENGTH)
    store = _checked_media(media, request.photos)
    _store(
        session,
        store,
        ticket,
        request.photos,
        stage=_PHOTO_STAGES.get(action, AttachmentStage.REPORT),
        uploaded_by=principal.user_id,
        now=now,
    )
    apply_transition(
        ticket,
        transition,
        actor,
        changes.journal,
        now=now,
        payload={"comment": comment, "attachments": len(request.photos) or None},
    )
    if action is TicketAction.CONFIRM:
        ticket.rating_comment = comment
        project = await session.get(Project, ticket.project_id)
        assert project is not None
        await record_ticket_maintenance(
            session, ticket, recorded_by_user_id=principal.user_id, today=local_today(project.timezone, now)
        )
    location = request.location
    if action is TicketAction.CHECK_IN and location is not None and ticket.assignee_id is not None:
        technician = await session.get(Technician, ticket.assignee_id)
        if technician is not None:
            technician.current_latitude, technician.current_longitude = location.latitude, location.longitude
    if transition.needs_dispatch and (await project_settings(session, ticket.project_id)).auto_dispatch:
        await dispatch_ticket(session, changes.journal, ticket, now=now)
    return ticket


async def assign_ticket(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    ticket_id: int,
    technician_id: int,
    expected_version: int | None = None,
    override_day_off: bool = False,
    publisher: Publisher | None = None,
) -> Ticket:
    """A dispatcher's choice, which overrides the solver (and its skill, shift and capacity checks), but
    not a technician's day off unless it says so (``override_day_off``: someone on leave called in)."""
    async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
        return await assign_ticket_in(
            changes,
            principal,
            now=now,
            ticket_id=ticket_id,
            technician_id=technician_id,
            version=expected_version,
            override_day_off=override_day_off,
        )


async def assign_ticket_in(
    changes: TicketChanges,
    principal: Principal,
    *,
    now: dt.datetime,
    ticket_id: int,
    technician_id: int,
    version: int | None,
    override_day_off: bool = False,
) -> Ticket:
    """`assign_ticket` in the caller's unit of work (`version`: the expected one, if any)."""
    ticket = await get_ticket_for(changes.session, principal, ticket_id, lock=True)
    _check_version(ticket, version)
    actor = actor_for(principal, ticket)
    technician = await technician_in_project(changes.session, technician_id, ticket.project_id, field="technicianId")
    transition = _decide(ticket, DispatchAction.ASSIGN, actor, ActionInput(technician_id=technician_id))
    payload: dict[str, object] = {"mode": AssignmentMode.MANUAL.value}
    day_off = await _day_off_now(changes.session, technician, now)
    if day_off is not None:
        if not override_day_off:
            raise BadInput(
                f"The technician is off on {day_off.isoformat()}; send overrideDayOff: true to assign anyway.",
                field="technicianId",
            )
        # Who called someone in on their day off stays in the ticket's history.
        payload["dayOffOverridden"] = day_off.isoformat()
    apply_transition(ticket, transition, actor, changes.journal, now=now, payload=payload)
    return ticket


async def _day_off_now(session: AsyncSession, technician: Technician, now: dt.datetime) -> dt.date | None:
    """The date of the day off the technician is on now, by the rule the solver and the day's routes keep
    (a night shift that started the evening before is still that day's); None when they are not off."""
    project = await session.get(Project, technician.project_id)
    assert project is not None  # a technician's project is kept (ON DELETE RESTRICT)
    working = (await working_days(session, [technician.id], now.astimezone(ZoneInfo(project.timezone))))[technician.id]
    return working.day if working.day_off else None


async def categorize_ticket(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    ticket_id: int,
    category: Category,
    priority: Priority | None = None,
    expected_version: int | None = None,
    publisher: Publisher | None = None,
) -> Ticket:
    """A dispatcher's verdict on a ticket's category (and priority). On a TRIAGE ticket it completes
    triage and the ticket joins the queue; on any other it corrects the category. Either way the
    ticket's text becomes a training example for the project's classifier."""
    async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
        return await categorize_ticket_in(
            changes,
            principal,
            now=now,
            ticket_id=ticket_id,
            category=category,
            priority=priority,
            version=expected_version,
        )


async def categorize_ticket_in(
    changes: TicketChanges,
    principal: Principal,
    *,
    now: dt.datetime,
    ticket_id: int,
    category: Category,
    priority: Priority | None,
    version: int | None,
) -> Ticket:
    """`categorize_ticket` in the caller's unit of work (`version`: the expected one, if any)."""
    session, journal = changes.session, changes.journal
    ticket = await get_ticket_for(session, principal, ticket_id, lock=True)
    _check_version(ticket, version)
    actor = staff_actor(principal, ticket)
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
