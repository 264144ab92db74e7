"""`fieldapp scores recompute|export`: recompute every score from the stored raw inputs.

`recompute --cycle ID` grades every county of the cycle again from the stored visits,
reviews, ballots, paper tallies, entries, decisions, spot checks and leave, prints the
results, and compares finalised counties with what was stored at finalising: both the
result fields and the digest of every input, part by part, so a difference names what
changed ("visits", "meeting", "spot_checks"...). Any difference sets exit status 1.
Nothing is written (a finalised county changes only after an admin reopens it).
"""
from __future__ import annotations

import sys

import click

from ..domain.county_scores import PART_LABELS
from .. import policy
from ..extensions import db
from ..models import County, Cycle
from ..services.exports import csv_chunks, write_xlsx
from ..services.scoring import exports
from ..services.scoring.inputs import covered_county_ids
from ..services.scoring.results import compare
from .common import fail_on_app_error, find_county

group = click.Group("scores", help="Mass evaluation, scorecard and grades.")


def _find_cycle(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise click.ClickException(f"unknown cycle: {cycle_id}")
    return cycle


def _fmt(value) -> str:
    return "-" if value is None else str(value)


@group.command("recompute")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--county", "county_ref", help="County name or code (default: every county).")
@click.option("--quiet", is_flag=True, help="Print only differences and the summary.")
@fail_on_app_error
def recompute(cycle_id, county_ref, quiet):
    """Recompute scores from raw inputs and check them against the finalised results."""
    cycle = _find_cycle(cycle_id)
    county_ids = [find_county(county_ref).id] if county_ref else covered_county_ids(cycle)
    differences = 0
    checked = 0
    for county_id in county_ids:
        county = db.session.get(County, county_id)
        report = compare(cycle, county_id)
        stored = report["stored"]
        state = "finalised" if stored else "open (provisional)"
        click.echo(f"# {county.name} ({county.code}), cycle {cycle.id} {cycle.year}: {state}")
        if not quiet:
            for row in report["live"]["rows"]:
                mass = "incomplete" if row["mass_evaluation"] is None else str(row["mass_evaluation"])
                click.echo(f"{row['secretary_id']}\t{row['village_code']}\t{row['secretary_name']}\t"
                           f"mass={mass}\ttotal={_fmt(row['total'])}\t"
                           f"grade={row['grade'] or row['status']}{' capped' if row['capped'] else ''}")
        if stored is None:
            continue
        checked += len(stored["rows"])
        for d in report["differences"]:
            differences += 1
            sid = d["secretary_id"]
            if d["kind"] == "added":
                click.echo(f"DIFF {sid}: assessed now, not in the stored results", err=True)
            elif d["kind"] == "removed":
                click.echo(f"DIFF {sid}: stored, but no longer assessed in the county", err=True)
            else:
                for f, (old, new) in d["fields"].items():
                    click.echo(f"DIFF {sid} {f}: stored={_fmt(old)} recomputed={_fmt(new)}", err=True)
                if d["inputs"]:
                    names = ", ".join(f"{p} ({PART_LABELS[p]})" for p in d["inputs"])
                    click.echo(f"DIFF {sid} inputs changed since finalising: {names}", err=True)
    click.echo(f"checked {checked} finalised results: {differences} differences")
    db.session.rollback()
    if differences:
        sys.exit(1)


@group.command("export")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--county", "county_ref", help="County name or code (default: every county).")
@click.option("--kind", type=click.Choice(["scorecard", "satisfaction"]), default="scorecard")
@click.option("--level", type=click.Choice(["secretary", "village", "town", "county"]), default="secretary")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True)
@fail_on_app_error
def export(cycle_id, county_ref, kind, level, fmt, output):
    """Write the scorecard or the aggregated satisfaction to a file (as the download)."""
    cycle = _find_cycle(cycle_id)
    county_ids = [find_county(county_ref).id] if county_ref else covered_county_ids(cycle)
    if kind == "scorecard":
        columns, rows = exports.scorecard_table(policy.SYSTEM, cycle, county_ids)
    else:
        columns, rows = exports.satisfaction_table(policy.SYSTEM, cycle, county_ids, level)
    if fmt == "csv":
        with open(output, "w", encoding="utf-8", newline="") as fh:
            for chunk in csv_chunks(columns, rows):
                fh.write(chunk)
    else:
        with open(output, "wb") as fh:
            write_xlsx(fh, kind, columns, rows)
    click.echo(f"wrote {output}")
