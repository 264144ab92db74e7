"""The households CSV written by the database (COPY on PostgreSQL, a raw cursor on SQLite)
gives the same bytes as the Python row generator written by csv_chunks, the reference."""
from __future__ import annotations

import csv
import io
import random

from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.models import Household, SampleEntry, Town, Village, Visit
from fieldapp.services import exports
from fieldapp.services.scoring import exports as score_exports

from .scores_helpers import add_visit, household_answers, run_draw, sample_entries

HOSTILE = ["=1+1", "+86 139", "-2", "@SUM(A1)", "＝1", "＋1", "－1", "＠x", "\t=cmd", "\rx",
           " =1", "\u3000＝1", "\u200b@x", "\ufeff-1", "\n=2", "a,b", 'say "hi"', "line1\nline2",
           "cr\r\nlf", "岐山, \"县\"", "", " ", "普通文字", "1,000", "\\.", "'quoted", "%d %%",
           "\x01=x", "\u00a0+1", "x=1", "-", "=", "\u2028@"]
FLAGS = [[], [], [{"code": "short_visit", "msgid": "m", "params": {}}],
         [{"code": "late_sync"}, {"code": "outside_fence"}, {"code": "unknown_code"}],
         [{"code": "=evil"}], [{"params": {}}]]


def _hostile_data(personas, rng: random.Random) -> None:
    run_draw(personas, "a")
    run_draw(personas, "b")
    town = db.session.scalar(select(Town).join(Village, Village.town_id == Town.id)
                             .where(Village.id == personas.villages["a1"].id))
    town.name = "=镇,\"办\""
    personas.villages["a2"].name = "-二村\n新"
    ids = ["610323199001011234", " 6103231990010112X ", "12345", "=61032319900101", None, "",
           "\u300061032319900101\u3000", "\t1234567890 ", "-23"]
    for h in db.session.scalars(select(Household)):
        h.head_name = rng.choice(HOSTILE + ["张三", "李四"]) or "王五"
        h.id_number = rng.choice(ids)
        if rng.random() < 0.3:
            h.household_no = rng.choice(["=", "-", "", ",\""]) + h.household_no
    for n, village in enumerate(personas.villages.values()):
        for entry in sample_entries(village, roles=("sample", "reserve")):
            for k in range(rng.choice([1, 1, 2])):
                answers = household_answers(rng.choice(["satisfied", "basically_satisfied",
                                                        "dissatisfied", "dont_know"]))
                answers["overall_satisfaction"] = rng.choice(["satisfied", "=not a code", "-1"])
                answers["respondent_family_members"] = rng.choice([3, -2, 0, 12, None, 2.5, -3.5,
                                                                   True, "=5", 1e20])
                answers["suggestions"] = rng.choice(HOSTILE)
                if rng.random() < 0.1:
                    del answers["policy_delivered"]
                visit = add_visit(personas, entry, answers, n=n * 10 + k)
                visit.note = rng.choice(HOSTILE + [None])
                visit.flags = rng.choice(FLAGS)
                visit.review_status = rng.choice(["pending", "approved", "rejected"])
    db.session.commit()


def _both(app, actor, cycle, county_ids) -> tuple[bytes, bytes]:
    with app.test_request_context():
        columns, table = score_exports.households_table(actor, cycle, county_ids)
        assert isinstance(table, exports.StreamedTable)
        reference = b"".join(c.encode() for c in exports.csv_chunks(columns, (r for r in table)))
        fast = b"".join(c if isinstance(c, bytes) else c.encode()
                        for c in exports.csv_chunks(columns, table))
    return reference, fast


def test_database_csv_equals_the_python_rows(personas, app):
    _hostile_data(personas, random.Random(13))
    a, b = personas.counties["a"].id, personas.counties["b"].id
    for who, counties in (("admin", [a, b]), ("staff_a", [a]), ("staff_b", [b])):
        reference, fast = _both(app, personas.users[who], personas.cycle, counties)
        rows = list(csv.reader(io.StringIO(reference.decode("utf-8-sig"))))
        assert len(rows) > 20
        assert fast == reference, who


def test_database_csv_guards_and_labels(personas, app):
    run_draw(personas, "a")
    entry = sample_entries(personas.villages["a1"])[0]
    visit = add_visit(personas, entry, household_answers(
        suggestions="\u3000＝HYPERLINK()", respondent_family_members=4))
    visit.note = 'a "note", with\nnewline'
    visit.flags = [{"code": "short_visit"}, {"code": "late_sync"}]
    db.session.commit()
    reference, fast = _both(app, personas.users["staff_a"], personas.cycle,
                            [personas.counties["a"].id])
    assert fast == reference
    header, row = list(csv.reader(io.StringIO(fast.decode("utf-8-sig"))))
    cell = dict(zip(header, row))
    assert cell["意见建议"] == "'\u3000＝HYPERLINK()"
    assert cell["质量提示"] == "走访过短、上传延迟"
    assert cell["走访记录"] == 'a "note", with\nnewline'
    assert cell["抽样身份"] == "样本户" and cell["在场家庭成员人数"] == "4"
    assert fast.endswith(b"\r\n") and b'"a ""note"", with\nnewline"' in fast


def test_sql_guard_matches_neutralise(app, db):
    """The SQL guard against the Python one, value by value, on this database."""
    from sqlalchemy import literal

    values = [v for v in HOSTILE if v] + [c + "=1" for c in sorted(exports.GUARD_FIRST) if c != "\x00"]
    dialect = db.engine.dialect.name
    with db.engine.connect() as conn:
        if dialect == "sqlite":
            exports.register_sql_guard(conn.connection.driver_connection)
        for value in values:
            got = conn.execute(select(exports.sql_guard(literal(value), dialect))).scalar()
            assert got == exports.neutralise(value), repr(value)


def test_households_csv_scope_still_enforced(personas, login_as):
    run_draw(personas, "a")
    entry = sample_entries(personas.villages["a1"])[0]
    add_visit(personas, entry, household_answers())
    db.session.commit()
    cid, a = personas.cycle.id, personas.counties["a"].id
    url = f"/api/scores/export?cycle_id={cid}&kind=households"
    assert login_as("staff_b").get(f"{url}&county_id={a}").status_code == 403
    assert login_as("secretary_a").get(url).status_code == 403
    assert login_as("evaluator_a").get(url).status_code == 403
    # Staff b's own county has no visits: the header only, none of county a's rows.
    text = login_as("staff_b").get(url).data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1
    text = login_as("staff_a").get(url).data.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 2
    assert db.session.scalar(select(SampleEntry.id).where(SampleEntry.id == entry.id))
    assert db.session.query(Visit).count() == 1



def test_words_with_percent_signs_reach_the_file_as_written(personas, app):
    """The SQL is compiled with its words inlined: a % in a label stays one %."""
    from fieldapp.services.scoring import households_csv
    from fieldapp.services.scoring.exports import _household_joins, _household_words

    run_draw(personas, "a")
    add_visit(personas, sample_entries(personas.villages["a1"])[0], household_answers())
    db.session.commit()
    with app.test_request_context():
        words = _household_words()
        words.role["sample"] = "100% 样本户 %%s"
        sql = households_csv.export_sql(db.engine, words, _household_joins, personas.cycle.id,
                                        [personas.counties["a"].id])
        body = b"".join(c if isinstance(c, bytes) else c.encode()
                        for c in households_csv.csv_body(db.engine, sql))
    row = next(csv.reader(io.StringIO(body.decode())))
    assert row[7] == "100% 样本户 %%s"
