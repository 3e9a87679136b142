"""Cells as statements write them: money with noise, times in the project's zone, headers by folded name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.reconciliation.statement import StatementRejected
from billing.reconciliation.tabular import Header, decode_text, header_key, parse_money, parse_time

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("`100.00", "100.00"),
        ("1,200.50\t", "1200.50"),
        ("¥88.80", "88.80"),
        ("-0.60", "-0.60"),
        ("", "0"),
        ("--", "0"),
        ("１２.３０", "12.30"),
    ],
)
def test_money_cells_lose_their_noise(written: str, amount: str) -> None:
    assert parse_money(written, row=1, column="金额") == Decimal(amount)


def test_a_float_cell_from_excel_keeps_its_fen() -> None:
    assert parse_money(1200.1, row=1, column="金额") == Decimal("1200.1")


def test_sub_fen_money_is_refused_unless_the_column_allows_it() -> None:
    with pytest.raises(StatementRejected, match="decimals"):
        parse_money("0.60001", row=3, column="金额")
    assert parse_money("0.60001", row=3, column="手续费", places=5) == Decimal("0.60001")


@pytest.mark.parametrize(
    "written", ["2026-12-01 09:15:02", "2026/12/01 09:15:02", "`2026-12-01 09:15:02", "20261201 09:15:02"]
)
def test_statement_times_are_aware_in_the_projects_zone(written: str) -> None:
    assert parse_time(written, zone=SHANGHAI, row=1, column="交易时间") == dt.datetime(
        2026, 12, 1, 9, 15, 2, tzinfo=SHANGHAI
    )


def test_a_date_alone_is_midnight_in_the_projects_zone() -> None:
    assert parse_time("2026年12月01日", zone=SHANGHAI, row=1, column="日期") == dt.datetime(
        2026, 12, 1, tzinfo=SHANGHAI
    )


def test_a_time_that_is_no_time_names_its_row() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse_time("yesterday", zone=SHANGHAI, row=7, column="交易时间")
    assert (refused.value.row, refused.value.column) == (7, "交易时间")


def test_full_width_and_ascii_brackets_fold_to_one_header() -> None:
    assert header_key("收入金额（+元）") == header_key("收入金额(+元)") == header_key(" `收入金额 (+元)")
    header = Header.of(1, ["交易日期", "收入金额(+元)"])
    assert header.find("收入金额（+元）") == 1


def test_text_is_read_as_utf8_with_or_without_a_bom_or_else_gbk() -> None:
    # A whole line, as files are: two GBK characters alone can happen to be valid UTF-8.
    text = "交易日期,摘要,对方户名,借方发生额"
    assert (
        decode_text(text.encode())
        == decode_text(b"\xef\xbb\xbf" + text.encode())
        == decode_text(text.encode("gbk"))
        == text
    )


def test_a_profile_that_names_gbk_decodes_even_text_that_would_pass_as_utf8() -> None:
    assert decode_text("摘要".encode("gbk"), "GBK") == "摘要"
