"""Income by fee kind and by channel from journal postings, against a fixture computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.reports.income import Granularity, IncomeLine, JournalPosting, income_report

ZONE = ZoneInfo("Asia/Shanghai")
MARCH_1, MARCH_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def d(text: str) -> Decimal:
    return Decimal(text)


def posting(when: str, kind: str, account: str, debit: str = "0", credit: str = "0") -> JournalPosting:
    return JournalPosting(dt.datetime.fromisoformat(when).replace(tzinfo=ZONE), kind, account, d(debit), d(credit))


POSTINGS = [
    posting("2026-02-28T23:59", "PAYMENT", "CLEARING:WECHAT", debit="999.00"),  # the day before the range
    posting("2026-03-01T09:00", "BILLS_ISSUED", "INCOME:PROPERTY", credit="637.80"),
    posting("2026-03-01T09:00", "BILLS_ISSUED", "INCOME:WATER", credit="61.50"),
    posting("2026-03-01T09:00", "BILLS_ISSUED", "RECEIVABLE", debit="699.30"),
    posting("2026-03-01T23:30", "PAYMENT", "CLEARING:WECHAT", debit="100.00"),
    posting("2026-03-01T23:30", "PAYMENT", "PREPAID_CREDIT", credit="100.00"),
    posting("2026-03-02T00:10", "PAYMENT", "CLEARING:ALIPAY", debit="50.00"),
    posting("2026-03-02T00:10", "LATE_FEE", "LATE_FEE_INCOME", credit="3.21"),
    posting("2026-03-03T11:00", "ADJUSTMENT", "ADJUSTMENTS", debit="90.00"),
    posting("2026-03-03T12:00", "REFUND", "CLEARING:WECHAT", credit="20.00"),
    # money already received moving on to the bank: not income
    posting("2026-03-03T15:00", "SETTLEMENT", "CLEARING:WECHAT", credit="80.00"),
    posting("2026-03-03T15:00", "SETTLEMENT", "BANK:ICBC", debit="79.52"),
    posting("2026-03-03T15:00", "SETTLEMENT", "CHANNEL_FEES", debit="0.48"),
    posting("2026-03-04T08:00", "REVERSAL", "CLEARING:ALIPAY", credit="50.00"),
    posting("2026-04-01T00:30", "PAYMENT", "CLEARING:CASH", debit="5.00"),  # the day after the range
]


def test_daily_revenue_by_fee_kind_and_money_received_by_channel() -> None:
    report = income_report(POSTINGS, first_day=MARCH_1, last_day=MARCH_31, granularity=Granularity.DAY, zone=ZONE)

    assert report.revenue == (
        IncomeLine("2026-03-01", "PROPERTY", d("637.80")),
        IncomeLine("2026-03-01", "WATER", d("61.50")),
        IncomeLine("2026-03-02", "LATE_FEE", d("3.21")),
        IncomeLine("2026-03-03", "ADJUSTMENT", d("-90.00")),
    )
    assert report.received == (
        IncomeLine("2026-03-01", "WECHAT", d("100.00")),
        IncomeLine("2026-03-02", "ALIPAY", d("50.00")),
        IncomeLine("2026-03-03", "WECHAT", d("-20.00")),
        IncomeLine("2026-03-04", "ALIPAY", d("-50.00")),
    )
    assert report.total_revenue == d("612.51")
    assert report.total_received == d("80.00")
    assert report.received_by_channel == {"ALIPAY": d("0.00"), "WECHAT": d("80.00")}
    assert list(report.revenue_by_fee_kind) == ["PROPERTY", "WATER", "LATE_FEE", "ADJUSTMENT"]
    assert len(report.buckets) == 31


def test_monthly_buckets_sum_the_days() -> None:
    report = income_report(
        POSTINGS, first_day=dt.date(2026, 2, 1), last_day=dt.date(2026, 4, 30), granularity=Granularity.MONTH, zone=ZONE
    )

    assert report.buckets == ("2026-02", "2026-03", "2026-04")
    assert report.received_by_bucket == {"2026-02": d("999.00"), "2026-03": d("80.00"), "2026-04": d("5.00")}
    assert report.revenue_by_bucket == {"2026-03": d("612.51")}


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        income_report(POSTINGS, first_day=MARCH_31, last_day=MARCH_1, granularity=Granularity.DAY, zone=ZONE)
