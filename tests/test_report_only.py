"""report_only and the insecure_request signal: count before enforcing."""

from __future__ import annotations

import logging

from flask import Flask

from flask_https_guard import HTTPSGuard, exempt_https
from flask_https_guard.signals import insecure_request

from .helpers import HTTPS

HSTS = "Strict-Transport-Security"


def report_app(**options) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"
    app.get("/", endpoint="index")(lambda: "index")
    app.get("/other", endpoint="other")(lambda: "other")
    app.get("/health", endpoint="health")(exempt_https(lambda: "ok"))
    HTTPSGuard(app, **options)
    return app


def received(app: Flask) -> list[tuple]:
    seen: list[tuple] = []

    def record(sender, request, decision):
        seen.append((sender, request.method, request.path, decision.reason))

    insecure_request.connect(record, sender=app, weak=False)
    return seen


def test_nothing_is_redirected_and_no_hsts_is_sent():
    client = report_app(report_only=True).test_client()
    assert client.get("/").status_code == 200
    assert client.post("/").status_code == 405
    secure = client.get("/", base_url=HTTPS)
    assert secure.status_code == 200
    assert HSTS not in secure.headers


def test_each_endpoint_is_logged_once_with_the_reason(caplog):
    client = report_app(report_only=True).test_client()
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for _ in range(3):
            client.get("/")
            client.get("/other")
            client.get("/health")
            client.get("/", base_url=HTTPS)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages
    assert "GET '/' (endpoint index)" in messages[0]
    assert "GET '/other' (endpoint other)" in messages[1]
    assert all("global mode" in message for message in messages)


def test_the_signal_carries_the_app_the_request_and_the_decision():
    app = report_app(report_only=True)
    seen = received(app)
    client = app.test_client()
    client.get("/other?x=1")
    client.get("/health")
    client.get("/other", base_url=HTTPS)
    assert seen == [(app, "GET", "/other", "global mode")]


def test_the_signal_is_sent_when_enforcing_too():
    app = report_app()
    seen = received(app)
    assert app.test_client().get("/").status_code == 302
    assert seen == [(app, "GET", "/", "global mode")]


def test_a_receiver_for_one_app_hears_nothing_from_another():
    first, second = report_app(), report_app()
    seen = received(first)
    second.test_client().get("/")
    assert seen == []


def test_report_only_leaves_flask_settings_alone():
    app = report_app(report_only=True)
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_config_key():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_REPORT_ONLY"] = True
    app.get("/")(lambda: "index")
    HTTPSGuard(app)
    assert app.test_client().get("/").status_code == 200
