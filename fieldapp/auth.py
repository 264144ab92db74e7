"""Flask-Login wiring: cookies that name a server-side session, role checks for views."""
from __future__ import annotations

from functools import wraps

from flask import Flask, redirect, request, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from .errors import AppError, error_response
from .extensions import db
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


def login_required_roles(*roles: str):
    """Decorator for views: logged in, and one of `roles` (any role when none given)."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                raise AppError("forbidden")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def actor() -> User:
    """The logged-in user, for passing to services explicitly."""
    return current_user._get_current_object()  # type: ignore[attr-defined]
