"""The Location of a redirect: same path and query, a host the app owns."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from .helpers import build_app, call_wsgi


@pytest.mark.parametrize(
    "target",
    [
        "/a%2Fb",
        "/search?q=a%26b&x=%2F",
        "/search?q=a+b",
        "/caf%C3%A9?name=%E6%97%A5%E6%9C%AC",
        "/a;b=c/d?e=f;g",
        "/path/with%20space",
        "/a?x=1&x=2&&y=",
        "/%7Euser/?redirect=https%3A%2F%2Fexample.com",
    ],
)
def test_path_and_query_are_kept_byte_for_byte(target):
    client = build_app().test_client()
    response = client.get(target)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost" + target


def test_raw_unicode_in_query_is_percent_encoded():
    client = build_app().test_client()
    response = client.get("/q", query_string="name=é")
    assert response.headers["Location"] == "https://localhost/q?name=%C3%A9"


def test_path_starting_with_double_slash_stays_on_the_same_host():
    client = build_app().test_client()
    raw = {"PATH_INFO": "//evil.example/x", "REQUEST_URI": "//evil.example/x"}
    response = client.get("/", environ_overrides=raw)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost//evil.example/x"


def test_absolute_form_target_does_not_choose_the_host():
    client = build_app().test_client()
    raw = {"REQUEST_URI": "http://evil.example/form?a=1", "RAW_URI": "http://evil.example/form?a=1"}
    response = client.get("/form?a=1", headers={"Host": "shop.example"}, environ_overrides=raw)
    assert response.headers["Location"] == "https://shop.example/form?a=1"


def test_crlf_in_path_never_reaches_the_header():
    client = build_app().test_client()
    response = client.get("/a%0D%0ASet-Cookie:%20x=1")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert location == "https://localhost/a%0D%0ASet-Cookie:%20x=1"
    assert "Set-Cookie" not in response.headers


def test_target_rewritten_by_middleware_falls_back_to_path_info():
    # The raw target no longer matches the routed path: trust PATH_INFO.
    client = build_app().test_client()
    raw = {"REQUEST_URI": "/old/place", "RAW_URI": "/old/place"}
    response = client.get("/new/place?x=1", environ_overrides=raw)
    assert response.headers["Location"] == "https://localhost/new/place?x=1"


def test_mounted_app_keeps_its_script_name():
    client = build_app().test_client()
    response = client.get("/form?x=1", environ_overrides={"SCRIPT_NAME": "/shop"})
    assert response.headers["Location"] == "https://localhost/shop/form?x=1"


@pytest.mark.parametrize(
    "host, location_host",
    [
        ("example.com", "example.com"),
        ("example.com:80", "example.com"),
        ("example.com:8080", "example.com:8080"),
        ("EXAMPLE.com", "example.com"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("[::1]:8080", "[::1]:8080"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_host_comes_from_the_request(host, location_host):
    client = build_app().test_client()
    response = client.get("/form", headers={"Host": host})
    assert response.headers["Location"] == f"https://{location_host}/form"


def test_redirect_port_replaces_the_request_port():
    client = build_app(redirect_port=8443).test_client()
    response = client.get("/form", headers={"Host": "example.com:8080"})
    assert response.headers["Location"] == "https://example.com:8443/form"


def test_redirect_port_443_means_no_port():
    client = build_app(redirect_port=443).test_client()
    response = client.get("/form", headers={"Host": "example.com:8080"})
    assert response.headers["Location"] == "https://example.com/form"


def test_redirect_host_replaces_the_request_host():
    client = build_app(redirect_host="secure.example.com").test_client()
    response = client.get("/form?a=1", headers={"Host": "example.com:8080"})
    assert response.headers["Location"] == "https://secure.example.com/form?a=1"


def test_redirect_host_with_redirect_port():
    client = build_app(redirect_host="secure.example.com", redirect_port=8443).test_client()
    response = client.get("/form", headers={"Host": "whatever.example"})
    assert response.headers["Location"] == "https://secure.example.com:8443/form"


@pytest.mark.parametrize(
    "host",
    [
        "",
        "user@evil.example",
        "evil.example bad",
        "evil.example\r\nX-Injected: 1",
        "example.com:99999",
        "example.com:0",
        "a" * 64 + ".example",
        ("a" * 60 + ".") * 5 + "com",
        "[not-ipv6]",
        "evil.example/path",
    ],
)
def test_malformed_host_gets_400_not_a_redirect(host):
    # Straight to the app: the test client refuses CR/LF in headers, and
    # Werkzeug 2.3's client fails on a bad port while handling cookies.
    response = call_wsgi(build_app(), "/form", HTTP_HOST=host)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_untrusted_host_gets_400_under_trusted_hosts():
    app = build_app()
    app.config["TRUSTED_HOSTS"] = ["shop.example", ".shop.example"]
    client = app.test_client()
    forged = client.get("/form", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert "Location" not in forged.headers
    trusted = client.get("/form", headers={"Host": "www.shop.example"})
    assert trusted.headers["Location"] == "https://www.shop.example/form"


def test_redirect_host_is_used_even_for_a_forged_host():
    app = build_app(redirect_host="shop.example")
    response = app.test_client().get("/form", headers={"Host": "evil.example"})
    assert response.headers["Location"] == "https://shop.example/form"


def test_http10_request_without_host_uses_the_server_address():
    app = build_app()
    environ = EnvironBuilder(
        path="/form", environ_overrides={"SERVER_NAME": "app.internal", "SERVER_PORT": "8000"}
    ).get_environ()
    del environ["HTTP_HOST"]
    environ["SERVER_PROTOCOL"] = "HTTP/1.0"
    response = Response.from_app(app, environ)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.internal:8000/form"


def test_the_redirect_is_answered_before_any_of_the_apps_code_runs():
    # Like Django's SecurityMiddleware: nothing of the app, not even its
    # after_request handlers, sees a plain-HTTP request that is redirected.
    from flask import request_started

    app = build_app()
    seen = []
    app.before_request(lambda: seen.append("before"))
    app.after_request(lambda response: seen.append("after") or response)
    request_started.connect(lambda sender, **extra: seen.append("started"), app, weak=False)

    response = app.test_client().get("/form")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/form"
    assert seen == []
    assert app.test_client().get("/health").status_code == 200
    assert seen == ["started", "before", "after"]


def test_redirect_has_an_empty_body_and_zero_length():
    response = build_app().test_client().get("/form")
    assert response.headers["Content-Length"] == "0"
    assert response.get_data() == b""


def test_an_empty_query_is_kept_as_sent():
    # The redirect is a bare WSGI answer: no framework step rewrites its Location.
    client = build_app().test_client()
    raw = {"RAW_URI": "/form?", "REQUEST_URI": "/form?"}
    response = client.get("/form", environ_overrides=raw)
    assert response.headers["Location"] == "https://localhost/form?"
