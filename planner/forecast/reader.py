"""Recorded visits out of the ledger, as the estimator's :class:`Observations`.

A **visit** is a planned stop (``stops``) with at least one active recorded entry
(a skipped stop has none and is left out). Every household registered at the
stop's point is a row: ``present`` if it has any entry there, with its kg per
collected category (``entries.grams``), cash paid (``cash_fen``) and goods handed
out (``goods_fen``); households without entries are absent (zeros). Exposure is
the days since the point's previous recorded visit; a point's first recorded
visit counts ``month.previous_visit_days`` of the scenario (else the point's
median gap in the ledger, else 14 days).

Only active rows are read (a corrected import supersedes the earlier rows).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import func, select, true

from planner.forecast.observations import Observations, kg_column
from planner.ledger.db import Ledger
from planner.ledger.schema import (
    FEN,
    GRAMS,
    Entry,
    HouseholdRow,
    PlaceRow,
    RunRow,
    StopRow,
    StopSum,
)
from planner.scenario.model import Scenario
from planner.scenario.waste import collected_categories

DEFAULT_FIRST_GAP_DAYS = 14


def read_observations(
    ledger: Ledger, scenario: Scenario, *, before: str | None = None
) -> Observations:
    """Every recorded visit in ``ledger`` (those before month ``before``, ``YYYY-MM``)."""
    cats = tuple(c.id for c in collected_categories(scenario))
    with ledger.begin() as s:
        q = (
            select(
                Entry.run_id,
                Entry.point_id,
                Entry.household_id,
                Entry.category,
                func.sum(func.coalesce(Entry.grams, 0)),
                func.sum(Entry.cash_fen),
                func.sum(Entry.goods_fen),
                Entry.stream,
            )
            .where(Entry.active == true(), Entry.off_stop.is_(False))
            .group_by(
                Entry.run_id, Entry.point_id, Entry.household_id, Entry.category, Entry.stream
            )
        )
        if before is not None:
            q = q.where(Entry.month < before)
        entries = pd.DataFrame(
            s.execute(q).all(),
            columns=[
                "run_id",
                "point",
                "household",
                "category",
                "grams",
                "cash",
                "goods",
                "stream",
            ],
        )
        stops = pd.DataFrame(
            s.execute(
                select(StopRow.run_id, StopRow.point_id, RunRow.date).join(
                    RunRow, RunRow.id == StopRow.run_id
                )
            ).all(),
            columns=["run_id", "point", "date"],
        )
        households = pd.DataFrame(
            s.execute(select(HouseholdRow.id, HouseholdRow.point_id, HouseholdRow.people)).all(),
            columns=["household", "point", "people"],
        )
        places = pd.DataFrame(
            s.execute(
                select(PlaceRow.id, PlaceRow.township, PlaceRow.gacha).where(
                    PlaceRow.kind == "point"
                )
            ).all(),
            columns=["point", "township", "gacha"],
        )
    return _observations(entries, stops, households, places, cats, scenario)


def _observations(
    entries: pd.DataFrame,
    stops: pd.DataFrame,
    households: pd.DataFrame,
    places: pd.DataFrame,
    cats: Iterable[str],
    scenario: Scenario,
) -> Observations:
    cats = tuple(cats)
    if entries.empty:
        return Observations.empty(cats)
    visited = entries[["run_id", "point"]].drop_duplicates()
    visits = visited.merge(stops, on=["run_id", "point"], how="inner")
    visits["date"] = pd.to_datetime(visits["date"])
    visits = visits.sort_values(["point", "date", "run_id"]).reset_index(drop=True)
    visits["exposure_days"] = _exposure(visits, scenario)
    rows = visits.merge(households, on="point", how="inner").merge(places, on="point", how="left")
    rows["visit"] = rows["run_id"] + "|" + rows["point"]
    key = ["run_id", "point", "household"]
    present = entries[key].drop_duplicates().assign(present=True)
    rows = rows.merge(present, on=key, how="left")
    rows["present"] = rows["present"].fillna(False).astype(bool)
    kg = entries[entries["category"].isin(cats) & entries["stream"].isin(["sell", "exchange"])]
    wide = kg.pivot_table(index=key, columns="category", values="grams", aggfunc="sum")
    wide = (wide / GRAMS).reindex(columns=list(cats)).fillna(0.0)
    wide.columns = [kg_column(c) for c in wide.columns]
    money = entries.groupby(key)[["cash", "goods"]].sum() / FEN
    money.columns = ["cash_cny", "goods_cny"]
    rows = rows.merge(wide.reset_index(), on=key, how="left")
    rows = rows.merge(money.reset_index(), on=key, how="left")
    fill = [*(kg_column(c) for c in cats), "cash_cny", "goods_cny"]
    rows[fill] = rows[fill].fillna(0.0)
    rows[["township", "gacha"]] = rows[["township", "gacha"]].fillna("")
    return Observations.from_frame(rows, cats)


def _exposure(visits: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """Days since each visit's point was last visited (visits sorted by point, date)."""
    gap = visits.groupby("point")["date"].diff().dt.days
    first = scenario.settings.month.previous_visit_days
    if first is None:
        median = gap.groupby(visits["point"]).transform("median")
        fallback = median.fillna(float(DEFAULT_FIRST_GAP_DAYS))
    else:
        fallback = pd.Series(float(first), index=visits.index)
    out = gap.fillna(fallback).clip(lower=1).to_numpy(dtype=float)
    return np.asarray(out)


def months_in(ledger: Ledger) -> list[str]:
    """The months with recorded (active) entries, oldest first (from the per-stop sums)."""
    with ledger.begin() as s:
        return sorted(m for (m,) in s.execute(select(StopSum.month).distinct()).all())
