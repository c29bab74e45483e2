"""Sweeps on a LocalCluster of 2 worker processes on 127.0.0.1: the same plans as
``planner run``, a killed worker's task retried with the same result, reruns skipped.

Small regions and a 1 s limit: the solver stops on its work budget long before its
wall-clock cap (3x the limit), so results do not depend on the machine's load.
"""

from __future__ import annotations

import csv
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.dist._run import Cluster
from planner.dist._sweep import prepare_sweep, run_sweep

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")
runner = CliRunner()
LIMIT = 1.0
GRID = ["visits.default=2,3,9", "fleet.per_depot=1,2"]


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> Path:
    from planner.synth import generate_region, synthetic_params

    folder = tmp_path_factory.mktemp("region")
    params = synthetic_params(
        points=16, households=240, townships=2, area_km2=500, trucks=2, seed=4
    )
    return generate_region(params, folder / "data", folder / "base.toml").scenario_path


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as lc, distributed.Client(lc, set_as_default=False) as client:  # fmt: skip
        yield lc, client


@pytest.fixture(scope="module")
def swept(region, cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    sweep = prepare_sweep(region, GRID, out, time_limit=LIMIT)
    results, files = run_sweep(sweep, Cluster(scheduler=cluster[0].scheduler_address))
    return sweep, results, files


def test_bad_cells_are_reported_and_the_others_planned(swept):
    _, results, files = swept
    assert [f.name for f in files] == ["sweep.csv", "sweep.xlsx", "sweep.png"]
    rows = list(csv.DictReader(files[0].read_text(encoding="utf-8").splitlines()))
    assert [(r["visits.default"], r["fleet.per_depot"], r["status"]) for r in rows] == [
        ("2", "1", "ok"), ("2", "2", "ok"), ("3", "1", "ok"), ("3", "2", "ok"),
        ("9", "1", "invalid"), ("9", "2", "invalid"),
    ]  # fmt: skip
    assert "visits.default" in rows[4]["note"] and "found 9" in rows[4]["note"]
    assert {r["trucks"] for r in rows[:4]} == {"2", "4"}
    assert all(float(r["on_time_pct"]) >= 0 and r["cost_cny"] for r in rows[:4])
    assert len(results) == 4 and all(r.ok and not r.skipped for r in results)
    # Both workers took part.
    assert len({r.worker for r in results}) == 2


def test_each_cell_is_byte_identical_to_planner_run(swept, tmp_path):
    sweep, _, _ = swept
    for cell in sweep.cells[:4:3]:  # c001 and c004: both visit counts and fleets
        out = tmp_path / cell.variant.cell_id
        res = runner.invoke(
            app, ["run", str(cell.scenario), "-o", str(out), "--time-limit", str(LIMIT),
                  "--no-export", "-q"],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        assert (out / "plan.json").read_bytes() == (cell.folder / "plan.json").read_bytes()


def test_rerun_skips_finished_cells(swept, cluster):
    sweep, before, _ = swept
    again, _ = run_sweep(sweep, Cluster(scheduler=cluster[0].scheduler_address))
    assert all(r.skipped for r in again)
    assert [r.figures for r in again] == [r.figures for r in before]


def test_a_killed_worker_task_is_retried_with_the_same_result(swept, cluster, tmp_path):
    from planner.dist._dask import run_tasks

    sweep, before, _ = swept
    _, client = cluster
    cells = prepare_sweep(sweep.base, GRID, tmp_path, time_limit=LIMIT).cells
    task = cells[2].task  # c003: 3 visits a month, the longest cell
    assert task is not None
    got: list = []
    worker = threading.Thread(target=lambda: got.extend(run_tasks(client, [task])))
    worker.start()
    victim, deadline = None, time.monotonic() + 30
    while victim is None and time.monotonic() < deadline:
        busy = [addr for addr, keys in client.processing().items() if keys]
        if busy:
            time.sleep(0.3)  # well inside the task (loading alone takes longer)
            if client.processing().get(busy[0]) and not (task.out_dir / "cell.json").exists():
                victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(victim, signal.SIGKILL)
        time.sleep(0.02)
    worker.join(timeout=60)
    assert victim is not None, "the task never ran"
    (res,) = got
    assert res.ok and not res.worker.endswith(f":{victim}")
    original = sweep.cells[2].folder / "plan.json"
    assert (task.out_dir / "plan.json").read_bytes() == original.read_bytes()
    assert res.figures == before[2].figures


def test_a_local_cluster_starts_when_the_usual_dashboard_port_is_taken():
    """Two sweeps (or test runs) on one machine: the second must not trip over the
    first's scheduler HTTP port, 8787 by Dask's default; and it listens on loopback."""
    import socket

    from planner.dist._dask import dask_client

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen()
    except OSError:
        pass  # something else holds it already: the same situation
    try:
        with dask_client(workers=1) as client:
            assert client.submit(sum, [1, 2, 3]).result(timeout=60) == 6
            info = client.scheduler_info()
            assert info["address"].startswith("tcp://127.0.0.1:")
            ports = [
                sock.getsockname()
                for sock in client.cluster.scheduler.http_server._sockets.values()
            ]
            assert ports and all(host == "127.0.0.1" and port != 8787 for host, port in ports)
    finally:
        holder.close()
