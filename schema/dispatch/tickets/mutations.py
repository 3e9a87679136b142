"""Ticket mutations: thin calls into `dispatch.tickets`, each of which owns its unit of work."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from db.models import Ticket
from dispatch import tickets
from dispatch.attachments import MAX_FILES_PER_REQUEST, MAX_UPLOAD_BYTES
from dispatch.model import GeoPoint
from kernel.errors import BadInput
from schema.context import Info
from schema.dispatch.enums import LocationKindEnum, PriorityEnum, TicketActionEnum
from schema.dispatch.permissions import DISPATCHERS, REPORTERS, TICKET_ACTORS
from schema.dispatch.tickets.types import TicketType
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id, decode_optional_id
from schema.permissions import require_principal
from schema.scalars import CategoryEnum
from schema.use_cases import run_mutation

__all__ = ["TicketMutations"]

SubmitTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("SubmitTicketResult")
]
TransitionTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("TransitionTicketResult")
]
AssignTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("AssignTicketResult")
]
CategorizeTicketResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("CategorizeTicketResult")
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


@strawberry.input
class SubmitTicketInput:
    description: str
    unit_id: strawberry.ID | None = strawberry.field(
        default=None, description="The unit at fault; leave out for a common area."
    )
    project_id: strawberry.ID | None = strawberry.field(default=None, description="Required for a common area.")
    location_kind: LocationKindEnum | None = None
    building_id: strawberry.ID | None = None
    location_detail: str | None = strawberry.field(default=None, description="e.g. 'lift 2', 'B2 level near exit C'.")
    category: CategoryEnum | None = strawberry.field(default=None, description="Left out: the classifier decides.")
    priority: PriorityEnum | None = strawberry.field(default=None, description="Left out: the classifier's urgency.")
    reporter_party_id: strawberry.ID | None = strawberry.field(
        default=None, description="Dispatchers filing on someone's behalf (a phone report)."
    )
    photos: list[Upload] | None = strawberry.field(
        default=None, description="JPEG, PNG, WebP photos or MP4/QuickTime videos."
    )


@strawberry.input
class GeoPointInput:
    latitude: float
    longitude: float


@strawberry.input(
    description="What comes with some actions: CONFIRM a rating (and comment), CHECK_IN a location, RESOLVE or REOPEN photos."
)
class TransitionDetailsInput:
    rating: int | None = None
    comment: str | None = None
    location: GeoPointInput | None = None
    photos: list[Upload] | None = None


@strawberry.input
class CategorizeTicketInput:
    ticket_id: strawberry.ID
    category: CategoryEnum
    priority: PriorityEnum | None = None
    expected_version: int | None = None


@strawberry.type
class TicketMutations:
    @strawberry.mutation(
        permission_classes=REPORTERS,
        description="Report a fault in a unit you occupy or a common area of your project (multipart for photos).",
    )
    async def submit_ticket(self, info: Info, input: SubmitTicketInput) -> SubmitTicketResult:
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
            )
            return await tickets.submit_ticket(
                info.context.session_factory,
                principal,
                now=info.context.now(),
                report=report,
                media=services.media_store,
                publisher=services.publisher,
            )

        return await run_mutation(submit, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=TICKET_ACTORS,
        description=(
            "Move a ticket through its lifecycle. A stale expectedVersion, or an action the ticket's status "
            "rules out, answers CONFLICT; an action your role rules out is a FORBIDDEN error. Both name the "
            "actions you could take."
        ),
    )
    async def transition_ticket(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        action: TicketActionEnum,
        expected_version: int | None = None,
        note: str | None = None,
        details: TransitionDetailsInput | None = None,
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
        permission_classes=DISPATCHERS, description="A dispatcher's choice of technician, overriding the solver."
    )
    async def assign_ticket(
        self, info: Info, ticket_id: strawberry.ID, technician_id: strawberry.ID, expected_version: int | None = None
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
                publisher=info.context.services.publisher,
            )

        return await run_mutation(assign, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="Complete triage, or correct a ticket's category and priority; the classifier learns from it.",
    )
    async def categorize_ticket(self, info: Info, input: CategorizeTicketInput) -> CategorizeTicketResult:
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
