"""Subscriptions of the dispatch domain: a ticket, a project's board, a technician's assignments, live.

Authorization happens when subscribing, from the `connection_init` token: a refusal is an error
message and no events. Each message is one `TicketEvent` whose `ticket` is the ticket as the
subscriber may see it (null once they may not, e.g. a technician the ticket was taken from).
`afterSeq` first replays the logged events after that seq, then continues live, without gap or
duplicate; a client that reconnects passes the last seq it saw. A token that expires ends the
subscription with an UNAUTHENTICATED error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import strawberry
from graphql import GraphQLError

from dispatch import policy
from dispatch.live import Follow, LiveFeed
from dispatch.queries import get_own_technician, get_ticket_to_follow
from kernel.errors import NotFound
from kernel.principal import Principal
from schema.context import Info
from schema.dispatch.tickets.types import TicketEventType
from schema.errors import forbidden, unauthenticated
from schema.ids import decode_id
from schema.live import Audience, live_stream

__all__ = ["DispatchSubscriptions"]

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


@strawberry.type
class DispatchSubscriptions:
    @strawberry.subscription(
        description="Everything that happens to one ticket, live: for its reporting owner, occupants of its "
        "unit, and the project's staff."
    )
    async def ticket_updates(
        self,
        info: Info,
        ticket_id: Annotated[strawberry.ID, strawberry.argument(description="The ticket to follow.")],
        after_seq: AfterSeq = None,
    ) -> AsyncIterator[TicketEventType]:
        principal = await _subscriber(info)
        if not policy.follows_tickets(principal):
            raise forbidden("Only owners and staff follow a ticket; technicians follow myAssignments.")
        pk = _decode(ticket_id, "Ticket", "ticketId")
        try:
            ticket = await get_ticket_to_follow(info.context.session_factory, principal, ticket_id=pk)
        except NotFound as error:
            raise _not_found(str(error)) from None
        project = ticket.project_id
        audience = Audience.of(principal, project)
        return live_stream(info, _feed(info), Follow.ticket(project, pk), after_seq=after_seq, audience=audience)

    @strawberry.subscription(
        description="Every ticket event of one project, live: the dispatcher board (dispatchers and admins)."
    )
    async def dispatch_board(
        self,
        info: Info,
        project_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The project whose board to follow."),
        ],
        after_seq: AfterSeq = None,
    ) -> AsyncIterator[TicketEventType]:
        principal = await _subscriber(info)
        if not policy.dispatches(principal):
            raise forbidden("Only dispatchers and admins may watch the dispatch board.")
        project = _decode(project_id, "Project", "projectId")
        if not policy.dispatches_in(principal, project):
            raise _not_found("No such project.")
        audience = Audience.of(principal, project)
        return live_stream(info, _feed(info), Follow.board(project), after_seq=after_seq, audience=audience)

    @strawberry.subscription(
        description="A technician's own news, live: tickets assigned to them, tickets taken away from them, "
        "and owners confirming, reopening or cancelling their tickets."
    )
    async def my_assignments(
        self,
        info: Info,
        after_seq: AfterSeq = None,
    ) -> AsyncIterator[TicketEventType]:
        principal = await _subscriber(info)
        if not policy.follows_assignments(principal):
            raise forbidden("Only technicians have assignments to follow.")
        technician = await get_own_technician(info.context.session_factory, principal)
        if technician is None:
            raise forbidden("Only technicians have assignments to follow.")
        technician_id = technician.id
        return live_stream(
            info,
            _feed(info),
            Follow.technician(technician.project_id, technician_id),
            after_seq=after_seq,
            audience=Audience.personal(principal),
            accept=lambda live: policy.hears_about(technician_id, live.event),
        )
