"""The Jinja2 environment of the outputs' HTML: templates in ``planner/export/templates``.

Autoescaping is on for every template, so a place or household name is always
text, never markup; only SVG that the planner draws itself (whose text it escapes)
is passed through with ``|safe``. Undefined names are errors, not blanks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The shared environment (made once per process)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> str:
    """Template ``name`` rendered with ``context``."""
    return environment().get_template(name).render(**context)


def css_string(text: str) -> str:
    """``text`` as the inside of a double-quoted CSS string (no ``</style>`` possible)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ").replace("\n", " ")
