"""Open the ledger database: SQLite by default, PostgreSQL by URL; migrated to head.

``open_ledger(url)`` returns a :class:`Ledger` holding the engine and a session
factory. The schema is created and upgraded by Alembic (``migrations/``) on open;
two processes opening a new database at once are serialised (SQLite: ``BEGIN
IMMEDIATE``; PostgreSQL: an advisory lock).

SQLite runs in WAL mode with ``synchronous=NORMAL`` and foreign keys on; every
transaction begins ``IMMEDIATE`` so that writers queue instead of failing half-way.
In WAL mode NORMAL skips the fsync at each commit but keeps every transaction
atomic: a killed process (``kill -9``) leaves the database as of its last commit;
only an operating-system crash or a power cut may lose the latest commits (whole,
never half of one), which an import then records again (imports are idempotent).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from planner.ledger.errors import LedgerError
from planner.ledger.url import DEFAULT_URL as DEFAULT_URL
from planner.ledger.url import ENV_URL as ENV_URL

MIGRATIONS = Path(__file__).parent / "migrations"
# SQLite writers wait this long for another writer before giving up.
BUSY_TIMEOUT_S = 60


def default_url() -> str:
    """``$PLANNER_DB`` or ``sqlite:///ledger.sqlite``."""
    return os.environ.get(ENV_URL) or DEFAULT_URL


@dataclass(frozen=True)
class Ledger:
    """An open ledger: ``engine`` and ``sessions`` (a session factory).

    ``memo`` keeps what this process read from the ledger for reuse, each entry
    checked by its user against the database before use (the importer's plan
    reference: against the registered plans).
    """

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in one transaction: committed at the end, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_ledger(url: str | None = None, *, migrate: bool = True) -> Ledger:
    """Open (and create or upgrade) the ledger at ``url``.

    Parameters
    ----------
    url
        An SQLAlchemy URL: ``sqlite:///path.sqlite`` or
        ``postgresql+psycopg://user@host:port/db``; default :func:`default_url`.
    migrate
        Run the Alembic migrations to head (the default).

    Raises
    ------
    LedgerError
        The URL is malformed, names another kind of database, or cannot be reached.
    """
    url = url or default_url()
    engine = _engine(url)
    try:
        if migrate:
            upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise LedgerError(f"--db {_safe(url)}: cannot open the database ({reason})") from None
    return Ledger(url, engine, sessionmaker(engine, expire_on_commit=False))


def open_reader(url: str) -> Ledger:
    """A second, read-only view of an open ledger (for a worker process; no migration).

    On SQLite its sessions take no write lock: each statement reads the latest commit
    (WAL lets it read while the importer writes). A reader must check that what it
    read was one state (the importer's read-ahead compares the plans' version).
    """
    engine = _engine(url, writer=False)
    return Ledger(url, engine, sessionmaker(engine, expire_on_commit=False))


def _engine(url: str, *, writer: bool = True) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LedgerError(
            f"--db: expected a database URL such as {DEFAULT_URL} or "
            f"postgresql+psycopg://user@host/db, found {url!r}"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        db = parsed.database or ""
        if db and db != ":memory:" and not Path(db).parent.exists():
            raise LedgerError(f"--db {url}: the folder {Path(db).parent} does not exist")
        engine = create_engine(
            parsed, connect_args={"timeout": BUSY_TIMEOUT_S, "isolation_level": None}
        )
        event.listen(engine, "connect", _sqlite_connect)
        if writer:
            event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # JIT compilation costs more than it saves on the ledger's short aggregates.
        return create_engine(parsed, pool_pre_ping=True, connect_args={"options": "-c jit=off"})
    raise LedgerError(
        f"--db: expected a sqlite:/// or postgresql+psycopg:// URL, found {_safe(url)}"
    )


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}",
    ):
        cur.execute(pragma)
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # pysqlite's own BEGIN is deferred; writers would then fail on upgrade to a lock.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine) -> None:
    """Run the Alembic migrations on ``engine`` up to head."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    return head or ""


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)
