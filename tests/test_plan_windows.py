"""Announced windows: the second phase's targets and what the plan announces."""

from __future__ import annotations

from planner.plan.build import announced_windows
from planner.plan.model import Run


def _step(kind: str, place: str, at: str) -> dict:
    return {
        "type": kind,
        "place": place,
        "arrival": at,
        "departure": at,
        "leg_km": 0,
        "leg_min": 0,
        "load_after": {"kg": 0},
    }


def _run(date: str, arrivals: dict[str, str]) -> Run:
    steps = [_step("start", "D", f"{date}T07:30")]
    steps += [_step("collect", p, f"{date}T{t}") for p, t in arrivals.items()]
    steps.append(_step("end", "D", f"{date}T17:00"))
    return Run.model_validate(
        {
            "id": f"T-{date}",
            "date": date,
            "vehicle": "T",
            "steps": steps,
            "distance_km": 0,
            "duration_min": 0,
        }
    )


RUNS = [
    # Listed out of date order on purpose: the first visit is the earliest date.
    _run("2026-12-15", {"A": "13:10", "B": "09:00"}),
    _run("2026-12-01", {"A": "09:10", "B": "09:40"}),
]


def test_target_is_centred_on_the_first_visit():
    # A: first visit 09:10 -> 08:40, rounded down to the quarter hour: 08:30-09:30.
    targets = announced_windows(RUNS, 60, cover=False)
    assert targets == {"A": (8 * 60 + 30, 9 * 60 + 30), "B": (9 * 60, 10 * 60)}


def test_announced_window_holds_every_arrival():
    windows = announced_windows(RUNS, 60, cover=True)
    lo, hi = windows["A"]
    assert lo <= 9 * 60 + 10 and hi >= 13 * 60 + 10
    # B's two arrivals fit one hour around their median (09:20): 08:45-09:45.
    assert windows["B"] == (8 * 60 + 45, 9 * 60 + 45)


EARLY = [_run("2026-12-01", {"A": "08:35", "B": "16:50"}), _run("2026-12-15", {"A": "08:40"})]
BOUNDS = (8 * 60 + 30, 17 * 60)  # windows.earliest 08:30, windows.latest 17:00


def test_without_bounds_a_window_centred_on_an_early_arrival_opens_too_early():
    # What plans announced before: A met at 08:35 was told 08:00-09:00.
    assert announced_windows(EARLY, 60, cover=False)["A"] == (8 * 60, 9 * 60)
    assert announced_windows(EARLY, 60, cover=True)["A"][0] == 8 * 60


def test_targets_are_moved_inside_the_bounds_keeping_their_width():
    targets = announced_windows(EARLY, 60, cover=False, bounds=BOUNDS)
    assert targets == {"A": (8 * 60 + 30, 9 * 60 + 30), "B": (16 * 60, 17 * 60)}


def test_announced_windows_stay_inside_the_bounds_and_hold_every_arrival():
    for runs in (EARLY, RUNS):
        for point, (lo, hi) in announced_windows(runs, 60, bounds=BOUNDS).items():
            times = [s.arrival_min for r in runs for s in r.collects if s.place == point]
            assert BOUNDS[0] <= lo <= min(times) <= max(times) <= hi <= BOUNDS[1], point
            assert hi - lo >= 60, point


def test_bounds_narrower_than_the_width_give_the_whole_span():
    targets = announced_windows(EARLY, 60, cover=False, bounds=(8 * 60 + 30, 9 * 60))
    assert targets["A"] == (8 * 60 + 30, 9 * 60)
