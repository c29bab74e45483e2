"""Plans mobile waste collection and recycling exchange runs for rural regions.

The public surface: load a scenario, plan its month, check a plan::

    from planner import load_scenario, plan_month, Plan, check_plan

    result = plan_month(load_scenario("scenarios/otog.toml"), Path("out"))
    plan = Plan.read("out/plan.json")
"""

from importlib import metadata as _metadata
from typing import TYPE_CHECKING

from planner._errors import (
    InstanceError as InstanceError,
)
from planner._errors import (
    NetworkError as NetworkError,
)
from planner._errors import (
    PlanError as PlanError,
)
from planner._errors import (
    PlannerError as PlannerError,
)
from planner._errors import (
    ScenarioError as ScenarioError,
)
from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.app.pipeline import PlanResult as PlanResult
    from planner.app.pipeline import check_written_plan as check_written_plan
    from planner.app.pipeline import plan_month as plan_month
    from planner.plan.check import check_plan as check_plan
    from planner.plan.model import Plan as Plan
    from planner.scenario.load import load_scenario as load_scenario
    from planner.scenario.model import Scenario as Scenario

# Imported on first use, so that `import planner` (and every CLI start) stays light.
_LAZY = {
    "PlanResult": "planner.app.pipeline",
    "check_written_plan": "planner.app.pipeline",
    "plan_month": "planner.app.pipeline",
    "check_plan": "planner.plan.check",
    "Plan": "planner.plan.model",
    "load_scenario": "planner.scenario.load",
    "Scenario": "planner.scenario.model",
}
__all__ = [
    "InstanceError",
    "NetworkError",
    "PlanError",
    "PlannerError",
    "ScenarioError",
    *_LAZY,
]


__getattr__ = lazy_attributes(__name__, _LAZY)


# One version, pyproject's: the installed package's metadata.
__version__ = _metadata.version("steppe-planner")
