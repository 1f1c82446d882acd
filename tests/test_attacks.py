"""The request path reviewed as an attacker: each test tries one attack.

A test passes when the attack fails. An attack that works today is kept as a
strict ``xfail`` whose reason says what happens, so the test turns into a
failure (XPASS) the moment the library is fixed and the mark can go.

The attacker's aims, from the guard's promises:

- have a request that came over plain HTTP served by a view that requires
  HTTPS (spoofed proxy headers, a guard on one app switching off another
  app's marks, content that never reaches the guard's check);
- get a Location on a host the app does not own, or a header with CR/LF, or
  a 500 out of the redirect;
- make an https request loop;
- make the guard keep unbounded state;
- get something enforced or leaked in report-only, disabled or debug mode.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Callable, Optional
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from flask import Blueprint, Flask, Response, request, stream_with_context
from flask.views import MethodView
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response as WerkzeugResponse

from flask_https_guard import HTTPSGuard, exempt_https, require_https
from flask_https_guard.testing import https_client

from .helpers import call_wsgi
from .raw_target_app import ALL_METHODS, create_app
from .servers import (
    LOOPBACK,
    free_port,
    nginx_http_config,
    nginx_server,
    raw_target_gunicorn,
    wsgi_server,
)

HSTS = "Strict-Transport-Security"
HSTS_VALUE = "max-age=31536000"
# Not localhost: the guard sends no HSTS there.
HTTP = "http://app.test"


def marked_app(name: str = "unguarded") -> Flask:
    """An app WITHOUT a guard: ``/account`` and the ``/admin/`` blueprint are
    marked @require_https, so they redirect plain HTTP by themselves."""
    app = Flask(name)

    @app.get("/account")
    @require_https
    def account() -> str:
        return "account secret"

    admin = require_https(Blueprint("admin", name))

    @admin.get("/")
    def admin_index() -> str:
        return "admin secret"

    app.register_blueprint(admin, url_prefix="/admin")
    return app


def front_app(name: str = "front") -> Flask:
    app = Flask(name)

    @app.get("/")
    def index() -> str:
        return "front"

    return app


MARKED_PATHS = [pytest.param("/account", id="view"), pytest.param("/admin/", id="blueprint")]


@pytest.mark.parametrize("path", MARKED_PATHS)
def test_baseline_an_unguarded_apps_marks_redirect_plain_http(path):
    response = marked_app().test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost" + path


# --- A guard on one app must not switch off another app's marks ------------


@pytest.mark.parametrize("path", MARKED_PATHS)
def test_attack_sub_app_mounted_inside_a_guard_loses_its_require_https(path):
    # Flask's documented way to mount apps, done before init_app.
    main = front_app()
    main.wsgi_app = DispatcherMiddleware(main.wsgi_app, {"/sub": marked_app()})
    HTTPSGuard(main)
    response = main.test_client().get("/sub" + path)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "https://localhost/sub" + path


def test_attack_unguarded_app_called_from_a_guarded_view_loses_its_require_https():
    inner = marked_app()
    outer = Flask("outer")
    HTTPSGuard(outer, global_mode=False)

    @outer.get("/relay")
    def relay() -> tuple[str, int]:
        # The client of the inner app talks plain HTTP to it.
        answer = inner.test_client().get("/account")
        return answer.get_data(as_text=True), answer.status_code

    response = outer.test_client().get("/relay")
    assert response.status_code == 302, response.get_data(as_text=True)


def test_attack_guarded_async_view_handing_work_to_a_thread_leaks_the_guard():
    inner = marked_app()
    outer = Flask("outer_async")
    HTTPSGuard(outer, global_mode=False)

    @outer.get("/relay")
    async def relay() -> tuple[str, int]:
        answer = await asyncio.to_thread(inner.test_client().get, "/account")
        return answer.get_data(as_text=True), answer.status_code

    response = outer.test_client().get("/relay")
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.mark.parametrize("path", MARKED_PATHS)
def test_sub_app_mounted_outside_the_guard_keeps_its_require_https(path):
    main = front_app()
    HTTPSGuard(main)
    main.wsgi_app = DispatcherMiddleware(main.wsgi_app, {"/sub": marked_app()})
    response = main.test_client().get("/sub" + path)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/sub" + path


def test_plain_thread_started_by_a_guarded_view_does_not_inherit_the_guard():
    inner = marked_app()
    outer = Flask("outer_thread")
    HTTPSGuard(outer, global_mode=False)
    statuses: list[int] = []

    @outer.get("/relay")
    def relay() -> str:
        worker = threading.Thread(
            target=lambda: statuses.append(inner.test_client().get("/account").status_code)
        )
        worker.start()
        worker.join(timeout=30)
        return "done"

    assert outer.test_client().get("/relay").status_code == 200
    assert statuses == [302]


def test_exception_in_a_guarded_request_leaves_no_guard_behind():
    outer = Flask("raising")
    outer.config["TESTING"] = True  # the exception propagates to the caller
    HTTPSGuard(outer, global_mode=False)

    @outer.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        outer.test_client().get("/boom")
    # Same thread, same context: the unguarded app must enforce again.
    assert marked_app().test_client().get("/account").status_code == 302


def test_streamed_guarded_response_leaves_no_guard_behind_while_streaming():
    inner = marked_app()
    outer = Flask("streaming")
    HTTPSGuard(outer, global_mode=False)

    @outer.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[str]:
            yield "start "
            # Runs while the server iterates, after the guard has returned.
            yield str(inner.test_client().get("/account").status_code)

        return Response(stream_with_context(chunks()))

    assert outer.test_client().get("/stream").get_data(as_text=True) == "start 302"


def test_async_require_https_views_enforce_with_and_without_a_guard():
    def app_with_async_view(name: str, guarded: bool) -> Flask:
        app = Flask(name)

        @app.get("/account")
        @require_https
        async def account() -> str:
            return "account secret"

        if guarded:
            HTTPSGuard(app, global_mode=False)
        return app

    for app in (app_with_async_view("async_guarded", True), app_with_async_view("async", False)):
        assert app.test_client().get("/account").status_code == 302
        secure = https_client(app).get("/account")
        assert secure.status_code == 200
        assert secure.headers[HSTS] == HSTS_VALUE


def test_unguarded_outer_app_cannot_switch_off_a_guarded_inner_apps_redirect():
    guarded = front_app("guarded_inner")
    HTTPSGuard(guarded)
    outer = marked_app("outer_unguarded")

    @outer.get("/relay")
    def relay() -> tuple[str, int]:
        answer = guarded.test_client().get("/")
        return answer.headers.get("Location", "served"), answer.status_code

    response = outer.test_client().get("/relay")
    assert (response.status_code, response.get_data(as_text=True)) == (
        302,
        "https://localhost/",
    )


def test_guarded_and_unguarded_apps_under_concurrent_load_on_a_real_server():
    guarded = front_app("guarded_loaded")
    HTTPSGuard(guarded)
    combined = DispatcherMiddleware(guarded, {"/sub": marked_app("loaded")})
    targets = ["/", "/sub/account", "/sub/admin/"]
    wrong: list[tuple[str, int]] = []

    def client(port: int) -> None:
        for number in range(60):
            path = targets[number % len(targets)]
            connection = http.client.HTTPConnection(LOOPBACK, port, timeout=20)
            try:
                connection.request("GET", path, headers={"Host": "app.test"})
                answer = connection.getresponse()
                answer.read()
                if (answer.status, answer.getheader("Location")) != (
                    302,
                    "https://app.test" + path,
                ):
                    wrong.append((path, answer.status))
            finally:
                connection.close()

    with wsgi_server(combined) as port:
        threads = [threading.Thread(target=client, args=(port,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert wrong == []


def test_one_marked_view_on_two_unguarded_apps_keeps_each_apps_own_answer():
    @require_https
    def shared() -> str:
        return "shared secret"

    live, debugging = Flask("live"), Flask("debugging")
    debugging.debug = True  # the defaults are inactive in debug mode
    for app in (live, debugging):
        app.add_url_rule("/shared", "shared", shared)
    # Alternate, so the view's memo of the last app is always the other one.
    for _ in range(3):
        assert live.test_client().get("/shared").status_code == 302
        assert debugging.test_client().get("/shared").status_code == 200


# --- Content that never reaches the guard's check -------------------------------


@pytest.mark.parametrize("middleware", ["dispatcher", "shared-data"])
def test_attack_global_mode_skips_content_of_middleware_wrapped_before_init_app(
    middleware, tmp_path
):
    main = front_app()
    if middleware == "dispatcher":
        login = Flask("login")
        login.add_url_rule("/form", "form", lambda: "password form")
        main.wsgi_app = DispatcherMiddleware(main.wsgi_app, {"/login": login})
        path = "/login/form"
    else:
        (tmp_path / "app.js").write_text("document.title = 'x'")
        main.wsgi_app = SharedDataMiddleware(main.wsgi_app, {"/assets": str(tmp_path)})
        path = "/assets/app.js"
    HTTPSGuard(main)
    assert main.test_client().get("/").status_code == 302  # the app itself is guarded
    response = main.test_client().get(path)
    assert response.status_code == 302, response.get_data(as_text=True)


# --- Forged Host ----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example@app.example",
        "app.example@evil.example",
        "app.example/evil.example",
        "app.example\\evil.example",
        "app.example#@evil.example",
        "app.example?@evil.example",
        "app.example%2f@evil.example",
        "app.example,evil.example",
        "app.example\tevil.example",
        "app.example\r\nLocation: https://evil.example/",
        "app.example\x00evil.example",
        "app.example:0",
        "app.example:",
        "app.example:443@evil.example",
        "[::1]evil.example",
        "[::1]:80:80",
        "[::1%25eth0]",
        "[v1.evil]",
        "caf\xe9.example",
        "." * 3,
        " ",
        "x" * 64 + ".example",
        ("a" * 63 + ".") * 5,
        "a" * 1_000_000,
    ],
)
def test_attack_forged_host_gets_400_never_a_location(host):
    response = call_wsgi(create_app(), "/page", HTTP_HOST=host)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert HSTS not in response.headers


@pytest.mark.parametrize(
    "host, location",
    [
        ("APP.Example:80", "https://app.example/page"),
        ("app.example.", "https://app.example./page"),
        ("app.example:00443", "https://app.example/page"),
        ("[::FFFF:127.0.0.1]:8443", "https://[::ffff:127.0.0.1]:8443/page"),
        ("xn--bcher-kva.example", "https://xn--bcher-kva.example/page"),
    ],
)
def test_well_formed_hosts_give_a_location_on_that_host_only(host, location):
    assert call_wsgi(create_app(), "/page", HTTP_HOST=host).headers["Location"] == location


@pytest.mark.parametrize(
    "host", ["evil.example", "app.example.", "app.example.evil.example", "evilapp.example"]
)
def test_attack_host_outside_trusted_hosts_gets_400(host):
    app = create_app()
    app.config["TRUSTED_HOSTS"] = ["app.example"]
    response = call_wsgi(app, "/page", HTTP_HOST=host)
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_attack_trusted_x_forwarded_host_is_still_checked_against_trusted_hosts():
    app = create_app(trusted_proxies=1, trusted_proxy_headers=["x_host"])
    app.config["TRUSTED_HOSTS"] = ["app.example"]
    client = app.test_client()
    forged = client.get("/page", headers={"Host": "app.example", "X-Forwarded-Host": "evil.test"})
    assert forged.status_code == 400
    assert "Location" not in forged.headers
    # The client's value left of the proxy's entry is never read.
    appended = client.get(
        "/page", headers={"Host": "app.example", "X-Forwarded-Host": "evil.test, app.example"}
    )
    assert appended.headers["Location"] == "https://app.example/page"


@pytest.mark.parametrize(
    "host", ["evil.example", "app.example\r\nX: y", "a" * 100_000, "user@evil.example"]
)
def test_attack_any_host_is_ignored_with_redirect_host(host):
    response = call_wsgi(create_app(redirect_host="app.example"), "/page", HTTP_HOST=host)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://app.example/page"


def _server_name_app() -> Flask:
    app = create_app()
    app.config["SERVER_NAME"] = "app.example"
    return app


def _subdomain_matching_app() -> Flask:
    app = create_app()
    app.config["SERVER_NAME"] = "app.example"
    app.subdomain_matching = True
    return app


def _host_matching_app() -> Flask:
    app = Flask("host_matching", host_matching=True, static_host="app.example")

    @app.get("/page", host="app.example")
    def page() -> str:
        return "page"

    HTTPSGuard(app)
    return app


@pytest.mark.filterwarnings("ignore:Current server name")
@pytest.mark.parametrize(
    "make_app",
    [
        pytest.param(_server_name_app, id="server-name"),
        pytest.param(_subdomain_matching_app, id="subdomain-matching"),
        pytest.param(_host_matching_app, id="host-matching"),
    ],
)
def test_attack_forged_host_when_the_app_names_its_own_host(make_app):
    # Flask builds its own external URLs on SERVER_NAME or the rules' hosts;
    # the redirect refuses any other Host instead of reflecting it.
    response = call_wsgi(make_app(), "/page", HTTP_HOST="evil.example")
    location = response.headers.get("Location")
    assert location is None or urlsplit(location).hostname == "app.example", location
    assert response.status_code == 400
    own = call_wsgi(make_app(), "/page", HTTP_HOST="app.example")
    assert own.headers["Location"] == "https://app.example/page"


def test_accepted_hosts_memory_is_bounded_under_many_distinct_hosts():
    app = create_app()
    target = app.extensions["https_guard"].target
    for number in range(5000):
        host = f"h{number}.example"
        assert call_wsgi(app, "/p", HTTP_HOST=host).headers["Location"] == f"https://{host}/p"
    for number in range(1000):
        assert call_wsgi(app, "/p", HTTP_HOST=f"bad host {number}").status_code == 400
    remembered = target.remembered_hosts()
    assert 0 < len(remembered) <= 64
    assert all(host.startswith("h") for host in remembered)


# --- Location: one host, no control characters, no 500 ---------------------------

_PIECES = st.sampled_from(
    [
        "/",
        "//",
        "\\",
        "@",
        ":",
        "?",
        "#",
        "%0d%0a",
        "%2F",
        "%",
        "http://evil.example",
        "evil.example",
        "\r\n",
        "\x00",
        " ",
        ".",
        "..",
        "[",
        "]",
        ",",
        "\xe9",
        "80",
    ]
)
_LATIN1 = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=20)
_WILD = st.lists(st.one_of(_PIECES, _LATIN1), max_size=8).map("".join)
_HOSTS = st.one_of(
    st.sampled_from(["app.example", "APP.example:80", "[::1]:8080", "app.example."]),
    st.lists(st.one_of(st.sampled_from(["app.example", ":", "@", "[::1]", "443"]), _WILD)).map(
        "".join
    ),
)
_PLAIN = create_app()
_TRUSTING = create_app()
_TRUSTING.config["TRUSTED_HOSTS"] = ["app.example", "[::1]"]
_FIXED = create_app(redirect_host="app.example")
_PROXIED = create_app(
    trusted_proxies=1, trusted_proxy_headers=["x_host", "x_port", "x_prefix", "forwarded"]
)
_PROXIED.config["TRUSTED_HOSTS"] = ["app.example"]
_LOCATION = re.compile(r"https://[a-z0-9_.:\[\]-]+/[\x21-\x7e]*")


def _fuzzed_environ(raw: Optional[str], **values: Optional[str]) -> dict[str, str]:
    """The environ ``values`` that are not None, and ``raw`` (when not None) as both
    RAW_URI and REQUEST_URI."""
    environ = {key: value for key, value in values.items() if value is not None}
    if raw is not None:
        environ["RAW_URI"] = environ["REQUEST_URI"] = raw
    return environ


def _checked_location(response: WerkzeugResponse) -> Optional[str]:
    """No 5xx, no control character in any header, and a Location (returned,
    when there is one) that is a plain https URL."""
    assert response.status_code < 500
    for name, value in response.headers.items():
        assert not re.search(r"[\r\n\x00]", value), (name, value)
    location = response.headers.get("Location")
    if location is not None:
        assert _LOCATION.fullmatch(location), location
    return location


@given(
    app_name=st.sampled_from(["plain", "trusting", "fixed", "proxied"]),
    host=_HOSTS,
    path=_WILD,
    raw=st.one_of(st.none(), _WILD),
    script_name=_WILD,
    query=_WILD,
    method=st.sampled_from(["GET", "get", "POST", "OPTIONS", "CONNECT", "TRACE", "BREW"]),
    forwarded_host=st.one_of(st.none(), _WILD),
    forwarded_port=st.one_of(st.none(), _WILD),
    forwarded_prefix=st.one_of(st.none(), _WILD),
)
def test_attack_fuzzed_request_never_gets_a_foreign_or_broken_location(
    app_name,
    host,
    path,
    raw,
    script_name,
    query,
    method,
    forwarded_host,
    forwarded_port,
    forwarded_prefix,
):
    app = {"plain": _PLAIN, "trusting": _TRUSTING, "fixed": _FIXED, "proxied": _PROXIED}[app_name]
    environ = _fuzzed_environ(
        raw,
        HTTP_HOST=host,
        PATH_INFO=path,
        SCRIPT_NAME=script_name,
        QUERY_STRING=query,
        REQUEST_METHOD=method,
        HTTP_X_FORWARDED_HOST=forwarded_host,
        HTTP_X_FORWARDED_PORT=forwarded_port,
        HTTP_X_FORWARDED_PREFIX=forwarded_prefix,
    )
    response = call_wsgi(app, "/", **environ)
    location = _checked_location(response)
    if location is None:
        return
    hostname = urlsplit(location).hostname
    if app_name == "plain":
        assert hostname == urlsplit("//" + host).hostname
    elif app_name == "trusting":
        assert hostname in ("app.example", "::1")
    else:
        assert hostname == "app.example"


@pytest.mark.parametrize(
    "raw_uri, path_info, location",
    [
        ("/other", "/page", "https://app.example/page"),
        ("//evil.example/page", "/page", "https://app.example/page"),
        ("http://evil.example/page", "/page", "https://app.example/page"),
        ("http://evil.example", "", "https://app.example/"),
        ("https://evil.example:443@x/page", "/page", "https://app.example/page"),
        ("\\\\evil.example/page", "/page", "https://app.example/page"),
        ("/page", "\\\\evil.example", "https://app.example/%5C%5Cevil.example"),
        ("/%0d%0aSet-Cookie:%20a=1", "/\r\nSet-Cookie: a=1", None),
        ("@evil.example/page", "/page", "https://app.example/page"),
    ],
)
def test_attack_raw_uri_disagreeing_with_path_info(raw_uri, path_info, location):
    response = call_wsgi(
        create_app(),
        "/",
        HTTP_HOST="app.example",
        PATH_INFO=path_info,
        RAW_URI=raw_uri,
        REQUEST_URI=raw_uri,
    )
    assert response.status_code == 302
    assert "Set-Cookie" not in response.headers
    if location is None:
        assert response.headers["Location"] == "https://app.example/%0d%0aSet-Cookie:%20a=1"
    else:
        assert response.headers["Location"] == location


@pytest.mark.parametrize(
    "script_name",
    ["@evil.example", "\\evil.example", "//evil.example", ":@evil.example", "?@evil", "#@evil"],
)
def test_attack_script_name_cannot_move_the_location_to_another_host(script_name):
    response = call_wsgi(
        create_app(), "/", HTTP_HOST="app.example", SCRIPT_NAME=script_name, PATH_INFO="/page"
    )
    location = response.headers["Location"]
    assert urlsplit(location).hostname == "app.example", location
    assert _LOCATION.fullmatch(location), location


# --- Routing: the guard's endpoint must be the one Flask dispatches to -----------


def _marked_routes_app(wrapped_first: bool) -> tuple[Flask, list[str]]:
    """Per-view mode, marked rules of every shape, and a catch-all that is not marked.

    Every marked view notes a plain-HTTP call: a note means the guard matched
    the request to another endpoint than Flask did and let it through.
    """
    app = Flask("routes")
    served_plain: list[str] = []

    def note() -> str:
        if request.scheme != "https":
            served_plain.append(f"{request.method} {request.path}")
        return "secret"

    app.add_url_rule("/account", "account", require_https(note))
    app.add_url_rule(
        "/order/<int:number>",
        "order",
        require_https(lambda number: note()),
        methods=["GET", "POST"],
    )
    app.add_url_rule("/files/<path:name>", "files", require_https(lambda name: note()))
    app.add_url_rule("/slash/", "slash", require_https(note))
    app.add_url_rule("/<user>/profile", "profile", require_https(lambda user: note()))

    @require_https
    class Items(MethodView):
        def get(self) -> str:
            return note()

        def delete(self) -> str:
            return note()

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    admin = require_https(Blueprint("admin", __name__))
    admin.add_url_rule("/", "index", lambda: note())
    admin.add_url_rule("/<path:rest>", "rest", lambda rest: note())
    app.register_blueprint(admin, url_prefix="/admin")
    app.add_url_rule(
        "/<path:anything>", "other", lambda anything: "public", methods=["GET", "POST", "DELETE"]
    )
    if wrapped_first:
        # Something wraps the app before init_app: the redirect moves to before_request.
        inner = app.wsgi_app
        app.wsgi_app = lambda environ, start_response: inner(environ, start_response)  # type: ignore[method-assign]
    HTTPSGuard(app, global_mode=False)
    return app, served_plain


_ROUTES_APPS = {wrapped: _marked_routes_app(wrapped) for wrapped in (False, True)}
_PATH_PIECES = st.sampled_from(
    [
        *("/", "//", "account", "order", "files", "slash", "items", "admin", "profile"),
        *("1", "-1", "01", "%2F", ".", "..", ";", "x", "\xe9", " ", "\x00", "?"),
    ]
)


@pytest.mark.parametrize("wrapped_first", [False, True])
def test_baseline_the_routes_app_redirects_marked_views_and_serves_the_rest(wrapped_first):
    app, served_plain = _ROUTES_APPS[wrapped_first]
    client = app.test_client()
    for path in ("/account", "/order/7", "/files/a/b", "/slash/", "/u/profile", "/admin/x"):
        assert client.get(path).status_code == 302, path
        assert https_client(app).get(path).status_code == 200, path
    assert client.get("/elsewhere").get_data(as_text=True) == "public"
    assert served_plain == []


@given(
    wrapped_first=st.booleans(),
    path=st.lists(_PATH_PIECES, max_size=6).map("".join),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "DELETE", "PUT", "get", "PATCH"]),
)
def test_attack_no_path_reaches_a_require_https_view_over_plain_http(wrapped_first, path, method):
    app, served_plain = _ROUTES_APPS[wrapped_first]
    call_wsgi(app, "/", PATH_INFO=path, REQUEST_METHOD=method, HTTP_HOST="app.example")
    assert served_plain == []


# --- Proxy headers: no spoofing, no loops ---------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Proto": "https"},
        {"Forwarded": "proto=https"},
        {"X-Forwarded-Ssl": "on"},
        {"X-ARR-SSL": "1"},
        {"CF-Visitor": '{"scheme":"https"}'},
        {"Front-End-Https": "on"},
        {"X-Forwarded-Scheme": "https"},
        {"X-Scheme": "https"},
        {"X-Url-Scheme": "https"},
        {"X-Forwarded-Protocol": "ssl"},
        {"X-AppEngine-Https": "on"},
    ],
    ids=lambda headers: next(iter(headers)),
)
@pytest.mark.parametrize("trusted_proxies", [0, 1])
def test_attack_spoofed_https_header_does_not_skip_the_redirect(headers, trusted_proxies):
    # With one trusted proxy the proxy writes "X-Forwarded-Proto: http" (it
    # replaces the client's); nothing else is believed without opting in.
    sent = dict(headers)
    if trusted_proxies:
        sent["X-Forwarded-Proto"] = "http"
    app = create_app(trusted_proxies=trusted_proxies)
    response = app.test_client().get("/page", headers=sent)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://localhost/page"
    assert HSTS not in response.headers


@pytest.mark.parametrize(
    "headers",
    [{"X-Forwarded-Proto": "http"}, {"Forwarded": "proto=http"}, {"X-Forwarded-Ssl": "off"}],
    ids=lambda headers: next(iter(headers)),
)
def test_attack_untrusted_http_header_cannot_loop_an_https_request(headers):
    response = https_client(create_app()).get("/page", headers=headers)
    assert response.status_code == 200
    assert response.headers[HSTS] == HSTS_VALUE


_CLIENT_JUNK = st.text(
    st.one_of(st.sampled_from('",;=\\ \t'), st.characters(min_codepoint=32, max_codepoint=255)),
    max_size=30,
)


@given(
    client=_CLIENT_JUNK,
    proxies=st.lists(st.sampled_from(["http", "https"]), min_size=1, max_size=2),
)
def test_attack_client_prefix_never_changes_the_x_forwarded_proto_verdict(client, proxies):
    # Each trusted proxy appends its entry; the client controls what is left of them.
    app = create_app(trusted_proxies=len(proxies))
    value = ", ".join([client, *proxies])
    response = app.test_client().get("/page", HTTP, headers={"X-Forwarded-Proto": value})
    if proxies[0] == "https":
        assert response.status_code == 200, value  # no loop
        assert response.headers[HSTS] == HSTS_VALUE
    else:
        assert response.status_code == 302, value  # no spoof
        assert HSTS not in response.headers


@given(
    client=_CLIENT_JUNK,
    proxies=st.lists(st.sampled_from(["http", "https"]), min_size=1, max_size=2),
)
def test_attack_client_prefix_never_changes_the_forwarded_verdict(client, proxies):
    app = create_app(trusted_proxies=len(proxies), trusted_proxy_headers=["forwarded"])
    elements = [f"for=192.0.2.{number};proto={proto}" for number, proto in enumerate(proxies)]
    value = ", ".join([client, *elements])
    response = app.test_client().get("/page", HTTP, headers={"Forwarded": value})
    assert response.status_code == (200 if proxies[0] == "https" else 302), value


@given(client=_CLIENT_JUNK, proxy=st.sampled_from(["on", "off"]))
def test_attack_client_prefix_never_changes_the_platform_header_verdict(client, proxy):
    app = create_app(trusted_proxies=1, https_header="X-Forwarded-Ssl: on")
    headers = {"X-Forwarded-Ssl": f"{client}, {proxy}", "X-Forwarded-Proto": "http"}
    response = app.test_client().get("/page", headers=headers)
    assert response.status_code == (200 if proxy == "on" else 302), headers


@pytest.mark.parametrize(
    "header, options",
    [
        ("X-Forwarded-Proto", {}),
        ("Forwarded", {"trusted_proxy_headers": ["forwarded"]}),
    ],
)
def test_attack_megabyte_of_quoted_junk_before_the_proxys_entry(header, options):
    app = create_app(trusted_proxies=1, **options)
    junk = '"\\' + 'a\\",;proto=http, ' * 60_000
    entry = "proto=https" if header == "Forwarded" else "https"
    response = app.test_client().get("/page", HTTP, headers={header: f"{junk}, {entry}"})
    assert response.status_code == 200
    assert response.headers[HSTS] == HSTS_VALUE


@pytest.mark.parametrize(
    "header, value",
    [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Port", "8443"),
        ("X-Forwarded-Prefix", "/evil"),
        ("Forwarded", "host=evil.example;proto=https"),
    ],
)
def test_attack_headers_not_opted_in_do_not_change_the_location(header, value):
    app = create_app(trusted_proxies=1)
    response = app.test_client().get("/page", headers={"Host": "app.example", header: value})
    assert response.headers["Location"] == "https://app.example/page"


def test_attack_client_x_forwarded_host_left_of_the_proxys_is_ignored():
    app = create_app(trusted_proxies=1, trusted_proxy_headers=["x_host", "x_port"])
    response = app.test_client().get(
        "/page",
        headers={
            "Host": "internal:8000",
            "X-Forwarded-Host": 'evil.example", app.example',
            "X-Forwarded-Port": "1234, 443",
        },
    )
    assert response.headers["Location"] == "https://app.example/page"


# --- Proxy headers through real servers -------------------------------------------


def _send_raw(port: int, lines: list[bytes]) -> tuple[int, dict[str, str]]:
    payload = b"\r\n".join([*lines, b"Connection: close", b"", b""])
    with socket.create_connection((LOOPBACK, port), timeout=10) as connection:
        connection.sendall(payload)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


@pytest.fixture(scope="module")
def gunicorn_behind_one_proxy(tmp_path_factory):
    """gunicorn serving the global-mode app with trusted_proxies=1.

    gunicorn's own proxy trust is pointed away from loopback, so only the
    guard decides what the headers mean.
    """
    with raw_target_gunicorn(
        tmp_path_factory.mktemp("gunicorn_attacks") / "gunicorn.log",
        "--forwarded-allow-ips",
        "192.0.2.1",
        FLASK_HTTPS_GUARD_TRUSTED_PROXIES="1",
    ) as port:
        yield port


@pytest.fixture(scope="module")
def werkzeug_behind_one_proxy():
    with wsgi_server(create_app(trusted_proxies=1)) as port:
        yield port


# (header lines after the request line and Host, plain HTTP expected?)
REAL_SERVER_ROWS = [
    pytest.param(
        [b"X-Forwarded-Proto: https", b"X-Forwarded-Proto: http"], True, id="duplicate-lines"
    ),
    pytest.param(
        [b'X-Forwarded-Proto: "', b"X-Forwarded-Proto: https"], False, id="open-quote-no-loop"
    ),
    pytest.param(
        [b"X-Forwarded_Proto: https", b"X-Forwarded-Proto: http"], True, id="underscore-before"
    ),
    pytest.param(
        [b"X-Forwarded-Proto: http", b"X-Forwarded_Proto: https"], True, id="underscore-after"
    ),
    pytest.param([b"X-Forwarded-Proto: http", b" https"], True, id="obs-fold"),
    pytest.param([b"X-Forwarded-Proto : https", b"X-Forwarded-Proto: http"], True, id="space"),
    pytest.param([b"x-forwarded-proto: https"], False, id="lower-case-name-from-proxy"),
    pytest.param([b"X-Forwarded-Ssl: on", b"X-Forwarded-Proto: http"], True, id="platform"),
    pytest.param([b"Forwarded: proto=https", b"X-Forwarded-Proto: http"], True, id="forwarded"),
]


@pytest.mark.parametrize("lines, plain", REAL_SERVER_ROWS)
@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_attack_raw_proxy_headers_on_a_real_server(server, lines, plain, request):
    fixture = "gunicorn_behind_one_proxy" if server == "gunicorn" else "werkzeug_behind_one_proxy"
    port = request.getfixturevalue(fixture)
    status, headers = _send_raw(port, [b"GET /page HTTP/1.1", b"Host: app.test", *lines])
    if plain:
        # Refused by the server, or redirected: never served, never HSTS.
        assert status in (302, 400)
        assert headers.get("location") in (None, "https://app.test/page")
        assert "strict-transport-security" not in headers
    else:
        assert status == 200
        assert headers["strict-transport-security"] == HSTS_VALUE


@pytest.mark.parametrize(
    "target",
    [
        b"/%0d%0aSet-Cookie:%20a=1",
        b"/x?a=%0d%0aLocation:%20https://evil.example/",
        b"/\\evil.example",
        b"//evil.example/%2e%2e",
        b"/%2F%2Fevil.example",
        b"http://evil.example@app.test/x",
        b"https://evil.example/x",
    ],
)
def test_attack_raw_targets_on_gunicorn_stay_on_the_host_without_injected_headers(
    gunicorn_behind_one_proxy, target
):
    status, headers = _send_raw(
        gunicorn_behind_one_proxy, [b"GET " + target + b" HTTP/1.1", b"Host: app.test"]
    )
    assert status in (302, 400)
    assert "set-cookie" not in headers
    location = headers.get("location")
    if location is not None:
        assert urlsplit(location).hostname == "app.test", location
        assert _LOCATION.fullmatch(location), location


# --- Methods --------------------------------------------------------------------


def _counting_app(**options: object) -> tuple[Flask, list[str]]:
    app = Flask("counting")
    served: list[str] = []

    @app.route("/x", methods=ALL_METHODS)
    def anything() -> str:
        served.append(request.method)
        return "served"

    HTTPSGuard(app, **options)
    return app, served


@pytest.mark.parametrize("method", [*ALL_METHODS, "get", "post", "options", "M-SEARCH", "PRI"])
def test_attack_no_method_is_served_over_plain_http(method):
    app, served = _counting_app()
    response = call_wsgi(app, "/x", REQUEST_METHOD=method, HTTP_HOST="app.example")
    expected = 302 if method in ("GET", "HEAD") else 307
    assert response.status_code == expected
    assert response.headers["Location"] == "https://app.example/x"
    assert served == []


@pytest.mark.parametrize("method", [*ALL_METHODS, "get", "post", "options", "M-SEARCH"])
def test_attack_reject_insecure_writes_never_reads_a_write(method):
    app, served = _counting_app(reject_insecure_writes=True)
    response = call_wsgi(app, "/x", REQUEST_METHOD=method, HTTP_HOST="app.example")
    if method in ("GET", "HEAD"):
        assert response.status_code == 302
    elif method == "OPTIONS":
        assert response.status_code == 307
    else:
        assert response.status_code == 403
        assert "Location" not in response.headers
    assert served == []


@pytest.mark.parametrize("permanent, status", [(False, 307), (True, 308)])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_attack_redirected_write_keeps_method_and_body(method, permanent, status):
    app = create_app(permanent=permanent)
    first = app.test_client().open("/order", method=method, data="amount=100")
    assert first.status_code == status
    followed = app.test_client().open(
        "/order", method=method, data="amount=100", follow_redirects=True
    )
    assert followed.request.url == "https://localhost/order"
    assert followed.get_data(as_text=True) == f"{method} /order\n"
    assert followed.request.get_data() == b"amount=100"


# --- Report-only, disabled and debug ---------------------------------------------


def _cookie_app(debug: bool, **options: object) -> Flask:
    app = Flask("cookies")
    app.debug = debug

    @app.get("/")
    def index() -> Response:
        response = Response("index")
        response.set_cookie("token", "t")
        return response

    HTTPSGuard(app, **options)
    return app


@pytest.mark.parametrize(
    "options, debug",
    [
        pytest.param({"report_only": True}, False, id="report-only"),
        pytest.param({"enabled": False}, False, id="disabled"),
        pytest.param({}, True, id="debug"),
    ],
)
def test_attack_inactive_guard_enforces_and_adds_nothing(options, debug):
    app = _cookie_app(debug, upgrade_insecure_requests=True, **options)
    plain = app.test_client().get("/")
    assert plain.status_code == 200
    secure = https_client(app).get("/")
    assert secure.status_code == 200
    for response in (plain, secure):
        assert HSTS not in response.headers
        assert "Content-Security-Policy" not in response.headers
        assert response.headers["Set-Cookie"] == "token=t; Path=/"
    assert not app.config["SESSION_COOKIE_SECURE"]


def test_attack_report_only_logs_each_endpoint_once_whatever_the_client_sends(caplog):
    app = create_app(report_only=True)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for number in range(500):
            client.get(f"/page{number}")
            client.get("/health")
    # Every path is the one catch-all endpoint; the exempt health check is not reported.
    assert len([r for r in caplog.records if "report_only" in r.getMessage()]) == 1


def test_attack_report_only_log_line_has_no_raw_line_break(caplog):
    app = create_app(report_only=True)
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        app.test_client().get("/x%0d%0aCRITICAL forged entry")
    (record,) = [r for r in caplog.records if "report_only" in r.getMessage()]
    assert not re.search(r"[\r\n]", record.getMessage()), record.getMessage()


def test_attack_loop_warning_log_line_has_no_raw_line_break(caplog):
    app = create_app()
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        call_wsgi(app, "/x", HTTP_X_FORWARDED_PROTO="https\r\nCRITICAL forged")
    messages = [r.getMessage() for r in caplog.records]
    assert messages
    assert not any(re.search(r"[\r\n]", message) for message in messages)


# =================================================================================
# The redesigned request path: GuardMiddleware decides each request once
# =================================================================================
#
# The attacks below target the middleware that init_app wraps around
# app.wsgi_app, the "decided" marker it leaves for @require_https wrappers and
# blueprint hooks, canonical_host, exempt_when and the refusals.


def _secret_app(name: str, **options: object) -> tuple[Flask, list[str]]:
    """Per-view or global: a view marked below @app.route, one marked above it
    (only the guard enforces that one), a marked blueprint and an exempt view.
    ``ran`` notes every plain-HTTP execution of a marked view."""
    app = Flask(name)
    ran: list[str] = []

    def note(what: str) -> str:
        if request.scheme not in ("https", "wss"):
            ran.append(f"{what} {request.method} {request.path}")
        return f"{what} secret"

    @app.route("/below", methods=ALL_METHODS)
    @require_https
    def below() -> str:
        return note("below")

    @require_https
    @app.route("/above", methods=ALL_METHODS)
    def above() -> str:
        return note("above")

    @app.route("/files/<path:name>", methods=ALL_METHODS)
    @require_https
    def files(name: str) -> str:
        return note("files")

    admin = require_https(Blueprint("admin", name))
    admin.add_url_rule("/", "index", lambda: note("admin"), methods=ALL_METHODS)
    app.register_blueprint(admin, url_prefix="/admin")

    @app.route("/open", methods=ALL_METHODS)
    @exempt_https
    def open_view() -> str:
        return "open"

    HTTPSGuard(app, **options)
    return app, ran


_SECRET_PATHS = ["/below", "/above", "/files/a", "/admin/"]
_SECRET_APPS = {
    "global": _secret_app("secret_global"),
    "per-view": _secret_app("secret_per_view", global_mode=False),
}
BOTH_MODES = pytest.mark.parametrize("mode", list(_SECRET_APPS))


def _assert_on_site(location: Optional[str], host: str = "app.test") -> None:
    """A Location, when there is one, stays on ``host``."""
    if location is not None:
        assert urlsplit(location).hostname == host, location[:100]


@BOTH_MODES
@pytest.mark.parametrize(
    "headers",
    [
        {"Upgrade": "websocket", "Connection": "Upgrade"},
        {"Upgrade": "WebSocket", "Connection": "keep-alive, Upgrade"},
        {"Upgrade": "websocket, h2c", "Connection": "Upgrade"},
        {"Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": "AAMA"},
        {"Upgrade": "TLS/1.2, HTTP/1.1", "Connection": "Upgrade"},  # RFC 2817
        {"Connection": "upgrade"},
        {"X-Forwarded-Proto": "wss"},
        {"X-Forwarded-Proto": "wss", "Upgrade": "websocket", "Connection": "Upgrade"},
        {"Forwarded": "proto=wss"},
        {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Url-Scheme": "https"},
        {"X-Forwarded-Host": "localhost", "X-Forwarded-Port": "443"},
        {"Authorization": "Bearer t0ken"},
    ],
    ids=lambda headers: ",".join(f"{k}={v}" for k, v in headers.items())[:40],
)
def test_attack_upgrade_and_scheme_headers_never_reach_a_marked_view(mode, headers):
    app, ran = _SECRET_APPS[mode]
    client = app.test_client()
    for path in _SECRET_PATHS:
        response = client.get(path, HTTP, headers=headers)
        # 400: Werkzeug's routing refuses a handshake to a non-websocket rule.
        assert response.status_code in (302, 400, 403), (path, response.status_code)
        assert response.headers.get("Location") in (None, "https://app.test" + path)
        assert HSTS not in response.headers
    assert ran == []


@BOTH_MODES
@pytest.mark.parametrize(
    "method", [*ALL_METHODS, "get", "Head", "PROPFIND", "M-SEARCH", "PRI", "X" * 200]
)
def test_attack_odd_methods_never_reach_a_marked_view(mode, method):
    app, ran = _SECRET_APPS[mode]
    for path in _SECRET_PATHS:
        response = call_wsgi(app, path, REQUEST_METHOD=method, HTTP_HOST="app.test")
        assert response.status_code in (302, 307, 405), (path, response.status_code)
    assert ran == []


@BOTH_MODES
@pytest.mark.parametrize(
    "path_info, raw_uri",
    [
        ("//above", "//above"),
        ("/./above", "/./above"),
        ("/./above", "/%2e/above"),
        ("/x/../above", "/x/%2e%2e/above"),
        ("/above/", "/above/"),
        ("/above//", "/above//"),
        ("/ABOVE", "/ABOVE"),
        ("/above/..", "/above/.."),
        ("/above\x00", "/above%00"),
        ("/above;x", "/above;x"),
        ("/files//etc/passwd", "/files//etc/passwd"),
        ("/files/../above", "/files/%2e%2e/above"),
        ("/files/a/../../above", "/files/a%2F..%2F..%2Fabove"),
        ("/admin", "/admin"),
        ("/admin//", "/admin//"),
        ("/open/../above", "/open/../above"),
        ("/" + "a/" * 20_000 + "above", None),
        ("/files/" + "a" * 200_000, None),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_attack_path_tricks_never_reach_a_marked_view(mode, path_info, raw_uri):
    app, ran = _SECRET_APPS[mode]
    environ = {"PATH_INFO": path_info, "HTTP_HOST": "app.test"}
    if raw_uri is not None:
        environ["RAW_URI"] = environ["REQUEST_URI"] = raw_uri
    response = call_wsgi(app, "/", **environ)
    assert response.status_code < 500
    _assert_on_site(response.headers.get("Location"))
    assert ran == []


@BOTH_MODES
@pytest.mark.parametrize(
    "script_name, path_info",
    [
        ("/above", ""),
        ("/above", "/"),
        ("/x", "/above"),
        ("//evil.example", "/above"),
        ("/above/..", "/open"),
        ("/open", "/../above"),
        ("/admin", "/"),
        ("@evil.example", "/files/a"),
    ],
)
def test_attack_script_name_games_never_reach_a_marked_view(mode, script_name, path_info):
    app, ran = _SECRET_APPS[mode]
    response = call_wsgi(
        app, "/", SCRIPT_NAME=script_name, PATH_INFO=path_info, HTTP_HOST="app.test"
    )
    _assert_on_site(response.headers.get("Location"))
    assert ran == []


# --- The "decided" marker ----------------------------------------------------------


def _mounted_under_prefix(placement: str, **options: object) -> tuple[Flask, list[str]]:
    """Flask's documented prefix mount inside the app's own wsgi_app (per-view
    mode unless ``options`` say otherwise): the guard cannot route /prefix/...,
    so marks must hold on their own."""
    app = Flask(f"prefix_{placement}")
    ran: list[str] = []

    def note() -> str:
        ran.append(request.scheme)
        return "secret"

    if placement == "below-route":

        @app.get("/account")
        @require_https
        def account() -> str:
            return note()

    elif placement == "below-route-refuse":

        @app.get("/account")
        @require_https(refuse=True)
        def account() -> str:
            return note()

    elif placement == "above-route":

        @require_https
        @app.get("/account")
        def account() -> str:
            return note()

    elif placement == "above-route-refuse":

        @require_https(refuse=True)
        @app.get("/account")
        def account() -> str:
            return note()

    elif placement in ("blueprint-before-registration", "blueprint-after-registration"):
        account_bp = Blueprint("account", __name__)
        account_bp.add_url_rule("", "index", note)
        if placement == "blueprint-before-registration":
            require_https(account_bp)
        app.register_blueprint(account_bp, url_prefix="/account")
        if placement == "blueprint-after-registration":
            require_https(account_bp)
    else:

        class Account(MethodView):
            def get(self) -> str:
                return note()

        if placement == "view-class-before-as-view":
            require_https(Account)
        app.add_url_rule("/account", view_func=Account.as_view("account"))
        if placement == "view-class-after-as-view":
            require_https(Account)

    def not_found(environ: dict, start_response: object) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/plain")])  # type: ignore[operator]
        return [b"not found"]

    app.wsgi_app = DispatcherMiddleware(not_found, {"/prefix": app.wsgi_app})  # type: ignore[method-assign]
    HTTPSGuard(app, **(options or {"global_mode": False}))
    return app, ran


@pytest.mark.parametrize(
    "placement",
    [
        "below-route",
        "below-route-refuse",
        "blueprint-before-registration",
        "view-class-before-as-view",
        "above-route",
        "above-route-refuse",
        "blueprint-after-registration",
        "view-class-after-as-view",
    ],
)
@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"global_mode": False}, id="per-view"),
        pytest.param({"skips": ["prefix/account"]}, id="global-skipping-the-mount"),
    ],
)
def test_attack_prefix_mounted_app_serves_a_marked_view_over_plain_http(placement, options):
    app, ran = _mounted_under_prefix(placement, **options)
    # The mount works: over https the view answers.
    assert https_client(app).get("/prefix/account").status_code == 200
    ran.clear()
    response = app.test_client().get("/prefix/account", HTTP)
    assert ran == [], response.get_data(as_text=True)
    if placement.endswith("refuse"):
        assert response.status_code == 403
    else:
        assert response.status_code == 302
        assert response.headers["Location"] == "https://app.test/prefix/account"


def _account_app(name: str) -> tuple[Flask, list[str]]:
    """An app whose marked view GET /account notes the scheme of every run in ``ran``."""
    app = Flask(name)
    ran: list[str] = []

    @app.get("/account")
    @require_https
    def account() -> str:
        ran.append(request.scheme)
        return "account secret"

    return app, ran


@pytest.mark.parametrize("mode", ["global-exempt-caller", "per-view-404-handler"])
def test_attack_marked_view_called_from_an_unguarded_view_runs_over_plain_http(mode):
    app, ran = _account_app(f"caller_{mode}")
    account = app.view_functions["account"]

    @app.get("/")
    @exempt_https
    def index() -> str:
        return account()

    @app.errorhandler(404)
    def not_found(error: Exception) -> str:
        return account()

    HTTPSGuard(app, global_mode=mode.startswith("global"))
    response = app.test_client().get("/" if mode.startswith("global") else "/nowhere", HTTP)
    assert "secret" not in response.get_data(as_text=True)
    assert ran == []


@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_FLASK_HTTPS_GUARD.DECIDED": "1"},
        {"HTTP_FLASK_HTTPS_GUARD_DECIDED": "1"},
        {"HTTP_FLASK_HTTPS_GUARD": "decided"},
        {"HTTP_X_FLASK_HTTPS_GUARD_DECIDED": "account"},
    ],
)
@pytest.mark.parametrize("placement", ["below-route", "blueprint-before-registration"])
def test_attack_client_headers_never_act_as_the_decided_marker(placement, environ):
    # Under the prefix mount the wrappers decide by themselves: a marker that
    # matched would let the request through.
    app, ran = _mounted_under_prefix(placement)
    response = call_wsgi(app, "/prefix/account", HTTP_HOST="app.test", **environ)
    assert response.status_code == 302
    assert ran == []


def test_attack_marker_left_for_one_endpoint_does_not_unlock_another():
    # Middleware inside the guard rewrites an exempt path to a marked one: the
    # middleware decided /open (served on purpose), the view is /account.
    app, ran = _account_app("rewriting")

    @app.get("/open")
    def open_view() -> str:
        return "open"

    inner = app.wsgi_app

    def rewrite(environ: dict, start_response: object) -> object:
        if environ["PATH_INFO"] == "/open":
            environ["PATH_INFO"] = "/account"
        return inner(environ, start_response)

    app.wsgi_app = rewrite  # type: ignore[method-assign]
    HTTPSGuard(app, global_mode=False)
    response = app.test_client().get("/open", HTTP)
    assert response.status_code == 302
    assert ran == []


def test_attack_marker_of_an_outer_guard_does_not_unlock_an_inner_apps_marks():
    # The outer guard serves /sub/... on purpose (skips); the inner app's marks
    # (no guard of its own, and one with its own per-view guard) still hold.
    unguarded = marked_app("inner_unguarded")
    guarded = Flask("inner_guarded")
    ran: list[str] = []

    @require_https
    @guarded.get("/account")
    def account() -> str:  # above @app.route: only its own guard enforces it
        ran.append(request.scheme)
        return "secret"

    HTTPSGuard(guarded, global_mode=False)
    outer = front_app("outer_skipping")

    # The outer guard routes these paths to an exempt endpoint also called
    # "account": its marker names the same endpoint as the inner views.
    @exempt_https
    def account_elsewhere() -> str:
        return "never reached: the mount answers first"

    for path in ("/sub/account", "/own/account"):
        outer.add_url_rule(path, "account", account_elsewhere)
    outer.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        outer.wsgi_app, {"/sub": unguarded, "/own": guarded}
    )
    HTTPSGuard(outer, skips=["sub", "own"])
    client = outer.test_client()
    for path in ("/sub/account", "/sub/admin/", "/own/account"):
        response = client.get(path, HTTP)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "https://app.test" + path
    assert ran == []


def _counting_predicate(result: bool) -> tuple[Callable[[object], bool], list[str]]:
    calls: list[str] = []

    def predicate(request: object) -> bool:
        calls.append(request.path)  # type: ignore[attr-defined]
        return result

    return predicate, calls


@pytest.mark.parametrize("inner", ["none", "copies-environ", "rebuilds-environ"])
def test_attack_exempt_when_decision_is_neither_lost_nor_widened_by_inner_middleware(inner):
    predicate, calls = _counting_predicate(True)
    app = Flask(f"exempt_{inner}")

    @app.get("/account")
    @require_https
    def account() -> str:
        return "served"

    wrapped = app.wsgi_app
    if inner == "copies-environ":
        app.wsgi_app = lambda environ, start: wrapped(dict(environ), start)  # type: ignore[method-assign]
    elif inner == "rebuilds-environ":
        # Keeps only the CGI and wsgi.* keys: the marker is gone.
        app.wsgi_app = lambda environ, start: wrapped(  # type: ignore[method-assign]
            {k: v for k, v in environ.items() if "." not in k or k.startswith("wsgi.")}, start
        )
    HTTPSGuard(app, global_mode=False, exempt_when=predicate)
    assert app.test_client().get("/account", HTTP).get_data(as_text=True) == "served"
    # Decided once by the middleware; the wrapper re-asks only without the marker.
    assert len(calls) == (2 if inner == "rebuilds-environ" else 1)


@pytest.mark.parametrize(
    "error",
    [ValueError("bad\r\nCRITICAL forged"), RecursionError(), KeyError("x"), UnicodeError()],
)
def test_attack_exempt_when_that_raises_fails_closed_and_logs_once(error, caplog):
    def predicate(request: object) -> bool:
        raise error

    app, ran = _secret_app("raising_predicate", exempt_when=predicate)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for number in range(50):
            assert client.get(f"/files/{number}", HTTP).status_code == 302
            assert client.get("/above", HTTP).status_code == 302
    assert ran == []
    messages = [r.getMessage() for r in caplog.records if "exempt_when" in r.getMessage()]
    assert len(messages) == 1
    assert not re.search(r"[\r\n]", messages[0])


def test_attack_exempt_when_runs_once_per_request_however_many_marks_apply():
    predicate, calls = _counting_predicate(False)
    app, ran = _secret_app("counted_predicate", global_mode=False, exempt_when=predicate)
    client = app.test_client()
    for path in _SECRET_PATHS:
        assert client.get(path, HTTP).status_code == 302
    assert calls == _SECRET_PATHS
    assert ran == []


@pytest.mark.parametrize(
    "server_name, trusted, expected",
    [
        ("evil.example", ["app.test"], None),
        ("app.test", ["app.test"], "https://app.test/page"),
        ("evil.example", None, "https://evil.example/page"),  # the server's own name
    ],
)
def test_attack_http10_without_host_uses_the_servers_name_and_trusted_hosts(
    server_name, trusted, expected
):
    app = create_app()
    app.config["TRUSTED_HOSTS"] = trusted
    environ = EnvironBuilder(path="/page").get_environ()
    del environ["HTTP_HOST"]
    environ.update(SERVER_PROTOCOL="HTTP/1.0", SERVER_NAME=server_name, SERVER_PORT="80")
    response = Response.from_app(app, environ)
    assert response.headers.get("Location") == expected
    assert response.status_code == (302 if expected else 400)
    # HTTP/1.1 must name its Host: without one, 400.
    environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    assert Response.from_app(app, environ).status_code == 400


@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_AUTHORIZATION": "Bearer t0ken"},
        {"HTTP_AUTHORIZATION": ""},
        {"HTTP_AUTHORIZATION": "Basic eDp5", "HTTP_UPGRADE": "websocket"},
        {"HTTP_AUTHORIZATION": "Bearer t0ken", "REQUEST_METHOD": "OPTIONS"},
        {"HTTP_AUTHORIZATION": "Bearer t0ken", "REQUEST_METHOD": "get"},
    ],
)
def test_attack_refuse_credentials_has_no_way_around_it(environ):
    app, ran = _secret_app("credentials", refuse_credentials=True)
    for path in _SECRET_PATHS:
        response = call_wsgi(app, path, HTTP_HOST="app.test", **environ)
        assert response.status_code == 403, path
        assert "Location" not in response.headers
    assert ran == []


# --- Canonical host: never an open redirect, never a loop ----------------------------

CANONICAL = "example.com"


def _canonical_app(kind: str) -> Flask:
    """Global mode with canonical_host. Every path but the exempt /health is
    answered by the 404 handler, so that Flask itself never redirects (merged
    slashes, strict slashes): any Location is the guard's."""
    app = Flask(f"canonical_{kind}", static_folder=None)
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok"

    @app.errorhandler(404)
    def anything(error: Exception) -> str:
        return "page"

    options: dict[str, object] = {"canonical_host": CANONICAL}
    if kind == "proxied":
        options.update(trusted_proxies=1, trusted_proxy_headers=["x_host", "x_port", "x_prefix"])
    if kind in ("trusted", "proxied"):
        app.config["TRUSTED_HOSTS"] = [CANONICAL, "www.example.com", "[::1]"]
    HTTPSGuard(app, **options)
    return app


_CANONICAL_APPS = {kind: _canonical_app(kind) for kind in ("open", "trusted", "proxied")}


@pytest.mark.parametrize("kind", ["open", "trusted", "proxied"])
@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:443",
        "EVIL.example.",
        "www.example.com",
        "www.example.com:8443",
        "evil.example@example.com",
        "example.com@evil.example",
        "example.com\\evil.example",
        "example.com/evil.example",
        "example.com:443@evil.example",
        "example.com\r\nLocation: https://evil.example/",
        "example.com\tevil.example",
        "b\xfccher.example",
        "xn--bcher-kva.example",
        "[2001:db8::1]",
        "[::ffff:203.0.113.1]:443",
        "203.0.113.1",
        "localhost",
        "app.localhost:8443",
        "",
        "a" * 300,
    ],
)
@pytest.mark.parametrize("forwarded_host", [None, "evil.example", "example.com@evil.example"])
def test_attack_canonical_redirect_never_leaves_the_canonical_host(kind, host, forwarded_host):
    environ = {"HTTP_HOST": host, "wsgi.url_scheme": "https"}
    if forwarded_host is not None:
        environ["HTTP_X_FORWARDED_HOST"] = forwarded_host
    response = call_wsgi(_CANONICAL_APPS[kind], "/page", **environ)
    location = _checked_location(response)
    if location is not None:
        assert urlsplit(location).hostname == CANONICAL, location
        assert response.status_code == 301


@given(
    kind=st.sampled_from(["open", "trusted", "proxied"]),
    scheme=st.sampled_from(["http", "https"]),
    host=_HOSTS,
    forwarded_host=st.one_of(st.none(), _HOSTS),
    path=_WILD,
    raw=st.one_of(st.none(), _WILD),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "get", "BREW"]),
    upgrade=st.sampled_from([None, "websocket", "h2c"]),
)
def test_attack_fuzzed_canonical_requests_never_redirect_off_site_or_to_themselves(
    kind, scheme, host, forwarded_host, path, raw, method, upgrade
):
    environ = _fuzzed_environ(
        raw,
        HTTP_HOST=host,
        PATH_INFO=path,
        REQUEST_METHOD=method,
        HTTP_X_FORWARDED_HOST=forwarded_host,
        HTTP_UPGRADE=upgrade,
        **{"wsgi.url_scheme": scheme},
    )
    response = call_wsgi(_CANONICAL_APPS[kind], "/", **environ)
    location = _checked_location(response)
    if location is None:
        return
    hostname = urlsplit(location).hostname
    if scheme == "https":
        assert hostname == CANONICAL, location
    elif kind == "open":
        assert hostname == urlsplit("//" + host).hostname
    else:
        assert hostname in (CANONICAL, "www.example.com", "::1"), location
    # Follow as a browser would (its proxy now passes the Host it asked for):
    # the chain ends within two hops, never a loop.
    for _ in range(2):
        target = urlsplit(location)
        raw_target = target.path + (f"?{target.query}" if target.query else "")
        response = call_wsgi(
            _CANONICAL_APPS[kind],
            "/",
            HTTP_HOST=target.netloc,
            PATH_INFO=unquote_to_bytes(target.path).decode("latin-1"),
            QUERY_STRING=target.query,
            RAW_URI=raw_target,
            REQUEST_URI=raw_target,
            REQUEST_METHOD=method,
            **({"HTTP_UPGRADE": upgrade} if upgrade else {}),
            **{"wsgi.url_scheme": "https"},
        )
        location = response.headers.get("Location")
        if location is None:
            break
        assert urlsplit(location).hostname == CANONICAL, location
    assert location is None, location


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "EXAMPLE.COM",
        "Example.Com:443",
        "example.com:8443",
        "[::1]",
        "127.0.0.1:443",
        "localhost",
        "www.localhost",
    ],
)
@pytest.mark.parametrize("kind", ["open", "trusted"])
def test_attack_canonical_host_in_any_spelling_is_not_redirected_to_itself(kind, host):
    response = call_wsgi(
        _CANONICAL_APPS[kind], "/page", HTTP_HOST=host, **{"wsgi.url_scheme": "https"}
    )
    assert "Location" not in response.headers, response.headers.get("Location")


def test_attack_canonical_redirect_spares_websocket_handshakes_and_exempt_views():
    app = _CANONICAL_APPS["trusted"]
    secure = {"wsgi.url_scheme": "https", "HTTP_HOST": "www.example.com"}
    handshake = call_wsgi(app, "/page", HTTP_UPGRADE="WebSocket", **secure)
    assert "Location" not in handshake.headers
    assert "Location" not in call_wsgi(app, "/health", **secure).headers


#: A proxy that sets Host to its upstream's name and passes the client's in X-Forwarded-Host.
_BEHIND_A_HOST_REWRITING_PROXY = {
    "Host": "backend:8000",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": CANONICAL,
}


def test_attack_canonical_host_behind_a_proxy_that_rewrites_host_loops():
    app = create_app(trusted_proxies=1, canonical_host=CANONICAL)
    response = app.test_client().get("/page", headers=_BEHIND_A_HOST_REWRITING_PROXY)
    assert response.headers.get("Location") != f"https://{CANONICAL}/page"
    assert response.status_code == 200


def test_canonical_host_behind_a_proxy_that_rewrites_host_is_fine_with_trusted_hosts():
    # The documented setup (TRUSTED_HOSTS, or trusting X-Forwarded-Host) does not loop.
    for make in ("trusted_hosts", "x_host"):
        if make == "trusted_hosts":
            app = create_app(trusted_proxies=1, canonical_host=CANONICAL)
            app.config["TRUSTED_HOSTS"] = [CANONICAL, "www." + CANONICAL]
        else:
            app = create_app(
                trusted_proxies=1, trusted_proxy_headers=["x_host"], canonical_host=CANONICAL
            )
        response = app.test_client().get("/page", headers=_BEHIND_A_HOST_REWRITING_PROXY)
        assert response.headers.get("Location") is None, make


@pytest.mark.parametrize("adopted_first", [True, False])
@pytest.mark.parametrize(
    "forwarded_host, expected",
    [
        (CANONICAL, None),
        ("www.example.com", f"https://{CANONICAL}/p/page"),
        ("localhost", None),
    ],
)
def test_attack_adopted_proxy_fix_plus_trusted_proxies_never_loops_or_doubles(
    adopted_first, forwarded_host, expected
):
    # The same proxy counted twice: by a ProxyFix wrapped before init_app
    # (adopted) and by the guard's own trusted_proxies.
    app = Flask(f"double_{adopted_first}")
    seen: list[tuple[str, str, str]] = []

    @app.get("/page")
    def page() -> str:
        seen.append((request.scheme, request.host, request.script_root))
        return "page"

    if adopted_first:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    HTTPSGuard(
        app,
        trusted_proxies=1,
        trusted_proxy_headers=["x_host", "x_prefix"],
        canonical_host=CANONICAL,
    )
    if not adopted_first:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    headers = {"X-Forwarded-Host": forwarded_host, "X-Forwarded-Prefix": "/p"}
    secure = app.test_client().get(
        "/page", "http://backend", headers={**headers, "X-Forwarded-Proto": "https"}
    )
    assert secure.headers.get("Location") == expected
    if expected is None:
        assert seen == [("https", forwarded_host, "/p")]
    plain = app.test_client().get(
        "/page", "http://backend", headers={**headers, "X-Forwarded-Proto": "http"}
    )
    assert plain.headers["Location"] == f"https://{forwarded_host}/p/page"
    assert HSTS not in plain.headers


# --- Header hygiene --------------------------------------------------------------------


def _hygiene_app(name: str, **options: object) -> Flask:
    app = Flask(name)

    @app.route("/", defaults={"path": ""}, methods=ALL_METHODS)
    @app.route("/<path:path>", methods=ALL_METHODS)
    def anything(path: str) -> Response:
        response = Response("page")
        response.set_cookie("token", "t")
        return response

    @app.route("/account", methods=ALL_METHODS)
    @require_https
    def account() -> str:
        return "account"

    @app.route("/health", methods=ALL_METHODS)
    @exempt_https
    def health() -> str:
        return "ok"

    HTTPSGuard(app, upgrade_insecure_requests=True, **options)
    return app


_HYGIENE_APPS = [
    _hygiene_app("hygiene_global"),
    _hygiene_app("hygiene_per_view", global_mode=False),
    _hygiene_app("hygiene_skips", skips=["pub"]),
    _hygiene_app("hygiene_exempt_when", exempt_when=lambda r: "free" in r.path),
    _hygiene_app("hygiene_canonical", canonical_host=CANONICAL),
    _hygiene_app("hygiene_refusing", refuse_credentials=True, refuse_insecure_writes=True),
    _hygiene_app("hygiene_report_only", report_only=True, canonical_host=CANONICAL),
    _hygiene_app("hygiene_proxied", trusted_proxies=1, https_header="X-Forwarded-Ssl: on"),
]
_SPOOFS = st.dictionaries(
    st.sampled_from(
        [
            "HTTP_X_FORWARDED_PROTO",
            "HTTP_FORWARDED",
            "HTTP_X_FORWARDED_SSL",
            "HTTP_X_FORWARDED_HOST",
            "HTTP_UPGRADE",
            "HTTP_CONNECTION",
            "HTTP_AUTHORIZATION",
            "HTTP_FRONT_END_HTTPS",
        ]
    ),
    st.sampled_from(["https", "wss", "on", "proto=https", "websocket", "Upgrade", "http"]),
)


@given(
    app_index=st.integers(0, len(_HYGIENE_APPS) - 1),
    path=st.sampled_from(["/", "/account", "/health", "/pub/x", "/free", "/nowhere/x"]),
    host=st.sampled_from(["app.test", "www.example.com", CANONICAL, "localhost", "[::1]"]),
    method=st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "DELETE"]),
    spoofs=_SPOOFS,
)
def test_attack_no_plain_http_response_ever_carries_hsts(app_index, path, host, method, spoofs):
    app = _HYGIENE_APPS[app_index]
    if app.name == "hygiene_proxied":
        # Its one proxy always writes both headers; the client's copies come first.
        for key, proxy_says in (
            ("HTTP_X_FORWARDED_PROTO", "http"),
            ("HTTP_X_FORWARDED_SSL", "off"),
        ):
            spoofs[key] = f"{spoofs[key]}, {proxy_says}" if key in spoofs else proxy_says
    response = call_wsgi(app, path, HTTP_HOST=host, REQUEST_METHOD=method, **spoofs)
    assert HSTS not in response.headers, (app.name, response.status_code)
    assert "upgrade-insecure-requests" not in response.headers.get("Content-Security-Policy", "")
    location = response.headers.get("Location")
    if location is not None:
        assert location.startswith("https://"), location


def test_baseline_the_hygiene_apps_do_send_hsts_over_https():
    # So that the property above is not vacuous.
    for app in _HYGIENE_APPS:
        if app.name == "hygiene_report_only":
            continue
        secure = https_client(app).get("/health")
        assert secure.headers[HSTS] == HSTS_VALUE, app.name
        assert "upgrade-insecure-requests" in secure.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "host, forwarded",
    [
        ("localhost", None),
        ("LOCALHOST:5000", None),
        ("localhost.", None),
        ("localhost.:8443", None),
        ("app.localhost", None),
        ("a.b.LOCALHOST:8443", None),
        ("backend:8000", "localhost"),
        ("backend:8000", "api.localhost:8443"),
    ],
)
@pytest.mark.parametrize("canonical", [None, CANONICAL])
def test_attack_no_hsts_and_no_canonical_redirect_for_localhost(host, forwarded, canonical):
    app = create_app(trusted_proxies=1, trusted_proxy_headers=["x_host"], canonical_host=canonical)
    headers = {"Host": host, "X-Forwarded-Proto": "https"}
    if forwarded is not None:
        headers["X-Forwarded-Host"] = forwarded
    response = app.test_client().get("/page", headers=headers)
    assert response.status_code == 200
    assert HSTS not in response.headers


def test_attack_cookies_set_by_middleware_inside_the_guard_are_secure_on_https():
    app = front_app("cookie_middleware")
    inner = app.wsgi_app

    def add_cookies(environ: dict, start_response: Callable[..., object]) -> object:
        def start(status: str, headers: list, exc_info: object = None) -> object:
            headers.append(("set-cookie", "lower=1; Path=/"))
            headers.append(("Set-Cookie", "secure_in_value=secure; Path=/"))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = add_cookies  # type: ignore[method-assign]
    HTTPSGuard(app)
    response = https_client(app).get("/")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies == ["lower=1; Path=/; Secure", "secure_in_value=secure; Path=/; Secure"]
    # And plain HTTP never gets as far as the middleware.
    assert "Set-Cookie" not in app.test_client().get("/", HTTP).headers


def test_attack_plain_websocket_handshake_is_never_upgraded():
    upgraded: list[str] = []

    def websocket_server(environ: dict, start_response: Callable[..., object]) -> list[bytes]:
        # Stands for a websocket library mounted inside the guard.
        upgraded.append(environ["wsgi.url_scheme"])
        start_response(
            "101 Switching Protocols",
            [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", "x")],
        )
        return []

    apps = {}
    for mode in ("global", "per-view"):
        app = front_app(f"websocket_{mode}")
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/ws": websocket_server})  # type: ignore[method-assign]
        HTTPSGuard(app, global_mode=mode == "global")
        apps[mode] = app
    handshake = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    for headers in (handshake, {**handshake, "Upgrade": "WebSocket"}):
        response = apps["global"].test_client().get("/ws/chat", HTTP, headers=headers)
        assert response.status_code == 403
        assert "wss://" in response.get_data(as_text=True)
        for name in ("Upgrade", "Sec-WebSocket-Accept", "Location", HSTS):
            assert name not in response.headers
    assert upgraded == []
    # Over https the handshake passes, with HSTS on the 101. In per-view mode
    # the unrouted mount takes the mode's default (not guarded), as documented.
    secure = https_client(apps["global"]).get("/ws/chat", headers=handshake)
    assert (secure.status_code, secure.headers[HSTS]) == (101, HSTS_VALUE)
    assert (
        apps["per-view"].test_client().get("/ws/chat", HTTP, headers=handshake).status_code == 101
    )
    assert upgraded == ["https", "http"]


# --- Resources ----------------------------------------------------------------------


def test_attack_report_only_and_caches_stay_bounded_under_junk_requests(caplog):
    app = Flask("bounded")

    @app.get("/known")
    def known() -> str:
        return "known"

    @app.post("/form")
    @require_https
    def form() -> str:
        return "form"

    HTTPSGuard(app, report_only=True)
    guard = app.extensions["https_guard"]
    methods = ["GET", "POST", "PUT", "BREW", "get", "OPTIONS"]
    with caplog.at_level(logging.WARNING, logger="flask_https_guard"):
        for number in range(3000):
            call_wsgi(
                app,
                f"/junk{number}/{'x' * (number % 50)}",
                REQUEST_METHOD=methods[number % len(methods)],
                HTTP_HOST=f"h{number}.example",
                HTTP_UPGRADE="websocket" if number % 3 else "",
            )
            call_wsgi(app, "/form", REQUEST_METHOD="GET", HTTP_HOST=f"x{number}.example")
            call_wsgi(app, "/known", HTTP_HOST=f"y{number}.example")
    # Keys are endpoints (None for everything unrouted), never paths or hosts.
    assert len(guard._logged) <= 4, guard._logged
    assert len(guard.policy._by_endpoint) <= 4
    assert len(guard.target.remembered_hosts()) <= 64
    reports = [r for r in caplog.records if "report_only" in r.getMessage()]
    assert len(reports) <= 3


def test_attack_host_matching_app_walks_the_url_map_for_every_plain_request(monkeypatch):
    app = Flask("tenants", host_matching=True, static_host="app.example")
    for number in range(200):
        app.add_url_rule("/p", f"p{number}", lambda: "page", host=f"t{number}.example")
    HTTPSGuard(app)
    walks: list[int] = []
    iter_rules = app.url_map.iter_rules

    def counting(*args: object, **kwargs: object) -> object:
        walks.append(1)
        return iter_rules(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(app.url_map, "iter_rules", counting)
    for number in range(100):
        assert call_wsgi(app, "/p", HTTP_HOST=f"t{number}.example").status_code == 302
        assert call_wsgi(app, "/p", HTTP_HOST=f"forged{number}.example").status_code == 400
    assert len(walks) <= 10, len(walks)


@pytest.mark.parametrize(
    "host",
    [
        "a" * 258 + "!",
        ("a" * 62 + ".") * 4 + "!",
        "a." * 129 + "!",
        "-" * 258 + "!",
        "[" + "0:" * 128 + "]",
        "ab." * 86 + "!",
    ],
    ids=lambda host: host[:12],
)
def test_attack_worst_case_hosts_cost_microseconds(host):
    app = create_app()
    started = time.perf_counter()
    for _ in range(200):
        assert call_wsgi(app, "/p", HTTP_HOST=host).status_code == 400
    # 200 full requests through Flask's test machinery: generous on a noisy machine.
    assert time.perf_counter() - started < 10


def test_attack_redirected_write_body_is_never_read():
    class Exploding:
        def read(self, *args: object) -> bytes:
            raise AssertionError("the guard read the body of a request it redirects")

        readline = read

        def __iter__(self) -> Iterator[bytes]:
            raise AssertionError("the guard read the body of a request it redirects")

    for options in ({}, {"refuse_insecure_writes": True}, {"refuse_credentials": True}):
        app = create_app(**options)
        response = call_wsgi(
            app,
            "/upload",
            REQUEST_METHOD="POST",
            HTTP_HOST="app.test",
            HTTP_AUTHORIZATION="Basic eDp5",
            CONTENT_LENGTH=str(10**9),
            CONTENT_TYPE="application/x-www-form-urlencoded",
            **{"wsgi.input": Exploding()},
        )
        assert response.status_code in (307, 403)


# --- Real servers: gunicorn on loopback, raw sockets ------------------------------------


def _exchange(port: int, payload: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes; everything the server answers until it closes (or goes quiet)."""
    received = b""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as connection:
        connection.sendall(payload)
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except socket.timeout:
            pass
    return received


_SERVER_ADDRESS = "(the server's own address)"
# A masked websocket text frame ("hi"), sent right after the handshake.
_WS_FRAME = bytes([0x81, 0x82, 1, 2, 3, 4, ord("h") ^ 1, ord("i") ^ 2])


def _page_request(*lines: bytes, id: str) -> object:
    """A plain-HTTP GET /page to app.test with ``lines`` added, redirected to its https URL."""
    return pytest.param(
        [b"GET /page HTTP/1.1", b"Host: app.test", *lines], "https://app.test/page", id=id
    )


@pytest.mark.parametrize(
    "lines, expected_location",
    [
        pytest.param(
            [b"GET https://app.test/page HTTP/1.1", b"Host: app.test"],
            "https://app.test/page",
            id="absolute-form-https",
        ),
        pytest.param(
            [b"GET https://evil.example/page HTTP/1.1", b"Host: app.test"],
            "https://app.test/page",
            id="absolute-form-other-host",
        ),
        pytest.param([b"GET /page HTTP/1.0"], _SERVER_ADDRESS, id="http10-no-host"),
        pytest.param(
            [b"GET /page HTTP/1.1", b"Host: APP.TEST:80"], "https://app.test/page", id="port-80"
        ),
        pytest.param(
            [b"GET /page HTTP/1.1", b"Host: app.test:443"], "https://app.test/page", id="port-443"
        ),
        pytest.param(
            [b"GET /page HTTP/1.1", b"Host: app.test."], "https://app.test./page", id="dot"
        ),
        _page_request(b"flask_https_guard.decided: 1", id="marker-header"),
        _page_request(b"Flask-Https-Guard-Decided: 1", id="marker-header-dashes"),
        _page_request(b"SCRIPT_NAME: //evil.example", id="script-name-header"),
        _page_request(
            b"X-Forwarded-Proto: wss", b"X-Forwarded-Proto: http", id="client-wss-then-proxy-http"
        ),
        _page_request(
            b"Upgrade: h2c",
            b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA",
            b"Connection: Upgrade, HTTP2-Settings",
            id="h2c",
        ),
        _page_request(b"Upgrade: TLS/1.2, HTTP/1.1", id="rfc2817-tls-upgrade"),
        pytest.param(
            [b"OPTIONS * HTTP/1.1", b"Host: app.test"], "https://app.test/*", id="options-star"
        ),
        pytest.param(
            [b"GET //evil.example/%2e%2e HTTP/1.1", b"Host: app.test"],
            "https://app.test//evil.example/%2e%2e",
            id="double-slash",
        ),
        pytest.param(
            [b"GET /" + b"a/" * 1500 + b" HTTP/1.1", b"Host: app.test"],
            "https://app.test/" + "a/" * 1500,
            id="long-path",
        ),
    ],
)
def test_attack_plain_http_tricks_on_gunicorn_are_redirected_on_site(
    gunicorn_behind_one_proxy, lines, expected_location
):
    status, headers = _send_raw(gunicorn_behind_one_proxy, lines)
    assert status in (302, 307), (status, headers)
    location = headers["location"]
    if expected_location is _SERVER_ADDRESS:
        # No Host: the server's own address and port, nothing the client chose.
        assert location == f"https://{LOOPBACK}:{gunicorn_behind_one_proxy}/page"
    else:
        assert location == expected_location
    assert "strict-transport-security" not in headers


def test_attack_plain_websocket_handshake_on_gunicorn_is_refused_and_never_upgraded(
    gunicorn_behind_one_proxy,
):
    handshake = b"\r\n".join(
        [
            b"GET /chat HTTP/1.1",
            b"Host: app.test",
            b"Upgrade: websocket",
            b"Connection: Upgrade",
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            b"Sec-WebSocket-Version: 13",
            b"",
            b"",
        ]
    )
    received = _exchange(gunicorn_behind_one_proxy, handshake + _WS_FRAME, timeout=5)
    assert received.startswith(b"HTTP/1.1 403 "), received[:200]
    lowered = received.lower()
    assert b" 101 " not in received
    assert b"sec-websocket-accept" not in lowered
    assert b"upgrade: websocket" not in lowered
    assert b"strict-transport-security" not in lowered
    # What follows the refused handshake is never read as websocket data.
    assert received.count(b"HTTP/1.1 ") <= 2


@pytest.fixture(scope="module")
def canonical_behind_nginx(tmp_path_factory):
    """nginx (standing for a TLS terminator: it writes X-Forwarded-Proto: https)
    in front of gunicorn serving the global-mode app with canonical_host and one
    trusted proxy. Port ``rewrites``: nginx's default Host ($proxy_host, the
    upstream's name); port ``keeps``: proxy_set_header Host $host."""
    directory = tmp_path_factory.mktemp("canonical_nginx")
    rewrites, keeps = free_port(), free_port()
    with raw_target_gunicorn(
        directory / "gunicorn.log",
        "--forwarded-allow-ips",
        "192.0.2.1",
        FLASK_HTTPS_GUARD_TRUSTED_PROXIES="1",
        FLASK_HTTPS_GUARD_CANONICAL_HOST=CANONICAL,
    ) as app_port:
        location = (
            "location / {{ proxy_pass http://backend; {host}"
            " proxy_set_header X-Forwarded-Proto https; }}"
        )
        servers = (
            f"    upstream backend {{ server {LOOPBACK}:{app_port}; }}\n"
            f"    server {{ listen {LOOPBACK}:{rewrites}; {location.format(host='')} }}\n"
            f"    server {{ listen {LOOPBACK}:{keeps};"
            f" {location.format(host='proxy_set_header Host $host;')} }}\n"
        )
        with nginx_server(directory, nginx_http_config(directory, servers), [rewrites, keeps]):
            yield {"rewrites": rewrites, "keeps": keeps}


@pytest.mark.parametrize(
    "front",
    ["rewrites", "keeps"],
)
def test_attack_canonical_host_behind_nginx_never_redirects_a_url_to_itself(
    canonical_behind_nginx, front
):
    status, headers = _send_raw(
        canonical_behind_nginx[front], [b"GET /page HTTP/1.1", f"Host: {CANONICAL}".encode()]
    )
    assert headers.get("location") != f"https://{CANONICAL}/page", (status, headers)
    assert status == 200
    assert headers["strict-transport-security"] == HSTS_VALUE
