"""flask_https_guard.testing: the helpers for applications' own tests."""

from __future__ import annotations

import pytest
from flask import Flask, request

from flask_https_guard import HTTPSGuard
from flask_https_guard.testing import HTTPSClient, assert_redirects_to_https, https_client

from .helpers import build_app


def scheme_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(config)

    @app.route("/where", methods=["GET", "POST"])
    def where():
        return f"{request.scheme} {request.host} {request.path}"

    HTTPSGuard(app)
    return app


class TestHTTPSClient:
    def test_relative_urls_arrive_over_https(self):
        client = https_client(scheme_app())
        assert isinstance(client, HTTPSClient)
        response = client.get("/where")
        assert response.get_data(as_text=True) == "https app.test /where"
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"

    def test_server_name_is_the_host(self):
        response = https_client(scheme_app(SERVER_NAME="shop.example")).post("/where")
        assert response.get_data(as_text=True) == "https shop.example /where"

    def test_a_full_http_url_still_goes_over_http(self):
        response = https_client(scheme_app()).get("http://localhost/where")
        assert response.status_code == 302

    def test_an_explicit_base_url_wins(self):
        response = https_client(scheme_app()).get("/where", base_url="http://localhost")
        assert response.status_code == 302

    def test_following_a_redirect_from_http(self):
        response = https_client(scheme_app()).get("http://localhost/where", follow_redirects=True)
        assert response.get_data(as_text=True) == "https localhost /where"


def test_pytest_fixture_uses_the_app_fixture(https_client):
    # The `app` fixture is tests/conftest.py's; the plugin comes from the package.
    response = https_client.get("/form")
    assert response.get_data(as_text=True) == "GET "


class TestAssertRedirectsToHTTPS:
    def test_get_redirect_passes(self):
        response = build_app().test_client().get("/form?x=1")
        assert_redirects_to_https(response)
        assert_redirects_to_https(response, "https://localhost/form?x=1")

    def test_post_redirect_passes(self):
        response = build_app().test_client().post("/form", data="a=1")
        assert_redirects_to_https(response, "https://localhost/form")

    def test_a_served_request_fails(self):
        response = build_app().test_client().get("/health")
        with pytest.raises(AssertionError) as failure:
            assert_redirects_to_https(response)
        assert str(failure.value).splitlines() == [
            "GET http://localhost/health was not redirected to https as expected",
            "  status:   expected 301 or 302, got 200",
            "  Location: expected 'https://localhost/health', got no Location header",
            "  method:   GET, kept by any redirect",
        ]

    def test_a_post_turned_into_get_fails(self):
        app = Flask(__name__)

        @app.post("/old")
        def old():
            return "", 302, {"Location": "https://localhost/old"}

        response = app.test_client().post("/old")
        with pytest.raises(AssertionError) as failure:
            assert_redirects_to_https(response)
        assert str(failure.value).splitlines() == [
            "POST http://localhost/old was not redirected to https as expected",
            "  status:   expected 307 or 308, got 302",
            "  Location: expected 'https://localhost/old', got 'https://localhost/old'",
            "  method:   expected POST to be kept, got 302, which lets clients switch to GET",
        ]

    def test_a_wrong_location_fails(self):
        response = build_app(redirect_port=8443).test_client().post("/form")
        with pytest.raises(AssertionError) as failure:
            assert_redirects_to_https(response)
        assert str(failure.value).splitlines()[1:] == [
            "  status:   expected 307 or 308, got 307",
            "  Location: expected 'https://localhost/form', got 'https://localhost:8443/form'",
            "  method:   expected POST to be kept, got 307, which keeps it",
        ]
        assert_redirects_to_https(response, "https://localhost:8443/form")

    def test_a_redirect_without_location_fails(self):
        app = Flask(__name__)
        app.get("/")(lambda: ("", 302))
        with pytest.raises(AssertionError) as failure:
            assert_redirects_to_https(app.test_client().get("/"))
        assert str(failure.value).splitlines()[1:3] == [
            "  status:   expected 301 or 302, got 302",
            "  Location: expected 'https://localhost/', got no Location header",
        ]

    def test_a_request_that_was_already_https_fails(self):
        response = https_client(build_app()).get("/form")
        with pytest.raises(AssertionError) as failure:
            assert_redirects_to_https(response)
        assert str(failure.value).splitlines()[1:3] == [
            "  status:   expected 301 or 302, got 200",
            "  Location: expected an https URL, but 'https://app.test/form' is not plain HTTP,"
            " got no Location header",
        ]
