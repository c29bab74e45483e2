"""Where the ledger lives by default: names only, so a command's options can say so
without loading SQLAlchemy (the ``planner`` command starts in a fraction of a second).
"""

DEFAULT_URL = "sqlite:///ledger.sqlite"
ENV_URL = "PLANNER_DB"
