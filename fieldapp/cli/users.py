"""`fieldapp user create|list`."""
from __future__ import annotations

import click
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..models import ROLES, FirstSecretary, User
from ..services.accounts import create_secretary_accounts, create_user
from .common import fail_on_app_error, find_county

group = click.Group("user", help="Manage user accounts.")


@group.command("create")
@click.option("--phone", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES),
              required=True)
@click.option("--county", "county_ref",
              help="County name or 6-digit code (county_staff, evaluator); a code of the "
                   "install's city is added from the official codes if needed.")
@click.option("--secretary-phone", help="The FirstSecretary's phone (role secretary).")
@click.password_option("--password", help="At least 8 characters.")
@fail_on_app_error
def create(phone, name, role, county_ref, secretary_phone, password):
    """Create an account (trusted operator: any role, any county)."""
    county = find_county(county_ref, create=True) if county_ref else None
    secretary = None
    if secretary_phone:
        secretary = db.session.scalar(select(FirstSecretary).where(
            FirstSecretary.phone == secretary_phone).order_by(FirstSecretary.term_start.desc()))
        if secretary is None:
            raise click.ClickException(f"no first secretary with phone {secretary_phone}")
    user = create_user(policy.SYSTEM, phone=phone, name=name, password=password, role=role,
                       county=county, secretary=secretary)
    click.echo(f"created user {user.id} {user.phone} ({user.role})")


@group.command("create-secretaries")
@click.option("--county", "county_ref", required=True, help="County name or code.")
def create_secretaries(county_ref):
    """Accounts for the county's first secretaries that have none; prints initial passwords."""
    created = create_secretary_accounts(policy.SYSTEM, find_county(county_ref))
    for user, password in created:
        click.echo(f"{user.phone}\t{password}\t{user.name}")
    click.echo(f"{len(created)} accounts created", err=True)


@group.command("list")
@click.option("--county", "county_ref")
def list_users(county_ref):
    stmt = select(User).order_by(User.id)
    if county_ref:
        stmt = stmt.where(User.county_id == find_county(county_ref).id)
    for user in db.session.scalars(stmt):
        county = user.county.name if user.county else "-"
        click.echo(f"{user.id}\t{user.phone}\t{user.role}\t{county}\t{user.name}")


