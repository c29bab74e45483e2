"""Re-planning a month after a disruption (a truck out, a closed day, a closed point).

``planner replan PLAN_DIR --from DATE … -o NEW_DIR`` keeps the runs before ``--from``
as they were and re-plans the rest, keeping each point's dates and announced window
wherever the remaining fleet allows (see ``docs/replan.md``).
"""

from planner.replan.core import ReplanInput, ReplanResult, read_inputs, replan_month, write_replan
from planner.replan.spec import Disruption, Outage, parse_disruption

__all__ = [
    "Disruption",
    "Outage",
    "ReplanInput",
    "ReplanResult",
    "parse_disruption",
    "read_inputs",
    "replan_month",
    "write_replan",
]
