"""Flask-Login wiring (cookies that name a server-side session) and the route guard that
asks the policy (fieldapp/policy.py) before a view reads its arguments.

`@requires(verb, *targets)` goes outside `@blp.arguments` (above it): an anonymous user
gets 401 (pages: the login page), a role without the verb 403, a missing object 404 and an
object out of reach 403, all before the body or query is validated. So a forbidden write
never answers 422, and nothing is read or written for it. A target names where its id is
(`path`, `body`, `form` or `query`), or loads a composite object itself (`load`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable

from flask import Flask, redirect, request, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select
from webargs.flaskparser import is_json_request

from . import policy
from .domain.safe_json import safe_loads
from .errors import AppError, error_response
from .extensions import db, login_manager
from .models import User
from .services import sessions


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        return sessions.load_session(token)

    @manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return error_response(AppError("not_logged_in"))
        return redirect(url_for("web.login", next=request.full_path))

    # Templates ask the same policy: {% if can('void_draw') %}.
    app.jinja_env.globals["can"] = lambda verb, obj=None: policy.can(current_user, verb, obj)
    app.jinja_env.globals["CITY"] = policy.CITY


def log_in(user: User) -> None:
    """A new server-side session for this device, named by the session and remember cookies."""
    sessions.start_session(user, request.user_agent.string)
    login_user(user, remember=True)


def log_out() -> None:
    """End this device's session on the server, then clear its cookies."""
    if current_user.is_authenticated:
        sessions.end_current_session()
        db.session.commit()
    logout_user()


def actor() -> User:
    """The logged-in user, for passing to services explicitly."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


# --- the route guard ----------------------------------------------------------------------


def raw_field(name: str, source: str) -> Any:
    """A field of the request as sent, before any schema reads it (None when absent or the
    body is not JSON/parsable: the schema then answers as usual)."""
    if source == "query":
        return request.args.getlist(name) or None
    if source == "form":
        return request.form.getlist(name) or None
    if not is_json_request(request):
        return None
    try:
        body = safe_loads(request.get_data(cache=True))
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def _ids(raw: Any) -> list[int]:
    """The integer ids in a raw value (one or a list; "12" from a form too)."""
    values = raw if isinstance(raw, list) else [raw]
    out = []
    for v in values:
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            out.append(v)
        elif isinstance(v, str) and v.strip().isdigit() and len(v.strip()) < 10:
            out.append(int(v))
    return [i for i in out if 0 < i < 2**31]


@dataclass(frozen=True)
class Target:
    """Where a route's object is. `path` names a URL variable (missing object: 404);
    `body`/`form`/`query` a field holding one id or a list of ids (objects that do not
    exist are left to the view, which answers 422 or 404 as before); `load(kwargs)`
    returns a composite object (e.g. policy.CountyCycle) or None. `verb` asks another
    verb of this object than the route's (e.g. "read_cycles" of the cycle in the path)."""
    model: Any = None
    path: str | None = None
    body: str | None = None
    form: str | None = None
    query: str | None = None
    load: Callable[[dict], Any] | None = None
    verb: str | None = None

    def objects(self, kwargs: dict) -> list[Any]:
        if self.load is not None:
            found = self.load(kwargs)
            return [] if found is None else [found]
        if self.path is not None:
            obj = db.session.get(self.model, kwargs[self.path])
            if obj is None:
                raise AppError("not_found")
            return [obj]
        source, name = next((s, n) for s, n in (("body", self.body), ("form", self.form),
                                                  ("query", self.query)) if n)
        ids = _ids(raw_field(name, source))
        if not ids:
            return []
        return list(db.session.scalars(select(self.model).where(self.model.id.in_(ids[:1000]))))


def requires(verb: str, *targets: Target):
    """Route guard: logged in, the role grants `verb`, every target within reach."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            user = actor()
            policy.authorize(user, verb)
            for target in targets:
                for obj in target.objects(kwargs):
                    policy.authorize(user, target.verb or verb, obj)
            return view(*args, **kwargs)
        wrapper.required_verb = verb  # type: ignore[attr-defined]  (docs and tests read it)
        return wrapper
    return decorator
