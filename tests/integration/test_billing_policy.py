"""Who sees a unit's billing is one rule: `may_see_unit_billing` in Python and its SQL twin
`visible_unit_billing` (what the lists of bills and payments run) pick the same bills for every kind of
caller, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from api.state import AppState
from billing.policy import may_see_unit_billing, unit_billing_viewer, visible_unit_billing
from billing.queries import BillFilterSpec, BillStatusFilter, list_bills
from db.batch_reads import dialect_of
from db.conditions import given_values
from db.migrate import refresh_planner_statistics
from db.models import Bill, BillRun, Unit
from kernel.principal import Principal, Role
from kernel.vocabulary import UnitKind
from tests.integration.world import World, build_world

UNITS = ("alice", "bob", "vacant", "shop", "carol")


def _callers(world: World) -> dict[str, Principal]:
    lakeside, hillside = world.ids["Project:lakeside"], world.ids["Project:hillside"]
    alice, carol = world.ids["Unit:alice"], world.ids["Unit:carol"]
    return {
        "finance of Lakeside": Principal(user_id=1, roles={lakeside: frozenset({Role.FINANCE})}),
        "admin of Hillside": Principal(user_id=2, roles={hillside: frozenset({Role.ADMIN})}),
        "dispatcher of Lakeside": Principal(user_id=3, roles={lakeside: frozenset({Role.DISPATCHER})}),
        "owner of alice's flat": Principal(user_id=4, roles={lakeside: frozenset({Role.OWNER})}, unit_ids=frozenset({alice})),
        "occupant of alice's flat without the owner role": Principal(
            user_id=5, roles={lakeside: frozenset({Role.DISPATCHER})}, unit_ids=frozenset({alice})
        ),
        "owner in Lakeside occupying a Hillside flat": Principal(
            user_id=6, roles={lakeside: frozenset({Role.OWNER})}, unit_ids=frozenset({carol})
        ),
        "finance of Lakeside, owner in Hillside": Principal(
            user_id=7,
            roles={lakeside: frozenset({Role.FINANCE}), hillside: frozenset({Role.OWNER})},
            unit_ids=frozenset({carol}),
        ),
        "nobody": Principal(user_id=8, roles={}),
    }


async def _one_bill_per_unit(state: AppState, world: World) -> None:
    async with state.session_factory() as session, session.begin():
        runs = {}
        for project in ("lakeside", "hillside"):
            run = BillRun(
                project_id=world.ids[f"Project:{project}"], period="2026-11", period_start=dt.date(2026, 11, 1),
                period_end=dt.date(2026, 11, 30),
            )
            session.add(run)
            runs[project] = run
        await session.flush()
        for unit in UNITS:
            run = runs["hillside" if unit == "carol" else "lakeside"]
            session.add(
                Bill(
                    project_id=run.project_id, run_id=run.id, unit_id=world.ids[f"Unit:{unit}"], period="2026-11",
                    period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30), issued_on=dt.date(2026, 12, 1),
                    due_date=dt.date(2026, 12, 16), total_amount=Decimal("100.00"),
                )
            )


@pytest.mark.parametrize(
    ("caller", "bills_seen"),
    [
        ("finance of Lakeside", 4),
        ("admin of Hillside", 1),
        ("dispatcher of Lakeside", 0),
        ("owner of alice's flat", 1),
        ("occupant of alice's flat without the owner role", 0),
        ("owner in Lakeside occupying a Hillside flat", 0),
        ("finance of Lakeside, owner in Hillside", 5),
        ("nobody", 0),
    ],
)
async def test_the_sql_twin_picks_the_bills_the_predicate_lets_the_caller_see(
    state: AppState, caller: str, bills_seen: int
) -> None:
    # given a bill for every unit of both projects
    world = await build_world(state)
    await _one_bill_per_unit(state, world)
    principal = _callers(world)[caller]

    # when the bills are filtered in SQL and by the predicate
    async with state.session_factory() as session:
        every_bill = (await session.scalars(select(Bill))).all()
        viewer = unit_billing_viewer(principal)
        in_sql = set(
            await session.scalars(
                select(Bill.id).where(
                    visible_unit_billing(
                        dialect_of(state.session_factory),
                        given_values(viewer),
                        project_column=Bill.project_id,
                        unit_column=Bill.unit_id,
                    )
                ),
                viewer,
            )
        )
    in_python = {
        bill.id for bill in every_bill if may_see_unit_billing(principal, project_id=bill.project_id, unit_id=bill.unit_id)
    }

    # then both pick the same bills: the project's for its finance staff, an OWNER's own flat's
    assert in_sql == in_python
    assert len(in_sql) == bills_seen


@pytest.mark.parametrize(
    "caller",
    [
        "finance of Lakeside",
        "admin of Hillside",
        "dispatcher of Lakeside",
        "owner of alice's flat",
        "occupant of alice's flat without the owner role",
        "owner in Lakeside occupying a Hillside flat",
        "finance of Lakeside, owner in Hillside",
        "nobody",
    ],
)
async def test_a_page_of_bills_holds_the_bills_the_predicate_lets_the_caller_see_under_every_filter(
    state: AppState, caller: str
) -> None:
    # given a bill for every unit of both projects, all open and due on 16 December
    world = await build_world(state)
    await _one_bill_per_unit(state, world)
    principal = _callers(world)[caller]
    async with state.session_factory() as session:
        every_bill = (await session.scalars(select(Bill).order_by(Bill.id))).all()
    visible = [bill for bill in every_bill if may_see_unit_billing(principal, project_id=bill.project_id, unit_id=bill.unit_id)]
    lakeside, alice = world.ids["Project:lakeside"], world.ids["Unit:alice"]
    before_due, after_due = dt.date(2026, 12, 1), dt.date(2027, 1, 1)
    expected = {
        (BillFilterSpec(), before_due): visible,
        (BillFilterSpec(project_id=lakeside, period="2026-11"), before_due): [b for b in visible if b.project_id == lakeside],
        (BillFilterSpec(period="2026-10"), before_due): [],
        (BillFilterSpec(unit_id=alice), before_due): [b for b in visible if b.unit_id == alice],
        (BillFilterSpec(building_id=world.ids["Building:a1"]), before_due): [
            b for b in visible if b.unit_id in {world.ids["Unit:alice"], world.ids["Unit:bob"]}
        ],
        (BillFilterSpec(status=BillStatusFilter.OVERDUE), before_due): [],
        (BillFilterSpec(status=BillStatusFilter.OVERDUE), after_due): visible,
        (BillFilterSpec(status=BillStatusFilter.OPEN), before_due): visible,
        (BillFilterSpec(status=BillStatusFilter.PAID), after_due): [],
    }
    for (spec, today), bills in expected.items():
        # when the list is read a page at a time
        first = await list_bills(state.session_factory, principal, spec=spec, today=today, limit=2, after_id=None)
        read = [row.id for row in first.rows[:2]]
        if len(first.rows) > 2:  # the extra row: another page follows
            rest = await list_bills(state.session_factory, principal, spec=spec, today=today, limit=100, after_id=read[-1])
            read += [row.id for row in rest.rows]
        # then the pages hold those bills in id order, and the count counts them all
        assert read == [b.id for b in bills], (spec, today)
        assert await first.count() == len(bills), (spec, today)


async def _a_year_of_bills_for_a_building(state: AppState, world: World) -> None:
    """Alice's flat and 40 neighbours in Lakeside, a bill each a month: the owner's are a few of many."""
    async with state.session_factory() as session, session.begin():
        neighbours = [
            Unit(project_id=world.ids["Project:lakeside"], building_id=world.ids["Building:a1"], number=f"{floor}0{door}",
                 floor=floor, floor_area=Decimal("90.00"), kind=UnitKind.APARTMENT)
            for floor in range(2, 12) for door in range(1, 5)
        ]
        session.add_all(neighbours)
        await session.flush()
        unit_ids = [world.ids["Unit:alice"], *(unit.id for unit in neighbours)]
        for month in range(1, 13):
            start = dt.date(2025, month, 1)
            run = BillRun(project_id=world.ids["Project:lakeside"], period=f"2025-{month:02}", period_start=start,
                          period_end=start + dt.timedelta(days=27))
            session.add(run)
            await session.flush()
            session.add_all(
                Bill(
                    project_id=run.project_id, run_id=run.id, unit_id=unit_id, period=run.period, period_start=run.period_start,
                    period_end=run.period_end, issued_on=run.period_end, due_date=run.period_end + dt.timedelta(days=15),
                    total_amount=Decimal("100.00"),
                )
                for unit_id in unit_ids
            )


async def test_sqlite_plans_an_owners_bills_by_their_unit_once_it_has_statistics(state: AppState) -> None:
    if state.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its statistics; refresh_planner_statistics leaves it alone")
    # given a year of bills for a building, and the statement an owner's list of bills runs
    world = await build_world(state)
    await _a_year_of_bills_for_a_building(state, world)
    viewer = unit_billing_viewer(_callers(world)["owner of alice's flat"])
    owners_bills = (
        select(Bill.id)
        .where(visible_unit_billing("sqlite", given_values(viewer), project_column=Bill.project_id, unit_column=Bill.unit_id))
        .order_by(Bill.id)
        .limit(13)
        .params(viewer)
    )
    sql = str(owners_bills.compile(dialect=state.engine.dialect, compile_kwargs={"literal_binds": True}))

    async def plan() -> str:
        async with state.engine.connect() as connection:
            return " / ".join(row[-1] for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))

    # when SQLite is given statistics of the tables
    without_statistics = await plan()
    await refresh_planner_statistics(state.engine)
    with_statistics = await plan()

    # then it reads the owner's bills by the unit's index instead of every bill of the project
    assert "ix_bill_project_id_period" in without_statistics
    assert "sqlite_autoindex_bill_1 (unit_id=?)" in with_statistics
