"""Hand-computed schedules of tiny routes on a line (1 unit = 1 km = 1 minute)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from planner.solve.problem import (
    Customer,
    DaySolution,
    Pattern,
    PeriodicProblem,
    PeriodicSolution,
    Route,
    Vehicle,
    day_visits,
)
from planner.solve.schedule import (
    RouteSchedule,
    end_facility,
    scaled_time,
    schedule_route,
    solution_cost,
    travel_matrix,
)

# Node 0: depot at 0; node 1: facility at 30; nodes 2..: customers at POS[node].
POS = [0, 30, 10, 12, 20, 100]


def make_problem(
    customers: Sequence[tuple[int, tuple[int, ...], int, tuple[int, int] | None]],
    *,
    vehicle: Vehicle | None = None,
    objective: str = "duration",
    facilities: tuple[int, ...] = (1,),
    max_reloads: int | None = None,
) -> PeriodicProblem:
    """A one-day problem; ``customers`` are (node, demand, service, window)."""
    x = np.array(POS)
    dur = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    dist = dur * 1000
    custs = tuple(
        Customer(node, (Pattern((0,), (demand,)),), service=service, window=window)
        for node, demand, service, window in customers
    )
    veh = vehicle or Vehicle("T1", 0, (10, 10), (360, 1080), 600, (0,))
    return PeriodicProblem(
        1,
        dur,
        dist,
        (0,),
        facilities,
        custs,
        (veh,),
        dimensions=("kg", "m3"),
        objective=objective,
        facility_service=10,
        max_reloads=max_reloads,
    )


def schedule(problem: PeriodicProblem, stops: Sequence[int], day: int = 0) -> RouteSchedule:
    """Schedule the route through ``stops`` (facility node 1 -> -1 visit)."""
    visits = day_visits(problem, (0,) * len(problem.customers), 0)
    by_node = {v.node: k for k, v in enumerate(visits)}
    idx = tuple(-1 if n in problem.facilities else by_node[n] for n in stops)
    return schedule_route(problem, day, visits, Route(0, tuple(stops), idx))


def test_waiting_for_a_window_and_late_departure() -> None:
    # A must start by 410, so the truck leaves at 400 (not 360); B opens at 500.
    p = make_problem([(2, (1, 1), 5, (400, 410)), (3, (1, 1), 5, (500, 600))])
    s = schedule(p, [2, 3, 1])
    assert s.feasible, s.violations
    a, b, f = s.steps
    assert s.start == 400
    assert (a.arrival, a.start, a.departure) == (410, 410, 415)
    assert (b.arrival, b.start, b.departure) == (417, 500, 505)
    assert b.waiting == 83
    assert (f.arrival, f.start, f.departure) == (523, 523, 533)
    assert s.end == 563 and s.duration == 163
    assert s.travel_time == 10 + 2 + 18 + 30 and s.distance == 60_000
    assert s.return_travel == 30 and s.return_distance == 30_000
    assert s.cost == 60.0  # objective "duration": travel time


def test_departure_without_windows_is_the_shift_start() -> None:
    p = make_problem([(2, (1, 1), 5, None)])
    s = schedule(p, [2, 1])
    assert s.start == 360 and s.end == 360 + 10 + 5 + 20 + 10 + 30


def test_departure_is_latest_that_keeps_the_return() -> None:
    # B opens at 500: leaving at 483 reaches B at 500 through A without waiting.
    p = make_problem([(2, (1, 1), 5, None), (3, (1, 1), 5, (500, 600))])
    s = schedule(p, [2, 3, 1])
    assert s.start == 483 and s.steps[1].arrival == 500 and s.waiting == 0


def test_load_resets_at_a_facility() -> None:
    p = make_problem([(2, (5, 2), 0, None), (4, (6, 3), 0, None)])
    s = schedule(p, [2, 1, 4, 1])
    assert s.feasible, s.violations
    assert [st.load for st in s.steps] == [(5, 2), (0, 0), (6, 3), (0, 0)]
    assert [st.kind for st in s.steps] == ["visit", "facility", "visit", "facility"]
    assert s.end_load == (0, 0)


BREAK = Vehicle(
    "T1", 0, (10, 10), (360, 1080), 600, (0,), break_window=(720, 780), break_duration=30
)


def test_break_at_the_first_start_after_the_window_opens() -> None:
    # A 700-710; at B (arrival 720) the window has opened: break 720-750, then B.
    p = make_problem([(2, (1, 1), 10, (700, 760)), (4, (1, 1), 5, None)], vehicle=BREAK)
    s = schedule(p, [2, 4, 1])
    assert s.feasible, s.violations
    kinds = [st.kind for st in s.steps]
    assert kinds == ["visit", "break", "visit", "facility"]
    a, brk, b, f = s.steps
    assert s.start == 690 and (a.arrival, a.departure) == (700, 710)
    assert (brk.node, brk.arrival, brk.start, brk.departure) == (4, 720, 720, 750)
    assert (brk.distance, brk.travel) == (10_000, 10)  # the break took the leg to B
    assert (b.arrival, b.start, b.departure, b.travel) == (750, 750, 755, 0)
    assert (f.arrival, f.departure) == (765, 775)
    assert s.end == 805 and s.duration == 60 + 15 + 10 + 30
    assert s.break_step == brk and len(s.stops) == 3


def test_break_while_waiting() -> None:
    # The truck reaches A2 at 617 and waits for 760: the break (720-750) fits in.
    p = make_problem([(2, (1, 1), 5, (600, 610)), (3, (1, 1), 5, (760, 800))], vehicle=BREAK)
    s = schedule(p, [2, 3, 1])
    assert s.feasible, s.violations
    a1, brk, a2, _ = s.steps
    assert s.start == 600 and a1.departure == 615
    assert (brk.node, brk.arrival, brk.start, brk.departure) == (3, 617, 720, 750)
    assert (a2.arrival, a2.start) == (750, 760)
    assert s.end == 760 + 5 + 18 + 10 + 30


def test_break_waits_for_the_window_before_a_long_leg() -> None:
    # After A (ends 700) the next leg reaches node 5 only at 790 > 780: break at A.
    p = make_problem([(2, (1, 1), 0, (700, 700)), (5, (1, 1), 0, None)], vehicle=BREAK)
    s = schedule(p, [2, 5, 1])
    assert s.feasible, s.violations
    _, brk, far, _ = s.steps
    assert (brk.node, brk.arrival, brk.start, brk.departure) == (2, 700, 720, 750)
    assert far.arrival == 750 + 90


def test_no_break_when_the_route_is_back_before_the_window_ends() -> None:
    p = make_problem([(2, (1, 1), 5, None)], vehicle=BREAK)
    s = schedule(p, [2, 1])
    assert s.break_step is None and s.end == 435


def test_no_break_when_leaving_after_it() -> None:
    # A opens at 800: leaving at 790 leaves room for the break (720-750) at home.
    p = make_problem([(2, (1, 1), 5, (800, 900))], vehicle=BREAK)
    s = schedule(p, [2, 1])
    assert s.break_step is None and s.start == 790


def test_speed_factor_scales_and_rounds_up() -> None:
    veh = Vehicle("slow", 0, (10, 10), (360, 1080), 600, (0,), speed_factor=1.1)
    p = make_problem([(3, (1, 1), 0, None)], vehicle=veh)
    s = schedule(p, [3, 1])
    assert [st.travel for st in s.steps] == [14, 20]  # 12 * 1.1 = 13.2 -> 14; 18 -> 19.8
    assert s.return_travel == 33
    assert scaled_time(10, 1.1) == 11  # 11.000000000000002 must not round to 12
    assert travel_matrix(p, 0)[0, 2] == 11


def test_cost_objective() -> None:
    veh = Vehicle("T1", 0, (10, 10), (360, 1080), 600, (0,), 0.002, 0.5)
    p = make_problem([(2, (1, 1), 5, None)], vehicle=veh, objective="cost")
    s = schedule(p, [2, 1])
    assert s.cost == pytest.approx(0.002 * 60_000 + 0.5 * 75)


def test_depot_facility_unloads_on_return() -> None:
    p = make_problem([(2, (3, 3), 0, None)], facilities=(0, 1))
    s = schedule(p, [2])
    assert s.feasible and s.end_load == (3, 3)


def test_empty_route() -> None:
    s = schedule(make_problem([]), [])
    assert s.feasible and s.steps == () and s.cost == 0.0 and s.duration == 0


def test_end_facility_picks_the_cheapest() -> None:
    p = make_problem([(5, (1, 1), 0, None)], facilities=(1, 4))
    assert end_facility(p, 0, 5) == (1, 100_000, 100)  # a tie with 100 -> 20 -> 0: first
    assert end_facility(p, 0, 2) == (4, 30_000, 30)  # 10 -> 20 -> 0 beats 10 -> 30 -> 0


@pytest.mark.parametrize(
    ("customers", "stops", "vehicle", "max_reloads", "message"),
    [
        # capacity: 6 + 6 > 10 kg
        ([(2, (6, 1), 0, None), (3, (6, 1), 0, None)], [2, 3, 1], None, None, "Carries 12 kg"),
        # window: B closes at 375 but is reached at 380 at the earliest
        ([(2, (1, 1), 0, (370, 370)), (4, (1, 1), 0, (360, 375))], [2, 4, 1], None, None,
         "after its window closes at 375"),
        # shift end: the last visit opens at 1070, back at 1070 + 10 + 20 + 10 + 30
        ([(2, (1, 1), 0, (1070, 1075))], [2, 1], None, None, "after the shift ends at 1080"),
        # max duration: 370-670 at A, 672-972 at B, back at 1030: 670 long
        ([(2, (1, 1), 300, (370, 370)), (3, (1, 1), 300, None)], [2, 3, 1], None, None,
         "more than the maximum duration 600"),
        # loaded return
        ([(2, (1, 1), 0, None)], [2], None, None, "Returns to the depot loaded (1 kg, 1 m3)"),
        # max reloads
        ([(2, (1, 1), 0, None), (3, (1, 1), 0, None)], [2, 1, 3, 1], None, 1,
         "Unloads 2 times, more than the maximum 1"),
        # vehicle not working that day
        ([(2, (1, 1), 0, None)], [2, 1], Vehicle("T9", 0, (9, 9), (0, 999), 999, (1,)), None,
         "does not work on day 0"),
        # break impossible: on the road to node 5 (100 min) from 590 to 690 at least;
        # leaving after a break at home (630) would be late for node 5 instead
        ([(5, (1, 1), 0, (690, 720))], [5, 1],
         replace(BREAK, shift=(590, 1080), break_window=(600, 610)), None,
         "The break cannot start inside its window 600-610"),
    ],
)  # fmt: skip
def test_violations(
    customers: list[tuple[int, tuple[int, ...], int, tuple[int, int] | None]],
    stops: list[int],
    vehicle: Vehicle | None,
    max_reloads: int | None,
    message: str,
) -> None:
    p = make_problem(customers, vehicle=vehicle, max_reloads=max_reloads)
    s = schedule(p, stops)
    assert not s.feasible
    assert any(message in v for v in s.violations), s.violations


def test_break_not_possible_moves_to_an_earlier_place_when_it_fits() -> None:
    # Same as the impossible case, but A opens later: the truck can lunch at home.
    veh = replace(BREAK, shift=(590, 1080), break_window=(600, 610))
    p = make_problem([(2, (1, 1), 0, (640, 700))], vehicle=veh)
    s = schedule(p, [2, 1])
    assert s.feasible and s.start >= 630 and s.break_step is None


def test_served_twice() -> None:
    p = make_problem([(2, (1, 1), 0, None)])
    visits = day_visits(p, (0,), 0)
    s = schedule_route(p, 0, visits, Route(0, (2, 2, 1), (0, 0, -1)))
    assert "Visit 0 is served more than once." in s.violations


@pytest.mark.parametrize(
    ("stops", "idx", "message"),
    [
        ((2,), (5,), "visit 5 is not in the day's visits"),  # index out of range
        ((3,), (0,), "node 3 is not visit 0's node"),  # wrong node
        ((2,), (-1,), "node 2 is not a facility"),  # facility stop elsewhere
        ((2, 1), (0,), "one visit index per route stop"),  # lengths differ
    ],
)
def test_malformed_routes_raise(stops: tuple[int, ...], idx: tuple[int, ...], message: str) -> None:
    p = make_problem([(2, (1, 1), 0, None)])
    visits = day_visits(p, (0,), 0)
    with pytest.raises(ValueError, match=message):
        schedule_route(p, 0, visits, Route(0, stops, idx))


def test_solution_cost_sums_the_days() -> None:
    p = make_problem([(2, (1, 1), 0, None), (4, (1, 1), 0, None)])
    day = DaySolution(0, (Route(0, (2, 1), (0, -1)),), unrouted=(1,))
    sol = PeriodicSolution((0, 0), (day,), cost=0.0)
    assert solution_cost(p, sol) == 10 + 20 + 30
