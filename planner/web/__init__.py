"""`planner serve`: the drivers' phone view, the office's browser view and their JSON API.

``create_app(WebConfig(plans=..., db_url=...))`` builds the FastAPI application;
see ``docs/web.md``. Imported lazily, so that ``planner --help`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.web.app import WebConfig as WebConfig
    from planner.web.app import create_app as create_app

__all__ = ["WebConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from planner.web import app

        return getattr(app, name)
    raise AttributeError(name)
