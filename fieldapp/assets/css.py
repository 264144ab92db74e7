"""CSS as served: each relative url() that names a file of the same folder gets its hashed
name, so a stylesheet's own hash changes when an image it uses changes."""
from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import AssetDir

_URL = re.compile(r"""url\(\s*(?P<q>['"]?)(?P<ref>[^'")\s]+)(?P=q)\s*\)""")
_EXTERNAL = ("data:", "#", "/", "http:", "https:")


def hash_css_urls(folder: "AssetDir", path: str, raw: bytes) -> tuple[bytes, tuple[str, ...]]:
    text = raw.decode("utf-8")
    here = posixpath.dirname(path) or "."
    deps: list[str] = []

    def replace(m: re.Match) -> str:
        ref = m["ref"]
        if ref.startswith(_EXTERNAL) or "?" in ref or "#" in ref:
            return m.group(0)
        target = posixpath.normpath(posixpath.join(here, ref))
        asset = folder.get(target)
        if asset is None:
            return m.group(0)
        deps.append(target)
        return f"url({m['q']}{posixpath.relpath(asset.hashed_path, here)}{m['q']})"

    return _URL.sub(replace, text).encode("utf-8"), tuple(dict.fromkeys(deps))
