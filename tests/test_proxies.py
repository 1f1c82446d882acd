"""Proxy trust: which headers are believed, from whom, and the loop warning."""

from __future__ import annotations

import logging

import pytest
from flask import Flask, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_https_guard import HTTPSGuard, require_https

from .helpers import build_app

HSTS = "Strict-Transport-Security"


def get(app, **headers):
    # Not localhost: the guard sends no HSTS there.
    return app.test_client().get("/", base_url="http://app.test", headers=headers)


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
            # A client's own Forwarded is not read unless asked for.
            {"X-Forwarded-Proto": "https", "Forwarded": "for=192.0.2.1;proto=http"},
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
            {"Forwarded": "proto=https"},  # not read without trusted_proxy_headers
            {"X-Forwarded-Proto": ""},
            {"X-Forwarded-Proto": "garbage"},
        ],
    )
    def test_anything_but_https_from_the_proxy_is_insecure(self, headers):
        response = get(build_app(trusted_proxies=1), **headers)
        assert response.status_code == 302
        assert HSTS not in response.headers

    def test_a_clients_forwarded_header_cannot_loop_an_https_request(self):
        # nginx passes the client's Forwarded through untouched; before, the
        # guard believed "proto=http" and redirected https to itself.
        app = build_app(trusted_proxies=1)
        response = get(app, **{"X-Forwarded-Proto": "https", "Forwarded": "proto=http"})
        assert response.status_code == 200

    def test_direct_connection_without_headers_uses_the_wsgi_scheme(self):
        app = build_app(trusted_proxies=1)
        assert get(app).status_code == 302
        secure = app.test_client().get("/", base_url="https://app.test")
        assert secure.status_code == 200

    def test_zero_trusted_proxies_is_a_no_op(self):
        app = build_app(trusted_proxies=0)
        assert get(app, **{"X-Forwarded-Proto": "https"}).status_code == 302
        # Nothing but the guard's own middleware wraps the app.
        assert type(app.wsgi_app).__name__ == "GuardMiddleware"


class TestForwardedWhenAskedFor:
    @pytest.mark.parametrize(
        "header",
        [
            "for=192.0.2.1;proto=https",
            'for="[2001:db8::1]";proto="https"',
            "proto=http, for=192.0.2.1;proto=https",
        ],
    )
    def test_the_trusted_element_decides(self, header):
        app = build_app(trusted_proxies=1, trusted_proxy_headers=["forwarded"])
        assert get(app, Forwarded=header).status_code == 200

    @pytest.mark.parametrize(
        "header", ["proto=https, for=192.0.2.1;proto=http", 'proto="https', "for=192.0.2.1"]
    )
    def test_anything_else_is_insecure(self, header):
        app = build_app(trusted_proxies=1, trusted_proxy_headers=["forwarded"])
        assert get(app, Forwarded=header).status_code == 302

    def test_x_forwarded_proto_is_then_not_read(self):
        app = build_app(trusted_proxies=1, trusted_proxy_headers=["forwarded"])
        assert get(app, **{"X-Forwarded-Proto": "https"}).status_code == 302

    def test_counts_elements_from_the_right_outside_quotes(self):
        app = build_app(trusted_proxies=2, trusted_proxy_headers=["forwarded"])
        header = "for=6.6.6.6;proto=http, for=192.0.2.1;proto=https, for=10.0.0.1;proto=http"
        assert get(app, Forwarded=header).status_code == 200
        quoted = 'for="a,b";proto=https, for=10.0.0.1;proto=http'
        assert get(app, Forwarded=quoted).status_code == 200


class TestTheAppSeesWhatTheProxySaw:
    def app_reporting(self, **options):
        app = Flask(__name__)

        @app.get("/")
        def index():
            return (
                f"{request.scheme} {request.is_secure} {request.remote_addr}"
                f" {url_for('index', _external=True)}"
            )

        HTTPSGuard(app, **options)
        return app

    def test_scheme_client_address_and_url_for_behind_a_trusted_proxy(self):
        app = self.app_reporting(trusted_proxies=1)
        response = get(
            app, **{"X-Forwarded-Proto": "http, https", "X-Forwarded-For": "6.6.6.6, 203.0.113.7"}
        )
        assert response.get_data(as_text=True) == "https True 203.0.113.7 https://app.test/"

    def test_a_clients_unbalanced_quote_cannot_swallow_the_proxys_entries(self):
        # Werkzeug's ProxyFix reads quoted strings: '", https' would be one
        # entry, and an https request would loop.
        app = self.app_reporting(trusted_proxies=1)
        response = get(
            app, **{"X-Forwarded-Proto": '", https', "X-Forwarded-For": '", 203.0.113.7'}
        )
        assert response.get_data(as_text=True) == "https True 203.0.113.7 https://app.test/"

    def test_forwarded_host_and_port_only_when_asked_for(self):
        headers = {
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": "app.example",
            "X-Forwarded-Port": "8080",
        }
        plain = get(self.app_reporting(trusted_proxies=1), **headers)
        assert plain.headers["Location"] == "https://app.test/"
        opted = self.app_reporting(trusted_proxies=1, trusted_proxy_headers=["x_host", "x_port"])
        assert get(opted, **headers).headers["Location"] == "https://app.example:8080/"

    def test_spoofed_entries_do_not_make_the_app_think_it_is_secure(self):
        app = self.app_reporting(trusted_proxies=1, enabled=True)
        response = get(app, **{"X-Forwarded-Proto": "https, http"})
        assert response.status_code == 302

    def test_proxy_reporting_http_over_a_tls_hop_counts_as_insecure(self):
        app = self.app_reporting(trusted_proxies=1)
        response = app.test_client().get(
            "/", base_url="https://app.test", headers={"X-Forwarded-Proto": "http"}
        )
        assert response.status_code == 302


class TestUsersOwnProxyFix:
    @pytest.mark.parametrize("wrapped", ["before init_app", "after init_app"])
    def test_either_order_gets_hsts_and_no_redirect(self, wrapped):
        app = Flask(__name__)
        app.get("/")(lambda: "ok")
        if wrapped == "before init_app":
            app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
            HTTPSGuard(app)
        else:
            HTTPSGuard(app)
            app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        secure = get(app, **{"X-Forwarded-Proto": "https"})
        assert secure.status_code == 200
        assert secure.headers[HSTS] == "max-age=31536000"
        plain = get(app, **{"X-Forwarded-Proto": "http"})
        assert plain.status_code == 302
        assert HSTS not in plain.headers


class TestRequireHttpsWithoutGuardBehindProxy:
    def test_the_users_proxy_fix_is_honoured(self):
        app = Flask(__name__)
        app.get("/account")(require_https(lambda: "account"))
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)
        client = app.test_client()
        assert client.get("/account", headers={"X-Forwarded-Proto": "https"}).status_code == 200
        assert client.get("/account", headers={"X-Forwarded-Proto": "http"}).status_code == 302


class TestTwoTrustedProxies:
    def test_second_entry_from_the_right_decides(self):
        app = build_app(trusted_proxies=2)
        # client spoof, CDN's entry, load balancer's entry
        assert get(app, **{"X-Forwarded-Proto": "http, https, http"}).status_code == 200
        assert get(app, **{"X-Forwarded-Proto": "https, http, https"}).status_code == 302

    def test_fewer_entries_than_trusted_proxies_is_insecure(self):
        app = build_app(trusted_proxies=2)
        assert get(app, **{"X-Forwarded-Proto": "https"}).status_code == 302


class TestPlatformHTTPSHeader:
    @pytest.mark.parametrize(
        ("setting", "headers"),
        [
            ("X-ARR-SSL", {"X-ARR-SSL": "2048|256|CN=..."}),  # Azure App Service
            ("X-Forwarded-Ssl: on", {"X-Forwarded-Ssl": "on"}),  # Fly.io
            ("Front-End-Https: on", {"Front-End-Https": "On"}),
            # Cloudflare Flexible in front of an own nginx that replaces
            # X-Forwarded-Proto with its own hop's scheme.
            (
                'CF-Visitor: {"scheme":"https"}',
                {"CF-Visitor": '{"scheme":"https"}', "X-Forwarded-Proto": "http"},
            ),
        ],
    )
    def test_the_platform_header_says_https(self, setting, headers):
        app = build_app(trusted_proxies=1, https_header=setting)
        response = get(app, **headers)
        assert response.status_code == 200
        assert response.headers[HSTS] == "max-age=31536000"

    @pytest.mark.parametrize(
        ("setting", "headers"),
        [
            ("X-Forwarded-Ssl: on", {"X-Forwarded-Ssl": "off"}),
            ("X-Forwarded-Ssl: on", {}),
            ('CF-Visitor: {"scheme":"https"}', {"CF-Visitor": '{"scheme":"http"}'}),
        ],
    )
    def test_any_other_value_is_insecure(self, setting, headers):
        assert get(build_app(trusted_proxies=1, https_header=setting), **headers).status_code == 302

    def test_needs_a_trusted_proxy(self):
        with pytest.raises(ValueError, match=r"https_header.*trusted_proxies of 1 or more"):
            build_app(https_header="X-ARR-SSL")


class TestLoopWarning:
    @pytest.mark.parametrize(
        ("options", "headers", "names"),
        [
            ({}, {"X-Forwarded-Proto": "https"}, "trusted_proxies"),
            # A proxy that replaces the header leaves one entry, not two.
            ({"trusted_proxies": 2}, {"X-Forwarded-Proto": "https"}, "trusted_proxies=1"),
            ({"trusted_proxies": 1}, {"Forwarded": "for=1.2.3.4;proto=https"}, "'forwarded'"),
            (
                {"trusted_proxies": 1},
                {"X-Forwarded-Ssl": "on"},
                "https_header='X-Forwarded-Ssl: on'",
            ),
            ({"trusted_proxies": 1}, {"X-ARR-SSL": "2048|256"}, "https_header='X-ARR-SSL'"),
            ({}, {"CF-Visitor": '{"scheme":"https"}'}, "trusted_proxies=1"),
        ],
    )
    def test_warns_once_with_the_setting_that_fixes_it(self, caplog, options, headers, names):
        app = build_app(**options)
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            assert get(app, **headers).status_code == 302
            get(app, **headers)
        warnings = [record.getMessage() for record in caplog.records]
        assert len(warnings) == 1, warnings
        assert names in warnings[0]

    def test_no_warning_without_headers_saying_https(self, caplog):
        with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
            get(build_app(trusted_proxies=1), **{"X-Forwarded-Proto": "http"})
            get(build_app())
        assert caplog.records == []
