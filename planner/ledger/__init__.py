"""The ledger: what happened on every run, and the households' green accounts.

See ``docs/ledger.md``. The public surface, for the CLI, the web views and the
forecaster:
"""

from typing import TYPE_CHECKING

from planner._lazy import lazy_attributes

if TYPE_CHECKING:
    from planner.ledger.accounts import balances as balances
    from planner.ledger.accounts import household_account as household_account
    from planner.ledger.db import Ledger as Ledger
    from planner.ledger.db import open_ledger as open_ledger
    from planner.ledger.errors import LedgerError as LedgerError
    from planner.ledger.errors import Problem as Problem
    from planner.ledger.importer import ImportResult as ImportResult
    from planner.ledger.importer import import_entries as import_entries
    from planner.ledger.importer import import_file as import_file
    from planner.ledger.plans import load_plan as load_plan
    from planner.ledger.plans import register_plan as register_plan
    from planner.ledger.reconcile import Flag as Flag
    from planner.ledger.reconcile import reconcile as reconcile
    from planner.ledger.records import RunClose as RunClose
    from planner.ledger.records import TallyEntry as TallyEntry
    from planner.ledger.report import month_report as month_report
    from planner.ledger.simulate import Truth as Truth
    from planner.ledger.simulate import simulate_month as simulate_month

# Imported on first use, so that `planner --help` does not load SQLAlchemy.
_LAZY = {
    "balances": "planner.ledger.accounts",
    "household_account": "planner.ledger.accounts",
    "Ledger": "planner.ledger.db",
    "open_ledger": "planner.ledger.db",
    "LedgerError": "planner.ledger.errors",
    "Problem": "planner.ledger.errors",
    "ImportResult": "planner.ledger.importer",
    "import_entries": "planner.ledger.importer",
    "import_file": "planner.ledger.importer",
    "load_plan": "planner.ledger.plans",
    "register_plan": "planner.ledger.plans",
    "Flag": "planner.ledger.reconcile",
    "reconcile": "planner.ledger.reconcile",
    "RunClose": "planner.ledger.records",
    "TallyEntry": "planner.ledger.records",
    "month_report": "planner.ledger.report",
    "Truth": "planner.ledger.simulate",
    "simulate_month": "planner.ledger.simulate",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes(__name__, _LAZY)
