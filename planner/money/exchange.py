"""Exchange points for goods (一换): whole items, the rest kept as a balance.

Assumption (labelled in summary.json): a household takes goods in catalogue order,
one item at a time, continuing after the last item it took, skipping items it
cannot afford, until its balance is below the cheapest item. That spreads the
hand-outs over the catalogue the way an exchange counter's stock is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from planner.scenario.settings import GoodsItem

ASSUMPTION = (
    "households take exchange goods in catalogue order, one item at a time, and keep "
    "the points they cannot spend for the next visit (balances start the month at 0)"
)
_EPS = 1e-9


@dataclass(frozen=True)
class Handout:
    """Goods one household receives at one visit."""

    run_id: str
    date: str
    point: str
    household: str
    item: str
    count: int
    points: float
    value_cny: float


def hand_out(
    catalogue: Sequence[GoodsItem], balance: float, last: int
) -> tuple[list[tuple[GoodsItem, int]], float, int]:
    """Spend ``balance`` points on whole items.

    Parameters
    ----------
    catalogue
        The goods, in the scenario's order.
    balance
        Points available.
    last
        Index of the last item this household took (-1: none yet).

    Returns
    -------
    (goods and counts in catalogue order, balance left, index of the last item taken)
    """
    counts = [0] * len(catalogue)
    if not catalogue:
        return [], balance, last
    cheapest = min(g.points for g in catalogue)
    full_round = sum(g.points for g in catalogue)
    # Whole rounds of the catalogue at once, so a large balance costs no long loop.
    rounds = int((balance + _EPS) // full_round) - 1 if balance > 2 * full_round else 0
    if rounds > 0:
        counts = [rounds] * len(catalogue)
        balance -= rounds * full_round
    n = len(catalogue)
    while balance + _EPS >= cheapest:
        for step in range(1, n + 1):
            k = (last + step) % n
            if catalogue[k].points <= balance + _EPS:
                counts[k] += 1
                balance -= catalogue[k].points
                last = k
                break
    given = [(g, c) for g, c in zip(catalogue, counts, strict=True) if c > 0]
    return given, max(balance, 0.0), last
