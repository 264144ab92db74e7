"""fieldapp.domain.instruments: loading, structural checks, answer values, answers schema."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from marshmallow import ValidationError

from fieldapp.domain.instruments import (InstrumentError, answer_values, answers_schema,
                                         check_answer_values, load_instruments, parse_instrument)

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.fixture(scope="module")
def shipped():
    return load_instruments(SCHEMAS)


@pytest.fixture
def visit_raw():
    return json.loads((SCHEMAS / "household_visit.v1.json").read_text(encoding="utf-8"))


VALID = {"visited_home": "satisfied", "assistance_satisfaction": "basically_satisfied",
         "policy_delivered": "dissatisfied", "income_improved": "unknown",
         "overall_satisfaction": "satisfied"}


def test_shipped_instruments_load(shipped):
    assert ("household_visit", 1) in shipped and ("democratic_ballot", 1) in shipped
    ins = shipped[("household_visit", 1)]
    assert ins.title["zh"] == "贫困户入户走访问卷"
    assert [o.code for o in ins.option_sets["satisfaction"]] == [
        "satisfied", "basically_satisfied", "dissatisfied", "unknown"]
    assert ins.item("overall_satisfaction").required is True
    assert ins.raw["id"] == "household_visit"  # served to the PWA as is


def test_old_versions_stay_loadable(tmp_path, visit_raw):
    (tmp_path / "household_visit.v1.json").write_text(json.dumps(visit_raw), encoding="utf-8")
    v2 = copy.deepcopy(visit_raw)
    v2["version"] = 2
    v2["items"].append({"id": "new_item", "type": "text", "label": {"zh": "新", "en": "New"}})
    (tmp_path / "household_visit.v2.json").write_text(json.dumps(v2), encoding="utf-8")
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")  # not an instrument name
    found = load_instruments(tmp_path)
    assert set(found) == {("household_visit", 1), ("household_visit", 2)}


def test_file_name_must_match_content(tmp_path, visit_raw):
    (tmp_path / "household_visit.v3.json").write_text(json.dumps(visit_raw), encoding="utf-8")
    with pytest.raises(InstrumentError) as exc:
        load_instruments(tmp_path)
    assert exc.value.source == "household_visit.v3.json"


def test_broken_json_names_the_file(tmp_path):
    (tmp_path / "x.v1.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(InstrumentError, match="x.v1.json"):
        load_instruments(tmp_path)


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d["items"][0].update(options="nope"), "items.0.options"),
    (lambda d: d["items"][1].update(id="visited_home"), "items.1.id"),
    (lambda d: d["option_sets"]["satisfaction"][0].update(value=101), "option_sets.satisfaction.0.value"),
    (lambda d: d["option_sets"]["satisfaction"][0].update(value="100"), "option_sets.satisfaction.0.value"),
    (lambda d: d["option_sets"]["satisfaction"][1].update(code="satisfied"), "option_sets.satisfaction.1.code"),
    (lambda d: d["items"][0].update(type="slider"), "items.0.type"),
    (lambda d: d["items"][5].update(min=10, max=2), "items.5.max"),
    (lambda d: d["items"][6].update(max_length=0), "items.6.max_length"),
    (lambda d: d["items"][6].update(scored=True), "items.6.scored"),
    (lambda d: d["items"][0].update(requird=True), "items.0.requird"),
    (lambda d: d["items"][0].update(label={"zh": "只有中文"}), "items.0.label"),
    (lambda d: d.update(version=0), "version"),
    (lambda d: d.update(items=[]), "items"),
])
def test_structural_errors_are_clear(visit_raw, mutate, path):
    mutate(visit_raw)
    with pytest.raises(InstrumentError) as exc:
        parse_instrument(visit_raw, "household_visit.v1.json")
    assert path in exc.value.errors, exc.value.errors


def test_every_problem_is_listed_at_once(visit_raw):
    visit_raw["items"][0]["options"] = "nope"
    visit_raw["items"][1]["id"] = "visited_home"
    with pytest.raises(InstrumentError) as exc:
        parse_instrument(visit_raw)
    assert {"items.0.options", "items.1.id"} <= set(exc.value.errors)


def test_answer_values_defaults_and_overrides(shipped):
    ins = shipped[("household_visit", 1)]
    base = answer_values(ins)
    assert base["overall_satisfaction"] == {"satisfied": 100, "basically_satisfied": 75,
                                            "dissatisfied": 0, "unknown": None}
    assert "respondent_family_members" not in base  # only choice items have values
    over = answer_values(ins, {"satisfaction": {"dissatisfied": 55}})
    assert over["visited_home"]["dissatisfied"] == 55
    assert over["visited_home"]["satisfied"] == 100
    # An instrument-qualified set wins over the plain name; other instruments are untouched.
    both = {"satisfaction": {"dissatisfied": 55}, "household_visit.satisfaction": {"dissatisfied": 60}}
    assert answer_values(ins, both)["visited_home"]["dissatisfied"] == 60
    ballot = shipped[("democratic_ballot", 1)]
    assert answer_values(ballot, {"satisfaction": {"dissatisfied": 55}})["overall"]["dissatisfied"] == 0
    # The file itself is never changed by an override.
    assert ins.option_sets["satisfaction"][2].value == 0


def test_check_answer_values(shipped):
    assert check_answer_values({"satisfaction": {"dissatisfied": 55, "unknown": None}}, shipped) == {}
    assert check_answer_values({"democratic_ballot.satisfaction3": {"dissatisfied": 10}}, shipped) == {}
    errors = check_answer_values({"satisfactoin": {"dissatisfied": 55},
                                  "satisfaction": {"meh": 50, "satisfied": 120}}, shipped)
    assert set(errors) == {"answer_values.satisfactoin", "answer_values.satisfaction.meh",
                           "answer_values.satisfaction.satisfied"}
    assert check_answer_values([1], shipped) == {"answer_values": ["Expected an object."]}


def test_answers_schema_accepts_valid_answers(shipped):
    schema = answers_schema(shipped[("household_visit", 1)])()
    assert schema.load(VALID) == VALID
    full = {**VALID, "respondent_family_members": 3, "suggestions": "希望多来村里"}
    assert schema.load(full) == full
    # Optional items may be null: dropped from the stored answers.
    assert schema.load({**VALID, "suggestions": None}) == VALID


def test_answers_schema_rejects(shipped):
    schema = answers_schema(shipped[("household_visit", 1)])()
    bad = {**VALID, "visited_home": "very_happy", "respondent_family_members": 31,
           "suggestions": "字" * 501, "made_up": "x"}
    del bad["overall_satisfaction"]
    with pytest.raises(ValidationError) as exc:
        schema.load(bad)
    errors = exc.value.messages
    assert errors["visited_home"] == [
        "Choose one of: satisfied, basically_satisfied, dissatisfied, unknown."]
    assert errors["overall_satisfaction"] == ["Required."]
    assert errors["respondent_family_members"] == ["Must be between 1 and 30."]
    assert errors["suggestions"] == ["At most 500 characters."]
    assert errors["made_up"] == ["Unknown question."]


@pytest.mark.parametrize("value", [2.5, "3", True, None])
def test_integer_items_are_strict(shipped, value):
    schema = answers_schema(shipped[("household_visit", 1)])()
    if value is None:
        assert schema.load({**VALID, "respondent_family_members": None}) == VALID
        return
    with pytest.raises(ValidationError) as exc:
        schema.load({**VALID, "respondent_family_members": value})
    assert exc.value.messages == {"respondent_family_members": ["Must be a whole number."]}


def test_required_items_may_not_be_null_or_blank(visit_raw):
    visit_raw["items"][6]["required"] = True
    schema = answers_schema(parse_instrument(visit_raw))()
    with pytest.raises(ValidationError) as exc:
        schema.load({**VALID, "visited_home": None, "suggestions": "   "})
    assert exc.value.messages == {"visited_home": ["Required."], "suggestions": ["Required."]}


def test_answers_schema_translates_before_formatting(shipped):
    zh = {"Must be between {min} and {max}.": "必须在 {min} 到 {max} 之间。",
          "Unknown question.": "未知的题目。"}
    schema = answers_schema(shipped[("household_visit", 1)], lambda s: zh.get(s, s))()
    with pytest.raises(ValidationError) as exc:
        schema.load({**VALID, "respondent_family_members": 0, "x": 1})
    assert exc.value.messages == {"respondent_family_members": ["必须在 1 到 30 之间。"],
                                  "x": ["未知的题目。"]}


def test_answers_must_be_an_object(shipped):
    with pytest.raises(ValidationError) as exc:
        answers_schema(shipped[("household_visit", 1)])().load(["satisfied"])
    assert exc.value.messages == {"_schema": ["Expected an object of answers."]}
