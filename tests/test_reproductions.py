"""The issue's reproductions, one test each, showing the behaviour it asked for.

- An app mounted with DispatcherMiddleware before HTTPSGuard: its views never
  run for plain HTTP; skips are judged on the path the guard receives.
- Middleware that copies the environ before HTTPSGuard (and Flask-SocketIO's):
  exempt views still answer over HTTP; a ProxyFix behind it is still believed.
- Marks without a guard: HSTS on a ``require_https`` blueprint's views, and an
  exempt view inside it served over HTTP.
- Hosts: a mixed-case SERVER_NAME / TRUSTED_HOSTS entry, and a host_matching
  rule added after init_app, are redirected rather than refused.
- ProxyFix before or after init_app, or trusted_proxies: the same answers.
- Websockets: a plain handshake gets 403 naming wss://; a proxied wss one passes.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType
from typing import Any, Callable

import pytest
from flask import Blueprint, Flask, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_https_guard import HTTPSGuard, exempt_https, require_https

from .helpers import get_served

HSTS = "Strict-Transport-Security"
HTTP = "http://app.test"
HTTPS = "https://app.test"
WEBSOCKET_HANDSHAKE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def component(name: str) -> ModuleType:
    """Import a package of the ``test`` extra: skip without it, except under CI=true."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")


# --- an app mounted with DispatcherMiddleware before the guard ----------------


def mounted(prefix: str, **guard_options: Any) -> tuple[Flask, list[str]]:
    """A front app with a Flask app mounted at ``prefix`` before HTTPSGuard; what ran."""
    ran: list[str] = []
    app = Flask(__name__, static_folder=None)
    inner = Flask("inner", static_folder=None)

    @inner.route("/send", methods=["GET", "POST"])
    def send() -> str:
        ran.append(f"{request.method} /send")
        return "sent"

    @inner.route("/health", methods=["GET", "POST"])
    def health() -> str:
        ran.append(f"{request.method} /health")
        return "ok"

    @inner.route("/x")
    def x() -> str:
        ran.append("GET /x")
        return "x"

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {prefix: inner})  # type: ignore[method-assign]
    HTTPSGuard(app, **guard_options)
    return app, ran


def test_mounted_view_does_not_run_for_plain_http():
    app, ran = mounted("/chat")
    client = app.test_client()
    got = client.get("/chat/send", base_url=HTTP)
    assert got.status_code == 302
    assert got.headers["Location"] == HTTPS + "/chat/send"
    posted = client.post("/chat/send", data={"message": "secret"}, base_url=HTTP)
    assert posted.status_code == 307
    assert posted.headers["Location"] == HTTPS + "/chat/send"
    assert ran == []
    # Over https the mounted view runs, once.
    assert client.post("/chat/send", base_url=HTTPS).get_data() == b"sent"
    assert ran == ["POST /send"]


def test_skip_matching_a_mounted_apps_inner_route_does_not_serve_it_over_http():
    app, ran = mounted("/mounted", skips=["health"])
    response = app.test_client().get("/mounted/health", base_url=HTTP)
    assert response.status_code == 302
    assert response.headers["Location"] == HTTPS + "/mounted/health"
    assert ran == []


def test_skip_of_the_mount_prefix_serves_the_mounted_app_over_http():
    app, ran = mounted("/mounted", skips=["mounted"])
    get_served(app.test_client(), "/mounted/x", b"x", base_url=HTTP)
    assert ran == ["GET /x"]


def test_refuse_insecure_writes_refuses_a_post_to_a_mounted_app():
    app, ran = mounted("/mounted", skips=["health"], refuse_insecure_writes=True)
    response = app.test_client().post("/mounted/health", data="x", base_url=HTTP)
    assert response.status_code == 403
    assert ran == []


# --- middleware that copies the environ, before the guard ---------------------


def copying_middleware_app(proxy_fix: bool = False) -> tuple[Flask, list[str]]:
    ran: list[str] = []
    app = Flask(__name__, static_folder=None)

    @app.get("/health")
    @exempt_https
    def health() -> str:
        ran.append("health")
        return "ok"

    @app.get("/account")
    def account() -> str:
        ran.append("account")
        return "account"

    if proxy_fix:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    inner = app.wsgi_app
    app.wsgi_app = lambda e, s: inner(dict(e), s)  # type: ignore[method-assign]
    HTTPSGuard(app)
    return app, ran


def test_exempt_health_check_answers_over_http_behind_environ_copying_middleware():
    app, ran = copying_middleware_app()
    client = app.test_client()
    get_served(client, "/health", b"ok", base_url=HTTP)
    assert client.get("/account", base_url=HTTP).status_code == 302
    assert ran == ["health"]


HIDDEN_PROXY_FIX = (
    "documented limitation (proxies.rst, issue 17): a ProxyFix behind middleware that"
    " keeps the app in no public attribute (here a lambda) cannot be found, so the guard"
    " decides on the raw scheme and the proxied https request loops (302 to itself);"
    " check lists the wrapper (HG021) and the loop warning names it (tested above)"
)


@pytest.mark.xfail(strict=True, reason=HIDDEN_PROXY_FIX)
def test_proxy_fix_behind_environ_copying_middleware_is_believed():
    app, ran = copying_middleware_app(proxy_fix=True)
    client = app.test_client()
    response = get_served(
        client, "/account", b"account", base_url=HTTP, headers={"X-Forwarded-Proto": "https"}
    )
    assert response.headers[HSTS] == "max-age=31536000"
    assert client.get("/account", base_url=HTTP).status_code == 302
    assert ran == ["account"]


def test_loop_warning_names_the_middleware_hiding_the_proxy_fix(caplog):
    # Until the guard can see through it, the loop warning must say why.
    app, _ = copying_middleware_app(proxy_fix=True)
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        app.test_client().get("/account", base_url=HTTP, headers={"X-Forwarded-Proto": "https"})
    warnings = [record.getMessage() for record in caplog.records if "loop" in record.getMessage()]
    assert len(warnings) == 1
    assert "<lambda>" in warnings[0], warnings[0]


def test_exempt_health_check_answers_over_http_with_flask_socketio_installed_first():
    flask_socketio = component("flask_socketio")
    app = Flask(__name__, static_folder=None)

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok"

    flask_socketio.SocketIO(app, async_mode="threading")
    HTTPSGuard(app)
    client = app.test_client()
    get_served(client, "/health", b"ok", base_url=HTTP)
    assert client.get("/socket.io/?EIO=4&transport=polling", base_url=HTTP).status_code == 302


# --- marks without a guard --------------------------------------------------------


def marked_blueprint_app() -> tuple[Flask, list[str]]:
    ran: list[str] = []
    shop = require_https(Blueprint("shop", __name__))

    @shop.get("/cart")
    def cart() -> str:
        ran.append("cart")
        return "cart"

    @shop.get("/status")
    @exempt_https
    def status() -> str:
        ran.append("status")
        return "up"

    app = Flask(__name__, static_folder=None)
    app.register_blueprint(shop)
    return app, ran


def test_views_of_a_require_https_blueprint_get_hsts_without_a_guard():
    app, ran = marked_blueprint_app()
    client = app.test_client()
    response = get_served(client, "/cart", b"cart", base_url=HTTPS)
    assert response.headers[HSTS] == "max-age=31536000"
    redirected = client.get("/cart", base_url=HTTP)
    assert redirected.status_code == 302
    assert redirected.headers["Location"] == HTTPS + "/cart"
    assert ran == ["cart"]


def test_exempt_view_inside_a_require_https_blueprint_is_served_over_http_without_a_guard():
    app, ran = marked_blueprint_app()
    response = get_served(app.test_client(), "/status", b"up", base_url=HTTP)
    assert HSTS not in response.headers
    assert ran == ["status"]


# --- hosts -----------------------------------------------------------------------


def test_mixed_case_server_name_redirects_to_the_host_the_client_used():
    app = Flask(__name__, static_folder=None)
    app.config.update(SERVER_NAME="Shop.Example", TRUSTED_HOSTS=["Shop.Example"])
    app.get("/cart")(lambda: "cart")
    HTTPSGuard(app)
    response = app.test_client().get("/cart?item=1", base_url="http://shop.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://shop.example/cart?item=1"


def test_host_matching_rule_added_after_init_app_is_redirected_not_refused():
    app = Flask(__name__, static_folder=None, host_matching=True)
    app.add_url_rule("/", "shop", lambda: "shop", host="shop.example")
    HTTPSGuard(app)
    app.add_url_rule("/", "blog", lambda: "blog", host="blog.example")
    client = app.test_client()
    response = client.get("/", base_url="http://blog.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://blog.example/"
    secure = client.get("/", base_url="https://blog.example")
    assert (secure.status_code, secure.get_data()) == (200, b"blog")


# --- ProxyFix and trusted_proxies ----------------------------------------------------


def proxy_fix_before(app: Flask) -> None:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    HTTPSGuard(app)


def proxy_fix_after(app: Flask) -> None:
    HTTPSGuard(app)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]


def trusted_proxies(app: Flask) -> None:
    HTTPSGuard(app, trusted_proxies=1)


def proxy_fix_before_and_trusted_proxies(app: Flask) -> None:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    HTTPSGuard(app, trusted_proxies=1)


PROXY_SETUPS = {
    "ProxyFix before init_app": proxy_fix_before,
    "ProxyFix after init_app": proxy_fix_after,
    "trusted_proxies=1": trusted_proxies,
    "ProxyFix before init_app and trusted_proxies=1": proxy_fix_before_and_trusted_proxies,
}


@pytest.mark.parametrize("setup", list(PROXY_SETUPS))
def test_the_proxys_scheme_is_believed_however_proxy_trust_is_installed(setup):
    app = Flask(__name__, static_folder=None)
    ran: list[str] = []

    @app.post("/pay")
    def pay() -> str:
        ran.append(request.scheme)
        return "paid"

    install: Callable[[Flask], None] = PROXY_SETUPS[setup]
    install(app)
    client = app.test_client()
    secure = client.post("/pay", base_url=HTTP, headers={"X-Forwarded-Proto": "https"})
    assert (secure.status_code, secure.get_data()) == (200, b"paid")
    assert secure.headers[HSTS] == "max-age=31536000"
    for headers in ({"X-Forwarded-Proto": "http"}, {}):
        plain = client.post("/pay", base_url=HTTP, headers=headers)
        assert plain.status_code == 307
        assert plain.headers["Location"] == HTTPS + "/pay"
    assert ran == ["https"]


# --- websockets -----------------------------------------------------------------


def websocket_app(**guard_options: Any) -> tuple[Flask, list[str]]:
    ran: list[str] = []
    app = Flask(__name__, static_folder=None)

    @app.route("/ws", websocket=True)
    def ws() -> str:
        ran.append(request.scheme)
        return "reached the app"

    return app, ran


def test_plain_websocket_handshake_gets_403_naming_wss():
    app, ran = websocket_app()
    HTTPSGuard(app)
    response = app.test_client().get("/ws", base_url=HTTP, headers=WEBSOCKET_HANDSHAKE)
    assert response.status_code == 403
    assert "wss://" in response.get_data(as_text=True)
    assert "Location" not in response.headers
    assert ran == []


def test_websocket_handshake_proxied_as_wss_is_secure():
    app, ran = websocket_app()
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1)  # type: ignore[method-assign]
    HTTPSGuard(app)
    client = app.test_client()
    response = client.get(
        "/ws", base_url=HTTP, headers={**WEBSOCKET_HANDSHAKE, "X-Forwarded-Proto": "wss"}
    )
    assert (response.status_code, response.get_data()) == (200, b"reached the app")
    assert response.headers[HSTS] == "max-age=31536000"
    assert ran == ["wss"]
    # The proxy saying "ws" is a plain handshake.
    plain = client.get(
        "/ws", base_url=HTTP, headers={**WEBSOCKET_HANDSHAKE, "X-Forwarded-Proto": "ws"}
    )
    assert plain.status_code == 403
    assert ran == ["wss"]
