"""Bank CSV and XLSX exports through a profile per account: encodings, 借/贷, totals, running balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.reconciliation.bank import BankProfile, DebitMeans, parse_bank_statement
from billing.reconciliation.statement import StatementRejected
from tests.unit.reconciliation.statements import bank_csv, bank_xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")
ICBC_HEADER = [
    "交易日期",
    "交易时间",
    "流水号",
    "借方发生额",
    "贷方发生额",
    "余额",
    "对方户名",
    "对方账号",
    "摘要",
    "附言",
]
ICBC = BankProfile(
    account="6222020200112233",
    date_column="交易日期",
    time_column="交易时间",
    serial_column="流水号",
    debit_column="借方发生额",
    credit_column="贷方发生额",
    balance_column="余额",
    counterparty_name_column="对方户名",
    counterparty_account_column="对方账号",
)
ROWS = [
    ["2026-12-02", "10:01:00", "B001", "", "1,200.00", "11200.00", "张三", "6217000010001234", "转账", "3-1-502物业费"],
    ["2026-12-02", "11:30:00", "B002", "20.00", "", "11180.00", "", "", "手续费", ""],
    ["2026-12-03", "09:00:00", "B003", "", "593.40", "11773.40", "财付通支付科技有限公司", "", "微信结算", ""],
]


def parse(content: bytes, profile: BankProfile = ICBC, filename: str = "statement.csv"):
    return parse_bank_statement(content, filename, profile=profile, zone=SHANGHAI)


def test_a_gbk_csv_with_a_debit_and_credit_pair_reads_money_in_positive() -> None:
    statement = parse(bank_csv(ROWS, header=ICBC_HEADER))
    first, fee, settlement = statement.lines
    assert first.amount == Decimal("1200.00")
    assert fee.amount == Decimal("-20.00")
    assert settlement.counterparty_name == "财付通支付科技有限公司"
    assert first.booked_at == dt.datetime(2026, 12, 2, 10, 1, tzinfo=SHANGHAI)
    assert first.memo == "转账 3-1-502物业费"
    assert first.line_key == "BANK:6222020200112233:B001"
    assert first.bank_reference == "B001"


def test_utf8_with_and_without_a_bom_read_alike() -> None:
    plain = parse(bank_csv(ROWS, header=ICBC_HEADER, encoding="utf-8")).lines
    with_bom = parse(bank_csv(ROWS, header=ICBC_HEADER, encoding="utf-8-sig")).lines
    assert plain == with_bom == parse(bank_csv(ROWS, header=ICBC_HEADER)).lines


def test_comment_and_title_lines_above_the_header_are_skipped() -> None:
    content = bank_csv(ROWS, header=ICBC_HEADER, preamble=["# 中国工商银行 账户明细", "账号：6222020200112233,,,"])
    assert len(parse(content).lines) == 3


def test_a_company_cash_journal_reads_debit_as_money_in() -> None:
    journal = BankProfile(
        account="cash-journal",
        date_column="日期",
        debit_column="借方",
        credit_column="贷方",
        debit_means=DebitMeans.MONEY_IN,
    )
    statement = parse(
        bank_csv([["2026-12-02", "300.00", ""], ["2026-12-02", "", "50.00"]], header=["日期", "借方", "贷方"]), journal
    )
    assert [line.amount for line in statement.lines] == [Decimal("300.00"), Decimal("-50.00")]


def test_a_single_amount_column_with_a_direction_mark() -> None:
    profile = BankProfile(account="ccb", date_column="记账日期", amount_column="发生额", direction_column="借贷标志")
    content = bank_csv(
        [["20261202", "88.00", "贷"], ["20261202", "12.00", "借"]], header=["记账日期", "发生额", "借贷标志"]
    )
    assert [line.amount for line in parse(content, profile).lines] == [Decimal("88.00"), Decimal("-12.00")]


def test_a_total_row_that_disagrees_is_refused_with_the_difference() -> None:
    rows = [*ROWS, ["合计", "", "", "20.00", "1793.00", "", "", "", "", ""]]
    with pytest.raises(StatementRejected) as refused:
        parse(bank_csv(rows, header=ICBC_HEADER))
    assert refused.value.column == "贷方发生额"
    assert refused.value.difference == Decimal("0.40")


def test_a_total_row_that_agrees_is_kept_as_the_files_own_totals() -> None:
    rows = [*ROWS, ["合计", "", "", "20.00", "1793.40", "", "", "", "", ""]]
    statement = parse(bank_csv(rows, header=ICBC_HEADER))
    assert len(statement.lines) == 3
    assert {t.name: t.stated for t in statement.totals} == {
        "借方发生额": Decimal("20.00"),
        "贷方发生额": Decimal("1793.40"),
    }


def test_a_broken_running_balance_is_refused_at_its_row() -> None:
    rows = [list(row) for row in ROWS]
    rows[2][5] = "11773.00"
    with pytest.raises(StatementRejected) as refused:
        parse(bank_csv(rows, header=ICBC_HEADER))
    assert refused.value.row == 4
    assert refused.value.difference == Decimal("-0.40")


def test_a_newest_first_export_passes_the_balance_check() -> None:
    assert len(parse(bank_csv(list(reversed(ROWS)), header=ICBC_HEADER)).lines) == 3


def test_an_xlsx_export_reads_like_the_csv() -> None:
    rows = [
        [
            r[0],
            r[1],
            r[2],
            float(r[3].replace(",", "")) if r[3] else None,
            float(r[4].replace(",", "")) if r[4] else None,
            float(r[5]),
            *r[6:],
        ]
        for r in ROWS
    ]
    xlsx = parse(bank_xlsx(rows, header=ICBC_HEADER, title="账户交易明细"), filename="statement.xlsx").lines
    assert [(line.line_key, line.amount) for line in xlsx] == [
        (line.line_key, line.amount) for line in parse(bank_csv(ROWS, header=ICBC_HEADER)).lines
    ]


def test_an_xlsx_with_a_part_that_expands_too_far_is_refused_before_openpyxl_reads_it() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 3_000_000)
    with pytest.raises(StatementRejected, match="decompression bomb"):
        parse(buffer.getvalue(), filename="statement.xlsx")


def test_rows_without_a_serial_number_get_content_keys_that_tell_identical_rows_apart() -> None:
    profile = BankProfile(account="abc", date_column="日期", amount_column="金额")
    lines = parse(bank_csv([["2026-12-02", "10.00"], ["2026-12-02", "10.00"]], header=["日期", "金额"]), profile).lines
    assert lines[0].line_key != lines[1].line_key
    assert lines[0].line_key.endswith(":1") and lines[1].line_key.endswith(":2")


def test_a_file_without_the_profiles_columns_is_refused_saying_so() -> None:
    with pytest.raises(StatementRejected, match="bank profile"):
        parse(bank_csv([["x"]], header=["something else"]))


def test_a_profile_needs_an_amount_or_a_debit_credit_pair() -> None:
    with pytest.raises(ValueError):
        BankProfile(account="a", date_column="日期")
