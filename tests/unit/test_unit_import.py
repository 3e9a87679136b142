"""Specification of reading and validating unit registers uploaded as .csv or .xlsx."""

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal

import openpyxl  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from register.unit_spreadsheet import (
    FILE_ROW_NUMBER,
    MAX_UNIT_ROWS,
    UNIT_KINDS,
    RowError,
    UnitImportReport,
    UnitImportRow,
    parse_unit_register,
)

CHINESE_HEADER = ["楼栋", "房号", "楼层", "建筑面积(㎡)", "类型", "业主姓名", "联系电话", "身份证号"]
ENGLISH_HEADER = ["Building", "Unit Number", "Floor", "Area_m2", "Kind", "Owner Name", "Phone", "National ID"]
REQUIRED_ONLY_HEADER = ["楼栋", "房号", "楼层", "面积", "类型"]

VALID_ID = "110101199003071233"
VALID_ID_ENDING_IN_X = "11010519491231002X"

ZHANG_SAN_ROW = ["1栋", "101", "1", "89.5", "住宅", "张三", "13812345678", VALID_ID]
ZHANG_SAN = UnitImportRow(
    row_number=2,
    building="1栋",
    unit_number="101",
    floor=1,
    floor_area=Decimal("89.50"),
    kind="APARTMENT",
    owner_name="张三",
    phone="13812345678",
    national_id=VALID_ID,
)


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(
    rows: Sequence[Sequence[object]], *, extra_sheet_rows: Sequence[Sequence[object]] | None = None
) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if extra_sheet_rows is not None:
        other = workbook.create_sheet("说明")
        for row in extra_sheet_rows:
            other.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse_csv(
    *data_rows: Sequence[object], header: Sequence[str] = CHINESE_HEADER, max_rows: int = MAX_UNIT_ROWS
) -> UnitImportReport:
    return parse_unit_register(csv_bytes([header, *data_rows]), "units.csv", max_rows=max_rows)


def only_error(report: UnitImportReport) -> RowError:
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def only_row(report: UnitImportReport) -> UnitImportRow:
    assert report.errors == (), report.errors
    assert len(report.rows) == 1
    return report.rows[0]


def row_with(**cells: object) -> list[object]:
    """A valid Chinese-header row with some cells replaced, by field name."""
    positions = {
        "building": 0, "unit_number": 1, "floor": 2, "floor_area": 3,
        "kind": 4, "owner_name": 5, "phone": 6, "national_id": 7,
    }
    row: list[object] = list(ZHANG_SAN_ROW)
    for field, value in cells.items():
        row[positions[field]] = value
    return row


# --- file formats ---------------------------------------------------------------------------


def test_utf8_csv_with_chinese_header_yields_the_row() -> None:
    report = parse_csv(ZHANG_SAN_ROW)
    assert report.ok
    assert report.rows == (ZHANG_SAN,)


def test_utf8_csv_with_byte_order_mark_yields_the_row() -> None:
    content = b"\xef\xbb\xbf" + csv_bytes([CHINESE_HEADER, ZHANG_SAN_ROW])
    assert parse_unit_register(content, "units.csv").rows == (ZHANG_SAN,)


def test_gb18030_csv_saved_by_chinese_excel_yields_the_row() -> None:
    content = csv_bytes([CHINESE_HEADER, ZHANG_SAN_ROW], encoding="gb18030")
    assert parse_unit_register(content, "台账.CSV").rows == (ZHANG_SAN,)


def test_csv_that_is_neither_utf8_nor_gb18030_is_refused() -> None:
    content = csv_bytes([REQUIRED_ONLY_HEADER]) + b"\x81\xff\xff\n"
    assert only_error(parse_unit_register(content, "units.csv")) == RowError(
        FILE_ROW_NUMBER, "file", "the CSV file is neither UTF-8 nor GB18030 text; save it as 'CSV UTF-8'"
    )


def test_csv_with_bom_but_broken_utf8_is_refused() -> None:
    content = b"\xef\xbb\xbf" + "楼栋".encode("gb18030")
    assert only_error(parse_unit_register(content, "units.csv")).reason == (
        "the file starts like UTF-8 but is not valid UTF-8"
    )


def test_csv_with_a_cell_beyond_the_csv_field_limit_is_refused_as_unreadable() -> None:
    content = csv_bytes([REQUIRED_ONLY_HEADER, ["1栋", "101", "1", "80", "住" * 200_000]])
    error = only_error(parse_unit_register(content, "units.csv"))
    assert (error.row_number, error.field) == (FILE_ROW_NUMBER, "file")
    assert error.reason.startswith("the CSV file cannot be read: field larger than field limit")


def test_csv_with_no_extension_is_read_as_csv() -> None:
    content = csv_bytes([CHINESE_HEADER, ZHANG_SAN_ROW])
    assert parse_unit_register(content, "units").rows == (ZHANG_SAN,)


def test_xlsx_with_chinese_header_yields_the_row() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ZHANG_SAN_ROW])
    assert parse_unit_register(content, "units.xlsx").rows == (ZHANG_SAN,)


def test_xlsx_is_recognised_by_content_even_when_named_csv() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ZHANG_SAN_ROW])
    assert parse_unit_register(content, "units.csv").rows == (ZHANG_SAN,)


def test_only_the_first_sheet_is_read() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ZHANG_SAN_ROW], extra_sheet_rows=[["填表说明: 每户一行"]])
    assert parse_unit_register(content, "units.xlsx").rows == (ZHANG_SAN,)


def test_numbers_from_excel_cells_read_as_excel_shows_them() -> None:
    content = xlsx_bytes([CHINESE_HEADER, [1.0, 101.0, 3.0, 89.5, "住宅", "张三", 13812345678.0, None]])
    row = only_row(parse_unit_register(content, "units.xlsx"))
    assert (row.building, row.unit_number, row.floor, row.floor_area, row.phone) == (
        "1", "101", 3, Decimal("89.50"), "13812345678"
    )


def test_area_computed_by_a_formula_loses_its_binary_noise() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ["1", "101", 1, 0.1 + 0.2, "车位", None, None, None]])
    assert only_row(parse_unit_register(content, "units.xlsx")).floor_area == Decimal("0.30")


def test_id_number_stored_as_a_number_in_excel_is_reported_as_having_lost_digits() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ["1", "101", 1, 89.5, "住宅", "张三", None, 110101199003071233]])
    assert only_error(parse_unit_register(content, "units.xlsx")) == RowError(
        2,
        "national_id",
        "ID number was stored as a number, so Excel kept only its first 15 digits; "
        "format the column as text and enter the number again",
    )


def test_id_number_saved_to_csv_in_scientific_notation_is_reported_as_having_lost_digits() -> None:
    error = only_error(parse_csv(row_with(national_id="1.10101E+17")))
    assert (error.row_number, error.field) == (2, "national_id")
    assert error.reason.startswith("ID number was stored as a number")


def test_landline_stored_as_a_number_explains_the_lost_leading_zero() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ["1", "101", 1, 89.5, "住宅", "张三", 1012345678, None]])
    error = only_error(parse_unit_register(content, "units.xlsx"))
    assert (error.row_number, error.field) == (2, "phone")
    assert error.reason.endswith(
        "Excel stored it as a number, which drops a leading 0: format the column as text"
    )


def test_unit_number_that_excel_turned_into_a_date_is_reported() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ["1", dt.datetime(2024, 1, 10), 1, 89.5, "住宅", None, None, None]])
    assert only_error(parse_unit_register(content, "units.xlsx")) == RowError(
        2,
        "unit_number",
        "unit number was turned into a date by Excel; format the column as text and re-enter it",
    )


def test_empty_file_is_refused() -> None:
    assert only_error(parse_unit_register(b"", "units.csv")) == RowError(
        FILE_ROW_NUMBER, "file", "the file is empty"
    )


def test_legacy_xls_workbook_is_refused_with_advice() -> None:
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert only_error(parse_unit_register(content, "units.xls")).reason == (
        "old .xls workbooks are not supported; save the file as .xlsx or .csv"
    )


def test_damaged_zip_is_refused_as_invalid_workbook() -> None:
    content = b"PK\x03\x04" + b"not really a zip archive"
    error = only_error(parse_unit_register(content, "units.xlsx"))
    assert error.reason == "the file is not a valid .xlsx workbook"


def test_workbook_whose_sheet_breaks_off_midway_is_refused_as_damaged() -> None:
    intact = zipfile.ZipFile(io.BytesIO(xlsx_bytes([REQUIRED_ONLY_HEADER, ["1栋", "101", 1, 80, "住宅"]])))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for name in intact.namelist():
            part = intact.read(name)
            if name == "xl/worksheets/sheet1.xml":
                part = part.replace(b"</row></sheetData>", b'</row><row r="3"><c r="A3"><v>1')
            archive.writestr(name, part)
    assert only_error(parse_unit_register(damaged.getvalue(), "units.xlsx")) == RowError(
        FILE_ROW_NUMBER, "file", "the workbook is damaged and cannot be read"
    )


def test_text_named_xlsx_is_refused_as_invalid_workbook() -> None:
    content = csv_bytes([CHINESE_HEADER, ZHANG_SAN_ROW])
    error = only_error(parse_unit_register(content, "units.xlsx"))
    assert error.reason == "the file is not a valid .xlsx workbook"


def test_unsupported_file_type_is_refused() -> None:
    assert only_error(parse_unit_register(b"%PDF-1.7", "units.pdf")).reason == (
        "unsupported file type '.pdf'; upload an .xlsx or .csv file"
    )


# --- header ---------------------------------------------------------------------------------


def test_english_header_is_recognised_whatever_case_and_spacing() -> None:
    header = [
        "  BUILDING ", "unit number", "Floor", "Floor Area (m²)", "KIND", "owner_name", "Mobile", "ID Number"
    ]
    assert parse_csv(ZHANG_SAN_ROW, header=header).rows == (ZHANG_SAN,)


def test_english_header_with_area_m2_is_recognised() -> None:
    assert parse_csv(ZHANG_SAN_ROW, header=ENGLISH_HEADER).rows == (ZHANG_SAN,)


def test_alternative_chinese_header_names_are_recognised() -> None:
    header = ["楼号", "单元号", "楼层", "面积（㎡）", "房屋类型", "业主", "电话", "证件号码"]
    assert parse_csv(ZHANG_SAN_ROW, header=header).rows == (ZHANG_SAN,)


def test_header_with_required_markers_and_full_width_spaces_is_recognised() -> None:
    header = ["*楼栋", "*房号", "楼　层", "*建筑面积【平方米】", "类型：", "手机", "姓名", "身份证号码"]
    row = ["1栋", "101", "1", "89.5", "住宅", "13812345678", "张三", VALID_ID]
    assert parse_csv(row, header=header).rows == (ZHANG_SAN,)


def test_columns_may_come_in_any_order() -> None:
    header = ["类型", "面积", "楼层", "房号", "楼栋"]
    row = only_row(parse_csv(["商铺", "120", "1", "S-01", "3栋"], header=header))
    assert (row.building, row.unit_number, row.floor, row.floor_area, row.kind) == (
        "3栋", "S-01", 1, Decimal("120.00"), "SHOP"
    )


def test_owner_columns_are_optional() -> None:
    row = only_row(parse_csv(["1栋", "101", "1", "89.5", "住宅"], header=REQUIRED_ONLY_HEADER))
    assert (row.owner_name, row.phone, row.national_id) == (None, None, None)


def test_unrecognised_columns_are_ignored() -> None:
    header = ["序号", *CHINESE_HEADER, "备注"]
    assert parse_csv(["1", *ZHANG_SAN_ROW, "已交房"], header=header).rows == (ZHANG_SAN,)


def test_missing_required_columns_are_reported_on_row_1_one_by_one() -> None:
    report = parse_csv(["1栋", "101", "住宅"], header=["楼栋", "房号", "类型"])
    assert report.rows == ()
    assert report.errors == (
        RowError(1, "floor", "missing column for the floor (headed e.g. '楼层' or 'floor')"),
        RowError(1, "floor_area", "missing column for the floor area (headed e.g. '建筑面积' or 'area_m2')"),
    )


def test_a_column_appearing_twice_is_reported() -> None:
    header = ["楼栋", "房号", "楼层", "面积", "建筑面积", "类型"]
    assert only_error(parse_csv(["1栋", "101", "1", "89.5", "89.5", "住宅"], header=header)) == RowError(
        1, "floor_area", "columns '面积' and '建筑面积' both hold the floor area; keep one of them"
    )


def test_title_rows_above_the_header_are_skipped_and_row_numbers_stay_true() -> None:
    content = xlsx_bytes([["阳光花园房屋台账"], [], CHINESE_HEADER, ZHANG_SAN_ROW])
    row = only_row(parse_unit_register(content, "units.xlsx"))
    assert row.row_number == 4


def test_header_missing_a_column_is_reported_on_the_header_row() -> None:
    report = parse_csv(["1栋", "101", "1", "89.5"], header=["楼栋", "房号", "楼层", "面积"])
    assert report.errors == (
        RowError(1, "kind", "missing column for the kind (headed e.g. '类型' or 'kind')"),
    )


def test_header_missing_a_column_under_a_title_row_is_reported_on_the_header_row() -> None:
    content = xlsx_bytes([["阳光花园房屋台账"], ["楼栋", "房号", "楼层", "面积"], ["1栋", "101", 1, 89.5]])
    assert parse_unit_register(content, "units.xlsx").errors == (
        RowError(2, "kind", "missing column for the kind (headed e.g. '类型' or 'kind')"),
    )


def test_file_without_any_rows_is_refused() -> None:
    assert only_error(parse_unit_register(b"\r\n ,, \r\n", "units.csv")) == RowError(
        FILE_ROW_NUMBER, "file", "the file contains no rows"
    )


def test_header_without_unit_rows_is_refused() -> None:
    assert only_error(parse_csv()) == RowError(
        FILE_ROW_NUMBER, "file", "the file has a header row but no unit rows"
    )


# --- floor ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "floor"),
    [("3", 3), ("28", 28), ("3.0", 3), ("-1", -1), ("B1", -1), ("b2", -2), ("B1F", -1), ("3F", 3),
     ("3层", 3), ("12楼", 12), ("地下2层", -2), ("负1", -1), ("３", 3), ("200", 200), ("-10", -10)],
)
def test_floor_is_read_from_common_notations(cell: str, floor: int) -> None:
    assert only_row(parse_csv(row_with(floor=cell))).floor == floor


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("", "floor is required"),
        ("3.5", "floor '3.5' is not a whole number like 3, -1 or B1"),
        ("三楼", "floor '三楼' is not a whole number like 3, -1 or B1"),
        ("0", "floor 0 does not exist: the ground floor is 1 and basements are -1, -2, …"),
        ("201", "floor 201 is outside -10 to 200"),
        ("B11", "floor -11 is outside -10 to 200"),
    ],
)
def test_bad_floor_is_reported(cell: str, reason: str) -> None:
    assert only_error(parse_csv(row_with(floor=cell))) == RowError(2, "floor", reason)


# --- floor area -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "area"),
    [("89.5", "89.50"), ("89", "89.00"), ("89.50", "89.50"), ("89.500", "89.50"), ("0.01", "0.01"),
     ("89.5㎡", "89.50"), ("89.5 m2", "89.50"), ("89.5平方米", "89.50"), ("1,234.5", "1234.50"),
     ("100000", "100000.00"), ("+12", "12.00")],
)
def test_floor_area_is_read_to_the_hundredth(cell: str, area: str) -> None:
    assert only_row(parse_csv(row_with(floor_area=cell))).floor_area == Decimal(area)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("", "floor area is required"),
        ("0", "floor area must be greater than 0"),
        ("0.00", "floor area must be greater than 0"),
        ("-12.5", "floor area must be greater than 0"),
        ("89.123", "floor area 89.123 has more than 2 decimal places"),
        ("100000.01", "floor area 100000.01 m² is larger than 100000 m²; check the number"),
        ("八十", "floor area '八十' is not a number of square metres like 89.5"),
        ("89,5", "floor area '89,5' is not a number of square metres like 89.5"),
        ("1e3", "floor area '1e3' is not a number of square metres like 89.5"),
        ("NaN", "floor area 'NaN' is not a number of square metres like 89.5"),
    ],
)
def test_bad_floor_area_is_reported(cell: str, reason: str) -> None:
    assert only_error(parse_csv(row_with(floor_area=cell))) == RowError(2, "floor_area", reason)


# --- kind -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "kind"),
    [("住宅", "APARTMENT"), ("公寓", "APARTMENT"), ("Apartment", "APARTMENT"),
     ("商铺", "SHOP"), ("店铺", "SHOP"), ("shop", "SHOP"),
     ("办公", "OFFICE"), ("写字楼", "OFFICE"), ("OFFICE", "OFFICE"),
     ("车位", "PARKING_SPACE"), ("停车位", "PARKING_SPACE"), ("parking_space", "PARKING_SPACE"),
     ("Parking Space", "PARKING_SPACE"),
     ("储藏室", "STORAGE"), ("杂物间", "STORAGE"), ("storage", "STORAGE")],
)
def test_kind_is_read_in_chinese_or_english(cell: str, kind: str) -> None:
    assert only_row(parse_csv(row_with(kind=cell))).kind == kind


def test_every_kind_is_one_of_the_unit_kinds() -> None:
    cells = ["住宅", "商铺", "办公", "车位", "储藏室"]
    kinds = {only_row(parse_csv(row_with(kind=cell))).kind for cell in cells}
    assert kinds == set(UNIT_KINDS)


def test_unknown_kind_is_reported() -> None:
    assert only_error(parse_csv(row_with(kind="别墅"))) == RowError(
        2, "kind", "unknown kind '别墅'; use one of 住宅, 商铺, 办公, 车位, 储藏室"
    )


def test_missing_kind_is_reported() -> None:
    assert only_error(parse_csv(row_with(kind=" "))) == RowError(2, "kind", "kind is required")


# --- building and unit number ---------------------------------------------------------------


def test_missing_building_is_reported() -> None:
    assert only_error(parse_csv(row_with(building=""))) == RowError(2, "building", "building is required")


def test_missing_unit_number_is_reported() -> None:
    assert only_error(parse_csv(row_with(unit_number=""))) == RowError(
        2, "unit_number", "unit number is required"
    )


def test_overlong_building_is_reported() -> None:
    assert only_error(parse_csv(row_with(building="楼" * 51))) == RowError(
        2, "building", "building is longer than 50 characters"
    )


def test_overlong_unit_number_is_reported() -> None:
    assert only_error(parse_csv(row_with(unit_number="1" * 31))) == RowError(
        2, "unit_number", "unit number is longer than 30 characters"
    )


def test_surrounding_spaces_and_full_width_characters_are_normalized() -> None:
    row = only_row(parse_csv(row_with(building=" １栋 ", unit_number=" Ａ-１０１ ")))
    assert (row.building, row.unit_number) == ("1栋", "A-101")


# --- owner ----------------------------------------------------------------------------------


def test_owner_fields_may_be_left_blank() -> None:
    row = only_row(parse_csv(row_with(owner_name="", phone="", national_id="")))
    assert (row.owner_name, row.phone, row.national_id) == (None, None, None)


def test_owner_name_alone_is_enough() -> None:
    row = only_row(parse_csv(row_with(phone="", national_id="")))
    assert (row.owner_name, row.phone, row.national_id) == ("张三", None, None)


def test_phone_without_owner_name_is_reported_on_the_owner_name() -> None:
    assert only_error(parse_csv(row_with(owner_name="", national_id=""))) == RowError(
        2, "owner_name", "owner name is required when a phone or ID number is given"
    )


def test_id_number_without_owner_name_is_reported_on_the_owner_name() -> None:
    assert only_error(parse_csv(row_with(owner_name="", phone=""))).field == "owner_name"


def test_overlong_owner_name_is_reported() -> None:
    assert only_error(parse_csv(row_with(owner_name="张" * 101))) == RowError(
        2, "owner_name", "owner name is longer than 100 characters"
    )


@pytest.mark.parametrize(
    ("cell", "phone"),
    [("138 1234 5678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
     ("010-12345678", "010-12345678"), ("01012345678", "010-12345678"), ("0755 1234567", "0755-1234567")],
)
def test_phone_is_normalized(cell: str, phone: str) -> None:
    assert only_row(parse_csv(row_with(phone=cell))).phone == phone


def test_invalid_phone_is_reported() -> None:
    assert only_error(parse_csv(row_with(phone="12812345678"))) == RowError(
        2, "phone", "not a mainland mobile (11 digits starting 13–19) or landline (area code and 7–8 digits)"
    )


def test_id_number_with_lower_case_x_is_upper_cased() -> None:
    assert only_row(parse_csv(row_with(national_id="11010519491231002x"))).national_id == VALID_ID_ENDING_IN_X


def test_id_number_with_wrong_check_digit_is_reported() -> None:
    assert only_error(parse_csv(row_with(national_id="110101199003071234"))) == RowError(
        2, "national_id", "ID number check digit does not match; a character is mistyped"
    )


def test_fifteen_digit_id_number_is_reported() -> None:
    assert only_error(parse_csv(row_with(national_id="110105491231002"))).reason == (
        "15-digit ID numbers are obsolete; use the 18-character number"
    )


# --- rows as a whole ------------------------------------------------------------------------


def test_every_bad_field_of_a_row_is_reported_in_column_order() -> None:
    report = parse_csv(["", "101", "0", "-5", "别墅", "张三", "123", "abc"])
    assert report.rows == ()
    assert [(error.row_number, error.field) for error in report.errors] == [
        (2, "building"), (2, "floor"), (2, "floor_area"), (2, "kind"), (2, "phone"), (2, "national_id")
    ]


def test_errors_carry_spreadsheet_row_numbers_and_good_rows_are_kept() -> None:
    report = parse_csv(
        row_with(unit_number="101"),
        row_with(unit_number="102", floor_area="0"),
        row_with(unit_number="103"),
        row_with(unit_number="104", kind="别墅"),
    )
    assert not report.ok
    assert [row.row_number for row in report.rows] == [2, 4]
    assert [(error.row_number, error.field) for error in report.errors] == [(3, "floor_area"), (5, "kind")]


def test_report_is_ok_only_without_errors() -> None:
    assert UnitImportReport(rows=(ZHANG_SAN,), errors=()).ok
    assert not UnitImportReport(rows=(ZHANG_SAN,), errors=(RowError(3, "kind", "kind is required"),)).ok


def test_blank_rows_are_skipped_and_later_rows_keep_their_numbers() -> None:
    report = parse_csv(row_with(unit_number="101"), ["", "", ""], [" ", "", "", "", "", "", "", ""], [],
                       row_with(unit_number="102"))
    assert report.ok
    assert [(row.row_number, row.unit_number) for row in report.rows] == [(2, "101"), (6, "102")]


def test_blank_excel_rows_are_skipped_and_later_rows_keep_their_numbers() -> None:
    content = xlsx_bytes(
        [CHINESE_HEADER, row_with(unit_number="101"), [None] * 8, row_with(unit_number="102")]
    )
    report = parse_unit_register(content, "units.xlsx")
    assert [(row.row_number, row.unit_number) for row in report.rows] == [(2, "101"), (4, "102")]


def test_short_csv_row_reports_its_missing_cells() -> None:
    report = parse_csv(["1栋", "101", "1"])
    assert [(error.row_number, error.field) for error in report.errors] == [(2, "floor_area"), (2, "kind")]


def test_cell_with_a_line_break_is_refused_without_shifting_row_numbers() -> None:
    report = parse_csv(
        row_with(unit_number="101", owner_name="张三\n李四"), row_with(unit_number="102", floor="0")
    )
    assert report.errors == (
        RowError(2, "owner_name", "owner name contains a line break or other control character"),
        RowError(3, "floor", "floor 0 does not exist: the ground floor is 1 and basements are -1, -2, …"),
    )


def test_nul_character_in_a_cell_is_refused() -> None:
    assert only_error(parse_csv(row_with(building="1\x00栋"))) == RowError(
        2, "building", "building contains a line break or other control character"
    )


# --- duplicates -----------------------------------------------------------------------------


def test_unit_appearing_twice_is_reported_on_the_later_row_naming_both() -> None:
    report = parse_csv(
        row_with(building="1", unit_number="100"),
        row_with(building="1", unit_number="102"),
        row_with(building="1", unit_number="101"),
        row_with(building="1", unit_number="103"),
        row_with(building="1", unit_number="104"),
        row_with(building="1", unit_number="105"),
        row_with(building="1", unit_number="106"),
        row_with(building="1", unit_number="101"),
    )
    assert only_error(report) == RowError(9, "unit_number", "unit 1-101 appears twice (rows 4 and 9)")
    assert [row.row_number for row in report.rows] == [2, 3, 4, 5, 6, 7, 8]


def test_every_repeat_of_a_unit_names_its_first_row() -> None:
    report = parse_csv(row_with(), row_with(), row_with())
    assert [(error.row_number, error.reason) for error in report.errors] == [
        (3, "unit 1栋-101 appears twice (rows 2 and 3)"),
        (4, "unit 1栋-101 appears twice (rows 2 and 4)"),
    ]


def test_unit_numbers_differing_only_in_case_are_duplicates() -> None:
    report = parse_csv(row_with(unit_number="A-101"), row_with(unit_number="a-101"))
    assert only_error(report) == RowError(3, "unit_number", "unit 1栋-a-101 appears twice (rows 2 and 3)")


def test_same_unit_number_in_different_buildings_is_fine() -> None:
    report = parse_csv(row_with(building="1栋"), row_with(building="2栋"))
    assert report.ok
    assert len(report.rows) == 2


def test_excel_float_and_text_unit_numbers_are_recognised_as_the_same_unit() -> None:
    content = xlsx_bytes([CHINESE_HEADER, ["1", 101.0, 1, 80, "住宅"], ["1", "101", 1, 80, "住宅"]])
    error = only_error(parse_unit_register(content, "units.xlsx"))
    assert error.reason == "unit 1-101 appears twice (rows 2 and 3)"


def test_a_repeated_unit_is_reported_even_when_its_row_has_other_errors() -> None:
    report = parse_csv(row_with(), row_with(kind="别墅"))
    assert report.errors == (
        RowError(3, "kind", "unknown kind '别墅'; use one of 住宅, 商铺, 办公, 车位, 储藏室"),
        RowError(3, "unit_number", "unit 1栋-101 appears twice (rows 2 and 3)"),
    )


def test_a_unit_first_seen_on_a_row_with_errors_still_counts_for_duplicates() -> None:
    report = parse_csv(row_with(floor="0"), row_with())
    assert [(error.row_number, error.field) for error in report.errors] == [(2, "floor"), (3, "unit_number")]


# --- row cap --------------------------------------------------------------------------------


def test_default_row_cap_is_twenty_thousand() -> None:
    assert MAX_UNIT_ROWS == 20_000


def test_file_at_the_row_cap_is_accepted() -> None:
    report = parse_csv(*(row_with(unit_number=str(number)) for number in range(1, 4)), max_rows=3)
    assert report.ok
    assert len(report.rows) == 3


def test_file_over_the_row_cap_is_refused_with_one_error() -> None:
    report = parse_csv(*(row_with(unit_number=str(number)) for number in range(1, 5)), max_rows=3)
    assert report.rows == ()
    assert only_error(report) == RowError(
        FILE_ROW_NUMBER, "file", "the file has more than 3 unit rows; split it into files of at most 3 rows"
    )


def test_blank_rows_do_not_count_towards_the_row_cap() -> None:
    report = parse_csv(row_with(unit_number="1"), [], [], row_with(unit_number="2"), max_rows=2)
    assert report.ok


def test_xlsx_over_the_row_cap_is_refused_with_one_error() -> None:
    rows: list[Sequence[object]] = [CHINESE_HEADER, *(row_with(unit_number=str(n)) for n in range(1, 6))]
    report = parse_unit_register(xlsx_bytes(rows), "units.xlsx", max_rows=4)
    assert only_error(report).reason == (
        "the file has more than 4 unit rows; split it into files of at most 4 rows"
    )


# --- law: whatever valid register is written, it is read back unchanged -----------------------


valid_units = st.builds(
    lambda building, number, floor, cents, kind: (building, number, floor, Decimal(cents) / 100, kind),
    st.sampled_from(["1栋", "2栋", "A座", "B"]),
    st.from_regex(r"[0-9]{1,2}0[1-9]", fullmatch=True),
    st.integers(-10, 200).filter(lambda floor: floor != 0),
    st.integers(1, 10_000_000),
    st.sampled_from(["住宅", "商铺", "办公", "车位", "储藏室"]),
)


@settings(max_examples=40)
@given(st.lists(valid_units, min_size=1, max_size=15, unique_by=lambda unit: (unit[0], unit[1])))
def test_any_valid_register_written_as_csv_reads_back_unchanged(
    units: list[tuple[str, str, int, Decimal, str]],
) -> None:
    kind_of = {
        "住宅": "APARTMENT", "商铺": "SHOP", "办公": "OFFICE", "车位": "PARKING_SPACE", "储藏室": "STORAGE"
    }
    data_rows = [
        [building, number, str(floor), str(area), kind] for building, number, floor, area, kind in units
    ]
    report = parse_csv(*data_rows, header=REQUIRED_ONLY_HEADER)
    assert report.ok
    read_back = [
        (row.row_number, row.building, row.unit_number, row.floor, row.floor_area, row.kind)
        for row in report.rows
    ]
    assert read_back == [
        (index + 2, building, number, floor, area.quantize(Decimal("0.01")), kind_of[kind])
        for index, (building, number, floor, area, kind) in enumerate(units)
    ]
