"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

A month of tallies is a few hundred thousand entry rows. PostgreSQL parses and plans
every multi-row ``INSERT`` the driver builds; ``COPY ... FROM STDIN`` streams the rows
instead and is several times faster on the server. The statement names only the
table's own columns (identifiers quoted by psycopg); the values travel as data, never
as SQL text, so nothing from a tally file reaches the statement.

On SQLite the ``INSERT`` is compiled by SQLAlchemy from the table and the rows go to
the driver's ``executemany`` as tuples, each value passed through its column type's
own bind processor (the same conversion SQLAlchemy applies): the per-row parameter
bookkeeping of a Core ``execute`` was most of the insert's time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_executemany(session, table, names, rows)
    elif dialect != "postgresql" or len(rows) < _COPY_FROM:
        session.execute(table.insert(), list(rows))
    else:
        _pg_copy(session, table, names, rows)


def _sqlite_executemany(
    session: Session, table: Table, names: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    conn = session.connection()
    dialect = conn.dialect
    stmt = table.insert().compile(dialect=dialect, column_keys=names)
    order = list(stmt.positiontup or names)
    if sorted(order) != names:  # a column default the rows do not give
        session.execute(table.insert(), list(rows))
        return
    columns: list[list[Any]] = []
    for n in order:
        values = [r.get(n) for r in rows]
        proc: Callable[[Any], Any] | None = table.c[n].type.bind_processor(dialect)
        if proc is not None:
            values = [None if v is None else proc(v) for v in values]
        columns.append(values)
    params = list(zip(*columns, strict=True))
    conn.exec_driver_sql(str(stmt), params)


def _pg_copy(
    session: Session, table: Table, names: list[str], rows: Sequence[dict[str, Any]]
) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):  # the engine is built for psycopg only
        raise TypeError(f"expected a psycopg connection, found {type(raw).__name__}")
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        for r in rows:
            copy.write_row([r.get(n) for n in names])
