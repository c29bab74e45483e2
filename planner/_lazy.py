"""Package faces that import their names on first use (PEP 562).

A package's ``__init__`` lists each public name with the module that defines it;
the module is imported when the name is first read, so ``planner --help`` does not
pay for SQLAlchemy, pydantic models or the solver it does not need.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that reads ``name`` from ``where[name]``."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
