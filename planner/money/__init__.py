"""Sell, exchange and compost (三个一): household tallies, what trucks carry, the month's money.

Layer: reads a plan (`planner.plan.model.Plan`) and the scenario; writes nothing itself
(:mod:`planner.money.files` does). The solver's demand comes from
:mod:`planner.scenario.waste`; these modules follow a plan that is already made.
"""

from planner.money.summary import MonthMoney, month_money
from planner.money.tallies import MonthTallies, Tally, household_tallies

__all__ = ["MonthMoney", "MonthTallies", "Tally", "household_tallies", "month_money"]
