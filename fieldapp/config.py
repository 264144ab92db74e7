"""Configuration read from the environment (12-factor).

Every variable is documented in README.md. `Config` is production-leaning; `TestConfig`
only changes what tests need.
"""
from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _default_sqlite_url() -> str:
    instance = ROOT / "instance"
    return f"sqlite:///{instance / 'fieldapp.db'}"


class Config:
    # Unset: generated once into SECRET_KEY_FILE (fieldapp/secret_key.py); never a default string.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE") or str(ROOT / "instance" / "secret_key")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_sqlite_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Behind N reverse proxies/load balancers, trust N X-Forwarded-For hops for the client IP
    # (the per-IP login throttle would otherwise see only the proxy's address).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Cookies are signed and name a server-side LoginSession row (services/sessions.py): any
    # worker can serve any request, and a revoked session is dead everywhere at once.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # Server-side login sessions (services/sessions.py), checked on every request. Evaluators
    # log in once and work offline in villages for days: both limits exceed a week.
    SESSION_IDLE_LIFETIME = timedelta(days=float(os.environ.get("SESSION_IDLE_DAYS", "14")))
    SESSION_MAX_LIFETIME = timedelta(days=float(
        os.environ.get("SESSION_MAX_DAYS") or os.environ.get("SESSION_DAYS") or "30"))
    PERMANENT_SESSION_LIFETIME = SESSION_MAX_LIFETIME
    REMEMBER_COOKIE_DURATION = SESSION_MAX_LIFETIME

    # CSRF tokens are bound to the session, not to a clock: a phone offline for a week
    # must still be able to sync.
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    WTF_CSRF_SSL_STRICT = _bool("WTF_CSRF_SSL_STRICT", True)

    PASSWORD_HASH_METHOD = "scrypt"
    # Login throttle (security.py): free failures, then a doubling wait up to the cap.
    LOGIN_FREE_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FREE_FAILURES_PER_ACCOUNT", "5"))
    LOGIN_MAX_DELAY_PER_ACCOUNT = int(os.environ.get("LOGIN_MAX_DELAY_PER_ACCOUNT", "60"))
    LOGIN_FREE_FAILURES_PER_IP = int(os.environ.get("LOGIN_FREE_FAILURES_PER_IP", "30"))
    LOGIN_MAX_DELAY_PER_IP = int(os.environ.get("LOGIN_MAX_DELAY_PER_IP", "900"))
    LOGIN_BASE_DELAY = int(os.environ.get("LOGIN_BASE_DELAY", "1"))
    LOGIN_WINDOW_SECONDS = int(os.environ.get("LOGIN_WINDOW_SECONDS", "900"))

    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ["zh_Hans", "en"]

    SYNC_MAX_BATCH = int(os.environ.get("SYNC_MAX_BATCH", "50"))
    # The largest sync body the server reads, after inflating a gzip body (413 beyond).
    # 50 visits with every text field full are about 0.5 MB.
    SYNC_MAX_BODY_KB = int(os.environ.get("SYNC_MAX_BODY_KB", "2048"))
    # br/gzip copies of static files, made once per content and shared by all workers.
    ASSET_CACHE_DIR = os.environ.get("ASSET_CACHE_DIR") or str(ROOT / "instance" / "asset-cache")
    # Quality-flag thresholds (fieldapp.domain.flags.FlagThresholds field names), e.g.
    # FLAG_THRESHOLDS='{"max_accuracy_m": 150}'; missing keys keep the defaults.
    FLAG_THRESHOLDS: dict = json.loads(os.environ.get("FLAG_THRESHOLDS") or "{}")
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")

    API_TITLE = "fieldapp"
    API_VERSION = "1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = secrets.token_hex(32)  # random per test run: no published key even here
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_SSL_STRICT = False
    # Tests create many accounts; a deliberately cheap hash keeps them fast. Never in production.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    LOGIN_FREE_FAILURES_PER_ACCOUNT = 5
    LOGIN_FREE_FAILURES_PER_IP = 20
