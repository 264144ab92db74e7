"""Schemas and helpers shared by API areas."""
from __future__ import annotations

from marshmallow import Schema, fields

from ..errors import ErrorSchema  # noqa: F401  (the one error shape, re-exported)
from ..extensions import db


def points_in(**kwargs) -> fields.Decimal:
    """Points as input: a JSON number or a decimal string ("59.995"). Not rounded here: the
    service rounds half up to 2 decimals (domain/points.py), as every entry point does."""
    return fields.Decimal(allow_nan=False, metadata={
        "description": "a number or a decimal string; rounded half up to 2 decimals",
        **kwargs.pop("metadata", {})}, **kwargs)


def points_out(**kwargs) -> fields.Decimal:
    """Points as output: an exact decimal string with 2 places, e.g. "59.99"."""
    return fields.Decimal(as_string=True, **kwargs)


def page_of(item: type[Schema]) -> type[Schema]:
    """The one listing envelope, `{items: [...], total}`, for a given item schema."""
    name = item.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict({"items": fields.List(fields.Nested(item)),
                             "total": fields.Integer()}, name=name)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=lambda n: n >= 1)
    per_page = fields.Integer(load_default=50, validate=lambda n: 1 <= n <= 500)


def paginate(stmt, args: dict):
    """Offset pagination for listing endpoints: (items, total)."""
    from sqlalchemy import func, select


    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(args["per_page"]).offset(
        (args["page"] - 1) * args["per_page"])).all()
    return items, total
