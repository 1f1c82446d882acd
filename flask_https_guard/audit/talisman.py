"""Flask-Talisman on the same app: found from its request hooks, read as
the few settings that overlap the guard (force_https and HSTS)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Optional

from flask import Flask


@dataclass(frozen=True)
class TalismanSettings:
    """What a Flask-Talisman installed on the same app does about https.

    Talisman registers no ``app.extensions`` entry; it adds bound methods of
    its instance as before_request and after_request functions.
    """

    force_https: bool
    permanent: bool
    hsts: Optional[str]

    @classmethod
    def of(cls, app: Flask) -> Optional[TalismanSettings]:
        """The settings of the Talisman on ``app``, or None."""
        # Only a Talisman the app already imported can be installed on it.
        module = sys.modules.get("flask_talisman")
        talisman_class = getattr(module, "Talisman", None)
        if talisman_class is None:
            return None
        for functions in (app.before_request_funcs, app.after_request_funcs):
            for function in (f for funcs in functions.values() for f in funcs):
                owner = getattr(function, "__self__", None)
                if isinstance(owner, talisman_class):
                    return cls._read(owner)
        return None

    @classmethod
    def _read(cls, talisman: Any) -> TalismanSettings:
        hsts = None
        if talisman.strict_transport_security:
            hsts = f"max-age={talisman.strict_transport_security_max_age}"
            if talisman.strict_transport_security_include_subdomains:
                hsts += "; includeSubDomains"
            if talisman.strict_transport_security_preload:
                hsts += "; preload"
        return cls(bool(talisman.force_https), bool(talisman.force_https_permanent), hsts)

    def redirects(self, app: Flask, endpoint: str) -> bool:
        """Whether Talisman redirects plain-HTTP requests to ``endpoint``."""
        if app.debug:
            return False
        view = app.view_functions.get(endpoint)
        view_options = getattr(view, "talisman_view_options", {})
        return bool(view_options.get("force_https", self.force_https))

    @property
    def status(self) -> int:
        """Talisman's redirect status, the same for every method."""
        return 301 if self.permanent else 302
