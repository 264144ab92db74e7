"""The zh_Hans catalogue covers every roster/ID msgid with the same %-placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "fieldapp/translations/roster/zh_Hans/LC_MESSAGES/messages.po"
SOURCES = ["fieldapp/domain/idcard.py", "fieldapp/domain/roster_file.py"]


def _msgids():
    found = []
    for source in SOURCES:
        for _line, message, _comments, _context in extract_from_file(
            "python", ROOT / source, keywords={"N_": None}
        ):
            found.append(message)
    return found


def _placeholders(text):
    return sorted(re.findall(r"%\((\w+)\)s", text))


@pytest.fixture(scope="module")
def catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle)


def test_every_msgid_is_translated_with_the_same_placeholders(catalogue):
    msgids = _msgids()
    assert len(msgids) > 30
    for msgid in msgids:
        message = catalogue.get(msgid)
        assert message is not None and message.string, f"untranslated: {msgid}"
        assert _placeholders(message.string) == _placeholders(msgid), msgid
        assert re.search(r"[\u4e00-\u9fff]", message.string), msgid


def test_catalogue_has_no_stale_entries(catalogue):
    assert {m.id for m in catalogue if m.id} == set(_msgids())
