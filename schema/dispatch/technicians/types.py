"""GraphQL types of the technician roster: a technician, as much of them as the viewer may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

import strawberry
from strawberry import relay

from db.models import Technician, TechnicianDayOff, TechnicianShift
from db.personal_data import mask_phone
from dispatch.policy import TechnicianView, may_see_shifts, may_see_technician, technician_view
from dispatch.shifts import shift_hours
from kernel.principal import Principal
from kernel.vocabulary import AbsenceReason
from schema.batching import answer
from schema.context import Info
from schema.dispatch.enums import AbsenceReasonEnum
from schema.nodes import resolve_visible_nodes
from schema.scalars import CategoryEnum

__all__ = ["GeoPointType", "ShiftBreakType", "TechnicianDayOffType", "TechnicianShiftType", "TechnicianType"]

R = TypeVar("R")


@strawberry.type(name="GeoPoint", description="A position, WGS-84 degrees.")
class GeoPointType:
    latitude: float = strawberry.field(description="Latitude, degrees.")
    longitude: float = strawberry.field(description="Longitude, degrees.")


def _clock(minute: int) -> dt.time:
    """The clock time of a shift's minute (past 1440: a night shift's next morning)."""
    minute %= 24 * 60
    return dt.time(minute // 60, minute % 60)


@strawberry.type(name="ShiftBreak", description="A break taken inside a shift: it starts between two times.")
class ShiftBreakType:
    earliest_start: dt.time = strawberry.field(description="The break starts at this time or later.")
    latest_start: dt.time = strawberry.field(description="The break starts at this time at the latest.")
    minutes: int = strawberry.field(description="How long it lasts.")


@strawberry.type(
    name="TechnicianShift",
    description=(
        "A technician's working hours on a weekday (every week) or on one date (which overrides the weekday), in "
        "the project's time zone. A technician with a week stored works only its weekdays; one with nothing stored "
        "works 08:00–18:00 with a 45-minute lunch starting between 11:30 and 13:30."
    ),
)
class TechnicianShiftType:
    weekday: int | None = strawberry.field(description="1 (Monday) to 7 (Sunday); null for a date's own hours.")
    on_date: dt.date | None = strawberry.field(description="The date these hours are for; null for a weekday's.")
    starts_at: dt.time = strawberry.field(description="When the shift starts.")
    ends_at: dt.time = strawberry.field(description="When the shift ends.")
    ends_next_day: bool = strawberry.field(description="A night shift: endsAt is on the next day's clock.")
    breaks: list[ShiftBreakType] = strawberry.field(description="The breaks, earliest first.")

    @classmethod
    def from_row(cls, row: TechnicianShift) -> TechnicianShiftType:
        hours = shift_hours(row)
        return cls(
            weekday=row.weekday,
            on_date=row.on_date,
            starts_at=_clock(hours.starts),
            ends_at=_clock(hours.ends),
            ends_next_day=hours.ends_next_day,
            breaks=[
                ShiftBreakType(earliest_start=_clock(b.earliest), latest_start=_clock(b.latest), minutes=b.minutes)
                for b in hours.breaks
            ],
        )


_ABSENCE_TEXT = {AbsenceReason.LEAVE: "请假", AbsenceReason.SICK: "病假", AbsenceReason.OTHER: "休息"}


@strawberry.type(
    name="TechnicianDayOff",
    description=(
        "A date the technician does not work (leave, sick), whatever their hours say: the shift that would start "
        "that date is not planned and nothing is assigned to them that day."
    ),
)
class TechnicianDayOffType:
    on_date: dt.date = strawberry.field(description="The date, in the project's time zone.")
    reason: AbsenceReasonEnum = strawberry.field(description="Why.")  # type: ignore[valid-type]
    reason_text: str = strawberry.field(description="Why, for people (zh-CN: 请假, 病假, 休息).")
    note: str | None = strawberry.field(description="What the dispatcher noted.")

    @classmethod
    def from_row(cls, row: TechnicianDayOff) -> TechnicianDayOffType:
        return cls(on_date=row.on_date, reason=row.reason, reason_text=_ABSENCE_TEXT[row.reason], note=row.note)


@strawberry.type(
    name="Technician",
    description=(
        "A technician. Who meets one on a ticket without being their project's staff (an owner whose job "
        "they do, another technician) sees only the name and a masked phone; the other fields answer null."
    ),
)
class TechnicianType(relay.Node):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="Name as owners see it (e.g. 陈师傅).")
    row: strawberry.Private[Technician]
    # Their open tickets, when the list that shows them read it for its whole page (None: ask the loader).
    load: strawberry.Private[int | None] = None
    # The last viewer asked about and what they may see: a page shows one technician on many tickets, and
    # each of their fields asks again for the caller of the moment (None when the token no longer counts).
    seen_by: strawberry.Private[tuple[Principal, TechnicianView] | None] = None

    @classmethod
    def from_row(cls, row: Technician) -> TechnicianType:
        return cls(id=row.id, name=row.name, row=row)

    def _view(self, principal: Principal | None) -> TechnicianView:
        if principal is None:
            return TechnicianView.CONTACT
        seen = self.seen_by
        if seen is not None and seen[0] is principal:
            return seen[1]
        view = technician_view(principal, project_id=self.row.project_id, technician_id=self.row.id)
        self.seen_by = (principal, view)
        return view

    def _at_work(self, info: Info, answer: Callable[[Technician | None], R]) -> R:
        """`answer` of the row when the viewer may see how the technician works, of None when they may not."""
        return info.context.with_principal(  # type: ignore[return-value]
            lambda principal: answer(self.row if self._view(principal) is not TechnicianView.CONTACT else None)
        )

    @strawberry.field(description="The categories they can handle; null unless you are staff or the technician.")
    def skills(self, info: Info) -> list[CategoryEnum] | None:
        return self._at_work(info, lambda row: list(row.skills) if row is not None else None)

    @strawberry.field(description="How many open tickets the technician may hold at once.")
    def capacity(self, info: Info) -> int | None:
        return self._at_work(info, lambda row: row.capacity if row is not None else None)

    @strawberry.field(
        description=(
            "Whether they are working now (only on-shift technicians are dispatched); null unless you are staff or the "
            "technician."
        ),
    )
    def on_shift(self, info: Info) -> bool | None:
        return self._at_work(info, lambda row: row.on_shift if row is not None else None)

    @strawberry.field(
        description=(
            "Working hours per weekday and per date (a date's override its weekday's); null unless you are staff or "
            "the technician."
        ),
    )
    async def shifts(self, info: Info) -> list[TechnicianShiftType] | None:
        principal = await info.context.principal()
        if principal is None or not may_see_shifts(principal, self.row.project_id, self.row.id):
            return None
        rows = await info.context.loaders.dispatch.shifts_by_technician.load(self.row.id)
        # The week in weekday order, then the dates in date order.
        ordered = sorted(rows, key=lambda row: (row.on_date is not None, row.weekday or 0, row.on_date or dt.date.min))
        return [TechnicianShiftType.from_row(row) for row in ordered]

    @strawberry.field(
        description="Days off from a date on (today, in the project's time zone, when not given), earliest first; "
        "null unless you are staff or the technician.",
    )
    async def days_off(
        self,
        info: Info,
        since: Annotated[dt.date | None, strawberry.argument(description="The first date; null: today.")] = None,
    ) -> list[TechnicianDayOffType] | None:
        principal = await info.context.principal()
        if principal is None or not may_see_shifts(principal, self.row.project_id, self.row.id):
            return None
        if since is None:
            project = await info.context.loaders.project.load(self.row.project_id)
            since = info.context.now().astimezone(ZoneInfo(project.timezone)).date()
        rows = await info.context.loaders.dispatch.days_off_by_technician.load(self.row.id)
        return [TechnicianDayOffType.from_row(row) for row in rows if row.on_date >= since]

    @strawberry.field(description="Home base; null unless you are staff or the technician.")
    def home(self, info: Info) -> GeoPointType | None:
        return self._at_work(
            info,
            lambda row: GeoPointType(latitude=row.home_latitude, longitude=row.home_longitude) if row is not None else None,
        )

    @strawberry.field(
        description="Last reported position; null when unknown, or unless you are staff or the technician."
    )
    def current_location(self, info: Info) -> GeoPointType | None:
        def located(row: Technician | None) -> GeoPointType | None:
            if row is None or row.current_latitude is None or row.current_longitude is None:
                return None
            return GeoPointType(latitude=row.current_latitude, longitude=row.current_longitude)

        return self._at_work(info, located)

    @strawberry.field(
        description="Open tickets the technician is working on now (assigned, accepted, on site, in progress or paused)."
    )
    def current_load(self, info: Info) -> int | None:
        if self.load is not None:
            return info.context.with_principal(self._load_for)  # type: ignore[return-value]
        return self._at_work(  # type: ignore[return-value]
            info,
            lambda row: None if row is None else answer(info.context.loaders.dispatch.technician_load, self.id, lambda load: load),
        )

    def _load_for(self, principal: Principal | None) -> int | None:
        return None if self._view(principal) is TechnicianView.CONTACT else self.load

    @strawberry.field(description="Masked except for project admins and dispatchers.")
    def phone(self, info: Info) -> str | None:
        if self.row.phone_encrypted is None:
            return None
        plain = info.context.loaders.decrypted(self.row.phone_encrypted, info.context.cipher.decrypt)
        return info.context.with_principal(  # type: ignore[return-value]
            lambda principal: plain if self._view(principal) is TechnicianView.ROSTER else mask_phone(plain)
        )

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
