"""Synthetic tallies: seeded, labelled, and driven by a Truth a forecaster can set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.ledger.plans import load_plan
from planner.ledger.simulate import FAULTS, Truth, simulate_month, write_simulation


def _kg(sim: object) -> float:
    return sum(float(r.get("kg") or 0) for rows in sim.tallies.values() for r in rows)  # type: ignore[attr-defined]


def test_same_seed_same_files(planned_tiny: Path, tmp_path: Path) -> None:
    source = load_plan(planned_tiny)
    a, b = tmp_path / "a", tmp_path / "b"
    write_simulation(simulate_month(source, seed=5), a)
    write_simulation(simulate_month(source, seed=5), b)
    for p in sorted(a.iterdir()):
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name
    other = simulate_month(source, seed=6)
    assert other.tallies != simulate_month(source, seed=5).tallies


def test_labelled_synthetic_with_its_faults(planned_tiny: Path, tmp_path: Path) -> None:
    sim = simulate_month(load_plan(planned_tiny), seed=2)
    write_simulation(sim, tmp_path)
    assert "SYNTHETIC" in (tmp_path / "SYNTHETIC.md").read_text(encoding="utf-8")
    doc = json.loads((tmp_path / "faults.json").read_text(encoding="utf-8"))
    assert doc["synthetic"] is True and {f["fault"] for f in doc["faults"]} <= set(FAULTS)
    assert {"skipped_stop", "mistyped_household", "price_typo"} <= {
        f["fault"] for f in doc["faults"]
    }
    assert all(r["note"] == "synthetic" for rows in sim.tallies.values() for r in rows)
    assert not simulate_month(load_plan(planned_tiny), Truth(faults=False), seed=2).faults


def test_the_truth_moves_the_actuals(planned_tiny: Path) -> None:
    source = load_plan(planned_tiny)
    calm = dict(absence_rate=0.0, handin_rate=1.0, noise_cv=0.0, faults=False)
    base = _kg(simulate_month(source, Truth(**calm), seed=1))
    town = source.scenario.points[0].township
    doubled = _kg(simulate_month(source, Truth(**calm, township_factor={town: 2.0}), seed=1))
    assert doubled == pytest.approx(2 * base, rel=0.02)
    winter = Truth(**calm, seasonal_amplitude=0.5, seasonal_peak_month=12)
    assert _kg(simulate_month(source, winter, seed=1)) == pytest.approx(1.5 * base, rel=0.02)
    absent = _kg(simulate_month(source, Truth(**(calm | {"absence_rate": 1.0})), seed=1))
    assert absent == 0


@pytest.mark.parametrize(
    "bad",
    [{"absence_rate": 1.5}, {"handin_rate": 0.0}, {"noise_cv": -1.0}],  # out of range
)
def test_truth_is_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Truth"):
        Truth(**bad)  # type: ignore[arg-type]
