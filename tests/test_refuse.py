"""Refusing plain HTTP with 403 instead of redirecting (issue 18, point 2).

``@require_https(refuse=True)`` on a view, a ``View`` class or a blueprint,
``refuse_credentials=True`` for any guarded request with an ``Authorization``
header, and ``refuse_insecure_writes`` (formerly ``reject_insecure_writes``,
still accepted with a warning logged once).
"""

from __future__ import annotations

import logging

import pytest
from flask import Blueprint, Flask, request
from flask.views import MethodView, View

from flask_https_guard import HTTPSGuard, exempt_https, options, require_https

from .helpers import HTTPS, add_refusing_views

HSTS = "Strict-Transport-Security"
AUTHORIZED = {"Authorization": "Bearer t0ken"}


def assert_refused(response) -> None:
    """A 403 that says to use https and that the request may have been seen; no redirect."""
    assert response.status_code == 403
    assert "Location" not in response.headers
    assert HSTS not in response.headers
    text = response.get_data(as_text=True)
    assert "HTTPS is required" in text
    assert "Send it again over HTTPS" in text
    assert "may already have been seen" in text


def refusing_app(global_mode: bool = True, **options) -> Flask:
    app = Flask(__name__)
    ran: list[str] = []
    app.config["RAN"] = ran

    @app.before_request
    def record():
        ran.append(request.path)

    @app.route("/token", methods=["GET", "POST"])
    @require_https(refuse=True)
    def token():
        return "token"

    @require_https(refuse=True)
    class Keys(View):
        methods = ("GET", "POST")

        def dispatch_request(self):
            return "keys"

    app.add_url_rule("/keys", view_func=Keys.as_view("keys"))

    @require_https(refuse=True)
    class Secrets(MethodView):
        def get(self):
            return "secrets"

        def delete(self):
            return "deleted"

    app.add_url_rule("/secrets", view_func=Secrets.as_view("secrets"))

    api = require_https(Blueprint("api", __name__, url_prefix="/api"), refuse=True)

    @api.route("/items", methods=["GET", "PUT"])
    def items():
        return "items"

    @api.get("/status")
    @exempt_https
    def status():
        return "up"

    app.register_blueprint(api)

    @app.route("/account", methods=["GET", "POST"])
    @require_https
    def account():
        return "account"

    @app.get("/")
    def index():
        return "index"

    HTTPSGuard(app, global_mode=global_mode, **options)
    return app


REFUSED = [
    ("GET", "/token"),
    ("POST", "/token"),
    ("GET", "/keys"),
    ("POST", "/keys"),
    ("GET", "/secrets"),
    ("DELETE", "/secrets"),
    ("GET", "/api/items"),
    ("PUT", "/api/items"),
]


# --- @require_https(refuse=True) --------------------------------------------


@pytest.mark.parametrize("global_mode", [True, False], ids=["global", "per-view"])
@pytest.mark.parametrize("method, path", REFUSED)
def test_refuse_answers_403_before_the_app(global_mode, method, path):
    app = refusing_app(global_mode)
    response = app.test_client().open(path, method=method, data="secret=1")
    assert_refused(response)
    assert app.config["RAN"] == []


@pytest.mark.parametrize("method, path", REFUSED)
def test_refused_views_are_served_over_https_with_hsts(method, path):
    response = refusing_app().test_client().open(path, method=method, base_url=HTTPS)
    assert response.status_code == 200
    assert response.headers[HSTS] == "max-age=31536000"


@pytest.mark.parametrize("global_mode", [True, False], ids=["global", "per-view"])
def test_plain_require_https_still_redirects(global_mode):
    client = refusing_app(global_mode).test_client()
    response = client.get("/account?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/account?tab=2"
    assert client.post("/account").status_code == 307


def test_an_exempt_view_in_a_refusing_blueprint_is_served():
    response = refusing_app().test_client().get("/api/status")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "up"


def test_global_mode_still_redirects_unmarked_views_next_to_refusing_ones():
    response = refusing_app().test_client().get("/")
    assert response.status_code == 302


def test_require_https_without_arguments_in_parentheses_redirects():
    app = Flask(__name__)

    @app.get("/a")
    @require_https()
    def a():
        return "a"

    HTTPSGuard(app, global_mode=False)
    assert app.test_client().get("/a").status_code == 302


def test_a_view_cannot_be_marked_both_refuse_and_exempt():
    def view():
        return "view"

    require_https(view, refuse=True)
    with pytest.raises(ValueError, match=r"already marked @require_https\(refuse=True\)"):
        exempt_https(view)


def test_refuse_holds_without_a_guard_and_uses_the_apps_403_handler():
    app = add_refusing_views(Flask(__name__))

    @app.errorhandler(403)
    def forbidden(error):
        return f"custom: {error.description}", 403

    client = app.test_client()
    for response in (client.post("/token"), client.get("/api/items")):
        assert response.status_code == 403
        assert "Location" not in response.headers
        text = response.get_data(as_text=True)
        assert text.startswith("custom: HTTPS is required")
        assert "may already have been seen" in text
    assert client.post("/token", base_url=HTTPS).status_code == 200


def test_with_a_guard_the_refusal_is_answered_before_the_apps_403_handler():
    app = refusing_app()

    @app.errorhandler(403)
    def forbidden(error):
        return "custom", 403

    response = app.test_client().post("/token")
    assert_refused(response)
    assert "custom" not in response.get_data(as_text=True)


def test_report_only_serves_a_refusing_view():
    app = refusing_app(report_only=True)
    assert app.test_client().post("/token").status_code == 200


def test_a_plain_ws_handshake_to_a_refusing_view_gets_the_websocket_403():
    app = refusing_app()
    app.add_url_rule("/ws", "ws", require_https(lambda: "socket", refuse=True), websocket=True)
    response = app.test_client().get(
        "/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
    )
    assert response.status_code == 403
    assert "wss://" in response.get_data(as_text=True)


# --- refuse_credentials -----------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["Bearer t0ken", "Basic YWRhOnNlY3JldA==", ""],
    ids=["bearer", "basic", "empty"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_refuse_credentials_refuses_any_guarded_request_with_authorization(method, authorization):
    app = refusing_app(refuse_credentials=True)
    client = app.test_client()
    for path in ("/", "/account"):
        response = client.open(path, method=method, headers={"Authorization": authorization})
        assert_refused(response)
    assert app.config["RAN"] == []


def test_refuse_credentials_redirects_without_authorization():
    client = refusing_app(refuse_credentials=True).test_client()
    assert client.get("/").status_code == 302
    assert client.post("/account").status_code == 307
    # An Authorization-like header of another name is not a credential header.
    assert client.get("/", headers={"X-Authorization": "Bearer t0ken"}).status_code == 302


def test_refuse_credentials_leaves_https_and_unguarded_requests_alone():
    client = refusing_app(refuse_credentials=True).test_client()
    response = client.get("/", base_url=HTTPS, headers=AUTHORIZED)
    assert response.status_code == 200
    assert response.headers[HSTS] == "max-age=31536000"
    assert client.get("/api/status", headers=AUTHORIZED).status_code == 200  # @exempt_https


def test_refuse_credentials_in_per_view_mode_leaves_unmarked_views_alone():
    client = refusing_app(global_mode=False, refuse_credentials=True).test_client()
    assert client.get("/", headers=AUTHORIZED).status_code == 200
    assert_refused(client.get("/account", headers=AUTHORIZED))


def test_without_refuse_credentials_authorization_is_redirected():
    client = refusing_app().test_client()
    assert client.get("/", headers=AUTHORIZED).status_code == 302


def test_refuse_credentials_from_the_config():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_REFUSE_CREDENTIALS"] = True
    app.get("/")(lambda: "index")
    HTTPSGuard(app)
    assert_refused(app.test_client().get("/", headers=AUTHORIZED))
    assert app.test_client().get("/").status_code == 302


def test_refuse_credentials_must_be_a_bool():
    with pytest.raises(TypeError, match="option refuse_credentials must be True or False"):
        HTTPSGuard(Flask(__name__), refuse_credentials="yes")


# --- refuse_insecure_writes and its old name --------------------------------


def writes_app(**guard_options) -> Flask:
    app = Flask(__name__)
    config = guard_options.pop("config", {})
    app.config.update(config)
    app.route("/form", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])(
        lambda: "form"
    )
    HTTPSGuard(app, **guard_options)
    return app


@pytest.fixture
def fresh_deprecations(monkeypatch):
    """Forget which deprecated names were already warned about in this process."""
    monkeypatch.setattr(options, "_warned_renames", set())


def check_refuses_writes(app: Flask) -> None:
    client = app.test_client()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert_refused(client.open("/form", method=method))
    assert client.get("/form").status_code == 302
    assert client.head("/form").status_code == 302
    assert client.options("/form").status_code == 307


def test_refuse_insecure_writes(fresh_deprecations, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        check_refuses_writes(writes_app(refuse_insecure_writes=True))
        check_refuses_writes(writes_app(config={"HTTPS_GUARD_REFUSE_INSECURE_WRITES": True}))
    assert not [r for r in caplog.records if "deprecated" in r.getMessage()]


def deprecation_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]


def test_the_old_argument_works_and_warns_once(fresh_deprecations, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for _ in range(3):
            app = writes_app(reject_insecure_writes=True)
            check_refuses_writes(app)
    assert deprecation_messages(caplog) == [
        "reject_insecure_writes is deprecated; it is now called refuse_insecure_writes"
        " (logged once)"
    ]
    guard = app.extensions["https_guard"]
    assert guard.options.refuse_insecure_writes is True
    assert guard.options.sources["refuse_insecure_writes"] == "argument"


def test_the_old_config_key_works_and_warns_once(fresh_deprecations, caplog):
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for _ in range(3):
            app = writes_app(config={"HTTPS_GUARD_REJECT_INSECURE_WRITES": True})
            check_refuses_writes(app)
    assert deprecation_messages(caplog) == [
        "HTTPS_GUARD_REJECT_INSECURE_WRITES is deprecated; it is now called"
        " HTTPS_GUARD_REFUSE_INSECURE_WRITES (logged once)"
    ]


def test_the_old_name_false_keeps_writes_redirected(fresh_deprecations):
    client = writes_app(reject_insecure_writes=False).test_client()
    assert client.post("/form").status_code == 307


def test_the_old_name_is_checked_under_its_own_name(fresh_deprecations):
    with pytest.raises(TypeError, match="option reject_insecure_writes must be True or False"):
        writes_app(reject_insecure_writes="yes")


def test_the_old_config_key_is_checked_under_its_own_name(fresh_deprecations):
    with pytest.raises(TypeError, match="config HTTPS_GUARD_REJECT_INSECURE_WRITES must be True"):
        writes_app(config={"HTTPS_GUARD_REJECT_INSECURE_WRITES": "yes"})
