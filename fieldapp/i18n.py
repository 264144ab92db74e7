"""Compile the translation catalogues (fieldapp/translations/<area>/<locale>/...po -> .mo).

Run by `make` (install) and by the test suite, so both see the same Chinese strings.
`python -m fieldapp.i18n` compiles; a fuzzy catalogue or message is an error, not a skip.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def compile_catalogues(base: Path = TRANSLATIONS) -> list[Path]:
    written = []
    for po_path in sorted(base.glob("*/*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as fh:
            catalog = read_po(fh)
        if catalog.fuzzy:
            raise SystemExit(f"{po_path}: the catalogue is marked fuzzy")
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_catalogues():
        print(path.relative_to(TRANSLATIONS.parent.parent))
