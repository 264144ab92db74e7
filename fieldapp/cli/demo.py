"""`fieldapp demo [--if-empty] [--print-logins]`: build the deterministic Baoji demo."""
from __future__ import annotations

import click

@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@click.option("--print-logins", is_flag=True, help="Only print the demo accounts.")
def demo(if_empty: bool, print_logins: bool):
    """Load demo data: 12 districts/counties, ~800 villages, households, 797 secretaries."""
    from ..services import demo as service

    if not print_logins:
        if not service.is_empty():
            if if_empty:
                click.echo("database not empty: demo data not loaded")
            else:
                raise click.ClickException("the database is not empty")
        else:
            counts = service.build_demo()
            click.echo("demo loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    click.echo("demo logins (phone / password / role):")
    for phone, password, role in service.demo_logins():
        click.echo(f"  {phone} / {password} / {role}")


group = demo
