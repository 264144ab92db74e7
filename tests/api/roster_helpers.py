"""Building roster files for import tests: workbooks with any sheets, CSV, uploads."""
from __future__ import annotations

import csv
import io

import openpyxl

HOUSEHOLD_HEADERS = ["县区", "镇办", "村名", "村代码", "户编号", "户主姓名", "家庭人口",
                     "贫困户属性", "脱贫状态", "脱贫年度", "联系电话", "纬度", "经度", "坐标系"]
SECRETARY_HEADERS = ["姓名", "手机号", "选派层级", "选派单位", "村代码", "任期开始", "任期结束"]
VILLAGE_HEADERS = ["村代码", "村名", "纬度", "经度", "坐标系", "打卡半径"]


def household(county: str, town: str, village: str, code: str, n: int, lat: float | None = None,
              lon: float | None = None, phone: str | None = None) -> list:
    return [county, town, village, code, f"{code}{n:04d}", f"户主{n}", 1 + n % 5, "一般贫困户",
            "未脱贫", None, phone, lat, lon, "WGS84" if lat is not None else None]


def xlsx(**sheets: tuple[list[str], list[list]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, (headers, rows) in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


def upload(client, *files: tuple[str, bytes], dry_run: bool = False):
    return client.post(f"/api/roster/import?dry_run={'true' if dry_run else 'false'}",
                       data={"files": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data")
