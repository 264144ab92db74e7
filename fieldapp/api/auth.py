"""Login, logout, the CSRF token and the current user."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_wtf.csrf import generate_csrf
from marshmallow import Schema, fields, validate

from ..auth import actor, log_in, log_out, requires
from ..services import accounts

blp = Blueprint("auth", __name__, url_prefix="/api", description="Login and session")


class UserSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String()
    role = fields.String()
    county_id = fields.Integer(allow_none=True)
    secretary_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean(attribute="is_active_account")


class LoginSchema(Schema):
    phone = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class LoginResultSchema(Schema):
    user = fields.Nested(UserSchema)
    csrf_token = fields.String()


class CsrfSchema(Schema):
    csrf_token = fields.String()


@blp.route("/auth/csrf")
class Csrf(MethodView):
    @blp.response(200, CsrfSchema)
    def get(self):
        """A CSRF token bound to this browser's session; send it as X-CSRFToken."""
        return {"csrf_token": generate_csrf()}


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, LoginResultSchema)
    def post(self, data):
        user = accounts.authenticate(data["phone"], data["password"], request.remote_addr)
        log_in(user)
        # A new token after login: the session changed (defence against fixation).
        return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """End this device's session at once (its session and remember cookies stop working)."""
        log_out()


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True,
                                     validate=validate.Length(max=200))
    new_password = fields.String(required=True, load_only=True,
                                 validate=validate.Length(max=200))


@blp.route("/auth/password")
class Password(MethodView):
    @requires("change_own_password")
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, data):
        """Change one's own password: this device stays logged in, every other session ends."""
        accounts.change_password(actor(), data["current_password"], data["new_password"])


@blp.route("/me")
class Me(MethodView):
    @requires("read_self")
    @blp.response(200, UserSchema)
    def get(self):
        return actor()
