"""The Flask-SSLify drop-in, checked against the real Flask-SSLify 0.1.5."""

from __future__ import annotations

import flask_sslify
import pytest
from flask import Flask, current_app

from flask_https_guard import SSLify

from .helpers import HTTPS

HSTS = "Strict-Transport-Security"


def app_with(extension_class, config=None, **arguments) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})

    @app.route("/", methods=["GET", "POST"])
    def index():
        return "index"

    @app.get("/page")
    def page():
        return "page"

    @app.get("/health")
    def health():
        return "ok"

    @app.get("/own-hsts")
    def own_hsts():
        return "own", {HSTS: "max-age=60"}

    extension_class(app, **arguments)
    return app


SETUPS = [
    ({}, {}),
    ({}, {"permanent": True}),
    ({}, {"subdomains": True, "age": 600}),
    ({}, {"skips": ["health", "api"]}),
    ({"SSLIFY_PERMANENT": True, "SSLIFY_SUBDOMAINS": True}, {}),
    ({"SSLIFY_SKIPS": ["health"]}, {}),
]

REQUESTS = [
    ("GET", "http://localhost/", {}),
    ("HEAD", "http://localhost/", {}),
    ("GET", "http://localhost/page?x=1&y=two", {}),
    ("GET", "http://shop.example:8080/page", {}),
    ("GET", "http://localhost/no/such/page", {}),
    ("GET", "http://localhost/health", {}),
    ("GET", "http://localhost/healthz", {}),
    ("HEAD", "http://localhost/health/live", {}),
    ("GET", "https://localhost/", {}),
    ("HEAD", "https://localhost/page", {}),
    ("GET", "https://localhost/health", {}),
    ("GET", "https://localhost/own-hsts", {}),
    ("GET", "https://localhost/no/such/page", {}),
    ("GET", "http://localhost/page", {"X-Forwarded-Proto": "https"}),
    ("GET", "http://localhost/page", {"X-Forwarded-Proto": "http"}),
]


def answer(app, method, url, headers):
    response = app.test_client().open(url, method=method, headers=headers)
    return response.status_code, response.headers.get("Location"), response.headers.get(HSTS)


@pytest.mark.parametrize("config, arguments", SETUPS)
def test_same_answers_as_flask_sslify_015(config, arguments):
    # 0.1.5 predates the testing-mode fix, so compare with TESTING off.
    original = app_with(flask_sslify.SSLify, config, **arguments)
    drop_in = app_with(SSLify, config, **arguments)
    for method, url, headers in REQUESTS:
        expected = answer(original, method, url, headers)
        assert answer(drop_in, method, url, headers) == expected, (method, url, headers)


def test_the_comparison_can_fail():
    # Guard against a comparison that passes vacuously: a 302 differs from a 301.
    original = app_with(flask_sslify.SSLify, permanent=True)
    drop_in = app_with(SSLify)
    assert answer(original, "GET", "http://localhost/", {}) != answer(
        drop_in, "GET", "http://localhost/", {}
    )


def test_same_answers_in_debug_mode():
    original = app_with(flask_sslify.SSLify)
    drop_in = app_with(SSLify)
    original.debug = drop_in.debug = True
    for method, url, headers in REQUESTS:
        assert answer(drop_in, method, url, headers) == answer(original, method, url, headers)


class TestAttributes:
    def test_same_attributes_as_the_original(self):
        original = flask_sslify.SSLify(
            app_with(lambda app: None), age=600, subdomains=True, permanent=True, skips=["x"]
        )
        drop_in = SSLify(
            app_with(lambda app: None), age=600, subdomains=True, permanent=True, skips=["x"]
        )
        for name in (
            "hsts_age",
            "hsts_include_subdomains",
            "permanent",
            "skip_list",
            "hsts_header",
        ):
            assert getattr(drop_in, name) == getattr(original, name), name
        assert drop_in.hsts_header == "max-age=600; includeSubDomains"

    def test_app_attribute(self):
        app = Flask(__name__)
        assert SSLify(app).app is app

    def test_skip_property_reads_the_current_request(self):
        app = Flask(__name__)
        sslify = SSLify(app, skips=["health"])
        with app.test_request_context("/health/live"):
            assert sslify.skip is True
        with app.test_request_context("/page"):
            assert sslify.skip is False


class TestFixesFromTheMainBranch:
    def test_no_redirect_in_testing_mode(self):
        app = app_with(SSLify)
        app.testing = True
        assert app.test_client().get("/").status_code == 200

    def test_sslify_age_config_key(self):
        app = app_with(SSLify, {"SSLIFY_AGE": 600})
        response = app.test_client().get("/", base_url=HTTPS)
        assert response.headers[HSTS] == "max-age=600"

    def test_present_config_wins_over_the_constructor(self):
        app = app_with(
            SSLify, {"SSLIFY_PERMANENT": False, "SSLIFY_AGE": 600}, permanent=True, age=1200
        )
        assert app.test_client().get("/").status_code == 302
        assert app.test_client().get("/", base_url=HTTPS).headers[HSTS] == "max-age=600"

    def test_constructed_without_an_app_for_an_app_factory(self):
        sslify = SSLify(permanent=True, skips=["health"])
        assert sslify.permanent is True  # readable outside any app context

        def create_app():
            app = app_with(lambda app: None)
            sslify.init_app(app)
            return app

        first, second = create_app(), create_app()
        assert first.test_client().get("/").status_code == 301
        assert second.test_client().get("/health").status_code == 200
        with first.app_context():
            assert sslify.app.config is current_app.config

    def test_invalid_age_fails_at_init_app(self):
        with pytest.raises(ValueError, match=r"^age must be 0 or more"):
            app_with(SSLify, age=-1)


class TestDeliberateDifferences:
    @pytest.mark.parametrize("permanent, status", [(False, 307), (True, 308)])
    def test_post_keeps_its_method(self, permanent, status):
        app = app_with(SSLify, permanent=permanent)
        response = app.test_client().post("/", data="x=1")
        assert response.status_code == status
        assert response.headers["Location"] == "https://localhost/"

    def test_path_is_kept_byte_for_byte(self):
        app = app_with(SSLify)
        response = app.test_client().get("/a%2Fb?q=a%26b")
        assert response.headers["Location"] == "https://localhost/a%2Fb?q=a%26b"

    def test_forged_host_is_refused_under_trusted_hosts(self):
        app = app_with(SSLify, {"TRUSTED_HOSTS": ["shop.example"]})
        response = app.test_client().get("/", headers={"Host": "evil.example"})
        assert response.status_code == 400
        assert "Location" not in response.headers

    def test_redirect_runs_before_other_before_request_handlers(self):
        app = Flask(__name__)

        @app.before_request
        def basic_auth():
            return "log in", 401

        app.get("/")(lambda: "ok")
        SSLify(app)
        assert app.test_client().get("/").status_code == 302
