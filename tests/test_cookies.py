"""secure_cookies: cookies set over https are marked Secure."""

from __future__ import annotations

from flask import Flask, session

from flask_https_guard import HTTPSGuard, exempt_https

from .helpers import HTTPS


def cookie_app(**options) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"

    @app.get("/login")
    @exempt_https
    def login():
        session["user"] = "ada"
        response = app.response_class("ok")
        response.set_cookie("plain", "1")
        response.set_cookie("already", "2", secure=True)
        return response

    HTTPSGuard(app, **options)
    return app


def set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_every_cookie_on_a_secure_response_is_secure():
    response = cookie_app().test_client().get("/login", base_url=HTTPS)
    cookies = set_cookies(response)
    assert set(cookies) == {"plain", "already", "session"}
    for header in cookies.values():
        assert "; Secure" in header
    assert cookies["already"].count("Secure") == 1


def test_session_cookie_secure_is_set():
    app = cookie_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_cookies_on_insecure_responses_are_not_touched():
    response = cookie_app().test_client().get("/login")
    assert "Secure" not in set_cookies(response)["plain"]


def test_secure_cookies_false_leaves_cookies_alone():
    app = cookie_app(secure_cookies=False)
    assert app.config["SESSION_COOKIE_SECURE"] is False
    response = app.test_client().get("/login", base_url=HTTPS)
    assert "Secure" not in set_cookies(response)["plain"]


def test_session_cookie_secure_is_left_alone_when_the_guard_does_not_act():
    # A session over http on a LAN or *.test name must keep working while
    # the guard is off: disabled, or following debug mode.
    disabled = cookie_app(enabled=False)
    assert disabled.config["SESSION_COOKIE_SECURE"] is False
    debug_app = Flask(__name__)
    debug_app.debug = True
    HTTPSGuard(debug_app)
    assert debug_app.config["SESSION_COOKIE_SECURE"] is False
    assert cookie_app().config["SESSION_COOKIE_SECURE"] is True


def test_a_session_survives_over_plain_http_with_the_guard_disabled():
    client = cookie_app(enabled=False).test_client()
    response = client.get("/login")
    assert "Secure" not in response.headers["Set-Cookie"]
