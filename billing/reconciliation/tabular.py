"""What every statement parser needs: decoding, headers found by name, cells read as money and times,
and archives opened only after their declared sizes were checked (a decompression-bomb guard).

Pure: bytes in, rows and values out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import openpyxl  # type: ignore[import-untyped]

from billing.reconciliation.statement import StatementRejected

__all__ = [
    "MAX_EXPANDED_BYTES",
    "Header",
    "clean_cell",
    "csv_rows",
    "decode_text",
    "find_header",
    "gunzip",
    "header_key",
    "is_gzip",
    "parse_money",
    "parse_time",
    "xlsx_rows",
    "zip_members",
    "zip_names",
]

MAX_EXPANDED_BYTES = 200 * 1024 * 1024
"""No archive member (or a gzip file) may expand beyond this: a month of a large community is ~10 MB."""
MAX_COMPRESSION_RATIO = 200
"""Text compresses ~10:1 and XLSX parts rarely beyond 100:1; a bomb compresses far more."""

_UTF8_BOM = b"\xef\xbb\xbf"
_HEADER_NOISE = re.compile(r"[\s_\-*:：]")
# Money columns in Chinese exports carry a backtick (WeChat), a trailing TAB (Alipay), a currency sign
# or thousands separators; none of it is part of the number.
_MONEY_NOISE = re.compile(r"[`\s,¥￥元]")
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日",
)


def header_key(text: str) -> str:
    """Fold a header so that full-width forms, case, spaces and backticks don't matter:
    `退款金额（元）`, `退款金额(元)` and `` `退款金额 `` all fold to the same key."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("`", "")
    return _HEADER_NOISE.sub("", folded)


@dataclass(frozen=True, slots=True)
class Header:
    """A header row: each folded header name's column, so cells are read by name, never by position."""

    row: int
    names: tuple[str, ...]
    index: Mapping[str, int]

    @classmethod
    def of(cls, row: int, cells: Sequence[object]) -> Header:
        names = tuple(clean_cell(cell) for cell in cells)
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            index.setdefault(header_key(name), position)
        return cls(row, names, index)

    def find(self, *aliases: str) -> int | None:
        for alias in aliases:
            position = self.index.get(header_key(alias))
            if position is not None:
                return position
        return None

    def require(self, *aliases: str) -> int:
        position = self.find(*aliases)
        if position is None:
            raise StatementRejected(f"no column headed '{aliases[0]}'", row=self.row, column=aliases[0])
        return position

    def has(self, *aliases: str) -> bool:
        return self.find(*aliases) is not None


def clean_cell(value: object) -> str:
    """A cell as text: WeChat's leading backtick, Alipay's trailing TAB and NFKC width differences go."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.removeprefix("`").strip()


def parse_money(value: object, *, row: int, column: str, places: int = 2) -> Decimal:
    """A signed amount with at most `places` decimals; an empty cell is zero."""
    if value is None:
        return Decimal("0")
    if isinstance(value, bool):
        raise StatementRejected(f"'{value}' is not an amount", row=row, column=column)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # openpyxl hands numeric cells over as float; 15 significant digits is all Excel keeps.
        value = format(value, ".15g")
    text = _MONEY_NOISE.sub("", unicodedata.normalize("NFKC", str(value)))
    if text in {"", "-", "--"}:
        return Decimal("0")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise StatementRejected(f"'{value}' is not an amount", row=row, column=column) from None
    if not amount.is_finite() or amount != round(amount, places):
        raise StatementRejected(f"'{value}' has more than {places} decimals", row=row, column=column)
    return amount


def parse_time(value: object, *, zone: ZoneInfo, row: int, column: str) -> dt.datetime:
    """A statement time, written in the project's zone, as an aware datetime."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=zone)
    text = unicodedata.normalize("NFKC", clean_cell(value))
    for pattern in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise StatementRejected(f"'{text}' is not a date or time", row=row, column=column)


def decode_text(content: bytes, encoding: str | None = None) -> str:
    """Decode with the named encoding, or UTF-8 (with or without BOM) falling back to GB18030 (⊃ GBK)."""
    try:
        if encoding is not None:
            normalized = encoding.lower().replace("_", "-")
            if normalized in {"utf-8", "utf8", "utf-8-sig"}:
                return content.decode("utf-8-sig")
            # Exporters that say GBK or GB2312 write characters only GB18030 knows; it is a superset.
            if normalized in {"gbk", "gb2312", "cp936", "gb18030"}:
                return content.decode("gb18030")
            return content.decode(normalized)
        if content.startswith(_UTF8_BOM):
            return content.decode("utf-8-sig")
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError:
            return content.decode("gb18030")
    except (UnicodeDecodeError, LookupError) as error:
        raise StatementRejected(f"the file is not readable as {encoding or 'UTF-8 or GBK'} text") from error


def csv_rows(text: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise StatementRejected(f"the CSV text cannot be read: {error}") from error


def gunzip(content: bytes) -> bytes:
    """Expand a gzip file, refusing one that would expand beyond `MAX_EXPANDED_BYTES`."""
    expander = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        expanded = expander.decompress(content, MAX_EXPANDED_BYTES + 1)
    except zlib.error as error:
        raise StatementRejected("the gzip file is damaged") from error
    if len(expanded) > MAX_EXPANDED_BYTES or expander.unconsumed_tail:
        raise StatementRejected(f"the gzip file expands beyond {MAX_EXPANDED_BYTES} bytes")
    return expanded


def is_gzip(content: bytes) -> bool:
    return content[:2] == b"\x1f\x8b"


def zip_names(content: bytes) -> list[str]:
    """The file names inside a zip archive, without expanding anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return [_member_name(info) for info in archive.infolist() if not info.is_dir()]
    except zipfile.BadZipFile as error:
        raise StatementRejected("the file is not a valid zip archive") from error


def zip_members(content: bytes) -> dict[str, bytes]:
    """Every file of a zip archive by name, after checking each member's declared size and ratio."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as error:
        raise StatementRejected("the file is not a valid zip archive") from error
    with archive:
        _check_sizes(archive)
        members: dict[str, bytes] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _member_name(info)
            try:
                members[name] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError) as error:
                raise StatementRejected(f"the archive member '{name}' is damaged") from error
    return members


def _member_name(info: zipfile.ZipInfo) -> str:
    # Chinese Windows zips (Alipay's) store names in GBK without the UTF-8 flag; Python reads those as
    # CP437, so they are decoded again.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _check_sizes(archive: zipfile.ZipFile) -> None:
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_EXPANDED_BYTES or total > MAX_EXPANDED_BYTES or ratio > MAX_COMPRESSION_RATIO:
            raise StatementRejected(
                f"the archive member '{info.filename}' expands to {info.file_size} bytes "
                f"({ratio:.0f}:1); refused as a possible decompression bomb"
            )


def xlsx_rows(content: bytes) -> list[tuple[object, ...]]:
    """The cell values of the first sheet, after the sizes inside the workbook were checked."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_sizes(archive)
    except zipfile.BadZipFile as error:
        raise StatementRejected("the file is not a valid .xlsx workbook") from error
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # any failure inside openpyxl on an uploaded file is the file's fault
        raise StatementRejected("the file is not a valid .xlsx workbook") from error
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    except Exception as error:
        raise StatementRejected("the workbook is damaged and cannot be read") from error
    finally:
        workbook.close()


def find_header(rows: Iterable[tuple[int, Sequence[object]]], *required: str) -> Header:
    """The first row that names every one of `required`."""
    for number, cells in rows:
        header = Header.of(number, cells)
        if all(header.has(name) for name in required):
            return header
    raise StatementRejected(f"no header row naming {', '.join(required)}", column=required[0])
