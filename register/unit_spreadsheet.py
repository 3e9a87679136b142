"""Reading and validating the unit register property companies keep in Excel (.xlsx or .csv).

Pure: bytes in, a report of validated rows and row errors out. Nothing is written anywhere;
`register.unit_import.import_units` imports `report.rows` only when `report.ok`, so a file imports all
or none.

Row numbers are the ones the user sees in the spreadsheet (the header is usually row 1). Errors
about the file as a whole (unreadable, empty, too many rows) carry row number 0 and field "file".
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import TypeVar

import openpyxl  # type: ignore[import-untyped]

from db.personal_data import (
    InvalidPersonalDataError,
    normalize_national_id,
    normalize_phone,
)
from kernel.errors import BadInput

__all__ = [
    "FILE_ROW_NUMBER",
    "MAX_FLOOR_AREA",
    "MAX_UNIT_ROWS",
    "UNIT_KINDS",
    "ImportRejected",
    "RowError",
    "UnitImportReport",
    "UnitImportRow",
    "parse_unit_register",
]

MAX_UNIT_ROWS = 20_000
"""Files with more unit rows than this are refused whole; larger communities import in parts."""

MAX_FLOOR_AREA = Decimal("100000")
"""Largest believable floor area of one unit in m²; more is almost always a unit or typing slip."""

FILE_ROW_NUMBER = 0
"""Row number of errors that concern the whole file rather than one row."""

# An .xlsx is a zip archive, and openpyxl inflates what it reads in memory: a 293 KB zip bomb became
# 300 MB in the server. The archive's directory is checked before openpyxl sees it. zipfile never
# inflates an entry past the size its directory declares, so checking the declared sizes is enough.
MAX_XLSX_ENTRIES = 1_000
"""A workbook has a dozen parts (a few hundred with many sheets or pictures); thousands is no workbook."""
MAX_XLSX_ENTRY_BYTES = 64 * 1024 * 1024
"""Largest declared uncompressed part: a 20,000-unit sheet (MAX_UNIT_ROWS) is ~8 MB of XML."""
MAX_XLSX_TOTAL_BYTES = 128 * 1024 * 1024
"""Largest declared uncompressed workbook, all parts together."""
MAX_XLSX_COMPRESSION_RATIO = 100
"""Spreadsheet XML compresses 12-16:1 even when every row is the same; zip bombs reach ~1000:1."""
_RATIO_CHECKED_FROM_BYTES = 1024 * 1024
"""Tiny parts (styles, a one-cell sheet) may compress far better without costing any memory."""

UNIT_KINDS = ("APARTMENT", "SHOP", "OFFICE", "PARKING_SPACE", "STORAGE")

_FILE_FIELD = "file"
_HEADER_SEARCH_ROWS = 10
_MIN_FLOOR = -10
_MAX_FLOOR = 200
_MAX_TEXT_LENGTHS = {"building": 50, "unit_number": 30, "owner_name": 100}

_ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class UnitImportRow:
    """One valid unit of the register, with its owner when the row names one."""

    row_number: int
    building: str
    unit_number: str
    floor: int
    floor_area: Decimal
    kind: str
    owner_name: str | None
    phone: str | None
    national_id: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one field of one spreadsheet row cannot be imported."""

    row_number: int
    field: str
    reason: str


class ImportRejected(BadInput):
    """An import that wrote nothing, with every bad row and why."""

    def __init__(self, message: str, row_errors: tuple[RowError, ...]) -> None:
        super().__init__(message, field="file")
        self.row_errors = row_errors


@dataclass(frozen=True, slots=True)
class UnitImportReport:
    """The rows that passed validation and every error found; import only when `ok`."""

    rows: tuple[UnitImportRow, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class _Column:
    field: str
    label: str
    required: bool
    aliases: tuple[str, ...]


_COLUMNS = (
    _Column(
        "building",
        "building",
        True,
        ("楼栋", "楼号", "楼栋号", "栋号", "楼宇", "楼栋名称", "building", "building name", "bldg"),
    ),
    _Column(
        "unit_number",
        "unit number",
        True,
        (
            "房号", "单元号", "房间号", "户号", "房屋编号", "门牌号",
            "unit number", "unit", "unit no", "room", "room number",
        ),
    ),
    _Column("floor", "floor", True, ("楼层", "所在楼层", "层", "floor")),
    _Column(
        "floor_area",
        "floor area",
        True,
        ("建筑面积", "面积", "房屋面积", "产权面积", "area_m2", "area", "floor area", "gross area"),
    ),
    _Column(
        "kind",
        "kind",
        True,
        (
            "类型", "房屋类型", "房产类型", "物业类型", "用途", "房屋用途",
            "kind", "type", "unit type", "unit kind",
        ),
    ),
    _Column(
        "owner_name",
        "owner name",
        False,
        ("业主姓名", "业主", "业主名称", "姓名", "owner", "owner name", "name"),
    ),
    _Column(
        "phone",
        "phone",
        False,
        (
            "联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "业主电话",
            "phone", "phone number", "mobile", "telephone", "tel",
        ),
    ),
    _Column(
        "national_id",
        "ID number",
        False,
        (
            "身份证号", "身份证号码", "身份证", "证件号码", "证件号",
            "national id", "id number", "id card", "id card number", "resident id",
        ),
    ),
)

_KIND_ALIASES = {
    "APARTMENT": ("住宅", "公寓", "普通住宅", "apartment", "flat", "residential"),
    "SHOP": ("商铺", "店铺", "商业", "门面", "底商", "shop", "store", "retail"),
    "OFFICE": ("办公", "写字楼", "办公室", "office"),
    "PARKING_SPACE": ("车位", "停车位", "地下车位", "parking_space", "parking space", "parking"),
    "STORAGE": ("储藏室", "杂物间", "储物间", "storage", "storeroom"),
}

_BRACKETED = re.compile(r"[(\[【].*?[)\]】]")
_HEADER_NOISE = re.compile(r"[\s_\-*:：]")
_FLOOR_TEXT = re.compile(r"(?P<basement>b|-|地下|负)?(?P<number>\d+)(?:\.0+)?(?:f|层|楼)?")
_AREA_UNIT_SUFFIX = re.compile(r"(?:m2|平方米|平米|平)$")
_AREA_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_SCIENTIFIC_NUMBER = re.compile(r"\d(?:\.\d+)?e\+?\d+")


def _key(text: str) -> str:
    """Fold a header or kind name so that case, spacing, brackets and full-width forms don't matter."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _HEADER_NOISE.sub("", _BRACKETED.sub("", folded))


_COLUMN_BY_KEY = {_key(alias): column for column in _COLUMNS for alias in column.aliases}
_KIND_BY_KEY = {_key(alias): kind for kind, aliases in _KIND_ALIASES.items() for alias in aliases}
_COLUMN_LABELS = {column.field: column.label for column in _COLUMNS}
_CENTS = Decimal("0.01")
_T = TypeVar("_T")


class _UnreadableFileError(Exception):
    """The upload cannot be read as a spreadsheet at all; the message says why."""


def parse_unit_register(content: bytes, filename: str, *, max_rows: int = MAX_UNIT_ROWS) -> UnitImportReport:
    """Read an .xlsx or .csv unit register and validate every row; never raises on bad input."""
    try:
        with contextlib.closing(_spreadsheet_rows(content, filename)) as rows:
            return _parse_rows(rows, max_rows)
    except _UnreadableFileError as error:
        return _file_error(str(error))


def _file_error(reason: str) -> UnitImportReport:
    return UnitImportReport(rows=(), errors=(RowError(FILE_ROW_NUMBER, _FILE_FIELD, reason),))


def _spreadsheet_rows(content: bytes, filename: str) -> Generator[Sequence[object], None, None]:
    """Yield the raw cell values of every row, choosing the format by content first, then name."""
    extension = PurePath(filename).suffix.lower()
    if not content:
        raise _UnreadableFileError("the file is empty")
    # The content decides over the name: users rename files, and browsers send what they're given.
    if content.startswith(_ZIP_MAGIC):
        _check_archive(content)
        return _xlsx_rows(content)
    if content.startswith(_LEGACY_XLS_MAGIC):
        raise _UnreadableFileError("old .xls workbooks are not supported; save the file as .xlsx or .csv")
    if extension in {".xlsx", ".xlsm"}:
        raise _UnreadableFileError("the file is not a valid .xlsx workbook")
    if extension in {".csv", ".txt", ""}:
        return _csv_rows(content)
    raise _UnreadableFileError(f"unsupported file type '{extension}'; upload an .xlsx or .csv file")


def _check_archive(content: bytes) -> None:
    """Refuse an archive whose directory promises more than a unit register can need, before inflating it."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _UnreadableFileError("the file is not a valid .xlsx workbook") from error
    if len(entries) > MAX_XLSX_ENTRIES:
        raise _UnreadableFileError(f"the workbook has more than {MAX_XLSX_ENTRIES} parts; it is not a unit register")
    total = 0
    for entry in entries:
        # Excel writes stored and deflated parts only; bzip2 and lzma inflate without an output bound.
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _UnreadableFileError("the workbook uses a compression Excel does not write")
        if entry.file_size > MAX_XLSX_ENTRY_BYTES:
            raise _UnreadableFileError(_too_large(f"one part unpacks to {entry.file_size:,} bytes"))
        if (
            entry.file_size >= _RATIO_CHECKED_FROM_BYTES
            and entry.file_size > MAX_XLSX_COMPRESSION_RATIO * max(entry.compress_size, 1)
        ):
            raise _UnreadableFileError(
                _too_large(f"one part unpacks more than {MAX_XLSX_COMPRESSION_RATIO} times its packed size")
            )
        total += entry.file_size
    if total > MAX_XLSX_TOTAL_BYTES:
        raise _UnreadableFileError(_too_large(f"the parts unpack to {total:,} bytes"))


def _too_large(detail: str) -> str:
    return f"the workbook is refused unopened: {detail}; split the register into smaller files"


def _xlsx_rows(content: bytes) -> Generator[Sequence[object], None, None]:
    # Any failure inside openpyxl on an uploaded file is the file's fault, whatever exception
    # the parser chose, so it becomes a row-0 error instead of a server error.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise _UnreadableFileError("the file is not a valid .xlsx workbook") from error
    try:
        sheet = workbook.worksheets[0]
        # Some exporters write a wrong <dimension>, and read-only mode would trust it and stop early.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except Exception as error:
        raise _UnreadableFileError("the workbook is damaged and cannot be read") from error
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> Generator[Sequence[object], None, None]:
    text = _decode_csv(content)
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as error:
        raise _UnreadableFileError(f"the CSV file cannot be read: {error}") from error


def _decode_csv(content: bytes) -> str:
    if content.startswith(_UTF8_BOM):
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise _UnreadableFileError("the file starts like UTF-8 but is not valid UTF-8") from error
    # Excel on Chinese Windows saves "CSV (comma delimited)" in code page 936 (GBK), which GB18030 extends.
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _UnreadableFileError("the CSV file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'")


def _is_blank(cells: Sequence[object]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _parse_rows(rows: Iterator[Sequence[object]], max_rows: int) -> UnitImportReport:
    numbered_rows = enumerate(rows, start=1)
    leading_rows = [
        (number, cells)
        for number, cells in itertools.islice(numbered_rows, _HEADER_SEARCH_ROWS)
        if not _is_blank(cells)
    ]
    if not leading_rows:
        return _file_error("the file contains no rows")

    header_position, column_indexes, header_errors = _find_header(leading_rows)
    if header_errors:
        return UnitImportReport(rows=(), errors=tuple(header_errors))

    data_rows = itertools.chain(leading_rows[header_position + 1 :], numbered_rows)
    valid_rows: list[UnitImportRow] = []
    errors: list[RowError] = []
    first_row_of_unit: dict[tuple[str, str], int] = {}
    row_count = 0
    for row_number, cells in data_rows:
        if _is_blank(cells):
            continue
        row_count += 1
        if row_count > max_rows:
            return _file_error(
                f"the file has more than {max_rows} unit rows; split it into files of at most {max_rows} rows"
            )
        row, unit, row_errors = _parse_row(row_number, cells, column_indexes)
        errors.extend(row_errors)
        if unit is not None:
            # Checked even when other cells are wrong, so one upload reports every problem.
            building, unit_number = unit
            unit_key = (building.casefold(), unit_number.casefold())
            first_row = first_row_of_unit.setdefault(unit_key, row_number)
            if first_row != row_number:
                errors.append(
                    RowError(
                        row_number,
                        "unit_number",
                        f"unit {building}-{unit_number} appears twice (rows {first_row} and {row_number})",
                    )
                )
                continue
        if row is not None:
            valid_rows.append(row)

    if row_count == 0:
        return _file_error("the file has a header row but no unit rows")
    return UnitImportReport(rows=tuple(valid_rows), errors=tuple(errors))


def _find_header(
    leading_rows: list[tuple[int, Sequence[object]]],
) -> tuple[int, dict[str, int], list[RowError]]:
    """Find the header among the first non-blank rows, allowing a title row above it.

    Returns its position in `leading_rows`, the column index of each recognised field, and the
    header's errors.
    """
    candidates = [_map_columns(row_number, cells) for row_number, cells in leading_rows]
    for position, (column_indexes, duplicate_errors) in enumerate(candidates):
        if all(column.field in column_indexes for column in _COLUMNS if column.required):
            return position, column_indexes, duplicate_errors
    # No complete header: blame the row that looks most like one (the first, on a tie).
    best_position = max(
        range(len(candidates)), key=lambda position: (len(candidates[position][0]), -position)
    )
    column_indexes, duplicate_errors = candidates[best_position]
    header_row_number = leading_rows[best_position][0]
    missing_errors = [
        RowError(
            header_row_number,
            column.field,
            f"missing column for the {column.label} "
            f"(headed e.g. '{column.aliases[0]}' or '{_first_ascii(column.aliases)}')",
        )
        for column in _COLUMNS
        if column.required and column.field not in column_indexes
    ]
    return best_position, column_indexes, duplicate_errors + missing_errors


def _map_columns(row_number: int, cells: Sequence[object]) -> tuple[dict[str, int], list[RowError]]:
    """Return the index of each recognised column and errors for columns that appear twice."""
    column_indexes: dict[str, int] = {}
    header_texts: dict[str, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        column = _COLUMN_BY_KEY.get(_key(cell))
        if column is None:
            continue
        if column.field in column_indexes:
            errors.append(
                RowError(
                    row_number,
                    column.field,
                    f"columns '{header_texts[column.field]}' and '{cell.strip()}' both hold the "
                    f"{column.label}; keep one of them",
                )
            )
            continue
        column_indexes[column.field] = index
        header_texts[column.field] = cell.strip()
    return column_indexes, errors


def _first_ascii(aliases: tuple[str, ...]) -> str:
    return next(alias for alias in aliases if alias.isascii())


class _FieldError(Exception):
    """A cell that cannot be imported; the message is the reason shown to the user."""


def _parse_row(
    row_number: int, cells: Sequence[object], column_indexes: dict[str, int]
) -> tuple[UnitImportRow | None, tuple[str, str] | None, list[RowError]]:
    """Validate one row: the row when valid, its (building, unit number) when those are, and errors."""

    def cell(field: str) -> object:
        index = column_indexes.get(field)
        return cells[index] if index is not None and index < len(cells) else None

    errors: list[RowError] = []

    def parse(field: str, parser: Callable[[object], _T]) -> _T | None:
        try:
            return parser(cell(field))
        except _FieldError as error:
            errors.append(RowError(row_number, field, str(error)))
            return None

    owner_details_given = bool(_cell_text(cell("phone")) or _cell_text(cell("national_id")))
    building = parse("building", lambda value: _parse_label(value, "building"))
    unit_number = parse("unit_number", lambda value: _parse_label(value, "unit_number"))
    floor = parse("floor", _parse_floor)
    floor_area = parse("floor_area", _parse_floor_area)
    kind = parse("kind", _parse_kind)
    owner_name = parse("owner_name", lambda value: _parse_owner_name(value, required=owner_details_given))
    phone = parse("phone", _parse_phone)
    national_id = parse("national_id", _parse_national_id)
    if building is None or unit_number is None:
        return None, None, errors
    unit = (building, unit_number)
    if errors or floor is None or floor_area is None or kind is None:
        return None, unit, errors
    return (
        UnitImportRow(
            row_number=row_number,
            building=building,
            unit_number=unit_number,
            floor=floor,
            floor_area=floor_area,
            kind=kind,
            owner_name=owner_name,
            phone=phone,
            national_id=national_id,
        ),
        unit,
        [],
    )


def _cell_text(value: object) -> str:
    """Render a cell as the text the user sees, so Excel's 101.0 reads as '101'."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        # Excel shows at most 15 significant digits; binary noise beyond that isn't the user's.
        return format(value, ".15g")
    return unicodedata.normalize("NFKC", str(value)).strip()


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _parse_label(value: object, field: str) -> str:
    label = _COLUMN_LABELS[field]
    if isinstance(value, (dt.date, dt.time)):
        raise _FieldError(
            f"{label} was turned into a date by Excel; format the column as text and re-enter it"
        )
    text = _cell_text(value)
    if not text:
        raise _FieldError(f"{label} is required")
    _check_plain_text(text, field)
    return text


def _check_plain_text(text: str, field: str) -> None:
    label = _COLUMN_LABELS[field]
    if len(text) > _MAX_TEXT_LENGTHS[field]:
        raise _FieldError(f"{label} is longer than {_MAX_TEXT_LENGTHS[field]} characters")
    # Line breaks and NULs sneak in from copy-paste; PostgreSQL refuses NUL in text outright.
    if any(unicodedata.category(character) == "Cc" for character in text):
        raise _FieldError(f"{label} contains a line break or other control character")


def _parse_floor(value: object) -> int:
    text = _cell_text(value)
    if not text:
        raise _FieldError("floor is required")
    match = _FLOOR_TEXT.fullmatch(text.casefold())
    if match is None:
        raise _FieldError(f"floor '{text}' is not a whole number like 3, -1 or B1")
    floor = int(match["number"])
    if match["basement"]:
        floor = -floor
    if floor == 0:
        raise _FieldError("floor 0 does not exist: the ground floor is 1 and basements are -1, -2, …")
    if not _MIN_FLOOR <= floor <= _MAX_FLOOR:
        raise _FieldError(f"floor {floor} is outside {_MIN_FLOOR} to {_MAX_FLOOR}")
    return floor


def _parse_floor_area(value: object) -> Decimal:
    text = _cell_text(value)
    if not text:
        raise _FieldError("floor area is required")
    number = _AREA_UNIT_SUFFIX.sub("", text.casefold()).strip()
    if not _AREA_NUMBER.fullmatch(number):
        raise _FieldError(f"floor area '{text}' is not a number of square metres like 89.5")
    area = Decimal(number.replace(",", ""))
    if area <= 0:
        raise _FieldError("floor area must be greater than 0")
    if area != area.quantize(_CENTS):
        raise _FieldError(f"floor area {text} has more than 2 decimal places")
    if area > MAX_FLOOR_AREA:
        raise _FieldError(f"floor area {text} m² is larger than {MAX_FLOOR_AREA} m²; check the number")
    return area.quantize(_CENTS)


def _parse_kind(value: object) -> str:
    text = _cell_text(value)
    if not text:
        raise _FieldError("kind is required")
    kind = _KIND_BY_KEY.get(_key(text))
    if kind is None:
        raise _FieldError(f"unknown kind '{text}'; use one of 住宅, 商铺, 办公, 车位, 储藏室")
    return kind


def _parse_owner_name(value: object, *, required: bool) -> str | None:
    text = _cell_text(value)
    if not text:
        if required:
            raise _FieldError("owner name is required when a phone or ID number is given")
        return None
    _check_plain_text(text, "owner_name")
    return text


def _parse_phone(value: object) -> str | None:
    text = _cell_text(value)
    if not text:
        return None
    try:
        return normalize_phone(text)
    except InvalidPersonalDataError as error:
        if _is_number(value):
            raise _FieldError(
                f"{error}; Excel stored it as a number, which drops a leading 0: format the column as text"
            ) from None
        raise _FieldError(str(error)) from None


def _parse_national_id(value: object) -> str | None:
    text = _cell_text(value)
    if not text:
        return None
    if _is_number(value) or _SCIENTIFIC_NUMBER.fullmatch(text.casefold()):
        raise _FieldError(
            "ID number was stored as a number, so Excel kept only its first 15 digits; "
            "format the column as text and enter the number again"
        )
    try:
        return normalize_national_id(text)
    except InvalidPersonalDataError as error:
        raise _FieldError(str(error)) from None
