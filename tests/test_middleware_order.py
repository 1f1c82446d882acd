"""Middleware wrapped around app.wsgi_app before or after init_app.

After init_app (or with nothing wrapped), the guard answers plain HTTP
before the app. Before init_app, the middleware inside the guard may change
the scheme, so the app's first before_request function redirects, and what
that middleware answers by itself is judged as its response starts.
"""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.middleware.shared_data import SharedDataMiddleware

from flask_https_guard import HTTPSGuard

from .helpers import HTTPS

HSTS = "Strict-Transport-Security"


def lazy_wsgi_app(environ, start_response):
    # Calls start_response only when its body is first iterated.
    yield from ()
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"lazy answer"


def mounted_app(wrap_first: bool, tmp_path, **options) -> Flask:
    app = Flask(__name__)
    app.get("/")(lambda: "front")
    (tmp_path / "app.js").write_text("console.log(1)")

    def wrap():
        app.wsgi_app = SharedDataMiddleware(app.wsgi_app, {"/assets": str(tmp_path)})
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/lazy": lazy_wsgi_app})

    if wrap_first:
        wrap()
        HTTPSGuard(app, **options)
    else:
        HTTPSGuard(app, **options)
        wrap()
    return app


@pytest.mark.parametrize("path", ["/", "/assets/app.js", "/lazy/x"])
def test_plain_http_is_redirected_whatever_answers_it_inside_the_guard(tmp_path, path):
    app = mounted_app(True, tmp_path)
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost" + path
    assert response.get_data() == b""


@pytest.mark.parametrize(
    ("path", "body"),
    [("/", b"front"), ("/assets/app.js", b"console.log(1)"), ("/lazy/x", b"lazy answer")],
)
def test_https_is_served_with_hsts_whatever_answers_it_inside_the_guard(tmp_path, path, body):
    app = mounted_app(True, tmp_path)
    response = app.test_client().get(path, base_url=HTTPS)
    assert response.status_code == 200
    assert response.get_data() == body
    assert response.headers[HSTS] == "max-age=31536000"


def test_middleware_wrapped_after_init_app_is_outside_the_guard(tmp_path):
    # What it answers by itself never reaches the guard; the app still is.
    app = mounted_app(False, tmp_path)
    client = app.test_client()
    assert client.get("/").status_code == 302
    assert client.get("/assets/app.js").status_code == 200
    assert HSTS not in client.get("/assets/app.js", base_url=HTTPS).headers


def test_skips_cover_what_middleware_answers(tmp_path):
    app = mounted_app(True, tmp_path, skips=["assets"])
    assert app.test_client().get("/assets/app.js").status_code == 200
    assert app.test_client().get("/lazy/x").status_code == 302


def test_per_view_mode_leaves_middleware_answers_alone(tmp_path):
    app = mounted_app(True, tmp_path, global_mode=False)
    assert app.test_client().get("/assets/app.js").status_code == 200


def test_an_inner_proxy_fix_saying_https_is_believed_for_middleware_answers(tmp_path):
    app = Flask(__name__)
    (tmp_path / "app.js").write_text("x")
    app.wsgi_app = SharedDataMiddleware(app.wsgi_app, {"/assets": str(tmp_path)})
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
    HTTPSGuard(app)
    client = app.test_client()
    secure = client.get("/assets/app.js", "http://app.test", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure.headers[HSTS] == "max-age=31536000"
    assert client.get("/assets/app.js", headers={"X-Forwarded-Proto": "http"}).status_code == 302
