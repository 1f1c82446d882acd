"""What the ``flask https-guard`` commands report, as plain data: ``route_policies``
(what a plain-HTTP request to each URL rule gets) and ``check_app`` (the configuration,
audited for production). The finding IDs live in :mod:`flask_https_guard.findings`.
"""

from __future__ import annotations

from .checks import check_app
from .routes import RoutePolicy, route_policies

__all__ = ["RoutePolicy", "check_app", "route_policies"]
