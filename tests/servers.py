"""Real servers for end-to-end tests: start on free loopback ports, stop by PID.

A test that needs nginx, gunicorn or curl skips when the program is missing,
except under CI=true, where a missing program is a failure: CI must run
every test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import pytest
from werkzeug.serving import make_server

LOOPBACK = "127.0.0.1"
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
def wsgi_server(app: Any) -> Iterator[int]:
    """Serve a WSGI app with Werkzeug's threaded server on loopback; yields its port."""
    server = make_server(LOOPBACK, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="wsgi_server", daemon=True)
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
    nginx = require_program("nginx")
    config = write_nginx_config(
        directory, f"    access_log {directory / 'access.log'};\n{servers}", workers=1
    )
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
