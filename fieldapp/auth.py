"""Flask-Login wiring: session cookies only, role checks for views."""
from __future__ import annotations

from functools import wraps

from flask import Flask, redirect, request, url_for
from flask_login import LoginManager, current_user

from .errors import AppError, error_response
from .extensions import db
from .models import User


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(token: str) -> User | None:
        try:
            user_id, version = (int(part) for part in token.split(":"))
        except ValueError:
            return None
        user = db.session.get(User, user_id)
        if user is None or user.session_version != version or not user.is_active:
            return None
        return user

    @manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return error_response(AppError("not_logged_in"))
        return redirect(url_for("web.login", next=request.full_path))


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
