"""Read-side use cases of dispatch: the ticket list with its filters, the roster, the equipment ledger,
technicians' loads, a ticket's attachment; each limited to what the caller may see (`dispatch.policy`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.batch_reads import dialect_of, plain_reader
from db.driver import DriverStatement, connection_for_reads
from db.models import Equipment, Technician, Ticket, TicketAttachment, TicketKind, Unit
from db.conditions import among_parameter, given_values
from db.pages import KeysetPage, parametrized_keyset_page
from dispatch.model import SlaState
from dispatch.policy import (
    follows_assignments_in,
    may_follow_ticket,
    may_see_equipment,
    may_see_ticket,
    ticket_viewer,
    visible_technicians,
    visible_tickets_parametrized,
)
from dispatch.ticket_state import LOAD_STATUSES
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import Category, Priority, TicketStatus

__all__ = [
    "TicketFilterSpec",
    "get_attachment_for",
    "get_own_technician",
    "get_ticket_to_follow",
    "list_equipment",
    "list_technicians",
    "list_tickets",
    "sla_state_condition",
    "technician_loads",
    "technicians_with_loads",
]


@dataclass(frozen=True, slots=True)
class TicketFilterSpec:
    """Which tickets to list; every criterion given must hold. An empty list of statuses, categories or
    priorities matches nothing."""

    project_id: int | None = None
    statuses: Sequence[TicketStatus] | None = None
    categories: Sequence[Category] | None = None
    priorities: Sequence[Priority] | None = None
    kind: TicketKind | None = None
    building_id: int | None = None
    technician_id: int | None = None
    sla_state: SlaState | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None


def sla_state_condition(state: SlaState, now: dt.datetime | ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    """The SQL form of `ticket_state.sla_state_at`."""
    breached = or_(Ticket.sla_breached, and_(Ticket.sla_breach_at.is_not(None), Ticket.sla_breach_at <= now))
    warning = and_(Ticket.sla_warning_at.is_not(None), Ticket.sla_warning_at <= now)
    if state is SlaState.BREACHED:
        return breached
    if state is SlaState.WARNING:
        return and_(not_(breached), warning)
    return and_(not_(breached), not_(warning))


# Each filter of the list, its value a parameter of its name (a list's among the values of one).
_TICKET_FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "project_id": lambda dialect: Ticket.project_id == bindparam("project_id"),
    "statuses": lambda dialect: among_parameter(dialect, Ticket.status, "statuses"),
    "categories": lambda dialect: among_parameter(dialect, Ticket.category, "categories"),
    "priorities": lambda dialect: among_parameter(dialect, Ticket.priority, "priorities"),
    "kind": lambda dialect: Ticket.kind == bindparam("kind"),
    "building_id": lambda dialect: Ticket.building_id == bindparam("building_id"),
    "technician_id": lambda dialect: Ticket.assignee_id == bindparam("technician_id"),
    "created_after": lambda dialect: Ticket.created_at >= bindparam("created_after"),
    "created_before": lambda dialect: Ticket.created_at < bindparam("created_before"),
}


async def list_tickets(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    spec: TicketFilterSpec,
    limit: int,
    before_id: int | None,
    with_units: bool = False,
    with_classifier_evidence: bool = True,
) -> KeysetPage[Ticket]:
    """One page of the tickets the caller may see (at most `limit` + 1, to tell whether more follow),
    newest first, below `before_id` when given, as plain rows of every column (with `with_units`, the
    unit and its building in the field `unit`, None for a common area; without
    `with_classifier_evidence`, None for the classifier's two word lists, which a board does not show
    and which cost a JSON decoding each per row); and how many match in all."""
    filters: dict[str, Any] = {
        "project_id": spec.project_id,
        "statuses": None if spec.statuses is None else sorted(spec.statuses),
        "categories": None if spec.categories is None else sorted(spec.categories),
        "priorities": None if spec.priorities is None else sorted(spec.priorities),
        "kind": spec.kind,
        "building_id": spec.building_id,
        "technician_id": spec.technician_id,
        "created_after": spec.created_after,
        "created_before": spec.created_before,
    }
    given = {name: value for name, value in filters.items() if value is not None}
    sla_state = spec.sla_state
    viewer = ticket_viewer(principal)
    viewer_given = given_values(viewer)

    def conditions(dialect: str) -> list[ColumnElement[bool]]:
        return [
            visible_tickets_parametrized(dialect, viewer_given),
            *(_TICKET_FILTERS[name](dialect) for name in given),
            *((sla_state_condition(sla_state, bindparam("now", type_=Ticket.created_at.type)),) if sla_state else ()),
        ]

    # Plain rows: the list's readers (`TicketType`, the policy's predicates, the SLA state) read columns only.
    return await parametrized_keyset_page(
        session_factory,
        Ticket,
        shape=(*given, sla_state, viewer_given),
        conditions=conditions,
        values={**viewer, **given, **({"now": now} if sla_state else {})},
        limit=limit,
        beyond_id=before_id,
        newest_first=True,
        joined=(Ticket.unit, Unit.building) if with_units else (),
        left_out=frozenset() if with_classifier_evidence else _CLASSIFIER_EVIDENCE,
    )


_CLASSIFIER_EVIDENCE = frozenset({"classifier_evidence", "classifier_priority_evidence"})


async def list_technicians(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> Sequence[Technician]:
    """The project's technicians the caller may look up: all of them for its staff, themself for a technician."""
    async with session_factory() as session:
        return (
            await session.scalars(
                select(Technician)
                .where(Technician.project_id == project_id, visible_technicians(principal))
                .order_by(Technician.id)
            )
        ).all()


async def list_equipment(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int
) -> Sequence[Equipment]:
    """The project's equipment ledger, soonest due first; empty for a caller who may not read it."""
    if not may_see_equipment(principal, project_id):
        return []
    async with session_factory() as session:
        return (
            await session.scalars(
                select(Equipment)
                .where(Equipment.project_id == project_id)
                .order_by(Equipment.next_due_on, Equipment.id)
            )
        ).all()


# Built once: the board's list asks for its technicians' loads on every refresh.
_TECHNICIAN_LOADS = DriverStatement(
    select(Ticket.assignee_id, func.count())
    .where(
        Ticket.assignee_id.in_(bindparam("technician_ids", expanding=True)),
        Ticket.status.in_(bindparam("statuses", expanding=True)),
    )
    .group_by(Ticket.assignee_id),
)
_LOAD_STATUSES = sorted(LOAD_STATUSES)


async def technician_loads(session_factory: async_sessionmaker[AsyncSession], technician_ids: list[int]) -> list[int]:
    """Open tickets each technician is working on (what counts against their capacity), in the order asked.
    One statement, which needs no transaction around it."""
    async with connection_for_reads(session_factory) as connection:
        counts = dict(await _TECHNICIAN_LOADS.rows(connection, {"technician_ids": technician_ids, "statuses": _LOAD_STATUSES}))
    return [int(counts.get(technician_id, 0)) for technician_id in technician_ids]


@cache
def _technicians_with_loads(dialect: str) -> tuple[DriverStatement, Callable[[Sequence[Any]], Technician]]:
    technicians, make = plain_reader(Technician, ())
    load = (
        select(func.count())
        .where(Ticket.assignee_id == Technician.id, Ticket.status.in_(bindparam("statuses", expanding=True)))
        .correlate(Technician)
        .scalar_subquery()
    )
    return DriverStatement(technicians.add_columns(load).where(among_parameter(dialect, Technician.id, "technician_ids"))), make


async def technicians_with_loads(
    session_factory: async_sessionmaker[AsyncSession], technician_ids: list[int]
) -> list[tuple[Technician | None, int]]:
    """Each technician (a plain row of every column, as the technician loader reads them; None for an id
    that does not exist) with their load as `technician_loads` counts it, in the order asked: what a page
    of tickets shows of its assignees, in one statement instead of one for the rows and one for the loads."""
    statement, make = _technicians_with_loads(dialect_of(session_factory))
    async with connection_for_reads(session_factory) as connection:
        rows = await statement.rows(connection, {"technician_ids": technician_ids, "statuses": _LOAD_STATUSES})
    found = {technician.id: (technician, int(load)) for technician, load in ((make(row[:-1]), row[-1]) for row in rows)}
    return [found.get(technician_id, (None, 0)) for technician_id in technician_ids]


async def get_attachment_for(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, attachment_id: int
) -> TicketAttachment:
    """A photo or video of a ticket the caller may see, else NOT_FOUND."""
    async with session_factory() as session:
        attachment = await session.get(TicketAttachment, attachment_id)
        ticket = await session.get(Ticket, attachment.ticket_id) if attachment is not None else None
    if attachment is None or ticket is None or not may_see_ticket(principal, ticket):
        raise NotFound("No such attachment.")
    return attachment


async def get_ticket_to_follow(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, ticket_id: int
) -> Ticket:
    """A ticket whose live updates the caller may follow, else NOT_FOUND."""
    async with session_factory() as session:
        ticket = await session.get(Ticket, ticket_id)
    if ticket is None or not may_follow_ticket(principal, ticket):
        raise NotFound("No such ticket.")
    return ticket


async def get_own_technician(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal
) -> Technician | None:
    """The technician the caller's login stands for, when they work as one in its project."""
    if principal.technician_id is None:
        return None
    async with session_factory() as session:
        technician = await session.get(Technician, principal.technician_id)
    return technician if technician is not None and follows_assignments_in(principal, technician.project_id) else None
