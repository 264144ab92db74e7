"""The signing key: from SECRET_KEY, or generated once and kept in instance/secret_key.

A published string never signs anything: sessions, remember cookies, CSRF tokens and
ballot slips all hang on this key, and a key anyone can read makes them forgeable (a
cookie `{"_user_id": ...}` signed with it is a login). So:
- SECRET_KEY set: used as given, refused if it is a known placeholder or shorter than
  MIN_LENGTH characters;
- SECRET_KEY unset: a 256-bit random key is generated on first start and written to
  SECRET_KEY_FILE (mode 0600), then read by every later start and every worker, so that
  `make run` works with no setup and restarts keep everyone logged in.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

MIN_LENGTH = 32
# Strings printed in this project's history, docs and common tutorials: never a key.
PUBLISHED = frozenset({
    "dev-insecure-change-me", "test-secret", "dev", "secret", "changeme", "change-me",
    "secret-key", "your-secret-key", "please-change-me",
})


class InsecureSecretKey(RuntimeError):
    pass


def check_key(key: str) -> str:
    if key in PUBLISHED or key.strip().lower() in PUBLISHED:
        raise InsecureSecretKey(
            "SECRET_KEY is a published placeholder: set a random one, e.g. "
            "`python3 -c 'import secrets; print(secrets.token_hex(32))'`, or unset it to "
            "have one generated in instance/secret_key")
    if len(key) < MIN_LENGTH:
        raise InsecureSecretKey(f"SECRET_KEY must have at least {MIN_LENGTH} characters")
    return key


def load_or_create(path: Path) -> str:
    """Read the key file, creating it first if absent (workers may start together)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _create(path)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise InsecureSecretKey(f"{path} is empty: delete it to have a new key generated")
    return check_key(key)


def _create(path: Path) -> None:
    """Write a fresh key to a temporary file, then hard-link it into place: the key file
    appears complete or not at all, and a concurrent creator's link fails harmlessly."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def derived_key(key: str, purpose: str) -> bytes:
    """A separate key per purpose (ballot slips, ...), so that no two uses share one."""
    return hmac.new(key.encode("utf-8"), f"fieldapp|{purpose}".encode("utf-8"),
                    hashlib.sha256).digest()
