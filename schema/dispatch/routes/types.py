"""GraphQL types of day routes: each technician's remaining day, its stops, breaks and the reasons."""

from __future__ import annotations

import datetime as dt

import strawberry

from dispatch.day_routes import DayRoutes, Pin
from dispatch.routing import StopReason, StopReasonCode, TechnicianRoute, UnplannedCode
from schema.context import Info
from schema.described_enum import described_enum
from schema.dispatch.technicians.types import TechnicianType
from schema.dispatch.tickets.types import TicketType
from schema.ids import encode_id, encode_optional_id

__all__ = [
    "DayRoutesType",
    "RouteBreakType",
    "RouteReasonType",
    "RouteStopType",
    "TechnicianRouteType",
    "UnplannedVisitType",
    "VisitPinType",
]

RouteReasonCodeEnum = described_enum(
    StopReasonCode,
    name="RouteReasonCode",
    description="Why a visit is where it is in a route.",
    values={
        "UNDER_WAY": "The technician is on site there now: the route starts with it.",
        "NEXT": "The technician is on the way there: it comes next, whatever came in since.",
        "PINNED": "A dispatcher pinned it to this technician (and time).",
        "ASSIGNED": "It was already dispatched to this technician; the plan only chooses when.",
        "SKILL": "The technician has the trade's skill (`skill`).",
        "OWNER_WINDOW": "It starts inside the owner's availability.",
        "WAITS_FOR_OWNER": "The technician arrives early and waits `minutes` for the owner's window.",
        "SLA_ON_TIME": "It starts `minutes` before the SLA's on-site deadline.",
        "SLA_LATE": "It starts `minutes` after the SLA's on-site deadline (no plan could keep it).",
    },
)
UnplannedCodeEnum = described_enum(
    UnplannedCode,
    name="UnplannedVisitCode",
    description="Why a visit is in no route today.",
    values={
        "NO_TECHNICIAN_WITH_SKILL": "No technician on shift has the trade's skill.",
        "PIN_NOT_POSSIBLE": "The pinned technician cannot take it (skill, or the pinned time is outside the shift).",
        "NO_TIME": "No technician with the skill has time left for it today.",
        "OWNER_NOT_AVAILABLE": "The owner's availability is over, or begins after today.",
    },
)

# What staff read (zh-CN, the projects' default locale); the code beside it is for other languages.
_REASON_TEXTS = {
    StopReasonCode.UNDER_WAY: "师傅正在现场",
    StopReasonCode.NEXT: "师傅正在前往",
    StopReasonCode.PINNED: "调度员已指定",
    StopReasonCode.ASSIGNED: "已派给该师傅",
    StopReasonCode.SKILL: "具备{skill}技能",
    StopReasonCode.OWNER_WINDOW: "在业主方便的时间内上门",
    StopReasonCode.WAITS_FOR_OWNER: "提前到达，等候业主{minutes}分钟",
    StopReasonCode.SLA_ON_TIME: "比上门时限提前{minutes}分钟",
    StopReasonCode.SLA_LATE: "超出上门时限{minutes}分钟",
}
_SKILL_NAMES = {
    "PLUMBING": "水暖",
    "ELECTRICAL": "电工",
    "HVAC": "空调暖通",
    "ELEVATOR": "电梯",
    "FIRE_SAFETY": "消防",
    "LOCKSMITH": "门锁",
    "CLEANING": "保洁",
    "APPLIANCE": "家电",
    "GENERAL": "综合维修",
}


@strawberry.type(name="RouteReason", description="One reason for a stop's place in a route.")
class RouteReasonType:
    code: RouteReasonCodeEnum = strawberry.field(description="The reason, as a code.")
    minutes: int | None = strawberry.field(description="Minutes the reason speaks of, if any.")
    skill: str | None = strawberry.field(description="The skill the reason speaks of, if any.")
    text: str = strawberry.field(description="The reason as staff read it (zh-CN).")

    @classmethod
    def from_reason(cls, reason: StopReason) -> RouteReasonType:
        skill_name = _SKILL_NAMES.get(reason.skill or "", reason.skill or "")
        text = _REASON_TEXTS[reason.code].format(skill=skill_name, minutes=reason.minutes)
        return cls(code=reason.code, minutes=reason.minutes, skill=reason.skill, text=text)


@strawberry.type(name="RouteStop", description="A visit in a technician's route.")
class RouteStopType:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket visited.")
    arrives_at: dt.datetime = strawberry.field(description="When the technician arrives.")
    starts_at: dt.datetime = strawberry.field(description="When the work starts.")
    ends_at: dt.datetime = strawberry.field(description="When the technician leaves.")
    travel_meters: int = strawberry.field(description="Metres travelled from the previous stop.")
    travel_minutes: int = strawberry.field(description="Minutes travelled from the previous stop.")
    reasons: list[RouteReasonType] = strawberry.field(description="Why this visit is here.")
    ticket_pk: strawberry.Private[int]

    @strawberry.field(description="The ticket (null where the caller may not see it).")
    async def ticket(self, info: Info) -> TicketType | None:
        return (await TicketType.resolve_nodes(info=info, node_ids=[str(self.ticket_pk)]))[0]


@strawberry.type(name="RouteBreak", description="A break in a technician's route.")
class RouteBreakType:
    starts_at: dt.datetime = strawberry.field(description="When the break starts.")
    minutes: int = strawberry.field(description="How long it lasts.")


@strawberry.type(name="TechnicianRoute", description="A technician's remaining day: stops in order, breaks.")
class TechnicianRouteType:
    technician_id: strawberry.ID = strawberry.field(description="The technician.")
    stops: list[RouteStopType] = strawberry.field(description="The visits, in order.")
    breaks: list[RouteBreakType] = strawberry.field(description="The breaks, in order.")
    travel_meters: int = strawberry.field(description="Metres travelled along the route.")
    technician_pk: strawberry.Private[int]

    @strawberry.field(description="The technician.")
    async def technician(self, info: Info) -> TechnicianType | None:
        row = await info.context.loaders.technician.load(self.technician_pk)
        return TechnicianType.from_row(row) if row is not None else None

    @classmethod
    def from_route(cls, routes: DayRoutes, route: TechnicianRoute) -> TechnicianRouteType:
        return cls(
            technician_id=encode_id("Technician", route.technician_id),
            stops=[
                RouteStopType(
                    ticket_id=encode_id("Ticket", stop.ticket_id),
                    arrives_at=routes.at(stop.arrives),
                    starts_at=routes.at(stop.starts),
                    ends_at=routes.at(stop.ends),
                    travel_meters=stop.travel_m,
                    travel_minutes=stop.travel_minutes,
                    reasons=[RouteReasonType.from_reason(reason) for reason in stop.reasons],
                    ticket_pk=stop.ticket_id,
                )
                for stop in route.stops
            ],
            breaks=[RouteBreakType(starts_at=routes.at(b.starts), minutes=b.minutes) for b in route.breaks],
            travel_meters=route.travel_m,
            technician_pk=route.technician_id,
        )


@strawberry.type(name="UnplannedVisit", description="A visit in no route today, and why.")
class UnplannedVisitType:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    code: UnplannedCodeEnum = strawberry.field(description="Why, as a code.")


@strawberry.type(name="DayRoutes", description="The rest of today planned as routes, one per technician on shift.")
class DayRoutesType:
    routes: list[TechnicianRouteType] = strawberry.field(description="Every technician on shift, by id.")
    unplanned: list[UnplannedVisitType] = strawberry.field(description="Visits no route could take today.")
    cost: int = strawberry.field(
        description="The plan's price: metres travelled + minutes late on SLAs + visits left out (model units)."
    )

    @classmethod
    def from_routes(cls, routes: DayRoutes) -> DayRoutesType:
        return cls(
            routes=[TechnicianRouteType.from_route(routes, route) for route in routes.plan.routes],
            unplanned=[
                UnplannedVisitType(ticket_id=encode_id("Ticket", item.ticket_id), code=item.code)
                for item in routes.plan.unplanned
            ],
            cost=routes.plan.cost,
        )


@strawberry.type(name="VisitPin", description="A ticket's visit as a dispatcher pinned it (no technician: not pinned).")
class VisitPinType:
    ticket_id: strawberry.ID = strawberry.field(description="The ticket.")
    technician_id: strawberry.ID | None = strawberry.field(description="The technician it is pinned to, if any.")
    starts_at: dt.datetime | None = strawberry.field(description="The start time it is pinned to, if any.")

    @classmethod
    def from_pin(cls, pin: Pin) -> VisitPinType:
        return cls(
            ticket_id=encode_id("Ticket", pin.ticket_id),
            technician_id=encode_optional_id("Technician", pin.technician_id),
            starts_at=pin.starts_at,
        )

