"""`fieldapp cycle ...` and `fieldapp sample ...`, and the end-to-end check: a stored draw,
exported by the CLI, re-derives with an independent implementation of docs/algorithms.md."""
from __future__ import annotations

import json

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import Cycle, Draw, EvaluatorAssignment, Household

from .sampling_support import SEED, entries, replacement_record, sync


def _invoke(runner, *args):
    result = runner.invoke(args=list(args), catch_exceptions=False)
    return result


def test_cycle_create_and_draw_from_the_command_line(runner, personas):
    result = _invoke(runner, "cycle", "create", "--year", "2027", "--scope", "岐山县",
                     "--reserve-count", "3")
    assert result.exit_code == 0, result.output
    cycle = db.session.scalar(select(Cycle).where(Cycle.year == 2027))
    assert cycle.county_id == personas.counties["a"].id and cycle.setting("reserve_count") == 3

    result = _invoke(runner, "sample", "draw", "--cycle", str(cycle.id), "--county", "610323",
                     "--seed", SEED)
    assert result.exit_code == 0, result.output
    draw = db.session.scalar(select(Draw).where(Draw.cycle_id == cycle.id))
    assert draw.seed == SEED and draw.created_by_id is None and f"/draw/{draw.public_token}" in result.output
    assert len(entries(draw.id, personas.villages["a1"].id, "reserve")) == 3

    again = _invoke(runner, "sample", "draw", "--cycle", str(cycle.id), "--county", "岐山县",
                    "--seed", "other")
    assert again.exit_code == 1 and "locked" in again.output
    outside = _invoke(runner, "sample", "draw", "--cycle", str(cycle.id), "--county", "眉县",
                      "--seed", "other")
    assert outside.exit_code == 1


def test_draw_needs_county_or_whole_city(runner, personas):
    result = _invoke(runner, "sample", "draw", "--cycle", str(personas.cycle.id), "--seed", "x")
    assert result.exit_code != 0
    result = _invoke(runner, "sample", "draw", "--cycle", str(personas.cycle.id), "--whole-city",
                     "--seed", "x")
    assert result.exit_code == 0, result.output
    assert len(db.session.scalars(select(Draw)).all()) == 2


def _independent_check(record: dict) -> None:
    """docs/algorithms.md, re-implemented here with the standard library only."""
    import hashlib
    import hmac

    seed, village = record["seed"], record["village_code"]

    def key(no: str) -> str:
        return hmac.new(seed.encode("utf-8"), (village + "|" + no).encode("utf-8"),
                        hashlib.sha256).hexdigest()

    ranked = [no for _k, no in sorted((key(no), no) for no in record["eligible"])]
    n, r = record["sample_size"], record["reserve_count"]
    assert record["sample"] == ranked[:n]
    assert record["reserves"] == ranked[n:n + r]
    assert record["keys"] == {no: key(no) for no in record["eligible"]}
    assert record["eligible"] == sorted(record["eligible"])
    for k, rep in enumerate(record["replacements"]):
        assert rep["reserve_household_no"] == record["reserves"][k]


def test_export_of_a_stored_draw_rederives_independently(runner, login_as, personas, tmp_path):
    result = _invoke(runner, "sample", "draw", "--cycle", str(personas.cycle.id), "--county", "岐山县",
                     "--seed", SEED)
    assert result.exit_code == 0, result.output
    draw = db.session.scalar(select(Draw))
    a1 = personas.villages["a1"]
    sample = entries(draw.id, a1.id, "sample")
    sync(login_as("evaluator_a"), replacement_record(sample[2].token, "deceased"),
         replacement_record(sample[7].token, "not_home", attempts=3))

    exported = _invoke(runner, "sample", "export", "--cycle", str(personas.cycle.id),
                       "--village", a1.code)
    assert exported.exit_code == 0, exported.output
    record = json.loads(exported.output)
    assert {"algorithm", "seed", "seed_recorded_at", "village_code", "eligible", "sample",
            "reserves", "replacements"} <= set(record)
    assert record["algorithm"] == "hmac-sha256-rank-v1" and record["seed"] == SEED
    assert record["village_code"] == a1.code and len(record["eligible"]) == 30
    eligible_db = sorted(db.session.scalars(select(Household.household_no).where(Household.village_id == a1.id)))
    assert record["eligible"] == eligible_db
    assert [r["household_no"] for r in record["replacements"]] == [sample[2].household_no,
                                                                  sample[7].household_no]
    assert "head_name" not in exported.output and "户主" not in exported.output
    _independent_check(record)

    path = tmp_path / "record.json"
    path.write_text(exported.output, encoding="utf-8")
    ok = _invoke(runner, "sample", "verify", str(path))
    assert ok.exit_code == 0 and ok.output.startswith("OK")

    record["sample"][0], record["sample"][1] = record["sample"][1], record["sample"][0]
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    bad = _invoke(runner, "sample", "verify", str(path))
    assert bad.exit_code == 1 and "sample differs" in bad.output


def test_void_from_the_command_line(runner, personas):
    _invoke(runner, "sample", "draw", "--cycle", str(personas.cycle.id), "--county", "眉县", "--seed", "s")
    draw = db.session.scalar(select(Draw))
    no_reason = _invoke(runner, "sample", "void", "--draw", str(draw.id), "--reason", "  ", "--yes")
    assert no_reason.exit_code == 1
    ok = _invoke(runner, "sample", "void", "--draw", str(draw.id), "--reason", "名单有误", "--yes")
    assert ok.exit_code == 0, ok.output
    db.session.expire_all()
    assert db.session.get(Draw, draw.id).status == "voided"
    # Export of the voided draw is still possible by id; the active one is gone.
    code = personas.villages["b1"].code
    assert _invoke(runner, "sample", "export", "--cycle", str(personas.cycle.id), "--village", code).exit_code == 1
    assert _invoke(runner, "sample", "export", "--cycle", str(personas.cycle.id), "--village", code,
                   "--draw", str(draw.id)).exit_code == 0
    listing = _invoke(runner, "sample", "list")
    assert "voided" in listing.output


def test_assign_from_the_command_line(runner, personas):
    result = _invoke(runner, "cycle", "assign", "--cycle", str(personas.cycle.id),
                     "--evaluator", personas.users["evaluator_a"].phone,
                     "--village", personas.villages["a2"].code)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(EvaluatorAssignment).where(
        EvaluatorAssignment.village_id == personas.villages["a2"].id)) is not None
    wrong = _invoke(runner, "cycle", "assign", "--cycle", str(personas.cycle.id),
                    "--evaluator", personas.users["evaluator_b"].phone,
                    "--village", personas.villages["a2"].code)
    assert wrong.exit_code == 1
    assert "2026" in _invoke(runner, "cycle", "list").output


def test_assign_several_villages_from_the_command_line(runner, personas):
    ev, a1, a2 = personas.users["evaluator_a"], personas.villages["a1"], personas.villages["a2"]
    count = lambda: len(db.session.scalars(select(EvaluatorAssignment)).all())  # noqa: E731
    before = count()
    # One village of another county: nothing is assigned.
    mixed = _invoke(runner, "cycle", "assign", "--cycle", str(personas.cycle.id), "--evaluator",
                    ev.phone, "--village", a2.code, "--village", personas.villages["b2"].code)
    assert mixed.exit_code == 1 and personas.villages["b2"].code in mixed.output
    assert count() == before
    result = _invoke(runner, "cycle", "assign", "--cycle", str(personas.cycle.id), "--evaluator",
                     ev.phone, "--village", a1.code, "--village", a2.code)
    assert result.exit_code == 0, result.output
    assert f"assigned {ev.name} to {a2.code}" in result.output
    assert f"unchanged: {ev.name} already assigned to {a1.code}" in result.output
    assert count() == before + 1


def test_readme_snippet_verifies_a_cli_export(runner, login_as, personas, tmp_path):
    """The README's standard-library check, run as an outsider would, on a CLI export."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The household draw (`hmac-sha256-rank-v1`)", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(snippet.strip().splitlines()) <= 12  # "a few lines"
    script = tmp_path / "check.py"
    script.write_text(snippet, encoding="utf-8")

    _invoke(runner, "sample", "draw", "--cycle", str(personas.cycle.id), "--county", "岐山县",
            "--seed", SEED)
    draw = db.session.scalar(select(Draw))
    a1 = personas.villages["a1"]
    sample = entries(draw.id, a1.id, "sample")
    sync(login_as("evaluator_a"), replacement_record(sample[4].token, "refused"))
    exported = _invoke(runner, "sample", "export", "--cycle", str(personas.cycle.id), "--village", a1.code)
    record_path = tmp_path / "record.json"
    record_path.write_text(exported.output, encoding="utf-8")

    def check(path: Path) -> str:
        return subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True,
                              check=True).stdout.strip()

    assert check(record_path) == "OK"
    record = json.loads(exported.output)
    record["reserves"] = record["reserves"][::-1]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    assert check(tampered) == "MISMATCH"
