"""`fieldapp sample draw|list|export|verify|void`: run, publish and check household draws.

`verify` needs no database: it recomputes a published record (docs/algorithms.md).
"""
from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select

from .. import policy
from ..domain.sampling import verify_record
from ..errors import AppError
from ..extensions import db
from ..models import Draw, Village, VillageDraw
from ..services.draws import (ensure_voidable, find_village_draw, iso_z, run_draw,
                              run_village_draw, stored_record_problems, village_record,
                              void_consequences, void_draw, void_village_draw)
from .common import fail_on_app_error, find_county
from .cycles import find_cycle

group = click.Group("sample", help="Household draws: run, export, verify, void.")


@group.command("draw")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--county", "county_ref", help="County name or code.")
@click.option("--village", "village_code",
              help="One village with no active draw in the cycle (e.g. added after its "
                   "county's draw): its own seed, time and public record.")
@click.option("--whole-city", is_flag=True, help="Every county of a city-wide cycle, one seed.")
@click.option("--seed", required=True,
              help="The public seed, exactly as published (not trimmed). Quote it.")
@fail_on_app_error
def draw(cycle_id, county_ref, village_code, whole_city, seed):
    """Record the seed now and draw the county's villages, or one village (refused if
    already drawn)."""
    if sum(map(bool, (county_ref, village_code, whole_city))) != 1:
        raise click.UsageError("give exactly one of --county, --village or --whole-city")
    if village_code:
        village = db.session.scalar(select(Village).where(Village.code == village_code))
        if village is None:
            raise click.ClickException(f"unknown village code: {village_code}")
        d = run_village_draw(policy.SYSTEM, find_cycle(cycle_id), village, seed)
        click.echo(f"draw {d.id}: {village.name} {village.code}, seed recorded at "
                   f"{iso_z(d.seed_recorded_at)}, public page /draw/{d.public_token}")
        return
    county = find_county(county_ref) if county_ref else None
    for d in run_draw(policy.SYSTEM, find_cycle(cycle_id), county, seed):
        villages = len(d.villages)
        click.echo(f"draw {d.id}: {d.county.name}, {villages} villages, seed recorded at "
                   f"{iso_z(d.seed_recorded_at)}, public page /draw/{d.public_token}")


@group.command("list")
@click.option("--cycle", "cycle_id", type=int)
def list_draws(cycle_id):
    """List draws: id, cycle, county, status, seed_recorded_at, seed."""
    stmt = select(Draw).order_by(Draw.id)
    if cycle_id is not None:
        stmt = stmt.where(Draw.cycle_id == cycle_id)
    for d in db.session.scalars(stmt):
        click.echo(f"{d.id}\t{d.cycle_id}\t{d.county.name}\t{d.status}\t"
                   f"{iso_z(d.seed_recorded_at)}\t{d.seed}")


@group.command("export")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--village", "code", required=True, help="Village code.")
@click.option("--draw", "draw_id", type=int, help="A specific (e.g. voided) draw; default: the active one.")
@click.option("--no-keys", is_flag=True, help="Leave out the per-household keys.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
def export(cycle_id, code, draw_id, no_keys, output):
    """Print a village's draw record as JSON (what `sample verify` checks)."""
    try:
        vd = find_village_draw(cycle_id, code, draw_id)
    except AppError:
        raise click.ClickException(f"no {'such' if draw_id else 'active'} draw of village "
                                   f"{code} in cycle {cycle_id}") from None
    record = village_record(vd, include_keys=not no_keys)
    output.write(json.dumps(record, ensure_ascii=False, indent=2) + "\n")


@group.command("verify")
@click.argument("file", type=click.File("r", encoding="utf-8"))
def verify(file):
    """Recompute a draw record (JSON file, or - for stdin) and say whether it matches."""

    try:
        record = json.load(file)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"not JSON: {exc}") from exc
    result = verify_record(record)
    stored = stored_record_problems(record) if isinstance(record, dict) else None
    problems = list(result.problems) + list(stored or [])
    if not problems:
        click.echo(f"OK: village {record['village_code']}: the sample, reserves, keys and "
                   f"replacements match seed and eligible list ({len(record['eligible'])} households)"
                   + ("; every replacement stored in this database is in the record." if stored is not None
                      else "; (this draw is not in this database: checked offline only)."))
        return
    click.echo("MISMATCH:", err=True)
    for problem in problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)



@group.command("void")
@click.option("--draw", "draw_id", type=int, required=True)
@click.option("--village", "village_code",
              help="Void only this village's draw: other villages keep theirs.")
@click.option("--reason", required=True, help="Why (recorded in the audit log, published).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@fail_on_app_error
def void(draw_id, village_code, reason, yes):
    """Void a draw, or one village of it (operator = admin). It stays visible; the next
    draw needs a new seed. Asks first, naming the visits that stop counting."""
    d = db.session.get(Draw, draw_id)
    if d is None:
        raise click.ClickException(f"unknown draw: {draw_id}")
    if village_code:
        vd = db.session.scalar(select(VillageDraw).where(VillageDraw.draw_id == d.id,
                                                         VillageDraw.village_code == village_code))
        if vd is None:
            raise click.ClickException(f"village {village_code} is not in draw {draw_id}")
        targets = [vd]
    else:
        targets = [vd for vd in d.villages if vd.status == "active"]
    ensure_voidable(d, targets[0] if village_code else None)
    visits = sum(void_consequences(vd)["visits"] for vd in targets)
    if not yes:
        click.confirm(f"Void {len(targets)} village draw(s) of draw {draw_id}? {visits} visit(s) "
                      "stop counting.", abort=True)
    if village_code:
        void_village_draw(policy.SYSTEM, targets[0], reason)
        click.echo(f"village {village_code} of draw {draw_id} voided ({visits} visits set aside)")
    else:
        void_draw(policy.SYSTEM, d, reason)
        click.echo(f"draw {draw_id} voided ({visits} visits set aside)")
