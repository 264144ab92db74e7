"""Survey instruments (questionnaires) as data: `schemas/<id>.v<version>.json`.

The same file drives the PWA's forms and the server's validation. This module:
- loads and checks the files (`load_instruments`, `parse_instrument`): a broken
  instrument is refused with every problem listed, never half-loaded;
- applies a cycle's answer-value overrides (`answer_values`, `check_answer_values`);
- builds the marshmallow schema that validates a visit's `answers` (`answers_schema`).

Format (docs/architecture.md, "Instruments"):
`{id, version, title: {zh, en}, option_sets: {name: [{code, label: {zh, en}, value}]},
items: [{id, type: choice|integer|text, label: {zh, en}, required, scored, options |
min/max | max_length}]}`.

marshmallow is allowed here: it is the validation boundary. Messages are English msgids
marked with `N_`; pass `gettext` to `answers_schema` to get them in a user's language.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from fieldapp.domain import N_

ITEM_TYPES = ("choice", "integer", "text")
LANGS = ("zh", "en")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_FILE_RE = re.compile(r"^(?P<id>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json$")
_ITEM_KEYS = {
    "choice": {"id", "type", "label", "required", "scored", "options"},
    "integer": {"id", "type", "label", "required", "scored", "min", "max"},
    "text": {"id", "type", "label", "required", "scored", "max_length"},
}
_INSTRUMENT_KEYS = {"id", "version", "title", "option_sets", "items"}
_OPTION_KEYS = {"code", "label", "value"}

Value = float | int | None  # an option's score (0-100), None = not scored (不了解)


class InstrumentError(ValueError):
    """An instrument file is invalid. `errors` maps a path ('items.3.options') -> [msgid]."""

    def __init__(self, errors: Mapping[str, list[str]], source: str = ""):
        self.errors = {k: list(v) for k, v in errors.items()}
        self.source = source
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())
        super().__init__(f"{source}: {detail}" if source else detail)


@dataclass(frozen=True)
class Option:
    code: str
    label: Mapping[str, str]
    value: Value


@dataclass(frozen=True)
class Item:
    id: str
    type: str
    label: Mapping[str, str]
    required: bool = False
    scored: bool = False
    options: str | None = None  # option-set name (choice)
    min: int | None = None  # integer
    max: int | None = None
    max_length: int | None = None  # text, in characters (code points)


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    title: Mapping[str, str]
    option_sets: Mapping[str, tuple[Option, ...]]
    items: tuple[Item, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)  # the JSON, as served

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def options_of(self, item: Item) -> tuple[Option, ...]:
        return self.option_sets[item.options] if item.options else ()


# --- structural validation ------------------------------------------------------------


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_value(x: object) -> bool:
    """An option value: a finite number 0..100, or None (not scored)."""
    if x is None:
        return True
    return (isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            and 0 <= x <= 100)


def _check_label(errors: dict[str, list[str]], path: str, label: object) -> None:
    if not isinstance(label, Mapping) or any(
            not isinstance(label.get(lang), str) or not label.get(lang).strip() for lang in LANGS):
        errors.setdefault(path, []).append(N_("Needs non-empty \"zh\" and \"en\" texts."))


def _unknown_keys(errors: dict[str, list[str]], path: str, data: Mapping, allowed: set[str]) -> None:
    for key in sorted(set(data) - allowed, key=str):
        errors.setdefault(f"{path}.{key}" if path else str(key), []).append(N_("Unknown field."))


_BAD_ID = N_("Must be lowercase letters, digits and _ (starting with a letter).")


def _err(e: dict[str, list[str]], path: str, msgid: str) -> None:
    e.setdefault(path, []).append(msgid)


def _check_new_id(e: dict[str, list[str]], path: str, value: object, seen: set[str],
                  duplicate: str) -> None:
    """An option code or item id: well formed and not seen before in its list."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        _err(e, path, _BAD_ID)
    elif value in seen:
        _err(e, path, duplicate)
    else:
        seen.add(value)


def _parse_option(e: dict[str, list[str]], opath: str, opt: object,
                  codes: set[str]) -> Option | None:
    if not isinstance(opt, Mapping):
        _err(e, opath, N_("Expected an object."))
        return None
    _unknown_keys(e, opath, opt, _OPTION_KEYS)
    code = opt.get("code")
    _check_new_id(e, f"{opath}.code", code, codes, N_("Duplicate option code."))
    _check_label(e, f"{opath}.label", opt.get("label"))
    if "value" not in opt or not _is_value(opt.get("value")):
        _err(e, f"{opath}.value", N_("Must be a number from 0 to 100, or null (not scored)."))
    return Option(code=code, label=opt.get("label"), value=opt.get("value"))


def _parse_option_sets(e: dict[str, list[str]], raw_sets: Mapping) -> dict[str, tuple[Option, ...]]:
    option_sets: dict[str, tuple[Option, ...]] = {}
    for name, options in raw_sets.items():
        path = f"option_sets.{name}"
        if not isinstance(name, str) or not _ID_RE.match(name):
            _err(e, path, _BAD_ID)
        if not isinstance(options, list) or not options:
            _err(e, path, N_("Needs at least one option."))
            continue
        codes: set[str] = set()
        built = [_parse_option(e, f"{path}.{j}", opt, codes) for j, opt in enumerate(options)]
        option_sets[name] = tuple(o for o in built if o is not None)
    return option_sets


def _check_item_kind(e: dict[str, list[str]], path: str, it: Mapping, kind: str,
                     raw_sets: Mapping) -> None:
    """The checks that depend on the item's type (choice, integer, text)."""
    if it.get("scored") and kind != "choice":
        _err(e, f"{path}.scored", N_("Only choice items can be scored."))
    if kind == "choice":
        set_name = it.get("options")
        if not isinstance(set_name, str) or set_name not in raw_sets:
            _err(e, f"{path}.options", N_("Unknown option set."))
    if kind == "integer":
        lo, hi = it.get("min"), it.get("max")
        for name, bound in (("min", lo), ("max", hi)):
            if bound is not None and not _is_int(bound):
                _err(e, f"{path}.{name}", N_("Must be a whole number."))
        if _is_int(lo) and _is_int(hi) and lo > hi:
            _err(e, f"{path}.max", N_("Must not be less than min."))
    if kind == "text" and "max_length" in it:
        if not _is_int(it["max_length"]) or it["max_length"] < 1:
            _err(e, f"{path}.max_length", N_("Must be a whole number, 1 or more."))


def _parse_item(e: dict[str, list[str]], path: str, it: object, seen: set[str],
                raw_sets: Mapping) -> Item | None:
    if not isinstance(it, Mapping):
        _err(e, path, N_("Expected an object."))
        return None
    item_id, kind = it.get("id"), it.get("type")
    _check_new_id(e, f"{path}.id", item_id, seen, N_("Duplicate item id."))
    if kind not in ITEM_TYPES:
        _err(e, f"{path}.type", N_("Must be choice, integer or text."))
        return None
    _unknown_keys(e, path, it, _ITEM_KEYS[kind])
    _check_label(e, f"{path}.label", it.get("label"))
    for flag in ("required", "scored"):
        if flag in it and not isinstance(it[flag], bool):
            _err(e, f"{path}.{flag}", N_("Must be true or false."))
    _check_item_kind(e, path, it, kind, raw_sets)
    return Item(id=item_id, type=kind, label=it.get("label"),
                required=bool(it.get("required", False)),
                scored=bool(it.get("scored", False)), options=it.get("options"),
                min=it.get("min"), max=it.get("max"), max_length=it.get("max_length"))


def parse_instrument(data: object, source: str = "") -> Instrument:
    """Check an instrument's structure and build it; InstrumentError lists every problem."""
    e: dict[str, list[str]] = {}
    if not isinstance(data, Mapping):
        raise InstrumentError({"_schema": [N_("Expected an object.")]}, source)
    _unknown_keys(e, "", data, _INSTRUMENT_KEYS)
    iid, version = data.get("id"), data.get("version")
    if not isinstance(iid, str) or not _ID_RE.match(iid):
        _err(e, "id", _BAD_ID)
    if not _is_int(version) or version < 1:
        _err(e, "version", N_("Must be a whole number, 1 or more."))
    _check_label(e, "title", data.get("title"))

    raw_sets = data.get("option_sets", {})
    if not isinstance(raw_sets, Mapping):
        _err(e, "option_sets", N_("Expected an object."))
        raw_sets = {}
    option_sets = _parse_option_sets(e, raw_sets)

    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        _err(e, "items", N_("Needs at least one item."))
        raw_items = []
    seen: set[str] = set()
    built = [_parse_item(e, f"items.{i}", it, seen, raw_sets) for i, it in enumerate(raw_items)]
    if e:
        raise InstrumentError(e, source)
    return Instrument(id=iid, version=version, title=data["title"], option_sets=option_sets,
                      items=tuple(it for it in built if it is not None), raw=data)


def load_instruments(directory: str | Path) -> dict[tuple[str, int], Instrument]:
    """Every `<id>.v<version>.json` in `directory`, keyed (id, version).

    The file name must agree with the id and version inside. Other files are ignored.
    One broken file refuses the whole set (InstrumentError naming the file).
    """
    found: dict[tuple[str, int], Instrument] = {}
    for path in sorted(Path(directory).glob("*.json")):
        m = _FILE_RE.match(path.name)
        if m is None:
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InstrumentError({"_schema": [N_("Not valid UTF-8 JSON.")]}, path.name) from exc
        instrument = parse_instrument(data, path.name)
        if (instrument.id, instrument.version) != (m["id"], int(m["version"])):
            raise InstrumentError(
                {"_schema": [N_("The file name must be <id>.v<version>.json of its content.")]},
                path.name)
        found[instrument.key] = instrument
    return found


# --- answer values (scores) and a cycle's overrides -----------------------------------
#
# `cycle.settings["answer_values"]` = {SET: {CODE: VALUE}} where SET is an option-set name
# ("satisfaction": every instrument with that set) or "INSTRUMENT_ID.SET" (that instrument
# only; wins over the plain name), CODE an option code of that set and VALUE a number
# 0..100 or null (not scored). Codes left out keep the instrument's value.
# Example: {"satisfaction": {"dissatisfied": 55}}.


def _override_for(instrument: Instrument, set_name: str,
                  overrides: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not overrides:
        return {}
    merged: dict[str, Any] = dict(overrides.get(set_name) or {})
    merged.update(overrides.get(f"{instrument.id}.{set_name}") or {})
    return merged


def answer_values(instrument: Instrument,
                  overrides: Mapping[str, Any] | None = None) -> dict[str, dict[str, Value]]:
    """{item_id: {option_code: value}} for the instrument's choice items, after overrides.

    Values of codes an override does not know are ignored here; `check_answer_values`
    reports them when a cycle's settings are saved.
    """
    out: dict[str, dict[str, Value]] = {}
    for item in instrument.items:
        if item.type != "choice":
            continue
        values = {o.code: o.value for o in instrument.options_of(item)}
        for code, value in _override_for(instrument, item.options or "", overrides).items():
            if code in values:
                values[code] = value
        out[item.id] = values
    return out


def check_answer_values(overrides: object,
                        instruments: Mapping[tuple[str, int], Instrument]) -> dict[str, list[str]]:
    """Errors of an `answer_values` override against the loaded instruments ({} = valid)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(overrides, Mapping):
        return {"answer_values": [N_("Expected an object.")]}
    codes_by_set: dict[str, set[str]] = {}
    for ins in instruments.values():
        for name, options in ins.option_sets.items():
            for key in (name, f"{ins.id}.{name}"):
                codes_by_set.setdefault(key, set()).update(o.code for o in options)
    for set_name, values in overrides.items():
        path = f"answer_values.{set_name}"
        if set_name not in codes_by_set:
            errors.setdefault(path, []).append(N_("Unknown option set."))
            continue
        if not isinstance(values, Mapping):
            errors.setdefault(path, []).append(N_("Expected an object."))
            continue
        for code, value in values.items():
            if code not in codes_by_set[set_name]:
                errors.setdefault(f"{path}.{code}", []).append(N_("Unknown answer option."))
            elif not _is_value(value):
                errors.setdefault(f"{path}.{code}", []).append(
                    N_("Must be a number from 0 to 100, or null (not scored)."))
    return errors


# --- the answers schema -----------------------------------------------------------------

Gettext = Callable[[str], str]

# Messages use str.format placeholders ({min}, {max}, {choices}): marshmallow fills them
# in after `gettext` has translated the template.
MSG_REQUIRED = N_("Required.")
MSG_UNKNOWN_ITEM = N_("Unknown question.")
MSG_NOT_OBJECT = N_("Expected an object of answers.")
MSG_CHOICE = N_("Choose one of: {choices}.")
MSG_NOT_TEXT = N_("Must be text.")
MSG_NOT_INTEGER = N_("Must be a whole number.")
MSG_RANGE = N_("Must be between {min} and {max}.")
MSG_MIN = N_("Must be at least {min}.")
MSG_MAX = N_("Must be at most {max}.")
MSG_TOO_LONG = N_("At most {max} characters.")


class _StrictInteger(fields.Integer):
    """An integer, not a float, a numeric string or a boolean."""

    def __init__(self, **kwargs: Any):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise self.make_error("invalid")
        return super()._validated(value)


def _not_blank(message: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if not value.strip():
            raise ValidationError(message)
    return check


def answers_schema(instrument: Instrument, gettext: Gettext | None = None) -> type[Schema]:
    """A marshmallow Schema class for `{item_id: option_code | integer | text}`.

    Unknown item ids are rejected; required items must be present and not null/blank;
    optional items may be missing or null (nulls are dropped on load).
    """
    _ = gettext or (lambda s: s)
    attrs: dict[str, Any] = {}
    for item in instrument.items:
        base: dict[str, Any] = {
            "required": item.required,
            "allow_none": not item.required,
            "error_messages": {"required": _(MSG_REQUIRED), "null": _(MSG_REQUIRED)},
        }
        validators: list[Any] = []
        if item.type == "choice":
            codes = [o.code for o in instrument.options_of(item)]
            validators.append(validate.OneOf(codes, error=_(MSG_CHOICE)))
            base["error_messages"]["invalid"] = _(MSG_NOT_TEXT)
            attrs[item.id] = fields.String(validate=validators, **base)
        elif item.type == "integer":
            if item.min is not None and item.max is not None:
                validators.append(validate.Range(item.min, item.max, error=_(MSG_RANGE)))
            elif item.min is not None:
                validators.append(validate.Range(min=item.min, error=_(MSG_MIN)))
            elif item.max is not None:
                validators.append(validate.Range(max=item.max, error=_(MSG_MAX)))
            base["error_messages"]["invalid"] = _(MSG_NOT_INTEGER)
            attrs[item.id] = _StrictInteger(validate=validators, **base)
        else:
            if item.max_length:
                validators.append(validate.Length(max=item.max_length, error=_(MSG_TOO_LONG)))
            if item.required:
                validators.append(_not_blank(_(MSG_REQUIRED)))
            base["error_messages"]["invalid"] = _(MSG_NOT_TEXT)
            attrs[item.id] = fields.String(validate=validators, **base)

    class Meta:
        unknown = RAISE

    def _drop_nulls(self: Schema, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if v is not None}

    attrs["Meta"] = Meta
    attrs["error_messages"] = {"unknown": _(MSG_UNKNOWN_ITEM), "type": _(MSG_NOT_OBJECT)}
    attrs["_drop_nulls"] = post_load(_drop_nulls)
    name = f"Answers_{instrument.id}_v{instrument.version}"
    return type(name, (Schema,), attrs)


def overall_item(instrument: Instrument) -> Item:
    """The item a paper ballot answers (the meeting's paper tallies count it): `overall`,
    else the first scored choice item."""
    item = instrument.item("overall")
    if item is None or item.type != "choice":
        item = next(i for i in instrument.items if i.type == "choice" and i.scored)
    return item
