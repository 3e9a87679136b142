"""Mutations of day routes: a dispatcher pins a visit to a technician and a start time."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from dispatch.day_routes import Pin, pin_visit
from schema.context import Info
from schema.dispatch.permissions import DISPATCHERS
from schema.dispatch.routes.types import VisitPinType
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
