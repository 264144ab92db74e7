"""The `fieldapp` command line: every area adds a click group from cli/<area>.py.

`fieldapp db upgrade` (Flask-Migrate) builds or updates the schema.
"""
from __future__ import annotations

from importlib import import_module

from flask import Flask

# Each module exposes `group` (a click.Group or command) added to `fieldapp`, or a list of
# top-level `commands`.
AREAS = ("users", "roster", "villages", "demo", "cycles", "samples", "scores", "assets", "backup")


def register_cli(app: Flask) -> None:
    for area in AREAS:
        module = import_module(f"{__name__}.{area}")
        for command in getattr(module, "commands", None) or [module.group]:
            app.cli.add_command(command)


def main() -> None:
    """Console script entry point: `fieldapp ...` is `flask --app fieldapp ...`."""
    from flask.cli import FlaskGroup

    from .. import create_app

    FlaskGroup(create_app=create_app, help="驻村评议 fieldapp").main(prog_name="fieldapp")
