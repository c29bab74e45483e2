"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

A month of tallies is a few hundred thousand entry rows. PostgreSQL parses and plans
every multi-row ``INSERT`` the driver builds; ``COPY ... FROM STDIN`` streams the rows
instead and is several times faster on the server. The statement names only the
table's own columns (identifiers quoted by psycopg); the values travel as data, never
as SQL text, so nothing from a tally file reaches the statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Table
from sqlalchemy.orm import Session

# Below this many rows COPY's set-up costs more than it saves.
_COPY_FROM = 200


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table`` in ``session``'s transaction.

    Columns a row does not name get NULL (the tables' defaults are all server-free), the
    same as SQLAlchemy's executemany gives.
    """
    if not rows:
        return
    names = sorted({k for r in rows for k in r})
    unknown = [n for n in names if n not in table.c]
    if unknown:
        raise ValueError(f"{table.name}: no column {', '.join(unknown)}")
    if session.get_bind().dialect.name != "postgresql" or len(rows) < _COPY_FROM:
        session.execute(table.insert(), list(rows))
        return
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):  # the engine is built for psycopg only
        raise TypeError(f"expected a psycopg connection, found {type(raw).__name__}")
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for r in rows:
            copy.write_row([r.get(n) for n in names])
