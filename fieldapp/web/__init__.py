"""Server-rendered pages (staff, public draw and ballot pages) and the PWA's static files.

Each module exposes `bp`; add new areas here.
"""
from __future__ import annotations

from importlib import import_module

from flask import Flask

AREAS = ("pwa", "pages", "users", "visits", "sampling", "residency", "meetings", "scores",
         "dashboard", "villages", "audit")


def register_web(app: Flask) -> None:
    for area in AREAS:
        app.register_blueprint(import_module(f"{__name__}.{area}").bp)
