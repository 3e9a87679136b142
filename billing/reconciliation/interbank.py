"""Interbank statement formats: ISO 20022 camt.053 (XML) and SWIFT MT940.

camt.053 is read with the standard library's ElementTree behind defusedxml (no DTDs, no entities, so no
external fetches and no entity bombs), by local element names so that every version of the namespace
(camt.053.001.02 … .13) reads the same. MT940 is read with the `mt-940` package.

Both formats state their own totals: the opening booked balance plus every entry must equal the closing
booked balance, and camt.053's transaction summary also gives the number and sums of the entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeTree
import mt940  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from billing.reconciliation.statement import (
    LineKind,
    ParsedStatement,
    SourceKind,
    StatementLine,
    StatementRejected,
    SummaryTotal,
    check_totals,
    file_hash,
)
from billing.reconciliation.tabular import MAX_EXPANDED_BYTES, decode_text

__all__ = ["parse_camt053", "parse_mt940"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: Element, name: str) -> list[Element]:
    return [c for c in element if _local(c.tag) == name]


def _text(element: Element | None, *path: str) -> str | None:
    found = _child(element, *path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _signed(element: Element | None, *, where: str) -> Decimal:
    """An `Amt` beside its `CdtDbtInd`: credits positive, debits negative."""
    amount_text = _text(element, "Amt")
    indicator = _text(element, "CdtDbtInd")
    if amount_text is None or indicator not in {"CRDT", "DBIT"}:
        raise StatementRejected(f"{where} has no amount with CdtDbtInd CRDT or DBIT", column="Amt")
    try:
        amount = Decimal(amount_text)
    except InvalidOperation:
        raise StatementRejected(f"{where}: '{amount_text}' is not an amount", column="Amt") from None
    return amount if indicator == "CRDT" else -amount


def parse_camt053(content: bytes, *, account: str, zone: ZoneInfo) -> ParsedStatement:
    """Read a camt.053 bank-to-customer statement (every `Stmt` of the document)."""
    if len(content) > MAX_EXPANDED_BYTES:
        raise StatementRejected("the statement is too large")
    try:
        root = SafeTree.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as error:
        raise StatementRejected("the XML declares a DTD or entities, which statements never need") from error
    except SafeTree.ParseError as error:
        raise StatementRejected(f"the XML is not well-formed: {error}") from error
    statements = [e for e in root.iter() if _local(e.tag) == "Stmt"]
    if not statements:
        raise StatementRejected("no Stmt element: not a camt.053 statement")
    lines: list[StatementLine] = []
    totals: list[SummaryTotal] = []
    for statement in statements:
        statement_id = _text(statement, "Id") or "?"
        entries = _children(statement, "Ntry")
        statement_lines = [
            _camt_line(position, entry, statement_id, account, zone) for position, entry in enumerate(entries, start=1)
        ]
        lines += statement_lines
        totals += _camt_totals(statement, statement_id, statement_lines)
    return ParsedStatement(
        source=SourceKind.BANK,
        account=account,
        file_hash=file_hash(content),
        lines=tuple(lines),
        totals=check_totals(totals),
    )


def _camt_date(entry: Element, *, row: int, zone: ZoneInfo) -> dt.datetime:
    booking = _child(entry, "BookgDt")
    stamp = _text(booking, "DtTm")
    if stamp is not None:
        moment = dt.datetime.fromisoformat(stamp)
        return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    day = _text(booking, "Dt") or _text(entry, "ValDt", "Dt")
    if day is None:
        raise StatementRejected("an entry without BookgDt", row=row, column="BookgDt")
    try:
        return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), tzinfo=zone)
    except ValueError:
        raise StatementRejected(f"'{day}' is not a date", row=row, column="BookgDt") from None


def _camt_line(row: int, entry: Element, statement_id: str, account: str, zone: ZoneInfo) -> StatementLine:
    amount = _signed(entry, where=f"entry {row} of statement {statement_id}")
    details = _child(entry, "NtryDtls", "TxDtls")
    refs = _child(details, "Refs")
    servicer_ref = _text(entry, "AcctSvcrRef") or _text(refs, "AcctSvcrRef")
    end_to_end = _text(refs, "EndToEndId")
    if end_to_end == "NOTPROVIDED":
        end_to_end = None
    # Money in names the debtor as the other side, money out the creditor (RltdPties/Dbtr/Nm up to
    # camt.053.001.07, RltdPties/Dbtr/Pty/Nm from .08 on).
    side, side_account = ("Dbtr", "DbtrAcct") if amount >= 0 else ("Cdtr", "CdtrAcct")
    parties = _child(details, "RltdPties")
    name = _text(parties, side, "Nm") or _text(parties, side, "Pty", "Nm")
    counter_account = _text(parties, side_account, "Id", "IBAN") or _text(parties, side_account, "Id", "Othr", "Id")
    remittance = _child(details, "RmtInf")
    memo_parts = [
        e.text.strip() for e in (remittance if remittance is not None else []) if _local(e.tag) == "Ustrd" and e.text
    ]
    memo_parts += [t for t in (_text(entry, "AddtlNtryInf"),) if t]
    key_source = (
        servicer_ref
        or hashlib.sha256(
            f"{statement_id}|{row}|{amount}|{_text(_child(entry, 'BookgDt'), 'Dt')}".encode()
        ).hexdigest()[:24]
    )
    return StatementLine(
        source=SourceKind.BANK,
        account=account,
        line_key=f"BANK:{account}:{key_source}",
        row_number=row,
        booked_at=_camt_date(entry, row=row, zone=zone),
        kind=LineKind.BANK,
        amount=amount,
        settled_amount=amount,
        bank_reference=servicer_ref,
        end_to_end_id=end_to_end,
        counterparty_name=name,
        counterparty_account=counter_account,
        memo=" ".join(memo_parts) or None,
        raw=tuple(
            (_local(e.tag), (e.text or "").strip()) for e in entry.iter() if e is not entry and (e.text or "").strip()
        ),
    )


def _camt_totals(statement: Element, statement_id: str, lines: list[StatementLine]) -> list[SummaryTotal]:
    net = sum((line.amount for line in lines), Decimal("0"))
    balances = {_text(b, "Tp", "CdOrPrtry", "Cd"): b for b in _children(statement, "Bal")}
    totals = []
    opening = balances.get("OPBD") or balances.get("PRCD")
    closing = balances.get("CLBD")
    if opening is not None and closing is not None:
        start = _signed(opening, where=f"the opening balance of {statement_id}")
        end = _signed(closing, where=f"the closing balance of {statement_id}")
        totals.append(SummaryTotal(f"{statement_id} CLBD", end, start + net))
    summary = _child(statement, "TxsSummry")
    count = _text(summary, "TtlNtries", "NbOfNtries")
    if count is not None:
        totals.append(SummaryTotal(f"{statement_id} NbOfNtries", Decimal(count), Decimal(len(lines))))
    for side, sign in (("TtlCdtNtries", 1), ("TtlDbtNtries", -1)):
        stated = _text(summary, side, "Sum")
        if stated is not None:
            parsed = sum(
                (abs(line.amount) for line in lines if (line.amount > 0) == (sign > 0) and line.amount), Decimal("0")
            )
            totals.append(SummaryTotal(f"{statement_id} {side}", Decimal(stated), parsed))
    return totals


_STATEMENT_START = re.compile(r"(?m)^:20:")


def parse_mt940(content: bytes, *, account: str, zone: ZoneInfo) -> ParsedStatement:
    """Read a SWIFT MT940 file (one or several statements, each checked opening + entries = closing)."""
    text = decode_text(content).replace("\r\n", "\n")
    starts = [match.start() for match in _STATEMENT_START.finditer(text)]
    if not starts:
        raise StatementRejected("no :20: field: not an MT940 statement", column=":20:")
    lines: list[StatementLine] = []
    totals: list[SummaryTotal] = []
    for position, (start, end) in enumerate(zip(starts, [*starts[1:], len(text)], strict=True), start=1):
        chunk = text[start:end]
        try:
            transactions = mt940.models.Transactions()
            transactions.parse(chunk)
        except Exception as error:  # the package raises assorted errors on malformed input
            raise StatementRejected(f"statement {position} is not valid MT940: {error}") from error
        reference = str(transactions.data.get("transaction_reference") or position)
        statement_lines = [
            _mt940_line(index, transaction.data, reference, account, zone)
            for index, transaction in enumerate(transactions, start=1)
        ]
        lines += statement_lines
        opening = transactions.data.get("final_opening_balance")
        closing = transactions.data.get("final_closing_balance")
        if opening is None or closing is None:
            raise StatementRejected(f"statement {reference} has no :60F: or :62F: balance", column=":62F:")
        net = sum((line.amount for line in statement_lines), Decimal("0"))
        totals.append(SummaryTotal(f"{reference} :62F:", closing.amount.amount, opening.amount.amount + net))
    return ParsedStatement(
        source=SourceKind.BANK,
        account=account,
        file_hash=file_hash(content),
        lines=tuple(lines),
        totals=check_totals(totals),
    )


def _mt940_line(index: int, data: dict[str, object], reference: str, account: str, zone: ZoneInfo) -> StatementLine:
    amount: Decimal = data["amount"].amount  # type: ignore[attr-defined]
    day = data.get("entry_date") or data["date"]
    booked = dt.datetime.combine(dt.date(day.year, day.month, day.day), dt.time(), tzinfo=zone)  # type: ignore[attr-defined]
    bank_reference = data.get("bank_reference") or None
    customer_reference = data.get("customer_reference")
    details = " ".join(str(data.get("transaction_details") or "").split()) or None
    key_source = (
        bank_reference
        or hashlib.sha256(f"{reference}|{index}|{amount}|{booked.date()}|{details}".encode()).hexdigest()[:24]
    )
    return StatementLine(
        source=SourceKind.BANK,
        account=account,
        line_key=f"BANK:{account}:{key_source}",
        row_number=index,
        booked_at=booked,
        kind=LineKind.BANK,
        amount=amount,
        settled_amount=amount,
        bank_reference=str(bank_reference) if bank_reference else None,
        end_to_end_id=str(customer_reference) if customer_reference and customer_reference != "NONREF" else None,
        memo=details,
        raw=tuple((str(k), str(v)) for k, v in data.items() if v not in (None, "")),
    )
