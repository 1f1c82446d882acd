"""The app gunicorn serves for the raw-socket tests (tests/test_bad_input.py).

Global mode, every method on every path, one exempt health check; options
come from FLASK_* environment variables.
"""

from flask import Flask, request

from flask_https_guard import HTTPSGuard, exempt_https

ALL_METHODS = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "OPTIONS",
    "TRACE",
    "CONNECT",
    "FOO",
]


def create_app(**options: object) -> Flask:
    """Global mode, every method on every path, one exempt health check."""
    app = Flask(__name__)
    app.config.from_prefixed_env()

    @app.route("/", defaults={"path": ""}, methods=ALL_METHODS)
    @app.route("/<path:path>", methods=ALL_METHODS)
    def anything(path: str) -> str:
        return f"{request.method} /{path}\n"

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok\n"

    HTTPSGuard(app, **options)
    return app


app = create_app()
