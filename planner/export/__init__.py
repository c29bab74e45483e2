"""What drivers, gachas and the office receive, made from a written plan folder.

Every exporter reads a :class:`~planner.export.bundle.PlanBundle` (plan.json,
tallies.csv, summary.json and the scenario) and writes its files atomically.
"""

from planner.export.bundle import PlanBundle, Stop, TallyRow, read_bundle

__all__ = ["PlanBundle", "Stop", "TallyRow", "read_bundle"]
