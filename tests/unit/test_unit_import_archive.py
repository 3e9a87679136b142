"""An .xlsx is a zip archive: its directory is checked before openpyxl inflates anything (zip bombs)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import openpyxl  # type: ignore[import-untyped]
import pytest

from register import unit_spreadsheet
from register.unit_spreadsheet import (
    FILE_ROW_NUMBER,
    MAX_XLSX_COMPRESSION_RATIO,
    MAX_XLSX_ENTRIES,
    MAX_XLSX_ENTRY_BYTES,
    RowError,
    parse_unit_register,
)

MIB = 1024 * 1024
HEADER = ["楼栋", "房号", "楼层", "面积", "类型"]


def workbook_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["1栋", "101", 1, 89.5, "住宅"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_part(
    content: bytes, name: str, size: int, *, compression: int = zipfile.ZIP_DEFLATED, fill: bytes = b"A"
) -> bytes:
    """`content` with one more part of `size` repeated bytes, written in chunks (the test never holds it whole)."""
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", compression=compression, compresslevel=9 if compression == zipfile.ZIP_DEFLATED else None) as archive:
        with archive.open(name, "w", force_zip64=True) as part:
            chunk = fill * MIB
            written = 0
            while written < size:
                part.write(chunk[: size - written])
                written += min(MIB, size - written)
    return buffer.getvalue()


def shared_strings_bomb(size: int) -> bytes:
    """A workbook whose shared strings (which openpyxl reads whole into memory) unpack to `size` bytes."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            if entry.filename != "xl/sharedStrings.xml":
                archive.writestr(entry, source.read(entry))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            opening = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
            closing = b"</t></si></sst>"
            part.write(opening)
            chunk, left = b"A" * MIB, size - len(opening) - len(closing)
            while left > 0:
                part.write(chunk[:left])
                left -= MIB
            part.write(closing)
    return buffer.getvalue()


def file_error(content: bytes) -> RowError:
    report = parse_unit_register(content, "units.xlsx")
    assert not report.ok and not report.rows
    [error] = report.errors
    assert (error.row_number, error.field) == (FILE_ROW_NUMBER, "file")
    return error


@pytest.fixture
def openpyxl_must_not_open(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl was asked to open an archive the check should have refused")

    monkeypatch.setattr(unit_spreadsheet.openpyxl, "load_workbook", refuse)


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it_and_without_inflating_it(
    openpyxl_must_not_open: None,
) -> None:
    # given: ~200 KB that would unpack to 200 MB of shared strings
    bomb = shared_strings_bomb(200 * MIB)
    assert len(bomb) < 400 * 1024
    # when
    tracemalloc.start()
    try:
        error = file_error(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then
    assert "refused unopened" in error.reason
    assert peak < 4 * MIB


def test_a_part_over_the_size_limit_is_refused_even_when_it_barely_compresses(openpyxl_must_not_open: None) -> None:
    # Stored, not deflated: the ratio is 1:1, only the size gives it away.
    content = with_part(workbook_bytes(), "xl/media/image1.png", MAX_XLSX_ENTRY_BYTES + 1, compression=zipfile.ZIP_STORED)
    assert "one part unpacks to" in file_error(content).reason


def test_a_part_that_unpacks_far_more_than_spreadsheet_xml_does_is_refused(openpyxl_must_not_open: None) -> None:
    content = with_part(workbook_bytes(), "xl/worksheets/sheet2.xml", 4 * MIB)
    assert f"more than {MAX_XLSX_COMPRESSION_RATIO} times" in file_error(content).reason


def test_an_archive_with_thousands_of_parts_is_refused(openpyxl_must_not_open: None) -> None:
    buffer = io.BytesIO(workbook_bytes())
    with zipfile.ZipFile(buffer, "a") as archive:
        for index in range(MAX_XLSX_ENTRIES):
            archive.writestr(f"xl/media/{index}.bin", b"")
    assert "parts" in file_error(buffer.getvalue()).reason


def test_a_compression_excel_never_writes_is_refused(openpyxl_must_not_open: None) -> None:
    content = with_part(workbook_bytes(), "xl/media/extra.bin", 10, compression=zipfile.ZIP_LZMA)
    assert "compression" in file_error(content).reason


def test_a_register_of_twenty_thousand_identical_rows_passes_the_check() -> None:
    # A very compressible honest register: rows alike but for the unit number (~15:1).
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for number in range(20_000):
        sheet.append(["1栋", str(number), 1, 89.5, "住宅"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = parse_unit_register(buffer.getvalue(), "units.xlsx")
    assert report.ok and len(report.rows) == 20_000
