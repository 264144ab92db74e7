"""The JSON API: flask-smorest blueprints, thin. OpenAPI at /api/openapi.json."""
from __future__ import annotations

from flask import Flask

from flask_smorest import Blueprint

from ..extensions import api
from .parser import SafeJsonParser

# flask-smorest reads the parser from this class attribute (meant to be overridden): every
# area's blueprint parses JSON bodies safely.
Blueprint.ARGUMENTS_PARSER = SafeJsonParser()

# Each area module exposes `blp`; add new areas here.
AREAS = ("auth", "geography", "users", "sync", "roster", "checkins", "instruments", "visits",
         "cycles", "samples", "tasks", "meetings", "ballots", "scores", "audit")


def register_api(app: Flask) -> None:
    from importlib import import_module

    api.spec.components.security_scheme(
        "csrf", {"type": "apiKey", "in": "header", "name": "X-CSRFToken"})
    for area in AREAS:
        module = import_module(f"{__name__}.{area}")
        api.register_blueprint(module.blp)
