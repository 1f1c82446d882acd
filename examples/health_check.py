"""Global mode with a health check that load balancers call over plain HTTP.

    python examples/health_check.py                  # http and https on loopback, with a client
    flask --app examples/health_check.py run         # or serve it yourself

@exempt_https keeps /health on plain HTTP for probes. Browsers are another
matter: once a browser has the site's HSTS policy it uses https for the whole
host, /health included (see docs/hsts.rst). Behind a TLS-terminating proxy,
also set trusted_proxies (docs/proxies.rst).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from flask import Flask

from flask_https_guard import HTTPSGuard, exempt_https


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    HTTPSGuard(app)

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok\n"

    @app.get("/")
    def index() -> str:
        return "Served over HTTPS only.\n"

    return app


if __name__ == "__main__":
    import loopback  # examples/loopback.py: servers on 127.0.0.1 and a client

    loopback.show(
        create_app,
        [
            ("GET", "/health", None),
            ("GET", "/", None),
        ],
    )
