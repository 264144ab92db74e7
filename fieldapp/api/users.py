"""Accounts: county staff create evaluators for their own county; admins create anyone."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..auth import actor, login_required_roles
from ..extensions import db
from ..models import County, FirstSecretary, User
from ..scoping import get_or_404, scoped
from ..services import accounts
from .auth import UserSchema
from .common import PageArgs, paginate, page_of

blp = Blueprint("users", __name__, url_prefix="/api", description="User accounts")


class UserCreateSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    role = fields.String(load_default="evaluator",
                         validate=validate.OneOf(["admin", "county_staff", "evaluator", "secretary"]))
    county_id = fields.Integer(allow_none=True)
    secretary_id = fields.Integer(allow_none=True)


UserPageSchema = page_of(UserSchema)


class UserArgs(PageArgs):
    role = fields.String(validate=validate.OneOf(["admin", "county_staff", "evaluator", "secretary"]))


@blp.route("/users")
class Users(MethodView):
    @login_required_roles("admin", "county_staff")
    @blp.arguments(UserArgs, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args):
        stmt = scoped(select(User), actor(), User).order_by(User.id)
        if "role" in args:
            stmt = stmt.where(User.role == args["role"])
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}

    @login_required_roles("admin", "county_staff")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        me = actor()
        county_id = data.get("county_id")
        if county_id is None and me.role == "county_staff":
            county_id = me.county_id
        county = db.session.get(County, county_id) if county_id is not None else None
        secretary = (db.session.get(FirstSecretary, data["secretary_id"])
                     if data.get("secretary_id") is not None else None)
        return accounts.create_user(me, phone=data["phone"], name=data["name"],
                                    password=data["password"], role=data["role"],
                                    county=county, secretary=secretary)


class UserUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=50))
    role = fields.String(validate=validate.OneOf(["admin", "county_staff", "evaluator", "secretary"]))
    county_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    is_active = fields.Boolean()


class PasswordResetSchema(Schema):
    password = fields.String(metadata={"description": "The new password, shown once"})


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @login_required_roles("admin", "county_staff")
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Edit an account; `is_active: false` deactivates it and ends its sessions."""
        return accounts.update_user(actor(), get_or_404(User, user_id), data)


@blp.route("/users/<int:user_id>/password-reset")
class UserPasswordReset(MethodView):
    @login_required_roles("admin", "county_staff")
    @blp.response(200, PasswordResetSchema)
    def post(self, user_id):
        """A new random password for the account; every session of it ends."""
        return {"password": accounts.reset_password(actor(), get_or_404(User, user_id))}
