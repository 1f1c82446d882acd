"""A real Chromium in front of a Flask app served on loopback, for test_browser.py.

The browser believes it talks to ``app.test`` on the default ports: its
``--host-resolver-rules`` send ``app.test:80`` to a plain-HTTP server and
``app.test:443`` to an HTTPS server, both Werkzeug servers on free loopback
ports serving the same app. The HTTPS server's certificate comes from a
throwaway CA (trustme) that the browser trusts through an NSS database in a
temporary HOME, so HSTS is accepted as it would be for a real site (Chromium
ignores HSTS on a connection with certificate errors). Each server records
every request that reached it, so a test can assert what went over plain
HTTP and what went over HTTPS.
"""

from __future__ import annotations

import io
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

from werkzeug.serving import BaseWSGIServer, make_server

from .servers import LOOPBACK

if TYPE_CHECKING:
    import trustme
    from flask import Flask
    from playwright.sync_api import BrowserContext, Playwright

HOST = "app.test"
#: Every wait on the browser is bounded by this (milliseconds).
TIMEOUT_MS = 20_000

CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium's own "try https first" would hide what the guard does: the
    # redirect must come from the app, the upgrade from the HSTS it sent.
    "--disable-features=HttpsUpgrades",
]


class Hit(NamedTuple):
    """One request as it reached a server: the raw request target, not a decoded path."""

    method: str
    target: str
    body: bytes
    status: int


class Recorder:
    """WSGI middleware that records every request reaching the app behind it."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.hits: list[Hit] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        # Werkzeug's server puts the request target, as sent, in REQUEST_URI:
        # PATH_INFO would already have %2F decoded to "/".
        target = environ.get("REQUEST_URI") or environ["PATH_INFO"]
        method = environ["REQUEST_METHOD"]

        def record_status(status: str, headers: Any, exc_info: Any = None) -> Any:
            self.hits.append(Hit(method, target, body, int(status.split()[0])))
            return start_response(status, headers, exc_info)

        return self.app(environ, record_status)

    def clear(self) -> None:
        self.hits.clear()


class LoopbackSite:
    """``app`` served over plain HTTP and over HTTPS on free loopback ports.

    ``site.http.hits`` and ``site.https.hits`` list what reached each server.
    """

    def __init__(self, app: Flask, certificate: trustme.LeafCert) -> None:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(tls)
        self.http = Recorder(app)
        self.https = Recorder(app)
        self._servers: list[BaseWSGIServer] = []
        self._threads: list[threading.Thread] = []
        try:
            self._serve(self.http, None)
            self._serve(self.https, tls)
        except BaseException:
            self.stop()
            raise

    def _serve(self, recorder: Recorder, tls: Optional[ssl.SSLContext]) -> None:
        # Port 0: the kernel picks a free port while binding, no race.
        server = make_server(LOOPBACK, 0, recorder, threaded=True, ssl_context=tls)
        thread = threading.Thread(target=server.serve_forever, name=f"site-{server.port}")
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)

    @property
    def resolver_rules(self) -> str:
        """Chromium's host mapping: the default ports of ``app.test`` to our
        servers, every other name to nothing (no request leaves the machine)."""
        http, https = (server.port for server in self._servers)
        rules = [
            f"MAP {HOST}:80 {LOOPBACK}:{http}",
            f"MAP {HOST}:443 {LOOPBACK}:{https}",
            "MAP * ~NOTFOUND",
        ]
        return ",".join(rules)

    def clear(self) -> None:
        """Forget what both servers recorded so far."""
        self.http.clear()
        self.https.clear()

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)


def make_browser_home(ca: trustme.CA, home: Path, certutil: str) -> None:
    """An NSS database in ``home/.pki/nssdb`` that trusts ``ca`` for websites.

    Chromium on Linux reads its trust store from ``$HOME/.pki/nssdb``.
    """
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    ca_file = home / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    nss = f"sql:{database}"
    for args in (
        ["-N", "--empty-password"],
        ["-A", "-t", "C,,", "-n", "testca", "-i", str(ca_file)],
    ):
        subprocess.run([certutil, "-d", nss, *args], check=True, capture_output=True, timeout=30)


def launch_browser(
    playwright: Playwright, chromium: str, home: Path, profile: Path, site: LoopbackSite
) -> BrowserContext:
    """A headless Chromium with a fresh profile (so fresh HSTS state) that
    trusts the CA in ``home`` and reaches ``app.test`` at ``site``."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium,
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={site.resolver_rules}"],
        env={**os.environ, "HOME": str(home)},
        viewport={"width": 800, "height": 500},
        timeout=TIMEOUT_MS * 3,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
