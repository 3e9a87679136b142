"""GraphQL types of repair tickets: the ticket, its event log and its attachments."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from db.models import OwnerAvailability, Ticket, TicketAttachment, TicketEvent
from dispatch.day_routes import plan_my_route
from dispatch.policy import actions_on_ticket, follows_assignments, may_see_ticket
from dispatch.ticket_state import sla_state_at
from kernel.errors import AccessDenied, NotFound
from schema.batching import answer, prime_joined, read_into, read_value
from schema.context import Info
from schema.dispatch.enums import (
    ActorRoleEnum,
    AttachmentStageEnum,
    LocationKindEnum,
    PriorityEnum,
    SlaStateEnum,
    TicketActionEnum,
    TicketEventTypeEnum,
    TicketKindEnum,
    TicketStatusEnum,
)
from schema.dispatch.equipment.types import EquipmentType
from schema.dispatch.technicians.types import TechnicianType
from schema.dispatch.tickets.payloads import TicketEventPayload, payload_of
from schema.ids import encode_id
from schema.nodes import resolve_visible_nodes
from schema.pagination import selected_under
from schema.scalars import CategoryEnum
from schema.units.types import BuildingType, PartyType, ProjectType, UnitType

if TYPE_CHECKING:
    from schema.dispatch.routes.types import TechnicianRouteType

__all__ = ["AttachmentType", "OwnerAvailabilityType", "TicketEventType", "TicketPageShares", "TicketType"]

ATTACHMENT_LINK_LIFETIME = dt.timedelta(hours=1)


@strawberry.type(name="TicketAttachment", description="A photo or short video sent with a ticket.")
class AttachmentType:
    id: strawberry.ID = strawberry.field(description="Its global ID; the file itself is at `url`.")
    stage: AttachmentStageEnum = strawberry.field(description="Sent with the report or with the resolution.")
    mime_type: str = strawberry.field(description="Its media type, detected from the bytes.")
    size_bytes: int = strawberry.field(description="Its size in bytes.")
    file_name: str = strawberry.field(description="The name it was uploaded under.")
    content_hash: str = strawberry.field(description="SHA-256 of the file, hex.")
    created_at: dt.datetime = strawberry.field(description="Uploaded at (UTC).")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: TicketAttachment) -> AttachmentType:
        return cls(
            id=encode_id("TicketAttachment", row.id),
            stage=row.stage,
            mime_type=row.mime_type,
            size_bytes=row.size_bytes,
            file_name=row.file_name,
            content_hash=row.content_hash,
            created_at=row.created_at,
            pk=row.id,
        )

    @strawberry.field(description="A link to the file for you, valid for an hour (no header needed).")
    async def url(self, info: Info) -> str | None:
        media = info.context.services.media_store
        principal = await info.context.principal()
        if media is None or principal is None:
            return None
        expires = int((info.context.now() + ATTACHMENT_LINK_LIFETIME).timestamp())
        return media.link(self.pk, principal.user_id, expires)


@strawberry.type(name="TicketEvent", description="One entry of a ticket's append-only history.")
class TicketEventType:
    seq: int = strawberry.field(description="Position in the project's event log; increases in commit order.")
    type: TicketEventTypeEnum = strawberry.field(description="What happened; `payload` has the details of this type.")
    at: dt.datetime = strawberry.field(description="When (UTC).")
    actor_role: ActorRoleEnum = strawberry.field(
        description="In which capacity the actor acted (SYSTEM: Courtyard itself)."
    )
    data: JSON = strawberry.field(
        description="What came with the event, as stored (untyped JSON; technicians as internal numbers).",
        deprecation_reason="Use `payload`, typed per event type; `data` goes away in the next release.",
    )
    ticket_pk: strawberry.Private[int]
    actor_user_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: TicketEvent) -> TicketEventType:
        return cls(
            seq=row.seq,
            type=row.type,
            at=row.created_at,
            actor_role=row.actor_role,
            data=dict(row.payload or {}),
            ticket_pk=row.ticket_id,
            actor_user_id=row.actor_user_id,
        )

    @strawberry.field(
        description="The details of the event, typed per event type; null for types Courtyard does not write yet "
        "(ATTACHMENT_ADDED, COMMENTED)."
    )
    def payload(self) -> TicketEventPayload | None:
        return payload_of(self.type, self.data if isinstance(self.data, dict) else {})

    @strawberry.field(description="The note that came with the action, if any.")
    def note(self) -> str | None:
        note = self.data.get("note") if isinstance(self.data, dict) else None
        return note if isinstance(note, str) else None

    @strawberry.field(description="Display name of whoever acted; null for Courtyard itself.")
    async def actor_name(self, info: Info) -> str | None:
        if self.actor_user_id is None:
            return None
        user = await info.context.loaders.dispatch.user.load(self.actor_user_id)
        return user.display_name if user is not None else None

    @strawberry.field(description="The technician the ticket is with after this event, if any.")
    async def technician(self, info: Info) -> TechnicianType | None:
        technician_id = self.data.get("technician") if isinstance(self.data, dict) else None
        if not isinstance(technician_id, int):
            return None
        row = await info.context.loaders.technician.load(technician_id)
        return TechnicianType.from_row(row) if row is not None else None

    @strawberry.field(
        description=(
            "For a technician (in `myAssignments`): their route for the rest of today as planned now, visits in "
            "order, so the app shows where this news puts them; null for everyone else."
        )
    )
    async def my_route(
        self, info: Info
    ) -> Annotated[TechnicianRouteType, strawberry.lazy("schema.dispatch.routes.types")] | None:
        from schema.dispatch.routes.types import TechnicianRouteType  # which imports this module: no cycle at import

        principal = await info.context.principal()
        if principal is None or not follows_assignments(principal):
            return None
        try:
            routes, route = await plan_my_route(info.context.session_factory, principal, now=info.context.now())
        except (AccessDenied, NotFound):
            return None
        return TechnicianRouteType.from_route(routes, route)

    @strawberry.field(description="The ticket's global ID (even when `ticket` is null for you).")
    def ticket_id(self) -> strawberry.ID:
        return encode_id("Ticket", self.ticket_pk)

    @strawberry.field(description="The ticket as it is now, if you may see it.")
    async def ticket(self, info: Info) -> TicketType | None:
        nodes = await TicketType.resolve_nodes(info=info, node_ids=[str(self.ticket_pk)])
        return nodes[0]


@strawberry.type(
    name="OwnerAvailability", description="When the owner is home for a ticket's visit: the day's routes plan the visit inside it."
)
class OwnerAvailabilityType:
    available_from: dt.datetime = strawberry.field(description="From.")
    available_until: dt.datetime = strawberry.field(description="Until.")

    @classmethod
    def from_row(cls, row: OwnerAvailability) -> OwnerAvailabilityType:
        return cls(available_from=row.available_from, available_until=row.available_until)


@dataclass(frozen=True, slots=True)
class TicketPageShares:
    """Each unit and each assignee a page of tickets shows, made once for the page from what
    `TicketType.read_for_page` read: fifty tickets name a few technicians, and each ticket's `unit` and
    `assignee` then answer with the object at hand instead of shaping a loader's value again. The
    assignees carry their loads when the page shows them."""

    units: Mapping[int, UnitType]
    assignees: Mapping[int, TechnicianType]

    @classmethod
    def of(cls, info: Info, rows: Sequence[Ticket], selected: Mapping[str, Any]) -> TicketPageShares:
        loaders = info.context.loaders
        units: dict[int, UnitType] = {}
        if "unit" in selected:
            for unit_id in {row.unit_id for row in rows if row.unit_id is not None}:
                unit = read_value(loaders.unit, unit_id)
                if unit is not None:
                    units[unit_id] = UnitType.from_row(unit)
        assignees: dict[int, TechnicianType] = {}
        if "assignee" in selected:
            with_loads = "currentLoad" in selected_under(selected["assignee"])
            for technician_id in {row.assignee_id for row in rows if row.assignee_id is not None}:
                technician = read_value(loaders.technician, technician_id)
                if technician is not None:
                    assignee = assignees[technician_id] = TechnicianType.from_row(technician)
                    if with_loads:
                        assignee.load = read_value(loaders.dispatch.technician_load, technician_id)
        return cls(units, assignees)


@strawberry.type(name="Ticket", description="A repair or maintenance job and where it stands.")
class TicketType(relay.Node):
    id: relay.NodeID[int]
    kind: TicketKindEnum = strawberry.field(description="Reported repair, or preventive maintenance Courtyard opened.")
    status: TicketStatusEnum = strawberry.field(description="Where it stands.")
    category: CategoryEnum = strawberry.field(description="The trade it needs (the classifier's or a dispatcher's).")
    priority: PriorityEnum = strawberry.field(description="How urgent; decides its SLA promises.")
    description: str = strawberry.field(description="The report in the reporter's words.")
    location_kind: LocationKindEnum = strawberry.field(description="In a unit or which common area.")
    location_detail: str | None = strawberry.field(description="Where exactly, in the reporter's words.")
    classifier_category: CategoryEnum | None = strawberry.field(
        description="What the classifier read in the description."
    )
    classifier_confidence: float | None = strawberry.field(description="How sure the classifier was, 0 to 1.")
    classifier_evidence: list[str] = strawberry.field(description="The words the classifier's category rests on.")
    classifier_priority: PriorityEnum | None = strawberry.field(
        description="The priority the classifier read in the description (the ticket's own may be the reporter's "
        "or a dispatcher's); null when no description was read."
    )
    classifier_priority_evidence: list[str] = strawberry.field(
        description="The words the classifier's priority rests on (empty for NORMAL, the everyday priority)."
    )
    version: int = strawberry.field(description="Pass as `expectedVersion` so a concurrent change is not overwritten.")
    created_at: dt.datetime = strawberry.field(description="When it was filed (UTC).")
    updated_at: dt.datetime = strawberry.field(description="Last change (UTC).")
    respond_due_at: dt.datetime = strawberry.field(description="A technician accepts by then.")
    on_site_due_at: dt.datetime = strawberry.field(
        description="A technician is on site by then (UTC), paused time added."
    )
    resolve_due_at: dt.datetime = strawberry.field(description="It is resolved by then (UTC), paused time added.")
    sla_paused_since: dt.datetime | None = strawberry.field(
        description="Set while the clock stands still waiting for the owner."
    )
    paused_seconds: int = strawberry.field(description="Time the SLA clock stood still, in finished pauses.")
    accepted_at: dt.datetime | None = strawberry.field(description="First accepted (UTC).")
    on_site_at: dt.datetime | None = strawberry.field(description="First on site (UTC).")
    resolved_at: dt.datetime | None = strawberry.field(description="First resolved (UTC).")
    closed_at: dt.datetime | None = strawberry.field(description="Closed (UTC).")
    cancelled_at: dt.datetime | None = strawberry.field(description="Cancelled (UTC).")
    rating: int | None = strawberry.field(description="The owner's rating, 1 to 5, once closed.")
    rating_comment: str | None = strawberry.field(description="The owner's comment with the rating.")
    row: strawberry.Private[Ticket]
    # The moment a list read its page as of (None: read the clock when asked): a page's SLA states then
    # agree with the `slaState` filter that chose its rows.
    as_of: strawberry.Private[dt.datetime | None] = None
    # What the page the ticket came in shows of its unit and assignee (None: ask the loaders).
    shares: strawberry.Private[TicketPageShares | None] = None

    @classmethod
    def from_row(cls, row: Ticket, *, as_of: dt.datetime | None = None) -> TicketType:
        return cls(
            id=row.id,
            kind=row.kind,
            status=row.status,
            category=row.category,
            priority=row.priority,
            description=row.description,
            location_kind=row.location_kind,
            location_detail=row.location_detail,
            classifier_category=row.classifier_category,
            classifier_confidence=row.classifier_confidence,
            classifier_evidence=list(row.classifier_evidence or []),
            classifier_priority=row.classifier_priority,
            classifier_priority_evidence=list(row.classifier_priority_evidence or []),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            respond_due_at=row.respond_due_at,
            on_site_due_at=row.on_site_due_at,
            resolve_due_at=row.resolve_due_at,
            sla_paused_since=row.paused_since,
            paused_seconds=row.paused_seconds,
            accepted_at=row.accepted_at,
            on_site_at=row.on_site_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            cancelled_at=row.cancelled_at,
            rating=row.rating,
            rating_comment=row.rating_comment,
            row=row,
            as_of=as_of,
        )

    @staticmethod
    async def read_for_page(
        info: Info, rows: Sequence[Ticket], selected: Mapping[str, Any], *, complete: bool = True
    ) -> None:
        """Read what the `selected` fields (`selected_on_nodes`) need for a whole page of tickets at once
        (the statements the fields would run anyway), so that each field then answers without waiting.
        Units that came with the tickets (`list_tickets(with_units=…)`) are not read again. Rows that
        are not `complete` (columns the page left out) are not lent to the ticket loader, whose other
        readers may ask for those columns."""
        loaders = info.context.loaders
        if complete:
            loaders.dispatch.ticket.prime_many({row.id: row for row in rows})
        reads: list[Awaitable[Any]] = []
        if "unit" in selected:
            prime_joined(loaders.unit, rows, "unit")
            reads.append(read_into(loaders.unit, sorted({row.unit_id for row in rows if row.unit_id is not None})))
        if "assignee" in selected:
            assignees = sorted({row.assignee_id for row in rows if row.assignee_id is not None})
            if "currentLoad" in selected_under(selected["assignee"]):
                reads.append(loaders.dispatch.read_technicians_with_loads(loaders.technician, assignees))
            else:
                reads.append(read_into(loaders.technician, assignees))
        await asyncio.gather(*reads)

    @strawberry.field(description="OK, WARNING (80% of a promise's time used) or BREACHED, right now.")
    def sla_state(self, info: Info) -> SlaStateEnum:
        return sla_state_at(self.row, self.as_of if self.as_of is not None else info.context.now())

    @strawberry.field(description="The actions you may take on this ticket now.")
    def allowed_actions(self, info: Info) -> list[TicketActionEnum]:
        row = self.row
        return info.context.with_principal(  # type: ignore[return-value]
            lambda principal: [] if principal is None else list(actions_on_ticket(principal, row))
        )

    @strawberry.field(description="Its project.")
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.row.project_id))

    @strawberry.field(description="The unit at fault; null for a common area.")
    def unit(self, info: Info) -> UnitType | None:
        unit_id = self.row.unit_id
        if unit_id is None:
            return None
        shares = self.shares
        if shares is not None and (unit := shares.units.get(unit_id)) is not None:
            return unit
        return answer(info.context.loaders.unit, unit_id, UnitType.from_row)  # type: ignore[return-value]

    @strawberry.field(description="The building, when known.")
    async def building(self, info: Info) -> BuildingType | None:
        if self.row.building_id is None:
            return None
        return BuildingType.from_row(await info.context.loaders.building.load(self.row.building_id))

    @strawberry.field(description="Who reported the fault (none for maintenance Courtyard opened).")
    async def reporter(self, info: Info) -> PartyType | None:
        if self.row.reporter_party_id is None:
            return None
        return PartyType.from_row(await info.context.loaders.party.load(self.row.reporter_party_id))

    @strawberry.field(description="The technician working on it (kept on record once closed or cancelled).")
    def assignee(self, info: Info) -> TechnicianType | None:
        assignee_id = self.row.assignee_id
        if assignee_id is None:
            return None
        shares = self.shares
        if shares is not None and (assignee := shares.assignees.get(assignee_id)) is not None:
            return assignee
        return answer(info.context.loaders.technician, assignee_id, TechnicianType.from_row)  # type: ignore[return-value]

    @strawberry.field(
        description="When the owner is home for the visit (the day's routes plan it inside); null when not said."
    )
    async def owner_availability(self, info: Info) -> OwnerAvailabilityType | None:
        rows = await info.context.loaders.dispatch.availability_by_ticket.load(self.row.id)
        return OwnerAvailabilityType.from_row(rows[0]) if rows else None

    @strawberry.field(description="The equipment of a maintenance ticket.")
    async def equipment(self, info: Info) -> EquipmentType | None:
        if self.row.equipment_id is None:
            return None
        row = await info.context.loaders.dispatch.equipment.load(self.row.equipment_id)
        return EquipmentType.from_row(row) if row is not None else None

    @strawberry.field(description="The full history, oldest first.")
    async def events(self, info: Info) -> list[TicketEventType]:
        rows = await info.context.loaders.dispatch.events_by_ticket.load(self.row.id)
        return [TicketEventType.from_row(row) for row in rows]

    @strawberry.field(description="Photos and videos, report and resolution.")
    async def attachments(self, info: Info) -> list[AttachmentType]:
        rows = await info.context.loaders.dispatch.attachments_by_ticket.load(self.row.id)
        return [AttachmentType.from_row(row) for row in rows]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TicketType | None]:
        return await resolve_visible_nodes(
            info, node_ids, info.context.loaders.dispatch.ticket, may_see_ticket, cls.from_row
        )
