"""planner._lazy: package faces whose names are imported on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import planner
import planner.ledger
from planner._lazy import lazy_attributes


def test_a_listed_name_comes_from_its_module() -> None:
    getattr_ = lazy_attributes("pkg", {"dumps": "json"})
    import json

    assert getattr_("dumps") is json.dumps


def test_an_unlisted_name_is_an_attribute_error_naming_the_package() -> None:
    getattr_ = lazy_attributes("pkg", {"dumps": "json"})
    with pytest.raises(AttributeError, match=r"module 'pkg' has no attribute 'loads'"):
        getattr_("loads")
    with pytest.raises(AttributeError, match=r"module 'planner\.ledger' has no attribute 'nope'"):
        _ = planner.ledger.nope  # type: ignore[attr-defined]


def test_the_package_faces_resolve_every_name_they_list() -> None:
    import planner.dist
    import planner.forecast
    import planner.replan

    for package in (planner, planner.dist, planner.forecast, planner.ledger, planner.replan):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)


def test_importing_the_faces_loads_neither_sqlalchemy_nor_the_solver() -> None:
    code = (
        "import sys, planner, planner.ledger, planner.dist, planner.replan; "
        "print(sorted(m for m in ('sqlalchemy', 'pyvrp', 'planner.solve.month') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_starting_the_command_loads_no_heavy_library() -> None:
    """`planner ledger report` should answer in well under a second, start-up included."""
    heavy = ("sqlalchemy", "scipy", "pandas", "pyvrp", "ortools", "openpyxl", "planner.solve")
    code = (
        "import sys, planner.cli, planner.forecast; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
