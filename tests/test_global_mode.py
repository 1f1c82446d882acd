"""Global mode: every insecure request is redirected to the same URL on https."""

from __future__ import annotations

import pytest
from flask import Flask, g

from flask_https_guard import HTTPSGuard
from flask_https_guard.testing import assert_redirects_to_https, https_client

from .helpers import HTTPS, build_app


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_and_head_get_302(client, method):
    response = client.open("/", method=method)
    assert response.status_code == 302
    assert_redirects_to_https(response, "https://localhost/")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_get_307_so_method_and_body_survive(client, method):
    response = client.open("/form", method=method, data="secret=1")
    assert response.status_code == 307
    assert_redirects_to_https(response, "https://localhost/form")


@pytest.mark.parametrize(
    "method, status", [("GET", 301), ("HEAD", 301), ("POST", 308), ("DELETE", 308)]
)
def test_permanent_uses_301_and_308(method, status):
    client = build_app(permanent=True).test_client()
    response = client.open("/form", method=method)
    assert response.status_code == status
    assert response.headers["Location"] == "https://localhost/form"


def test_post_redirect_body_arrives_when_followed(client):
    response = client.post("/form", data="name=ada", follow_redirects=True)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "POST name=ada"
    assert response.request.scheme == "https"


def test_unknown_url_is_redirected_too(client):
    response = client.get("/no/such/page?x=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/no/such/page?x=1"


def test_method_not_allowed_is_redirected_not_answered_over_http(client):
    response = client.post("/")
    assert response.status_code == 307


def test_secure_request_is_served(app):
    response = https_client(app).get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "index"


def test_redirect_runs_before_handlers_registered_earlier_and_later():
    app = Flask(__name__)
    asked_for_credentials = []

    @app.before_request
    def basic_auth_registered_first():
        asked_for_credentials.append("app, before guard")
        return "401 please log in", 401

    HTTPSGuard(app)

    @app.before_request
    def registered_after():
        asked_for_credentials.append("app, after guard")

    @app.get("/")
    def index():
        return "ok"

    response = app.test_client().get("/")
    assert response.status_code == 302
    assert asked_for_credentials == []
    # Over https the app's own handlers run as usual.
    assert app.test_client().get("/", base_url=HTTPS).status_code == 401


def test_redirect_runs_before_blueprint_handlers():
    from flask import Blueprint

    blueprint = Blueprint("admin", __name__)
    ran = []

    @blueprint.before_request
    def blueprint_hook():
        ran.append("blueprint")

    @blueprint.get("/admin")
    def admin():
        return "admin"

    app = Flask(__name__)
    app.register_blueprint(blueprint)
    HTTPSGuard(app)
    assert app.test_client().get("/admin").status_code == 302
    assert ran == []


def test_url_value_preprocessors_see_no_insecure_request_data():
    app = Flask(__name__)
    HTTPSGuard(app)

    @app.get("/")
    def index():
        return g.get("seen", "none")

    assert app.test_client().get("/").status_code == 302


class TestEnabled:
    def test_debug_app_is_not_redirected_by_default(self):
        app = build_app()
        app.debug = True
        assert app.test_client().get("/").status_code == 200

    def test_testing_mode_does_not_disable_the_guard(self):
        app = build_app()
        app.testing = True
        assert app.test_client().get("/").status_code == 302

    def test_enabled_true_redirects_even_in_debug(self):
        app = build_app(enabled=True)
        app.debug = True
        assert app.test_client().get("/").status_code == 302

    def test_enabled_false_serves_http_and_sends_no_hsts(self):
        app = build_app(enabled=False)
        client = app.test_client()
        assert client.get("/").status_code == 200
        secure = client.get("/", base_url=HTTPS)
        assert "Strict-Transport-Security" not in secure.headers

    def test_debug_switched_on_after_init_app_is_honoured(self):
        app = build_app()
        assert app.test_client().get("/").status_code == 302
        app.debug = True
        assert app.test_client().get("/").status_code == 200
