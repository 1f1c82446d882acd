"""What the ``flask https-guard`` commands report, as plain data.

``route_policies`` lists what a plain-HTTP request to each URL rule gets;
``check_app`` audits the effective configuration for production. Both ask the
app's own :class:`~flask_https_guard.guard.Guard`; the finding IDs are listed
in :mod:`flask_https_guard.findings` and documented in ``docs/cli.rst``.
"""

from __future__ import annotations

from ..findings import LEVELS, Finding, reaches
from .checks import check_app
from .routes import RoutePolicy, route_policies
from .talisman import TalismanSettings

__all__ = [
    "LEVELS",
    "Finding",
    "RoutePolicy",
    "TalismanSettings",
    "check_app",
    "reaches",
    "route_policies",
]
