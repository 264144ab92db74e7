"""`fieldapp backup PATH` and `fieldapp restore PATH` (SQLite; PostgreSQL: pg_dump)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from ..services import backup as service


def _live() -> Path:
    try:
        return service.sqlite_file(current_app.config["SQLALCHEMY_DATABASE_URI"])
    except service.BackupError as err:
        raise click.ClickException(str(err)) from err


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path):
    """Copy the SQLite database to PATH while the app keeps running (online backup API).

    Keep instance/secret_key with it, apart: ballot slips and logins depend on that key."""
    try:
        counts = service.backup(_live(), path)
    except service.BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"backup written to {path}: " + ", ".join(
        f"{t} {n}" for t, n in sorted(counts.items()) if n and t != "alembic_version"))


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool):
    """Replace the SQLite database's contents with the backup at PATH."""
    live = _live()
    try:
        service.check(path)
        backup_revision = service.revision(path)
    except service.BackupError as err:
        raise click.ClickException(str(err)) from err
    if not yes:
        click.confirm(f"Replace every record in {live} with {path}?", abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps the old pages
    counts = service.restore(path, live)
    click.echo(f"restored {path} (schema {backup_revision}): " + ", ".join(
        f"{t} {n}" for t, n in sorted(counts.items()) if n and t != "alembic_version"))
    click.echo("then run `fieldapp db upgrade heads` if the backup is older than this version")


commands = [backup_command, restore_command]
