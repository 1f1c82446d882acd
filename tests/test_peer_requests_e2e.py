"""End to end, issue 18 points 1, 2 and 4: nginx terminates TLS in front of gunicorn.

Real curl requests through real servers on loopback:

- ``exempt_when`` lets a cron request (``X-Appengine-Cron: true``), a
  health checker's User-Agent and a monitor's source address through over
  plain HTTP. nginx connects to gunicorn from 127.0.0.2, curl from 127.0.0.1
  or 127.0.0.3, so the address the predicate sees is shown to be the client's
  (from nginx's ``X-Forwarded-For`` entry, ``trusted_proxies=1``), not the
  proxy's, and not one a client forged.
- ``@require_https(refuse=True)`` and ``refuse_credentials`` answer 403
  through nginx, with no ``Location``.
- HSTS goes to ``app.test`` and ``127.0.0.1``, not to ``localhost`` or
  ``dev.localhost``: one nginx site with those ``server_name`` entries, curl
  pointed at it with ``--resolve``.

Skipped when nginx, curl or gunicorn is missing, except under CI=true (see
tests/servers.py).
"""

from __future__ import annotations

import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .servers import (
    HSTS,
    HSTS_VALUE,
    LOOPBACK,
    CurlAnswer,
    TLSFront,
    assert_served,
    curl,
    nginx_http_config,
    tls_front,
)

NAMES = ("app.test", "localhost", "dev.localhost")
#: nginx connects to gunicorn from this address; the monitor's curl from MONITOR.
PROXY_SOURCE = "127.0.0.2"
MONITOR = "127.0.0.3"

APP = '''
"""The app behind nginx in tests/test_peer_requests_e2e.py."""

import ipaddress
import os

from flask import Flask, request

from flask_https_guard import HTTPSGuard, require_https

MONITORS = ipaddress.ip_network(os.environ["MONITOR_NETWORK"])


def from_peer(request):
    """Cron jobs, the load balancer's health check, and the monitor's address."""
    if request.headers.get("X-Appengine-Cron") == "true":
        return True
    if request.user_agent.string.startswith("ELB-HealthChecker/"):
        return request.path == "/"
    if request.path == "/metrics":
        return ipaddress.ip_address(request.remote_addr) in MONITORS
    return False


app = Flask(__name__)
app.config.from_prefixed_env()
HTTPSGuard(app, trusted_proxies=1, exempt_when=from_peer, refuse_credentials=True)


@app.get("/")
def index():
    return f"index over {request.scheme}\\n"


@app.get("/tasks/cleanup")
def cleanup():
    return f"cleaned over {request.scheme}\\n"


@app.get("/metrics")
def metrics():
    return f"metrics for {request.remote_addr} over {request.scheme}\\n"


@app.post("/api/token")
@require_https(refuse=True)
def token():
    return f"token for {request.get_data(as_text=True)}\\n"
'''


def site(http_port: int, https_port: int, app_port: int, cert) -> str:
    proxy = f"""
        location / {{
            proxy_pass http://peer_app;
            proxy_bind {PROXY_SOURCE};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}"""
    return f"""
    upstream peer_app {{ server {LOOPBACK}:{app_port}; }}
    server {{
        listen {LOOPBACK}:{http_port};
        server_name app.test localhost *.localhost;
        {proxy}
    }}
    server {{
        listen {LOOPBACK}:{https_port} ssl;
        server_name app.test localhost *.localhost;
        ssl_certificate {cert.cert_file};
        ssl_certificate_key {cert.key_file};
        {proxy}
    }}
"""


@dataclass
class Peers(TLSFront):
    def http(self, path: str, host: str = "app.test") -> str:
        return f"http://{host}:{self.http_port}{path}"

    def https(self, path: str, host: str = "app.test") -> str:
        return f"https://{host}:{self.https_port}{path}"


def nginx_config(directory: Path, http_port: int, https_port: int, app_port: int, cert) -> Path:
    return nginx_http_config(directory, site(http_port, https_port, app_port, cert))


@pytest.fixture(scope="module")
def peers() -> Iterator[Peers]:
    with tls_front(
        Peers,
        NAMES,
        "peer_app:app",
        nginx_config,
        "--workers",
        "2",
        app_source=textwrap.dedent(APP).lstrip(),
        trusted_hosts=["app.test", "localhost", ".localhost"],
        MONITOR_NETWORK=f"{MONITOR}/32",
    ) as front:
        yield front


def assert_redirected(answer: CurlAnswer, location: str) -> None:
    assert answer.status == 302, answer
    assert answer.headers["location"] == location
    assert HSTS not in answer.headers


# --- Point 1: exempt_when -------------------------------------------------------


def test_a_cron_request_is_served_over_plain_http(peers):
    answer = curl(peers, peers.http("/tasks/cleanup"), "-H", "X-Appengine-Cron: true")
    assert_served(answer, "cleaned over http\n", hsts=False)
    assert "location" not in answer.headers


def test_without_the_cron_header_it_is_redirected(peers):
    for header in ("X-Appengine-Cron: false", "X-Other: true"):
        answer = curl(peers, peers.http("/tasks/cleanup?run=1"), "-H", header)
        assert_redirected(answer, peers.https("/tasks/cleanup?run=1"))


def test_an_exempt_request_over_https_still_gets_hsts(peers):
    answer = curl(peers, peers.https("/tasks/cleanup"), "-H", "X-Appengine-Cron: true")
    assert_served(answer, "cleaned over https\n", hsts=True)


def test_the_health_checkers_user_agent_is_served_over_plain_http(peers):
    health_check = curl(peers, peers.http("/"), "-A", "ELB-HealthChecker/2.0")
    assert_served(health_check, "index over http\n", hsts=False)
    # Only "/" for that User-Agent, and only that User-Agent.
    elsewhere = curl(peers, peers.http("/tasks/cleanup"), "-A", "ELB-HealthChecker/2.0")
    assert_redirected(elsewhere, peers.https("/tasks/cleanup"))
    browser = curl(peers, peers.http("/"), "-A", "Mozilla/5.0")
    assert_redirected(browser, peers.https("/"))


def test_the_source_address_is_the_clients_behind_nginx(peers):
    # curl from the monitor's address: nginx's X-Forwarded-For entry says so,
    # although gunicorn's peer is nginx at 127.0.0.2.
    answer = curl(peers, peers.http("/metrics"), "--interface", MONITOR)
    assert answer.status == 200
    assert answer.body == f"metrics for {MONITOR} over http\n"


def test_a_forged_forwarded_for_does_not_exempt(peers):
    plain = curl(peers, peers.http("/metrics"))
    assert_redirected(plain, peers.https("/metrics"))
    forged = curl(peers, peers.http("/metrics"), "-H", f"X-Forwarded-For: {MONITOR}")
    assert_redirected(forged, peers.https("/metrics"))
    # Over https the same request shows the address the guard believed.
    secure = curl(peers, peers.https("/metrics"), "-H", f"X-Forwarded-For: {MONITOR}")
    assert secure.body == f"metrics for {LOOPBACK} over https\n"


# --- Point 2: refusals ------------------------------------------------------------


def assert_refused(answer: CurlAnswer) -> None:
    assert answer.status == 403, answer
    assert "location" not in answer.headers
    assert HSTS not in answer.headers
    assert "HTTPS is required" in answer.body
    assert "may already have been seen" in answer.body


def test_a_refusing_view_answers_403_through_nginx(peers):
    assert_refused(curl(peers, peers.http("/api/token"), "--data", "user=ada"))
    # -L has nothing to follow: the client learns at once.
    assert_refused(curl(peers, peers.http("/api/token"), "--data", "user=ada", "-L"))


def test_the_refusing_view_is_served_over_https(peers):
    answer = curl(peers, peers.https("/api/token"), "--data", "user=ada")
    assert_served(answer, "token for user=ada\n", hsts=True)


def test_credentials_over_plain_http_are_refused(peers):
    assert_refused(curl(peers, peers.http("/"), "-u", "ada:secret"))
    assert_refused(curl(peers, peers.http("/"), "-H", "Authorization: Bearer t0ken"))
    assert_redirected(curl(peers, peers.http("/")), peers.https("/"))
    secure = curl(peers, peers.https("/"), "-u", "ada:secret")
    assert secure.status == 200
    assert secure.headers[HSTS] == HSTS_VALUE


# --- Point 4: no HSTS for localhost -------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "dev.localhost"])
def test_no_hsts_for_localhost_names(peers, host):
    answer = curl(peers, peers.https("/", host))
    assert_served(answer, "index over https\n", hsts=False)


@pytest.mark.parametrize("host", ["app.test", LOOPBACK])
def test_hsts_for_other_names_and_ip_literals(peers, host):
    answer = curl(peers, peers.https("/", host))
    assert answer.status == 200
    assert answer.headers[HSTS] == HSTS_VALUE


def test_plain_http_on_localhost_is_still_redirected(peers):
    answer = curl(peers, peers.http("/?x=1", "localhost"))
    assert_redirected(answer, peers.https("/?x=1", "localhost"))


def test_curl_keeps_an_hsts_cache_entry_for_app_test_only(peers):
    cache = peers.directory / f"hsts-{uuid.uuid4()}.txt"
    for host in ("localhost", "dev.localhost", "app.test"):
        curl(peers, peers.https("/", host), "--hsts", str(cache))
    for _ in range(50):  # curl writes the file as it exits
        if cache.exists():
            break
        time.sleep(0.05)
    entries = [line.split()[0] for line in cache.read_text().splitlines() if line[:1] not in "#"]
    assert entries == ["app.test"]
