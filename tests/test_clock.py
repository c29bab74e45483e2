"""The work clock: same inputs and seed give the same plan.json at any machine load."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.solve import _clock
from planner.solve._clock import WallLimit, WorkClock

ROOT = Path(__file__).resolve().parents[1]


def _planner(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "from planner.cli import app; app(prog_name='planner')", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic 16-point region (two trucks); returns its scenario file."""
    root = tmp_path_factory.mktemp("region16")
    scenario = root / "s.toml"
    done = _planner(
        "synth", "random", "--out", str(root / "data"), "--scenario", str(scenario),
        "--points", "16", "--households", "200", "--townships", "2",
        "--area-km2", "600", "--trucks", "2", "--seed", "7",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return scenario


def test_work_clock_never_reads_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    work = [0.0]
    clock = WorkClock(lambda: work[0])

    def no_wall_clock() -> float:
        raise AssertionError("the default clock read the wall clock")

    monkeypatch.setattr(_clock.time, "monotonic", no_wall_clock)
    work[0] = _clock.WORK_PER_SECOND * 2
    clock.spend(1.5)
    assert clock.now() == pytest.approx(3.5)


def test_wall_limit_is_opt_in_and_says_whether_it_bound() -> None:
    wall = WallLimit(0.01)
    clock = WorkClock(lambda: 0.0, wall)
    assert "did not end the search" in wall.reason()
    time.sleep(0.02)
    assert clock.now() == math.inf
    assert wall.hit and "ended the search early" in wall.reason()
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="Expected a wall limit > 0 s"):
            WallLimit(bad)


def _busy(n: int) -> list[subprocess.Popen[bytes]]:
    code = "while True:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_same_seed_same_plan_on_an_oversubscribed_machine(
    region: Path, tmp_path: Path, engine: str
) -> None:
    # Each run is its own process (own hash seed), as two `planner run` calls would be.
    args = ("--time-limit", "2", "--seed", "3", "--engine", engine, "--no-export", "-q")
    calm = _planner("run", str(region), "-o", str(tmp_path / "calm"), *args)
    assert calm.returncode == 0, calm.stderr
    hogs = _busy(4 * (os.cpu_count() or 1))
    try:
        time.sleep(0.5)  # let the busy loops take the cores
        t0 = time.monotonic()
        busy = _planner("run", str(region), "-o", str(tmp_path / "busy"), *args)
        loaded_s = time.monotonic() - t0
    finally:
        for p in hogs:
            p.kill()
        for p in hogs:
            p.wait(timeout=30)
    assert busy.returncode == 0, busy.stderr
    a = (tmp_path / "calm" / "plan.json").read_bytes()
    b = (tmp_path / "busy" / "plan.json").read_bytes()
    assert a == b, f"plan.json differs after {loaded_s:.1f} s under load"
    assert "reproducible" not in json.loads(a)
    assert "not reproducible" not in busy.stderr


def test_wall_limit_marks_the_plan_not_reproducible(region: Path, tmp_path: Path) -> None:
    out = tmp_path / "walled"
    done = _planner(
        "run", str(region), "-o", str(out), "--time-limit", "2", "--wall-limit", "600",
        "--no-export", "-q",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["reproducible"] is False
    assert "--wall-limit" in plan["reproducible_reason"]
    assert "warning: not reproducible: a wall-clock limit of 600 s" in done.stderr
    check = _planner("check", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
