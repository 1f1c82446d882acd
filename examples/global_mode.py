"""Global mode: every view is served over HTTPS only.

    python examples/global_mode.py                   # http and https on loopback, with a client
    flask --app examples/global_mode.py run          # or serve it yourself

GET over http gets 302 to the same URL on https; POST gets 307, so the
method and body survive. The https answer carries Strict-Transport-Security.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from flask import Flask, request

from flask_https_guard import HTTPSGuard


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    HTTPSGuard(app)

    @app.get("/")
    def index() -> str:
        return "Served over HTTPS only.\n"

    @app.route("/orders", methods=["GET", "POST"])
    def orders() -> str:
        if request.method == "POST":
            return f"order received: {request.get_data(as_text=True)}\n"
        return f"orders, page {request.args.get('page', '1')}\n"

    return app


if __name__ == "__main__":
    import loopback  # examples/loopback.py: servers on 127.0.0.1 and a client

    loopback.show(
        create_app,
        [
            ("GET", "/orders?page=2", None),
            ("POST", "/orders", "book=42"),
        ],
    )
