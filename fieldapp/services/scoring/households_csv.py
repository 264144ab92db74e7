"""The households export as CSV written by the database, at the speed of its own bulk export.

The same rows, in the same order and the same bytes as `csv_chunks` writes from the Python
row generator in exports.py (`households_table`), which stays the reference and the XLSX
path. Here every cell is final in SQL: labels instead of codes (样本户/备选户, review words,
flag labels joined by 、, option labels, the instrument's title), ID numbers masked as
`privacy.masked_for_export` does, empty text as NULL, and the formula guard
(`exports.sql_guard`, the rule of `exports.neutralise`).

- PostgreSQL: `COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)`, streamed block by block. COPY
  quotes exactly as Python's csv module does (a comma, a quote, CR or LF; quotes doubled);
  each CopyData message is one row (the protocol says so), ended by LF: it becomes CRLF.
- SQLite: a raw DB-API cursor, `fetchmany` into `csv.writer` (no ORM rows, no Python per
  cell). The rare cells that start with a character the guard must look at go through
  `neutralise` itself, ID numbers through `masked_for_export`.

No join or filter differs from `households_table`: the scope is the county list the
caller checked (policy.py), passed in as is.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Callable, Iterator

from sqlalchemy import String, Text, case, cast, column, func, literal, literal_column, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Engine

from ...models import County, Household, SampleEntry, Town, Village, Visit
from ...privacy import masked_for_export
from ..exports import register_sql_guard, sql_guard

ROWS_PER_CHUNK = 2000
GUARD_FN = "fieldapp_neutralise"
MASK_FN = "fieldapp_masked_for_export"
# str.strip() strips exactly the characters for which str.isspace() holds.
STRIPPED = "".join(c for c in map(chr, range(0x10000)) if c.isspace())


def _local_minute(dialect: str, column):
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM-DD HH24:MI")
    return func.strftime("%Y-%m-%d %H:%M", column, "+8 hours")


def _mapped(value, words: dict[str, str], else_=None):
    """`words.get(value, value)` in SQL."""
    if not words:
        return value
    return case(words, value=value, else_=value if else_ is None else else_)


def _masked(dialect: str, id_number):
    """privacy.masked_for_export: stripped, short values all '*', else 6 + 8 '*' + 4
    (SQLite calls it)."""
    if dialect != "postgresql":
        return getattr(func, MASK_FN)(id_number)
    t = func.btrim(id_number, STRIPPED)
    n = func.length(t)
    return case((id_number.is_(None), None), (n <= 10, func.repeat("*", n)),
                else_=func.substr(t, 1, 6) + "********" + func.substr(t, n - 3, 4))


def _flags(dialect: str, flag_words: dict[str, str]):
    """The flags' labels (a code without one as is) joined by 、, in stored order."""
    if dialect == "postgresql":
        elements = func.json_array_elements(Visit.flags).table_valued(
            "value", with_ordinality="ord").render_derived()
        code = elements.c.value.op("->>")("code")
        label = func.coalesce(_mapped(code, flag_words), "")
        agg = func.string_agg(label, aggregate_order_by(literal("、"), elements.c.ord))
        sub = select(agg).select_from(elements).scalar_subquery()
        return case((cast(Visit.flags, String) == "[]", None), else_=sub)
    elements = func.json_each(Visit.flags).table_valued("value", "key")
    code = func.json_extract(elements.c.value, "$.code")
    label = func.coalesce(_mapped(code, flag_words), "")
    sub = select(func.group_concat(label, "、")).select_from(elements).scalar_subquery()
    return case((cast(Visit.flags, String) == "[]", None), else_=sub)


def _answers(dialect: str, item_ids: list[str]):
    """Each answer as text, as `Visit.answers[id].as_string()` gives it. PostgreSQL reads
    the JSON once per visit (json_to_record) instead of once per item: the same text (a
    number keeps its written form, as with ->>)."""
    if dialect != "postgresql" or not item_ids:
        return [Visit.answers[item_id].as_string() for item_id in item_ids], None
    record = func.json_to_record(Visit.answers).table_valued(
        *[column(item_id, Text) for item_id in item_ids]).render_derived("answers", with_types=True)
    return [record.c[item_id] for item_id in item_ids], record


def _cells(dialect: str, words) -> tuple[list, Any]:
    """(name, expression) of every cell in the export's order, and the answers' record."""
    answers, record = _answers(dialect, [item_id for item_id, _l in words.items])
    instrument = (_mapped(Visit.instrument_id, words.titles) + " v"
                  + cast(Visit.instrument_version, String))
    cells = [("county", County.name), ("town", Town.name), ("code", Village.code),
             ("village", Village.name), ("household_no", Household.household_no),
             ("head", Household.head_name), ("id", _masked(dialect, Household.id_number)),
             ("role", _mapped(SampleEntry.role, words.role)),
             ("visited", _local_minute(dialect, Visit.started_at)), ("instrument", instrument),
             *[(f"a{i}", _mapped(a, words.option_labels.get(item_id, {})))
               for i, (a, (item_id, _l)) in enumerate(zip(answers, words.items))],
             ("flags", _flags(dialect, words.flag)),
             ("review", _mapped(Visit.review_status, words.review)), ("note", Visit.note)]
    return cells, record


def final_select(dialect: str, words, joins: Callable, cycle_id: int, county_ids: list[int]):
    """The export's rows with every cell final (see the module docstring)."""
    cells, record = _cells(dialect, words)
    # PostgreSQL's COPY quotes empty text (""), csv.writer does not: empty text is NULL.
    final = [func.nullif(expr, "") if dialect == "postgresql" else expr for _n, expr in cells]
    keys = (Village.county_id, Village.code, Household.household_no, Visit.id)
    inner = joins(select(*[e.label(name) for e, (name, _x) in zip(final, cells)],
                         *[k.label(f"k{i}") for i, k in enumerate(keys)]), cycle_id, county_ids)
    inner = inner.join(County, County.id == Village.county_id)
    if record is not None:
        inner = inner.join(record, true())
    # Sorted before the cells are guarded: narrower rows to sort (the outer ORDER BY then
    # costs nothing on PostgreSQL: the subquery's rows already come in that order).
    if dialect == "postgresql":
        inner = inner.order_by(*keys)
    else:  # SQLite needs a LIMIT with an OFFSET (and would sort twice)
        inner = inner.limit(literal_column("-1"))
    # A fence (OFFSET 0): the guard names each cell several times, the cell's expression
    # (JSON, subqueries) must still be computed once.
    inner = inner.offset(literal_column("0")).subquery("r")
    # The local time is digits by construction: the one cell that needs no guard.
    return (select(*[inner.c[name] if name == "visited" else sql_guard(inner.c[name], dialect, GUARD_FN)
                     for name, _e in cells])
            .order_by(*[inner.c[f"k{i}"] for i in range(len(keys))]))


_SQL_CACHE: dict[tuple, str] = {}
_SQL_CACHE_SIZE = 64


def export_sql(engine: Engine, words, joins: Callable, cycle_id: int, county_ids: list[int]) -> str:
    """The export's SQL with its values inlined (COPY takes no parameters), compiled once
    per database kind, words (the locale's), cycle and counties: compiling takes longer
    than a small county's whole export."""
    key = (engine.dialect.name, repr(words), cycle_id, tuple(county_ids))
    sql = _SQL_CACHE.get(key)
    if sql is None:
        stmt = final_select(engine.dialect.name, words, joins, cycle_id, county_ids)
        sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        if engine.dialect.paramstyle in ("format", "pyformat"):
            sql = sql.replace("%%", "%")  # the compiler doubled every % for a DB-API call
        if len(_SQL_CACHE) >= _SQL_CACHE_SIZE:
            _SQL_CACHE.pop(next(iter(_SQL_CACHE)))
        _SQL_CACHE[key] = sql
    return sql


def csv_body(engine: Engine, sql: str) -> Iterator[bytes | str]:
    """The CSV lines after the header, in chunks (flat memory however many rows)."""
    if engine.dialect.name == "postgresql":
        return _copy_lines(engine, sql)
    return _cursor_lines(engine, sql)


def _copy_lines(engine: Engine, sql: str) -> Iterator[bytes]:
    sql = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(sql) as copy:
                lines: list[Any] = []
                for block in copy:
                    lines.append(block[:-1])  # one row, without its LF
                    if len(lines) >= ROWS_PER_CHUNK:
                        yield b"\r\n".join(lines) + b"\r\n"
                        lines.clear()
                if lines:
                    yield b"\r\n".join(lines) + b"\r\n"


def _cursor_lines(engine: Engine, sql: str) -> Iterator[str]:
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        register_sql_guard(raw, GUARD_FN)
        raw.create_function(MASK_FN, 1, masked_for_export, deterministic=True)
        cur = raw.cursor()
        try:
            cur.execute(sql)
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            while batch := cur.fetchmany(ROWS_PER_CHUNK):
                writer.writerows(batch)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        finally:
            cur.close()

