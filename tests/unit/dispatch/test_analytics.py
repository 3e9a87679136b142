"""Specification of the dispatch analytics summary (dispatch/analytics.py)."""

from __future__ import annotations

import datetime as dt
import math

from hypothesis import given
from hypothesis import strategies as st

from dispatch.analytics import (
    AnalyticsPeriod,
    Durations,
    TicketRecord,
    durations,
    p90,
    summarize,
)
from kernel.vocabulary import TicketStatus

T0 = dt.datetime(2026, 11, 1, 15, 30, tzinfo=dt.UTC)  # 23:30 in Shanghai


def record(ticket_id: int, **fields: object) -> TicketRecord:
    values: dict[str, object] = {
        "ticket_id": ticket_id,
        "created_at": T0,
        "status": TicketStatus.NEW,
        "category": "PLUMBING",
        "building": "A1",
        "site": "A1 101",
        "technician_id": None,
        "accepted_at": None,
        "on_site_at": None,
        "resolved_at": None,
        "rating": None,
        "breached": False,
    }
    values.update(fields)
    return TicketRecord(**values)  # type: ignore[arg-type]


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def test_p90_is_the_nearest_rank_value() -> None:
    assert p90([]) is None
    assert p90([7.0]) == 7.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0
    assert p90([float(n) for n in range(1, 12)]) == 10.0


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=60))
def test_p90_is_the_smallest_value_that_at_least_ninety_percent_do_not_exceed(values: list[float]) -> None:
    result = p90(values)
    assert result in values
    assert sum(v <= result for v in values) >= math.ceil(0.9 * len(values))
    assert all(
        sum(v <= smaller for v in values) < math.ceil(0.9 * len(values)) for smaller in values if smaller < result
    )


def test_durations_skip_tickets_that_never_got_that_far() -> None:
    assert durations([(T0, minutes(10)), (T0, None), (T0, minutes(20))]) == Durations(2, 15.0, 20.0)
    assert durations([(T0, None)]) == Durations(0, None, None)


def test_periods_follow_the_project_time_zone() -> None:
    records = [record(1), record(2, created_at=minutes(60)), record(3, created_at=T0 + dt.timedelta(days=30))]
    by_day = summarize(records, period=AnalyticsPeriod.DAY, timezone="Asia/Shanghai").by_period
    by_week = summarize(records, period=AnalyticsPeriod.WEEK, timezone="Asia/Shanghai").by_period
    by_month = summarize(records, period=AnalyticsPeriod.MONTH, timezone="UTC").by_period
    assert by_day == (("2026-11-01", 1), ("2026-11-02", 1), ("2026-12-01", 1))
    assert by_week == (("2026-W44", 1), ("2026-W45", 1), ("2026-W49", 1))
    assert by_month == (("2026-11", 2), ("2026-12", 1))


def test_compliance_judges_finished_work_and_open_breaches() -> None:
    report = summarize(
        [
            record(1, status=TicketStatus.CLOSED, resolved_at=minutes(60)),
            record(2, status=TicketStatus.RESOLVED, resolved_at=minutes(600), breached=True),
            record(3, status=TicketStatus.ASSIGNED, breached=True),
            record(4, status=TicketStatus.ASSIGNED),
            record(5, status=TicketStatus.CANCELLED),
        ],
        period=AnalyticsPeriod.DAY,
        timezone="UTC",
    )
    assert (report.sla_judged, report.sla_met, report.sla_compliance_rate) == (3, 1, 0.3333)
    assert summarize([record(1)], period=AnalyticsPeriod.DAY, timezone="UTC").sla_compliance_rate is None


def test_technicians_and_fault_sites_are_ranked() -> None:
    report = summarize(
        [
            record(1, technician_id=9, accepted_at=minutes(4), rating=5, resolved_at=minutes(50)),
            record(2, technician_id=9, accepted_at=minutes(8), rating=4, site="A2 LIFT", category="ELEVATOR"),
            record(3, technician_id=2, site="A2 LIFT", category="ELEVATOR", building=None),
        ],
        period=AnalyticsPeriod.DAY,
        timezone="UTC",
    )
    assert [(t.technician_id, t.tickets, t.resolved, t.average_rating, t.ratings) for t in report.technicians] == [
        (2, 1, 0, None, 0),
        (9, 2, 1, 4.5, 2),
    ]
    assert report.technicians[1].time_to_accept == Durations(2, 6.0, 8.0)
    assert [(site.site, site.count) for site in report.fault_sites] == [("A2 LIFT", 2), ("A1 101", 1)]
    assert report.by_category == (("ELEVATOR", 2), ("PLUMBING", 1))
    assert report.by_building == (("A1", 2), ("(no building)", 1))
