"""Ticket mutations: thin calls into `dispatch.tickets`, each of which owns its unit of work."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from db.models import Ticket
from dispatch import tickets
from dispatch.attachments import MAX_FILES_PER_REQUEST, MAX_UPLOAD_BYTES
from dispatch.model import GeoPoint
from dispatch.voice import MAX_VOICE_BYTES
from kernel.errors import BadInput
from schema.context import Info
from schema.dispatch.enums import LocationKindEnum, PriorityEnum, TicketActionEnum
from schema.dispatch.permissions import DISPATCHERS, REPORTERS, TICKET_ACTORS
from schema.dispatch.tickets.types import TicketType
from schema.errors import BadUserInputError, ConflictError, InArrearsError, NotFoundError
from schema.ids import decode_id, decode_optional_id
from schema.permissions import require_principal
from schema.scalars import CategoryEnum
from schema.use_cases import run_mutation

__all__ = ["TicketMutations"]

SubmitTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError | InArrearsError, strawberry.union(
        "SubmitTicketResult",
        description=(
            "What `submitTicket` answers: the Ticket as it is now; BadUserInputError (`field` names the input at "
            "fault) (an empty description, a unit you do not occupy, a bad photo); NotFoundError (a ticket, unit, "
            "technician or project that does not exist or is not yours to see); ConflictError (a duplicate upload or "
            "concurrent change); InArrearsError (a non-urgent repair in a unit whose owner's overdue arrears are above "
            "the project's threshold, with the amount and how to pay). A failure writes nothing."
        ),
    )
]
TransitionTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union(
        "TransitionTicketResult",
        description=(
            "What `transitionTicket` answers: the Ticket as it is now; BadUserInputError (`field` names the input at "
            "fault) (a missing reason, rating or location, details the action does not take); NotFoundError (a ticket, "
            "unit, technician or project that does not exist or is not yours to see); ConflictError (a stale "
            "expectedVersion, or an action the ticket's status does not allow; the message lists what you may do). A "
            "failure writes nothing."
        ),
    )
]
AssignTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union(
        "AssignTicketResult",
        description=(
            "What `assignTicket` answers: the Ticket as it is now; BadUserInputError (`field` names the input at "
            "fault) (a technician without the skill or off shift, or on a day off without overrideDayOff); NotFoundError (a ticket, unit, technician or "
            "project that does not exist or is not yours to see); ConflictError (a stale expectedVersion, or a ticket "
            "in a status that cannot be assigned). A failure writes nothing."
        ),
    )
]
CategorizeTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union(
        "CategorizeTicketResult",
        description=(
            "What `categorizeTicket` answers: the Ticket as it is now; BadUserInputError (`field` names the input at "
            "fault) (nothing changes, a closed ticket's priority); NotFoundError (a ticket, unit, technician or "
            "project that does not exist or is not yours to see); ConflictError (a stale expectedVersion). A failure "
            "writes nothing."
        ),
    )
]


async def _read_files(uploads: list[Upload] | None) -> list[tickets.IncomingFile]:
    """The uploaded files, refusing more than a request may carry before reading any of them."""
    if not uploads:
        return []
    if len(uploads) > MAX_FILES_PER_REQUEST:
        raise BadInput(f"Send at most {MAX_FILES_PER_REQUEST} photos or videos at once.", field="photos")
    files = []
    for upload in uploads:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)  # type: ignore[attr-defined]
        files.append(tickets.IncomingFile(getattr(upload, "filename", None), data))
    return files


async def _read_voice(upload: Upload | None) -> tickets.IncomingFile | None:
    if upload is None:
        return None
    data = await upload.read(MAX_VOICE_BYTES + 1)  # type: ignore[attr-defined]
    return tickets.IncomingFile(getattr(upload, "filename", None), data)


@strawberry.input(description="A fault report: a description or a voice recording, and either the reporter's unit or a common area.")
class SubmitTicketInput:
    description: str | None = strawberry.field(
        default=None,
        description="What is wrong, in the reporter's words (the classifier reads it); may be left out when `voice` is sent.",
    )
    unit_id: strawberry.ID | None = strawberry.field(
        default=None, description="The unit at fault; leave out for a common area."
    )
    project_id: strawberry.ID | None = strawberry.field(default=None, description="Required for a common area.")
    location_kind: LocationKindEnum | None = strawberry.field(
        default=None, description="Which common area (required with projectId)."
    )
    building_id: strawberry.ID | None = strawberry.field(
        default=None, description="The building of a common-area fault, if any."
    )
    location_detail: str | None = strawberry.field(default=None, description="e.g. 'lift 2', 'B2 level near exit C'.")
    category: CategoryEnum | None = strawberry.field(default=None, description="Left out: the classifier decides.")
    priority: PriorityEnum | None = strawberry.field(default=None, description="Left out: the classifier's urgency.")
    reporter_party_id: strawberry.ID | None = strawberry.field(
        default=None, description="Dispatchers filing on someone's behalf (a phone report)."
    )
    photos: list[Upload] | None = strawberry.field(
        default=None, description="JPEG, PNG, WebP photos or MP4/QuickTime videos."
    )
    voice: Upload | None = strawberry.field(
        default=None,
        description=(
            "A voice report (语音报修, multipart upload): AMR, M4A/AAC, MP3 or WAV, at most 180 s. It is kept on the "
            "ticket and transcribed into the description; when it cannot be transcribed with confidence the ticket "
            "waits in TRIAGE with the recording."
        ),
    )
    available_from: dt.datetime | None = strawberry.field(
        default=None, description="When the owner is home for the visit from (give both ends, or neither)."
    )
    available_until: dt.datetime | None = strawberry.field(
        default=None, description="When the owner is home for the visit until: the visit is planned to start and end inside the window."
    )


@strawberry.input(description="A position, WGS-84 degrees.")
class GeoPointInput:
    latitude: float = strawberry.field(description="Latitude, −90 to 90.")
    longitude: float = strawberry.field(description="Longitude, −180 to 180.")


@strawberry.input(
    description="What comes with some actions: CONFIRM a rating (and comment), CHECK_IN a location, RESOLVE or REOPEN photos."
)
class TransitionDetailsInput:
    rating: int | None = strawberry.field(default=None, description="CONFIRM: 1 to 5 stars (required).")
    comment: str | None = strawberry.field(default=None, description="CONFIRM: the owner's comment on the work.")
    location: GeoPointInput | None = strawberry.field(
        default=None, description="CHECK_IN: where the technician is (required)."
    )
    photos: list[Upload] | None = strawberry.field(
        default=None, description="RESOLVE or REOPEN: photos or videos (multipart upload), at most six."
    )


@strawberry.input(description="A dispatcher's category (and priority) for a ticket.")
class CategorizeTicketInput:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    category: CategoryEnum = strawberry.field(description="The right category (completes triage of a TRIAGE ticket).")
    priority: PriorityEnum | None = strawberry.field(
        default=None, description="A new priority; left out: unchanged. The SLA deadlines follow it."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="The ticket's `version` as you read it; refused with CONFLICT if it changed since."
    )


@strawberry.type
class TicketMutations:
    @strawberry.mutation(
        permission_classes=REPORTERS,
        description="OWNER, DISPATCHER, ADMIN: Report a fault in a unit you occupy or a common area of your project (multipart for photos).",
    )
    async def submit_ticket(
        self,
        info: Info,
        input: Annotated[SubmitTicketInput, strawberry.argument(description="The report.")],
    ) -> SubmitTicketResult:
        principal = await require_principal(info)
        services = info.context.services

        async def submit() -> Ticket:
            photos = await _read_files(input.photos)
            report = tickets.FaultReport(
                description=input.description,
                unit_id=decode_optional_id(input.unit_id, "Unit", field="unitId"),
                project_id=decode_optional_id(input.project_id, "Project", field="projectId"),
                location_kind=input.location_kind,
                building_id=decode_optional_id(input.building_id, "Building", field="buildingId"),
                location_detail=input.location_detail,
                category=input.category,
                priority=input.priority,
                reporter_party_id=decode_optional_id(input.reporter_party_id, "Party", field="reporterPartyId"),
                photos=photos,
                available_from=input.available_from,
                available_until=input.available_until,
            )
            return await tickets.submit_ticket(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                report=report,
                media=services.media_store,
                publisher=services.publisher,
                voice=await _read_voice(input.voice),
                speech=services.speech,
            )

        return await run_mutation(submit, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=TICKET_ACTORS,
        description=(
            "OWNER, TECHNICIAN, DISPATCHER, ADMIN: Move a ticket through its lifecycle. A stale expectedVersion, or an action the ticket's status "
            "rules out, answers CONFLICT; an action your role rules out is a FORBIDDEN error. Both name the "
            "actions you could take."
        ),
    )
    async def transition_ticket(
        self,
        info: Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket.")],
        action: Annotated[
            TicketActionEnum,
            strawberry.argument(description="What to do; the ticket's allowedActions lists what you may."),
        ],
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="The ticket's `version` as you read it; refused with CONFLICT if it changed since."
            ),
        ] = None,
        note: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "Free text, up to 2,000 characters: required as the reason of REJECT and the work notes of "
                    "RESOLVE."
                ),
            ),
        ] = None,
        details: Annotated[
            TransitionDetailsInput | None,
            strawberry.argument(description="What some actions need: CONFIRM rating, CHECK_IN location, photos."),
        ] = None,
    ) -> TransitionTicketResult:
        principal = await require_principal(info)
        services = info.context.services
        extra = details or TransitionDetailsInput()

        async def transition() -> Ticket:
            photos = await _read_files(extra.photos)
            request = tickets.ActionRequest(
                ticket_id=decode_id(ticket_id, "Ticket", field="ticketId"),
                action=action,
                expected_version=expected_version,
                note=note,
                rating=extra.rating,
                comment=extra.comment,
                location=GeoPoint(extra.location.latitude, extra.location.longitude) if extra.location else None,
                photos=photos,
            )
            return await tickets.transition_ticket(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                request=request,
                media=services.media_store,
                publisher=services.publisher,
            )

        return await run_mutation(transition, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS, description="DISPATCHER, ADMIN: A dispatcher's choice of technician, overriding the solver."
    )
    async def assign_ticket(
        self,
        info: Info,
        ticket_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The ticket (waiting, or assigned or accepted to someone else)."),
        ],
        technician_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The technician, of the ticket's project."),
        ],
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="The ticket's `version` as you read it; refused with CONFLICT if it changed since."
            ),
        ] = None,
        override_day_off: Annotated[
            bool,
            strawberry.argument(
                description=(
                    "Assign even though the technician is off today (leave, sick): someone called in. Without it "
                    "a technician on a day off is refused with BAD_USER_INPUT on `technicianId`."
                )
            ),
        ] = False,
    ) -> AssignTicketResult:
        principal = await require_principal(info)

        async def assign() -> Ticket:
            return await tickets.assign_ticket(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                ticket_id=decode_id(ticket_id, "Ticket", field="ticketId"),
                technician_id=decode_id(technician_id, "Technician", field="technicianId"),
                expected_version=expected_version,
                override_day_off=override_day_off,
                publisher=info.context.services.publisher,
            )

        return await run_mutation(assign, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Complete triage, or correct a ticket's category and priority; the classifier learns from it.",
    )
    async def categorize_ticket(
        self,
        info: Info,
        input: Annotated[
            CategorizeTicketInput,
            strawberry.argument(description="The ticket and its category and priority."),
        ],
    ) -> CategorizeTicketResult:
        principal = await require_principal(info)

        async def categorize() -> Ticket:
            return await tickets.categorize_ticket(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                ticket_id=decode_id(input.ticket_id, "Ticket", field="ticketId"),
                category=input.category,
                priority=input.priority,
                expected_version=input.expected_version,
                publisher=info.context.services.publisher,
            )

        return await run_mutation(categorize, TicketType.from_row)
