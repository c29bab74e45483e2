"""The ledger's errors: one :class:`Problem` per bad cell, one :class:`LedgerError` per file.

A rejected file lists every problem at once (file, row, column, what was expected,
what was found), so a clerk fixes the file in one pass, as the scenario loader does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planner._errors import PlannerError


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a tally or run-close file (or one record sent by the web view).

    ``row`` is the 1-based line of the file (the header is row 1) or the sheet's row;
    ``None`` when the problem concerns the whole file.
    """

    file: str
    row: int | None
    column: str | None
    expected: str
    found: str
    severity: str = "error"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: expected {self.expected}, found {self.found}"


class LedgerError(PlannerError, ValueError):
    """Input the ledger refuses: ``problems`` lists each one; nothing was recorded."""

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = ()
            super().__init__(problems)
            return
        self.problems = tuple(problems)
        shown = [str(p) for p in self.problems[:50]]
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"… and {more} more")
        head = f"{len(self.problems)} problem(s); nothing was recorded from this file:"
        super().__init__(head + "\n" + "\n".join(f"  - {s}" for s in shown))
