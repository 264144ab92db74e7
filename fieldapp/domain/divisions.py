"""The official division codes (统计用区划代码 / GB/T 2260) shipped with the package.

`fieldapp/data/divisions.csv` holds every province, prefecture and county-level division
of China with its 6-digit code (its first lines name the source and date; regenerate it
with scripts/make_divisions.py). A 12-digit village code (村代码) starts with its county's
6 digits and its town's (乡镇/街道) 9, so a roster's own codes say where each village is.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "divisions.csv"
VILLAGE_CODE_LENGTH = 12
# Prefecture-level entries that are placeholders (直辖市's 市辖区/县): the province names the city.
_PLACEHOLDER_PREFECTURES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class Division:
    code: str  # 6 digits
    name: str
    lat: float | None  # WGS-84, approximate seat: for opening maps only
    lon: float | None


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Division], str]:
    divisions: dict[str, Division] = {}
    source = ""
    with open(DATA_FILE, encoding="utf-8", newline="") as fh:
        lines = []
        for line in fh:
            if line.startswith("# source:"):
                source = line.split(":", 1)[1].strip()
            elif not line.startswith("#"):
                lines.append(line)
    for row in csv.DictReader(lines):
        lat = float(row["lat"]) if row["lat"] else None
        lon = float(row["lon"]) if row["lon"] else None
        divisions[row["code"]] = Division(row["code"], row["name"], lat, lon)
    return divisions, source


def source() -> str:
    """Where the shipped codes come from and how recent they are."""
    return _table()[1]


def lookup(code: str) -> Division | None:
    return _table()[0].get(code)


def county_code(village_code: str) -> str:
    return village_code[:6]


def town_code(village_code: str) -> str:
    return village_code[:9]


def city_code(code: str) -> str:
    """The prefecture-level division (6 digits, ending 00) of any longer code."""
    return code[:4] + "00"


def county(code6: str) -> Division | None:
    """A county-level division by its 6 digits (not a province or prefecture)."""
    if len(code6) != 6 or code6.endswith("00"):
        return None
    return lookup(code6)


def city(code6: str) -> Division | None:
    """The city (prefecture) a county-level code belongs to; for a municipality's districts
    and a province's directly governed counties the province (e.g. 北京市, 海南省)."""
    prefecture = lookup(city_code(code6))
    province = lookup(code6[:2] + "0000")
    if prefecture is None or prefecture.name in _PLACEHOLDER_PREFECTURES:
        return province
    return prefecture


def is_village_code(code: str) -> bool:
    return len(code) == VILLAGE_CODE_LENGTH and code.isascii() and code.isdigit()


def names_match(given: str, official: str) -> bool:
    """A roster's 县区 against the official name: exact, or without its 县/区/市/旗 suffix."""
    given = given.strip()
    if given == official:
        return True
    return len(official) > 2 and official[-1] in "县区市旗" and given == official[:-1]
