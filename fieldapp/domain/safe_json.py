"""Parse request JSON that the rest of the app can store and hash without a 500.

`json.loads` accepts input that breaks later: nesting deep enough to raise RecursionError
(in the parser, or later in json.dumps or the database driver), and lone surrogates
("\\ud800") that cannot be encoded as UTF-8 when hashed or stored. Both are refused here as
invalid JSON (a 400), before any handler sees them.
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # the deepest real body (a sync batch of visits) nests 6 levels


def safe_loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads, raising json.JSONDecodeError for the inputs described above."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")  # UnicodeDecodeError: callers treat it as bad JSON
    try:
        value = json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    _check(value, text, max_depth)
    return value


def _check(value: Any, text: str, max_depth: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise json.JSONDecodeError("nested too deeply", text, 0)
            for key, child in item.items():
                _check_text(key, text)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise json.JSONDecodeError("nested too deeply", text, 0)
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item, text)


def _check_text(item: str, text: str) -> None:
    try:
        item.encode("utf-8")
    except UnicodeEncodeError:
        raise json.JSONDecodeError("lone surrogate in a string", text, 0) from None
