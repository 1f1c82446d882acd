"""One guard, one app, many threads: every request gets its own right answer.

Werkzeug's threaded server on loopback serves a per-view app behind one
trusted proxy, so secure (X-Forwarded-Proto: https) and insecure requests
to exempt, required and plain views arrive interleaved on the same port.
"""

from __future__ import annotations

import http.client
import itertools
import random
import threading

from flask import Flask, request
from werkzeug.serving import make_server

from flask_https_guard import HTTPSGuard, exempt_https, require_https

from .servers import LOOPBACK

THREADS = 16
REQUESTS_PER_THREAD = 150
HSTS = "Strict-Transport-Security"


def per_view_app() -> tuple[Flask, HTTPSGuard]:
    app = Flask(__name__)
    guard = HTTPSGuard(app, global_mode=False, trusted_proxies=1, skips=["public"])

    @app.get("/health")
    @exempt_https
    def health():
        return "health"

    @app.route("/account", methods=["GET", "POST"])
    @require_https
    def account():
        return f"account {request.get_data(as_text=True)}"

    @app.get("/plain")
    def plain():
        return "plain"

    @app.get("/public/<page>")
    @require_https
    def public(page):
        return page

    return app, guard


def expected(view: str, method: str, secure: bool, number: int) -> tuple[int, str | None, bool]:
    """(status, Location or body, HSTS expected) for one request."""
    if secure:
        account = f"account {number}" if method == "POST" else "account "
        body = {"health": "health", "account": account, "plain": "plain", "public": f"p{number}"}[
            view
        ]
        return 200, body, True
    if view in ("health", "plain"):
        return 200, view, False
    target = "/account" if view == "account" else f"/public/p{number}"
    return (307 if method == "POST" else 302), f"https://app.test{target}", False


def test_interleaved_requests_each_get_their_own_answer():
    app, _ = per_view_app()
    options_before = app.extensions["https_guard"].options
    server = make_server(LOOPBACK, 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    wrong, errors = [], []
    counter = itertools.count()
    lock = threading.Lock()

    def client(seed: int) -> None:
        chooser = random.Random(seed)
        for _ in range(REQUESTS_PER_THREAD):
            number = next(counter)
            view = chooser.choice(["health", "account", "plain", "public"])
            method = "POST" if view == "account" and chooser.random() < 0.5 else "GET"
            secure = chooser.random() < 0.5
            target = {
                "health": "/health",
                "account": "/account",
                "plain": "/plain",
                "public": f"/public/p{number}",
            }[view]
            headers = {"Host": "app.test", "X-Forwarded-Proto": "https" if secure else "http"}
            connection = http.client.HTTPConnection(LOOPBACK, server.server_port, timeout=20)
            try:
                connection.request(
                    method, target, body=str(number) if method == "POST" else None, headers=headers
                )
                response = connection.getresponse()
                body = response.read().decode()
            except Exception as error:
                with lock:
                    errors.append(repr(error))
                continue
            finally:
                connection.close()
            status, detail, hsts = expected(view, method, secure, number)
            seen = response.getheader("Location") if status in (302, 307) else body
            if (response.status, seen, response.getheader(HSTS) is not None) != (
                status,
                detail,
                hsts,
            ):
                with lock:
                    wrong.append((view, method, secure, number, response.status, seen))

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    server.shutdown()
    assert errors == []
    assert wrong == []
    assert next(counter) == THREADS * REQUESTS_PER_THREAD
    # Nothing the guard resolved at init_app changed while serving.
    assert app.extensions["https_guard"].options is options_before
    assert app.extensions["https_guard"].options == options_before


def test_marks_without_a_guard_under_racing_first_requests_warn_once(caplog):
    # The defaults that marks enforce on an app without a guard are made by the
    # first requests; racing threads must all be answered, and warned about once.
    app = Flask(__name__)

    @app.get("/pay")
    @require_https
    def pay():
        return "pay"

    start = threading.Barrier(THREADS)
    statuses = []

    def first_request(secure: bool) -> None:
        client = app.test_client()
        start.wait()
        base = "https://app.test" if secure else "http://app.test"
        response = client.get("/pay", base_url=base)
        statuses.append((secure, response.status_code, HSTS in response.headers))

    threads = [threading.Thread(target=first_request, args=(n % 2 == 0,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) == [(False, 302, False), (True, 200, True)]
    warnings = [r for r in caplog.records if "no HTTPSGuard" in r.getMessage()]
    assert len(warnings) == 1
