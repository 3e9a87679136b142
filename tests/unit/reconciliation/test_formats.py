"""Which parser a file goes to, whatever it is called."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from billing.reconciliation.bank import BankProfile
from billing.reconciliation.formats import StatementFormat, detect_format, parse_statement
from billing.reconciliation.statement import SourceKind, StatementRejected
from tests.unit.reconciliation.statements import (
    alipay_business_zip,
    alipay_trade,
    bank_csv,
    bank_xlsx,
    wechat_bill,
    wechat_payment,
)
from tests.unit.reconciliation.test_interbank import CREDIT, MT940, camt

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROFILE = BankProfile(account="icbc-1", date_column="日期", amount_column="金额")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (wechat_bill([wechat_payment(1, "1.00")]), StatementFormat.WECHAT),
        (wechat_bill([wechat_payment(1, "1.00")], compress=True), StatementFormat.WECHAT),
        (alipay_business_zip([alipay_trade(1, "1.00", service="0.00")]), StatementFormat.ALIPAY),
        (camt(CREDIT, closing="1800.00", count=1), StatementFormat.CAMT053),
        (MT940.format(closing="1480,00").encode(), StatementFormat.MT940),
        (bank_csv([["2026-12-02", "1.00"]], header=["日期", "金额"]), StatementFormat.BANK),
        (bank_xlsx([["2026-12-02", 1.0]], header=["日期", "金额"]), StatementFormat.BANK),
    ],
)
def test_the_format_is_told_by_the_content(content: bytes, expected: StatementFormat) -> None:
    assert detect_format(content) is expected


def test_a_wechat_bill_renamed_to_csv_still_goes_to_the_wechat_parser() -> None:
    statement = parse_statement(
        wechat_bill([wechat_payment(1, "1.00")]), "bank.csv", account="1900000109", zone=SHANGHAI
    )
    assert statement.source is SourceKind.WECHAT


def test_a_bank_export_needs_the_accounts_profile() -> None:
    content = bank_csv([["2026-12-02", "1.00"]], header=["日期", "金额"])
    with pytest.raises(StatementRejected, match="no bank profile"):
        parse_statement(content, "x.csv", account="icbc-1", zone=SHANGHAI)
    with pytest.raises(StatementRejected, match="not other"):
        parse_statement(content, "x.csv", account="other", zone=SHANGHAI, profile=PROFILE)
    assert len(parse_statement(content, "x.csv", account="icbc-1", zone=SHANGHAI, profile=PROFILE).lines) == 1
