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
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Blueprint, Flask, Response, request, stream_with_context
from flask.views import MethodView
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware

from flask_https_guard import HTTPSGuard, require_https
from flask_https_guard.testing import https_client

from .helpers import call_wsgi
from .raw_target_app import ALL_METHODS, create_app
from .servers import LOOPBACK, ManagedProcess, free_port, require_module, wsgi_server

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
    environ = {
        "HTTP_HOST": host,
        "PATH_INFO": path,
        "SCRIPT_NAME": script_name,
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
    }
    if raw is not None:
        environ["RAW_URI"] = environ["REQUEST_URI"] = raw
    for key, value in [
        ("HTTP_X_FORWARDED_HOST", forwarded_host),
        ("HTTP_X_FORWARDED_PORT", forwarded_port),
        ("HTTP_X_FORWARDED_PREFIX", forwarded_prefix),
    ]:
        if value is not None:
            environ[key] = value
    response = call_wsgi(app, "/", **environ)
    assert response.status_code < 500
    for name, value in response.headers.items():
        assert not re.search(r"[\r\n\x00]", value), (name, value)
    location = response.headers.get("Location")
    if location is None:
        return
    assert _LOCATION.fullmatch(location), location
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
    require_module("gunicorn")
    port = free_port()
    server = ManagedProcess(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"{LOOPBACK}:{port}",
            "--forwarded-allow-ips",
            "192.0.2.1",
            "--chdir",
            str(Path(__file__).parent),
            "raw_target_app:app",
        ],
        tmp_path_factory.mktemp("gunicorn_attacks") / "gunicorn.log",
        env={**os.environ, "FLASK_HTTPS_GUARD_TRUSTED_PROXIES": "1"},
    )
    try:
        server.wait_for_port(port)
        yield port
    finally:
        server.stop()


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
