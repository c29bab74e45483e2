"""The plan file (``plan.json``, format ``rural-waste-plan/1``): read, write, check.

``plan.schema.json`` in this package is a verbatim copy of the public contract's JSON
Schema; the contract itself (``PLAN_FORMAT.md``) defines the meaning of every field.
"""

from planner.plan.check import CheckReport as CheckReport
from planner.plan.check import PlanStats as PlanStats
from planner.plan.check import TravelLookup as TravelLookup
from planner.plan.check import Violation as Violation
from planner.plan.check import check_plan as check_plan
from planner.plan.check import format_report as format_report
from planner.plan.io import PLAN_FORMAT as PLAN_FORMAT
from planner.plan.io import load_schema as load_schema
from planner.plan.io import read_plan as read_plan
from planner.plan.io import validate_schema as validate_schema
