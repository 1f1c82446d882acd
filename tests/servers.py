"""Real servers for end-to-end tests: start on free loopback ports, stop by PID.

A test that needs nginx, gunicorn or curl skips when the program is missing,
except under CI=true, where a missing program is a failure: CI must run
every test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import pytest
from werkzeug.serving import make_server

LOOPBACK = "127.0.0.1"
HSTS = "strict-transport-security"
HSTS_VALUE = "max-age=31536000"
TESTS = Path(__file__).resolve().parent
DEPLOY = TESTS.parent / "examples" / "deploy"
_EXTRA_PATHS = "/usr/sbin:/usr/local/sbin:/sbin"


def require_program(name: str) -> str:
    """The path of ``name``; skip (fail under CI) when it is not installed."""
    path = shutil.which(name) or shutil.which(name, path=_EXTRA_PATHS)
    if path is None:
        missing(f"{name} is not installed")
    return path  # type: ignore[return-value]


def require_module(name: str) -> None:
    """Skip (fail under CI) when the Python module ``name`` is missing."""
    try:
        __import__(name)
    except ImportError:
        missing(f"the Python package {name} is not installed")


def missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI must run every test (.ci/run installs it)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class ManagedProcess:
    """A server process started by a test, stopped by its own PID."""

    def __init__(
        self, name: str, args: list[str], log: Path, env: Optional[dict[str, str]] = None
    ) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            args, stdout=self._log_file, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def wait_for_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early:\n{self.log.read_text(errors='replace')}"
                )
            try:
                with socket.create_connection((LOOPBACK, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(
            f"{self.name} did not listen on {port}:\n{self.log.read_text(errors='replace')}"
        )

    def stop(self) -> None:
        # The process leads its own session: signal it by PID, and its whole
        # group (gunicorn's and nginx's workers) if it lingers.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self._log_file.close()


@contextmanager
def wsgi_server(
    app: Any,
    ssl_context: Any = None,
    poll_interval: float = 0.5,
    name: str = "wsgi_server",
) -> Iterator[int]:
    """Serve a WSGI app with Werkzeug's threaded server on loopback; yields its port."""
    server = make_server(LOOPBACK, 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name=name, daemon=True
    )
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join(timeout=15)
        server.server_close()


def write_nginx_config(
    directory: Path, http_block: str, workers: int = 1, connections: int = 256
) -> Path:
    """An nginx.conf that keeps pid, logs and temp files in ``directory``."""
    user = "user root;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = directory / "nginx.conf"
    config.write_text(
        f"{user}\nworker_processes {workers};\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        f"events {{ worker_connections {connections}; }}\n"
        f"http {{\n{temp_paths}\n{http_block}\n}}\n"
    )
    return config


def start_nginx(directory: Path, servers: str, ports: Sequence[int]) -> ManagedProcess:
    """Run nginx in the foreground with ``servers`` as its ``http { }`` block.

    Everything nginx writes (pid, logs, temp files) stays in ``directory``;
    returns once it listens on every port in ``ports``. Stop it with ``stop()``.
    """
    return _run_nginx(directory, nginx_http_config(directory, servers), ports)


def nginx_http_config(directory: Path, servers: str) -> Path:
    """The nginx.conf of :func:`start_nginx`: one worker, ``servers`` as the http block."""
    return write_nginx_config(
        directory, f"    access_log {directory / 'access.log'};\n{servers}", workers=1
    )


def _run_nginx(directory: Path, config: Path, ports: Sequence[int]) -> ManagedProcess:
    nginx = require_program("nginx")
    error_log = str(directory / "error.log")
    args = [nginx, "-p", str(directory), "-c", str(config), "-e", error_log, "-g", "daemon off;"]
    process = ManagedProcess("nginx", args, directory / "nginx.log")
    try:
        for port in ports:
            process.wait_for_port(port)
    except BaseException:
        process.stop()
        raise
    return process


@contextmanager
def nginx_server(directory: Path, config: Path, ports: Sequence[int]) -> Iterator[ManagedProcess]:
    """nginx in the foreground with ``config``, listening on ``ports``; stopped on exit."""
    process = _run_nginx(directory, config, ports)
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def gunicorn_server(
    app: str,
    port: int,
    log: Path,
    *options: str,
    chdir: Path = TESTS,
    env: Optional[dict[str, str]] = None,
) -> Iterator[ManagedProcess]:
    """gunicorn serving ``app`` (``module:name`` in ``chdir``) on loopback ``port``.

    Returns once it listens; stopped on exit.
    """
    require_module("gunicorn")
    args = [sys.executable, "-m", "gunicorn", *options]
    args += ["--chdir", str(chdir), "-b", f"{LOOPBACK}:{port}", app]
    process = ManagedProcess("gunicorn", args, log, env)
    try:
        process.wait_for_port(port)
        yield process
    finally:
        process.stop()


@contextmanager
def raw_target_gunicorn(log: Path, *options: str, **environ: str) -> Iterator[int]:
    """One gunicorn worker serving tests/raw_target_app.py on a free port; yields the port.

    ``environ`` is added to this process's environment for the server.
    """
    port = free_port()
    env = {**os.environ, **environ} if environ else None
    with gunicorn_server("raw_target_app:app", port, log, "-w", "1", *options, env=env):
        yield port


# --- nginx terminating TLS in front of gunicorn, and curl --------------------------


@dataclass
class TLSFront:
    """nginx terminating TLS on loopback in front of gunicorn; curl and the CA to reach it.

    ``names`` are the host names curl resolves to loopback on both ports.
    """

    directory: Path
    http_port: int
    https_port: int
    ca_file: Path
    curl: str
    names: tuple[str, ...]
    processes: list[ManagedProcess] = field(default_factory=list, repr=False)


Front = TypeVar("Front", bound=TLSFront)
#: (directory, http_port, https_port, app_port, certificate) -> the nginx.conf to run
NginxConfig = Callable[[Path, int, int, int, Any], Path]


@contextmanager
def tls_front(
    kind: type[Front],
    names: Sequence[str],
    app: str,
    nginx_config: NginxConfig,
    *gunicorn_options: str,
    chdir: Optional[Path] = None,
    app_source: Optional[str] = None,
    trusted_hosts: Sequence[str] = (),
    **environ: str,
) -> Iterator[Front]:
    """gunicorn with the recipe's settings (examples/deploy/gunicorn.conf.py) behind nginx.

    Everything lives in a temporary directory: a certificate for ``names``
    and loopback made by a CA made here, ``app_source`` (when given) as the
    module of ``app``, the logs. gunicorn runs in ``chdir`` (default: that
    directory) with FLASK_HTTPS_GUARD_REDIRECT_PORT set to nginx's TLS port,
    FLASK_TRUSTED_HOSTS to ``trusted_hosts`` and loopback, and ``environ``.
    Skips (fails under CI) when curl, nginx, gunicorn or trustme is missing.
    """
    from .helpers import import_example

    curl = require_program("curl")
    require_program("nginx")
    require_module("gunicorn")
    require_module("trustme")
    make_server_certificate = import_example("certificates").make_server_certificate
    with tempfile.TemporaryDirectory(prefix="https-guard-front-") as name:
        directory = Path(name)
        cert = make_server_certificate(directory / "tls", names=(*names, LOOPBACK))
        if app_source is not None:
            (directory / f"{app.partition(':')[0]}.py").write_text(app_source)
        app_port, http_port, https_port = free_port(), free_port(), free_port()
        env = dict(
            os.environ,
            FLASK_HTTPS_GUARD_REDIRECT_PORT=str(https_port),
            FLASK_TRUSTED_HOSTS=json.dumps([*trusted_hosts, LOOPBACK]),
            **environ,
        )
        config = nginx_config(directory, http_port, https_port, app_port, cert)
        front = kind(directory, http_port, https_port, cert.ca_file, curl, tuple(names))
        gunicorn = gunicorn_server(
            app,
            app_port,
            directory / "gunicorn.log",
            # The recipe's settings: gunicorn trusts no scheme header itself.
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            *gunicorn_options,
            chdir=chdir or directory,
            env=env,
        )
        nginx = nginx_server(directory, config, [http_port, https_port])
        with gunicorn as app_server, nginx as proxy:
            front.processes += [app_server, proxy]
            yield front


@dataclass
class CurlAnswer:
    status: int
    headers: dict[str, str]
    body: str


def curl(front: TLSFront, url: str, *options: str) -> CurlAnswer:
    """One request with curl, ``front.names`` resolved to loopback; the final response."""
    directory = front.directory
    headers_file, body_file = directory / f"h-{uuid.uuid4()}", directory / f"b-{uuid.uuid4()}"
    resolve = []
    for host in front.names:
        for port in (front.http_port, front.https_port):
            resolve += ["--resolve", f"{host}:{port}:{LOOPBACK}"]
    result = subprocess.run(
        [
            front.curl,
            "-sS",
            "--max-time",
            "20",
            "--cacert",
            str(front.ca_file),
            *resolve,
            "-D",
            str(headers_file),
            "-o",
            str(body_file),
            "-w",
            "%{http_code}",
            *options,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # With -L, -D holds every response; the last block is the final one.
    last_block = headers_file.read_text().strip().split("\r\n\r\n")[-1]
    headers = {}
    for line in last_block.splitlines()[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = body_file.read_text()
    headers_file.unlink()
    body_file.unlink()
    return CurlAnswer(int(result.stdout), headers, body)


def assert_served(answer: CurlAnswer, body: str, hsts: bool) -> None:
    """A 200 with ``body``: with the guard's HSTS header when ``hsts``, else with none."""
    assert answer.status == 200, answer
    assert answer.body == body
    if hsts:
        assert answer.headers[HSTS] == HSTS_VALUE
    else:
        assert HSTS not in answer.headers
