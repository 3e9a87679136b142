"""The demo community's repair work: two months of closed tickets with their full history, a board of
open ones at every stage, and the equipment ledger with its maintenance history.

Every ticket is played through the real use cases (submit, auto-dispatch by the solver, accept, check
in, …) in time order, each step closed by the same ticket unit of work as a request's, inside the one
transaction that seeds the demo: its events, SLA columns and seqs are exactly what the API would have
written.
Closed work is spread over the sixty days before `today` from one `random.Random`; the open tickets
were reported in the last few hours before `now` (when seeding today, the moment of seeding; for
another day, 10:00 that day), so a fresh demo shows live SLA countdowns and the worker soon has
warnings, escalations and a lift falling due to act on.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.demo_clock import demo_now
from db.models import (
    Building,
    Equipment,
    EquipmentKind,
    LocationKind,
    MaintenanceRecord,
    Occupancy,
    Project,
    Technician,
    Ticket,
    Unit,
    User,
)
from dispatch import tickets
from dispatch.model import GeoPoint, TicketAction
from dispatch.unit_of_work import TicketChanges, ticket_changes
from kernel.errors import AccessDenied, DomainError
from kernel.principal import Principal
from kernel.vocabulary import Category, TicketStatus, UnitKind
from register.accounts import load_principal

__all__ = ["DispatchDemoSummary", "seed_dispatch"]

_SEED = 2030
_OWNER_LOGINS = 20
_CLOSED_TICKETS = 24
_HISTORY_DAYS = 60

# (category, description) of the faults owners report, in their words.
_FAULTS: tuple[tuple[Category, str], ...] = (
    (Category.PLUMBING, "卫生间漏水，楼下邻居说天花板在滴水"),
    (Category.PLUMBING, "厨房水龙头关不紧，一直滴水"),
    (Category.PLUMBING, "马桶堵了，冲不下去"),
    (Category.PLUMBING, "the kitchen sink drain is blocked and water backs up"),
    (Category.ELECTRICAL, "客厅插座没电了，跳闸合不上"),
    (Category.ELECTRICAL, "the kitchen light keeps tripping the breaker"),
    (Category.ELECTRICAL, "卧室灯一开就跳闸"),
    (Category.HVAC, "空调不制冷，吹出来是热风"),
    (Category.HVAC, "空调外机噪音很大，晚上吵得睡不着"),
    (Category.HVAC, "地暖不热，温度上不去"),
    (Category.APPLIANCE, "热水器打不着火，没有热水"),
    (Category.APPLIANCE, "油烟机不转了"),
    (Category.LOCKSMITH, "入户门锁坏了，钥匙拧不动"),
    (Category.LOCKSMITH, "门禁卡刷不开单元门"),
    (Category.GENERAL, "客厅墙皮脱落，掉了一大块"),
    (Category.GENERAL, "阳台窗户关不严，漏风"),
    (Category.CLEANING, "楼道里有人扔了垃圾没人清理，发臭了"),
)
_RESOLUTIONS: dict[Category, tuple[str, ...]] = {
    Category.PLUMBING: ("更换了密封圈，试水无渗漏", "疏通下水管，清出异物", "更换角阀和软管"),
    Category.ELECTRICAL: ("更换漏电开关，线路绝缘测试正常", "更换损坏插座", "查出灯具短路，已更换灯座"),
    Category.HVAC: ("补充冷媒，制冷恢复", "清洗外机并紧固支架", "排气后地暖循环正常"),
    Category.APPLIANCE: ("更换点火针", "更换电机电容", "清洗风轮，运转正常"),
    Category.LOCKSMITH: ("更换锁芯，交付新钥匙三把", "重新写卡，门禁恢复"),
    Category.GENERAL: ("铲除空鼓墙皮，重新批灰刷漆", "更换窗户密封条，调整五金件"),
    Category.CLEANING: ("清运垃圾并消毒", "清理完毕"),
}
_COMMENTS = ("师傅很专业，谢谢", "来得很快", "解决了，挺满意", "态度好", None, None, "比预约时间晚了一点")
_RATINGS = (5, 5, 5, 5, 4, 4, 4, 3, 2)


@dataclass(frozen=True)
class DispatchDemoSummary:
    open_tickets: int
    closed_tickets: int
    equipment: int
    maintenance_records: int


@dataclass
class _Step:
    """One thing someone does to a ticket, at a moment. `who` is "owner" (the reporter),
    "technician" (whoever holds the ticket then) or "dispatcher"."""

    at: dt.datetime
    who: str
    action: TicketAction
    note: str | None = None
    rating: int | None = None
    comment: str | None = None


@dataclass
class _Story:
    key: int
    category: Category
    description: str
    reporter: int | None  # index into the login owners; None: the dispatcher reports for `on_behalf_of`
    at: dt.datetime
    area: LocationKind | None = None
    building: str | None = None
    on_behalf_of: int | None = None
    steps: list[_Step] = field(default_factory=list)


class _Cast:
    """The people of the demo as principals, and where their units and buildings are."""

    def __init__(self, session: AsyncSession, project_id: int, today: dt.date) -> None:
        self._session = session
        self.project_id = project_id
        self._today = today
        self._principals: dict[int, Principal] = {}
        self.owner_users: list[int] = []
        self.owner_units: list[int] = []
        self.dispatcher_user = 0
        self.admin_user = 0
        self.technician_users: dict[int, int] = {}
        self.buildings: dict[str, Building] = {}
        self.technicians: list[Technician] = []
        self.centre = GeoPoint(0.0, 0.0)

    async def load(self) -> None:
        session = self._session
        users = (await session.scalars(select(User).order_by(User.id))).all()
        by_email = {user.email: user for user in users}
        self.dispatcher_user = by_email["dispatcher@demo.courtyard"].id
        self.admin_user = by_email["admin@demo.courtyard"].id
        self.technician_users = {user.technician_id: user.id for user in users if user.technician_id is not None}
        self.owner_users = [by_email[f"owner{n}@demo.courtyard"].id for n in range(1, _OWNER_LOGINS + 1)]
        self.buildings = {
            b.name: b
            for b in (await session.scalars(select(Building).where(Building.project_id == self.project_id))).all()
        }
        # owner N lives in the N-th flat of building 1, counted floor by floor
        self.owner_units = list(
            (
                await session.scalars(
                    select(Unit.id)
                    .where(Unit.building_id == self.buildings["1栋"].id, Unit.kind == UnitKind.APARTMENT)
                    .order_by(Unit.floor, Unit.number)
                    .limit(_OWNER_LOGINS)
                )
            ).all()
        )
        located = [
            GeoPoint(b.latitude, b.longitude)
            for b in self.buildings.values()
            if b.latitude is not None and b.longitude is not None
        ]
        self.centre = GeoPoint(
            sum(p.latitude for p in located) / len(located), sum(p.longitude for p in located) / len(located)
        )
        self.technicians = list(
            (
                await session.scalars(
                    select(Technician).where(Technician.project_id == self.project_id).order_by(Technician.id)
                )
            ).all()
        )

    async def principal(self, user_id: int) -> Principal:
        if user_id not in self._principals:
            principal = await load_principal(self._session, user_id, today=self._today)
            assert principal is not None
            self._principals[user_id] = principal
        return self._principals[user_id]

    async def phone_caller(self, building_name: str, rng: random.Random) -> tuple[int, int]:
        """(unit, party) of a resident of another building who phones in."""
        rows = (
            await self._session.execute(
                select(Occupancy.unit_id, Occupancy.party_id)
                .join(Unit, Unit.id == Occupancy.unit_id)
                .where(
                    Unit.building_id == self.buildings[building_name].id,
                    Unit.kind == UnitKind.APARTMENT,
                    Occupancy.end_date.is_(None),
                )
                .order_by(Occupancy.id)
            )
        ).all()
        unit_id, party_id = rng.choice(rows)
        return unit_id, party_id


def _minutes(base: dt.datetime, value: float) -> dt.datetime:
    return base + dt.timedelta(minutes=value)


def _closed_story(key: int, rng: random.Random, today: dt.date, zone: ZoneInfo) -> _Story:
    category, description = rng.choice(_FAULTS)
    # Three days back at the latest: even a reopened job is closed before the day of the demo.
    day = today - dt.timedelta(days=rng.randint(3, _HISTORY_DAYS))
    local = dt.datetime.combine(day, dt.time(7, 0), tzinfo=zone) + dt.timedelta(minutes=rng.randint(0, 14 * 60))
    start = local.astimezone(dt.UTC)
    story = _Story(key, category, description, reporter=rng.randrange(20), at=start)
    if rng.random() < 0.08:
        story.steps.append(_Step(_minutes(start, rng.randint(4, 15)), "owner", TicketAction.CANCEL, note="自己修好了"))
        return story
    moment = _minutes(start, rng.choice((3, 5, 8, 12, 15, 18, 25, 40)))
    rounds = 2 if rng.random() < 0.12 else 1
    for round_number in range(rounds):
        story.steps.append(_Step(moment, "technician", TicketAction.ACCEPT))
        moment = _minutes(moment, rng.randint(15, 110))
        story.steps.append(_Step(moment, "technician", TicketAction.CHECK_IN))
        moment = _minutes(moment, rng.randint(2, 10))
        story.steps.append(_Step(moment, "technician", TicketAction.START))
        moment = _minutes(moment, rng.randint(15, 200))
        story.steps.append(_Step(moment, "technician", TicketAction.RESOLVE, note=rng.choice(_RESOLUTIONS[category])))
        moment = _minutes(moment, rng.randint(30, 20 * 60))
        if round_number + 1 < rounds:
            story.steps.append(_Step(moment, "owner", TicketAction.REOPEN, note="又坏了，请再来看看"))
            moment = _minutes(moment, rng.randint(5, 20))
    story.steps.append(
        _Step(moment, "owner", TicketAction.CONFIRM, rating=rng.choice(_RATINGS), comment=rng.choice(_COMMENTS))
    )
    return story


def _open_stories(now: dt.datetime) -> list[_Story]:
    """The board as the dispatcher finds it: one ticket at every stage."""

    def at(minutes_ago: int) -> dt.datetime:
        return _minutes(now, -minutes_ago)

    accept, check_in, start = TicketAction.ACCEPT, TicketAction.CHECK_IN, TicketAction.START
    return [
        _Story(101, Category.PLUMBING, "厨房下水道堵了，水排不下去", reporter=2, at=at(12)),
        _Story(
            102,
            Category.HVAC,
            "客厅空调不制冷，开了一晚上还是热",
            reporter=4,
            at=at(50),
            steps=[_Step(at(44), "technician", accept)],
        ),
        _Story(
            103,
            Category.ELECTRICAL,
            "卧室插座冒火花，跳闸了，有焦味",
            reporter=7,
            at=at(35),
            steps=[_Step(at(33), "technician", accept), _Step(at(10), "technician", check_in)],
        ),
        _Story(
            104,
            Category.PLUMBING,
            "卫生间马桶水箱一直漏水",
            reporter=10,
            at=at(120),
            steps=[
                _Step(at(110), "technician", accept),
                _Step(at(70), "technician", check_in),
                _Step(at(65), "technician", start),
            ],
        ),
        _Story(
            105,
            Category.APPLIANCE,
            "热水器打不着火，没有热水",
            reporter=1,
            at=at(180),
            steps=[
                _Step(at(170), "technician", accept),
                _Step(at(120), "technician", check_in),
                _Step(at(115), "technician", TicketAction.WAIT_FOR_OWNER, note="业主临时外出，约好晚上七点再来"),
            ],
        ),
        _Story(
            106,
            Category.LOCKSMITH,
            "阳台推拉门锁坏了，锁不上",
            reporter=13,
            at=at(240),
            steps=[
                _Step(at(230), "technician", accept),
                _Step(at(200), "technician", check_in),
                _Step(at(195), "technician", start),
                _Step(at(150), "technician", TicketAction.RESOLVE, note="更换锁扣和执手"),
            ],
        ),
        _Story(107, Category.CLEANING, "楼道里有股怪味", reporter=5, at=at(20)),
        _Story(
            108,
            Category.ELEVATOR,
            "电梯运行时有异响，还会抖动",
            reporter=None,
            at=at(25),
            area=LocationKind.LIFT,
            building="2栋",
            steps=[_Step(at(20), "technician", accept)],
        ),
        _Story(
            109,
            Category.ELEVATOR,
            "电梯按钮失灵，按了没反应",
            reporter=8,
            at=at(15),
            area=LocationKind.LIFT,
            building="1栋",
        ),
        _Story(
            110,
            Category.ELEVATOR,
            "电梯门关不上，一直开开关关",
            reporter=16,
            at=at(5),
            area=LocationKind.LIFT,
            building="1栋",
        ),
    ]


async def _act(
    session: AsyncSession, at: dt.datetime, step: Callable[[TicketChanges], Awaitable[Ticket]]
) -> Ticket | None:
    """One use case at `at`, closed like the API closes it; None when the demo script was refused."""
    try:
        async with ticket_changes(session, now=at) as changes:
            return await step(changes)
    except (DomainError, AccessDenied):
        return None


async def _play(session: AsyncSession, cast: _Cast, stories: list[_Story], rng: random.Random) -> None:
    tickets_by_story: dict[int, int] = {}
    agenda: list[tuple[dt.datetime, int, int, _Step | None]] = []
    for story in stories:
        agenda.append((story.at, story.key, -1, None))
        agenda.extend((step.at, story.key, position, step) for position, step in enumerate(story.steps))
    by_key = {story.key: story for story in stories}
    abandoned: set[int] = set()
    dispatcher = await cast.principal(cast.dispatcher_user)
    for at, key, _, step in sorted(agenda, key=lambda item: (item[0], item[1], item[2])):
        story = by_key[key]
        if key in abandoned:
            continue
        if step is None:
            reporter, report = await _report(cast, story, rng)
            principal = await cast.principal(reporter)
            submitted = await _act(
                session, at, partial(tickets.submit_ticket_in, principal=principal, now=at, report=report)
            )
            if submitted is None:
                abandoned.add(key)
                continue
            tickets_by_story[key] = submitted.id
            await _unblock(session, cast, dispatcher, submitted, story, at)
            continue
        ticket = await session.get(Ticket, tickets_by_story[key])
        assert ticket is not None
        actor = await _actor(cast, dispatcher, ticket, story, step.who)
        request = tickets.ActionRequest(
            ticket_id=ticket.id,
            action=TicketAction(step.action),
            note=step.note,
            rating=step.rating,
            comment=step.comment,
            location=_site(cast, ticket) if step.action is TicketAction.CHECK_IN else None,
        )
        if actor is None or not await _act(
            session, at, partial(tickets.transition_ticket_in, principal=actor, now=at, request=request)
        ):
            abandoned.add(key)


async def _report(cast: _Cast, story: _Story, rng: random.Random) -> tuple[int, tickets.FaultReport]:
    """Who reports the story's fault (an owner, or the dispatcher taking a phone call), and the report."""
    building = cast.buildings[story.building].id if story.building else None
    if story.reporter is not None:
        unit = None if story.area else cast.owner_units[story.reporter]
        return cast.owner_users[story.reporter], tickets.FaultReport(
            description=story.description,
            unit_id=unit,
            project_id=None if unit is not None else cast.project_id,
            location_kind=story.area,
            building_id=building,
        )
    caller = (await cast.phone_caller(story.building or "2栋", rng))[1]
    return cast.dispatcher_user, tickets.FaultReport(
        description=story.description,
        project_id=cast.project_id,
        location_kind=story.area,
        building_id=building,
        reporter_party_id=caller,
    )


async def _unblock(
    session: AsyncSession, cast: _Cast, dispatcher: Principal, ticket: Ticket, story: _Story, at: dt.datetime
) -> None:
    """What a dispatcher does when a scripted ticket would otherwise stall: triage an unclear report, and
    hand a job nobody could take to someone with the skill (the open board keeps such tickets on purpose:
    they have no script)."""
    if not story.steps:
        return
    moment = _minutes(at, 3)
    if ticket.status is TicketStatus.TRIAGE:
        await _act(
            session,
            moment,
            partial(
                tickets.categorize_ticket_in,
                principal=dispatcher,
                now=moment,
                ticket_id=ticket.id,
                category=story.category,
                priority=None,
                version=None,
            ),
        )
    if ticket.status is TicketStatus.NEW:
        skilled = [t for t in cast.technicians if story.category.value in t.skills]
        if skilled:
            await _act(
                session,
                moment,
                partial(
                    tickets.assign_ticket_in,
                    principal=dispatcher,
                    now=moment,
                    ticket_id=ticket.id,
                    technician_id=skilled[0].id,
                    version=None,
                ),
            )


async def _actor(cast: _Cast, dispatcher: Principal, ticket: Ticket, story: _Story, who: str) -> Principal | None:
    if who == "dispatcher":
        return dispatcher
    if who == "owner":
        return await cast.principal(cast.owner_users[story.reporter]) if story.reporter is not None else dispatcher
    if ticket.assignee_id is None or ticket.assignee_id not in cast.technician_users:
        return None
    return await cast.principal(cast.technician_users[ticket.assignee_id])


def _site(cast: _Cast, ticket: Ticket) -> GeoPoint:
    for building in cast.buildings.values():
        if building.id == ticket.building_id and building.latitude is not None and building.longitude is not None:
            return GeoPoint(building.latitude, building.longitude)
    return cast.centre


# (name, kind, building, model, location, install date offset in days, interval days, days since last service)
_EQUIPMENT = (
    ("1栋1号电梯", EquipmentKind.LIFT, "1栋", "通力 KONE MonoSpace 500", "1栋东侧井道", 2190, 15, 14),
    ("1栋2号电梯", EquipmentKind.LIFT, "1栋", "通力 KONE MonoSpace 500", "1栋西侧井道", 2190, 15, 9),
    ("2栋1号电梯", EquipmentKind.LIFT, "2栋", "通力 KONE MonoSpace 500", "2栋东侧井道", 2190, 15, 16),
    ("2栋2号电梯", EquipmentKind.LIFT, "2栋", "通力 KONE MonoSpace 500", "2栋西侧井道", 2190, 15, 3),
    ("生活水泵 1号", EquipmentKind.WATER_PUMP, "1栋", "格兰富 CR 10-6", "地下一层泵房", 2190, 30, 21),
    ("消防喷淋系统", EquipmentKind.FIRE_SYSTEM, "商业裙楼", "湿式报警阀组 ZSFZ150", "裙楼消防控制室", 2190, 30, 26),
    ("备用柴油发电机", EquipmentKind.GENERATOR, "商业裙楼", "康明斯 C250D5", "地下一层发电机房", 2000, 90, 61),
    ("南门车辆道闸", EquipmentKind.ACCESS_GATE, None, "捷顺 JSDZ0601", "小区南门", 1500, 60, 33),
)
_MAINTENANCE_NOTES = {
    EquipmentKind.LIFT: "半月保养：润滑导轨，检查门机和安全回路",
    EquipmentKind.WATER_PUMP: "检查机械密封和压力罐，运行正常",
    EquipmentKind.FIRE_SYSTEM: "末端试水，报警阀动作正常",
    EquipmentKind.GENERATOR: "空载试机30分钟，更换机油滤芯",
    EquipmentKind.ACCESS_GATE: "校准地感，紧固闸杆",
}
_SKILLS = {
    EquipmentKind.LIFT: "ELEVATOR",
    EquipmentKind.WATER_PUMP: "PLUMBING",
    EquipmentKind.FIRE_SYSTEM: "FIRE_SAFETY",
    EquipmentKind.GENERATOR: "ELECTRICAL",
    EquipmentKind.ACCESS_GATE: "LOCKSMITH",
}


async def _equipment(session: AsyncSession, cast: _Cast, project_id: int, today: dt.date) -> tuple[int, int]:
    records = 0
    for name, kind, building, model, location, age_days, interval, since in _EQUIPMENT:
        last = today - dt.timedelta(days=since)
        installed = today - dt.timedelta(days=age_days)
        equipment = Equipment(
            project_id=project_id,
            building_id=cast.buildings[building].id if building else None,
            name=name,
            kind=kind,
            model=model,
            location=location,
            install_date=installed,
            maintenance_interval_days=interval,
            last_maintained_on=last,
            next_due_on=last + dt.timedelta(days=interval),
        )
        session.add(equipment)
        await session.flush()
        skilled = [t.id for t in cast.technicians if _SKILLS[kind] in t.skills]
        for cycle in range(4):
            performed = last - dt.timedelta(days=interval * cycle)
            if performed < installed:
                break
            session.add(
                MaintenanceRecord(
                    equipment_id=equipment.id,
                    technician_id=skilled[cycle % len(skilled)] if skilled else None,
                    performed_on=performed,
                    notes=_MAINTENANCE_NOTES[kind],
                    recorded_by_user_id=cast.admin_user,
                )
            )
            records += 1
    await session.flush()
    return len(_EQUIPMENT), records


async def seed_dispatch(
    session: AsyncSession, *, project_id: int, today: dt.date, now: dt.datetime | None = None
) -> DispatchDemoSummary:
    """Add the demo's tickets and equipment to the freshly seeded community, in the caller's transaction."""
    project = await session.get(Project, project_id)
    assert project is not None
    zone = ZoneInfo(project.timezone)
    if now is None:
        now = demo_now(today, zone)
    rng = random.Random(_SEED)
    cast = _Cast(session, project_id, today)
    await cast.load()
    closed = [_closed_story(key, rng, today, zone) for key in range(_CLOSED_TICKETS)]
    opened = _open_stories(now)
    await _play(session, cast, closed + opened, rng)
    equipment, records = await _equipment(session, cast, project_id, today)
    return DispatchDemoSummary(
        open_tickets=len(opened), closed_tickets=len(closed), equipment=equipment, maintenance_records=records
    )
