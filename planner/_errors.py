"""Errors and warnings of the planner, in one leaf module.

Every problem with the user's input is a :class:`Issue` naming the file, the
place in it (a TOML key path or a CSV row and column), what was expected and what
was found. Loading collects all issues and raises one :class:`ScenarioError` that
lists them, so a user fixes their files in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Issue:
    """One problem found in the input.

    Parameters
    ----------
    file
        The file the problem is in (``None`` when it concerns the whole scenario).
    where
        Key path (``fleet[2].depot``) or CSV location (``row 14, column lon``).
    message
        What was expected and what was found, as a plain sentence.
    severity
        ``"error"`` or ``"warning"``; ``--strict`` turns warnings into errors.
    """

    file: str | None
    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        loc = ": ".join(part for part in (self.file, self.where) if part)
        return f"{loc}: {self.message}" if loc else self.message


def issue(file: str | Path | None, where: str, message: str, *, warning: bool = False) -> Issue:
    """Make an :class:`Issue`, shortening ``file`` to its name relative to the cwd."""
    name = None
    if file is not None:
        p = Path(file)
        try:
            name = str(p.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            name = str(p)
    return Issue(name, where, message, "warning" if warning else "error")


class PlannerError(Exception):
    """Base class of the planner's own errors."""


class ScenarioError(PlannerError, ValueError):
    """The scenario or its data files are invalid; ``issues`` lists every problem."""

    def __init__(self, issues: Iterable[Issue]):
        self.issues = tuple(issues)
        lines = [str(i) for i in self.issues]
        super().__init__(
            f"{len(lines)} problem(s) in the scenario:\n" + "\n".join(f"  - {ln}" for ln in lines)
        )


class NetworkError(PlannerError, ValueError):
    """The road network cannot connect some places; the message names them."""


class InstanceError(PlannerError, ValueError):
    """A benchmark instance or solution file is malformed; the message names it."""


def instance_error(file: str | Path | None, where: str, expected: str, found: str) -> InstanceError:
    """``file: where: expected EXPECTED, found FOUND.`` as an :class:`InstanceError`."""
    return InstanceError(str(issue(file, where, f"expected {expected}, found {found}.")))


class PlanError(PlannerError, ValueError):
    """A plan file cannot be read or does not match its scenario."""


class PlannerWarning(UserWarning):
    """A soft problem in the input (a point far from any road, say)."""
