"""Many new rows of one table in one bulk write, inside the session's transaction.

PostgreSQL: `COPY table (columns) FROM STDIN` (an executemany there is one INSERT a row,
a protocol round each); SQLite: one executemany of one prepared INSERT on the DB-API cursor.
The rows are not ORM objects: nothing is added to the session, and a rollback takes them
back as usual. Neither column defaults nor type conversions are applied: give every column
the rows need, as plain values (str, int, float, None).
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Table

from ..extensions import db


def insert_rows(table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`."""
    if not rows:
        return
    conn = db.session.connection()
    columns = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    raw = conn.connection.driver_connection
    if conn.dialect.name == "sqlite":
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join('?' for _c in columns)})")
        raw.executemany(sql, [tuple(row[c] for c in columns) for row in rows])
        return
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
