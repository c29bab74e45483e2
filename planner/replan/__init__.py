"""Re-planning a month after a disruption (a truck out, a closed day, a closed point).

``planner replan PLAN_DIR --from DATE … -o NEW_DIR`` keeps the runs before ``--from``
as they were and re-plans the rest, keeping each point's dates and announced window
wherever the remaining fleet allows (see ``docs/replan.md``).
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.replan.core import (
        ReplanInput as ReplanInput,
    )
    from planner.replan.core import (
        ReplanResult as ReplanResult,
    )
    from planner.replan.core import (
        read_inputs as read_inputs,
    )
    from planner.replan.core import (
        replan_month as replan_month,
    )
    from planner.replan.core import (
        write_replan as write_replan,
    )
    from planner.replan.spec import Disruption as Disruption
    from planner.replan.spec import Outage as Outage
    from planner.replan.spec import parse_disruption as parse_disruption

# Imported on first use: `planner --help` should not load the solver.
_LAZY = {
    "ReplanInput": "planner.replan.core",
    "ReplanResult": "planner.replan.core",
    "read_inputs": "planner.replan.core",
    "replan_month": "planner.replan.core",
    "write_replan": "planner.replan.core",
    "Disruption": "planner.replan.spec",
    "Outage": "planner.replan.spec",
    "parse_disruption": "planner.replan.spec",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
