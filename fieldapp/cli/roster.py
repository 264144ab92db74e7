"""`fieldapp roster import FILE... [--dry-run]` and `fieldapp roster template OUT`."""
from __future__ import annotations

from pathlib import Path

import click

from .. import policy
from ..domain.roster_template import build_template_xlsx
from ..errors import AppError
from ..extensions import db
from ..services.roster import import_roster
from ..services.roster_places import template_place
from .common import find_county

group = click.Group("roster", help="Import the county roster (households, first secretaries).")


def _echo_counts(report: dict) -> None:
    labels = {"counties": "县区", "towns": "镇办", "villages": "村", "centres": "村中心",
              "households": "户", "secretaries": "第一书记"}
    for key, counts in report["counts"].items():
        click.echo(f"{labels[key]:　<4} created {counts['created']:>6}  updated "
                   f"{counts['updated']:>6}  unchanged {counts['unchanged']:>6}")


@group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
def import_command(files, dry_run):
    """Import one or more XLSX/CSV files; any error stores nothing (exit status 1)."""
    payload = [(Path(f).name, Path(f).read_bytes()) for f in files]
    try:
        report = import_roster(policy.SYSTEM, payload, dry_run=dry_run).as_dict()
    except AppError as err:
        db.session.rollback()
        rows = err.extra.get("rows", [])
        for row in rows:
            where = ":".join(str(p) for p in (row["file"], row["sheet"], row["row"]) if p)
            column = f" [{row['column']}]" if row["column"] else ""
            click.echo(f"{where}{column} {row['message']}", err=True)
        raise click.ClickException(f"{err.message} ({len(rows)})") from err
    _echo_counts(report)
    for row in report["warnings"]:
        where = ":".join(str(p) for p in (row["file"], row["sheet"], row["row"]) if p)
        click.echo(f"{where} [{row['column']}] {row['message']}", err=True)
    click.echo("dry run: nothing written" if dry_run else "imported")


@group.command("template")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
@click.option("--county", "county_ref", help="County name or code the examples are set in.")
def template_command(out, county_ref):
    """Write the blank roster template workbook (its examples marked 示例)."""
    county = find_county(county_ref) if county_ref else None
    Path(out).write_bytes(build_template_xlsx(template_place(policy.SYSTEM, county)))
    click.echo(out)
