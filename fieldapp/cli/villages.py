"""`fieldapp village list|centre`: villages and their centres (the 村委会's location)."""
from __future__ import annotations

import click
from sqlalchemy import select

from .. import policy
from ..extensions import db
from ..models import Village
from ..services.centres import set_centre as set_village_centre
from .common import fail_on_app_error, find_county

group = click.Group("village", help="Villages and their centres (check-in fences).")

SOURCE_LABELS = {"roster": "名册（村委会）", "estimated": "估计", "staff": "人工设定", None: "未设置"}


@group.command("list")
@click.option("--county", "county_ref", help="County name or code.")
@click.option("--no-centre", is_flag=True, help="Only villages without a centre.")
def list_villages(county_ref, no_centre):
    """Code, name, centre, its source and the check-in radius, tab-separated."""
    stmt = select(Village).order_by(Village.code)
    if county_ref:
        stmt = stmt.where(Village.county_id == find_county(county_ref).id)
    if no_centre:
        stmt = stmt.where(Village.lat.is_(None))
    for v in db.session.scalars(stmt):
        centre = f"{v.lat:.6f},{v.lon:.6f}" if v.lat is not None else "-"
        click.echo(f"{v.code}\t{v.name}\t{centre}\t{SOURCE_LABELS.get(v.centre_source)}"
                   f"\t{v.radius_m} m")


@group.command("centre")
@click.argument("code")
@click.option("--lat", type=float, help="Latitude of the 村委会.")
@click.option("--lon", type=float, help="Longitude of the 村委会.")
@click.option("--system", type=click.Choice(["WGS84", "GCJ02", "BD09"]), default="WGS84",
              show_default=True, help="Coordinate system of --lat/--lon (高德/腾讯: GCJ02, 百度: BD09).")
@click.option("--radius", type=int, help="Check-in radius in metres (100-20000).")
@fail_on_app_error
def set_centre(code, lat, lon, system, radius):
    """Set a village's centre and/or radius (audited); earlier check-ins are judged again."""
    village = db.session.scalar(select(Village).where(Village.code == code))
    if village is None:
        raise click.ClickException(f"unknown village code: {code}")
    if lat is None and lon is None and radius is None:
        raise click.ClickException("give --lat and --lon, or --radius")
    change = set_village_centre(policy.SYSTEM, village, lat=lat, lon=lon, radius_m=radius, system=system)
    click.echo(f"{village.code} {village.name}: {village.lat:.6f},{village.lon:.6f} "
               f"{village.radius_m} m; check-ins judged again: {change.rejudged}"
               if village.lat is not None else f"{village.code}: radius {village.radius_m} m")
