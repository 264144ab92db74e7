"""Every environment variable the app reads is in README's configuration table, and the
table names none that nothing reads (REDIS_URL stayed documented after the login
throttle moved to the database: a setting that does nothing misleads whoever deploys)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = (ROOT / "fieldapp" / "config.py", ROOT / "deploy" / "gunicorn.conf.py",
           ROOT / "tests" / "conftest.py")


def read_variables() -> set[str]:
    found = set()
    for path in READERS:
        found |= set(re.findall(r'(?:environ\.get|_bool)\(\s*"([A-Z][A-Z0-9_]+)"',
                                path.read_text(encoding="utf-8")))
    return found


def documented_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line))
    return names


def test_every_variable_read_is_documented():
    missing = read_variables() - documented_variables()
    assert not missing, f"add to README's configuration table: {sorted(missing)}"


def test_every_documented_variable_is_read():
    unused = documented_variables() - read_variables()
    assert not unused, f"documented but read by nothing: {sorted(unused)}"
    assert "REDIS_URL" not in documented_variables() | read_variables()
