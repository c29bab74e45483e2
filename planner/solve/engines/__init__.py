"""Routing engines: each routes one day of a :class:`PeriodicProblem`.

OR-Tools types never leave ``ortools_engine``; PyVRP types never leave
``pyvrp_engine``. Use :func:`get_engine` to pick one by name.
"""
