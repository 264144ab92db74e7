"""Every user-visible string in the server has a Chinese translation (zh_Hans is the default).

Strings are extracted the way pybabel does (Python: _, gettext, lazy_gettext, _l, ngettext,
N_; Jinja templates: _ and gettext) and looked up in the merged catalogues of all areas.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2] / "fieldapp"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "N_": None,
            "ngettext": (1, 2)}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def extracted() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS,
            options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}}):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def translated() -> dict[str, str]:
    merged: dict[str, str] = {}
    for po in ROOT.glob("translations/*/zh_Hans/LC_MESSAGES/messages.po"):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string:
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    merged[key] = message.string if isinstance(message.string, str) \
                        else message.string[0]
    return merged


def test_every_message_has_a_chinese_translation():
    missing = {m: where for m, where in extracted().items() if m not in translated()}
    assert not missing, "untranslated (add with scripts/po_add.py):\n" + "\n".join(
        f"{where}: {m!r}" for m, where in sorted(missing.items(), key=lambda kv: kv[1]))


def test_placeholders_survive_translation():
    import re
    pattern = re.compile(r"%\((\w+)\)[sdif]")
    catalog = translated()
    wrong = {m: s for m, s in catalog.items()
             if set(pattern.findall(m)) != set(pattern.findall(s))}
    assert not wrong, wrong
