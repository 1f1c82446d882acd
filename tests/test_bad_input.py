"""The README's table of bad inputs: each row is a test.

Rows the test client can express go through it; the rest are sent as raw
bytes over a socket to gunicorn on loopback, which is what a hostile client
would do.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Optional

import pytest
from flask import Flask

from .helpers import call_wsgi
from .raw_target_app import create_app
from .servers import LOOPBACK, raw_target_gunicorn

HSTS = "Strict-Transport-Security"


def hostile_app(trusted_hosts=None, **options) -> Flask:
    app = create_app(**options)
    app.config["TRUSTED_HOSTS"] = trusted_hosts
    return app


# --- Host --------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("", id="empty"),
        pytest.param("user@app.example", id="userinfo"),
        pytest.param("app.example evil.example", id="space"),
        pytest.param("app.example\r\nSet-Cookie: a=1", id="crlf"),
        pytest.param("app.example\x00", id="nul"),
        pytest.param("a" * 250 + ".example", id="over-255-bytes"),
        pytest.param("app.example:65536", id="port-out-of-range"),
        pytest.param("app.example:-1", id="negative-port"),
        pytest.param("app.example:80:80", id="two-ports"),
        pytest.param("[::1", id="unclosed-ipv6"),
        pytest.param("[fe80::1%25eth0]", id="ipv6-zone"),
        pytest.param("app..example", id="empty-label"),
        pytest.param("bücher.example", id="raw-idn"),
    ],
)
def test_malformed_host_gets_400_and_no_location(host):
    response = call_wsgi(hostile_app(), "/", HTTP_HOST=host)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert HSTS not in response.headers


def test_host_outside_trusted_hosts_gets_400():
    app = hostile_app(trusted_hosts=["app.example"])
    response = app.test_client().get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Location" not in response.headers


# --- X-Forwarded-Proto and Forwarded ------------------------------------------


@pytest.mark.parametrize(
    "headers, trusted_proxies, secure",
    [
        pytest.param({"X-Forwarded-Proto": ""}, 1, False, id="xfp-empty"),
        pytest.param({"X-Forwarded-Proto": '"https"'}, 1, True, id="xfp-quoted"),
        # As Werkzeug's ProxyFix and request.is_secure: the scheme is taken
        # as written, so "HTTPS" is not https for the app either.
        pytest.param({"X-Forwarded-Proto": "HTTPS"}, 1, False, id="xfp-upper-case"),
        pytest.param({"X-Forwarded-Proto": "hTtPs"}, 1, False, id="xfp-mixed-case"),
        pytest.param({"X-Forwarded-Proto": "https;garbage"}, 1, False, id="xfp-garbage"),
        pytest.param({"X-Forwarded-Proto": "ftp"}, 1, False, id="xfp-other-scheme"),
        pytest.param(
            {"X-Forwarded-Proto": ", " * 300 + "https"}, 1, True, id="xfp-hundreds-of-entries"
        ),
        pytest.param(
            {"X-Forwarded-Proto": "https, " * 300 + "http"}, 1, False, id="xfp-hundreds-spoofed"
        ),
        pytest.param({"X-Forwarded-Proto": "https"}, 2, False, id="xfp-fewer-than-trusted"),
        pytest.param({"X-Forwarded-Proto": "https"}, 0, False, id="xfp-untrusted"),
        pytest.param({"Forwarded": ""}, 1, False, id="fwd-empty"),
        pytest.param({"Forwarded": 'proto="https"'}, 1, True, id="fwd-quoted"),
        pytest.param({"Forwarded": "Proto=HTTPS"}, 1, True, id="fwd-mixed-case"),
        pytest.param({"Forwarded": "proto"}, 1, False, id="fwd-garbage-no-value"),
        pytest.param({"Forwarded": "for=1.2.3.4"}, 1, False, id="fwd-no-proto"),
        pytest.param({"Forwarded": 'proto="https'}, 1, False, id="fwd-unbalanced-quote"),
        pytest.param({"Forwarded": '"x, proto=https'}, 1, True, id="fwd-client-junk-left"),
        pytest.param(
            {"Forwarded": "proto=http, " * 300 + "proto=https"}, 1, True, id="fwd-hundreds"
        ),
        pytest.param({"Forwarded": "proto=https"}, 3, False, id="fwd-fewer-than-trusted"),
        # With Forwarded trusted, X-Forwarded-Proto is not read: one source.
        pytest.param(
            {"Forwarded": "proto=https", "X-Forwarded-Proto": "http"},
            1,
            True,
            id="forwarded-is-the-one-source",
        ),
    ],
)
def test_proxy_header_rows(headers, trusted_proxies, secure):
    # Forwarded is read only where the user opts in.
    opt_in = {"trusted_proxy_headers": ["forwarded"]} if "Forwarded" in headers else {}
    app = hostile_app(trusted_proxies=trusted_proxies, **opt_in)
    response = app.test_client().get("/page", "http://app.test", headers=headers)
    if secure:
        assert response.status_code == 200
        assert response.headers[HSTS] == "max-age=31536000"
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == "https://app.test/page"
        assert HSTS not in response.headers


# --- paths, queries and methods through the test client ----------------------


def test_very_long_url_is_redirected_unchanged():
    target = "/" + "a/" * 50_000 + "?" + "q=1&" * 10_000
    response = hostile_app().test_client().get(target)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost" + target


@pytest.mark.parametrize(
    "raw_path, path_info, location_path",
    [
        ("/a%0D%0Ab", "/a\r\nb", "/a%0D%0Ab"),
        ("/a%00b", "/a\x00b", "/a%00b"),
        ("/a%7Fb", "/a\x7fb", "/a%7Fb"),
    ],
)
def test_control_characters_in_path_stay_encoded(raw_path, path_info, location_path):
    response = (
        hostile_app()
        .test_client()
        .get(
            "/",
            environ_overrides={
                "PATH_INFO": path_info,
                "RAW_URI": raw_path,
                "REQUEST_URI": raw_path,
            },
        )
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost" + location_path


def test_control_characters_in_query_are_encoded():
    response = (
        hostile_app()
        .test_client()
        .get(
            "/q",
            environ_overrides={
                "QUERY_STRING": "a=\r\n\x00\x1b",
                "RAW_URI": "/q",
                "REQUEST_URI": "/q",
            },
        )
    )
    assert response.headers["Location"] == "https://localhost/q?a=%0D%0A%00%1B"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FOO", "PROPFIND"])
def test_unusual_methods_keep_their_method(method):
    response = hostile_app().test_client().open("/x", method=method)
    assert response.status_code == 307
    assert response.headers["Location"] == "https://localhost/x"


def test_unusual_methods_are_refused_under_reject_insecure_writes():
    response = hostile_app(reject_insecure_writes=True).test_client().open("/x", method="TRACE")
    assert response.status_code == 403


# --- raw requests through gunicorn -------------------------------------------


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]

    @property
    def location(self) -> Optional[str]:
        return self.headers.get("location")


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    with raw_target_gunicorn(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as port:
        yield port


def send_raw(port: int, request: bytes) -> RawAnswer:
    with socket.create_connection((LOOPBACK, port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split()[1]), headers)


def request_bytes(line: bytes, *headers: bytes) -> bytes:
    return (
        line + b"\r\n" + b"".join(h + b"\r\n" for h in (*headers, b"Connection: close")) + b"\r\n"
    )


HOST = b"Host: app.test"


@pytest.mark.parametrize(
    "line, headers, status, location",
    [
        pytest.param(
            b"GET http://evil.example/path?x=1 HTTP/1.1",
            [HOST],
            302,
            "https://app.test/path?x=1",
            id="absolute-form-target",
        ),
        pytest.param(
            b"GET http://evil.example HTTP/1.1",
            [HOST],
            302,
            "https://app.test/",
            id="absolute-form-no-path",
        ),
        pytest.param(
            b"GET //evil.example/x HTTP/1.1",
            [HOST],
            302,
            "https://app.test//evil.example/x",
            id="double-slash-path",
        ),
        # gunicorn reads "evil.example:443" as scheme "evil.example", path "443".
        pytest.param(
            b"CONNECT evil.example:443 HTTP/1.1",
            [HOST],
            307,
            "https://app.test/443",
            id="connect-authority-form",
        ),
        pytest.param(
            b"OPTIONS * HTTP/1.1", [HOST], 307, "https://app.test/*", id="options-asterisk"
        ),
        pytest.param(b"TRACE / HTTP/1.1", [HOST], 307, "https://app.test/", id="trace"),
        pytest.param(b"FOO /x HTTP/1.1", [HOST], 307, "https://app.test/x", id="unknown-method"),
        pytest.param(
            b"GET / HTTP/1.1", [HOST, b"Host: evil.example"], 400, None, id="two-host-headers"
        ),
        pytest.param(b"GET / HTTP/1.1", [b"Host: app.test evil"], 400, None, id="host-with-space"),
        pytest.param(b"GET / HTTP/1.1", [b"Host: " + b"a" * 300], 400, None, id="host-over-255"),
        pytest.param(b"GET / HTTP/1.1", [], 400, None, id="http11-without-host"),
    ],
)
def test_raw_request_rows(gunicorn_port, line, headers, status, location):
    answer = send_raw(gunicorn_port, request_bytes(line, *headers))
    assert answer.status == status
    assert answer.location == location
    assert "strict-transport-security" not in answer.headers


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"GET /a\rb HTTP/1.1", id="raw-cr-in-path"),
        pytest.param(b"GET /a\x00b HTTP/1.1", id="raw-nul-in-path"),
        pytest.param(b"GET /a?x=\x00 HTTP/1.1", id="raw-nul-in-query"),
        pytest.param(b"GET /caf\xc3\xa9 HTTP/1.1", id="raw-utf8-in-path"),
        pytest.param(b"GET /" + b"a" * 5000 + b" HTTP/1.1", id="request-line-too-long"),
    ],
)
def test_invalid_request_lines_are_refused_or_redirected_cleanly(gunicorn_port, line):
    # gunicorn 24 and later refuse these (400, or 414 for the long line);
    # gunicorn 23, the last for Python 3.9, passes some on. Either way no
    # control character and no other host reaches a Location.
    answer = send_raw(gunicorn_port, request_bytes(line, HOST))
    if answer.status in (400, 414):
        assert answer.location is None
    else:
        assert answer.status == 302
        location = answer.location
        assert location is not None and location.startswith("https://app.test/")
        assert location.isascii() and all(" " < char < "\x7f" for char in location)
    assert "strict-transport-security" not in answer.headers


def test_http10_without_host_goes_to_the_servers_own_address(gunicorn_port):
    answer = send_raw(gunicorn_port, b"GET /x HTTP/1.0\r\n\r\n")
    assert answer.status == 302
    assert answer.location == f"https://{LOOPBACK}:{gunicorn_port}/x"


# --- Findings of the security review (each tries the attack) -----------------


def test_a_256_kib_path_with_skips_is_answered_like_a_short_one():
    app = hostile_app(skips=["health", "status/live"])
    long_path = "/" + "a/" * (128 * 1024)
    response = app.test_client().get(long_path)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost" + long_path
    assert app.test_client().get("/health/" + "x/" * 100_000).status_code != 302


def test_a_script_name_without_a_leading_slash_cannot_move_the_redirect_to_another_host():
    from werkzeug.middleware.proxy_fix import ProxyFix

    app = hostile_app(trusted_hosts=["app.example"], trusted_proxies=1)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)
    response = app.test_client().get(
        "/page",
        headers={"Host": "app.example", "X-Forwarded-Prefix": "@evil.example"},
    )
    location = response.headers["Location"]
    assert location.startswith("https://app.example/"), location


@pytest.mark.parametrize("prefix", ["@evil.example", "evil.example", ":443@evil.example", ""])
def test_every_location_starts_with_the_chosen_authority(prefix):
    app = hostile_app(redirect_host="app.example")
    response = call_wsgi(app, "/page", SCRIPT_NAME=prefix, HTTP_HOST="app.example")
    assert response.headers["Location"].startswith("https://app.example/")


def test_huge_host_headers_are_refused_and_never_remembered():
    app = hostile_app()
    target = app.extensions["https_guard"].target
    for number in range(50):
        response = call_wsgi(app, "/page", HTTP_HOST=f"{number}" + "a" * 70_000)
        assert response.status_code == 400
    assert call_wsgi(app, "/page", HTTP_HOST="app.example").status_code == 302
    remembered = target.remembered_hosts()
    assert remembered == ["app.example"]


def test_a_string_trusted_hosts_is_one_entry_not_its_characters():
    app = hostile_app()
    app.config["TRUSTED_HOSTS"] = ".example.com"  # as from FLASK_TRUSTED_HOSTS
    ok = call_wsgi(app, "/page", HTTP_HOST="app.example.com")
    assert ok.headers["Location"] == "https://app.example.com/page"
    for forged in ("evil.", "e", "x.evil"):
        assert call_wsgi(app, "/page", HTTP_HOST=forged).status_code == 400


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("[2001:db8::1]", 302),
        ("[2001:DB8:0::1]", 302),
        ("[2001:db8::bad]", 400),
        ("[2001:db8::]", 400),
    ],
)
def test_ipv6_trusted_hosts_match_the_exact_address(host, status):
    app = hostile_app(trusted_hosts=["[2001:db8::1]"])
    assert call_wsgi(app, "/page", HTTP_HOST=host).status_code == status


@pytest.mark.filterwarnings("ignore:Current server name")
@pytest.mark.parametrize(
    ("subdomain_matching", "host", "status"),
    [
        (False, "app.example", 302),
        (False, "app.example:8080", 302),
        (False, "shop.app.example", 400),
        (False, "evil.example", 400),
        (True, "shop.app.example", 302),
        (True, "app.example", 302),
        (True, "evil.example", 400),
    ],
)
def test_server_name_limits_the_redirect_without_trusted_hosts(subdomain_matching, host, status):
    app = hostile_app()
    app.config["SERVER_NAME"] = "app.example:443"
    app.subdomain_matching = subdomain_matching
    assert call_wsgi(app, "/page", HTTP_HOST=host).status_code == status


def test_host_matching_rules_name_the_hosts_redirects_may_go_to():
    from flask_https_guard import HTTPSGuard

    app = Flask(__name__, host_matching=True, static_host="app.example")
    app.add_url_rule("/page", "page", lambda: "page", host="app.example")
    app.add_url_rule("/page", "tenant", lambda: "tenant", host="<tenant>.shop.example")
    HTTPSGuard(app)
    assert call_wsgi(app, "/page", HTTP_HOST="app.example").status_code == 302
    assert call_wsgi(app, "/page", HTTP_HOST="acme.shop.example").status_code == 302
    assert call_wsgi(app, "/page", HTTP_HOST="evil.example").status_code == 400
