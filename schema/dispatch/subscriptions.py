"""Subscriptions of the dispatch domain: a ticket, a project's board, a technician's assignments, live.

Authorization happens when subscribing, from the `connection_init` token: a refusal is an error
message and no events. Each message is one `TicketEvent` whose `ticket` is the ticket as the
subscriber may see it (null once they may not, e.g. a technician the ticket was taken from).
`afterSeq` first replays the logged events after that seq, then continues live, without gap or
duplicate; a client that reconnects passes the last seq it saw. A token that expires ends the
subscription with an UNAUTHENTICATED error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Final

import strawberry
from graphql import GraphQLError

from db.models import Technician, Ticket
from dispatch.live import Follow, LiveEvent, LiveFeed
from dispatch.ticket_state import can_see_ticket
from kernel.errors import NotFound
from kernel.principal import Principal, Role
from kernel.vocabulary import ActorRole, TicketEventType
from schema.context import Info
from schema.dispatch.ticket_types import TicketEventType as TicketEventGraphQLType
from schema.errors import forbidden, unauthenticated
from schema.ids import decode_id
from schema.live import Audience, live_stream

__all__ = ["DispatchSubscriptions"]


_BOARD_ROLES: Final = (Role.ADMIN, Role.DISPATCHER)
_ASSIGNMENT_EVENTS: Final = frozenset({TicketEventType.ASSIGNED, TicketEventType.REASSIGNED})

AfterSeq = Annotated[
    int | None,
    strawberry.argument(
        description="Replay the logged events after this seq first (the last seq you saw), then continue "
        "live; omit it to receive only what happens from now on."
    ),
]


def _not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "NOT_FOUND"})


async def _subscriber(info: Info) -> Principal:
    principal = await info.context.principal()
    if principal is None:
        raise unauthenticated()
    return principal


def _decode(value: strawberry.ID, type_name: str, field: str) -> int:
    try:
        return decode_id(value, type_name, field=field)
    except NotFound as error:
        raise _not_found(str(error)) from None


def _feed(info: Info) -> LiveFeed:
    feed = info.context.services.live_feed
    if feed is None:
        raise GraphQLError("Live updates are not available.", extensions={"code": "INTERNAL_SERVER_ERROR"})
    return feed


def _may_follow_ticket(principal: Principal, ticket: Ticket) -> bool:
    """The ticket's reporting owner or an occupant of its unit, and the project's staff."""
    return can_see_ticket(principal, ticket) and (
        principal.is_staff_of(ticket.project_id) or principal.has_role(ticket.project_id, Role.OWNER)
    )


def _assignment_news(technician_id: int) -> Callable[[LiveEvent], bool]:
    """What a technician hears: new assignments, tickets taken from them, and owners acting on theirs."""

    def accept(event: LiveEvent) -> bool:
        payload = event.event.payload or {}
        holds = payload.get("technician") == technician_id
        if holds and event.event.type in _ASSIGNMENT_EVENTS:
            return True
        if payload.get("releasedTechnician") == technician_id:
            return True
        return holds and event.event.actor_role is ActorRole.OWNER

    return accept


@strawberry.type
class DispatchSubscriptions:
    @strawberry.subscription(
        description="Everything that happens to one ticket, live: for its reporting owner, occupants of its "
        "unit, and the project's staff."
    )
    async def ticket_updates(
        self,
        info: Info,
        ticket_id: strawberry.ID,
        after_seq: AfterSeq = None,
    ) -> AsyncIterator[TicketEventGraphQLType]:
        principal = await _subscriber(info)
        pk = _decode(ticket_id, "Ticket", "ticketId")
        async with info.context.session_factory() as session:
            ticket = await session.get(Ticket, pk)
        if ticket is None or not _may_follow_ticket(principal, ticket):
            raise _not_found("No such ticket.")
        project = ticket.project_id
        audience = (
            Audience.staff(principal, project) if principal.is_staff_of(project) else Audience.personal(principal)
        )
        return live_stream(info, _feed(info), Follow.ticket(project, pk), after_seq=after_seq, audience=audience)

    @strawberry.subscription(
        description="Every ticket event of one project, live: the dispatcher board (dispatchers and admins)."
    )
    async def dispatch_board(
        self,
        info: Info,
        project_id: strawberry.ID,
        after_seq: AfterSeq = None,
    ) -> AsyncIterator[TicketEventGraphQLType]:
        principal = await _subscriber(info)
        if not principal.holds_any(_BOARD_ROLES):
            raise forbidden("Only dispatchers and admins may watch the dispatch board.")
        project = _decode(project_id, "Project", "projectId")
        if not principal.has_role(project, *_BOARD_ROLES):
            raise _not_found("No such project.")
        audience = Audience.staff(principal, project)
        return live_stream(info, _feed(info), Follow.board(project), after_seq=after_seq, audience=audience)

    @strawberry.subscription(
        description="A technician's own news, live: tickets assigned to them, tickets taken away from them, "
        "and owners confirming, reopening or cancelling their tickets."
    )
    async def my_assignments(
        self,
        info: Info,
        after_seq: AfterSeq = None,
    ) -> AsyncIterator[TicketEventGraphQLType]:
        principal = await _subscriber(info)
        if principal.technician_id is None or not principal.holds_any([Role.TECHNICIAN]):
            raise forbidden("Only technicians have assignments to follow.")
        async with info.context.session_factory() as session:
            technician = await session.get(Technician, principal.technician_id)
        if technician is None or not principal.has_role(technician.project_id, Role.TECHNICIAN):
            raise forbidden("Only technicians have assignments to follow.")
        return live_stream(
            info,
            _feed(info),
            Follow.technician(technician.project_id, technician.id),
            after_seq=after_seq,
            audience=Audience.personal(principal),
            accept=_assignment_news(technician.id),
        )
