"""No HSTS for localhost (issue 18, point 4).

A browser that caches HSTS for ``localhost`` refuses every plain-HTTP dev
server on it afterwards, on any port. So responses to ``Host: localhost`` or
``*.localhost`` (any port) get neither HSTS nor ``upgrade-insecure-requests``,
in global mode, per-view mode and from marks without a guard. ``Secure``
cookies are still applied. IP literals keep HSTS (browsers ignore it there).
The SSLify drop-in is unchanged: it sends HSTS like Flask-SSLify did.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, Flask, make_response
from flask.views import View

from flask_https_guard import HTTPSGuard, SSLify, exempt_https, require_https
from flask_https_guard.testing import TEST_HOST, https_client

HSTS = "Strict-Transport-Security"
CSP = "Content-Security-Policy"
HSTS_VALUE = "max-age=31536000"

LOCAL = [
    "localhost",
    "LOCALHOST",
    "localhost.",
    "localhost:5000",
    "localhost:443",
    "foo.localhost",
    "Foo.LocalHost",
    "api.dev.localhost",
    "foo.localhost:8443",
]
NOT_LOCAL = [
    "app.test",
    "app.test:8443",
    "example.com",
    "localhost.example.com",
    "mylocalhost",
    "localhost-dev",
    "localhostx.test",
    "127.0.0.1",
    "127.0.0.1:5000",
    "[::1]",
    "[::1]:5000",
]


def page_app(**options) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        response = make_response("index")
        response.set_cookie("token", "abc")
        return response

    @app.get("/csp")
    def csp():
        return "csp", {CSP: "default-src 'self'"}

    @app.get("/own")
    def own():
        return "own", {HSTS: "max-age=60"}

    options.setdefault("upgrade_insecure_requests", True)
    HTTPSGuard(app, **options)
    return app


# --- Global mode --------------------------------------------------------------


@pytest.mark.parametrize("host", LOCAL)
def test_no_hsts_and_no_upgrade_for_localhost(host):
    client = page_app().test_client()
    response = client.get("/", base_url=f"https://{host}")
    assert response.status_code == 200
    assert HSTS not in response.headers
    assert CSP not in response.headers
    csp = client.get("/csp", base_url=f"https://{host}")
    assert csp.headers[CSP] == "default-src 'self'"  # left as the view set it


@pytest.mark.parametrize("host", LOCAL)
def test_secure_cookies_still_apply_on_localhost(host):
    response = page_app().test_client().get("/", base_url=f"https://{host}")
    assert response.headers["Set-Cookie"] == "token=abc; Path=/; Secure"


@pytest.mark.parametrize("host", NOT_LOCAL)
def test_hsts_and_upgrade_for_other_hosts_and_ip_literals(host):
    client = page_app().test_client()
    response = client.get("/", base_url=f"https://{host}")
    assert response.headers[HSTS] == HSTS_VALUE
    assert response.headers[CSP] == "upgrade-insecure-requests"
    assert response.headers["Set-Cookie"] == "token=abc; Path=/; Secure"
    csp = client.get("/csp", base_url=f"https://{host}")
    assert csp.headers[CSP] == "default-src 'self'; upgrade-insecure-requests"


@pytest.mark.parametrize("host", ["localhost", "app.test"])
def test_a_views_own_hsts_is_kept(host):
    response = page_app().test_client().get("/own", base_url=f"https://{host}")
    assert response.headers.getlist(HSTS) == ["max-age=60"]


@pytest.mark.parametrize("path", ["/missing", "/error"])
def test_error_pages_on_localhost_get_no_hsts_either(path):
    app = page_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/error")
    def error():
        raise RuntimeError("boom")

    client = app.test_client()
    assert HSTS not in client.get(path, base_url="https://localhost").headers
    assert client.get(path, base_url="https://app.test").headers[HSTS] == HSTS_VALUE


def test_the_host_is_the_one_the_trusted_proxy_reports():
    app = page_app(trusted_proxies=1, trusted_proxy_headers=["x_host"])
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost:5000"}
    assert HSTS not in client.get("/", base_url="http://app.internal", headers=forwarded).headers
    forwarded["X-Forwarded-Host"] = "app.test"
    response = client.get("/", base_url="http://localhost", headers=forwarded)
    assert response.headers[HSTS] == HSTS_VALUE


def test_an_untrusted_forwarded_host_is_not_believed():
    # Without x_host trust the Host header decides, not what a client forwards.
    client = page_app(trusted_proxies=1).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost"}
    response = client.get("/", base_url="http://app.test", headers=forwarded)
    assert response.headers[HSTS] == HSTS_VALUE


def test_plain_http_on_localhost_is_still_redirected():
    response = page_app().test_client().get("/?x=1", base_url="http://localhost:5000")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost:5000/?x=1"


def test_hsts_settings_do_not_matter_on_localhost():
    app = page_app(hsts_max_age=63072000, hsts_include_subdomains=True, hsts_preload=True)
    client = app.test_client()
    assert HSTS not in client.get("/", base_url="https://localhost").headers
    assert client.get("/", base_url="https://app.test").headers[HSTS] == (
        "max-age=63072000; includeSubDomains; preload"
    )


# --- Per-view mode --------------------------------------------------------------


def per_view_app(guarded: bool = True) -> Flask:
    app = Flask(__name__)

    @app.get("/account")
    @require_https
    def account():
        response = make_response("account")
        response.set_cookie("session", "s")
        return response

    @require_https
    class Invoices(View):
        def dispatch_request(self):
            return "invoices"

    app.add_url_rule("/invoices", view_func=Invoices.as_view("invoices"))

    admin = require_https(Blueprint("admin", __name__, url_prefix="/admin"))
    admin.get("/users")(lambda: "users")
    app.register_blueprint(admin)

    @app.get("/open")
    @exempt_https
    def open_page():
        return "open"

    if guarded:
        HTTPSGuard(app, global_mode=False, upgrade_insecure_requests=True)
    return app


MARKED = ["/account", "/invoices", "/admin/users"]


@pytest.mark.parametrize("guarded", [True, False], ids=["per-view guard", "marks without a guard"])
@pytest.mark.parametrize("path", MARKED)
@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "foo.localhost"])
def test_marked_views_send_no_hsts_to_localhost(guarded, path, host):
    response = per_view_app(guarded).test_client().get(path, base_url=f"https://{host}")
    assert response.status_code == 200
    assert HSTS not in response.headers
    assert CSP not in response.headers


@pytest.mark.parametrize("guarded", [True, False], ids=["per-view guard", "marks without a guard"])
@pytest.mark.parametrize("path", MARKED)
@pytest.mark.parametrize("host", ["app.test", "127.0.0.1"])
def test_marked_views_send_hsts_to_other_hosts(guarded, path, host):
    response = per_view_app(guarded).test_client().get(path, base_url=f"https://{host}")
    assert response.headers[HSTS] == HSTS_VALUE


@pytest.mark.parametrize("guarded", [True, False], ids=["per-view guard", "marks without a guard"])
def test_marked_views_keep_secure_cookies_on_localhost(guarded):
    response = per_view_app(guarded).test_client().get("/account", base_url="https://localhost")
    assert response.headers["Set-Cookie"] == "session=s; Path=/; Secure"


@pytest.mark.parametrize("guarded", [True, False], ids=["per-view guard", "marks without a guard"])
def test_marked_views_still_redirect_plain_http_on_localhost(guarded):
    response = per_view_app(guarded).test_client().get("/account", base_url="http://localhost")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/account"


# --- The SSLify drop-in -----------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "foo.localhost", "app.test"])
def test_sslify_still_sends_hsts_to_localhost(host):
    app = Flask(__name__)
    app.get("/")(lambda: "index")
    SSLify(app)
    response = app.test_client().get("/", base_url=f"https://{host}")
    assert response.headers[HSTS] == HSTS_VALUE


# --- https_client's host ------------------------------------------------------------


def test_https_client_defaults_to_app_test_so_hsts_is_asserted():
    app = page_app()
    assert TEST_HOST == "app.test"
    response = https_client(app).get("/")
    assert response.request.host == "app.test"
    assert response.headers[HSTS] == HSTS_VALUE


@pytest.mark.parametrize(
    "config, host",
    [
        ({"SERVER_NAME": "shop.example"}, "shop.example"),
        ({"TRUSTED_HOSTS": [".shop.example", "www.shop.example"]}, "shop.example"),
        ({"TRUSTED_HOSTS": "www.shop.example,shop.example"}, "www.shop.example"),
        ({"SERVER_NAME": "shop.example", "TRUSTED_HOSTS": ["other.example"]}, "shop.example"),
    ],
)
def test_https_client_uses_the_apps_own_host(config, host):
    app = page_app()
    app.config.update(config)
    response = https_client(app).get("/")
    assert response.request.host == host
    assert response.headers[HSTS] == HSTS_VALUE


def test_a_server_name_of_localhost_means_no_hsts_through_https_client():
    # The app names localhost as its host: https_client goes there, and gets no HSTS.
    app = page_app()
    app.config["SERVER_NAME"] = "localhost:5000"
    response = https_client(app).get("/")
    assert response.request.host == "localhost:5000"
    assert HSTS not in response.headers


def test_the_plain_test_client_on_localhost_sees_no_hsts():
    # What users' own assertions hit: app.test_client() sends to localhost.
    client = page_app().test_client()
    assert HSTS not in client.get("/", base_url="https://localhost").headers
    assert client.get("/", base_url="https://app.test").headers[HSTS] == HSTS_VALUE
