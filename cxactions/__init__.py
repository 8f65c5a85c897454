"""cxactions: connect CX challenges to the fixes a company owns, and measure which fixes work.

The application factory lives in :mod:`cxactions.app`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy: every ``import cxactions.x`` runs this file first, and the factory imports every
    # feature, so an eager import would load Flask and the whole app for a pure module.
    if name == "create_app":
        from cxactions.app import create_app

        return create_app
    raise AttributeError(f"module 'cxactions' has no attribute {name!r}")
