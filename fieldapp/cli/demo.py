"""`fieldapp demo [--if-empty] [--no-activity] [--print-logins]`: build the deterministic
Baoji demo."""
from __future__ import annotations

import time

import click

from ..services import demo as service


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@click.option("--no-activity", is_flag=True,
              help="Only the city: no visits, check-ins, meetings or scores in 岐山县.")
@click.option("--print-logins", is_flag=True, help="Only print the demo accounts.")
def demo(if_empty: bool, no_activity: bool, print_logins: bool):
    """Load demo data: 12 districts/counties, ~800 villages, households, 797 secretaries,
    and a year of activity in 岐山县 (visits, check-ins, meetings, scores; not finalised)."""
    if not print_logins:
        if not service.is_empty():
            if if_empty:
                click.echo("database not empty: demo data not loaded")
            else:
                raise click.ClickException("the database is not empty")
        else:
            started = time.monotonic()
            counts = service.build_demo(activity=not no_activity)
            click.echo("demo loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items())
                       + f" ({time.monotonic() - started:.0f} s)")
    click.echo("demo logins (phone / password / role):")
    for phone, password, role in service.demo_logins():
        click.echo(f"  {phone} / {password} / {role}")


group = demo
