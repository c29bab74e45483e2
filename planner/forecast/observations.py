"""The history the forecast learns from: one row per household and recorded visit.

A plain :class:`pandas.DataFrame` with documented columns (no wrapper logic
beyond validation), so the ledger reader, the backtest's simulator and the tests
all hand the estimator the same thing:

========================  ===================================================
column                    meaning
========================  ===================================================
``visit``                 the stop: ``run_id|point`` (one truck at one point)
``run_id``                the run the stop belongs to
``point``                 collection point id
``household``             household id
``township``, ``gacha``   the point's township and gacha (names or codes)
``date``                  date of the visit (``datetime64``)
``exposure_days``         days since the point's previous visit (> 0)
``people``                people in the household
``present``               the household handed something in (or declared compost)
``kg_<category>``         kg handed in per collected category (0 when absent)
``cash_cny``              cash paid for the sell stream
``goods_cny``             value of the exchange goods handed out
========================  ===================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.forecast.errors import ForecastError

KEYS = ("visit", "run_id", "point", "household", "township", "gacha")
NUMBERS = ("exposure_days", "people", "cash_cny", "goods_cny")
MONEY = ("cash_cny", "goods_cny")


def kg_column(category: str) -> str:
    """The column holding a category's kg."""
    return f"kg_{category}"


@dataclass(frozen=True)
class Observations:
    """Validated visit observations (see the module docstring for the columns).

    Attributes
    ----------
    frame
        The table, one row per household and visit (a private copy; treat as read-only).
    categories
        The collected categories with a ``kg_<category>`` column, in scenario order.
    """

    frame: pd.DataFrame
    categories: tuple[str, ...]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, categories: Sequence[str]) -> Observations:
        """Check ``frame`` and keep a typed copy; :class:`ForecastError` names each fault."""
        cats = tuple(categories)
        needed = [*KEYS, "date", *NUMBERS, "present", *(kg_column(c) for c in cats)]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ForecastError(f"observations: expected columns {', '.join(missing)}, found none")
        df = frame.loc[:, needed].copy()
        for col in KEYS:
            df[col] = df[col].astype(str)
        df["date"] = pd.to_datetime(df["date"])
        df["present"] = df["present"].astype(bool)
        for col in (*NUMBERS, *(kg_column(c) for c in cats)):
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        problems = []
        values = df[[*NUMBERS, *(kg_column(c) for c in cats)]].to_numpy()
        if np.isnan(values).any():
            problems.append("expected numbers in every numeric column, found blanks")
        elif (values < 0).any():
            problems.append("expected no negative kg, cash, people or days, found some")
        if len(df) and (df["exposure_days"] <= 0).any():
            problems.append("exposure_days: expected > 0 days since the previous visit")
        if df.duplicated(["visit", "household"]).any():
            problems.append("expected one row per household and visit, found repeats")
        if problems:
            raise ForecastError("observations: " + "; ".join(problems))
        return cls(df.reset_index(drop=True), cats)

    @classmethod
    def empty(cls, categories: Sequence[str]) -> Observations:
        """No history at all."""
        cols = [*KEYS, "date", *NUMBERS, "present", *(kg_column(c) for c in categories)]
        return cls.from_frame(pd.DataFrame({c: [] for c in cols}), categories)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def months(self) -> tuple[str, ...]:
        """The calendar months (``YYYY-MM``) with at least one observation."""
        if not len(self.frame):
            return ()
        return tuple(sorted(set(self.frame["date"].dt.strftime("%Y-%m"))))

    @property
    def visits(self) -> int:
        return int(self.frame["visit"].nunique())

    def until(self, month: str) -> Observations:
        """Only the visits before ``month`` (``YYYY-MM``): what is known when planning it."""
        keep = self.frame["date"].dt.strftime("%Y-%m") < month
        return Observations(self.frame.loc[keep].reset_index(drop=True), self.categories)
