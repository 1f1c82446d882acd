"""HSTS goes on every secure response of a guarded app, never on an insecure one."""

from __future__ import annotations

import pytest
from flask import Flask, abort

from flask_https_guard import HTTPSGuard, exempt_https

from .helpers import HTTPS, build_app

HSTS = "Strict-Transport-Security"


def error_app(**options) -> Flask:
    app = Flask(__name__)
    # A real 500 page instead of the exception propagating into the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    @app.get("/crash")
    def crash():
        raise RuntimeError("boom")

    @app.get("/own")
    def own():
        return "own", {HSTS: "max-age=60"}

    @app.get("/slash/")
    def slash():
        return "slash"

    @app.get("/health")
    @exempt_https
    def health():
        return "ok"

    HTTPSGuard(app, **options)
    return app


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/health", 200),
        ("GET", "/forbidden", 403),
        ("GET", "/missing", 404),
        ("POST", "/health", 405),
        ("GET", "/crash", 500),
        ("GET", "/slash", 308),  # Flask's own trailing-slash redirect
    ],
)
def test_every_secure_response_gets_hsts(method, path, status):
    response = error_app().test_client().open(path, method=method, base_url=HTTPS)
    assert response.status_code == status
    assert response.headers[HSTS] == "max-age=31536000"


def test_header_set_by_the_view_is_kept():
    response = error_app().test_client().get("/own", base_url=HTTPS)
    assert response.headers.getlist(HSTS) == ["max-age=60"]


@pytest.mark.parametrize("path", ["/health", "/missing", "/forbidden"])
def test_insecure_responses_never_get_hsts(path):
    response = error_app().test_client().get(path)
    assert HSTS not in response.headers


def test_redirect_itself_carries_no_hsts():
    response = build_app().test_client().get("/")
    assert response.status_code == 302
    assert HSTS not in response.headers


def test_hsts_options_shape_the_header():
    app = build_app(hsts_max_age=63072000, hsts_include_subdomains=True, hsts_preload=True)
    response = app.test_client().get("/", base_url=HTTPS)
    assert response.headers[HSTS] == "max-age=63072000; includeSubDomains; preload"


def test_hsts_false_sends_none():
    response = build_app(hsts=False).test_client().get("/", base_url=HTTPS)
    assert response.status_code == 200
    assert HSTS not in response.headers


def test_hsts_config_keys_are_read():
    app = Flask(__name__)
    app.config.update(HTTPS_GUARD_HSTS_MAX_AGE=600, HTTPS_GUARD_HSTS_INCLUDE_SUBDOMAINS=True)
    app.get("/")(lambda: "ok")
    HTTPSGuard(app)
    response = app.test_client().get("/", base_url=HTTPS)
    assert response.headers[HSTS] == "max-age=600; includeSubDomains"


def test_hsts_runs_after_the_apps_other_after_request_handlers():
    app = Flask(__name__)
    HTTPSGuard(app)

    @app.after_request
    def replace_response(response):
        # An app that swaps the response object in its own hook.
        return app.response_class("replaced")

    app.get("/")(lambda: "ok")
    response = app.test_client().get("/", base_url=HTTPS)
    assert response.get_data(as_text=True) == "replaced"
    assert response.headers[HSTS] == "max-age=31536000"


def test_a_500_raised_by_another_after_request_handler_gets_hsts():
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    HTTPSGuard(app)

    @app.after_request
    def broken(response):
        raise RuntimeError("after_request failed")

    app.get("/")(lambda: "ok")
    response = app.test_client().get("/", base_url=HTTPS)
    assert response.status_code == 500
    assert response.headers[HSTS] == "max-age=31536000"


def test_an_unrouted_secure_request_gets_hsts_on_its_404():
    response = build_app().test_client().get("/nowhere", base_url=HTTPS)
    assert response.status_code == 404
    assert response.headers[HSTS] == "max-age=31536000"
