"""Tests for fieldapp.domain.sampling (algorithm hmac-sha256-rank-v1)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import random

import pytest

from fieldapp.domain.sampling import (
    ALGORITHM,
    REPLACEMENT_REASONS,
    check_replacements,
    draw_village,
    household_key,
    next_reserve,
    to_record,
    validate_replacement_reason,
    validate_seed,
    verify_record,
)

VILLAGE = "610330102203"


def households(n: int, prefix: str = "61033010220300") -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(1, n + 1)]


# --- an independent re-implementation (written from docs/algorithms.md, imports nothing) ---


def reference_draw(seed: str, village: str, eligible: list[str], n: int = 20, r: int = 5):
    def key(h: str) -> str:
        return hmac.new(seed.encode("utf-8"), (village + "|" + h).encode("utf-8"), hashlib.sha256).hexdigest()

    order = [h for _, h in sorted((key(h), h) for h in eligible)]
    return order[:n], order[n : n + r], {h: key(h) for h in eligible}


def test_matches_independent_reimplementation_on_random_villages():
    rng = random.Random(7001)
    alphabet = "0123456789ABCDEFXYZ-_ 村组户号"
    for _ in range(300):
        village = "".join(rng.choice("0123456789") for _ in range(12))
        n_households = rng.randint(0, 60)
        eligible = list({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 18))) for _ in range(n_households)})
        seed = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        if not seed.strip():
            seed += "x"
        n, r = rng.randint(1, 25), rng.randint(0, 6)
        sample, reserves, keys = reference_draw(seed, village, eligible, n, r)
        draw = draw_village(seed, village, eligible, n, r)
        assert draw.sample == sample
        assert draw.reserves == reserves
        assert {x.household_no: x.key for x in draw.ranked} == keys
        assert draw.complete_census == (len(eligible) <= n)


def test_known_answer_vector():
    # Pins the byte layout (UTF-8, '|' separator, lowercase hex); value from
    # `printf '%s' '610330102203|6103301022030001' | openssl dgst -sha256 -hmac seed`.
    assert household_key("seed", VILLAGE, "6103301022030001") == (
        "81ce408f5e9ef2e62fb7c77d7a27251ed1e9a5c367afc08d25bc8aa89c8375ec"
    )


# The worked example of docs/algorithms.md: if this changes, the documentation is wrong.
DOC_SEED = "凤县2024年度第一书记评议 2024-11-20 县委组织部公开抽签 编号 7391"
DOC_VILLAGE = "610330102203"
DOC_HOUSEHOLDS = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008"]


def test_docs_worked_example():
    draw = draw_village(DOC_SEED, DOC_VILLAGE, DOC_HOUSEHOLDS, sample_size=4, reserve_count=2)
    assert [(x.rank, x.household_no, x.key[:12], x.role) for x in draw.ranked] == [
        (1, "0001", "2bfb2bfaca1c", "sample"),
        (2, "0006", "3a9b343ef41a", "sample"),
        (3, "0005", "657c757a27e5", "sample"),
        (4, "0003", "83f041097a11", "sample"),
        (5, "0007", "95b4d9d4be1b", "reserve"),
        (6, "0008", "bd1108567c6d", "reserve"),
        (7, "0004", "c3b9ccb66ea7", "unused"),
        (8, "0002", "dd9c6aa3013c", "unused"),
    ]
    assert draw.ranked[0].key == "2bfb2bfaca1c2e4f668f86709917b6cab4a9960b80dfe0a8132ba7d44ba94a23"


# --- shape of the draw ---------------------------------------------------------------


def test_roles_ranks_and_sizes():
    draw = draw_village("s", VILLAGE, households(30))
    assert [x.rank for x in draw.ranked] == list(range(1, 31))
    assert [x.role for x in draw.ranked] == ["sample"] * 20 + ["reserve"] * 5 + ["unused"] * 5
    assert len(draw.sample) == 20 and len(draw.reserves) == 5
    assert not set(draw.sample) & set(draw.reserves)
    assert [x.key for x in draw.ranked] == sorted(x.key for x in draw.ranked)
    assert draw.algorithm == ALGORITHM
    assert draw.eligible == sorted(households(30))
    assert not draw.complete_census


@pytest.mark.parametrize("n", [1, 5, 19, 20])
def test_small_village_is_a_census(n):
    draw = draw_village("s", VILLAGE, households(n))
    assert draw.complete_census
    assert sorted(draw.sample) == households(n)
    assert draw.reserves == []
    assert all(x.role == "sample" for x in draw.ranked)


def test_twenty_one_households_one_reserve_no_unused():
    draw = draw_village("s", VILLAGE, households(21))
    assert not draw.complete_census
    assert len(draw.sample) == 20 and len(draw.reserves) == 1
    assert [x.role for x in draw.ranked].count("unused") == 0


def test_zero_households_is_a_valid_empty_draw():
    draw = draw_village("s", VILLAGE, [])
    assert draw.sample == [] and draw.reserves == [] and draw.ranked == []
    assert draw.complete_census
    record = to_record(draw, "2024-11-20T02:00:00Z", [])
    assert verify_record(record).ok


def test_custom_sizes():
    draw = draw_village("s", VILLAGE, households(40), sample_size=10, reserve_count=0)
    assert len(draw.sample) == 10 and draw.reserves == []


@pytest.mark.parametrize("size, reserves", [(0, 5), (-1, 5), (20, -1), (True, 5), (20.0, 5)])
def test_bad_sizes(size, reserves):
    with pytest.raises(ValueError):
        draw_village("s", VILLAGE, households(5), size, reserves)


# --- determinism --------------------------------------------------------------------


def test_deterministic_and_independent_of_input_order():
    hh = households(45)
    first = draw_village("种子", VILLAGE, hh)
    rng = random.Random(3)
    for _ in range(20):
        shuffled = hh[:]
        rng.shuffle(shuffled)
        assert draw_village("种子", VILLAGE, shuffled) == first


def test_village_code_and_seed_change_the_draw():
    hh = households(45)
    base = draw_village("seed", VILLAGE, hh)
    assert draw_village("seed", "610330102204", hh).sample != base.sample
    assert draw_village("seed2", VILLAGE, hh).sample != base.sample


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", ["", "   ", "\t\n", None, 123])
def test_empty_or_non_string_seed_rejected(seed):
    assert validate_seed(seed)
    with pytest.raises(ValueError):
        draw_village(seed, VILLAGE, households(3))


def test_seed_length_limit():
    assert validate_seed("x" * 500) == []
    assert validate_seed("x" * 501) == [("seed", "The seed must be at most 500 characters.")]
    with pytest.raises(ValueError):
        draw_village("x" * 501, VILLAGE, households(3))


def test_seed_is_used_exactly_as_given():
    hh = households(45)
    assert draw_village(" seed ", VILLAGE, hh).ranked != draw_village("seed", VILLAGE, hh).ranked
    assert household_key("宝鸡", VILLAGE, "1") == hmac.new(
        "宝鸡".encode(), f"{VILLAGE}|1".encode(), hashlib.sha256
    ).hexdigest()


@pytest.mark.parametrize(
    "village, hh",
    [("6103|30", ["1", "2"]), (VILLAGE, ["1", "2|3"]), ("|", ["1"]), (VILLAGE, ["|"])],
)
def test_separator_rejected(village, hh):
    with pytest.raises(ValueError, match=r"\|"):
        draw_village("s", village, hh)


@pytest.mark.parametrize("village, hh", [("", ["1"]), (VILLAGE, [""]), (VILLAGE, [1]), (None, ["1"])])
def test_empty_or_non_string_codes_rejected(village, hh):
    with pytest.raises(ValueError):
        draw_village("s", village, hh)


def test_duplicate_households_rejected():
    with pytest.raises(ValueError, match="duplicate"):
        draw_village("s", VILLAGE, ["1", "2", "1"])


# --- statistics ---------------------------------------------------------------------
#
# p-values come from the regularized upper incomplete gamma function Q(k/2, x/2), written
# below (series for x < a+1, Lentz continued fraction otherwise; Numerical Recipes 6.2) and
# checked against closed forms for 1, 2 and 4 degrees of freedom.


def chi2_sf(x: float, df: int) -> float:
    a, z = df / 2, x / 2
    if z <= 0:
        return 1.0
    log_prefix = -z + a * math.log(z) - math.lgamma(a)
    if z < a + 1:  # series for P(a, z)
        term = total = 1 / a
        ap = a
        while abs(term) > abs(total) * 1e-15:
            ap += 1
            term *= z / ap
            total += term
        return 1 - total * math.exp(log_prefix)
    tiny = 1e-300  # continued fraction for Q(a, z)
    b = z + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return h * math.exp(log_prefix)


@pytest.mark.parametrize("x", [0.01, 0.5, 1, 3.841458820694124, 7, 20, 60])
def test_chi2_sf_against_closed_forms(x):
    assert chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-9)
    assert chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-9)
    assert chi2_sf(x, 4) == pytest.approx(math.exp(-x / 2) * (1 + x / 2), rel=1e-9)


def test_chi2_sf_against_tables():
    # Published critical values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.4).
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, abs=1e-4)
    assert chi2_sf(18.307, 10) == pytest.approx(0.05, abs=1e-4)
    assert chi2_sf(29.588, 10) == pytest.approx(0.001, abs=1e-5)
    assert chi2_sf(86.661, 50) == pytest.approx(0.001, abs=1e-5)
    assert chi2_sf(67.505, 50) == pytest.approx(0.05, abs=1e-4)


def inclusion_p_value(counts: list[int], draws: int, n_sample: int) -> float:
    """Goodness of fit of per-household inclusion counts to draws*n/N each.

    Inclusions are not multinomial: every draw includes exactly n distinct households, so
    Var(C_i) = T p (1-p) with p = n/N and Cov(C_i, C_j) = -T p (1-p)/(N-1). The Pearson sum
    X2 = sum (C_i - E)^2 / E then has mean N(1-p) = N-n, not N-1: X2 ~ (N-n)/(N-1) chi2(N-1).
    Compared with chi2(N-1) unadjusted it would be too lenient (p-values too large). We
    multiply by the finite-population factor (N-1)/(N-n) and use N-1 degrees of freedom.
    """
    big_n = len(counts)
    expected = draws * n_sample / big_n
    x2 = sum((c - expected) ** 2 for c in counts) / expected
    return chi2_sf(x2 * (big_n - 1) / (big_n - n_sample), big_n - 1)


def position_p_value(counts: list[int], draws: int) -> float:
    """One household fills a given rank per draw: counts are multinomial, plain chi2(N-1)."""
    expected = draws / len(counts)
    return chi2_sf(sum((c - expected) ** 2 for c in counts) / expected, len(counts) - 1)


DRAWS = 4000


def simulate(n_households: int, rng_seed: int, draw=None):
    rng = random.Random(rng_seed)
    hh = households(n_households, prefix="61033010220")
    index = {h: i for i, h in enumerate(hh)}
    inclusion = [0] * n_households
    reserve_inclusion = [0] * n_households
    names = ["rank1"] + [f"reserve{k}" for k in range(1, 6)]
    positions = {name: [0] * n_households for name in names}
    for _ in range(DRAWS):
        seed = f"{rng.getrandbits(64):016x}"
        sample, reserves = draw(seed, hh) if draw else _ours(seed, hh)
        for h in sample:
            inclusion[index[h]] += 1
        for h in reserves:
            reserve_inclusion[index[h]] += 1
        positions["rank1"][index[sample[0]]] += 1
        for k, h in enumerate(reserves, start=1):
            positions[f"reserve{k}"][index[h]] += 1
    return inclusion, reserve_inclusion, positions


def _ours(seed, hh):
    d = draw_village(seed, VILLAGE, hh)
    return d.sample, d.reserves


@pytest.mark.parametrize("n_households, rng_seed", [(50, 20241120), (37, 20241121)])
def test_inclusion_is_uniform(n_households, rng_seed):
    inclusion, reserve_inclusion, positions = simulate(n_households, rng_seed)
    assert sum(inclusion) == DRAWS * 20 and sum(reserve_inclusion) == DRAWS * 5
    assert inclusion_p_value(inclusion, DRAWS, 20) > 0.001
    assert inclusion_p_value(reserve_inclusion, DRAWS, 5) > 0.001
    for name, counts in positions.items():
        assert position_p_value(counts, DRAWS) > 0.001, name


def test_correction_factor_matches_simulation_of_a_true_uniform_draw():
    # Under random.sample (uniform by construction) the raw Pearson sum averages N-n, and the
    # corrected one N-1: the variance argument in inclusion_p_value holds.
    rng = random.Random(11)
    big_n, n, draws, reps = 50, 20, 500, 120
    raw = []
    for _ in range(reps):
        counts = [0] * big_n
        for _ in range(draws):
            for i in rng.sample(range(big_n), n):
                counts[i] += 1
        expected = draws * n / big_n
        raw.append(sum((c - expected) ** 2 for c in counts) / expected)
    mean_raw = sum(raw) / reps
    assert abs(mean_raw - (big_n - n)) < 3  # sd of the mean is about 0.9
    assert abs(mean_raw * (big_n - 1) / (big_n - n) - (big_n - 1)) < 5


def test_statistic_has_power_against_a_biased_draw():
    # A plausible bug: ranking on the first hex digit only, ties broken by household number,
    # favours low household numbers. The test above must catch that.
    def truncated(seed, hh):
        order = sorted(hh, key=lambda h: (household_key(seed, VILLAGE, h)[:1], h))
        return order[:20], order[20:25]

    inclusion, _, positions = simulate(50, 20241120, draw=truncated)
    assert inclusion_p_value(inclusion, DRAWS, 20) < 1e-6
    assert position_p_value(positions["rank1"], DRAWS) < 1e-6


# --- the record and its verification ------------------------------------------------


def make_record(n=30, replacements=(), **kw):
    draw = draw_village("2024-11-20 公开抽签 7391", VILLAGE, households(n), **kw)
    return draw, to_record(draw, "2024-11-20T02:00:00Z", list(replacements))


def rep(old, new, reason="moved_out", **extra):
    return {"household_no": old, "reserve_household_no": new, "reason": reason, **extra}


def test_record_shape_and_json_roundtrip():
    draw, record = make_record()
    assert set(record) == {
        "algorithm", "seed", "seed_recorded_at", "village_code", "sample_size", "reserve_count",
        "eligible", "sample", "reserves", "replacements", "keys",
    }
    assert record["eligible"] == sorted(households(30))
    assert record["keys"] == {x.household_no: x.key for x in draw.ranked}
    assert list(record["keys"]) == sorted(record["keys"])
    result = verify_record(json.loads(json.dumps(record, ensure_ascii=False)))
    assert result.ok and result.problems == [] and result.messages == []


def test_record_without_keys_still_verifies():
    draw = draw_village("s", VILLAGE, households(30))
    record = to_record(draw, "2024-11-20T02:00:00Z", [], include_keys=False)
    assert "keys" not in record
    assert verify_record(record).ok


def test_record_publishes_only_whitelisted_replacement_fields():
    draw, _ = make_record()
    r = rep(draw.sample[0], draw.reserves[0], "other", text="户主住院 (姓名)", attempts=1, recorded_at="t")
    record = to_record(draw, "t0", [r])
    assert record["replacements"] == [rep(draw.sample[0], draw.reserves[0], "other", attempts=1, recorded_at="t")]
    with pytest.raises(ValueError):
        to_record(draw, "t0", [{"household_no": "1"}])


def test_tampered_sample_detected():
    draw, record = make_record()
    unused = [x.household_no for x in draw.ranked if x.role == "unused"][0]
    record["sample"][3] = unused
    result = verify_record(record)
    assert not result.ok
    assert any("sample differs" in p for p in result.problems)


def test_reordered_sample_detected():
    _, record = make_record()
    record["sample"][0], record["sample"][1] = record["sample"][1], record["sample"][0]
    assert not verify_record(record).ok


def test_tampered_seed_detected():
    _, record = make_record()
    record["seed"] = record["seed"] + " "
    result = verify_record(record)
    assert not result.ok
    assert any("sample differs" in p for p in result.problems)
    assert any("key of" in p for p in result.problems)


def test_tampered_key_detected():
    draw, record = make_record()
    record["keys"][draw.sample[0]] = "0" * 64
    result = verify_record(record)
    assert result.problems == [f"The key of {draw.sample[0]} is wrong."]


def test_dropped_eligible_household_detected():
    draw, record = make_record()
    record["eligible"].remove(draw.sample[5])
    assert not verify_record(record).ok


def test_tampered_sizes_detected():
    _, record = make_record()
    record["sample_size"] = 19
    assert not verify_record(record).ok


def test_valid_replacement_chain():
    draw, _ = make_record()
    s, r = draw.sample, draw.reserves
    reps = [
        rep(s[0], r[0], "not_home", attempts=2),
        rep(r[0], r[1], "refused"),  # an activated reserve can itself be replaced
        rep(s[7], r[2], "deceased"),
    ]
    assert check_replacements(s, r, reps) == []
    _, record = make_record(replacements=reps)
    assert verify_record(record).ok


def test_out_of_order_replacement_detected():
    draw, _ = make_record()
    _, record = make_record(replacements=[rep(draw.sample[0], draw.reserves[1])])
    result = verify_record(record)
    assert result.messages == [
        (
            "Replacement %(k)d activates %(new)s but the next reserve in order is %(expected)s.",
            {"k": 1, "new": draw.reserves[1], "expected": draw.reserves[0]},
        )
    ]


def test_reserve_used_twice_detected():
    draw, _ = make_record()
    s, r = draw.sample, draw.reserves
    _, record = make_record(replacements=[rep(s[0], r[0]), rep(s[1], r[0])])
    result = verify_record(record)
    assert not result.ok
    assert f"Replacement 2 uses reserve {r[0]} a second time." in result.problems


def test_replacing_a_household_outside_the_sample_detected():
    draw, _ = make_record()
    unused = [x.household_no for x in draw.ranked if x.role == "unused"][0]
    for old in (unused, draw.reserves[1]):  # unused, or a reserve not activated yet
        problems = check_replacements(draw.sample, draw.reserves, [rep(old, draw.reserves[0])])
        assert [m for m, _ in problems] == [
            "Replacement %(k)d replaces %(old)s, which is neither sampled nor an activated reserve."
        ]


def test_replacing_the_same_household_twice_detected():
    draw, _ = make_record()
    s, r = draw.sample, draw.reserves
    problems = check_replacements(s, r, [rep(s[0], r[0]), rep(s[0], r[1])])
    assert [p["old"] for _, p in problems] == [s[0]]


def test_more_replacements_than_reserves_detected():
    draw, _ = make_record(n=22)  # 2 reserves
    s, r = draw.sample, draw.reserves
    problems = check_replacements(s, r, [rep(s[0], r[0]), rep(s[1], r[1]), rep(s[2], "x")])
    assert [m for m, _ in problems] == ["Replacement %(k)d: there are only %(n)d reserves."]


def test_replacement_reason_rules_in_record():
    draw, _ = make_record()
    s, r = draw.sample, draw.reserves
    for bad in (rep(s[0], r[0], "not_home", attempts=1), rep(s[0], r[0], "not_home"), rep(s[0], r[0], "bored")):
        assert len(check_replacements(s, r, [bad])) == 1
    assert check_replacements(s, r, [{"household_no": s[0]}])
    assert check_replacements(s, r, ["nonsense"])


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda r: r.pop("seed_recorded_at"), "lacks seed_recorded_at"),
        (lambda r: r.update(algorithm="sha1-v0"), "Unknown algorithm"),
        (lambda r: r.update(extra=1), "Unknown key extra"),
        (lambda r: r.update(seed=""), "seed must not be empty"),
        (lambda r: r.update(seed_recorded_at=""), "when the seed was recorded"),
        (lambda r: r.update(eligible="0001"), "cannot be recomputed"),
        (lambda r: r["eligible"].append("a|b"), "cannot be recomputed"),
        (lambda r: r.update(keys={}), "exactly the eligible"),
        (lambda r: r.update(replacements={}), "must be a list"),
    ],
)
def test_malformed_records_report_problems_without_raising(mutate, fragment):
    _, record = make_record()
    record = copy.deepcopy(record)
    mutate(record)
    result = verify_record(record)
    assert not result.ok
    assert any(fragment in p for p in result.problems), result.problems


def test_verify_non_object():
    assert not verify_record([]).ok  # type: ignore[arg-type]


# --- replacement helpers ------------------------------------------------------------


def test_next_reserve():
    assert next_reserve(["a", "b", "c"], set()) == "a"
    assert next_reserve(["a", "b", "c"], {"a"}) == "b"
    assert next_reserve(["a", "b", "c"], {"b"}) == "a"
    assert next_reserve(["a", "b"], {"a", "b"}) is None
    assert next_reserve([], set()) is None


def test_reason_codes():
    assert set(REPLACEMENT_REASONS) == {"not_home", "migrant_work", "moved_out", "deceased", "refused", "other"}


@pytest.mark.parametrize(
    "code, text, attempts, fields",
    [
        ("moved_out", None, 0, []),
        ("not_home", None, 2, []),
        ("not_home", None, 3, []),
        ("not_home", None, 1, ["attempts"]),
        ("not_home", None, 0, ["attempts"]),
        ("other", "户主长期住院", 0, []),
        ("other", None, 0, ["text"]),
        ("other", "   ", 0, ["text"]),
        ("other", "x" * 501, 0, ["text"]),
        ("unknown", None, 0, ["reason"]),
        (None, None, 0, ["reason"]),
        ("refused", None, -1, ["attempts"]),
        ("refused", None, True, ["attempts"]),
    ],
)
def test_validate_replacement_reason(code, text, attempts, fields):
    errors = validate_replacement_reason(code, text, attempts)
    assert [f for f, _ in errors] == fields
    assert all(isinstance(m, str) and m for _, m in errors)
