"""Bank statement exports (CSV and XLSX) read through a saved profile per bank account.

No two Chinese banks agree on columns, encodings or even what 借方 means: on a bank's statement 借方
(debit) is money *out* of the account, on a company's own cash journal it is money *in*. A
`BankProfile` is plain data saved once per account (the use case stores it as JSON) naming the headers
to read; cells are found by those names, never by position.

A file states its own totals in two ways, and both are checked when present: a 合计 row (the debit and
credit sums, or the net amount), and a running balance column (each row's balance is the previous one
plus its amount, in file order or, for banks that list the newest first, in reverse).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath
from zoneinfo import ZoneInfo

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
from billing.reconciliation.tabular import (
    Header,
    clean_cell,
    csv_rows,
    decode_text,
    header_key,
    parse_money,
    parse_time,
    xlsx_rows,
)

__all__ = ["BankProfile", "DebitMeans", "parse_bank_statement"]

_ZIP_MAGIC = b"PK\x03\x04"
_HEADER_SEARCH_ROWS = 30


class DebitMeans(StrEnum):
    """What the debit (借方) column of this export records."""

    MONEY_OUT = "MONEY_OUT"
    """The bank's view of the account, as every bank statement writes it: 借方 = 支出."""
    MONEY_IN = "MONEY_IN"
    """The company's own cash journal: 借方 = 收入 (the bank deposit is the company's asset)."""


@dataclass(frozen=True, slots=True)
class BankProfile:
    """How one bank account's exports are laid out: header names, not positions.

    Give either `amount_column` (signed, money in positive, or unsigned with `direction_column` whose
    cells are one of `debit_marks` / `credit_marks`) or both `debit_column` and `credit_column`.
    """

    account: str
    date_column: str
    serial_column: str | None = None
    time_column: str | None = None
    amount_column: str | None = None
    direction_column: str | None = None
    debit_marks: tuple[str, ...] = ("借", "D", "DR", "支出", "出")
    credit_marks: tuple[str, ...] = ("贷", "C", "CR", "收入", "入")
    debit_column: str | None = None
    credit_column: str | None = None
    debit_means: DebitMeans = DebitMeans.MONEY_OUT
    balance_column: str | None = None
    counterparty_name_column: str | None = None
    counterparty_account_column: str | None = None
    memo_columns: tuple[str, ...] = ("摘要", "附言", "用途")
    reference_column: str | None = None
    encoding: str | None = None
    comment_prefixes: tuple[str, ...] = ("#",)
    total_row_label: str = "合计"

    def __post_init__(self) -> None:
        pair = self.debit_column is not None and self.credit_column is not None
        if pair == (self.amount_column is not None):
            raise ValueError("a bank profile names either an amount column or a debit and a credit column")


def parse_bank_statement(content: bytes, filename: str, *, profile: BankProfile, zone: ZoneInfo) -> ParsedStatement:
    """Read a bank's CSV or XLSX export with the account's profile."""
    if content.startswith(_ZIP_MAGIC):
        rows: Sequence[Sequence[object]] = xlsx_rows(content)
    elif PurePath(filename).suffix.lower() in {".xlsx", ".xlsm"}:
        raise StatementRejected("the file is not a valid .xlsx workbook")
    else:
        rows = csv_rows(decode_text(content, profile.encoding))
    numbered = [
        (number, cells)
        for number, cells in enumerate(rows, start=1)
        if any(clean_cell(cell) for cell in cells) and not _is_comment(cells, profile)
    ]
    header = _find_header(numbered, profile)
    lines: list[StatementLine] = []
    balances: list[tuple[int, Decimal, Decimal]] = []
    occurrences: Counter[str] = Counter()
    totals: list[SummaryTotal] = []
    for number, cells in numbered:
        if number <= header.row:
            continue
        if any(clean_cell(cell) == profile.total_row_label for cell in cells):
            totals += _stated_totals(number, cells, header, profile, lines)
            continue
        line, balance = _line(number, cells, header, profile, zone, occurrences)
        lines.append(line)
        if balance is not None:
            balances.append((number, line.amount, balance))
    _check_running_balance(balances, profile)
    return ParsedStatement(
        source=SourceKind.BANK,
        account=profile.account,
        file_hash=file_hash(content),
        lines=tuple(lines),
        totals=check_totals(totals),
    )


def _is_comment(cells: Sequence[object], profile: BankProfile) -> bool:
    first = clean_cell(cells[0]) if cells else ""
    return any(first.startswith(prefix) for prefix in profile.comment_prefixes)


def _find_header(numbered: list[tuple[int, Sequence[object]]], profile: BankProfile) -> Header:
    wanted = [profile.date_column, *(c for c in (profile.amount_column, profile.debit_column) if c)]
    for number, cells in numbered[:_HEADER_SEARCH_ROWS]:
        header = Header.of(number, cells)
        if all(header.has(name) for name in wanted):
            return header
    raise StatementRejected(
        f"no header row naming {' and '.join(wanted)} (check the account's bank profile)", column=wanted[0]
    )


def _text(cells: Sequence[object], header: Header, name: str | None) -> str:
    if name is None:
        return ""
    position = header.find(name)
    return clean_cell(cells[position]) if position is not None and position < len(cells) else ""


def _value(cells: Sequence[object], header: Header, name: str) -> object:
    position = header.require(name)
    return cells[position] if position < len(cells) else None


def _signed_amount(number: int, cells: Sequence[object], header: Header, profile: BankProfile) -> Decimal:
    if profile.amount_column is not None:
        amount = parse_money(_value(cells, header, profile.amount_column), row=number, column=profile.amount_column)
        if profile.direction_column is None:
            return amount
        mark = header_key(_text(cells, header, profile.direction_column))
        if mark in {header_key(m) for m in profile.debit_marks}:
            debit = True
        elif mark in {header_key(m) for m in profile.credit_marks}:
            debit = False
        else:
            raise StatementRejected(
                f"'{mark}' is neither a debit nor a credit mark", row=number, column=profile.direction_column
            )
        return _from_debit_credit(abs(amount) if debit else Decimal(0), Decimal(0) if debit else abs(amount), profile)
    assert profile.debit_column is not None and profile.credit_column is not None
    debit = parse_money(_value(cells, header, profile.debit_column), row=number, column=profile.debit_column)
    credit = parse_money(_value(cells, header, profile.credit_column), row=number, column=profile.credit_column)
    if debit and credit:
        raise StatementRejected("both the debit and the credit are filled", row=number, column=profile.debit_column)
    return _from_debit_credit(abs(debit), abs(credit), profile)


def _from_debit_credit(debit: Decimal, credit: Decimal, profile: BankProfile) -> Decimal:
    return credit - debit if profile.debit_means is DebitMeans.MONEY_OUT else debit - credit


def _line(
    number: int,
    cells: Sequence[object],
    header: Header,
    profile: BankProfile,
    zone: ZoneInfo,
    occurrences: Counter[str],
) -> tuple[StatementLine, Decimal | None]:
    booked = parse_time(_value(cells, header, profile.date_column), zone=zone, row=number, column=profile.date_column)
    if profile.time_column and _text(cells, header, profile.time_column):
        clock = parse_time(
            f"2000-01-01 {_text(cells, header, profile.time_column)}", zone=zone, row=number, column=profile.time_column
        )
        booked = dt.datetime.combine(booked.date(), clock.time(), tzinfo=zone)
    amount = _signed_amount(number, cells, header, profile)
    balance = (
        parse_money(_value(cells, header, profile.balance_column), row=number, column=profile.balance_column)
        if profile.balance_column
        else None
    )
    serial = _text(cells, header, profile.serial_column) or None
    name = _text(cells, header, profile.counterparty_name_column) or None
    counter_account = _text(cells, header, profile.counterparty_account_column) or None
    memo = " ".join(text for text in (_text(cells, header, column) for column in profile.memo_columns) if text) or None
    if serial is not None:
        key = f"BANK:{profile.account}:{serial}"
    else:
        # Without a serial number the row's content is its identity; identical rows are told apart by
        # their order in the file.
        content = "|".join(str(part) for part in (booked.isoformat(), amount, balance, name, counter_account, memo))
        digest = hashlib.sha256(content.encode()).hexdigest()[:24]
        occurrences[digest] += 1
        key = f"BANK:{profile.account}:H:{digest}:{occurrences[digest]}"
    line = StatementLine(
        source=SourceKind.BANK,
        account=profile.account,
        line_key=key,
        row_number=number,
        booked_at=booked,
        kind=LineKind.BANK,
        amount=amount,
        settled_amount=amount,
        bank_reference=serial,
        end_to_end_id=_text(cells, header, profile.reference_column) or None,
        counterparty_name=name,
        counterparty_account=counter_account,
        memo=memo,
        raw=tuple((n, clean_cell(cells[i])) for i, n in enumerate(header.names) if i < len(cells) and n),
    )
    return line, balance


def _stated_totals(
    number: int, cells: Sequence[object], header: Header, profile: BankProfile, lines: list[StatementLine]
) -> list[SummaryTotal]:
    money_in = sum((line.amount for line in lines if line.amount > 0), Decimal("0"))
    money_out = sum((-line.amount for line in lines if line.amount < 0), Decimal("0"))
    totals = []
    if profile.debit_column is not None and profile.credit_column is not None:
        debit_parsed, credit_parsed = (
            (money_out, money_in) if profile.debit_means is DebitMeans.MONEY_OUT else (money_in, money_out)
        )
        for column, parsed in ((profile.debit_column, debit_parsed), (profile.credit_column, credit_parsed)):
            stated = _text(cells, header, column)
            if stated:
                totals.append(SummaryTotal(column, abs(parse_money(stated, row=number, column=column)), parsed))
    elif profile.amount_column is not None and profile.direction_column is None:
        stated = _text(cells, header, profile.amount_column)
        if stated:
            amount = parse_money(stated, row=number, column=profile.amount_column)
            totals.append(SummaryTotal(profile.amount_column, amount, money_in - money_out))
    return totals


def _check_running_balance(balances: list[tuple[int, Decimal, Decimal]], profile: BankProfile) -> None:
    if len(balances) < 2:
        return
    forward = _first_break(balances)
    if forward is None:
        return
    if _first_break(list(reversed(balances))) is None:
        return
    number, difference = forward
    raise StatementRejected(
        f"the balance does not follow from the previous row's balance and this row's amount (off by {difference})",
        row=number,
        column=profile.balance_column,
        difference=difference,
    )


def _first_break(balances: list[tuple[int, Decimal, Decimal]]) -> tuple[int, Decimal] | None:
    for (_, _, before), (number, amount, after) in zip(balances, balances[1:], strict=False):
        if before + amount != after:
            return number, after - (before + amount)
    return None
