"""Visit patterns: which sets of service days a point may be visited on.

A pattern for a point with ``k`` visits a month is ``k`` service days whose
calendar gaps are at least the minimum gap. The month is treated as one period of
a steady rhythm, so the gap from the last visit to the first visit of the *next*
month (same pattern, one month later) must also respect the minimum — otherwise a
point visited on the 30th and the 2nd would get two visits in three days.
Irregular rhythms are bounded too (no gap longer than ``max_gap_factor`` times the
ideal ``month_length / k``): herders are told "about every ten days".
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from itertools import combinations, pairwise


def enumerate_patterns(
    dates: Sequence[dt.date],
    visits: int,
    min_gap: int,
    month_length: int,
    *,
    max_gap_factor: float = 1.6,
    max_patterns: int = 400,
) -> list[tuple[int, ...]]:
    """Day-index tuples for ``visits`` visits on service ``dates``.

    Returns the patterns sorted by irregularity (most even rhythm first), at most
    ``max_patterns`` of them; an empty list when none fits.
    """
    n = len(dates)
    if visits <= 0:
        return [()]
    if visits > n:
        return []
    ordinals = [d.toordinal() for d in dates]
    ideal = month_length / visits
    max_gap = max(min_gap, math.ceil(ideal * max_gap_factor))
    found: list[tuple[float, tuple[int, ...]]] = []
    for combo in _gapped_combinations(ordinals, visits, min_gap, max_gap):
        gaps = [ordinals[b] - ordinals[a] for a, b in pairwise(combo)]
        wrap = ordinals[combo[0]] + month_length - ordinals[combo[-1]]
        if visits > 1 and not min_gap <= wrap <= max_gap:
            continue
        allgaps = [*gaps, wrap] if visits > 1 else [month_length]
        irregularity = sum((g - ideal) ** 2 for g in allgaps)
        found.append((irregularity, combo))
    found.sort()
    return [c for _, c in found[:max_patterns]]


def _gapped_combinations(
    ordinals: Sequence[int], k: int, min_gap: int, max_gap: int
) -> list[tuple[int, ...]]:
    """Index tuples of length ``k`` whose consecutive ordinal gaps lie in [min_gap, max_gap]."""
    if k == 1:
        return [(i,) for i in range(len(ordinals))]
    out: list[tuple[int, ...]] = []

    def extend(prefix: tuple[int, ...]) -> None:
        if len(prefix) == k:
            out.append(prefix)
            return
        last = ordinals[prefix[-1]]
        for j in range(prefix[-1] + 1, len(ordinals)):
            gap = ordinals[j] - last
            if gap > max_gap:
                break
            if gap >= min_gap:
                extend((*prefix, j))

    for i in range(len(ordinals)):
        extend((i,))
    return out


def evenly_spaced_patterns(horizon: int, frequency: int) -> list[tuple[int, ...]]:
    """Patterns of a horizon of consecutive days with equal spacing (the PVRP-IF rule).

    ``horizon / frequency`` days apart, every start offset that fits: for a
    4-day horizon, frequency 2 gives (0, 2) and (1, 3).
    """
    if frequency <= 0:
        return []
    if frequency >= horizon:
        return [tuple(range(horizon))]
    step = horizon // frequency
    return [tuple(s + i * step for i in range(frequency)) for s in range(step)]


def all_combinations(horizon: int, frequency: int) -> list[tuple[int, ...]]:
    """Every set of ``frequency`` days of the horizon (no spacing rule)."""
    return list(combinations(range(horizon), frequency))
