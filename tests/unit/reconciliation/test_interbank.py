"""camt.053 (ISO 20022 XML) and SWIFT MT940 statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from billing.reconciliation.interbank import parse_camt053, parse_mt940
from billing.reconciliation.statement import StatementRejected

SHANGHAI = ZoneInfo("Asia/Shanghai")


def camt(
    entries: str, *, opening: str = "1000.00", closing: str = "1780.00", count: int = 2, credits: str = "800.00"
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT20261202</MsgId><CreDtTm>2026-12-03T06:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S-20261202</Id>
   <Acct><Id><Othr><Id>6222020200112233</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
    <Amt Ccy="CNY">{opening}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
    <Amt Ccy="CNY">{closing}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-02</Dt></Dt></Bal>
   <TxsSummry><TtlNtries><NbOfNtries>{count}</NbOfNtries></TtlNtries><TtlCdtNtries><NbOfNtries>1</NbOfNtries><Sum>{credits}</Sum></TtlCdtNtries></TxsSummry>
   {entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>""".encode()


CREDIT = """<Ntry><Amt Ccy="CNY">800.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
 <BookgDt><Dt>2026-12-02</Dt></BookgDt><AcctSvcrRef>ICBC20261202000123</AcctSvcrRef>
 <NtryDtls><TxDtls><Refs><EndToEndId>CY20261201000007</EndToEndId></Refs>
  <RltdPties><Dbtr><Pty><Nm>李四</Nm></Pty></Dbtr><DbtrAcct><Id><Othr><Id>6217000010009999</Id></Othr></Id></DbtrAcct></RltdPties>
  <RmtInf><Ustrd>3-2-101 物业费 2026年12月</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
DEBIT = """<Ntry><Amt Ccy="CNY">20.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
 <BookgDt><DtTm>2026-12-02T15:20:00+08:00</DtTm></BookgDt><AcctSvcrRef>ICBC20261202000124</AcctSvcrRef>
 <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs></TxDtls></NtryDtls><AddtlNtryInf>账户管理费</AddtlNtryInf></Ntry>"""


def test_camt_entries_become_signed_lines_with_their_references() -> None:
    statement = parse_camt053(camt(CREDIT + DEBIT), account="icbc-1", zone=SHANGHAI)
    credit, debit = statement.lines
    assert credit.amount == Decimal("800.00")
    assert credit.bank_reference == "ICBC20261202000123"
    assert credit.end_to_end_id == "CY20261201000007"
    assert credit.counterparty_name == "李四"
    assert credit.counterparty_account == "6217000010009999"
    assert credit.memo == "3-2-101 物业费 2026年12月"
    assert credit.booked_at == dt.datetime(2026, 12, 2, tzinfo=SHANGHAI)
    assert debit.amount == Decimal("-20.00")
    assert debit.end_to_end_id is None
    assert debit.memo == "账户管理费"
    assert debit.booked_at == dt.datetime(2026, 12, 2, 15, 20, tzinfo=SHANGHAI)
    assert credit.line_key == "BANK:icbc-1:ICBC20261202000123"


def test_a_camt_closing_balance_that_does_not_follow_is_refused_with_the_difference() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse_camt053(camt(CREDIT + DEBIT, closing="1790.00"), account="icbc-1", zone=SHANGHAI)
    assert refused.value.column == "S-20261202 CLBD"
    assert refused.value.difference == Decimal("-10.00")


def test_a_camt_entry_count_that_disagrees_is_refused() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse_camt053(camt(CREDIT + DEBIT, count=3), account="icbc-1", zone=SHANGHAI)
    assert refused.value.column == "S-20261202 NbOfNtries"


def test_a_camt_credit_sum_that_disagrees_is_refused() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse_camt053(camt(CREDIT + DEBIT, credits="801.00"), account="icbc-1", zone=SHANGHAI)
    assert refused.value.difference == Decimal("-1.00")


def test_camt_with_a_dtd_or_entities_is_refused_unexpanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b"<Document>&b;</Document>"
    )
    with pytest.raises(StatementRejected, match="DTD"):
        parse_camt053(bomb, account="x", zone=SHANGHAI)


def test_camt_with_an_external_entity_is_refused() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document>&x;</Document>"""
    with pytest.raises(StatementRejected):
        parse_camt053(xxe, account="x", zone=SHANGHAI)


def test_a_document_without_a_statement_is_refused() -> None:
    with pytest.raises(StatementRejected, match="camt.053"):
        parse_camt053(b"<Document/>", account="x", zone=SHANGHAI)


MT940 = """:20:STMT20261202
:25:6222020200112233
:28C:00001/001
:60F:C261201CNY1000,00
:61:2612021202C500,00NTRFCY20261201000009//B20261202001
:86:ZHANG SAN 3-1-502 WUYEFEI
:61:2612021202D20,00NCHGNONREF
:86:ACCOUNT FEE
:62F:C261202CNY{closing}
-"""


def test_mt940_entries_become_lines() -> None:
    statement = parse_mt940(MT940.format(closing="1480,00").encode(), account="icbc-1", zone=SHANGHAI)
    credit, fee = statement.lines
    assert credit.amount == Decimal("500.00")
    assert credit.bank_reference == "B20261202001"
    assert credit.end_to_end_id == "CY20261201000009"
    assert credit.memo == "ZHANG SAN 3-1-502 WUYEFEI"
    assert credit.line_key == "BANK:icbc-1:B20261202001"
    assert fee.amount == Decimal("-20.00")
    assert fee.end_to_end_id is None
    assert credit.booked_at == dt.datetime(2026, 12, 2, tzinfo=SHANGHAI)


def test_mt940_whose_closing_balance_does_not_follow_is_refused() -> None:
    with pytest.raises(StatementRejected) as refused:
        parse_mt940(MT940.format(closing="1490,00").encode(), account="icbc-1", zone=SHANGHAI)
    assert refused.value.difference == Decimal("-10.00")


def test_mt940_with_two_statements_checks_each() -> None:
    two = (
        MT940.format(closing="1480,00")
        + "\n"
        + MT940.format(closing="1480,00").replace(":60F:C261201CNY1000,00", ":60F:C261202CNY1000,00")
    ).encode()
    assert len(parse_mt940(two, account="icbc-1", zone=SHANGHAI).lines) == 4


def test_text_that_is_not_mt940_is_refused() -> None:
    with pytest.raises(StatementRejected, match=":20:"):
        parse_mt940(b"hello", account="x", zone=SHANGHAI)
