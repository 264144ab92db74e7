"""Backup and restore of a SQLite database with SQLite's online backup API.

The backup API copies a consistent snapshot while the application keeps running: in WAL
mode readers never block the writer, and the copy is taken in one step inside one read
transaction, so a batch that was being synced is either wholly in the backup or not at
all. PostgreSQL has its own tools (pg_dump / pg_restore, README "Backup and restore").
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def sqlite_file(database_url: str) -> Path:
    """The database file behind a SQLite URL; BackupError for anything else."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            "this database is PostgreSQL: back it up with `pg_dump -Fc -f fieldapp.dump DB` and "
            "restore with `pg_restore --clean --if-exists -d DB fieldapp.dump` (README)")
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def backup(live: Path, target: Path) -> dict[str, int]:
    """Copy `live` to `target` (which must not exist yet); return its rows per table."""
    if target.exists():
        raise BackupError(f"{target} exists: choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{live}?mode=ro", uri=True, timeout=30)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)  # pages=-1: the whole database in one step, one snapshot
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
    finally:
        dest.close()
        source.close()
    return check(target)


def check(path: Path) -> dict[str, int]:
    """A readable, intact fieldapp database: its rows per table; BackupError otherwise."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is damaged (integrity check failed)")
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            if "alembic_version" not in tables or "user_account" not in tables:
                raise BackupError(f"{path} is not a fieldapp database")
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from exc


def revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT group_concat(version_num, ',') FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def restore(source: Path, live: Path) -> dict[str, int]:
    """Replace the live database's contents with the backup's, in place (the backup API
    takes the write lock, so no request writes half-way through)."""
    counts = check(source)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dest)
    finally:
        dest.close()
        src.close()
    return counts
