"""POST /api/sync takes a gzip body (Content-Encoding: gzip) within SYNC_MAX_BODY_KB once
inflated, and compresses its answer. Before issue 12 a gzip body was answered 400."""
from __future__ import annotations

import gzip
import json
import zlib

import brotli
from sqlalchemy import func, select

from fieldapp.models import ClientRecord, Visit

from .visit_helpers import a1, draw, record, tokens, visit_payload


def post(client, body: bytes, **headers):
    return client.post("/api/sync", data=body, content_type="application/json", headers=headers)


def stored(db) -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Visit)),
            db.session.scalar(select(func.count()).select_from(ClientRecord)))


def batch_of_visits(personas) -> bytes:
    draw(personas, "a")
    village = a1(personas)
    records = [record(visit_payload(t, village, n)) for n, t in enumerate(tokens(village))]
    return json.dumps({"records": records}, ensure_ascii=False).encode("utf-8")


def test_a_gzip_batch_is_stored_like_a_plain_one_and_the_answer_is_compressed(db, personas,
                                                                             login_as):
    client = login_as("evaluator_a")
    raw = batch_of_visits(personas)
    packed = gzip.compress(raw)
    assert len(packed) * 4 < len(raw)
    answer = post(client, packed, **{"Content-Encoding": "gzip", "Accept-Encoding": "br, gzip"})
    assert answer.status_code == 200, answer.data[:300]
    assert answer.headers["Content-Encoding"] == "br"
    results = json.loads(brotli.decompress(answer.data))["results"]
    assert [r["status"] for r in results] == ["stored"] * 20
    assert stored(db) == (20, 20)
    # The same batch again, plain this time: all duplicates, nothing new.
    again = post(client, raw)
    assert [r["status"] for r in again.get_json()["results"]] == ["duplicate"] * 20
    assert stored(db) == (20, 20)


def test_a_body_larger_than_the_bound_once_inflated_is_413_and_stores_nothing(app, db, personas,
                                                                             login_as):
    client = login_as("evaluator_a")
    limit = app.config["SYNC_MAX_BODY_KB"] * 1024
    raw = batch_of_visits(personas)
    # Valid JSON padded with spaces to one byte past the bound: a few KB once gzipped.
    bomb = gzip.compress(raw[:-1] + b" " * (limit + 1 - len(raw)) + raw[-1:])
    assert len(bomb) < 10_000
    answer = post(client, bomb, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 413
    body = answer.get_json()
    assert body["code"] == "payload_too_large"
    assert str(app.config["SYNC_MAX_BODY_KB"]) in body["message"] and "KB" in body["message"]
    assert stored(db) == (0, 0)
    # A plain body over the bound is refused the same way.
    plain = post(client, raw[:-1] + b" " * (limit + 1 - len(raw)) + raw[-1:])
    assert plain.status_code == 413 and stored(db) == (0, 0)
    # Exactly at the bound is fine.
    at_limit = gzip.compress(raw[:-1] + b" " * (limit - len(raw)) + raw[-1:])
    assert post(client, at_limit, **{"Content-Encoding": "gzip"}).status_code == 200
    assert stored(db) == (20, 20)


def test_a_huge_ratio_bomb_is_cut_off_without_inflating_it(app, db, personas, login_as):
    client = login_as("evaluator_a")
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b" " * (1 << 20)
    bomb = compressor.compress(b"[") + b"".join(compressor.compress(chunk) for _ in range(128))
    bomb += compressor.flush()  # 128 MB of spaces in about 130 KB
    assert len(bomb) < 200_000
    answer = post(client, bomb, **{"Content-Encoding": "gzip"})
    assert answer.status_code == 413


def test_broken_or_unknown_encodings_are_clear_4xx(db, personas, login_as):
    client = login_as("evaluator_a")
    raw = batch_of_visits(personas)
    not_gzip = post(client, raw, **{"Content-Encoding": "gzip"})
    assert not_gzip.status_code == 400 and not_gzip.get_json()["code"] == "bad_request"
    assert "gzip" in not_gzip.get_json()["message"]
    truncated = post(client, gzip.compress(raw)[:-20], **{"Content-Encoding": "gzip"})
    assert truncated.status_code == 400
    trailing = post(client, gzip.compress(raw) + b"junk", **{"Content-Encoding": "gzip"})
    assert trailing.status_code == 400
    other = post(client, brotli.compress(raw), **{"Content-Encoding": "br"})
    assert other.status_code == 415 and other.get_json()["code"] == "unsupported_media_type"
    assert stored(db) == (0, 0)


def test_the_refusal_is_in_the_users_language(app, db, personas, login_as):
    client = login_as("evaluator_a")
    answer = post(client, b"not gzip", **{"Content-Encoding": "gzip", "Accept-Language": "zh-CN"})
    assert answer.get_json()["message"] == "请求内容不是有效的 gzip 数据。"


def test_other_endpoints_do_not_inflate_bodies(db, personas, login_as):
    client = login_as("staff_a")
    answer = client.post("/api/leave", data=gzip.compress(b"{}"), content_type="application/json",
                         headers={"Content-Encoding": "gzip"})
    assert 400 <= answer.status_code < 500
