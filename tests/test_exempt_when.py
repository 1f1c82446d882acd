"""exempt_when: a predicate that lets some plain-HTTP requests through (issue 18, point 1).

The guard calls it for a plain-HTTP request it would otherwise answer
(redirect or 403), before the app and without an app context, with the
request as the guard sees it after its proxy trust. True serves the request
over plain HTTP; a predicate that raises counts as False and is logged once.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import flask
import pytest
from flask import Flask

from flask_https_guard import HTTPSGuard, exempt_https, require_https
from flask_https_guard.signals import insecure_request

from .helpers import HTTPS, add_refusing_views

HSTS = "Strict-Transport-Security"
CRON = {"X-Appengine-Cron": "true"}


def from_cron(request: Any) -> bool:
    return request.headers.get("X-Appengine-Cron") == "true"


class Recorder:
    """A predicate that records what it was given and answers ``answer``."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def __call__(self, request: Any) -> bool:
        self.calls.append(
            {
                "request": request,
                "path": request.path,
                "remote_addr": request.remote_addr,
                "scheme": request.scheme,
                "app_context": flask.has_app_context(),
                "request_context": flask.has_request_context(),
            }
        )
        return self.answer


def exempting_app(predicate: Callable[[Any], bool], **options: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"
    ran: list[str] = []
    app.config["RAN"] = ran

    @app.before_request
    def record():
        ran.append(flask.request.path)

    @app.route("/tasks/cleanup", methods=["GET", "POST"])
    def cleanup():
        return f"cleaned over {flask.request.scheme}"

    @app.get("/")
    def index():
        return "index"

    @app.get("/health")
    @exempt_https
    def health():
        return "ok"

    HTTPSGuard(app, exempt_when=predicate, **options)
    return app


# --- True serves, False redirects ------------------------------------------


def test_true_serves_the_request_over_plain_http():
    app = exempting_app(from_cron)
    response = app.test_client().get("/tasks/cleanup", headers=CRON)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "cleaned over http"
    assert "Location" not in response.headers
    assert HSTS not in response.headers
    assert app.config["RAN"] == ["/tasks/cleanup"]


def test_true_keeps_the_method_and_body_of_a_post():
    app = exempting_app(from_cron)
    response = app.test_client().post("/tasks/cleanup", headers=CRON, data="batch=7")
    assert response.status_code == 200


def test_false_redirects_as_without_the_option():
    app = exempting_app(from_cron)
    client = app.test_client()
    response = client.get("/tasks/cleanup?x=1", headers={"X-Appengine-Cron": "false"})
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/tasks/cleanup?x=1"
    assert client.post("/tasks/cleanup").status_code == 307
    assert app.config["RAN"] == []  # answered before the app


def test_a_truthy_value_that_is_not_a_bool_counts_as_true():
    app = exempting_app(lambda request: request.headers.get("X-Appengine-Cron"))
    assert app.test_client().get("/", headers=CRON).status_code == 200
    assert app.test_client().get("/").status_code == 302


def test_the_config_key_sets_it():
    app = Flask(__name__)
    app.config["HTTPS_GUARD_EXEMPT_WHEN"] = from_cron
    app.get("/")(lambda: "index")
    HTTPSGuard(app)
    assert app.test_client().get("/", headers=CRON).status_code == 200
    assert app.test_client().get("/").status_code == 302


def test_a_value_that_is_not_callable_fails_at_init_app_naming_the_option():
    with pytest.raises(TypeError, match="option exempt_when must be None or a callable"):
        HTTPSGuard(Flask(__name__), exempt_when="X-Appengine-Cron")
    app = Flask(__name__)
    app.config["HTTPS_GUARD_EXEMPT_WHEN"] = True
    with pytest.raises(TypeError, match="config HTTPS_GUARD_EXEMPT_WHEN"):
        HTTPSGuard(app)


# --- What the predicate is given, and when ----------------------------------


def test_it_gets_a_flask_request_and_runs_without_an_app_context():
    predicate = Recorder()
    app = exempting_app(predicate)
    assert app.test_client().get("/tasks/cleanup?x=1").status_code == 200
    [call] = predicate.calls
    assert isinstance(call["request"], app.request_class)
    assert call["path"] == "/tasks/cleanup"
    assert call["scheme"] == "http"
    assert call["app_context"] is False
    assert call["request_context"] is False


def test_it_is_never_called_for_https():
    predicate = Recorder()
    app = exempting_app(predicate)
    client = app.test_client()
    for method in ("GET", "POST"):
        assert client.open("/tasks/cleanup", method=method, base_url=HTTPS).status_code == 200
    assert client.get("/", base_url=HTTPS).headers[HSTS] == "max-age=31536000"
    assert predicate.calls == []


def test_it_is_never_called_for_a_request_the_guard_would_serve_anyway():
    predicate = Recorder()
    app = exempting_app(predicate, skips=["static"])
    client = app.test_client()
    assert client.get("/health").status_code == 200  # @exempt_https
    assert client.get("/static/app.css").status_code == 404  # skipped
    assert predicate.calls == []


def test_it_is_not_called_for_unmarked_views_in_per_view_mode():
    predicate = Recorder(answer=False)
    app = exempting_app(predicate, global_mode=False)
    assert app.test_client().get("/").status_code == 200
    assert predicate.calls == []


def test_it_is_called_once_for_a_marked_view():
    # The middleware decides; the view's own @require_https wrapper must not ask again.
    predicate = Recorder()
    app = Flask(__name__)

    @app.get("/account")
    @require_https
    def account():
        return "account"

    HTTPSGuard(app, global_mode=False, exempt_when=predicate)
    assert app.test_client().get("/account").status_code == 200
    assert len(predicate.calls) == 1


def test_it_exempts_a_refusing_view_and_blueprint_too():
    app = add_refusing_views(Flask(__name__))
    HTTPSGuard(app, exempt_when=from_cron)
    client = app.test_client()
    assert client.post("/token", headers=CRON).status_code == 200
    assert client.get("/api/items", headers=CRON).status_code == 200
    assert client.post("/token").status_code == 403
    assert client.get("/api/items").status_code == 403


def test_it_exempts_what_refuse_credentials_would_refuse():
    app = exempting_app(from_cron, refuse_credentials=True)
    client = app.test_client()
    authorized = {"Authorization": "Bearer t0ken"}
    assert client.get("/", headers={**authorized, **CRON}).status_code == 200
    assert client.get("/", headers=authorized).status_code == 403


@pytest.mark.parametrize(
    "forwarded_for, seen",
    [
        ("203.0.113.9", "203.0.113.9"),
        # A client's own entry to the left of the proxy's is not believed.
        ("10.0.0.1, 203.0.113.9", "203.0.113.9"),
    ],
)
def test_remote_addr_is_the_clients_behind_trusted_proxies(forwarded_for, seen):
    predicate = Recorder(answer=False)
    app = exempting_app(predicate, trusted_proxies=1)
    response = app.test_client().get(
        "/",
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "http"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    assert response.status_code == 302
    [call] = predicate.calls
    assert call["remote_addr"] == seen


def test_remote_addr_is_the_peers_without_trusted_proxies():
    predicate = Recorder(answer=False)
    app = exempting_app(predicate)
    app.test_client().get(
        "/", headers={"X-Forwarded-For": "10.0.0.1"}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    [call] = predicate.calls
    assert call["remote_addr"] == "192.0.2.7"


def test_a_proxys_https_is_never_asked_about():
    predicate = Recorder()
    app = exempting_app(predicate, trusted_proxies=1)
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert predicate.calls == []


def test_it_applies_before_the_websocket_refusal():
    app = exempting_app(from_cron)
    app.add_url_rule("/ws", "ws", lambda: "socket", websocket=True)
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    assert app.test_client().get("/ws", headers=upgrade).status_code == 403
    assert app.test_client().get("/ws", headers={**upgrade, **CRON}).status_code == 200


# --- A predicate that raises ------------------------------------------------


def broken_predicate(request: Any) -> bool:
    return request.headers["X-Missing"] == "yes"  # KeyError without the header


def uses_flask_request(request: Any) -> bool:
    # The usual mistake: flask.request outside a request context.
    return flask.request.headers.get("X-Appengine-Cron") == "true"


@pytest.mark.parametrize("predicate", [broken_predicate, uses_flask_request])
def test_a_raising_predicate_redirects_and_is_logged_once_with_its_name(caplog, predicate):
    app = exempting_app(predicate)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        statuses = [client.get("/tasks/cleanup", headers=CRON).status_code for _ in range(3)]
        statuses.append(client.post("/tasks/cleanup").status_code)
    assert statuses == [302, 302, 302, 307]  # never a 500
    messages = [r.getMessage() for r in caplog.records if "exempt_when" in r.getMessage()]
    assert len(messages) == 1, messages
    assert predicate.__name__ in messages[0]
    assert "treated as not exempt" in messages[0]
    assert "without an app context" in messages[0]
    assert "not flask.request or current_app" in messages[0]
    assert app.config["RAN"] == []


def test_a_raising_predicate_is_logged_once_per_app(caplog):
    first, second = exempting_app(broken_predicate), exempting_app(broken_predicate)
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for app in (first, second, first, second):
            assert app.test_client().get("/").status_code == 302
    messages = [r.getMessage() for r in caplog.records if "exempt_when" in r.getMessage()]
    assert len(messages) == 2


def test_a_raising_predicate_still_refuses_a_refusing_view():
    app = Flask(__name__)

    @app.post("/token")
    @require_https(refuse=True)
    def token():
        return "token"

    HTTPSGuard(app, exempt_when=broken_predicate)
    response = app.test_client().post("/token")
    assert response.status_code == 403
    assert "Location" not in response.headers


# --- report_only and the insecure_request signal ----------------------------


def signals_of(app: Flask) -> list[str]:
    seen: list[str] = []
    insecure_request.connect(
        lambda sender, request, decision: seen.append(request.path), sender=app, weak=False
    )
    return seen


def test_report_only_neither_reports_nor_signals_an_exempt_request(caplog):
    app = exempting_app(from_cron, report_only=True)
    seen = signals_of(app)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        assert client.get("/tasks/cleanup", headers=CRON).status_code == 200
        assert [r.getMessage() for r in caplog.records if "report_only" in r.getMessage()] == []
        assert seen == []
        # The control: the same request without the header is reported.
        assert client.get("/tasks/cleanup").status_code == 200
    reports = [r.getMessage() for r in caplog.records if "report_only" in r.getMessage()]
    assert len(reports) == 1 and "'/tasks/cleanup'" in reports[0]
    assert seen == ["/tasks/cleanup"]


def test_enforcing_sends_no_signal_for_an_exempt_request():
    app = exempting_app(from_cron)
    seen = signals_of(app)
    client = app.test_client()
    client.get("/tasks/cleanup", headers=CRON)
    assert seen == []
    client.get("/tasks/cleanup")
    assert seen == ["/tasks/cleanup"]


def test_report_only_calls_it_like_enforcing_does():
    predicate = Recorder(answer=False)
    app = exempting_app(predicate, report_only=True)
    client = app.test_client()
    client.get("/")
    client.get("/health")
    client.get("/", base_url=HTTPS)
    assert [call["path"] for call in predicate.calls] == ["/"]
