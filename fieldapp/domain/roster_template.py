"""The blank roster workbook counties download, fill in and upload.

It carries its own instructions (sheet 说明) and dropdowns, so most mistakes are prevented
in Excel rather than reported on upload. Its example rows are set in the downloading staff
member's own county and marked 示例: `parse_roster` reads the template back with one error
per example row and none else, and with the marks removed with zero errors (tested), so
the template and the parser cannot drift apart.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from fieldapp.domain.idcard import check_char
from fieldapp.domain.roster_file import (
    EXAMPLE_MARK,
    HOUSEHOLD_COLUMNS,
    HOUSEHOLD_REQUIRED,
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    SECRETARY_COLUMNS,
    SECRETARY_REQUIRED,
    VILLAGE_COLUMNS,
    VILLAGE_REQUIRED,
)

HOUSEHOLD_SHEET, SECRETARY_SHEET, VILLAGE_SHEET, HELP_SHEET = "户", "第一书记", "村", "说明"
_DATA_ROWS = 5000  # how far down the dropdowns and text formats reach


@dataclass(frozen=True)
class TemplatePlace:
    """The county the examples are set in: the downloading staff member's own."""
    county: str  # 岐山县
    county_code: str  # 6 digits
    town: str  # one of its towns (or a placeholder name)
    town_code: str  # 9 digits
    lat: float = 34.3632  # near the county seat: the examples' coordinates
    lon: float = 107.3681


# Without a logged-in county: a real place (陈仓区 千河镇, Baoji).
DEFAULT_PLACE = TemplatePlace("陈仓区", "610304", "千河镇", "610304105")


def _near(place: TemplatePlace, dlat: float, dlon: float) -> tuple[float, float]:
    return round(place.lat + dlat, 4), round(place.lon + dlon, 4)
EXAMPLE_VILLAGE = EXAMPLE_MARK + "村"  # marks every example row (see roster_file.EXAMPLE_MARK)


def _example_id(region: str, birth: str, serial: str) -> str:
    first17 = f"{region}{birth}{serial}"
    return first17 + check_char(first17)


def household_examples(place: TemplatePlace) -> tuple[tuple[object, ...], ...]:
    """Fictional people in the county, in a village named 示例村 so that an import of the
    unchanged template names every example row instead of storing them."""
    code = place.town_code + "201"
    return (
        (place.county, place.town, EXAMPLE_VILLAGE, code, "是", "否", code + "0001", "张建国",
         _example_id(place.county_code, "19650312", "123"), 4, "一般贫困户", "已脱贫", 2019,
         "13991230001", *_near(place, 0, 0), "WGS84"),
        (place.county, place.town, EXAMPLE_VILLAGE, code, None, None, code + "0002", "李秀兰",
         _example_id(place.county_code, "19780925", "242"), 2, "低保贫困户", "未脱贫", None,
         "0917-6212345", *_near(place, 0.0009, 0.0054), "GCJ02"),
    )


def secretary_examples(place: TemplatePlace) -> tuple[tuple[object, ...], ...]:
    return ((EXAMPLE_MARK + " 王磊", "13891750001", "市", "宝鸡市农业农村局",
             place.town_code + "201", date(2023, 7, 1), date(2025, 6, 30)),)


def village_examples(place: TemplatePlace) -> tuple[tuple[object, ...], ...]:
    return ((place.town_code + "201", EXAMPLE_VILLAGE, *_near(place, 0.0004, 0.0021), "WGS84",
             1000),)


_TEXT_COLUMNS = {"村代码", "户编号", "身份证号", "联系电话", "手机号"}  # keep Excel from making numbers
_DATE_COLUMNS = {"任期开始", "任期结束"}
_WIDTHS = {"身份证号": 22, "户编号": 20, "村代码": 15, "选派单位": 24, "贫困户属性": 16,
           "联系电话": 15, "手机号": 14, "软弱涣散村": 11, "任期开始": 12, "任期结束": 12}
_CHOICES = {
    "贫困户属性": ("一般贫困户", "低保贫困户", "特困供养贫困户"),
    "脱贫状态": ("未脱贫", "已脱贫"),
    "坐标系": ("WGS84", "GCJ02", "BD09"),
    "打卡半径": None,  # a number: no dropdown
    "选派层级": ("中央", "省", "市", "县"),
    "贫困村": ("是", "否"),
    "软弱涣散村": ("是", "否"),
}
HELP_ROWS = (
    ("县区", HOUSEHOLD_SHEET, "县区名称，须与村代码前6位一致，如 岐山县"),
    ("镇办", HOUSEHOLD_SHEET, "镇或街道办名称，须与村代码前9位一致（同一镇办代码只对应一个名称）"),
    ("村名", "户、村", "行政村名称"),
    ("村代码", "户、第一书记、村", "村的12位统计用区划代码：前6位为县区，前9位为镇办；同一村代码在各行中须对应同一个村"),
    ("贫困村", HOUSEHOLD_SHEET, "是 / 否，可不填"),
    ("软弱涣散村", HOUSEHOLD_SHEET, "是 / 否，可不填"),
    ("户编号", HOUSEHOLD_SHEET, "建档立卡户编号，同一村内不可重复；请按文本填写"),
    ("户主姓名", HOUSEHOLD_SHEET, "户主姓名"),
    ("身份证号", HOUSEHOLD_SHEET, "户主公民身份号码，18位，末位可为X；可不填。请按文本填写，否则Excel会丢失末尾数字"),
    ("家庭人口", HOUSEHOLD_SHEET, "整数，1–30"),
    ("贫困户属性", HOUSEHOLD_SHEET, "一般贫困户 / 低保贫困户 / 特困供养贫困户"),
    ("脱贫状态", HOUSEHOLD_SHEET, "未脱贫 / 已脱贫"),
    ("脱贫年度", HOUSEHOLD_SHEET, "已脱贫时必填，如 2019"),
    ("联系电话", HOUSEHOLD_SHEET, "11位手机号或固定电话（可含区号和 -），可不填"),
    ("纬度", "户、村", "十进制度，如 34.3632；与经度同时填写或同时不填。村表填村委会位置；不填村表时按各户坐标估计村中心（标“估计”）"),
    ("经度", "户、村", "十进制度，如 107.3681"),
    ("坐标系", "户、村", "WGS84（GPS、手机定位）/ GCJ02（高德、腾讯地图）/ BD09（百度地图）；不填视为 WGS84"),
    ("打卡半径", VILLAGE_SHEET, f"村委会周围多少米内打卡算在村，{MIN_RADIUS_M}–{MAX_RADIUS_M} 的整数，不填为 1000"),
    ("姓名", SECRETARY_SHEET, "第一书记姓名"),
    ("手机号", SECRETARY_SHEET, "11位手机号，用于登录"),
    ("选派层级", SECRETARY_SHEET, "中央 / 省 / 市 / 县"),
    ("选派单位", SECRETARY_SHEET, "派出单位全称"),
    ("任期开始", SECRETARY_SHEET, "日期，如 2023-07-01"),
    ("任期结束", SECRETARY_SHEET, "日期，可不填"),
)


def build_template_xlsx(place: TemplatePlace = DEFAULT_PLACE) -> bytes:
    workbook = Workbook()
    households = workbook.active
    households.title = HOUSEHOLD_SHEET
    _fill_table(households, HOUSEHOLD_COLUMNS, set(HOUSEHOLD_REQUIRED), household_examples(place))
    secretaries = workbook.create_sheet(SECRETARY_SHEET)
    _fill_table(secretaries, SECRETARY_COLUMNS, set(SECRETARY_REQUIRED), secretary_examples(place))
    villages = workbook.create_sheet(VILLAGE_SHEET)
    _fill_table(villages, VILLAGE_COLUMNS, set(VILLAGE_REQUIRED), village_examples(place))
    _fill_help(workbook.create_sheet(HELP_SHEET))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill_table(sheet: Worksheet, columns: tuple[str, ...], required: set[str],
                examples: tuple[tuple[object, ...], ...]) -> None:
    required_fill = PatternFill("solid", fgColor="FFF2CC")  # required headers stand out
    sheet.append(list(columns))
    for row in examples:
        sheet.append(list(row))
    for index, name in enumerate(columns, start=1):
        letter = get_column_letter(index)
        header = sheet.cell(row=1, column=index)
        header.font = Font(bold=True)
        header.alignment = Alignment(horizontal="center")
        if name in required:
            header.fill = required_fill
        sheet.column_dimensions[letter].width = _WIDTHS.get(name, max(8, 2.2 * len(name) + 2))
        number_format = "@" if name in _TEXT_COLUMNS else "yyyy-mm-dd" if name in _DATE_COLUMNS else None
        if number_format:
            sheet.column_dimensions[letter].number_format = number_format
            for row_index in range(2, len(examples) + 2):
                sheet.cell(row=row_index, column=index).number_format = number_format
        if _CHOICES.get(name):
            validation = DataValidation(
                type="list", formula1='"' + ",".join(_CHOICES[name]) + '"', allow_blank=True,
                showErrorMessage=True, errorTitle="取值无效", error="请从下拉列表中选择",
            )
            validation.add(f"{letter}2:{letter}{_DATA_ROWS}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def _fill_help(sheet: Worksheet) -> None:
    sheet.append(["列名", "工作表", "是否必填", "说明"])
    required = set(HOUSEHOLD_REQUIRED) | set(SECRETARY_REQUIRED)  # 村 sheet: optional
    for name, where, text in HELP_ROWS:
        sheet.append([name, where, "必填" if name in required else "选填", text])
    sheet.append([])
    sheet.append(["", "", "", "表头须保持不变；可在表头上方加标题行。一个文件可只含一张表。黄色表头为必填列。"])
    sheet.append(["", "", "", "村名为“示例村”的各行是填写示例：导入前请删除，否则会逐行提示。“村”表可不填。"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (12, 14, 10, 80)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
