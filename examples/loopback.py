"""Serve an example app over plain HTTP and HTTPS on 127.0.0.1 and show what a client sees.

Each example ends with ``loopback.show(create_app, visits)``: two real
Werkzeug servers start on free loopback ports, one plain and one TLS with a
certificate from a throwaway local certificate authority (see
certificates.py), and a real client sends each visit over http. When the
answer is a redirect to https, the client follows it once, with the same
method and body, so both sides are printed with their headers.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Callable, Optional

from certificates import make_loopback_tls
from flask import Flask
from werkzeug.serving import make_server

HOST = "127.0.0.1"
#: Headers that change on every run and say nothing about the guard.
_NOT_SHOWN = {"date", "server", "connection"}

AppFactory = Callable[[Mapping[str, Any]], Flask]


@dataclass(frozen=True)
class Answer:
    """A response as the client received it."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name``, or None."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)


class Loopback:
    """An app on two loopback servers, plain HTTP and HTTPS, and a client for both.

    ``create_app`` receives the config that points the guard's redirects at
    the HTTPS server's port (``HTTPS_GUARD_REDIRECT_PORT``); in production
    both would be the default ports and no such setting is needed.
    """

    def __init__(
        self,
        create_app: AppFactory,
        server_tls: ssl.SSLContext,
        client_tls: ssl.SSLContext,
        http_port: int = 0,
        https_port: int = 0,
    ) -> None:
        self.client_tls = client_tls
        # Bind the https port first: the app redirects to it. The server gets
        # the real app before it serves anything.
        self._https = make_server(
            HOST, https_port, Flask(__name__), threaded=True, ssl_context=server_tls
        )
        self.https_port = self._https.server_port
        self.app = create_app({"HTTPS_GUARD_REDIRECT_PORT": self.https_port})
        self._https.app = self.app
        self._http = make_server(HOST, http_port, self.app, threaded=True)
        self.http_port = self._http.server_port
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Loopback:
        # The printout shows what the client sees; the access log would
        # interleave with it.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        for server in (self._https, self._http):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in (self._http, self._https):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()

    def url(self, scheme: str, target: str) -> str:
        """The URL of ``target`` (a path and query) on the http or https server."""
        port = self.https_port if scheme == "https" else self.http_port
        return f"{scheme}://{HOST}:{port}{target}"

    def send(self, method: str, url: str, body: Optional[str] = None) -> Answer:
        """Send one request and return the answer; redirects are not followed."""
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname, port, context=self.client_tls, timeout=10
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, port, timeout=10)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        headers = {"Content-Type": "text/plain"} if body is not None else {}
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(
                response.status,
                response.reason,
                response.getheaders(),
                response.read().decode(),
            )
        finally:
            connection.close()

    def visit(self, method: str, target: str, body: Optional[str] = None) -> list[Answer]:
        """Send ``method target`` over http, follow a redirect to https once,
        print each request and answer, and return the answers."""
        url = self.url("http", target)
        answers = []
        while True:
            answer = self.send(method, url, body)
            answers.append(answer)
            print_exchange(method, url, body, answer)
            location = answer.header("Location")
            if len(answers) > 1 or answer.status not in (301, 302, 307, 308) or not location:
                return answers
            if answer.status in (301, 302):
                # What browsers do: a 301/302 is followed with GET, no body.
                method, body = "GET", None
            url = location


def print_exchange(method: str, url: str, body: Optional[str], answer: Answer) -> None:
    """Print a request line and the answer, as ``curl -i`` would show it."""
    sent = f" with body {body!r}" if body is not None else ""
    print(f"> {method} {url}{sent}")
    print(f"< {answer.status} {answer.reason}")
    for name, value in answer.headers:
        if name.lower() not in _NOT_SHOWN:
            print(f"< {name}: {value}")
    if answer.body:
        print("<")
        for line in answer.body.rstrip("\n").splitlines():
            print(f"< {line}")
    print()


def show(create_app: AppFactory, visits: Iterable[tuple[str, str, Optional[str]]]) -> None:
    """Serve the app on loopback and print each visit: ``(method, target, body)``."""
    tls = make_loopback_tls()
    with Loopback(create_app, tls.server, tls.client) as loopback:
        print(
            f"Serving on http://{HOST}:{loopback.http_port}/ and"
            f" https://{HOST}:{loopback.https_port}/ (certificate from a throwaway"
            " local certificate authority made at start)\n"
        )
        for method, target, body in visits:
            loopback.visit(method, target, body)
