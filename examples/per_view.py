"""Per-view mode: only the views and blueprints marked @require_https.

A public site whose account pages and admin blueprint need HTTPS, while the
rest is still served over plain HTTP.

    python examples/per_view.py                      # http and https on loopback, with a client
    flask --app examples/per_view.py run             # or serve it yourself
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from flask import Blueprint, Flask

from flask_https_guard import HTTPSGuard, require_https


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    HTTPSGuard(app, global_mode=False)

    admin = require_https(Blueprint("admin", __name__, url_prefix="/admin"))

    @admin.get("/users")
    def users() -> str:
        return "admin: users\n"

    app.register_blueprint(admin)

    @app.get("/")
    def home() -> str:
        return "public home page, http is fine\n"

    @app.get("/account")
    @require_https
    def account() -> str:
        return "your account (HTTPS only)\n"

    return app


if __name__ == "__main__":
    import loopback  # examples/loopback.py: servers on 127.0.0.1 and a client

    loopback.show(
        create_app,
        [
            ("GET", "/", None),
            ("GET", "/account", None),
            ("GET", "/admin/users", None),
        ],
    )
