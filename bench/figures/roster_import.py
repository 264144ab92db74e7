"""A 2,000-row roster import (户 sheet: 2,000 households in 20 new villages of one county;
书记 sheet: a first secretary per village; 村 sheet: each village's centre) through the real
service (`services.roster.import_roster`, committed), against reading and validating the
same workbook in memory (`domain.roster_file.parse_roster`: openpyxl plus every row check,
no database). Goal: within 3x.

The import is the first one of those villages (every row created); the details also give
a re-import of the same file (every row unchanged) and merely reading the workbook. The
rows are deleted again after each round: the bench data stay as generated."""
from __future__ import annotations

import io
import time

import openpyxl
from sqlalchemy import delete, func, select

from bench.harness import Context, Measurement, figure
from bench.timing import best_of
from fieldapp.domain.idcard import check_char
from fieldapp.domain.roster_file import parse_roster
from fieldapp.extensions import db
from fieldapp.models import AuditLog, County, FirstSecretary, Household, Town, Village
from fieldapp.policy import SYSTEM
from fieldapp.services.roster import import_roster

ROUNDS = 3
N_VILLAGES = 20
PER_VILLAGE = 100


def workbook(county_code: str, county_name: str, villages: int = N_VILLAGES,
             per_village: int = PER_VILLAGE) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("户")
    ws.append(["县区", "镇办", "村名", "村代码", "户编号", "户主姓名", "身份证号", "家庭人口",
               "贫困户属性", "脱贫状态", "脱贫年度", "联系电话", "纬度", "经度", "坐标系"])
    secretaries = wb.create_sheet("书记")
    secretaries.append(["姓名", "手机号", "选派层级", "选派单位", "村代码", "任期开始", "任期结束"])
    centres = wb.create_sheet("村")
    centres.append(["村代码", "村名", "纬度", "经度", "坐标系", "打卡半径"])
    for v in range(villages):
        code = f"{county_code}9{v % 5:02d}9{v:02d}"  # towns 9xx: none of the generated ones
        name = f"基准导入村{v}"
        for h in range(per_village):
            first17 = f"{county_code}19{70 + h % 20}0101{h % 1000:03d}"
            ws.append([county_name, f"基准导入镇{v % 5}", name, code, f"{code}{h:04d}",
                       f"户主{h}", first17 + check_char(first17), 1 + h % 6, "一般贫困户",
                       "已脱贫", 2019, None, 34.45 + h / 1e5, 107.62, "GCJ02"])
        secretaries.append([f"书记{v}", f"177{v:08d}", "市级", "宝鸡市基准局", code,
                            "2026-01-01", "2027-12-31"])
        centres.append([code, name, 34.45, 107.62, "GCJ02", 1000])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _forget(county_code: str, audit_after: int) -> None:
    """Delete what an import of `workbook` stored (its villages are all 9xx9xx codes)."""
    villages = select(Village.id).where(Village.code.like(f"{county_code}9__9__"))
    db.session.execute(delete(Household).where(Household.village_id.in_(villages)))
    db.session.execute(delete(FirstSecretary).where(FirstSecretary.village_id.in_(villages)))
    db.session.execute(delete(Village).where(Village.id.in_(villages)))
    db.session.execute(delete(Town).where(Town.name.like("基准导入镇%")))
    db.session.execute(delete(AuditLog).where(AuditLog.id > audit_after))
    db.session.commit()


@figure("roster_import", "roster import of 2,000 households")
def roster_import(ctx: Context) -> Measurement:
    villages, per_village, rounds = (2, 20, 1) if ctx.quick else (N_VILLAGES, PER_VILLAGE, ROUNDS)
    rows = villages * per_village
    app = ctx.app()
    with app.test_request_context():
        county = db.session.scalar(select(County).order_by(County.code))
        county_code, county_name = county.code, county.name
        data = workbook(county_code, county_name, villages, per_village)
        files = [("roster.xlsx", data)]
        audit_after = db.session.scalar(select(func.max(AuditLog.id))) or 0
        _forget(county_code, audit_after)
        created = unchanged = float("inf")
        counts = {}
        for _ in range(rounds):
            start = time.perf_counter()
            report = import_roster(SYSTEM, files)
            created = min(created, time.perf_counter() - start)
            counts = {k: vars(v) for k, v in report.counts.items()}
            start = time.perf_counter()
            again = import_roster(SYSTEM, files)
            unchanged = min(unchanged, time.perf_counter() - start)
            assert again.counts["households"].unchanged == rows, again.counts
            db.session.remove()
            _forget(county_code, audit_after)

        def read_only() -> None:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            for ws in wb.worksheets:
                for _row in ws.iter_rows(values_only=True):
                    pass

        baseline = best_of(lambda: parse_roster(files), repeat=rounds)
        reading = best_of(read_only, repeat=rounds)
        db.session.remove()
        db.engine.dispose()
    return Measurement(
        value=created, baseline=baseline, unit="s", ratio_kind="times",
        goal="within 3x of reading and validating the workbook", met=created <= 3 * baseline,
        details={"households": rows, "secretaries": villages, "villages": villages,
                 "rows_per_s": round(rows / created),
                 "reimport_unchanged_s": round(unchanged, 3),
                 "reading_only_s": round(reading, 3),
                 "baseline": "parse_roster (openpyxl + row checks)",
                 "created": counts.get("households")})
