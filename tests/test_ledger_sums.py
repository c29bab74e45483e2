"""The per-stop sums the importer keeps are always the sums of the active entries.

On SQLite and PostgreSQL: after imports, corrected re-imports (changed and removed
rows), records sent by the web view and a rejected file, ``stop_sums`` and
``stop_households`` equal a ``GROUP BY`` over the active entries; a ledger made
before the sums existed gets them on upgrade. And the importer's fast reading of a
number cell agrees with the general one on any text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ledger_support
import pytest
from alembic import command
from alembic.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_support import read_csv_rows, write_csv_rows
from sqlalchemy import select

from planner.ledger.db import MIGRATIONS, Ledger, open_ledger
from planner.ledger.errors import LedgerError
from planner.ledger.importer import import_entries, import_file
from planner.ledger.plans import load_plan, register_plan
from planner.ledger.records import TallyEntry
from planner.ledger.report import month_report
from planner.ledger.schema import StopHouseholds, StopSum
from planner.ledger.sums import SUM_COLUMNS, households_query, sums_query
from planner.ledger.tallyfile import _convert, _row_values, read_tally_file

db_url = ledger_support.db_url
pg_server = ledger_support.pg_server
tiny_sim = ledger_support.tiny_sim


def _kept(ledger: Ledger) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with ledger.sessions() as s:
        sums = s.execute(select(*[getattr(StopSum, c) for c in SUM_COLUMNS])).all()
        hh = s.execute(
            select(
                StopHouseholds.run_id,
                StopHouseholds.point_id,
                StopHouseholds.month,
                StopHouseholds.households,
            )
        ).all()
    return sorted(map(tuple, sums)), sorted(map(tuple, hh))


def _from_entries(ledger: Ledger) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with ledger.sessions() as s:
        sums = s.execute(sums_query()).all()
        hh = s.execute(households_query()).all()
    norm = [(*r[:6], *(None if x is None else int(x) for x in r[6:])) for r in sums]
    return sorted(norm), sorted((*r[:3], int(r[3])) for r in hh)


# One correction of a tally file: scale a row's kg, drop a row, or send the file's
# records again through the web view's door with one kg changed.
_edit = st.tuples(
    st.sampled_from(["scale", "drop", "web"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(_edit, min_size=1, max_size=4))
def test_the_sums_stay_the_sums_of_the_active_entries(
    db_url: str,
    planned_tiny: Path,
    tiny_sim: Path,
    tmp_path_factory: pytest.TempPathFactory,
    edits: list[tuple[str, int, int]],
) -> None:
    work = tmp_path_factory.mktemp("edits")
    tallies = sorted(tiny_sim.glob("*.tally.csv"))
    with open_ledger(db_url) as ledger:
        register_plan(ledger, load_plan(planned_tiny))
        for p in sorted(tiny_sim.glob("*.csv")):
            import_file(ledger, p, who="t")
        assert _kept(ledger) == _from_entries(ledger)
        for n, (what, f, r) in enumerate(edits):
            path = tallies[f % len(tallies)]
            header, rows = read_csv_rows(path)
            if not rows:
                continue
            col = {c: i for i, c in enumerate(header)}
            row = rows[r % len(rows)]
            if what == "drop":
                rows.remove(row)
            elif row[col["kg"]]:
                row[col["kg"]] = f"{float(row[col['kg']]) * 0.5:.1f}"
                row[col["cash_cny"]] = ""
            fixed = work / f"{n}-{path.name}"
            write_csv_rows(fixed, header, rows)
            if what == "web":
                lines = [e for _, e in read_tally_file(fixed).entries]
                entries = [TallyEntry.model_validate(e._asdict()) for e in lines]
                import_entries(ledger, entries, source=f"web {n}", who="t")
            else:
                import_file(ledger, fixed, who="t")
            assert _kept(ledger) == _from_entries(ledger)


def test_a_rejected_file_leaves_the_sums_as_they_were(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    with open_ledger(db_url) as ledger:
        register_plan(ledger, load_plan(planned_tiny))
        for p in sorted(tiny_sim.glob("*.csv")):
            import_file(ledger, p, who="t")
        before = _kept(ledger)
        path = max(tiny_sim.glob("*.tally.csv"), key=lambda p: p.stat().st_size)
        header, rows = read_csv_rows(path)
        col = {c: i for i, c in enumerate(header)}
        for row in rows[:-1]:
            if row[col["kg"]]:
                row[col["kg"]] = "0.1"
                row[col["cash_cny"]] = ""
        rows[-1][col["household"]] = "H999999"  # nobody: the whole file is refused
        bad = tmp_path / "bad.tally.csv"
        write_csv_rows(bad, header, rows)
        with pytest.raises(LedgerError):
            import_file(ledger, bad, who="t")
        assert _kept(ledger) == before == _from_entries(ledger)


def test_a_ledger_from_before_the_sums_gets_them_on_upgrade(
    db_url: str, planned_tiny: Path, tiny_sim: Path
) -> None:
    with open_ledger(db_url) as ledger:
        register_plan(ledger, load_plan(planned_tiny))
        for p in sorted(tiny_sim.glob("*.csv")):
            import_file(ledger, p, who="t")
        report = month_report(ledger, "2026-12").to_json()
        kept = _kept(ledger)
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with ledger.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")  # the first schema: no sums tables
    with open_ledger(db_url) as ledger:  # upgraded to head on open
        assert kept and _kept(ledger) == kept == _from_entries(ledger)
        assert month_report(ledger, "2026-12").to_json() == report


_cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet=st.sampled_from(list("0123456789.-+eE_ nainf\t\u3000,x")), max_size=12),
)


@given(text=_cell, col=st.sampled_from(["kg", "items", "price_cny_kg", "cash_cny"]))
def test_the_fast_number_cell_reads_as_the_general_one(text: str, col: str) -> None:
    from planner.ledger.tallyfile import ParsedFile

    parsed = ParsedFile("f.csv", "")
    got = _row_values(parsed, "f.csv", 2, [text], [(col, 0, "number")])
    if not text or text.isspace():
        assert got == {} and not parsed.problems
        return
    ok, val, expected = _convert(col, text)
    if ok:
        assert got == ({col: val} if val is not None else {}) and not parsed.problems
    else:
        assert got is None
        assert [(p.column, p.expected) for p in parsed.problems] == [(col, expected)]
