"""Bulk inserts: COPY on PostgreSQL stores exactly what executemany stores, in the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import ledger_support
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    select,
)

from planner.ledger.bulk import insert_rows
from planner.ledger.db import Ledger, open_ledger

db_url = ledger_support.db_url
pg_server = ledger_support.pg_server

_meta = MetaData()
_probe = Table(
    "bulk_probe",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("note", String(500)),
    Column("day", Date),
    Column("flag", Boolean),
    Column("grams", BigInteger),
)


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    with open_ledger(db_url) as opened:
        _meta.create_all(opened.engine)
        yield opened


def _rows(notes: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "note": note,
            "day": dt.date(2026, 12, 1) + dt.timedelta(days=i % 31),
            "flag": None if i % 3 == 0 else i % 2 == 0,
            "grams": None if i % 5 == 0 else i * 1_000_003,
        }
        for i, note in enumerate(notes)
    ]


def _stored(ledger: Ledger) -> list[dict[str, Any]]:
    with ledger.sessions() as s:
        return [dict(r._mapping) for r in s.execute(select(_probe).order_by(_probe.c.id))]


# Text a driver may type: tabs, newlines, backslashes and quotes are COPY's own
# delimiters and escapes, so they are what would break a careless COPY.
_awkward = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab盐洗衣粉\t\n\r\\\"',;|N \u3000")), max_size=30),
    st.just("\\N"),
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(notes=st.lists(_awkward, min_size=250, max_size=260))
def test_rows_come_back_exactly_as_given(ledger: Ledger, notes: list[str]) -> None:
    rows = _rows(notes)
    with ledger.begin() as s:
        s.execute(_probe.delete())
        insert_rows(s, _probe, rows)
    assert _stored(ledger) == rows


def test_a_rolled_back_transaction_leaves_no_rows(ledger: Ledger) -> None:
    rows = _rows([f"row {i}" for i in range(400)])
    with pytest.raises(RuntimeError, match="stop"), ledger.begin() as s:
        insert_rows(s, _probe, rows)
        raise RuntimeError("stop")
    assert _stored(ledger) == []


def test_an_unknown_column_is_refused_before_anything_is_written(ledger: Ledger) -> None:
    rows = [r | {"colour": "red"} for r in _rows([f"row {i}" for i in range(300)])]
    with pytest.raises(Exception, match="colour"), ledger.begin() as s:
        insert_rows(s, _probe, rows)
    assert _stored(ledger) == []
