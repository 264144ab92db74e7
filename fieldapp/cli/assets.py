"""`fieldapp assets compress`: make the br/gzip copies of every static file once, at install,
so that no visitor waits for a compression (`make install` runs it)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..assets import assets
from ..assets.store import Encoder, digest_of


@click.group("assets", help="Static files: hashed names, pre-compressed bodies.")
def group() -> None:
    pass


@group.command("compress")
@click.option("--into", type=click.Path(file_okay=False), default=None,
              help="Cache folder (default: ASSET_CACHE_DIR).")
@with_appcontext
def compress(into: str | None) -> None:
    registry = assets()
    encoder = Encoder(into) if into else registry.encoder
    site = registry.pwa()
    build = site.build()
    bodies = [(a.data, a.digest) for folder in (site.files, registry.staff)
              for a in map(folder.get, folder.files()) if a is not None and a.compressible]
    bodies += [(text.encode("utf-8"), None) for text in
               (build.index_html, build.service_worker, build.manifest)]
    raw = packed = 0
    for data, digest in bodies:
        variants = encoder.variants(data, digest or digest_of(data))
        raw += len(data)
        packed += len(variants.get("br", data))
    click.echo(f"{len(bodies)} files: {raw / 1024:.0f} KB, {packed / 1024:.0f} KB as br "
               f"(release {build.digest}, in {encoder.cache_dir})")
