"""No public signing key: a generated key when SECRET_KEY is unset, published strings
refused, and ballot slips that the database plus anything public cannot re-create."""
from __future__ import annotations

import base64
import hashlib
import hmac
import stat

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from fieldapp import create_app
from fieldapp.config import Config, TestConfig
from fieldapp.extensions import db
from fieldapp.models import BallotToken, Meeting

from .scores_helpers import make_meeting

# Strings an attacker can read: this repository's history, its docs, tutorials.
PUBLIC_STRINGS = ["dev-insecure-change-me", "test-secret", "dev", "secret", "changeme"]


def _config(database_url: str, **overrides) -> dict:
    base = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    # What a production start reads when SECRET_KEY is not in the environment.
    base["SECRET_KEY"] = Config.SECRET_KEY
    base["SQLALCHEMY_DATABASE_URI"] = database_url
    base.update(overrides)
    return base


def test_unset_key_is_generated_once_and_kept_in_instance(tmp_path, database_url):
    key_file = tmp_path / "instance" / "secret_key"
    first = create_app(_config(database_url, SECRET_KEY_FILE=str(key_file)))
    key = first.config["SECRET_KEY"]
    assert key not in PUBLIC_STRINGS and len(key) >= 64
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A restart (or another worker) reads the same key: logins survive restarts.
    second = create_app(_config(database_url, SECRET_KEY_FILE=str(key_file)))
    assert second.config["SECRET_KEY"] == key
    # Another installation gets another key.
    other = create_app(_config(database_url, SECRET_KEY_FILE=str(tmp_path / "other")))
    assert other.config["SECRET_KEY"] != key


@pytest.mark.parametrize("published", ["dev-insecure-change-me", "test-secret", "short-key"])
def test_published_or_short_key_refuses_to_start(database_url, published):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_config(database_url, SECRET_KEY=published))


def test_cookie_forged_with_a_published_key_is_no_login(tmp_path, database_url, personas):
    app = create_app(_config(database_url, SECRET_KEY_FILE=str(tmp_path / "secret_key")))
    admin = personas.users["admin"]
    for published in PUBLIC_STRINGS:
        for user_id in (f"{admin.id}:1", str(admin.id)):
            app_like = type("A", (), {"secret_key": published, "config": app.config})
            serializer = SecureCookieSessionInterface().get_signing_serializer(app_like)
            forged = serializer.dumps({"_user_id": user_id, "_fresh": True})
            client = app.test_client()
            client.set_cookie("session", forged)
            assert client.get("/api/me").status_code == 401, (published, user_id)


def _published_slip_tokens(meeting: Meeting) -> set[str]:
    """Every slip token an attacker could compute from the database and public strings."""
    tokens = set()
    for key in PUBLIC_STRINGS:
        for derived in (key.encode(), hmac.new(key.encode(), b"fieldapp|ballot-slips-v1",
                                               hashlib.sha256).digest()):
            for n in range(meeting.participant_total):
                msg = f"ballot|{meeting.id}|{meeting.token_salt}|{n}".encode()
                digest = hmac.new(derived, msg, hashlib.sha256).digest()
                tokens.add(base64.urlsafe_b64encode(digest[:16]).decode().rstrip("="))
    return tokens


def test_ballot_slips_are_not_derivable_from_the_database(personas):
    meeting = make_meeting(personas, "a")
    stored = set(db.session.scalars(select(BallotToken.token_hash).where(
        BallotToken.meeting_id == meeting.id)))
    assert stored
    guessed = {hashlib.sha256(t.encode()).hexdigest() for t in _published_slip_tokens(meeting)}
    assert not stored & guessed
