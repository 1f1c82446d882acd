"""canonical_host: one host for https, reached in two hops (issue 18, point 3).

Plain HTTP is first redirected to https on its own host (the HSTS preload
list asks for that hop); an https request for another host the app accepts
is then redirected permanently to the canonical host, same path and query.
"""

from __future__ import annotations

import pytest
from flask import Flask, request

from flask_https_guard import HTTPSGuard
from flask_https_guard.testing import assert_redirects_to_https, https_client

from .helpers import UNTRUSTED_HOST_STATUS, add_health_and_account

HSTS = "Strict-Transport-Security"
CANONICAL = "example.com"
WWW = "https://www.example.com"
HOSTS = ["example.com", "www.example.com", "shop.example.com", "localhost", ".localhost"]
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def canonical_app(trusted_hosts=HOSTS, **options) -> Flask:
    app = Flask(__name__)
    if trusted_hosts is not None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts
    ran: list[str] = []
    app.config["RAN"] = ran

    @app.before_request
    def record():
        ran.append(request.host)

    @app.route("/page", methods=METHODS)
    def page():
        return f"{request.method} {request.host} {request.full_path}"

    add_health_and_account(app)

    app.add_url_rule("/ws", "ws", lambda: f"socket on {request.host}", websocket=True)
    options.setdefault("canonical_host", CANONICAL)
    HTTPSGuard(app, **options)
    return app


# --- Plain HTTP: first to https on its own host -----------------------------


@pytest.mark.parametrize("host", ["www.example.com", "shop.example.com", "example.com"])
@pytest.mark.parametrize("method, status", [("GET", 302), ("POST", 307)])
def test_plain_http_goes_to_https_on_its_own_host_first(host, method, status):
    app = canonical_app()
    response = app.test_client().open("/page?q=a%2Fb&x=1", method=method, base_url=f"http://{host}")
    assert response.status_code == status
    assert response.headers["Location"] == f"https://{host}/page?q=a%2Fb&x=1"
    assert app.config["RAN"] == []


def test_plain_http_with_permanent_keeps_the_same_host_hop():
    response = (
        canonical_app(permanent=True).test_client().get("/page", base_url="http://www.example.com")
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://www.example.com/page"


def test_following_the_redirects_by_hand_ends_on_the_canonical_host():
    # Werkzeug's client follows no redirect to a parent domain: each hop by hand.
    client = canonical_app().test_client()
    url, hops = "http://www.example.com/page?x=1", []
    for _ in range(3):
        response = client.get(url)
        if response.status_code == 200:
            break
        url = response.headers["Location"]
        hops.append((response.status_code, url))
    assert hops == [
        (302, "https://www.example.com/page?x=1"),
        (301, "https://example.com/page?x=1"),
    ]
    assert response.get_data(as_text=True) == "GET example.com /page?x=1"


# --- https: then permanently to the canonical host ---------------------------


@pytest.mark.parametrize(
    "method, status",
    [
        ("GET", 301),
        ("HEAD", 301),
        ("POST", 308),
        ("PUT", 308),
        ("PATCH", 308),
        ("DELETE", 308),
        ("OPTIONS", 308),
    ],
)
@pytest.mark.parametrize("host", ["www.example.com", "shop.example.com", "WWW.Example.COM"])
def test_https_on_another_accepted_host_is_redirected_to_the_canonical_host(host, method, status):
    app = canonical_app()
    response = app.test_client().open(
        "/page?q=a%2Fb&x=1+2", method=method, base_url=f"https://{host}", data="body=1"
    )
    assert response.status_code == status
    assert response.headers["Location"] == "https://example.com/page?q=a%2Fb&x=1+2"
    assert app.config["RAN"] == []  # answered before the app


@pytest.mark.parametrize("path", ["/missing", "/account", "/page/"])
def test_every_guarded_path_is_redirected_not_only_routed_ones(path):
    response = canonical_app().test_client().get(path, base_url=WWW)
    assert response.status_code == 301
    assert response.headers["Location"] == f"https://example.com{path}"


def test_the_port_of_the_redirect_is_redirect_port():
    app = canonical_app(redirect_port=8443)
    response = app.test_client().get("/page", base_url="https://www.example.com:8443")
    assert response.headers["Location"] == "https://example.com:8443/page"


@pytest.mark.parametrize(
    "host", ["example.com", "EXAMPLE.com", "example.com:443", "example.com:8443"]
)
def test_the_canonical_host_is_served_with_hsts(host):
    app = canonical_app(trusted_hosts=None)
    response = app.test_client().get("/page?x=1", base_url=f"https://{host}")
    assert response.status_code == 200
    assert response.headers[HSTS] == "max-age=31536000"


def test_a_config_key_sets_it_and_it_is_stored_lower_case():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_CANONICAL_HOST"] = "Example.COM"
    app.get("/")(lambda: "index")
    HTTPSGuard(app)
    response = app.test_client().get("/", base_url=WWW)
    assert response.headers["Location"] == "https://example.com/"


def test_behind_a_proxy_the_scheme_it_reports_is_used():
    client = canonical_app(trusted_proxies=1).test_client()
    secure = client.get(
        "/page", base_url="http://www.example.com", headers={"X-Forwarded-Proto": "https"}
    )
    assert secure.status_code == 301
    assert secure.headers["Location"] == "https://example.com/page"
    plain = client.get(
        "/page", base_url="http://www.example.com", headers={"X-Forwarded-Proto": "http"}
    )
    assert plain.headers["Location"] == "https://www.example.com/page"


def test_behind_a_proxy_the_host_it_reports_is_used():
    client = canonical_app(trusted_proxies=1, trusted_proxy_headers=["x_host"]).test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com"}
    assert client.get("/page", base_url="http://internal.lan", headers=headers).status_code == 200
    headers["X-Forwarded-Host"] = "www.example.com"
    response = client.get("/page", base_url="http://internal.lan", headers=headers)
    assert response.headers["Location"] == "https://example.com/page"


def test_in_per_view_mode_marked_views_are_redirected():
    client = canonical_app(global_mode=False).test_client()
    response = client.get("/account", base_url=WWW)
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/account"


@pytest.mark.parametrize(
    "canonical, other", [("www.example.com", "example.com"), ("example.com", "www.example.com")]
)
def test_the_canonical_redirect_carries_hsts(canonical, other):
    # hstspreload.org: an https redirect must itself carry HSTS. With
    # canonical_host="www.example.com", https://example.com/ is exactly that.
    app = canonical_app(canonical_host=canonical, hsts_include_subdomains=True)
    client = app.test_client()
    for method, status in (("GET", 301), ("POST", 308)):
        response = client.open("/page", method=method, base_url=f"https://{other}")
        assert response.status_code == status
        assert response.headers["Location"] == f"https://{canonical}/page"
        assert response.headers[HSTS] == "max-age=31536000; includeSubDomains"


def test_report_only_does_not_redirect_to_the_canonical_host():
    response = canonical_app(report_only=True).test_client().get("/page", base_url=WWW)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert HSTS not in response.headers


def test_report_only_does_not_redirect_plain_http():
    response = (
        canonical_app(report_only=True)
        .test_client()
        .get("/page", base_url="http://www.example.com")
    )
    assert response.status_code == 200


def test_debug_mode_steps_aside():
    app = canonical_app()
    app.debug = True
    assert app.test_client().get("/page", base_url=WWW).status_code == 200


# --- Not redirected ---------------------------------------------------------


def test_exempt_views_are_not_redirected():
    response = canonical_app().test_client().get("/health", base_url=WWW)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_skipped_paths_are_not_redirected():
    app = canonical_app(skips=["page"])
    response = app.test_client().get("/page", base_url=WWW)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "GET www.example.com /page?"


def test_unmarked_views_in_per_view_mode_are_not_redirected():
    response = canonical_app(global_mode=False).test_client().get("/page", base_url=WWW)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:5000", "app.localhost", "app.localhost:8443", "LOCALHOST"]
)
def test_localhost_is_not_redirected(host):
    response = canonical_app().test_client().get("/page", base_url=f"https://{host}")
    assert response.status_code == 200
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8443", "10.1.2.3", "[::1]", "[::1]:8443", "[2001:db8::1]"]
)
def test_ip_literals_are_not_redirected(host):
    # Load balancers' health checks and direct probes use the address.
    response = (
        canonical_app(trusted_hosts=None).test_client().get("/page", base_url=f"https://{host}")
    )
    assert response.status_code == 200
    assert "Location" not in response.headers


def test_a_secure_websocket_handshake_is_not_redirected():
    client = canonical_app().test_client()
    response = client.get("/ws", base_url=WWW, headers=UPGRADE)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "socket on www.example.com"
    # The control: the same path without the upgrade is redirected.
    assert client.get("/ws", base_url=WWW).status_code == 301


def test_a_plain_websocket_handshake_is_refused_not_redirected():
    response = (
        canonical_app().test_client().get("/ws", base_url="http://www.example.com", headers=UPGRADE)
    )
    assert response.status_code == 403
    assert "Location" not in response.headers


@pytest.mark.parametrize("host", ["evil.example", "example.com.evil.example", "example.org"])
def test_a_host_trusted_hosts_refuses_is_not_redirected(host):
    app = canonical_app()
    response = app.test_client().get("/page", base_url=f"https://{host}")
    assert response.status_code == UNTRUSTED_HOST_STATUS  # Flask's own answer
    assert "Location" not in response.headers


def test_a_host_outside_server_name_is_not_redirected():
    # The guard holds the app to SERVER_NAME's host; Flask answers the rest
    # (404 before Flask 3.1, served from 3.1 on, where SERVER_NAME no longer
    # restricts the Host).
    app = canonical_app(trusted_hosts=None)
    app.config["SERVER_NAME"] = CANONICAL
    response = app.test_client().get("/page", base_url=WWW)
    assert response.status_code in (200, 404)
    assert "Location" not in response.headers
    assert app.test_client().get("/page", base_url="https://example.com").status_code == 200


def test_without_trusted_hosts_any_well_formed_host_is_accepted_and_redirected():
    response = (
        canonical_app(trusted_hosts=None)
        .test_client()
        .get("/page", base_url="https://other.example")
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "https://example.com/page"


# --- Options ------------------------------------------------------------------


def test_init_app_refuses_canonical_host_with_redirect_host_naming_both():
    with pytest.raises(ValueError) as raised:
        HTTPSGuard(Flask(__name__), canonical_host=CANONICAL, redirect_host="www.example.com")
    message = str(raised.value)
    assert "option canonical_host and option redirect_host cannot be combined" in message


def test_the_refusal_names_config_keys_as_written():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_CANONICAL_HOST"] = CANONICAL
    with pytest.raises(ValueError) as raised:
        HTTPSGuard(app, redirect_host="www.example.com")
    message = str(raised.value)
    assert "config HTTPS_GUARD_CANONICAL_HOST" in message
    assert "option redirect_host" in message
    assert "HTTPS_GUARD_REDIRECT_HOST" not in message


@pytest.mark.parametrize("value", ["https://example.com", "example.com/", "example.com:443", ""])
def test_canonical_host_must_be_a_bare_host_name(value):
    with pytest.raises(ValueError, match="option canonical_host must be a bare host name"):
        HTTPSGuard(Flask(__name__), canonical_host=value)


# --- https_client --------------------------------------------------------------


def test_https_client_sends_to_the_canonical_host():
    app = canonical_app()
    response = https_client(app).get("/page?x=1")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "GET example.com /page?x=1"
    assert response.headers[HSTS] == "max-age=31536000"


def test_https_client_prefers_the_canonical_host_to_server_name_and_trusted_hosts():
    app = canonical_app(trusted_hosts=["www.example.com", "example.com"])
    assert https_client(app).get("/page").get_data(as_text=True) == "GET example.com /page?"


def test_https_client_still_reaches_other_hosts_through_a_full_url():
    client = https_client(canonical_app())
    response = client.get("https://www.example.com/page")
    assert response.status_code == 301
    assert_redirects_to_https(client.get("http://www.example.com/page"))
