"""Mutations of day routes: a dispatcher pins a visit to a technician and a start time, and sets
technicians' working hours; owners (and dispatchers for them) say when they are home for a visit."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from db.models import Technician, Ticket
from dispatch.availability import set_owner_availability
from dispatch.day_routes import Pin, pin_visit
from dispatch.days_off import clear_technician_day_off, set_technician_day_off
from dispatch.shifts import clear_technician_shift, set_technician_shift
from dispatch.working_hours import BreakHours
from kernel.vocabulary import AbsenceReason
from schema.context import Info
from schema.dispatch.enums import AbsenceReasonEnum
from schema.dispatch.permissions import AVAILABILITY_SETTERS, DISPATCHERS
from schema.dispatch.routes.types import VisitPinType
from schema.dispatch.technicians.types import TechnicianType
from schema.dispatch.tickets.types import TicketType
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id
from schema.permissions import require_principal
from schema.use_cases import run_mutation

__all__ = ["RouteMutations"]

PinVisitResult = Annotated[
    VisitPinType | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union(
        "PinVisitResult",
        description=(
            "What `pinVisit` answers: the VisitPin now; BadUserInputError (a technician without the skill, a start "
            "in the past); NotFoundError (a ticket or technician you do not dispatch); ConflictError (a ticket "
            "with no visit left)."
        ),
    ),
]

SetTechnicianShiftResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError,
    strawberry.union(
        "SetTechnicianShiftResult",
        description=(
            "What `setTechnicianShift` answers: the Technician with its shifts; BadUserInputError (`field` names the "
            "input at fault: a shift that ends before it starts, a break outside the shift or overlapping another, a "
            "date that has passed, neither or both of weekday and date); NotFoundError (a technician you do not "
            "dispatch). A failure writes nothing."
        ),
    ),
]
ClearTechnicianShiftResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError,
    strawberry.union(
        "ClearTechnicianShiftResult",
        description=(
            "What `clearTechnicianShift` answers: the Technician with its shifts; BadUserInputError (neither or both "
            "of weekday and date); NotFoundError (a technician you do not dispatch, or no hours stored that day)."
        ),
    ),
]
SetTechnicianDayOffResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError,
    strawberry.union(
        "SetTechnicianDayOffResult",
        description=(
            "What `setTechnicianDayOff` answers: the Technician with its daysOff; BadUserInputError (a date that has "
            "passed, a note over 200 characters); NotFoundError (a technician you do not dispatch). A failure writes "
            "nothing."
        ),
    ),
]
ClearTechnicianDayOffResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError,
    strawberry.union(
        "ClearTechnicianDayOffResult",
        description=(
            "What `clearTechnicianDayOff` answers: the Technician with its daysOff; BadUserInputError (an ID that is "
            "not a technician's); NotFoundError (a technician you do not dispatch, or no day off on that date)."
        ),
    ),
]
SetOwnerAvailabilityResult = Annotated[
    TicketType | BadUserInputError | NotFoundError | ConflictError,
    strawberry.union(
        "SetOwnerAvailabilityResult",
        description=(
            "What `setOwnerAvailability` answers: the Ticket with its ownerAvailability; BadUserInputError (a window "
            "that ends before it starts, is over, lasts more than 14 days, or gives one end only); NotFoundError (a "
            "ticket that is not yours); ConflictError (a ticket with no visit to come). A failure writes nothing."
        ),
    ),
]


def _minute(moment: dt.time) -> int:
    return moment.hour * 60 + moment.minute


@strawberry.input(description="A break inside a shift: it starts between two times and lasts some minutes.")
class ShiftBreakInput:
    earliest_start: dt.time = strawberry.field(description="The break starts at this time or later.")
    latest_start: dt.time = strawberry.field(description="The break starts at this time at the latest.")
    minutes: int = strawberry.field(description="How long it lasts, 1 to 180 minutes.")


@strawberry.input(
    description=(
        "A technician's working hours on a weekday (every week) or one date (overriding its weekday), in the "
        "project's time zone: give weekday or onDate, not both."
    )
)
class SetTechnicianShiftInput:
    technician_id: strawberry.ID = strawberry.field(description="The technician.")
    weekday: int | None = strawberry.field(default=None, description="1 (Monday) to 7 (Sunday).")
    on_date: dt.date | None = strawberry.field(default=None, description="A date from today on.")
    starts_at: dt.time = strawberry.field(description="When the shift starts.")
    ends_at: dt.time = strawberry.field(
        description="When the shift ends: after it starts the same day, or on the next day with endsNextDay."
    )
    ends_next_day: bool = strawberry.field(
        default=False,
        description=(
            "A night shift (22:00–06:00): endsAt, and any break time before startsAt, are on the next day's clock. "
            "A shift lasts at most 24 hours."
        ),
    )
    breaks: list[ShiftBreakInput] = strawberry.field(
        default_factory=list, description="Up to 4 breaks, each inside the shift."
    )


@strawberry.input(
    description="A date a technician is off (leave, sick), overriding their hours for the shift starting that date."
)
class SetTechnicianDayOffInput:
    technician_id: strawberry.ID = strawberry.field(description="The technician.")
    on_date: dt.date = strawberry.field(description="A date from today on, in the project's time zone.")
    reason: AbsenceReasonEnum = strawberry.field(description="Why.")  # type: ignore[valid-type]
    note: str | None = strawberry.field(default=None, description="Up to 200 characters for the dispatchers.")


@strawberry.type
class RouteMutations:
    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Pin a ticket's visit to a technician (and a start time) in the day's routes; "
        "without a technician, remove the pin.",
    )
    async def pin_visit(
        self,
        info: Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket.")],
        technician_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The technician; null removes the pin.")
        ] = None,
        starts_at: Annotated[
            dt.datetime | None, strawberry.argument(description="When the visit is to start; null: any time.")
        ] = None,
    ) -> PinVisitResult:
        principal = await require_principal(info)

        async def pin() -> Pin:
            return await pin_visit(
                info.context.session_factory,
                principal,
                ticket_id=decode_id(ticket_id, "Ticket", field="ticketId"),
                technician_id=(
                    decode_id(technician_id, "Technician", field="technicianId") if technician_id is not None else None
                ),
                starts_at=starts_at,
                now=info.context.now(),
            )

        return await run_mutation(pin, VisitPinType.from_pin)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Set a technician's working hours and breaks for a weekday or one date.",
    )
    async def set_technician_shift(
        self,
        info: Info,
        input: Annotated[SetTechnicianShiftInput, strawberry.argument(description="The day and its hours.")],
    ) -> SetTechnicianShiftResult:
        principal = await require_principal(info)

        async def set_shift() -> Technician:
            return await set_technician_shift(
                info.context.session_factory,
                principal,
                technician_id=decode_id(input.technician_id, "Technician", field="technicianId"),
                weekday=input.weekday,
                on_date=input.on_date,
                starts=_minute(input.starts_at),
                ends=_minute(input.ends_at),
                breaks=[
                    BreakHours(_minute(item.earliest_start), _minute(item.latest_start), item.minutes)
                    for item in input.breaks
                ],
                ends_next_day=input.ends_next_day,
                now=info.context.now(),
            )

        return await run_mutation(set_shift, TechnicianType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Remove a technician's hours for a weekday or one date.",
    )
    async def clear_technician_shift(
        self,
        info: Info,
        technician_id: Annotated[strawberry.ID, strawberry.argument(description="The technician.")],
        weekday: Annotated[int | None, strawberry.argument(description="1 (Monday) to 7 (Sunday).")] = None,
        on_date: Annotated[dt.date | None, strawberry.argument(description="A date.")] = None,
    ) -> ClearTechnicianShiftResult:
        principal = await require_principal(info)

        async def clear() -> Technician:
            return await clear_technician_shift(
                info.context.session_factory,
                principal,
                technician_id=decode_id(technician_id, "Technician", field="technicianId"),
                weekday=weekday,
                on_date=on_date,
            )

        return await run_mutation(clear, TechnicianType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Mark a technician off on one date (leave, sick): no route and no assignment "
        "for the shift that starts that date.",
    )
    async def set_technician_day_off(
        self,
        info: Info,
        input: Annotated[SetTechnicianDayOffInput, strawberry.argument(description="The date and why.")],
    ) -> SetTechnicianDayOffResult:
        principal = await require_principal(info)

        async def set_day_off() -> Technician:
            return await set_technician_day_off(
                info.context.session_factory,
                principal,
                technician_id=decode_id(input.technician_id, "Technician", field="technicianId"),
                on_date=input.on_date,
                reason=AbsenceReason(input.reason),
                note=input.note,
                now=info.context.now(),
            )

        return await run_mutation(set_day_off, TechnicianType.from_row)

    @strawberry.mutation(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Take back a technician's day off: they work that date as their hours say.",
    )
    async def clear_technician_day_off(
        self,
        info: Info,
        technician_id: Annotated[strawberry.ID, strawberry.argument(description="The technician.")],
        on_date: Annotated[dt.date, strawberry.argument(description="The date.")],
    ) -> ClearTechnicianDayOffResult:
        principal = await require_principal(info)

        async def clear() -> Technician:
            return await clear_technician_day_off(
                info.context.session_factory,
                principal,
                technician_id=decode_id(technician_id, "Technician", field="technicianId"),
                on_date=on_date,
            )

        return await run_mutation(clear, TechnicianType.from_row)

    @strawberry.mutation(
        permission_classes=AVAILABILITY_SETTERS,
        description=(
            "OWNER, DISPATCHER, ADMIN: Say when the owner is home for a ticket's visit (owners for their own tickets); "
            "without times, remove the window."
        ),
    )
    async def set_owner_availability(
        self,
        info: Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket.")],
        available_from: Annotated[dt.datetime | None, strawberry.argument(description="From.")] = None,
        available_until: Annotated[dt.datetime | None, strawberry.argument(description="Until.")] = None,
    ) -> SetOwnerAvailabilityResult:
        principal = await require_principal(info)

        async def set_window() -> Ticket:
            return await set_owner_availability(
                info.context.session_factory,
                principal,
                ticket_id=decode_id(ticket_id, "Ticket", field="ticketId"),
                available_from=available_from,
                available_until=available_until,
                now=info.context.now(),
            )

        return await run_mutation(set_window, TicketType.from_row)
