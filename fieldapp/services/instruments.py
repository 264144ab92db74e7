"""The instruments in `SCHEMAS_DIR`, loaded once per process and reloaded when a file changes.

This is a cache of files, not state: every worker derives the same thing from the same
files, so keeping it in process memory is safe.
"""
from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app
from flask_babel import get_locale, gettext
from marshmallow import Schema

from ..domain.instruments import Instrument, answer_values, answers_schema, load_instruments
from ..errors import AppError

_lock = threading.Lock()
_cache: dict[str, tuple[tuple, dict[tuple[str, int], Instrument]]] = {}


def _signature(directory: Path) -> tuple:
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                        for p in directory.glob("*.json")))


def registry() -> dict[tuple[str, int], Instrument]:
    """Every instrument, keyed (id, version); reloaded when the directory's files change."""
    directory = Path(current_app.config["SCHEMAS_DIR"])
    signature = _signature(directory)
    key = str(directory.resolve())
    cached = _cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    with _lock:
        loaded = load_instruments(directory)  # InstrumentError: a deploy bug, fail loudly
        _cache[key] = (signature, loaded)
    return loaded


def all_instruments() -> list[Instrument]:
    return sorted(registry().values(), key=lambda i: i.key)


def find(instrument_id: str, version: int) -> Instrument | None:
    return registry().get((instrument_id, version))


def get_or_404(instrument_id: str, version: int) -> Instrument:
    instrument = find(instrument_id, version)
    if instrument is None:
        raise AppError("not_found")
    return instrument


def known_versions(instrument_id: str) -> list[int]:
    return sorted(v for (i, v) in registry() if i == instrument_id)


# (id(instrument), locale) -> (instrument, schema class): building the class translates
# every message, which a busy sync or ballot path would otherwise do for each record. The
# instrument is kept in the value so that its id cannot be reused while cached.
_schemas: dict[tuple[int, str], tuple[Instrument, type[Schema]]] = {}


def answers_schema_for(instrument: Instrument) -> type[Schema]:
    """The answers schema with messages in the current request's language."""
    key = (id(instrument), str(get_locale() or ""))
    found = _schemas.get(key)
    if found is None:
        if len(_schemas) > 64:
            _schemas.clear()
        found = _schemas[key] = (instrument, answers_schema(instrument, gettext))
    return found[1]


def values_for_cycle(instrument: Instrument, cycle_settings: dict | None) -> dict:
    """{item_id: {option_code: value}} after the cycle's `answer_values` overrides."""
    return answer_values(instrument, (cycle_settings or {}).get("answer_values"))
