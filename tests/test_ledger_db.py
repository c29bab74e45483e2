"""The database: migrations create exactly the ORM's schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import ledger_support
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from ledger_support import read_csv_rows, write_csv_rows
from sqlalchemy import select

from planner.ledger._checks import NATURAL_COLUMNS
from planner.ledger.codes import parse_household
from planner.ledger.db import MIGRATIONS, Ledger, head_revision, open_ledger
from planner.ledger.errors import LedgerError
from planner.ledger.importer import import_entries, import_file, import_files
from planner.ledger.plans import load_plan, register_plan
from planner.ledger.records import TallyEntry, natural_key
from planner.ledger.report import month_report
from planner.ledger.schema import Base, Entry, HouseholdRow
from planner.ledger.tallyfile import read_tally_file

db_url = ledger_support.db_url
pg_server = ledger_support.pg_server
tiny_sim = ledger_support.tiny_sim


def test_migrations_match_the_models(db_url: str) -> None:
    with open_ledger(db_url) as ledger, ledger.engine.connect() as conn:
        ctx = MigrationContext.configure(conn)
        assert ctx.get_current_revision() == head_revision()
        assert compare_metadata(ctx, Base.metadata) == []
    with open_ledger(db_url):  # opening again is a no-op
        pass


@pytest.mark.parametrize(
    "url",
    [
        "mysql://somewhere/db",  # another kind of database
        "not a url",  # malformed
        "postgresql+psycopg://nobody@127.0.0.1:1/none",  # nothing listens there
    ],
)
def test_bad_urls_say_what_is_wrong(url: str) -> None:
    with pytest.raises(LedgerError, match="--db"):
        open_ledger(url)


def _migrate(ledger: Ledger, direction: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with ledger.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def _keys(ledger: Ledger) -> dict[int, tuple[str, str]]:
    """Each entry's stored key and its natural key, by id."""
    with ledger.sessions() as s:
        return {
            e.id: (e.key, natural_key(*(getattr(e, c) for c in NATURAL_COLUMNS)))
            for e in s.scalars(select(Entry))
        }


def test_natural_keys_are_not_stored_and_migrate_both_ways(
    db_url: str, planned_tiny: Path, tiny_sim: Path, tmp_path: Path
) -> None:
    """Migration 0004: an entry stores no copy of its natural key; a database from
    before (keys written out) upgrades to the same records, and a correction made
    after the upgrade still supersedes the row written before it."""
    tallies = sorted(tiny_sim.glob("*.tally.csv"), key=lambda p: (p.stat().st_size, p.name))
    last, first = tallies[0], tallies[-1]  # the least filled is imported after the upgrade
    with open_ledger(db_url) as ledger:
        register_plan(ledger, load_plan(planned_tiny))
        done = [r for _, r in import_files(ledger, tallies[1:], who="t")]
        assert {getattr(r, "status", r) for r in done} == {"recorded"}
        # a phone sends natural keys written out (a line already recorded), and its own
        line = next(e for _, e in read_tally_file(first).entries if e.stream == "sell")
        with ledger.sessions() as s:
            known = set(s.scalars(select(HouseholdRow.id)))
        hid, _ = parse_household(line.household, known)  # the tally holds card codes
        one = TallyEntry.model_validate(line._asdict() | {"household": hid})
        phone = [one.model_copy(update={"key": one.natural_key})]
        phone.append(one.model_copy(update={"key": "phone-7"}))
        r = import_entries(ledger, phone, who="driver")
        assert (r.added, r.unchanged) == (1, 1)
        report = month_report(ledger, "2026-12").to_json()
        keys = _keys(ledger)
        assert sorted({k for k, _ in keys.values()}) == ["", "phone-7"]

        _migrate(ledger, "downgrade", "0003")
        for i, (stored, natural) in _keys(ledger).items():
            assert stored == (keys[i][0] or natural)

        _migrate(ledger, "upgrade", "head")
        assert _keys(ledger) == keys
        assert month_report(ledger, "2026-12").to_json() == report
        # the last file, and a correction of the first, on the upgraded database
        assert import_file(ledger, last, who="t").status == "recorded"
        header, rows = read_csv_rows(first)
        kg = header.index("kg")
        row = next(r for r in rows if r[kg])
        row[kg] = f"{float(row[kg]) + 1:g}"
        fixed = tmp_path / first.name
        write_csv_rows(fixed, header, rows)
        again = import_file(ledger, fixed, who="clerk")
        assert (again.added, again.changed, again.removed) == (0, 1, 0)
