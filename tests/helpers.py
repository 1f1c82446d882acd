"""Apps the tests share: real Flask apps, driven by the test client."""

from __future__ import annotations

import importlib
import pathlib
import sys
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask, request
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from flask_https_guard import HTTPSGuard, exempt_https, require_https

HTTPS = "https://app.test"


def build_app(**guard_options: Any) -> Flask:
    """An app with a plain view, a form that echoes its body, and a health check."""
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return "index"

    @app.route("/form", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def form() -> str:
        return f"{request.method} {request.get_data(as_text=True)}"

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok"

    HTTPSGuard(app, **guard_options)
    return app


def get_served(client: Any, path: str, body: bytes, **options: Any) -> Any:
    """GET ``path`` with the test ``client``; assert a 200 with ``body``; the response."""
    response = client.get(path, **options)
    assert (response.status_code, response.get_data()) == (200, body)
    return response


def add_health_and_account(app: Flask) -> Flask:
    """GET /health (``@exempt_https``, "ok") and GET /account (``@require_https``, "account")."""

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok"

    @app.get("/account")
    @require_https
    def account() -> str:
        return "account"

    return app


def add_refusing_views(app: Flask) -> Flask:
    """POST /token (``@require_https(refuse=True)``) and GET /api/items (a blueprint
    marked with ``refuse=True``)."""

    @app.post("/token")
    @require_https(refuse=True)
    def token() -> str:
        return "token"

    api = require_https(Blueprint("api", __name__, url_prefix="/api"), refuse=True)
    api.get("/items")(lambda: "items")
    app.register_blueprint(api)
    return app


EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def import_example(name: str) -> ModuleType:
    """Import a module from examples/ (they are scripts, not a package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def call_wsgi(app: Flask, path: str = "/", **environ: Any) -> Response:
    """Call the app as a WSGI server would, with raw environ values.

    For inputs the test client cannot carry (Werkzeug 2.3's client itself
    fails on a malformed Host while handling cookies).
    """
    built = EnvironBuilder(path=path).get_environ()
    built.update(environ)
    return Response.from_app(app, built)


def flask_refuses_untrusted_hosts() -> bool:
    """Flask answers a Host outside TRUSTED_HOSTS with 400 from 3.1 on; before,
    it serves the request (the guard only refuses such hosts in its redirects)."""
    from importlib.metadata import version

    return tuple(int(part) for part in version("flask").split(".")[:2]) >= (3, 1)


#: What Flask itself answers a request to a Host outside TRUSTED_HOSTS.
UNTRUSTED_HOST_STATUS = 400 if flask_refuses_untrusted_hosts() else 200
