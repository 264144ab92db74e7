"""`fieldapp cycle create|list|settings|assign|unassign`: what the staff pages do, for operators."""
from __future__ import annotations

import click
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..models import Cycle, EvaluatorAssignment, User, Village
from ..services.assignments import assign_many
from ..services.assignments import unassign as do_unassign
from ..services.cycles import create_cycle, effective_settings
from .common import fail_on_app_error, find_county

group = click.Group("cycle", help="Assessment cycles and evaluator assignments.")


def find_cycle(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise click.ClickException(f"unknown cycle: {cycle_id}")
    return cycle


def find_village(code: str) -> Village:
    village = db.session.scalar(select(Village).where(Village.code == code))
    if village is None:
        raise click.ClickException(f"unknown village: {code}")
    return village


@group.command("create")
@click.option("--year", type=int, required=True)
@click.option("--scope", "county_ref", help="County name or code; omit for the whole city.")
@click.option("--sample-size", type=click.IntRange(1, 200), help="Households to visit (default 20).")
@click.option("--reserve-count", type=click.IntRange(0, 100), help="Reserves (default 5).")
@click.option("--include-exited/--exclude-exited", default=None,
              help="Whether 已脱贫 households are eligible (default: included).")
@fail_on_app_error
def create(year, county_ref, sample_size, reserve_count, include_exited):
    """Create a cycle for one county or for the whole city."""
    settings = {k: v for k, v in (("sample_size", sample_size), ("reserve_count", reserve_count),
                                  ("include_exited", include_exited)) if v is not None}
    county = find_county(county_ref) if county_ref else None
    cycle = create_cycle(policy.SYSTEM, year=year, county=county, settings=settings)
    click.echo(f"created cycle {cycle.id}: {cycle.year} {county.name if county else 'city-wide'}")


@group.command("list")
def list_cycles():
    """List cycles: id, year, scope, status, settings."""
    for cycle in db.session.scalars(select(Cycle).order_by(Cycle.year.desc(), Cycle.id)):
        scope = cycle.county.name if cycle.county else "city-wide"
        click.echo(f"{cycle.id}\t{cycle.year}\t{scope}\t{cycle.status}\t{effective_settings(cycle)}")


@group.command("assign")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--evaluator", "phone", required=True, help="The evaluator's phone number.")
@click.option("--village", "codes", required=True, multiple=True,
              help="Village code; give it several times for several villages (all or none).")
@fail_on_app_error
def assign(cycle_id, phone, codes):
    """Assign an evaluator to one or more villages for a cycle.

    Every village is checked first; if one is refused, none is assigned. Villages the
    evaluator already has are reported as unchanged."""
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        raise click.ClickException(f"no user with phone {phone}")
    created, unchanged = assign_many(policy.SYSTEM, find_cycle(cycle_id), user,
                                     [find_village(code) for code in codes])
    for assignment in created:
        click.echo(f"assigned {user.name} to {assignment.village.code} (assignment {assignment.id})")
    for village in unchanged:
        click.echo(f"unchanged: {user.name} already assigned to {village.code}")


@group.command("unassign")
@click.option("--cycle", "cycle_id", type=int, required=True)
@click.option("--evaluator", "phone", required=True)
@click.option("--village", "code", required=True)
@fail_on_app_error
def unassign(cycle_id, phone, code):
    """Remove an evaluator's assignment to a village."""
    assignment = db.session.scalar(
        select(EvaluatorAssignment).join(User, EvaluatorAssignment.user_id == User.id)
        .where(EvaluatorAssignment.cycle_id == cycle_id, User.phone == phone,
               EvaluatorAssignment.village_id == find_village(code).id))
    if assignment is None:
        raise click.ClickException("no such assignment")
    do_unassign(policy.SYSTEM, assignment)
    click.echo("removed")
