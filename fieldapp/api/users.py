"""Accounts: county staff create evaluators for their own county; admins create anyone."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from .. import policy
from ..auth import Target, actor, raw_field, requires
from ..extensions import db
from ..loading import get_or_404
from ..models import ROLES, County, FirstSecretary, User
from ..services import accounts
from .auth import UserSchema
from .common import PageArgs, paginate, page_of

blp = Blueprint("users", __name__, url_prefix="/api", description="User accounts")


class UserCreateSchema(Schema):
    phone = fields.String(required=True, validate=validate.Length(max=20))
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))
    role = fields.String(load_default="evaluator", validate=validate.OneOf(ROLES))
    county_id = fields.Integer(allow_none=True)
    secretary_id = fields.Integer(allow_none=True)


UserPageSchema = page_of(UserSchema)


class UserArgs(PageArgs):
    role = fields.String(validate=validate.OneOf(ROLES))


def _account_draft(_kwargs) -> policy.AccountDraft | None:
    """The account a POST /api/users would create, as sent (checked before validation): a
    secretary's account lies in that secretary's county."""
    role = raw_field("role", "body")
    county_id = raw_field("county_id", "body")
    secretary_id = raw_field("secretary_id", "body")
    if role is None:
        role = "evaluator"
    if not isinstance(role, str) or (county_id is not None and type(county_id) is not int):
        return None  # the schema answers 422
    secretary = (db.session.get(FirstSecretary, secretary_id)
                 if type(secretary_id) is int and 0 < secretary_id < 2**31 else None)
    if secretary is not None:
        county_id = secretary.village.county_id
    return policy.AccountDraft(role, county_id if county_id is not None else actor().county_id)


@blp.route("/users")
class Users(MethodView):
    @requires("read_accounts")
    @blp.arguments(UserArgs, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args):
        stmt = policy.scope(actor(), "read_accounts", select(User)).order_by(User.id)
        if "role" in args:
            stmt = stmt.where(User.role == args["role"])
        items, total = paginate(stmt, args)
        return {"items": items, "total": total}

    @requires("create_account", Target(load=_account_draft))
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        me = actor()
        county_id = data.get("county_id")
        if county_id is None:  # county staff: their own county
            county_id = me.county_id
        county = db.session.get(County, county_id) if county_id is not None else None
        secretary = (db.session.get(FirstSecretary, data["secretary_id"])
                     if data.get("secretary_id") is not None else None)
        return accounts.create_user(me, phone=data["phone"], name=data["name"],
                                    password=data["password"], role=data["role"],
                                    county=county, secretary=secretary)


class UserUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=50))
    role = fields.String(validate=validate.OneOf(ROLES))
    county_id = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=2**31 - 1))
    is_active = fields.Boolean()


class PasswordResetSchema(Schema):
    password = fields.String(metadata={"description": "The new password, shown once"})


@blp.route("/users/<int:user_id>")
class UserItem(MethodView):
    @requires("manage_account", Target(User, path="user_id"))
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Edit an account; `is_active: false` deactivates it and ends its sessions."""
        return accounts.update_user(actor(), get_or_404(User, user_id), data)


@blp.route("/users/<int:user_id>/password-reset")
class UserPasswordReset(MethodView):
    @requires("manage_account", Target(User, path="user_id"))
    @blp.response(200, PasswordResetSchema)
    def post(self, user_id):
        """A new random password for the account; every session of it ends."""
        return {"password": accounts.reset_password(actor(), get_or_404(User, user_id))}
