"""How much waste each household and point generates, by category and stream.

Generation is ``people x kg_per_person_day x seasonal[month]`` per category. A
household keeps its sell and exchange waste between visits (so a visit collects
what accumulated since the previous one) and composts the compost stream at home.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.scenario.model import Scenario
from planner.scenario.settings import Category


@dataclass(frozen=True)
class LoadModel:
    """Turns kg per category into the truck's load dimensions.

    ``kg`` is the total collected mass, ``m3`` its volume in the box (kg over bulk
    density) and ``hazard_kg`` the mass of hazardous categories (the locker).
    """

    categories: tuple[Category, ...]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return ("kg", "m3", "hazard_kg")

    def load(self, kg_by_category: dict[str, float]) -> dict[str, float]:
        """Load on each dimension of ``kg_by_category``."""
        out = {"kg": 0.0, "m3": 0.0, "hazard_kg": 0.0}
        for c in self.categories:
            kg = kg_by_category.get(c.id, 0.0)
            out["kg"] += kg
            out["m3"] += kg / c.density_kg_m3
            if c.hazardous:
                out["hazard_kg"] += kg
        return out


def collected_categories(scenario: Scenario) -> tuple[Category, ...]:
    """Categories the truck takes away: the sell and exchange streams."""
    return tuple(c for c in scenario.settings.categories if c.stream != "compost")


def daily_kg_per_person(scenario: Scenario) -> dict[str, float]:
    """kg per person per day of each category in the planning month (seasonal factor applied)."""
    month = scenario.settings.month.first_day.month
    return {c.id: c.kg_per_person_day * c.seasonal[month - 1] for c in scenario.settings.categories}


def point_people(scenario: Scenario) -> dict[str, int]:
    """People per point: from the households file when there is one, else the points file."""
    if scenario.households:
        people = {p.id: 0 for p in scenario.points}
        for h in scenario.households:
            people[h.point] += h.people
        return people
    return {p.id: p.people for p in scenario.points}


def point_daily_kg(scenario: Scenario) -> dict[str, dict[str, float]]:
    """kg per day of each collected category at each point."""
    rates = daily_kg_per_person(scenario)
    cats = collected_categories(scenario)
    people = point_people(scenario)
    return {pid: {c.id: n * rates[c.id] for c in cats} for pid, n in people.items()}
