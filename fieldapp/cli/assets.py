"""`fieldapp assets compress`: make the br/gzip copies of every static file once, at install
(`make install` runs it; deploy/gunicorn.conf.py does the same when the server starts), so that
no visitor waits for a compression."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..assets import assets, compress_all
from ..assets.store import Encoder


@click.group("assets", help="Static files: hashed names, pre-compressed bodies.")
def group() -> None:
    pass


@group.command("compress")
@click.option("--into", type=click.Path(file_okay=False), default=None,
              help="Cache folder (default: ASSET_CACHE_DIR).")
@with_appcontext
def compress(into: str | None) -> None:
    encoder = Encoder(into) if into else None
    files, raw, packed, release = compress_all(assets(), encoder)
    click.echo(f"{files} files: {raw / 1024:.0f} KB, {packed / 1024:.0f} KB as br "
               f"(release {release}, in {(encoder or assets().encoder).cache_dir})")
