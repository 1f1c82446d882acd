"""The guard on a real server: plain HTTP and HTTPS on loopback, and a tour.

    python examples/demo.py                   # serve until Ctrl-C
    python examples/demo.py --exit-after-tour # print the tour and stop

A certificate authority and a server certificate are made at start in a
temporary directory; the tour's client verifies the server against that CA.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import pathlib
import ssl
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Optional

from flask import Flask, request
from werkzeug.serving import BaseWSGIServer, make_server

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from certificates import make_server_certificate

from flask_https_guard import HTTPSGuard, exempt_https

HOST = "127.0.0.1"


def create_app(https_port: int) -> Flask:
    """The demo app: a page, a form that echoes its body, and a health check."""
    app = Flask(__name__)
    HTTPSGuard(app, redirect_port=https_port)

    @app.get("/")
    def index() -> str:
        return "Hello over HTTPS.\n"

    @app.post("/echo")
    def echo() -> str:
        return f"received over {request.scheme}: {request.get_data(as_text=True)}\n"

    @app.get("/health")
    @exempt_https
    def health() -> str:
        return "ok\n"

    return app


@dataclass
class Answer:
    status: int
    location: Optional[str]
    hsts: Optional[str]
    body: str


class TourClient:
    """A client that does not follow redirects, so each step is visible."""

    def __init__(self, http_port: int, https_port: int, ca_file: pathlib.Path) -> None:
        self.http_port = http_port
        self.https_port = https_port
        self.tls = ssl.create_default_context(cafile=str(ca_file))

    def send(self, scheme: str, method: str, target: str, body: Optional[str] = None) -> Answer:
        if scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                HOST, self.https_port, context=self.tls, timeout=10
            )
        else:
            connection = http.client.HTTPConnection(HOST, self.http_port, timeout=10)
        try:
            headers = {"Content-Type": "text/plain"} if body is not None else {}
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(
                response.status,
                response.getheader("Location"),
                response.getheader("Strict-Transport-Security"),
                response.read().decode(),
            )
        finally:
            connection.close()


def run_tour(client: TourClient) -> bool:
    """Print what a client sees; return True when every step is as promised."""
    https_base = f"https://{HOST}:{client.https_port}"
    steps = []

    answer = client.send("http", "GET", "/?page=2&q=a%2Fb")
    steps.append(
        (
            "GET over http is redirected to the same URL on https",
            f"{answer.status} Location: {answer.location}",
            answer.status == 302
            and answer.location == f"{https_base}/?page=2&q=a%2Fb"
            and answer.hsts is None,
        )
    )
    answer = client.send("https", "GET", "/?page=2&q=a%2Fb")
    steps.append(
        (
            "the same URL over https is served, with HSTS",
            f"{answer.status} Strict-Transport-Security: {answer.hsts}",
            answer.status == 200 and answer.hsts == "max-age=31536000",
        )
    )
    answer = client.send("http", "GET", "/health")
    steps.append(
        (
            "the health check answers over plain http (for load balancers)",
            f"{answer.status} {answer.body.strip()!r}, HSTS: {answer.hsts}",
            answer.status == 200 and answer.hsts is None,
        )
    )
    answer = client.send("http", "POST", "/echo", body="order=42")
    steps.append(
        (
            "POST over http gets 307, so the method and body survive",
            f"{answer.status} Location: {answer.location}",
            answer.status == 307 and answer.location == f"{https_base}/echo",
        )
    )
    followed = client.send("https", "POST", "/echo", body="order=42")
    steps.append(
        (
            "the client repeats the POST on https, body intact",
            f"{followed.status} {followed.body.strip()!r}",
            followed.status == 200 and followed.body == "received over https: order=42\n",
        )
    )
    for number, (promise, seen, kept) in enumerate(steps, 1):
        print(f"{number}. {promise}\n   {'ok ' if kept else 'FAILED'} {seen}")
    return all(kept for _, _, kept in steps)


def serve(app: Flask, port: int) -> BaseWSGIServer:
    server = make_server(HOST, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--https-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--exit-after-tour", action="store_true", help="stop after the tour")
    arguments = parser.parse_args(argv)
    # The tour prints what the client sees; the server's access log would
    # interleave with it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="https-guard-demo-") as directory:
        certificate = make_server_certificate(pathlib.Path(directory))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate.cert_file, certificate.key_file)
        # Bind the https port before making the app, which redirects to it;
        # the server takes the real app before it serves anything.
        https_server = make_server(
            HOST, arguments.https_port, Flask(__name__), threaded=True, ssl_context=tls
        )
        https_port = https_server.server_port
        app = create_app(https_port)
        https_server.app = app
        threading.Thread(target=https_server.serve_forever, daemon=True).start()
        http_server = serve(app, arguments.http_port)
        client = TourClient(http_server.server_port, https_port, certificate.ca_file)

        print(
            f"flask_https_guard demo: http://{HOST}:{http_server.server_port}/"
            f"  and  https://{HOST}:{https_port}/ (self-signed, CA in {certificate.ca_file})\n"
        )
        all_kept = run_tour(client)
        if arguments.exit_after_tour:
            http_server.shutdown()
            https_server.shutdown()
            return 0 if all_kept else 1
        print(
            f"\nServing until Ctrl-C. Try: curl -i http://{HOST}:{http_server.server_port}/health"
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nbye")
        return 0 if all_kept else 1


if __name__ == "__main__":
    sys.exit(main())
