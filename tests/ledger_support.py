"""Fixtures for the ledger's tests: a real SQLite file and a real PostgreSQL server.

PostgreSQL comes from ``$PLANNER_TEST_PG_URL`` (``.ci/run`` starts a throw-away
cluster and sets it); otherwise, where Debian's server binaries exist, a cluster is
started here the same way (temp folder, unprivileged owner, 127.0.0.1 only) and
stopped at the end. Without either, the PostgreSQL cases skip and say why. Every
test gets its own fresh database.
"""

from __future__ import annotations

import csv
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ENV = "PLANNER_TEST_PG_URL"
_SKIP = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_cluster() -> tuple[str, Path, list[str], str] | str:
    """(url, folder, command prefix, pg_ctl) of a new cluster, or why there is none."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        return f"no PostgreSQL server: ${PG_ENV} unset and no initdb under /usr/lib/postgresql"
    bin_dir = Path(bins[-1]).parent
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="planner-test-pg-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser: cannot start PostgreSQL unprivileged"
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    port = _free_port()
    data = folder / "data"
    try:
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "log"),
                "-w",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {folder}",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.SubprocessError, OSError, LookupError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return f"could not start a PostgreSQL cluster: {exc}"
    return (
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        folder,
        prefix,
        str(bin_dir / "pg_ctl"),
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (skips without one)."""
    url = os.environ.get(PG_ENV)
    if url:
        yield url
        return
    got = _start_cluster()
    if isinstance(got, str):
        pytest.skip(got)
    url, folder, prefix, pg_ctl = got
    try:
        yield url
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(folder / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_pg_database(server_url: str) -> str:
    """Create an empty database on the server; its URL."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    u = make_url(server_url)
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    conninfo = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return u.set(database=name).render_as_string(hide_password=False)


def pg_database_for(request: pytest.FixtureRequest) -> str:
    """A fresh database on the test server, dropped when ``request``'s test ends."""
    url = fresh_pg_database(request.getfixturevalue("pg_server"))
    request.addfinalizer(lambda: drop_pg_database(url))
    return url


def drop_pg_database(url: str) -> None:
    """Drop a database :func:`fresh_pg_database` made (connections to it are ended)."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conninfo = u.set(drivername="postgresql", database="postgres")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(str(u.database))
            )
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger database URL: an SQLite file, then a PostgreSQL database
    (dropped after the test: a server given by URL keeps running)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        return
    yield pg_database_for(request)


@pytest.fixture(scope="session")
def tiny_sim(planned_tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SYNTHETIC filled tallies and closes for the tiny plan (seed 2, with faults)."""
    from planner.ledger.plans import load_plan
    from planner.ledger.simulate import simulate_month, write_simulation

    out = tmp_path_factory.mktemp("tiny-sim")
    write_simulation(simulate_month(load_plan(planned_tiny), seed=2), out)
    return out


def table_counts(url: str) -> dict[str, int]:
    """Rows per ledger table (the whole database's state, for before/after checks)."""
    from sqlalchemy import func, select

    from planner.ledger.db import open_ledger
    from planner.ledger.schema import Base

    with open_ledger(url) as ledger, ledger.sessions() as s:
        return {
            name: int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for name, t in sorted(Base.metadata.tables.items())
        }


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """A tally CSV's header and rows (BOM accepted), for tests that edit files."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_csv_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write ``header`` and ``rows`` back as a UTF-8 CSV (an edited tally file)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
