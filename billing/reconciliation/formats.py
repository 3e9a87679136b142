"""One door to every statement parser: name the format, or let the file's first bytes tell it.

Pure. `courtyard reconcile import FILE --account …` and the upload mutation call `parse_statement`; a bank
account's CSV or XLSX export needs that account's `BankProfile`, everything else is self-describing.
"""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

from billing.reconciliation.alipay import parse_alipay_bill
from billing.reconciliation.bank import BankProfile, parse_bank_statement
from billing.reconciliation.interbank import parse_camt053, parse_mt940
from billing.reconciliation.statement import ParsedStatement, StatementRejected
from billing.reconciliation.tabular import decode_text, gunzip, is_gzip, zip_names
from billing.reconciliation.wechat import parse_wechat_bill

__all__ = ["StatementFormat", "detect_format", "parse_statement"]

_SNIFF_BYTES = 4096


class StatementFormat(StrEnum):
    WECHAT = "WECHAT"
    ALIPAY = "ALIPAY"
    BANK = "BANK"
    CAMT053 = "CAMT053"
    MT940 = "MT940"


def detect_format(content: bytes) -> StatementFormat:
    """The format a file is written in, from its content (users rename files); BANK when nothing else fits."""
    if is_gzip(content):
        content = gunzip(content)
    if content[:4] == b"PK\x03\x04":
        if any("明细" in name for name in zip_names(content)):
            return StatementFormat.ALIPAY
        return StatementFormat.BANK  # an XLSX export
    head = content[:_SNIFF_BYTES]
    try:
        text = decode_text(head)
    except StatementRejected:
        text = head.decode("gb18030", errors="ignore")
    stripped = text.lstrip("\ufeff \r\n\t")
    if stripped.startswith("<") and "camt.053" in text:
        return StatementFormat.CAMT053
    if stripped.startswith(":20:") or "\n:20:" in stripped[:200] or stripped.startswith("{1:"):
        return StatementFormat.MT940
    first_line = stripped.split("\n", 1)[0]
    if "交易时间" in first_line and "微信订单号" in first_line:
        return StatementFormat.WECHAT
    if stripped.startswith("#支付宝"):
        return StatementFormat.ALIPAY
    return StatementFormat.BANK


def parse_statement(
    content: bytes,
    filename: str,
    *,
    account: str,
    zone: ZoneInfo,
    statement_format: StatementFormat | None = None,
    profile: BankProfile | None = None,
) -> ParsedStatement:
    """Parse a statement file of the given (or detected) format for one channel or bank account."""
    chosen = statement_format or detect_format(content)
    if chosen is StatementFormat.WECHAT:
        return parse_wechat_bill(content, account=account, zone=zone)
    if chosen is StatementFormat.ALIPAY:
        return parse_alipay_bill(content, account=account, zone=zone)
    if chosen is StatementFormat.CAMT053:
        return parse_camt053(content, account=account, zone=zone)
    if chosen is StatementFormat.MT940:
        return parse_mt940(content, account=account, zone=zone)
    if profile is None:
        raise StatementRejected(f"account {account} has no bank profile saying how its exports are laid out")
    if profile.account != account:
        raise StatementRejected(f"the bank profile is for account {profile.account}, not {account}")
    return parse_bank_statement(content, filename, profile=profile, zone=zone)
