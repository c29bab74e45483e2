"""The database: migrations create exactly the ORM's schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import ledger_support
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from planner.ledger.db import head_revision, open_ledger
from planner.ledger.errors import LedgerError
from planner.ledger.schema import Base

db_url = ledger_support.db_url
pg_server = ledger_support.pg_server


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
