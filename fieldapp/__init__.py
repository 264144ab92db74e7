"""fieldapp: the 驻村评议 field collector.

`create_app(config)` wires configuration, extensions, blueprints, error handlers and the
command line. Nothing is kept in process memory between requests.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from werkzeug.routing import IntegerConverter
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .assets.http import is_immutable_asset, security_headers
from .config import ROOT, Config

PACKAGE_DIR = Path(__file__).resolve().parent
PWA_DIR = ROOT / "pwa"
SCHEMAS_DIR = ROOT / "schemas"
MIGRATIONS_DIR = ROOT / "migrations"


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                static_folder="static", static_url_path="/static")
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    # Database ids are 32-bit: a larger number in a URL is simply not found (not a 500).
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.setdefault("PWA_DIR", str(PWA_DIR))
    app.config.setdefault("SCHEMAS_DIR", str(SCHEMAS_DIR))
    _init_secret_key(app)

    _init_extensions(app)
    _register_blueprints(app)
    _init_static_and_compression(app)

    from .errors import register_error_handlers
    register_error_handlers(app)

    from .cli import register_cli
    register_cli(app)

    app.after_request(_security_headers)
    trust_proxies(app, app.config["TRUSTED_PROXIES"])
    return app


def trust_proxies(app: Flask, hops: int) -> None:
    """Take the client address from `hops` trusted reverse proxies' X-Forwarded-* headers."""
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _init_secret_key(app: Flask) -> None:
    from .secret_key import check_key, load_or_create

    key = app.config.get("SECRET_KEY")
    app.config["SECRET_KEY"] = (check_key(key) if key
                                else load_or_create(Path(app.config["SECRET_KEY_FILE"])))


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _init_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (register every table with the metadata)
    from .extensions import api, babel, csrf, db, login_manager, migrate

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=";".join(_translation_dirs()))
    from .errors import ErrorSchema
    # flask-smorest documents its own error shape (code an integer, status a string), the
    # reverse of what errors.py sends: document ours (read by init_app).
    api.ERROR_SCHEMA = ErrorSchema
    api.init_app(app)
    from flask_babel import get_locale
    app.jinja_env.globals["get_locale"] = get_locale
    from .auth import init_login
    init_login(app, login_manager)


def _translation_dirs() -> list[str]:
    """One catalogue directory per area (fieldapp/translations/<area>/); Babel merges them."""
    base = PACKAGE_DIR / "translations"
    return sorted(str(p) for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def _select_locale() -> str:
    if not has_request_context():  # command line, background work: the default locale
        return "zh_Hans"
    wanted = request.args.get("lang") or request.cookies.get("lang")
    if wanted in ("en", "zh_Hans", "zh-Hans", "zh"):
        return "en" if wanted == "en" else "zh_Hans"
    best = request.accept_languages.best_match(["zh", "en"])
    return "en" if best == "en" else "zh_Hans"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: WAL for concurrent readers with one writer, and enforced foreign keys."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    from .api import register_api
    from .web import register_web

    register_api(app)
    register_web(app)
    from .services.sync import load_record_types
    load_record_types()


def _init_static_and_compression(app: Flask) -> None:
    """Hashed, pre-compressed static files (fieldapp/assets) and compressed JSON answers and
    sync bodies (fieldapp/compression.py)."""
    from . import assets
    from .compression import init_compression

    assets.init_app(app)
    init_compression(app)


def _security_headers(response):
    if is_immutable_asset(response):
        # A hashed script, stylesheet or image: the document-only headers are wasted bytes.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
    for name, value in security_headers().items():
        response.headers.setdefault(name, value)
    return response
