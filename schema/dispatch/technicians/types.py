"""GraphQL types of the technician roster."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry import relay

from db.models import Technician
from db.personal_data import mask_phone
from dispatch.policy import TechnicianView, may_see_technician, technician_view
from schema.context import Info
from schema.nodes import resolve_visible_nodes
from schema.scalars import CategoryEnum

__all__ = ["GeoPointType", "TechnicianType"]


@strawberry.type(name="GeoPoint")
class GeoPointType:
    latitude: float
    longitude: float


@strawberry.type(name="Technician")
class TechnicianType(relay.Node):
    id: relay.NodeID[int]
    name: str
    skills: list[CategoryEnum]
    capacity: int = strawberry.field(description="How many open tickets the technician may hold at once.")
    on_shift: bool
    home: GeoPointType
    current_location: GeoPointType | None
    project_id: strawberry.Private[int]
    phone_encrypted: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Technician) -> TechnicianType:
        current = (
            GeoPointType(latitude=row.current_latitude, longitude=row.current_longitude)
            if row.current_latitude is not None and row.current_longitude is not None
            else None
        )
        return cls(
            id=row.id,
            name=row.name,
            skills=list(row.skills),
            capacity=row.capacity,
            on_shift=row.on_shift,
            home=GeoPointType(latitude=row.home_latitude, longitude=row.home_longitude),
            current_location=current,
            project_id=row.project_id,
            phone_encrypted=row.phone_encrypted,
        )

    @strawberry.field(
        description="Open tickets the technician is working on now (assigned, accepted, on site, in progress or paused)."
    )
    async def current_load(self, info: Info) -> int:
        return await info.context.loaders.dispatch.technician_load.load(self.id)

    @strawberry.field(description="Masked except for project admins and dispatchers.")
    async def phone(self, info: Info) -> str | None:
        if self.phone_encrypted is None:
            return None
        plain = info.context.cipher.decrypt(self.phone_encrypted)
        principal = await info.context.principal()
        if (
            principal is not None
            and technician_view(principal, project_id=self.project_id, technician_id=self.id) is TechnicianView.ROSTER
        ):
            return plain
        return mask_phone(plain)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TechnicianType | None]:
        return await resolve_visible_nodes(
            info,
            node_ids,
            info.context.loaders.technician,
            lambda principal, row: may_see_technician(principal, project_id=row.project_id, technician_id=row.id),
            cls.from_row,
        )
