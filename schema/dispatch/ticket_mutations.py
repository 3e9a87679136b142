"""Ticket mutations: thin calls into `dispatch.tickets`, one transaction each, events published after commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from strawberry.file_uploads import Upload

from dispatch import tickets as service
from dispatch.attachments import MAX_FILES_PER_REQUEST, MAX_UPLOAD_BYTES
from dispatch.journal import TicketJournal, publish_after_commit
from dispatch.model import GeoPoint
from dispatch.ticket_state import finish_changes
from kernel.errors import BadInput, Conflict
from kernel.principal import Role
from schema.context import Info
from schema.dispatch.enums import LocationKindEnum, PriorityEnum, TicketActionEnum
from schema.dispatch.ticket_types import (
    DispatchPlanType,
    DispatchSettingsType,
    TicketType,
)
from schema.errors import (
    BadUserInputError,
    ConflictError,
    Error,
    NotFoundError,
    error_result,
    run_in_transaction,
)
from schema.ids import decode_id, decode_optional_id
from schema.permissions import IsAuthenticated, require_principal, requires_role
from schema.scalars import CategoryEnum

__all__ = ["TicketMutations", "run_ticket_mutation"]

Row = TypeVar("Row")
Payload = TypeVar("Payload")

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
OptimizeDispatchResult = Annotated[
    DispatchPlanType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("OptimizeDispatchResult")
]
UpdateDispatchSettingsResult = Annotated[
    DispatchSettingsType | BadUserInputError | NotFoundError, strawberry.union("UpdateDispatchSettingsResult")
]

STAFF = [IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER)]


async def run_ticket_mutation(
    info: Info,
    work: Callable[[AsyncSession, TicketJournal], Awaitable[Row]],
    present: Callable[[Row], Payload],
) -> Payload | Error:
    """`run_in_transaction` for ticket changes: settle the touched tickets and write their events in the same
    transaction, then, only after it committed, publish the events (a publish failure is logged, never
    returned). A concurrent change to the same ticket answers CONFLICT."""
    journal = TicketJournal()
    now = info.context.now()

    async def unit_of_work(session: AsyncSession) -> Row:
        row = await work(session, journal)
        try:
            await finish_changes(session, journal, now=now)
            await session.flush()
        except StaleDataError:
            raise Conflict("Someone changed the ticket at the same moment; reload it and try again.") from None
        return row

    outcome = await run_in_transaction(info, unit_of_work, lambda row: row)
    if isinstance(outcome, Error):
        return outcome
    await publish_after_commit(info.context.services.publisher, journal.notices)
    return present(outcome)


async def _read_files(uploads: list[Upload] | None) -> list[service.IncomingFile]:
    """The uploaded files, refusing more than a request may carry before reading any of them."""
    if not uploads:
        return []
    if len(uploads) > MAX_FILES_PER_REQUEST:
        raise BadInput(f"Send at most {MAX_FILES_PER_REQUEST} photos or videos at once.", field="photos")
    files = []
    for upload in uploads:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)  # type: ignore[attr-defined]
        files.append(service.IncomingFile(getattr(upload, "filename", None), data))
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


@strawberry.input
class SlaTargetsInput:
    priority: PriorityEnum
    respond_minutes: int | None = None
    on_site_minutes: int | None = None
    resolve_minutes: int | None = None


@strawberry.input
class UpdateDispatchSettingsInput:
    project_id: strawberry.ID
    auto_dispatch: bool | None = None
    triage_threshold: float | None = None
    warning_percent: int | None = None
    sla: list[SlaTargetsInput] | None = None


def _minutes(targets: SlaTargetsInput) -> dict[str, int]:
    given = {"respond": targets.respond_minutes, "on_site": targets.on_site_minutes, "resolve": targets.resolve_minutes}
    return {key: value for key, value in given.items() if value is not None}


@strawberry.type
class TicketMutations:
    @strawberry.mutation(
        permission_classes=[IsAuthenticated, requires_role(Role.OWNER, Role.ADMIN, Role.DISPATCHER)],
        description="Report a fault in a unit you occupy or a common area of your project (multipart for photos).",
    )
    async def submit_ticket(self, info: Info, input: SubmitTicketInput) -> SubmitTicketResult:
        principal = await require_principal(info)
        try:
            photos = await _read_files(input.photos)
        except BadInput as error:
            return error_result(error)

        def work(session: AsyncSession, journal: TicketJournal) -> Awaitable[Any]:
            return service.submit_ticket(
                session,
                principal,
                journal,
                info.context.services.media_store,
                now=info.context.now(),
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

        return await run_ticket_mutation(info, work, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated],
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
        extra = details or TransitionDetailsInput()
        try:
            photos = await _read_files(extra.photos)
        except BadInput as error:
            return error_result(error)
        location = GeoPoint(extra.location.latitude, extra.location.longitude) if extra.location else None

        def work(session: AsyncSession, journal: TicketJournal) -> Awaitable[Any]:
            return service.transition_ticket(
                session,
                principal,
                journal,
                info.context.services.media_store,
                now=info.context.now(),
                ticket_id=decode_id(ticket_id, "Ticket", field="ticketId"),
                action=action,
                expected_version=expected_version,
                note=note,
                rating=extra.rating,
                comment=extra.comment,
                location=location,
                photos=photos,
            )

        return await run_ticket_mutation(info, work, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=STAFF, description="A dispatcher's choice of technician, overriding the solver."
    )
    async def assign_ticket(
        self, info: Info, ticket_id: strawberry.ID, technician_id: strawberry.ID, expected_version: int | None = None
    ) -> AssignTicketResult:
        principal = await require_principal(info)

        def work(session: AsyncSession, journal: TicketJournal) -> Awaitable[Any]:
            return service.assign_ticket(
                session,
                principal,
                journal,
                now=info.context.now(),
                ticket_id=decode_id(ticket_id, "Ticket", field="ticketId"),
                technician_id=decode_id(technician_id, "Technician", field="technicianId"),
                expected_version=expected_version,
            )

        return await run_ticket_mutation(info, work, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=STAFF,
        description="Complete triage, or correct a ticket's category and priority; the classifier learns from it.",
    )
    async def categorize_ticket(self, info: Info, input: CategorizeTicketInput) -> CategorizeTicketResult:
        principal = await require_principal(info)

        def work(session: AsyncSession, journal: TicketJournal) -> Awaitable[Any]:
            return service.categorize_ticket(
                session,
                principal,
                journal,
                now=info.context.now(),
                ticket_id=decode_id(input.ticket_id, "Ticket", field="ticketId"),
                category=input.category,
                priority=input.priority,
                expected_version=input.expected_version,
            )

        return await run_ticket_mutation(info, work, TicketType.from_row)

    @strawberry.mutation(
        permission_classes=STAFF,
        description="Re-plan every ticket nobody has accepted yet; with apply: false only show the plan.",
    )
    async def optimize_dispatch(
        self, info: Info, project_id: strawberry.ID, apply: bool = True
    ) -> OptimizeDispatchResult:
        principal = await require_principal(info)

        def work(session: AsyncSession, journal: TicketJournal) -> Awaitable[Any]:
            return service.optimize_dispatch(
                session,
                principal,
                journal,
                now=info.context.now(),
                project_id=decode_id(project_id, "Project", field="projectId"),
                apply=apply,
            )

        return await run_ticket_mutation(info, work, DispatchPlanType.from_outcome)

    @strawberry.mutation(
        permission_classes=[IsAuthenticated, requires_role(Role.ADMIN)],
        description="Auto-dispatch on or off, the classifier's triage threshold, and the SLA promises per priority.",
    )
    async def update_dispatch_settings(
        self, info: Info, input: UpdateDispatchSettingsInput
    ) -> UpdateDispatchSettingsResult:
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda session: service.update_dispatch_settings(
                session,
                principal,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                auto_dispatch=input.auto_dispatch,
                triage_threshold=input.triage_threshold,
                warning_percent=input.warning_percent,
                sla_minutes={targets.priority.value: _minutes(targets) for targets in input.sla or []},
            ),
            lambda result: DispatchSettingsType.from_settings(result[1]),
        )
