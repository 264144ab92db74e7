"""Heavy and hostile uploads: time and peak memory of each, in a fresh process.

    .venv/bin/python bench/upload_limits.py [ROWS ...]

Each case runs in its own subprocess (so peak RSS is its own) against a fresh migrated
SQLite database. Times are also given as a ratio to a baseline measured in the same run:
openpyxl merely reading the largest accepted roster, read-only.
"""
from __future__ import annotations

import io
import json
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def roster_xlsx(rows: int) -> bytes:
    import openpyxl

    from fieldapp.domain.idcard import check_char

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("户")
    ws.append(["县区", "镇办", "村名", "村代码", "户编号", "户主姓名", "身份证号", "家庭人口",
               "贫困户属性", "脱贫状态", "脱贫年度", "联系电话", "纬度", "经度", "坐标系"])
    per_village = 100
    for h in range(rows):
        v = h // per_village
        code = f"610323{v // 100 + 100:03d}{v % 100:03d}"
        first17 = f"61032319{70 + h % 20}0101{h % 1000:03d}"
        ws.append(["岐山县", f"镇{v % 5}", f"村{v}", code, f"{code}{h % per_village:04d}",
                   f"户主{h}", first17 + check_char(first17), 1 + h % 6, "一般贫困户", "已脱贫",
                   2019, None, 34.45 + (h % 100) / 1e4, 107.62, "WGS84"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _child(path: str, mode: str) -> None:
    """Run one case in this (fresh) process; print JSON {seconds, peak_mb, outcome}."""
    data = Path(path).read_bytes()
    if mode == "baseline":
        import openpyxl
        start = time.perf_counter()
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for ws in wb.worksheets:
            for _row in ws.iter_rows(values_only=True):
                pass
        outcome = "read"
    else:
        from flask_migrate import upgrade

        from fieldapp import MIGRATIONS_DIR, create_app
        from fieldapp.errors import AppError
        from fieldapp.policy import SYSTEM
        from fieldapp.services.roster import import_roster

        db_path = Path(tempfile.mkdtemp()) / "bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                          "SECRET_KEY": secrets.token_hex(32), "TESTING": True})
        with app.app_context():
            upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
            from fieldapp.extensions import db
            from fieldapp.models import City, County
            city = City(code="610300", name="宝鸡市")
            db.session.add(city)
            db.session.flush()
            db.session.add(County(city_id=city.id, code="610323", name="岐山县"))
            db.session.commit()
            start = time.perf_counter()
            try:
                report = import_roster(SYSTEM, [("roster.xlsx", data)], dry_run=False)
                outcome = f"imported: {report.as_dict()['counts']}"
            except AppError as err:
                rows = err.extra.get("rows") or []
                outcome = f"refused: {rows[0]['message'] if rows else err.errors or err.message}"
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "outcome": str(outcome)[:160]}))


def _run(path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), mode],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    from tests import hostile_files as H

    cases = {f"roster {n:,} rows": roster_xlsx(n) for n in sizes}
    cases.update({"one row of 2M cells": H.one_wide_row(), "cell at XFD1": H.far_cell(),
                  "zip bomb (1 GB inflated)": H.zip_bomb(1024)})
    tmp = Path(tempfile.mkdtemp())
    largest = tmp / "largest.xlsx"
    largest.write_bytes(cases[f"roster {min(sizes):,} rows"])
    baseline = _run(largest, "baseline")
    print(f"baseline: openpyxl reads the {min(sizes):,}-row roster in {baseline['seconds']:.2f} s, "
          f"{baseline['peak_mb']:.0f} MB peak")
    for name, data in cases.items():
        path = tmp / "case.xlsx"
        path.write_bytes(data)
        r = _run(path, "import")
        print(f"{name:28s} {len(data) / 1024:8.0f} KB  {r['seconds']:6.2f} s "
              f"(x{r['seconds'] / baseline['seconds']:.2f})  peak {r['peak_mb']:4.0f} MB  "
              f"{r['outcome']}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
    else:
        main([int(a) for a in sys.argv[1:]] or [50_000, 100_000])
