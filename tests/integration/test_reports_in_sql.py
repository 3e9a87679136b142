"""The reports the database sums agree with the pure cores fed bill by bill, on both databases, over two
years of a generated project's books (`benchmarks.report_history`: owners who pay on time, late, in two
parts, stop paying, or get vacancy credits; discounts; the latest bills still open), read as of days that
fall on period starts and ends, due dates and in between."""

from __future__ import annotations

import datetime as dt

from api.state import AppState
from benchmarks.report_history import ZONE, seed_report_history
from billing.reports.per_bill import ageing_per_bill, collection_per_bill
from billing.reports.reading import read_arrears_ageing, read_collection_rate
from tests.integration.billing_world import books_balance  # noqa: F401  (autouse: the generated books balance)

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
DAYS = ("2025-06-30", "2025-07-01", "2025-12-16", "2026-03-17", "2026-08-31", "2026-11-01", "2026-11-16", "2026-12-05")


async def test_two_years_of_generated_books_read_the_same_summed_in_the_database_and_bill_by_bill(state: AppState) -> None:
    async with state.session_factory() as session, session.begin():
        history = await seed_report_history(session, units=120, months=24, now=NOW, seed=7)
    assert history.rows["adjustments"] > 0 and history.rows["payments"] > 0
    project = history.project_id
    periods = history.periods

    for day in DAYS:
        as_of = dt.date.fromisoformat(day)
        for shown in (periods[-12:], periods[:3], periods[10:14]):
            in_sql = (
                await read_collection_rate(
                    state.session_factory, None, project_id=project, first_period=shown[0].label,
                    last_period=shown[-1].label, as_of=as_of, now=NOW,
                )
            ).report
            async with state.session_factory() as session:
                per_bill = await collection_per_bill(session, project_id=project, periods=shown, as_of=as_of, zone=ZONE)
            assert in_sql == per_bill, (day, shown[0].label, shown[-1].label)
            if shown[-1] == periods[-1]:
                year = in_sql
        ageing = (await read_arrears_ageing(state.session_factory, None, project_id=project, as_of=as_of, top=10, now=NOW)).report
        async with state.session_factory() as session:
            assert ageing == await ageing_per_bill(session, project_id=project, as_of=as_of, zone=ZONE, top=10), day

    # What was compared is not empty: the year shown has every kind of figure, and arrears in every bucket.
    assert all(year.total_of(p.label).arrears_recovered > 0 for p in periods[-11:])
    assert any(line.fee_kind == "ADJUSTMENT" and line.figures.receivable < 0 for line in year.cells)
    assert all(amount > 0 for amount in ageing.total.buckets) and ageing.not_yet_due > 0
