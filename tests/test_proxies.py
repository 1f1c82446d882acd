"""trusted_proxies: which X-Forwarded-Proto / Forwarded entries are believed."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_https_guard import HTTPSGuard, require_https

from .helpers import build_app

HSTS = "Strict-Transport-Security"


def get(app, **headers):
    return app.test_client().get("/", headers=headers)


class TestNoTrustedProxy:
    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Forwarded-Proto": "https"},
            {"Forwarded": "proto=https"},
            {"X-Forwarded-Proto": "https", "Forwarded": "for=1.2.3.4;proto=https"},
        ],
    )
    def test_spoofed_headers_do_not_skip_the_redirect(self, headers):
        response = get(build_app(), **headers)
        assert response.status_code == 302
        assert HSTS not in response.headers

    def test_one_warning_names_trusted_proxies(self, caplog):
        app = build_app()
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            get(app, **{"X-Forwarded-Proto": "https"})
            get(app, **{"X-Forwarded-Proto": "https"})
            get(app, Forwarded="proto=https")
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert "trusted_proxies" in warnings[0]

    def test_no_warning_without_proxy_headers(self, caplog):
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            get(build_app())
        assert caplog.records == []

    def test_werkzeug_proxy_fix_sets_the_scheme_the_guard_reads(self):
        app = build_app()
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        response = get(app, **{"X-Forwarded-Proto": "https"})
        assert response.status_code == 200
        assert response.headers[HSTS] == "max-age=31536000"
        assert get(app, **{"X-Forwarded-Proto": "http"}).status_code == 302


class TestOneTrustedProxy:
    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Forwarded-Proto": "https"},
            {"X-Forwarded-Proto": "http, https"},  # client's entry, then the proxy's
            {"X-Forwarded-Proto": "HTTPS"},
            {"Forwarded": "for=192.0.2.1;proto=https"},
            {"Forwarded": 'for="[2001:db8::1]";proto="https"'},
            {"Forwarded": "proto=http, for=192.0.2.1;proto=https"},
            {"X-Forwarded-Proto": "https", "Forwarded": "for=192.0.2.1;proto=https"},
        ],
    )
    def test_proxy_reporting_https_is_believed(self, headers):
        response = get(build_app(trusted_proxies=1), **headers)
        assert response.status_code == 200
        assert response.headers[HSTS] == "max-age=31536000"

    @pytest.mark.parametrize(
        "headers",
        [
            {"X-Forwarded-Proto": "http"},
            {"X-Forwarded-Proto": "https, http"},  # client spoofed https, proxy says http
            {"Forwarded": "proto=https, for=192.0.2.1;proto=http"},
            {"X-Forwarded-Proto": "http", "Forwarded": "proto=https"},  # disagree
            {"X-Forwarded-Proto": "https", "Forwarded": "proto=http"},  # disagree
            {"X-Forwarded-Proto": ""},
            {"X-Forwarded-Proto": "garbage"},
            {"Forwarded": 'proto="https'},  # unbalanced quote
        ],
    )
    def test_anything_but_https_from_the_proxy_is_insecure(self, headers):
        response = get(build_app(trusted_proxies=1), **headers)
        assert response.status_code == 302
        assert HSTS not in response.headers

    def test_forwarded_element_without_proto_defers_to_x_forwarded_proto(self):
        app = build_app(trusted_proxies=1)
        headers = {"Forwarded": "for=192.0.2.1", "X-Forwarded-Proto": "https"}
        assert get(app, **headers).status_code == 200

    def test_direct_connection_without_headers_uses_the_wsgi_scheme(self):
        app = build_app(trusted_proxies=1)
        assert get(app).status_code == 302
        secure = app.test_client().get("/", base_url="https://localhost")
        assert secure.status_code == 200


class TestTheAppSeesTheSameScheme:
    def app_reporting_its_scheme(self, **options):
        app = Flask(__name__)

        @app.get("/")
        def index():
            return f"{request.scheme} {request.is_secure} {url_for('index', _external=True)}"

        HTTPSGuard(app, **options)
        return app

    def test_request_scheme_and_url_for_say_https_behind_a_trusted_proxy(self):
        app = self.app_reporting_its_scheme(trusted_proxies=1)
        response = get(app, **{"X-Forwarded-Proto": "http, https"})
        assert response.get_data(as_text=True) == "https True https://localhost/"

    def test_spoofed_entries_do_not_make_the_app_think_it_is_secure(self):
        app = self.app_reporting_its_scheme(trusted_proxies=1, enabled=True)
        response = get(app, **{"X-Forwarded-Proto": "https, http"})
        assert response.status_code == 302

    def test_proxy_reporting_http_over_a_tls_hop_counts_as_insecure(self):
        app = self.app_reporting_its_scheme(trusted_proxies=1)
        response = app.test_client().get(
            "/", base_url="https://localhost", headers={"X-Forwarded-Proto": "http"}
        )
        assert response.status_code == 302


class TestRequireHttpsWithoutGuardBehindProxy:
    def test_fallback_reads_trusted_proxies_from_config(self):
        app = Flask(__name__)
        app.config["HTTPS_GUARD_TRUSTED_PROXIES"] = 1
        app.get("/account")(require_https(lambda: "account"))
        client = app.test_client()
        assert client.get("/account", headers={"X-Forwarded-Proto": "https"}).status_code == 200
        assert (
            client.get("/account", headers={"X-Forwarded-Proto": "https, http"}).status_code == 302
        )


class TestTwoTrustedProxies:
    def test_second_entry_from_the_right_decides(self):
        app = build_app(trusted_proxies=2)
        # client spoof, CDN's entry, load balancer's entry
        assert get(app, **{"X-Forwarded-Proto": "http, https, http"}).status_code == 200
        assert get(app, **{"X-Forwarded-Proto": "https, http, https"}).status_code == 302

    def test_fewer_entries_than_trusted_proxies_is_insecure(self):
        app = build_app(trusted_proxies=2)
        assert get(app, **{"X-Forwarded-Proto": "https"}).status_code == 302
        assert get(app, Forwarded="proto=https").status_code == 302

    def test_forwarded_counts_elements_from_the_right(self):
        app = build_app(trusted_proxies=2)
        header = "for=6.6.6.6;proto=http, for=192.0.2.1;proto=https, for=10.0.0.1;proto=http"
        assert get(app, Forwarded=header).status_code == 200

    def test_quoted_commas_do_not_split_forwarded_elements(self):
        app = build_app(trusted_proxies=2)
        header = 'for="a,b";proto=https, for=10.0.0.1;proto=http'
        assert get(app, Forwarded=header).status_code == 200
