"""The guard on a real server: plain HTTP and HTTPS on loopback, and a tour.

    python examples/demo.py                   # serve until Ctrl-C
    python examples/demo.py --exit-after-tour # print the tour and stop

At start, a throwaway local certificate authority (CA) is made in memory and
issues the server's certificate. The CA's certificate (not its key) and the
server's certificate and key go to a temporary directory, so that you can
point curl at them; the tour's client trusts that CA and nothing else. The
directory is removed on exit, on Ctrl-C (SIGINT) and on SIGTERM or SIGHUP.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Mapping
from types import FrameType
from typing import Any, Optional

from certificates import make_server_certificate
from flask import Flask, request
from loopback import HOST, Loopback

from flask_https_guard import HTTPSGuard, exempt_https


def create_app(config: Optional[Mapping[str, Any]] = None) -> Flask:
    """The demo app: a page, a form that echoes its body, and a health check."""
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    HTTPSGuard(app)

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


def run_tour(loopback: Loopback) -> bool:
    """Print what a client sees; return True when every step is as promised."""
    https_base = f"https://{HOST}:{loopback.https_port}"
    steps = []

    answer = loopback.send("GET", loopback.url("http", "/?page=2&q=a%2Fb"))
    steps.append(
        (
            "GET over http is redirected to the same URL on https",
            f"{answer.status} Location: {answer.header('Location')}",
            answer.status == 302
            and answer.header("Location") == f"{https_base}/?page=2&q=a%2Fb"
            and answer.header("Strict-Transport-Security") is None,
        )
    )
    answer = loopback.send("GET", loopback.url("https", "/?page=2&q=a%2Fb"))
    hsts = answer.header("Strict-Transport-Security")
    steps.append(
        (
            "the same URL over https is served, with HSTS",
            f"{answer.status} Strict-Transport-Security: {hsts}",
            answer.status == 200 and hsts == "max-age=31536000",
        )
    )
    answer = loopback.send("GET", loopback.url("http", "/health"))
    hsts = answer.header("Strict-Transport-Security")
    steps.append(
        (
            "the health check answers over plain http (for load balancers)",
            f"{answer.status} {answer.body.strip()!r}, HSTS: {hsts}",
            answer.status == 200 and hsts is None,
        )
    )
    answer = loopback.send("POST", loopback.url("http", "/echo"), body="order=42")
    steps.append(
        (
            "POST over http gets 307, so the method and body survive",
            f"{answer.status} Location: {answer.header('Location')}",
            answer.status == 307 and answer.header("Location") == f"{https_base}/echo",
        )
    )
    followed = loopback.send("POST", loopback.url("https", "/echo"), body="order=42")
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


class Stopped(Exception):
    """Raised in the main thread by a termination signal, so cleanup runs."""


def _stop(signum: int, frame: Optional[FrameType]) -> None:
    raise Stopped(signal.Signals(signum).name)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--https-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--exit-after-tour", action="store_true", help="stop after the tour")
    arguments = parser.parse_args(argv)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    all_kept = False
    directory = pathlib.Path(tempfile.mkdtemp(prefix="https-guard-demo-"))
    try:
        certificate = make_server_certificate(directory)
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(certificate.cert_file, certificate.key_file)
        client_tls = ssl.create_default_context(cafile=str(certificate.ca_file))
        with Loopback(
            create_app, server_tls, client_tls, arguments.http_port, arguments.https_port
        ) as loopback:
            print(
                f"flask_https_guard demo: http://{HOST}:{loopback.http_port}/"
                f"  and  https://{HOST}:{loopback.https_port}/\n"
                "The https certificate is issued by a throwaway local certificate"
                " authority made at start;\n"
                f"its CA certificate is {certificate.ca_file} (removed on exit).\n",
                flush=True,
            )
            all_kept = run_tour(loopback)
            if not arguments.exit_after_tour:
                print(
                    "\nServing until Ctrl-C. Try:\n"
                    f"  curl -i http://{HOST}:{loopback.http_port}/health\n"
                    f"  curl -i --cacert {certificate.ca_file}"
                    f" https://{HOST}:{loopback.https_port}/",
                    flush=True,
                )
                threading.Event().wait()
    except Stopped as stopped:
        print(f"\n{stopped}: stopping", flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0 if all_kept else 1


if __name__ == "__main__":
    sys.exit(main())
