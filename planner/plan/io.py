"""Read, validate and write plan files (format ``rural-waste-plan/1``).

``plan.schema.json`` beside this module is a verbatim copy of the public contract
(``contracts/plan.schema.json`` of the shared project documents, described in
``contracts/PLAN_FORMAT.md``); a test keeps the two identical. Edit the contract,
then copy it here — never the other way round.
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from planner._errors import PlanError

PLAN_FORMAT = "rural-waste-plan/1"
SCHEMA_NAME = "plan.schema.json"


def read_plan(path: Path) -> dict[str, Any]:
    """Read a plan file and check that it is a ``rural-waste-plan/1`` object.

    Parameters
    ----------
    path
        The ``plan.json`` file, or the folder holding it.

    Returns
    -------
    dict
        The plan as parsed; see :func:`validate_schema` and
        :func:`planner.plan.check_plan` for its content.

    Raises
    ------
    PlanError
        When the file is missing or unreadable, is not JSON (the message gives the
        line and column), is not a JSON object, or declares another format.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "plan.json"
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from Windows editors is fine
    except FileNotFoundError:
        raise PlanError(f"{path}: plan file not found") from None
    except UnicodeDecodeError:
        raise PlanError(f"{path}: expected a UTF-8 JSON file, found other bytes") from None
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan file ({exc.strerror})") from None
    try:
        plan = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        msg = f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        raise PlanError(msg) from None
    except ValueError as exc:  # from _no_constant, which knows no position
        raise PlanError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(plan, dict):
        raise PlanError(f"{path}: expected a JSON object, found {type(plan).__name__}")
    found = plan.get("format")
    if found != PLAN_FORMAT:
        raise PlanError(f"{path}: expected format {PLAN_FORMAT!r}, found {found!r}")
    return plan


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have.
    raise ValueError(f"{name} is not a JSON number")


def load_schema() -> dict[str, Any]:
    """The plan's JSON Schema, as packaged with the planner."""
    text = resources.files("planner.plan").joinpath(SCHEMA_NAME).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema())


def validate_schema(plan: Any) -> list[str]:
    """Check ``plan`` against the JSON Schema of the format (Draft 2020-12).

    Returns
    -------
    list of str
        One message per problem, each starting with its JSON path
        (``$.runs[0].steps[3].leg_km: -1 is less than the minimum of 0``), sorted
        by path; empty when the plan conforms. Numbers must also be finite (no NaN
        or Infinity, which JSON lacks but Python writes).
    """
    # Siblings share a key type (index or name), so raw paths compare safely.
    errors = sorted(_validator().iter_errors(plan), key=lambda e: list(e.path))
    return [f"{e.json_path}: {e.message}" for e in errors] + _non_finite(plan, "$")


def _non_finite(value: Any, path: str) -> list[str]:
    # JSON has no NaN or Infinity, but Python's json module reads and writes them and
    # the schema's number type lets them through; every comparison with NaN is false,
    # so a plan holding one would pass every later check.
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{path}: {value} is not a finite number"]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _non_finite(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _non_finite(v, f"{path}[{i}]")]
    return []


def read_run_record(plan_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """The scenario file named in a plan folder's ``run.json`` (written by ``planner
    run``), and the whole record; None when it is missing or not readable, so that each
    caller can say what to give instead."""
    try:
        meta = json.loads((plan_dir / "run.json").read_text(encoding="utf-8"))
        return Path(meta["scenario_path"]), meta
    except (OSError, ValueError, KeyError, TypeError):
        return None
