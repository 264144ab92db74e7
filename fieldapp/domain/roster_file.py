"""Reading and validating the county roster files (households and first secretaries).

Three tables: households (户), first secretaries (第一书记) and, optionally, village
centres (村: the 村委会's location and the check-in radius). Every 村代码 is the village's
12-digit statistical division code: its first 6 digits name the county, its first 9 the
town, so a roster says where each village is without any set-up.

Counties send XLSX workbooks or CSV files (UTF-8, with or without BOM, or GB18030, which
is what Excel in China writes). Tables are recognised by their Chinese headers, wherever
they are: one workbook may hold both sheets, or each may come as its own file.

`parse_roster` never stops at the first problem: the county fixes its file once, not
once per error. Every problem becomes a `RowError` that points at the file, sheet,
spreadsheet row (1-based, as Excel shows it) and Chinese column header. Rows that pass
are returned typed and normalised; the service refuses the import while `errors` is not
empty, and checks what needs the database (e.g. a secretary's village that is not in
this import may already exist).
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from fieldapp.domain import N_
from fieldapp.domain import geo
from fieldapp.domain.idcard import id_error_params, validate_id_number
from fieldapp.domain.workbook import WorkbookRejected, check_text_rows, open_xlsx
from fieldapp.domain.text import (
    clean_value,
    normalise_cell,
    parse_date,
    parse_float,
    parse_int,
    parse_year,
)

HOUSEHOLDS, SECRETARIES, VILLAGES = "households", "secretaries", "villages"

HOUSEHOLD_REQUIRED = ("县区", "镇办", "村名", "村代码", "户编号", "户主姓名", "家庭人口", "贫困户属性", "脱贫状态")
HOUSEHOLD_OPTIONAL = ("身份证号", "脱贫年度", "联系电话", "纬度", "经度", "坐标系", "贫困村", "软弱涣散村")
HOUSEHOLD_COLUMNS = (
    "县区", "镇办", "村名", "村代码", "贫困村", "软弱涣散村", "户编号", "户主姓名", "身份证号",
    "家庭人口", "贫困户属性", "脱贫状态", "脱贫年度", "联系电话", "纬度", "经度", "坐标系",
)
SECRETARY_REQUIRED = ("姓名", "手机号", "选派层级", "选派单位", "村代码", "任期开始")
SECRETARY_OPTIONAL = ("任期结束",)
SECRETARY_COLUMNS = SECRETARY_REQUIRED + SECRETARY_OPTIONAL
VILLAGE_REQUIRED = ("村代码", "村名")
VILLAGE_OPTIONAL = ("纬度", "经度", "坐标系", "打卡半径")
VILLAGE_COLUMNS = VILLAGE_REQUIRED + VILLAGE_OPTIONAL
MIN_RADIUS_M, MAX_RADIUS_M = 100, 20000
# Rows of the template's examples carry this mark (in 村名, 户主姓名 or 姓名): importing the
# template unchanged names each of them instead of storing fictional people.
EXAMPLE_MARK = "示例"

# Other spellings seen in county sheets -> our header.
HEADER_ALIASES = {
    "公民身份号码": "身份证号", "身份证号码": "身份证号", "户主身份证号": "身份证号",
    "区县": "县区", "县": "县区", "乡镇": "镇办", "乡镇街道": "镇办", "镇街": "镇办",
    "行政村": "村名", "村": "村名", "户主": "户主姓名", "家庭人口数": "家庭人口", "人口数": "家庭人口",
    "贫困户类型": "贫困户属性", "脱贫年份": "脱贫年度", "电话": "联系电话", "联系方式": "联系电话",
    "坐标类型": "坐标系", "是否贫困村": "贫困村", "是否软弱涣散村": "软弱涣散村",
    "第一书记": "姓名", "第一书记姓名": "姓名", "手机": "手机号", "手机号码": "手机号",
    "选派级别": "选派层级", "派出单位": "选派单位",
    "村代码（12位）": "村代码", "行政区划代码": "村代码", "统计用区划代码": "村代码",
    "半径": "打卡半径", "打卡半径米": "打卡半径", "打卡范围": "打卡半径",
}
_HOUSEHOLD_ONLY = frozenset(HOUSEHOLD_COLUMNS) - {"村代码"}
_HOUSEHOLD_MARKERS = frozenset({"户编号", "户主姓名", "家庭人口"})
_SECRETARY_ONLY = frozenset(SECRETARY_COLUMNS) - {"村代码"}
_HEADER_SCAN_ROWS = 5  # a title or note may sit above the header
_MIN_HEADER_MATCHES = 3  # enough to tell a header row from a line of the 说明 sheet

ATTRIBUTES = {
    "一般贫困户": "general", "一般户": "general",
    "低保贫困户": "low_income", "低保户": "low_income",
    "特困供养贫困户": "extreme_poor", "特困户": "extreme_poor", "五保户": "extreme_poor",
    "特困供养户": "extreme_poor",
}
EXIT_STATUSES = {"未脱贫": "not_exited", "已脱贫": "exited", "脱贫": "exited"}
DISPATCH_LEVELS = {
    "中央": "central", "中央单位": "central", "省": "provincial", "省级": "provincial",
    "市": "city", "市级": "city", "县": "county", "县级": "county", "区": "county",
    "区级": "county", "县区": "county", "县区级": "county",
}
FLAGS = {"是": True, "否": False, "1": True, "0": False, "Y": True, "N": False,
         "YES": True, "NO": False, "TRUE": True, "FALSE": False}
FIRST_EXIT_YEAR = 2013  # targeted poverty relief (精准扶贫) registration began in 2013
MAX_FAMILY_SIZE = 30

# --- messages (English msgids, translated by the service layer) ---------------------------
FILE_UNSUPPORTED = N_("Unsupported file %(filename)s: upload an .xlsx workbook or a .csv file.")
FILE_XLS = N_("Old .xls workbooks are not supported: save the file as .xlsx and upload it again.")
FILE_UNREADABLE = N_("The workbook could not be read: it may be damaged or password-protected.")
FILE_ENCODING = N_("The CSV file is neither UTF-8 nor GB18030 text.")
FILE_NO_TABLE = N_("The file holds no roster table.")
TABLE_UNRECOGNISED = N_(
    "The column headers were not recognised. A households table needs %(households)s; "
    "a first-secretaries table needs %(secretaries)s; a village-centres table needs %(villages)s."
)
COLUMN_MISSING = N_("Required column %(column)s is missing.")
COLUMN_DUPLICATE = N_("Column %(column)s appears more than once; only the first one is read.")
VALUE_REQUIRED = N_("A value is required.")
VALUE_TOO_LONG = N_("The value is too long (at most %(max)s characters).")
CODE_INVALID = N_("Use only digits and letters (a dash or underscore may separate them).")
VILLAGE_CODE_INVALID = N_(
    "A village code is the village's 12-digit statistical division code (统计用区划代码), "
    "e.g. 610323100201.")
TOWN_CONFLICT = N_(
    "Town code %(code)s is named %(first)s in %(first_file)s, row %(first_row)s: one code, "
    "one town.")
TOWN_NAME_CONFLICT = N_(
    "%(town)s has town code %(first)s in %(first_file)s, row %(first_row)s: one town, one code.")
RADIUS_INVALID = N_("The check-in radius must be a whole number of metres from %(min)s to %(max)s.")
VILLAGE_ROW_DUPLICATE = N_(
    "Village code %(code)s is already given in %(first_file)s, row %(first_row)s.")
EXAMPLE_ROW = N_("This is an example row of the template: delete it, then import again.")
NUMBER_LOST_DIGITS = N_(
    "Excel stored this as a number and lost digits: format the column as Text and type it again."
)
FAMILY_SIZE_INVALID = N_("Family size must be a whole number from 1 to %(max)s.")
ATTRIBUTE_UNKNOWN = N_("Unknown household attribute %(value)s: use 一般贫困户, 低保贫困户 or 特困供养贫困户.")
STATUS_UNKNOWN = N_("Unknown status %(value)s: use 未脱贫 or 已脱贫.")
EXIT_YEAR_INVALID = N_("The exit year must be a year from %(min)s to %(max)s.")
EXIT_YEAR_MISSING = N_("The exit year is required when the household has exited poverty.")
EXIT_YEAR_UNEXPECTED = N_("An exit year is given but the household has not exited poverty.")
PHONE_INVALID = N_("Not a valid phone number: use an 11-digit mobile number or a landline number.")
MOBILE_INVALID = N_("Not a valid mobile number: it must have 11 digits and start with 13 to 19.")
NUMBER_INVALID = N_("Not a number.")
COORDS_INCOMPLETE = N_("Latitude and longitude must be given together.")
COORDS_OUTSIDE = N_("The point %(lat)s, %(lon)s is outside China.")
COORDS_SWAPPED = N_("The point %(lat)s, %(lon)s is outside China: are latitude and longitude swapped?")
SYSTEM_UNKNOWN = N_("Unknown coordinate system %(value)s: use WGS84, GCJ02 or BD09.")
FLAG_INVALID = N_("Use 是 or 否.")
DATE_INVALID = N_("Not a valid date: write it like 2024-01-05.")
TERM_END_BEFORE_START = N_("The term ends before it starts.")
LEVEL_UNKNOWN = N_("Unknown dispatch level %(value)s: use 中央, 省, 市 or 县.")
VILLAGE_CONFLICT = N_(
    "Village code %(code)s already names %(county)s %(township)s %(village)s "
    "(%(first_file)s, row %(first_row)s)."
)
VILLAGE_FLAG_CONFLICT = N_("This village's value differs from %(first_file)s, row %(first_row)s.")
HOUSEHOLD_DUPLICATE = N_(
    "Household number %(code)s already appears in this village (%(first_file)s, row %(first_row)s)."
)
SECRETARY_DUPLICATE = N_("This mobile number is already given in %(first_file)s, row %(first_row)s.")

_CODE = re.compile(r"[0-9A-Za-z]+(?:[-_][0-9A-Za-z]+)*")
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_LANDLINE = re.compile(r"[02-9][0-9-]{5,18}[0-9]")
_EXACT_FLOAT_INT = 2**53  # above this a float cannot hold every integer


# --- data ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    file: str
    sheet: str | None
    row: int | None  # spreadsheet row, 1-based; None for a whole-file problem
    column: str | None  # Chinese header
    msgid: str
    params: dict[str, object] = field(default_factory=dict)

    def format(self, translate: Callable[[str], str] | None = None) -> str:
        """The message, translated by `translate` (e.g. flask_babel.gettext) if given."""
        template = translate(self.msgid) if translate else self.msgid
        return template % self.params if self.params else template

    @property
    def message(self) -> str:
        return self.format()


@dataclass
class Table:
    file: str
    sheet: str | None  # None for CSV
    kind: str | None  # HOUSEHOLDS, SECRETARIES or None when the headers are not recognised
    header_row: int
    headers: list[str]  # canonical names ('' for a blank header cell)
    rows: list[tuple[int, dict[str, object]]]  # (spreadsheet row, {header: cleaned value})
    duplicate_headers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TableSummary:
    file: str
    sheet: str | None
    kind: str
    header_row: int
    rows: int


@dataclass(frozen=True)
class VillageRow:
    code: str
    name: str
    township: str
    county: str
    is_poor_village: bool | None
    is_weak_village: bool | None  # 软弱涣散村
    file: str
    sheet: str | None
    row: int


@dataclass(frozen=True)
class HouseholdRow:
    file: str
    sheet: str | None
    row: int
    county: str
    township: str
    village_name: str
    village_code: str
    household_code: str
    head_name: str
    id_number: str | None
    family_size: int
    attribute: str  # general | low_income | extreme_poor
    exit_status: str  # not_exited | exited
    exit_year: int | None
    phone: str | None
    lat: float | None  # WGS-84, 7 decimals
    lon: float | None
    source_system: str  # the system the sheet gave: WGS84 | GCJ02 | BD09


@dataclass(frozen=True)
class VillageCentreRow:
    """A row of the 村 sheet: the 村委会's location (WGS-84) and the check-in radius."""

    file: str
    sheet: str | None
    row: int
    code: str
    name: str
    lat: float | None
    lon: float | None
    radius_m: int | None


@dataclass(frozen=True)
class SecretaryRow:
    file: str
    sheet: str | None
    row: int
    name: str
    phone: str
    dispatch_level: str  # central | provincial | city | county
    dispatch_unit: str
    village_code: str
    term_start: date
    term_end: date | None


@dataclass
class RosterParseResult:
    households: list[HouseholdRow] = field(default_factory=list)
    secretaries: list[SecretaryRow] = field(default_factory=list)
    villages: dict[str, VillageRow] = field(default_factory=dict)
    centres: list[VillageCentreRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    tables_seen: list[TableSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RosterFileError(ValueError):
    """A whole file cannot be read."""

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params


# --- reading ------------------------------------------------------------------------------
def canonical_header(value: object) -> str:
    """'＊户编号（必填）' -> '户编号'; aliases map to our header names."""
    text = normalise_cell(value) or ""
    text = re.sub(r"\(.*?\)|【.*?】|\s|\*", "", text)
    return HEADER_ALIASES.get(text, text)


def read_tables(data: bytes, filename: str) -> list[Table]:
    """Every non-empty table in the file. Raises RosterFileError when it cannot be read."""
    lower = filename.lower()
    if data.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, filename)
    if data.startswith(b"\xd0\xcf\x11\xe0") or lower.endswith(".xls"):
        raise RosterFileError(FILE_XLS)
    if lower.endswith((".csv", ".txt", ".tsv")):
        return _read_csv(data, filename)
    raise RosterFileError(FILE_UNSUPPORTED, filename=filename)


def _read_xlsx(data: bytes, filename: str) -> list[Table]:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions it drops (e.g. slicers); values are unaffected.
            warnings.simplefilter("ignore")
            workbook = open_xlsx(data)  # size, zip-bomb, rows/columns/cells checks first
    except WorkbookRejected as exc:
        raise RosterFileError(exc.msgid, **exc.params) from exc
    except Exception as exc:  # zipfile, XML and openpyxl errors all mean "unreadable"
        raise RosterFileError(FILE_UNREADABLE) from exc
    tables = []
    try:
        for sheet in workbook.worksheets:
            # Some tools write a wrong <dimension>; without this rows past it are lost.
            sheet.reset_dimensions()
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            table = _build_table(filename, sheet.title, rows)
            if table is not None:
                tables.append(table)
    except Exception as exc:
        raise RosterFileError(FILE_UNREADABLE) from exc
    finally:
        workbook.close()
    return tables


def decode_csv(data: bytes) -> str:
    """UTF-8 (BOM optional) when it decodes strictly, else GB18030 (Excel in China)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RosterFileError(FILE_ENCODING) from exc


def _read_csv(data: bytes, filename: str) -> list[Table]:
    text = decode_csv(data)
    try:
        check_text_rows(text, filename)
    except WorkbookRejected as exc:
        raise RosterFileError(exc.msgid, **exc.params) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # One CSV record is one spreadsheet row, even when a quoted cell spans lines.
    table = _build_table(filename, None, enumerate(reader, start=1))
    return [table] if table is not None else []


def _table_kind(headers: Iterable[str]) -> str | None:
    names = set(headers)
    # The 村 sheet shares 村名/纬度/经度/坐标系 with the households table, not 户编号 & co.
    if not names & _HOUSEHOLD_MARKERS and set(VILLAGE_REQUIRED) <= names and (
            "打卡半径" in names or {"纬度", "经度"} <= names):
        return VILLAGES
    households, secretaries = len(names & _HOUSEHOLD_ONLY), len(names & _SECRETARY_ONLY)
    if max(households, secretaries) < _MIN_HEADER_MATCHES:
        return None
    return HOUSEHOLDS if households >= secretaries else SECRETARIES


def _build_table(
    filename: str, sheet: str | None, numbered_rows: Iterable[tuple[int, Iterable[object]]]
) -> Table | None:
    table: Table | None = None
    first_nonempty: tuple[int, list[str]] | None = None
    scanned = 0
    for number, raw in numbered_rows:
        values = [clean_value(value) for value in raw]
        if all(value is None for value in values):
            continue
        if table is None:
            headers = [canonical_header(value) for value in values]
            first_nonempty = first_nonempty or (number, headers)
            kind = _table_kind(headers)
            if kind is not None:
                table = Table(filename, sheet, kind, number, headers, [])
                seen: set[str] = set()
                for name in headers:
                    if name and name in seen and name not in table.duplicate_headers:
                        table.duplicate_headers.append(name)
                    seen.add(name)
                continue
            scanned += 1
            if scanned >= _HEADER_SCAN_ROWS:
                break
            continue
        record: dict[str, object] = {}
        for name, value in zip(table.headers, values):
            if name and name not in record:
                record[name] = value
        table.rows.append((number, record))
    if table is None and first_nonempty is not None:
        number, headers = first_nonempty
        return Table(filename, sheet, None, number, headers, [])
    return table


# --- validating ---------------------------------------------------------------------------
class _CellError(Exception):
    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


def _code_text(value: object) -> str | None:
    """户编号/村代码/身份证号 cells: keep them as text, recover integers Excel made numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _CellError(CODE_INVALID)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _CellError(CODE_INVALID)
        if abs(value) >= _EXACT_FLOAT_INT:
            raise _CellError(NUMBER_LOST_DIGITS)
        return str(int(value))
    if not isinstance(value, str):
        raise _CellError(CODE_INVALID)
    return value


def _choice(value: object, mapping: dict[str, str], msgid: str) -> str | None:
    text = normalise_cell(value)
    if text is None:
        return None
    key = re.sub(r"\s", "", text)
    if key in mapping:
        return mapping[key]
    if key.lower() in mapping.values():  # the English code itself
        return key.lower()
    raise _CellError(msgid, value=text)


class _Row:
    """Reads one row's cells, collecting every error instead of stopping."""

    def __init__(self, parser: _Parser, table: Table, number: int, values: dict[str, object],
                 missing_columns: set[str]) -> None:
        self.parser, self.table, self.number, self.values = parser, table, number, values
        self.missing_columns = missing_columns
        self.failed = False

    def error(self, column: str | None, msgid: str, **params: object) -> None:
        self.failed = True
        self.parser.add_error(self.table, self.number, column, msgid, params)

    def read(self, column: str, reader: Callable[[object], object], required: bool = False,
             invalid: str = NUMBER_INVALID):
        """Apply `reader` to the cell, reporting its _CellError (or `invalid` for a
        ValueError) and a missing required value."""
        value = self.values.get(column)
        try:
            result = reader(value)
        except _CellError as exc:
            self.error(column, exc.msgid, **exc.params)
            return None
        except ValueError:
            self.error(column, invalid)
            return None
        if result is None and required and column not in self.missing_columns:
            self.error(column, VALUE_REQUIRED)
        return result

    def text(self, column: str, max_length: int, required: bool = True) -> str | None:
        value = self.read(column, normalise_cell, required)
        if value is not None and len(value) > max_length:
            self.error(column, VALUE_TOO_LONG, max=max_length)
            return None
        return value

    def code(self, column: str) -> str | None:
        value = self.read(column, _code_text, required=True)
        if value is not None and not (_CODE.fullmatch(value) and len(value) <= 40):
            self.error(column, CODE_INVALID)
            return None
        return value

    def village_code(self) -> str | None:
        value = self.read("村代码", _code_text, required=True)
        if value is not None and not (len(value) == 12 and value.isascii() and value.isdigit()):
            self.error("村代码", VILLAGE_CODE_INVALID)
            return None
        return value


class _Parser:
    def __init__(self, today: date) -> None:
        self.today = today
        self.result = RosterParseResult()
        self._households_seen: dict[tuple[str, str], tuple[str, int]] = {}
        self._mobiles_seen: dict[str, tuple[str, int]] = {}
        self._centres_seen: dict[str, tuple[str, int]] = {}
        # town code (9 digits) -> (name, file, row); (county code, town name) -> (code, file, row)
        self._town_names: dict[str, tuple[str, str, int]] = {}
        self._town_codes: dict[tuple[str, str], tuple[str, str, int]] = {}

    def add_error(self, table: Table | None, row: int | None, column: str | None, msgid: str,
                  params: dict[str, object] | None = None, file: str | None = None) -> None:
        self.result.errors.append(RowError(
            file if table is None else table.file, None if table is None else table.sheet,
            row, column, msgid, params or {},
        ))

    # -- tables
    def parse_file(self, filename: str, data: bytes) -> None:
        try:
            tables = read_tables(data, filename)
        except RosterFileError as exc:
            self.add_error(None, None, None, exc.msgid, exc.params, file=filename)
            return
        recognised = unrecognised = 0
        for table in tables:
            if table.kind is None:
                if table.sheet and "说明" in table.sheet:
                    continue  # the instructions sheet of our template (or the county's)
                unrecognised += 1
                self.add_error(table, table.header_row, None, TABLE_UNRECOGNISED, {
                    "households": "、".join(HOUSEHOLD_REQUIRED),
                    "secretaries": "、".join(SECRETARY_REQUIRED),
                    "villages": "、".join(VILLAGE_REQUIRED),
                })
                continue
            recognised += 1
            self.parse_table(table)
        if not recognised and not unrecognised:
            self.add_error(None, None, None, FILE_NO_TABLE, file=filename)

    def parse_table(self, table: Table) -> None:
        required = {HOUSEHOLDS: HOUSEHOLD_REQUIRED, SECRETARIES: SECRETARY_REQUIRED,
                    VILLAGES: VILLAGE_REQUIRED}[table.kind]
        missing = {name for name in required if name not in table.headers}
        for name in required:
            if name in missing:
                self.add_error(table, table.header_row, name, COLUMN_MISSING, {"column": name})
        for name in table.duplicate_headers:
            self.add_error(table, table.header_row, name, COLUMN_DUPLICATE, {"column": name})
        self.result.tables_seen.append(
            TableSummary(table.file, table.sheet, table.kind, table.header_row, len(table.rows))
        )
        parse_row, kept = {
            HOUSEHOLDS: (self.household, self.result.households),
            SECRETARIES: (self.secretary, self.result.secretaries),
            VILLAGES: (self.centre, self.result.centres)}[table.kind]
        for number, values in table.rows:
            row = _Row(self, table, number, values, missing)
            if self.example_row(row):
                continue
            parsed = parse_row(row)
            if parsed is not None and not row.failed and not missing:
                kept.append(parsed)

    def example_row(self, row: _Row) -> bool:
        """A template example left in the file: reported, not parsed further."""
        for column in ("村名", "户主姓名", "姓名"):
            value = normalise_cell(row.values.get(column))
            if value and EXAMPLE_MARK in value:
                row.error(column, EXAMPLE_ROW)
                return True
        return False

    # -- households
    def household(self, row: _Row) -> HouseholdRow | None:
        county = row.text("县区", 50)
        township = row.text("镇办", 50)
        village_name = row.text("村名", 50)
        village_code = row.village_code()
        household_code = row.code("户编号")
        head_name = row.text("户主姓名", 50)
        id_number = self.id_number(row)
        family_size = row.read("家庭人口", _family_size, required=True)
        attribute = row.read("贫困户属性", lambda v: _choice(v, ATTRIBUTES, ATTRIBUTE_UNKNOWN), True)
        status = row.read("脱贫状态", lambda v: _choice(v, EXIT_STATUSES, STATUS_UNKNOWN), True)
        exit_year = self.exit_year(row, status)
        phone = row.read("联系电话", _phone)
        lat, lon, system = self.coordinates(row)
        flags = {column: row.read(column, _flag) for column in ("贫困村", "软弱涣散村")}

        conflict = False
        if village_code and village_name and township and county:
            conflict = self.village(row, village_code, village_name, township, county, flags)
        if village_code and township and not conflict:
            self.town(row, village_code, township)
        if village_code and household_code:
            key = (village_code, household_code)
            first = self._households_seen.setdefault(key, (row.table.file, row.number))
            if first != (row.table.file, row.number):
                row.error("户编号", HOUSEHOLD_DUPLICATE, code=household_code,
                          first_file=first[0], first_row=first[1])
        if row.failed:
            return None
        return HouseholdRow(
            row.table.file, row.table.sheet, row.number, county, township, village_name,
            village_code, household_code, head_name, id_number, family_size, attribute,
            status, exit_year, phone, lat, lon, system,
        )

    def id_number(self, row: _Row) -> str | None:
        raw = row.read("身份证号", _code_text)
        if raw is None:
            return None
        number, msgid = validate_id_number(raw, today=self.today)
        if msgid:
            row.error("身份证号", msgid, **id_error_params(raw))
        return number

    def exit_year(self, row: _Row, status: str | None) -> int | None:
        bounds = {"min": FIRST_EXIT_YEAR, "max": self.today.year + 1}

        def plausible_year(value: object) -> int | None:
            try:
                year = parse_year(value)
            except ValueError:
                year = 0
            if year is not None and not FIRST_EXIT_YEAR <= year <= bounds["max"]:
                raise _CellError(EXIT_YEAR_INVALID, **bounds)
            return year

        if row.values.get("脱贫年度") is not None:
            year = row.read("脱贫年度", plausible_year)
            if year is None:
                return None  # reported as invalid
        else:
            year = None
        if status == "exited" and year is None:
            row.error("脱贫年度", EXIT_YEAR_MISSING)
        elif status == "not_exited" and year is not None:
            row.error("脱贫年度", EXIT_YEAR_UNEXPECTED)
            return None
        return year

    def coordinates(self, row: _Row) -> tuple[float | None, float | None, str]:
        lat = row.read("纬度", parse_float)
        lon = row.read("经度", parse_float)
        system_text = normalise_cell(row.values.get("坐标系"))
        try:
            system = geo.normalise_system(system_text)
        except ValueError:
            row.error("坐标系", SYSTEM_UNKNOWN, value=system_text)
            system = None
        if lat is None and lon is None:
            return None, None, system or geo.WGS84
        if lat is None or lon is None:
            if row.values.get("纬度" if lat is None else "经度") is None:
                row.error("纬度" if lat is None else "经度", COORDS_INCOMPLETE)
            return None, None, system or geo.WGS84
        if not geo.in_china(lat, lon):
            msgid = COORDS_SWAPPED if geo.in_china(lon, lat) else COORDS_OUTSIDE
            row.error("纬度" if not 3.8 <= lat <= 53.6 else "经度", msgid, lat=lat, lon=lon)
            return None, None, system or geo.WGS84
        if system is None:
            return None, None, geo.WGS84
        wgs_lat, wgs_lon = geo.to_wgs84(lat, lon, system)
        if not geo.in_china(wgs_lat, wgs_lon):  # shifted across the edge of the box
            row.error("纬度", COORDS_OUTSIDE, lat=lat, lon=lon)
            return None, None, system
        return round(wgs_lat, 7), round(wgs_lon, 7), system

    def town(self, row: _Row, village_code: str, township: str) -> None:
        """One 9-digit town code, one 镇办 name, and back, across every file."""
        code = village_code[:9]
        here = (row.table.file, row.number)
        name, *first = self._town_names.setdefault(code, (township, *here))
        if name != township:
            row.error("镇办", TOWN_CONFLICT, code=code, first=name, first_file=first[0],
                      first_row=first[1])
            return
        other, *first = self._town_codes.setdefault((code[:6], township), (code, *here))
        if other != code:
            row.error("镇办", TOWN_NAME_CONFLICT, town=township, first=other,
                      first_file=first[0], first_row=first[1])

    def village(self, row: _Row, code: str, name: str, township: str, county: str,
                flags: dict[str, bool | None]) -> bool:
        """Record the village of a household row; True when the row contradicts an earlier
        row about it (reported)."""
        known = self.result.villages.get(code)
        if known is None:
            self.result.villages[code] = VillageRow(
                code, name, township, county, flags["贫困村"], flags["软弱涣散村"],
                row.table.file, row.table.sheet, row.number,
            )
            return False
        first_file, first_row = known.file, known.row
        if (known.name, known.township, known.county) != (name, township, county):
            row.error("村代码", VILLAGE_CONFLICT, code=code, county=known.county,
                      township=known.township, village=known.name,
                      first_file=first_file, first_row=first_row)
            return True
        # Flags: the first row that states one sets it; a later contradiction is an error.
        updates = {}
        for column, attr in (("贫困村", "is_poor_village"), ("软弱涣散村", "is_weak_village")):
            stated, current = flags[column], getattr(known, attr)
            if stated is None:
                continue
            if current is None:
                updates[attr] = stated
            elif stated != current:
                row.error(column, VILLAGE_FLAG_CONFLICT, first_file=first_file, first_row=first_row)
        if updates:
            self.result.villages[code] = replace(known, **updates)
        return False

    # -- secretaries
    def secretary(self, row: _Row) -> SecretaryRow | None:
        name = row.text("姓名", 50)
        phone = row.read("手机号", _mobile, required=True)
        level = row.read("选派层级", lambda v: _choice(v, DISPATCH_LEVELS, LEVEL_UNKNOWN), True)
        unit = row.text("选派单位", 100)
        village_code = row.village_code()
        start = row.read("任期开始", self.term_date, True, DATE_INVALID)
        end = row.read("任期结束", self.term_date, invalid=DATE_INVALID)
        if start and end and end < start:
            row.error("任期结束", TERM_END_BEFORE_START)
        if phone:
            first = self._mobiles_seen.setdefault(phone, (row.table.file, row.number))
            if first != (row.table.file, row.number):
                row.error("手机号", SECRETARY_DUPLICATE, first_file=first[0], first_row=first[1])
        if row.failed:
            return None
        return SecretaryRow(row.table.file, row.table.sheet, row.number, name, phone, level,
                            unit, village_code, start, end)

    # -- village centres (the 村 sheet)
    def centre(self, row: _Row) -> VillageCentreRow | None:
        code = row.village_code()
        name = row.text("村名", 50)
        lat, lon, _system = self.coordinates(row)
        radius = row.read("打卡半径", _radius)
        if code:
            first = self._centres_seen.setdefault(code, (row.table.file, row.number))
            if first != (row.table.file, row.number):
                row.error("村代码", VILLAGE_ROW_DUPLICATE, code=code, first_file=first[0],
                          first_row=first[1])
        if row.failed:
            return None
        return VillageCentreRow(row.table.file, row.table.sheet, row.number, code, name, lat,
                                lon, radius)

    def term_date(self, value: object) -> date | None:
        # A bare year typed in a number cell (2023) would read as an Excel serial in 1905.
        result = parse_date(value)
        if result is not None and not 2000 <= result.year <= self.today.year + 10:
            raise _CellError(DATE_INVALID)
        return result


def _family_size(value: object) -> int | None:
    try:
        size = parse_int(value)
    except ValueError:
        size = 0
    if size is not None and not 1 <= size <= MAX_FAMILY_SIZE:
        raise _CellError(FAMILY_SIZE_INVALID, max=MAX_FAMILY_SIZE)
    return size


def _radius(value: object) -> int | None:
    try:
        radius = parse_int(value)
    except ValueError:
        radius = 0
    if radius is not None and not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        raise _CellError(RADIUS_INVALID, min=MIN_RADIUS_M, max=MAX_RADIUS_M)
    return radius


def _phone(value: object) -> str | None:
    try:
        text = _code_text(value) if isinstance(value, (int, float)) else normalise_cell(value)
    except _CellError:
        raise _CellError(PHONE_INVALID) from None
    if text is None:
        return None
    text = re.sub(r"\s", "", text)
    mobile = _MOBILE.fullmatch(text)
    if mobile:
        return mobile.group(1)
    if _LANDLINE.fullmatch(text) and 7 <= len(text) <= 20:
        return text
    raise _CellError(PHONE_INVALID)


def _mobile(value: object) -> str | None:
    try:
        text = _code_text(value) if isinstance(value, (int, float)) else normalise_cell(value)
    except _CellError:
        raise _CellError(MOBILE_INVALID) from None
    if text is None:
        return None
    mobile = _MOBILE.fullmatch(re.sub(r"[\s-]", "", text))
    if not mobile:
        raise _CellError(MOBILE_INVALID)
    return mobile.group(1)


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = normalise_cell(value)
    if text is None:
        return None
    try:
        return FLAGS[text.upper()]
    except KeyError:
        raise _CellError(FLAG_INVALID) from None


def parse_roster(files: list[tuple[str, bytes]], today: date | None = None) -> RosterParseResult:
    """Read and validate every file; see the module docstring. `today` is for tests."""
    parser = _Parser(today or date.today())
    for filename, data in files:
        parser.parse_file(filename, data)
    return parser.result
