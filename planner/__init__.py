"""Plans mobile waste collection and recycling exchange runs for rural regions.

The public surface: load a scenario, plan its month, check a plan.
"""

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
from planner.scenario.load import load_scenario as load_scenario
from planner.scenario.model import Scenario as Scenario

__version__ = "0.1.0"
