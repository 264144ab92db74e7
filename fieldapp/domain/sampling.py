"""Household sampling, algorithm ``hmac-sha256-rank-v1`` (see docs/algorithms.md).

Each eligible household gets the key ``HMAC-SHA256(key=seed, msg=village_code|household_no)``
(UTF-8, lowercase hex). Households are sorted by (key, household_no); the first
``sample_size`` are visited, the next ``reserve_count`` replace them, in order.

Why this design: anyone holding the published record (seed + eligible list) can redo the
draw with a few lines of any language, and nobody can steer it once the eligible list is
frozen before the seed is fixed. The draw does not depend on the order of the input list.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from . import N_

ALGORITHM = "hmac-sha256-rank-v1"
SEPARATOR = "|"
MAX_SEED_LENGTH = 500
DEFAULT_SAMPLE_SIZE = 20
DEFAULT_RESERVE_COUNT = 5

Role = Literal["sample", "reserve", "unused"]
FieldError = tuple[str, str]  # (field, English msgid)


@dataclass(frozen=True)
class RankedHousehold:
    household_no: str
    key: str  # lowercase hex HMAC
    rank: int  # 1-based position after sorting
    role: Role


@dataclass(frozen=True)
class VillageDraw:
    algorithm: str
    seed: str
    village_code: str
    eligible: list[str]  # sorted by household_no (code point order), for the record
    ranked: list[RankedHousehold]
    sample: list[str]  # visiting order
    reserves: list[str]  # activation order
    complete_census: bool  # 全部入样: every eligible household is in the sample
    sample_size: int
    reserve_count: int


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    problems: list[str]  # English, already formatted: for logs, the CLI, outsiders
    messages: list[tuple[str, dict[str, Any]]]  # same problems as (msgid, params) to translate


# --- keys and validation -------------------------------------------------------------


def household_key(seed: str, village_code: str, household_no: str) -> str:
    """The rank key of one household. The seed is used exactly as given (never stripped)."""
    msg = f"{village_code}{SEPARATOR}{household_no}".encode("utf-8")
    return hmac.new(seed.encode("utf-8"), msg, hashlib.sha256).hexdigest()


def validate_seed(seed: object) -> list[FieldError]:
    if not isinstance(seed, str) or not seed.strip():
        return [("seed", N_("The seed must not be empty."))]
    if len(seed) > MAX_SEED_LENGTH:
        return [("seed", N_("The seed must be at most 500 characters."))]
    return []


def _check_code(value: object, what: str) -> None:
    # '|' separates village code and household number in the HMAC message; allowing it
    # would let ("a|b", "c") and ("a", "b|c") collide.
    if not isinstance(value, str) or value == "":
        raise ValueError(f"{what} must be a non-empty string: {value!r}")
    if SEPARATOR in value:
        raise ValueError(f"{what} must not contain {SEPARATOR!r}: {value!r}")


# --- the draw ------------------------------------------------------------------------


def draw_village(
    seed: str,
    village_code: str,
    household_nos: Sequence[str],
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    reserve_count: int = DEFAULT_RESERVE_COUNT,
) -> VillageDraw:
    """Draw one village. Raises ValueError on a bad seed, code, size or duplicate household.

    Zero eligible households is a valid (empty, census) draw: the caller decides.
    """
    errors = validate_seed(seed)
    if errors:
        raise ValueError(errors[0][1])
    _check_code(village_code, "village code")
    for no in household_nos:
        _check_code(no, "household number")
    if len(set(household_nos)) != len(household_nos):
        raise ValueError("duplicate household numbers")
    if type(sample_size) is not int or sample_size < 1:
        raise ValueError("sample_size must be an integer >= 1")
    if type(reserve_count) is not int or reserve_count < 0:
        raise ValueError("reserve_count must be an integer >= 0")

    keyed = sorted((household_key(seed, village_code, no), no) for no in household_nos)
    census = len(keyed) <= sample_size
    ranked = [
        RankedHousehold(
            household_no=no,
            key=key,
            rank=i + 1,
            role="sample" if i < sample_size else "reserve" if i < sample_size + reserve_count else "unused",
        )
        for i, (key, no) in enumerate(keyed)
    ]
    return VillageDraw(
        algorithm=ALGORITHM,
        seed=seed,
        village_code=village_code,
        eligible=sorted(household_nos),
        ranked=ranked,
        sample=[r.household_no for r in ranked if r.role == "sample"],
        reserves=[r.household_no for r in ranked if r.role == "reserve"],
        complete_census=census,
        sample_size=sample_size,
        reserve_count=reserve_count,
    )


# --- replacements --------------------------------------------------------------------

NOT_HOME_MIN_ATTEMPTS = 2
MAX_REASON_TEXT = 500

# code -> English msgid (zh_Hans translation in brackets)
REPLACEMENT_REASONS: dict[str, str] = {
    "not_home": N_("Nobody at home"),  # 无人在家 (only after 2 attempts)
    "migrant_work": N_("Away for migrant work"),  # 外出务工
    "moved_out": N_("Moved out"),  # 迁出
    "deceased": N_("Deceased"),  # 死亡
    "refused": N_("Refused the visit"),  # 拒访
    "other": N_("Other"),  # 其他 (needs a description)
}


# The public page and record say only that a household could not be visited (无法访问),
# in order: why (deceased, refused, moved out...) is personal and stays with staff.
PUBLIC_REASON = "unreachable"
PUBLIC_REPLACEMENT_FIELDS = ("household_no", "reserve_household_no", "recorded_at")


def public_replacement(rep: Mapping[str, Any]) -> dict[str, Any]:
    """A replacement as the public sees it: which household, which reserve, when."""
    return {**{f: rep[f] for f in PUBLIC_REPLACEMENT_FIELDS if f in rep}, "reason": PUBLIC_REASON}


def next_reserve(reserves: Sequence[str], used: set[str] | frozenset[str]) -> str | None:
    """The first reserve, in draw order, not used yet; None when they are exhausted."""
    return next((r for r in reserves if r not in used), None)


def validate_replacement_reason(code: object, text: str | None = None, attempts: int = 0) -> list[FieldError]:
    """Errors as (field, msgid); fields are ``reason``, ``text``, ``attempts``."""
    errors: list[FieldError] = []
    if type(attempts) is not int or attempts < 0:
        errors.append(("attempts", N_("The number of attempts must be a whole number, 0 or more.")))
    if code not in REPLACEMENT_REASONS:
        errors.append(("reason", N_("Unknown replacement reason.")))
    elif code == "not_home" and type(attempts) is int and attempts < NOT_HOME_MIN_ATTEMPTS:
        errors.append(("attempts", N_("'Nobody at home' needs at least 2 visit attempts.")))
    elif code == "other" and (text is None or not text.strip()):
        errors.append(("text", N_("Describe the reason.")))
    if text is not None and len(text) > MAX_REASON_TEXT:
        errors.append(("text", N_("The description must be at most 500 characters.")))
    return errors


# --- the public record ---------------------------------------------------------------

# Only these replacement fields are published: free text may name people or illnesses.
REPLACEMENT_RECORD_FIELDS = ("household_no", "reserve_household_no", "reason", "attempts", "recorded_at")
_REQUIRED_REPLACEMENT_FIELDS = ("household_no", "reserve_household_no", "reason")
RECORD_KEYS = frozenset(
    {"algorithm", "seed", "seed_recorded_at", "village_code", "sample_size", "reserve_count",
     "eligible", "sample", "reserves", "replacements", "keys"}
)


def to_record(
    draw: VillageDraw, seed_recorded_at: str, replacements: Sequence[Mapping[str, Any]], include_keys: bool = True
) -> dict[str, Any]:
    """The public JSON of a draw. Replacements are copied as given (in the order they
    happened), keeping only REPLACEMENT_RECORD_FIELDS; `verify_record` judges them. A
    replacement that found no reserve left (备选已用完) is listed with
    `reserve_household_no` null: the record holds every replacement."""
    reps = []
    for rep in replacements:
        missing = [f for f in _REQUIRED_REPLACEMENT_FIELDS if f not in rep]
        if missing:
            raise ValueError(f"replacement lacks {', '.join(missing)}")
        reps.append({f: rep[f] for f in REPLACEMENT_RECORD_FIELDS if f in rep})
    record: dict[str, Any] = {
        "algorithm": draw.algorithm,
        "seed": draw.seed,
        "seed_recorded_at": seed_recorded_at,
        "village_code": draw.village_code,
        "sample_size": draw.sample_size,
        "reserve_count": draw.reserve_count,
        "eligible": list(draw.eligible),
        "sample": list(draw.sample),
        "reserves": list(draw.reserves),
        "replacements": reps,
    }
    if include_keys:
        record["keys"] = {r.household_no: r.key for r in sorted(draw.ranked, key=lambda r: r.household_no)}
    return record


class _Problems:
    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def add(self, msgid: str, **params: Any) -> None:
        self.messages.append((msgid, params))

    def result(self) -> VerifyResult:
        return VerifyResult(
            ok=not self.messages,
            problems=[m % p if p else m for m, p in self.messages],
            messages=list(self.messages),
        )


def check_replacements(
    sample: Sequence[str], reserves: Sequence[str], replacements: Sequence[Mapping[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Replacement rules: each replacement activates the next unused reserve in order; a
    reserve is used once; only a sampled household or an already activated reserve can be
    replaced, once. A replacement may find no reserve (`reserve_household_no` null) only
    when every reserve is already in use: 备选已用完."""
    p = _Problems()
    replaceable = set(sample)  # households currently due for a visit
    replaced: set[str] = set()
    used = 0  # reserves activated so far
    for k, rep in enumerate(replacements, start=1):
        if (not isinstance(rep, Mapping) or "reserve_household_no" not in rep
                or any(not isinstance(rep.get(f), str) for f in ("household_no", "reason"))
                or not (rep["reserve_household_no"] is None or isinstance(rep["reserve_household_no"], str))):
            p.add(N_("Replacement %(k)d lacks household_no, reserve_household_no or reason."), k=k)
            continue
        old, new, reason = rep["household_no"], rep["reserve_household_no"], rep["reason"]
        if reason == PUBLIC_REASON:
            pass  # a public record: the reason (and its attempts) stayed with staff
        elif reason not in REPLACEMENT_REASONS:
            p.add(N_("Replacement %(k)d has an unknown reason %(reason)s."), k=k, reason=reason)
        elif reason == "not_home":
            attempts = rep.get("attempts")
            if type(attempts) is not int or attempts < NOT_HOME_MIN_ATTEMPTS:
                p.add(N_("Replacement %(k)d: 'not at home' needs at least 2 recorded attempts."), k=k)
        if old in replaced:
            p.add(N_("Replacement %(k)d replaces %(old)s, which was already replaced."), k=k, old=old)
        elif old not in replaceable:
            p.add(N_("Replacement %(k)d replaces %(old)s, which is neither sampled nor an activated reserve."),
                  k=k, old=old)
        if new is None:
            if used < len(reserves):
                p.add(N_("Replacement %(k)d says no reserve was left, but reserve %(expected)s was unused."),
                      k=k, expected=reserves[used])
        elif used >= len(reserves):
            p.add(N_("Replacement %(k)d: there are only %(n)d reserves."), k=k, n=len(reserves))
        elif new != reserves[used]:
            if new in reserves[:used]:
                p.add(N_("Replacement %(k)d uses reserve %(new)s a second time."), k=k, new=new)
            else:
                p.add(N_("Replacement %(k)d activates %(new)s but the next reserve in order is %(expected)s."),
                      k=k, new=new, expected=reserves[used])
            used += 1
        else:
            used += 1
        replaced.add(old)
        replaceable.discard(old)
        if new is not None:
            replaceable.add(new)
    return p.messages


def verify_record(record: Mapping[str, Any]) -> VerifyResult:
    """Recompute the draw from seed + eligible + sizes and compare everything published."""
    p = _Problems()
    if not isinstance(record, Mapping):
        p.add(N_("The record must be a JSON object."))
        return p.result()
    missing = sorted(RECORD_KEYS - {"keys"} - set(record))
    if missing:
        p.add(N_("The record lacks %(keys)s."), keys=", ".join(missing))
        return p.result()
    for extra in sorted(set(record) - RECORD_KEYS):
        p.add(N_("Unknown key %(key)s in the record."), key=extra)
    if record["algorithm"] != ALGORITHM:
        p.add(N_("Unknown algorithm %(algorithm)s."), algorithm=str(record["algorithm"]))
        return p.result()
    if not isinstance(record["seed_recorded_at"], str) or not record["seed_recorded_at"]:
        p.add(N_("The record does not say when the seed was recorded."))
    seed_errors = validate_seed(record["seed"])
    for _, msgid in seed_errors:
        p.add(msgid)
    if seed_errors:  # recomputing would only repeat the error
        return p.result()
    eligible = record["eligible"]
    try:
        if not isinstance(eligible, list):
            raise ValueError("eligible must be a list")
        draw = draw_village(
            record["seed"], record["village_code"], eligible, record["sample_size"], record["reserve_count"]
        )
    except ValueError as exc:
        p.add(N_("The draw cannot be recomputed: %(error)s."), error=str(exc))
        return p.result()

    if record["sample"] != draw.sample:
        p.add(N_("The sample differs from the recomputed one: %(expected)s."), expected=" ".join(draw.sample))
    if record["reserves"] != draw.reserves:
        p.add(N_("The reserves differ from the recomputed ones: %(expected)s."), expected=" ".join(draw.reserves))
    if "keys" in record:
        keys = record["keys"]
        expected = {r.household_no: r.key for r in draw.ranked}
        if not isinstance(keys, Mapping) or set(keys) != set(expected):
            p.add(N_("The keys do not list exactly the eligible households."))
        else:
            for no in sorted(no for no in expected if keys[no] != expected[no]):
                p.add(N_("The key of %(household)s is wrong."), household=no)
    replacements = record["replacements"]
    if not isinstance(replacements, list):
        p.add(N_("The replacements must be a list."))
    else:
        p.messages.extend(check_replacements(draw.sample, draw.reserves, replacements))
    return p.result()
