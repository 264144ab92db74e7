"""Add or update translations in an area's zh_Hans catalogue.

Usage: python scripts/po_add.py AREA < pairs.tsv   (each line: English msgid <TAB> 中文)
Keeps existing entries; entries given on stdin win. Developers' tool, not used at run time.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent


def main(area: str) -> None:
    path = ROOT / "fieldapp" / "translations" / area / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="zh_Hans")
    else:
        catalog = Catalog(locale="zh_Hans", project="fieldapp", charset="utf-8")
    for line in sys.stdin.read().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        msgid, msgstr = line.split("\t", 1)
        catalog.add(msgid.replace("\\n", "\n"), msgstr.replace("\\n", "\n"))
    catalog.fuzzy = False  # a fuzzy catalogue is skipped when compiled
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
