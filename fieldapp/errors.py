"""The error catalogue and the one JSON error shape.

Every error the API returns has the shape `{code, status, message, errors}`: `code` is a
stable machine-readable string from CATALOGUE, `status` the HTTP status, `message` a
human sentence in the request's language, `errors` field-level messages `{field: [...]}`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from marshmallow import INCLUDE, Schema, fields
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .validation_messages import translate_message

# code -> (HTTP status, default message). Messages are English msgids; zh_Hans is default.
CATALOGUE: dict[str, tuple[int, Any]] = {
    "bad_request": (400, _l("The request is malformed.")),
    "csrf_failed": (400, _l("The security token is missing or invalid. Reload the page and try again.")),
    "not_logged_in": (401, _l("Please log in.")),
    "invalid_credentials": (401, _l("Wrong phone number or password.")),
    "forbidden": (403, _l("You do not have access to this.")),
    "not_found": (404, _l("Not found.")),
    "method_not_allowed": (405, _l("This method is not allowed here.")),
    "conflict": (409, _l("This conflicts with existing data.")),
    "locked": (409, _l("This record is locked.")),
    "county_finalised": (409, _l("The county's scores are finalised: nothing under them can change until an admin reopens it.")),
    "decision_required": (409, _l("Staff must decide first.")),
    "payload_too_large": (413, _l("The upload is too large.")),
    "unsupported_media_type": (415, _l("Unsupported content type.")),
    "validation_failed": (422, _l("Some fields are invalid.")),
    "import_rejected": (422, _l("The file has errors; nothing was imported.")),
    "sync_batch_rejected": (422, _l("Some records were rejected; nothing in this batch was stored.")),
    "too_many_attempts": (429, _l("Too many failed attempts. Try again later.")),
    "internal_error": (500, _l("Internal server error.")),
}

_HTTP_TO_CODE = {400: "bad_request", 401: "not_logged_in", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
                 415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_attempts"}


class ErrorSchema(Schema):
    """The one error shape, as documented in /api/openapi.json for every operation. Some
    errors add fields (a sync batch's `results`, a throttle's `retry_after`)."""
    code = fields.String(required=True, metadata={"enum": sorted(CATALOGUE)})
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         required=True)
    retry_after = fields.Integer(metadata={"description": "too_many_attempts: seconds to wait"})

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true (results of a sync batch)


class AppError(Exception):
    """An error with a catalogue code. Raise it anywhere; the handler renders it."""

    def __init__(self, code: str, message: str | None = None, *,
                 errors: dict[str, list[str]] | None = None, status: int | None = None,
                 extra: dict[str, Any] | None = None):
        default_status, default_message = CATALOGUE[code]
        self.code = code
        self.status = status or default_status
        self.message = message if message is not None else str(default_message)
        self.errors = errors or {}
        self.extra = extra or {}
        super().__init__(f"{code}: {self.message}")

    def to_dict(self) -> dict[str, Any]:
        body = {"code": self.code, "status": self.status, "message": self.message,
                "errors": self.errors}
        body.update(self.extra)
        return body


def _wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def error_response(err: AppError):
    headers = {}
    if "retry_after" in err.extra:
        headers["Retry-After"] = str(err.extra["retry_after"])
    if _wants_json():
        return jsonify(err.to_dict()), err.status, headers
    from flask import render_template
    return render_template("error.html", error=err), err.status, headers


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested marshmallow messages -> {'answers.item': ['...']}, translated for the user."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_messages(value, name))
            else:
                items = value if isinstance(value, list) else [value]
                flat[name] = [translate_message(str(v)) for v in items]
    else:
        items = messages if isinstance(messages, list) else [messages]
        flat[prefix or "_schema"] = [translate_message(str(m)) for m in items]
    return flat


def _smorest_errors(exc: HTTPException) -> dict[str, list[str]]:
    """flask-smorest puts marshmallow messages in exc.data['messages'][location]."""
    data = getattr(exc, "data", None) or {}
    flat: dict[str, list[str]] = {}
    for _location, fields in (data.get("messages") or {}).items():
        flat.update(flatten_messages(fields))
    return flat


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(err: AppError):
        return error_response(err)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return error_response(AppError("csrf_failed"))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        code = _HTTP_TO_CODE.get(status, "bad_request" if status < 500 else "internal_error")
        errors = _smorest_errors(exc)
        err = AppError(code, errors=errors, status=status)
        return error_response(err)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def _out_of_range(exc: Exception):
        # A number too large for the database column (e.g. an id of 10**30 in a query):
        # bad input, not a server fault. Field schemas bound what they can; this is the net.
        db_rollback()
        return error_response(AppError("validation_failed", gettext("A number is out of range.")))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # pragma: no cover - last resort, logged
        app.logger.exception("unhandled error")
        return error_response(AppError("internal_error"))


def db_rollback() -> None:
    db.session.rollback()


def translate(msgid: str, params: dict[str, Any] | None = None) -> str:
    """Translate a domain msgid (marked with N_) in the current locale."""
    return gettext(msgid, **(params or {}))
