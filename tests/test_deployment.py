"""End to end: nginx terminates TLS in front of gunicorn (4 workers), real clients.

The servers run the recipes in examples/deploy/ as they are; only ports,
names and paths are swapped for test ones. The certificate is made for
app.test by a CA made here, and every TLS client verifies it.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .servers import (
    DEPLOY,
    HSTS,
    LOOPBACK,
    TLSFront,
    assert_served,
    curl,
    tls_front,
    write_nginx_config,
)

HOST = "app.test"


@dataclass
class Deployment(TLSFront):
    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def log(self, name: str, waiting_for: str = "") -> str:
        """An nginx log; with ``waiting_for``, once that text is in it.

        nginx writes the access log line after it has sent the response, so
        a client can be done before the line is there (bounded wait).
        """
        path = self.directory / name
        for _ in range(100):
            text = path.read_text()
            if waiting_for in text:
                break
            time.sleep(0.05)
        return text


def nginx_config(directory: Path, http_port: int, https_port: int, app_port: int, cert) -> Path:
    site = (DEPLOY / "nginx-site.conf").read_text()
    for recipe, test in [
        ("server 127.0.0.1:8000;", f"server {LOOPBACK}:{app_port};"),
        ("listen 80;", f"listen {LOOPBACK}:{http_port};"),
        ("listen 443 ssl;", f"listen {LOOPBACK}:{https_port} ssl;"),
        ("server_name app.example.com;", f"server_name {HOST};"),
        ("/etc/ssl/certs/app.example.com.pem", str(cert.cert_file)),
        ("/etc/ssl/private/app.example.com.key", str(cert.key_file)),
        ("/var/log/nginx/app-http.access.log", str(directory / "http-access.log")),
        ("/var/log/nginx/app-https.access.log", str(directory / "https-access.log")),
    ]:
        assert recipe in site, f"the recipe no longer has {recipe!r}"
        site = site.replace(recipe, test)
    (directory / "site.conf").write_text(site)
    return write_nginx_config(
        directory, f"    include {directory / 'site.conf'};", workers=2, connections=1024
    )


@pytest.fixture(scope="module")
def deployment():
    with tls_front(
        Deployment, [HOST], "app:app", nginx_config, chdir=DEPLOY, trusted_hosts=[HOST]
    ) as front:
        yield front
    assert all(server.process.returncode is not None for server in front.processes)
    assert len(front.processes) == 2


def test_curl_get_over_http_is_redirected_to_the_tls_port(deployment):
    answer = curl(deployment, f"{deployment.http_url}/?page=2&q=a%2Fb")
    assert answer.status == 302
    assert answer.headers["location"] == f"{deployment.https_url}/?page=2&q=a%2Fb"
    assert HSTS not in answer.headers


def test_curl_post_over_http_gets_307_and_follows_with_its_body(deployment):
    answer = curl(deployment, f"{deployment.http_url}/echo", "--data", "order=42")
    assert answer.status == 307
    assert answer.headers["location"] == f"{deployment.https_url}/echo"
    followed = curl(deployment, f"{deployment.http_url}/echo", "--data", "order=42", "-L")
    assert followed.status == 200
    assert followed.body == "received over https: order=42"


def test_curl_over_tls_verifies_the_certificate_and_gets_hsts(deployment):
    answer = curl(deployment, f"{deployment.https_url}/")
    assert_served(answer, "Hello over HTTPS.\n", hsts=True)


def test_health_check_answers_over_plain_http_without_hsts(deployment):
    answer = curl(deployment, f"{deployment.http_url}/health")
    assert_served(answer, "ok\n", hsts=False)


def test_curl_hsts_cache_upgrades_http_before_it_is_sent(deployment):
    # Default ports in the URLs, mapped to the test ports: HSTS upgrades
    # http://app.test/ to https://app.test/ (port 80 becomes 443).
    connect = [
        "--connect-to",
        f"{HOST}:80:{LOOPBACK}:{deployment.http_port}",
        "--connect-to",
        f"{HOST}:443:{LOOPBACK}:{deployment.https_port}",
    ]
    hsts_cache = deployment.directory / "curl-hsts.txt"
    first_visit = curl(deployment, f"https://{HOST}/", "--hsts", str(hsts_cache), *connect)
    assert first_visit.headers[HSTS] == "max-age=31536000"
    assert HOST in hsts_cache.read_text()

    upgraded_probe = f"/?probe={uuid.uuid4()}"
    upgraded = curl(
        deployment, f"http://{HOST}{upgraded_probe}", "--hsts", str(hsts_cache), *connect
    )
    assert upgraded.status == 200
    control_probe = f"/?probe={uuid.uuid4()}"
    control = curl(deployment, f"http://{HOST}{control_probe}", *connect)
    assert control.status == 302

    # The control request went out last: once it is logged, so is the rest.
    http_log = deployment.log("http-access.log", waiting_for=control_probe)
    https_log = deployment.log("https-access.log", waiting_for=upgraded_probe)
    assert upgraded_probe not in http_log
    assert upgraded_probe in https_log
    assert control_probe in http_log  # the log does record plain-HTTP requests


@pytest.mark.parametrize(
    "spoofed",
    [
        "X-Forwarded-Proto: https",  # nginx overwrites it
        "Forwarded: proto=https",  # nginx passes it on; it disagrees with nginx's X-Forwarded-Proto
        "Forwarded: for=1.2.3.4;proto=https, for=5.6.7.8;proto=https",
        "X-Forwarded-Ssl: on",  # gunicorn would believe it by default
        "X-Forwarded-Protocol: ssl",
    ],
)
def test_spoofed_scheme_headers_over_plain_http_still_redirect(deployment, spoofed):
    answer = curl(deployment, f"{deployment.http_url}/", "-H", spoofed)
    assert answer.status == 302
    assert answer.headers["location"] == f"{deployment.https_url}/"
    assert HSTS not in answer.headers


def test_forged_host_is_refused_not_redirected(deployment):
    answer = curl(deployment, f"{deployment.http_url}/", "-H", "Host: evil.example")
    assert answer.status == 400
    assert "location" not in answer.headers


def test_python_urllib_follows_the_redirect_chain_over_tls(deployment):
    tls = ssl.create_default_context(cafile=str(deployment.ca_file))
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls))
    with opener.open(
        f"http://{LOOPBACK}:{deployment.http_port}/?from=urllib", timeout=20
    ) as response:
        assert response.status == 200
        assert response.url == f"https://{LOOPBACK}:{deployment.https_port}/?from=urllib"
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert response.read() == b"Hello over HTTPS.\n"


# --- load ---------------------------------------------------------------------

LOAD_REQUESTS = 5000
LOAD_CONCURRENCY = 32
LOAD_REPORT: dict[str, object] = {}


@dataclass
class LoadTally:
    answers: Counter = field(default_factory=Counter)
    wrong: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _expected(kind: str, number: int, deployment: Deployment) -> tuple[int, str]:
    return {
        "http GET": (302, f"{deployment.https_url}/?n={number}"),
        "http POST": (307, f"{deployment.https_url}/echo"),
        "https GET": (200, "Hello over HTTPS.\n"),
        "https POST": (200, f"received over https: n={number}"),
    }[kind]


def _load_worker(deployment: Deployment, numbers: range, tally: LoadTally) -> None:
    tls = ssl.create_default_context(cafile=str(deployment.ca_file))
    connections = {
        "http": http.client.HTTPConnection(LOOPBACK, deployment.http_port, timeout=20),
        "https": http.client.HTTPSConnection(
            LOOPBACK, deployment.https_port, timeout=20, context=tls
        ),
    }
    kinds = ["http GET", "http POST", "https GET", "https POST"]
    for number in numbers:
        kind = kinds[number % 4]
        scheme, method = kind.split()
        connection = connections[scheme]
        body = f"n={number}" if method == "POST" else None
        target = "/echo" if method == "POST" else f"/?n={number}"
        try:
            port = deployment.http_port if scheme == "http" else deployment.https_port
            connection.request(method, target, body=body, headers={"Host": f"{HOST}:{port}"})
            response = connection.getresponse()
            content = response.read().decode()
        except Exception as error:
            connection.close()
            with tally.lock:
                tally.errors.append(f"{kind}: {error!r}")
            continue
        status, expected = _expected(kind, number, deployment)
        seen = response.getheader("Location") if scheme == "http" else content
        hsts = response.getheader("Strict-Transport-Security")
        right_hsts = hsts is None if scheme == "http" else hsts == "max-age=31536000"
        with tally.lock:
            tally.answers[(kind, response.status)] += 1
            if response.status != status or seen != expected or not right_hsts:
                tally.wrong.append((kind, response.status, seen, hsts))
    for connection in connections.values():
        connection.close()


def test_load_mixed_http_and_https_get_and_post(deployment):
    tally = LoadTally()
    workers = [
        threading.Thread(
            target=_load_worker,
            args=(deployment, range(index, LOAD_REQUESTS, LOAD_CONCURRENCY), tally),
        )
        for index in range(LOAD_CONCURRENCY)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    elapsed = time.perf_counter() - started
    total = sum(tally.answers.values())
    server_errors = sum(count for (kind, status), count in tally.answers.items() if status >= 500)
    LOAD_REPORT.update(
        requests=total + len(tally.errors),
        concurrency=LOAD_CONCURRENCY,
        seconds=round(elapsed, 2),
        requests_per_second=round(total / elapsed),
        answers={
            f"{kind} -> {status}": count for (kind, status), count in sorted(tally.answers.items())
        },
        server_errors=server_errors,
        connection_errors=len(tally.errors),
        wrong_answers=len(tally.wrong),
    )
    assert not any(worker.is_alive() for worker in workers)
    assert tally.errors == []
    assert server_errors == 0
    assert tally.wrong == []
    assert total == LOAD_REQUESTS
