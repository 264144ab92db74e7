"""Roster import throughput.

Figures are reported as a ratio against a baseline measured in the same run (this machine
is noisy): the baseline is reading the same workbook with openpyxl and nothing else, so the
ratio says what validation + upsert cost on top of merely reading the file.
Run: make bench   (or .venv/bin/python -m pytest bench -q --benchmark-only)
"""
from __future__ import annotations

import io

import openpyxl

from bench.timing import best_of
from fieldapp.policy import SYSTEM
from fieldapp.domain.idcard import check_char
from fieldapp.domain.roster_file import parse_roster
from fieldapp.services.roster import import_roster

N_VILLAGES = 20
PER_VILLAGE = 100


def _workbook() -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("户")
    ws.append(["县区", "镇办", "村名", "村代码", "户编号", "户主姓名", "身份证号", "家庭人口",
               "贫困户属性", "脱贫状态", "脱贫年度", "联系电话", "纬度", "经度", "坐标系"])
    for v in range(N_VILLAGES):
        code = f"610323{v % 5 + 1:03d}{v + 1:03d}"  # town (9 digits) follows 镇{v % 5}
        for h in range(PER_VILLAGE):
            first17 = f"61032319{70 + h % 20}0101{h % 1000:03d}"
            ws.append(["岐山县", f"镇{v % 5}", f"村{v}", code, f"{code}{h:04d}", f"户主{h}",
                       first17 + check_char(first17), 1 + h % 6, "一般贫困户", "已脱贫", 2019,
                       None, 34.45 + h / 1e5, 107.62, "GCJ02"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_roster_import_ratio(db, personas, benchmark):
    data = _workbook()
    rows = N_VILLAGES * PER_VILLAGE

    def read_only():
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for ws in wb.worksheets:
            for _ in ws.iter_rows(values_only=True):
                pass

    def parse():
        parse_roster([("b.xlsx", data)])

    def dry_run_import():
        import_roster(SYSTEM, [("b.xlsx", data)], dry_run=True)

    baseline = best_of(read_only)
    parse_t = best_of(parse)
    benchmark.pedantic(dry_run_import, rounds=3, iterations=1)
    import_t = benchmark.stats.stats.min
    print(f"\nroster {rows} rows: read {baseline * 1e3:.0f} ms (baseline 1.0), "
          f"parse+validate x{parse_t / baseline:.1f}, parse+validate+upsert (dry run) "
          f"x{import_t / baseline:.1f}; {rows / import_t:,.0f} rows/s")
