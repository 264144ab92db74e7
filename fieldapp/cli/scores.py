"""`fieldapp scores recompute|export`: recompute every score from the stored raw answers.

`recompute --cycle ID` grades every county of the cycle again from the stored visits,
ballots, paper tallies and scorecard entries, prints the results, and compares finalised
counties with their stored results: any difference is listed and the exit status is 1.
Nothing is written (finalised scores change only through an admin with a reason).
"""
from __future__ import annotations

import math
import sys

import click

from ..extensions import db
from ..models import County, Cycle
from .common import fail_on_app_error, find_county

group = click.Group("scores", help="Mass evaluation, scorecard and grades.")

COMPARED = ("mass_status", "mass_evaluation", "household_index", "meeting_index",
            "household_satisfied_share", "meeting_satisfied_share", "n_visits",
            "required_visits", "n_ballots", "work_performance", "work_discipline",
            "work_evaluation", "total", "status", "grade", "grade_before_caps", "capped",
            "residency_cap")


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, abs_tol=1e-9)
    return a == b


def _find_cycle(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise click.ClickException(f"unknown cycle: {cycle_id}")
    return cycle


@group.command("recompute")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--county", "county_ref", help="County name or code (default: every county).")
@click.option("--quiet", is_flag=True, help="Print only differences and the summary.")
@fail_on_app_error
def recompute(cycle_id, county_ref, quiet):
    """Recompute scores from raw answers and check them against the finalised results."""
    from ..services.scorecard import _stored_rows, covered_county_ids, grade_county, lock_of

    cycle = _find_cycle(cycle_id)
    county_ids = [find_county(county_ref).id] if county_ref else covered_county_ids(cycle)
    differences = 0
    checked = 0
    for county_id in county_ids:
        county = db.session.get(County, county_id)
        live = grade_county(cycle, county_id)
        stored = _stored_rows(cycle, county_id) if lock_of(cycle.id, county_id) else None
        state = "finalised" if stored else "open (provisional)"
        click.echo(f"# {county.name} ({county.code}), cycle {cycle.id} {cycle.year}: {state}")
        stored_by_id = {r["secretary_id"]: r for r in (stored or {"rows": []})["rows"]}
        for row in live["rows"]:
            if not quiet:
                mass = "incomplete" if row["mass_evaluation"] is None else f"{row['mass_evaluation']:.2f}"
                total = "-" if row["total"] is None else f"{row['total']:.2f}"
                click.echo(f"{row['secretary_id']}\t{row['village_code']}\t{row['secretary_name']}\t"
                           f"mass={mass}\ttotal={total}\tgrade={row['grade'] or row['status']}"
                           f"{' capped' if row['capped'] else ''}")
            if stored is None:
                continue
            checked += 1
            old = stored_by_id.pop(row["secretary_id"], None)
            if old is None:
                differences += 1
                click.echo(f"DIFF {row['secretary_id']}: not in the stored results", err=True)
                continue
            for f in COMPARED:
                if not _same(old[f], row[f]):
                    differences += 1
                    click.echo(f"DIFF {row['secretary_id']} {f}: stored={old[f]!r} recomputed={row[f]!r}",
                               err=True)
        for sid in stored_by_id:
            differences += 1
            click.echo(f"DIFF {sid}: stored but no longer in the county's list", err=True)
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
    from ..services import exports
    from ..services.scorecard import covered_county_ids

    cycle = _find_cycle(cycle_id)
    county_ids = [find_county(county_ref).id] if county_ref else covered_county_ids(cycle)
    if kind == "scorecard":
        columns, rows = exports.scorecard_table(None, cycle, county_ids)
    else:
        columns, rows = exports.satisfaction_table(None, cycle, county_ids, level)
    if fmt == "csv":
        with open(output, "w", encoding="utf-8", newline="") as fh:
            for chunk in exports.csv_chunks(columns, rows):
                fh.write(chunk)
    else:
        with open(output, "wb") as fh:
            exports.write_xlsx(fh, kind, columns, rows)
    click.echo(f"wrote {output}")
