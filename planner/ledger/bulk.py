"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

A month of tallies is a few hundred thousand entry rows. PostgreSQL parses and plans
every multi-row ``INSERT`` the driver builds; ``COPY ... FROM STDIN`` streams the rows
instead and is several times faster on the server, in binary form (no number or date
text to format here and parse there). The statement names only the
table's own columns (identifiers quoted by psycopg); the values travel as data, never
as SQL text, so nothing from a tally file reaches the statement.

On SQLite the ``INSERT`` is compiled by SQLAlchemy from the table and the rows go to
the driver's ``executemany`` as tuples, each value passed through its column type's
own bind processor (the same conversion SQLAlchemy applies): the per-row parameter
bookkeeping of a Core ``execute`` was most of the insert's time. The statement is
compiled once per table and set of columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import BigInteger, Boolean, Date, DateTime, Dialect, Integer, String, Table
from sqlalchemy.orm import Session

# Below this many rows COPY's set-up costs more than it saves (psycopg sends an
# executemany as one statement per row).
_COPY_FROM = 4


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts keyed by column name) into ``table`` in ``session``'s transaction.

    Columns a row does not name get NULL (the tables' defaults are all server-free), the
    same as SQLAlchemy's executemany gives.
    """
    if not rows:
        return
    names = sorted({k for r in rows for k in r})
    insert_tuples(session, table, names, [tuple(r.get(n) for n in names) for r in rows])


def insert_tuples(
    session: Session,
    table: Table,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (values in the order of the column ``names``) into ``table``.

    ``same`` gives columns whose value is the same in every row (an import's id).
    The importer builds its entries as tuples: a dict per row, and reading it back
    per column, cost more than the insert itself.
    """
    if not rows:
        return
    same = same or {}
    every = [*names, *same]
    unknown = [n for n in every if n not in table.c]
    if unknown:
        raise ValueError(f"{table.name}: no column {', '.join(unknown)}")
    if len(set(every)) != len(every):
        raise ValueError(f"{table.name}: a column named twice in {every}")
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_executemany(session, table, list(names), rows, same)
        return
    tail = tuple(same.values())
    if dialect != "postgresql" or len(rows) < _COPY_FROM:
        session.execute(table.insert(), [dict(zip(every, r + tail, strict=True)) for r in rows])
    else:
        _pg_copy(session, table, every, rows, tail)


def _sqlite_executemany(
    session: Session,
    table: Table,
    names: list[str],
    rows: Sequence[tuple[Any, ...]],
    same: Mapping[str, Any],
) -> None:
    conn = session.connection()
    every = (*names, *same)
    compiled = _sqlite_insert(table, every, conn.dialect)
    if compiled is None:  # a column default the rows do not give
        tail = tuple(same.values())
        session.execute(table.insert(), [dict(zip(every, r + tail, strict=True)) for r in rows])
        return
    text, order, procs = compiled
    given: dict[str, Sequence[Any]] = dict(zip(names, zip(*rows, strict=True), strict=True))
    given |= {n: [v] * len(rows) for n, v in same.items()}
    columns: list[Sequence[Any]] = []
    for n, proc in zip(order, procs, strict=True):
        values = given[n]
        columns.append(values if proc is None else _converted(values, proc))
    conn.exec_driver_sql(text, list(zip(*columns, strict=True)))


_Compiled = tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]
_SQLITE_INSERTS: dict[tuple[str, tuple[str, ...]], _Compiled | None] = {}


def _sqlite_insert(table: Table, every: tuple[str, ...], dialect: Dialect) -> _Compiled | None:
    """The ``INSERT`` for these columns: its text, its parameters' order and each one's
    bind processor (the dialect's own: SQLite's DATE writes ISO text); compiled once."""
    key = (table.name, every)
    if key not in _SQLITE_INSERTS:
        stmt = table.insert().compile(dialect=dialect, column_keys=list(every))
        order = tuple(stmt.positiontup or every)
        if sorted(order) != sorted(every):
            _SQLITE_INSERTS[key] = None
        else:
            procs = tuple(
                table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in order
            )
            _SQLITE_INSERTS[key] = (str(stmt), order, procs)
    return _SQLITE_INSERTS[key]


def _converted(values: Sequence[Any], proc: Callable[[Any], Any]) -> list[Any]:
    """``values`` through a bind processor (None stays None)."""
    try:
        # a column's values repeat (dates, flags): convert each distinct one once
        done = {v: None if v is None else proc(v) for v in set(values)}
    except TypeError:  # unhashable values (JSON)
        return [None if v is None else proc(v) for v in values]
    return list(map(done.__getitem__, values))


def _pg_copy(
    session: Session,
    table: Table,
    names: list[str],
    rows: Sequence[tuple[Any, ...]],
    tail: tuple[Any, ...],
) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    raw = session.connection().connection.dbapi_connection
    if not isinstance(raw, psycopg.Connection):  # the engine is built for psycopg only
        raise TypeError(f"expected a psycopg connection, found {type(raw).__name__}")
    with raw.cursor() as cur, cur.copy(stmt) as copy:
        copy.set_types([_pg_type(table.c[n].type) for n in names])
        write = copy.write_row
        for r in rows:
            write(r + tail)


# Binary COPY sends each value in its column type's own binary form: the type the
# column has (BigInteger before Integer, which it subclasses).
_PG_BINARY = (
    (BigInteger, "int8"),
    (Integer, "int4"),
    (Boolean, "bool"),
    (DateTime, "timestamp"),
    (Date, "date"),
    (String, "text"),
)


def _pg_type(t: Any) -> str:
    """The PostgreSQL type name binary COPY writes a column's values as."""
    for kind, name in _PG_BINARY:
        if isinstance(t, kind):
            return name
    raise TypeError(f"no binary COPY type for {t!r}")
