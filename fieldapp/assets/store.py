"""Static files by content: a hash in every URL, and br/gzip bodies made once.

`AssetDir(root)` reads a folder (pwa/ or fieldapp/static/). `get('js/app.js')` returns the
file as it is served (after an optional transform, e.g. CSS whose url() references are
rewritten to hashed names) with its SHA-256; `hashed_path` puts the first 12 hex digits in
the name (`js/app.3f2a9c01b4de.js`). A file is re-read only when its size or mtime changes,
so an edited file gets a new URL without a restart.

`Encoder` compresses a body once per content (brotli quality 11, gzip level 9), keeps the
result in memory and, with a cache folder, on disk: every worker process and every restart
of the same release reuses it. Only variants smaller than the original are kept.
"""
from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import brotli

HASH_LEN = 12
HASHED_NAME = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{%d})(?P<ext>\.[A-Za-z0-9]+)$" % HASH_LEN)
COMPRESSIBLE = {".js", ".mjs", ".css", ".html", ".json", ".webmanifest", ".svg", ".txt"}
# Files in a served folder that are never sent (tools that draw the icons, editor litter).
PRIVATE_SUFFIXES = {".py", ".pyc", ".md"}
MIMETYPES = {
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
    ".html": "text/html", ".json": "application/json", ".png": "image/png",
    ".svg": "image/svg+xml", ".webmanifest": "application/manifest+json", ".ico": "image/x-icon",
}
ENCODINGS = ("br", "gzip")

Transform = Callable[["AssetDir", str, bytes], "tuple[bytes, tuple[str, ...]]"]


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mimetype_of(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return MIMETYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def hashed_name(path: str, digest: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}.{digest[:HASH_LEN]}{ext}"


def split_hashed(path: str) -> tuple[str, str] | None:
    """'js/app.3f2a9c01b4de.js' -> ('js/app.js', '3f2a9c01b4de'); None for a plain name."""
    m = HASHED_NAME.match(path)
    return (f"{m['stem']}{m['ext']}", m["hash"]) if m else None


@dataclass(frozen=True)
class Asset:
    path: str            # relative to the folder, with '/' ('js/views/visit.js')
    data: bytes          # the body as served
    digest: str          # SHA-256 of data, hex
    mimetype: str
    deps: tuple[tuple[str, str], ...] = ()  # (path, digest) of files the transform used

    @property
    def hashed_path(self) -> str:
        return hashed_name(self.path, self.digest)

    @property
    def compressible(self) -> bool:
        return os.path.splitext(self.path)[1].lower() in COMPRESSIBLE


class AssetDir:
    """One served folder. Thread-safe; nothing is read before it is asked for."""

    def __init__(self, root: str | Path, transforms: dict[str, Transform] | None = None):
        self.root = Path(root).resolve()
        self.transforms = transforms or {}
        self._cache: dict[str, tuple[tuple[int, int], Asset]] = {}
        self._lock = threading.Lock()

    def _file(self, path: str) -> Path | None:
        if not path or path.startswith("/") or "\\" in path:
            return None
        parts = path.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return None
        if os.path.splitext(path)[1].lower() in PRIVATE_SUFFIXES:
            return None
        full = self.root.joinpath(*parts)
        return full if full.is_file() else None

    def get(self, path: str) -> Asset | None:
        full = self._file(path)
        if full is None:
            return None
        st = full.stat()
        sig = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(path)
        if cached and cached[0] == sig and self._deps_current(cached[1]):
            return cached[1]
        raw = full.read_bytes()
        transform = self.transforms.get(os.path.splitext(path)[1].lower())
        data, deps = transform(self, path, raw) if transform else (raw, ())
        dep_digests = tuple((d, a.digest) for d in deps if (a := self.get(d)) is not None)
        asset = Asset(path, data, digest_of(data), mimetype_of(path), dep_digests)
        with self._lock:
            self._cache[path] = (sig, asset)
        return asset

    def _deps_current(self, asset: Asset) -> bool:
        for dep, digest in asset.deps:
            current = self.get(dep)
            if current is None or current.digest != digest:
                return False
        return True

    def lookup(self, requested: str) -> tuple[Asset, bool] | None:
        """The asset a URL path names, and whether it was asked for by its current hash.

        A hashed name whose hash is not the current one is None: that content is gone,
        and sending other bytes under an immutable name would poison caches."""
        split = split_hashed(requested)
        if split:
            asset = self.get(split[0])
            if asset is not None and asset.digest.startswith(split[1]):
                return asset, True
        asset = self.get(requested)
        return (asset, False) if asset is not None else None

    def files(self, under: str = "") -> list[str]:
        """Every servable file below `under`, sorted, with '/' separators."""
        base = self.root / under if under else self.root
        found = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                rel = Path(dirpath, name).relative_to(self.root).as_posix()
                if self._file(rel) is not None:
                    found.append(rel)
        return sorted(found)

    def signature(self, under: str = "") -> tuple:
        """Changes whenever a file below `under` is added, removed or modified."""
        sig = []
        for rel in self.files(under):
            st = (self.root / rel).stat()
            sig.append((rel, st.st_mtime_ns, st.st_size))
        return tuple(sig)


class Encoder:
    """br and gzip bodies by content digest: computed once, kept in memory and on disk."""

    def __init__(self, cache_dir: str | Path | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._memory: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def variants(self, data: bytes, digest: str) -> dict[str, bytes]:
        """{'br': ..., 'gzip': ...}, leaving out any that would not be smaller."""
        found = self._memory.get(digest)
        if found is not None:
            return found
        found = {}
        for encoding in ENCODINGS:
            body = self._from_disk(digest, encoding)
            if body is None:
                body = _compress(data, encoding)
                self._to_disk(digest, encoding, body)
            if len(body) < len(data):
                found[encoding] = body
        with self._lock:
            self._memory[digest] = found
        return found

    def _path(self, digest: str, encoding: str) -> Path | None:
        return self.cache_dir / f"{digest}.{encoding}" if self.cache_dir else None

    def _from_disk(self, digest: str, encoding: str) -> bytes | None:
        path = self._path(digest, encoding)
        try:
            return path.read_bytes() if path else None
        except OSError:
            return None

    def _to_disk(self, digest: str, encoding: str, body: bytes) -> None:
        path = self._path(digest, encoding)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written beside and renamed: another worker never reads half a file.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only disk only costs the next process a compression


def _compress(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=11)
    # mtime=0: the same bytes in every process, so ETags and caches agree.
    return gzip.compress(data, compresslevel=9, mtime=0)
