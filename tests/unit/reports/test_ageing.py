"""Arrears ageing against a fixture computed by hand, to the fen, and its laws."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.reports.ageing import (
    AGE_BUCKETS,
    AgeingFigures,
    OpenBill,
    ReceivableMovement,
    age_bucket,
    arrears_ageing,
    open_amounts_as_of,
)

ZONE = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2026, 6, 30)


def d(text: str) -> Decimal:
    return Decimal(text)


def open_bill(bill_id: int, unit: int, building: int, due: str, amount: str) -> OpenBill:
    return OpenBill(bill_id, unit, building, dt.date.fromisoformat(due), d(amount))


BILLS = [
    open_bill(1, 1, 1, "2026-06-20", "100.00"),  # 10 days past due
    open_bill(2, 1, 1, "2026-05-31", "50.00"),  # 30
    open_bill(3, 1, 1, "2026-05-30", "70.00"),  # 31
    open_bill(4, 2, 1, "2026-04-01", "200.00"),  # 90
    open_bill(5, 2, 1, "2026-03-31", "300.00"),  # 91
    open_bill(6, 3, 2, "2026-01-01", "400.00"),  # 180
    open_bill(7, 3, 2, "2025-12-31", "500.00"),  # 181
    open_bill(8, 3, 2, "2025-06-30", "10.00"),  # 365
    open_bill(9, 3, 2, "2025-06-29", "20.00"),  # 366
    open_bill(10, 4, 2, "2026-06-30", "60.00"),  # due today: not yet arrears
    open_bill(11, 4, 2, "2026-07-15", "80.00"),
    open_bill(12, 5, 2, "2026-01-01", "0.00"),  # paid
]


def buckets(*amounts: str) -> AgeingFigures:
    return AgeingFigures(tuple(d(amount) for amount in amounts))


def test_each_bill_falls_in_the_bucket_of_its_days_past_due() -> None:
    report = arrears_ageing(BILLS, as_of=AS_OF, top=2)

    assert report.total == buckets("150.00", "270.00", "700.00", "510.00", "20.00")
    assert report.total.total == d("1650.00")
    assert report.not_yet_due == d("140.00")
    assert report.buildings == (
        (1, buckets("150.00", "270.00", "300.00", "0", "0")),
        (2, buckets("0", "0", "400.00", "510.00", "20.00")),
    )
    assert [(unit.unit_id, unit.total, unit.bills, unit.oldest_due_date) for unit in report.units] == [
        (3, d("930.00"), 4, dt.date(2025, 6, 29)),
        (2, d("500.00"), 2, dt.date(2026, 3, 31)),
        (1, d("220.00"), 3, dt.date(2026, 5, 30)),
    ]
    assert [unit.unit_id for unit in report.top_debtors] == [3, 2]


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, 0), (1, 0), (30, 0), (31, 1), (90, 1), (91, 2), (180, 2), (181, 3), (365, 3), (366, 4), (4000, 4)]
)
def test_bucket_edges(days: int, bucket: int) -> None:
    assert age_bucket(days) == bucket
    assert AGE_BUCKETS[bucket].first_day <= days


def test_a_bills_open_amount_is_read_back_from_its_postings_to_any_day() -> None:
    def moment(day: str) -> dt.datetime:
        return dt.datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=ZONE)

    postings = [
        ReceivableMovement(7, moment("2026-01-01"), d("300.00")),  # issued
        ReceivableMovement(7, moment("2026-02-10"), d("5.00")),  # late fee charged on payment
        ReceivableMovement(7, moment("2026-02-10"), d("-100.00")),  # paid
        ReceivableMovement(7, moment("2026-03-01"), d("-205.00")),  # paid off
    ]
    end_of = lambda day: dt.datetime.combine(dt.date.fromisoformat(day) + dt.timedelta(days=1), dt.time(0), ZONE)  # noqa: E731

    assert open_amounts_as_of(postings, end_of("2025-12-31")) == {}
    assert open_amounts_as_of(postings, end_of("2026-02-09")) == {7: d("300.00")}
    assert open_amounts_as_of(postings, end_of("2026-02-28")) == {7: d("205.00")}
    assert open_amounts_as_of(postings, end_of("2026-03-01")) == {7: d("0.00")}


@st.composite
def open_bills(draw: st.DrawFn) -> list[OpenBill]:
    return [
        OpenBill(
            bill_id,
            unit := draw(st.integers(1, 6)),
            unit % 3,
            AS_OF + dt.timedelta(days=draw(st.integers(-800, 60))),
            Decimal(draw(st.integers(0, 1_000_000))).scaleb(-2),
        )
        for bill_id in range(draw(st.integers(0, 30)))
    ]


@given(open_bills(), st.integers(0, 10))
def test_buckets_add_up_to_the_total_arrears_at_every_level(bills: list[OpenBill], top: int) -> None:
    report = arrears_ageing(bills, as_of=AS_OF, top=top)
    overdue = sum((bill.open_amount for bill in bills if bill.due_date < AS_OF), Decimal("0.00"))

    assert report.total.total == overdue
    assert report.total.total + report.not_yet_due == sum((bill.open_amount for bill in bills), Decimal("0.00"))
    assert sum((figures for _, figures in report.buildings), AgeingFigures()) == report.total
    assert sum((unit.figures for unit in report.units), AgeingFigures()) == report.total
    assert all(unit.figures.total == sum(unit.figures.buckets, Decimal(0)) for unit in report.units)
    assert len(report.top_debtors) == min(top, len(report.units))
    assert [unit.total for unit in report.units] == sorted((unit.total for unit in report.units), reverse=True)
