"""The request parser of every API blueprint: webargs' FlaskParser with safe JSON."""
from __future__ import annotations

import typing

import flask
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from ..domain.safe_json import safe_loads


class SafeJsonParser(FlaskParser):
    """Deep nesting and lone surrogates are invalid JSON (400), never a RecursionError or
    UnicodeEncodeError later (500). webargs turns JSONDecodeError into its 400."""

    def _raw_load_json(self, req: flask.Request) -> typing.Any:
        if not is_json_request(req):
            return core.missing
        return safe_loads(req.get_data(cache=True))
